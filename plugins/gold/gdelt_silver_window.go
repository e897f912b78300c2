package gold

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
	"github.com/gdeltflow/gdeltflow/plugins/join"
)

const gswFieldPoll = "poll_interval"

func gdeltSilverWindowSpec() *service.ConfigSpec {
	return service.NewConfigSpec().
		Categories("Integration").
		Summary("Turns the `SILVER_COMPLETE` rows of `audit/windows` (from the `delta_lake` input) into what `gdelt_gold` takes: each window's silver rows read back from the lake, then its audit rows.").
		Description(`
For a gold stage that does not run after the join (`+"`pipelines/gold.yaml`"+`). Takes rows of `+"`audit/windows`"+`
as structured messages; drops every status but `+"`SILVER_COMPLETE`"+` (`+"`WAITING`"+`, and the `+"`GOLD_COMPLETE`"+` and
`+"`MART_COMPLETE`"+` rows the gold stage writes itself). Once a window's `+"`SILVER_COMPLETE`"+` rows of all its join
shards (`+"`shards`"+`) have come, it reads from `+"`<lake>/silver/events`"+` the window's first sightings
(DATEADDED = the window) and from `+"`<lake>/silver/events_detailed`"+` its rows (column `+"`window`"+`), in the
partition of the window's date, and emits one batch: the events (metadata `+"`silver_table: events`"+`), the rows
(`+"`events_detailed`"+`), then the audit rows (`+"`audit_windows`"+`), each with `+"`silver_window`"+`.

The silver tables and the audit are written by separate outputs, so a window's audit row may be committed before its
silver rows: the window is emitted once the tables hold as many rows as its audit rows say (`+"`events_rows`"+`;
`+"`complete_rows`"+` + `+"`no_gkg_rows`"+` + `+"`expired_rows`"+`), read again every `+"`poll_interval`"+` until then
(a warning once a minute). A replayed audit row (the input read a version again after a restart) emits its window again,
which `+"`gdelt_gold`"+` skips by its txn (and re-emits its mart batch). Limit: with several shards a window's rows
are gathered across input batches, and a crash between them loses the window (the first rows were acknowledged).`).
		Fields(
			service.NewStringField(ggFieldLake).
				Description("The lake's root, a folder or `s3://bucket/prefix`, holding `silver/events` and `silver/events_detailed`.").
				Examples("./out", "s3://lake"),
			service.NewObjectField(ggFieldS3,
				service.NewStringField(ggFieldEndpoint).Description("The S3 endpoint, `host:port` or a URL (MinIO: `http://127.0.0.1:9000`). Empty: AWS S3.").Default(""),
				service.NewStringField(ggFieldRegion).Description("The region.").Default("us-east-1"),
				service.NewStringField(ggFieldAccessKey).Description("The access key. Empty: the AWS chain.").Default(""),
				service.NewStringField(ggFieldSecretKey).Description("The secret key.").Default("").Secret(),
			).Description("S3 access, for an `s3://` lake."),
			service.NewDurationField(gswFieldPoll).
				Description("How often a window whose silver rows are not all committed yet is read again.").
				Default("1s").Advanced(),
		)
}

func init() {
	service.MustRegisterBatchProcessor("gdelt_silver_window", gdeltSilverWindowSpec(),
		func(pc *service.ParsedConfig, mgr *service.Resources) (service.BatchProcessor, error) {
			p := &silverWindowProc{log: mgr.Logger(), pending: map[int64]*auditWindow{}}
			var err error
			if p.lake, err = pc.FieldString(ggFieldLake); err != nil {
				return nil, err
			}
			s3 := pc.Namespace(ggFieldS3)
			for _, f := range []struct {
				name string
				dst  *string
			}{{ggFieldEndpoint, &p.s3.Endpoint}, {ggFieldRegion, &p.s3.Region}, {ggFieldAccessKey, &p.s3.AccessKeyID}, {ggFieldSecretKey, &p.s3.SecretAccessKey}} {
				if *f.dst, err = s3.FieldString(f.name); err != nil {
					return nil, err
				}
			}
			p.s3.PathStyle, p.s3.Secure = true, true
			if p.poll, err = pc.FieldDuration(gswFieldPoll); err != nil {
				return nil, err
			}
			return p, nil
		})
}

// auditWindow gathers a window's SILVER_COMPLETE rows, one per shard.
type auditWindow struct {
	shards map[string]*service.Message
	want   int64 // shards that must report
}

type silverWindowProc struct {
	lake string
	s3   storage.S3Config
	poll time.Duration
	log  *service.Logger

	silver  *Silver
	pending map[int64]*auditWindow
}

func (p *silverWindowProc) ProcessBatch(ctx context.Context, batch service.MessageBatch) ([]service.MessageBatch, error) {
	var out []service.MessageBatch
	for _, m := range batch {
		v, err := m.AsStructured()
		if err != nil {
			return nil, fmt.Errorf("gdelt_silver_window: an audit row that is not structured: %w", err)
		}
		row, _ := v.(map[string]any)
		if row == nil || row["status"] != join.StatusSilverComplete {
			continue
		}
		w, ok1 := asInt(row["window"])
		shards, ok2 := asInt(row["shards"])
		if !ok1 || !ok2 {
			p.log.Errorf("gdelt_silver_window: a SILVER_COMPLETE row without window or shards: %v", row)
			continue
		}
		aw := p.pending[w]
		if aw == nil {
			aw = &auditWindow{shards: map[string]*service.Message{}, want: shards}
			p.pending[w] = aw
		}
		aw.shards[fmt.Sprint(row["shard"])] = m
		if int64(len(aw.shards)) < aw.want {
			continue
		}
		delete(p.pending, w)
		b, err := p.window(ctx, w, aw)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// window reads window w's silver rows, waiting for them, and returns the batch.
func (p *silverWindowProc) window(ctx context.Context, w int64, aw *auditWindow) (service.MessageBatch, error) {
	var wantEvents, wantRows int64
	for _, m := range aw.shards {
		v, _ := m.AsStructured()
		row := v.(map[string]any)
		for _, c := range []string{"complete_rows", "no_gkg_rows", "expired_rows"} {
			n, _ := asInt(row[c])
			wantRows += n
		}
		n, _ := asInt(row["events_rows"])
		wantEvents += n
	}
	start, warned := time.Now(), time.Now()
	for {
		events, rows, ok, err := p.read(ctx, w, wantEvents, wantRows)
		if err != nil {
			p.log.Warnf("gdelt_silver_window: reading window %d from %s: %v; retrying", w, p.lake, err)
			p.silver = nil
		} else if ok {
			ws := strconv.FormatInt(w, 10)
			var b service.MessageBatch
			add := func(table string, m *service.Message) {
				m.MetaSetMut(contract.MetaSilverTable, table)
				m.MetaSetMut(contract.MetaSilverWindow, ws)
				b = append(b, m)
			}
			for _, r := range events {
				m := service.NewMessage(nil)
				m.SetStructuredMut(r)
				add(join.SilverEvents, m)
			}
			for _, r := range rows {
				m := service.NewMessage(nil)
				m.SetStructuredMut(r)
				add(join.SilverEventsDetailed, m)
			}
			for _, m := range aw.shards {
				add(join.AuditWindows, m.Copy())
			}
			return b, nil
		} else if time.Since(warned) >= time.Minute {
			warned = time.Now()
			p.log.Warnf("gdelt_silver_window: window %d: waiting %v for its silver rows (%d events, %d rows announced)",
				w, time.Since(start).Round(time.Second), wantEvents, wantRows)
		}
		select {
		case <-time.After(p.poll):
		case <-ctx.Done():
			return nil, fmt.Errorf("gdelt_silver_window: window %d: %w", w, ctx.Err())
		}
	}
}

func (p *silverWindowProc) read(ctx context.Context, w, wantEvents, wantRows int64) ([]map[string]any, []map[string]any, bool, error) {
	if p.silver == nil {
		s, err := OpenSilver(ctx, p.lake, p.s3)
		if err != nil {
			return nil, nil, false, err
		}
		p.silver = s
	}
	return p.silver.Read(ctx, w, wantEvents, wantRows)
}

func (p *silverWindowProc) Close(context.Context) error { return nil }

package gold

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/delta"
	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
	gschema "github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
	"github.com/gdeltflow/gdeltflow/plugins/join"
	"github.com/gdeltflow/gdeltflow/plugins/runstate"
)

const (
	ggFieldLake      = "lake"
	ggFieldS3        = "s3"
	ggFieldEndpoint  = "endpoint"
	ggFieldRegion    = "region"
	ggFieldAccessKey = "access_key_id"
	ggFieldSecretKey = "secret_access_key"
	ggFieldAppID     = "app_id"
	ggFieldBackOff   = "backoff"
	ggFieldReplay    = "replay_mart"
	ggFieldCacheMB   = "day_cache_mb"
	ggFieldEnabled   = "enabled"
	ggFieldAudit     = "audit_table"
	ggFieldAuditPfx  = "audit_app_prefix"
)

// Metadata of the mart batch (gold → mart contract).
const (
	MetaOp     = "gold_op"     // replace_day, row, upsert, delete or progress
	MetaTable  = "gold_table"  // the gold table, without "gold/"
	MetaDate   = "gold_date"   // YYYY-MM-DD
	MetaWindow = "gold_window" // the silver window W

	OpReplaceDay = "replace_day"
	OpRow        = "row"
	OpUpsert     = "upsert"
	OpDelete     = "delete"
	OpProgress   = "progress"
)

func gdeltGoldSpec() *service.ConfigSpec {
	return service.NewConfigSpec().
		Categories("Integration").
		Summary("The gold stage: daily GDELT aggregates (country, category, actor network, top events, sources) on Delta, each row the full total of its key, exactly once per silver window; emits the mart batch.").
		Description(`
Takes `+"`gdelt_join`"+`'s output (metadata `+"`silver_table`"+`: `+"`events_detailed`"+`, `+"`events`"+`, `+"`audit_windows`"+`, and
`+"`silver_window`"+`), passes every message on unchanged, and gathers each window's events (first sightings) and
mentions. On the window's `+"`SILVER_COMPLETE`"+` audit row it commits gold for the window under `+"`<lake>/gold/`"+`:

- `+"`events_enriched`"+` (one row per event at its first sighting, with labels and its complete mentions' top themes,
  persons and organisations) and `+"`source_window`"+` (per window and source, partial counts) are appended;
- `+"`country_daily`"+`, `+"`country_daily_category`"+`, `+"`actor_network_daily`"+`, `+"`top_events_daily`"+` (partitioned by
  `+"`event_date`"+`, GDELT's SQLDATE) are recomputed for every event date the window touched from that date's whole
  `+"`events_enriched`"+` partition, and `+"`source_daily`"+` (by `+"`mention_date`"+`) from `+"`source_window`"+`; each table's
  affected partitions are replaced in one Delta commit.

The days recently recomputed are kept in memory (`+"`day_cache_mb`"+`): their `+"`events_enriched`"+` rows (or
`+"`source_window`"+` partials) and the gold rows last computed. A window then adds its rows to the cached day and reads
nothing from storage; a day not cached (the first time, after a restart, or evicted: least recently touched first) is
read from its partition after the window's append, so the result is the same either way. Any failure empties the cache.

Every commit carries the txn (`+"`app_id`"+`, version = the window): a window that every table has already reached is
skipped, and a window interrupted half-way is finished on its replay. After the commits it emits one batch for the mart,
every message with metadata `+"`gold_op`"+`, `+"`gold_table`"+`, `+"`gold_date`"+`, `+"`gold_window`"+`; per table and affected date:
- a day in the cache (its previous rows known): one `+"`gold_op: upsert`"+` message per row new or changed since the
  previous window that touched the day (the row as JSON), and one `+"`gold_op: delete`"+` message per key gone (its key
  columns as JSON);
- any other day: a `+"`gold_op: replace_day`"+` message, then one `+"`gold_op: row`"+` message per row of that date;
and last a `+"`gold_op: progress`"+` message `+"`{\"window\", \"window_time\", \"rows\", \"days\"}`"+`, `+"`days`"+` listing
per affected table and date its row count and the sums of its numeric columns (`+"`ints`"+`, `+"`floats`"+`), for the mart's
check. The mart must apply the batches in order (`+"`gdelt_mart`"+` does: one at a time, retried until applied): an
upsert is relative to the previous batch. A window already in gold (replayed after a restart) emits a batch of
`+"`replace_day`"+` days read from the gold tables as they are (`+"`replay_mart`"+`), for a mart that may have missed it;
the mart skips windows it has applied.

With each window's batch it also emits, as a batch of its own, the window's `+"`GOLD_COMPLETE`"+` row for `+"`audit/windows`"+`
(shard `+"`gold`"+`: rows written in all and per gold table, days recomputed, seconds from the `+"`SILVER_COMPLETE`"+` row's
arrival to the commits' end), with metadata `+"`silver_table: audit_windows`"+`, `+"`silver_window`"+` and `+"`silver_txn_app`"+`
(`+"`app_id`"+`), so that `+"`gdelt_lake`"+` writes it to the audit table exactly once (again for a replayed window: its txn
skips it when it is there already).

With several `+"`gdelt_join`"+` shards the window is committed once the `+"`SILVER_COMPLETE`"+` rows of all of them (their
`+"`shards`"+` column) have come through this processor, so every shard's output must reach the same `+"`gdelt_gold`"+`.
Storage failures are retried with `+"`backoff`"+` until they succeed (the processor never fails a message for them); in a
job (a backfill) a damaged gold table fails the run at once and a storage failure after the job's give-up time, as
`+"`delta_lake`"+` does (exit 2).
Rows of a window gold has committed (a replay after a restart, a join's late supplement) are skipped.

Metrics: `+"`gdelt_gold_windows`"+`, `+"`gdelt_gold_rows`"+` (label `+"`table`"+`), `+"`gdelt_gold_retries`"+`, gauges `+"`gdelt_gold_window`"+`
(the last window committed) and `+"`gdelt_gold_cache_bytes`"+` (the day cache's estimate).`).
		Fields(
			service.NewStringField(ggFieldLake).
				Description("The lake's root, a folder or `s3://bucket/prefix`: the tables are `<lake>/gold/country_daily`, ...").
				Examples("./out", "s3://lake").
				LintRule(`root = if this.trim() == "" { "lake is blank: name the lake's folder or s3://bucket/prefix" }`),
			service.NewObjectField(ggFieldS3,
				service.NewStringField(ggFieldEndpoint).Description("The S3 endpoint, `host:port` or a URL (MinIO: `http://127.0.0.1:9000`). Empty: AWS S3.").Default(""),
				service.NewStringField(ggFieldRegion).Description("The region.").Default("us-east-1"),
				service.NewStringField(ggFieldAccessKey).Description("The access key. Empty: the AWS chain.").Default(""),
				service.NewStringField(ggFieldSecretKey).Description("The secret key.").Default("").Secret(),
			).Description("S3 access, for an `s3://` lake."),
			service.NewBoolField(ggFieldEnabled).
				Description("Off: every message passes through untouched and gold does nothing (no gold tables, no mart batches, no `GOLD_COMPLETE` rows): one YAML for runs with and without gold (`local.yaml`: `GDELT_GOLD=false`).").
				Default(true).Advanced(),
			service.NewBoolField(ggFieldReplay).
				Description("For a window gold has already committed (replayed after a restart), emit its mart batch again, read from the gold tables as they are, so that a mart that missed it (a crash after gold's commits, before the mart's transaction) gets it; the mart skips a window it has applied. Off: such a window emits nothing.").
				Default(true).Advanced(),
			service.NewStringField(ggFieldAudit).
				Description("The audit table (`audit/windows`) that the window's `GOLD_COMPLETE` and `MART_COMPLETE` rows go to; empty: `<lake>/audit/windows`. With `replay_mart`, a replayed window whose two rows are both there already (the txns `<audit_app_prefix><app_id>` and `<audit_app_prefix>mart` have reached it, read when gold opens) is skipped: the mart has it, so its batch is not read and sent again (a restart replays a few committed windows: this keeps it to seconds).").
				Default("").Advanced(),
			service.NewStringField(ggFieldAuditPfx).
				Description("The txn appId prefix of the audit rows (`gdelt_lake`'s and the mart audit's `app_id_prefix`).").
				Default("gdeltflow-").Advanced(),
			service.NewStringField(ggFieldAppID).Description("The txn appId of gold's commits.").Default(DefaultAppID).Advanced(),
			service.NewIntField(ggFieldCacheMB).
				Description("The day cache's bound, in MiB (an estimate of the heap it holds: ~0.9 KB per cached event, ~1 KB per gold row): the days recently recomputed, kept so that a window reads nothing from storage and the mart gets only the rows that changed. 0: no cache (each window reads its days' partitions and replaces them whole in the mart).").
				Default(256).
				LintRule(`root = if this < 0 { "day_cache_mb is negative" }`).Advanced(),
			service.NewBackOffField(ggFieldBackOff, true, delta.DefaultBackOff().(*backoff.ExponentialBackOff)).
				Description("The waits between attempts at a window's commits after a storage failure; `max_elapsed_time` 0 retries until the stream stops.").
				Advanced(),
		).
		Example("After the join, in the offline default", "", `
pipeline:
  processors:
    - gdelt_decode: {}
    - gdelt_join:
        pass_through: true
    - gdelt_gold:
        lake: ./out
`)
}

func init() {
	err := service.RegisterBatchProcessor("gdelt_gold", gdeltGoldSpec(),
		func(pc *service.ParsedConfig, mgr *service.Resources) (service.BatchProcessor, error) {
			return newGDELTGoldFromParsed(pc, mgr)
		})
	if err != nil {
		panic(err)
	}
}

// pendingWindow is a window being gathered, and the shards that reported
// it complete.
type pendingWindow struct {
	w      *Window
	shards map[string]bool
}

type gdeltGoldProc struct {
	cfg     Config
	replay  bool
	enabled bool
	// audit is the audit table; auditPfx its txn appId prefix; audited the
	// newest window whose GOLD_COMPLETE and MART_COMPLETE rows are both in
	// it, read when gold opens (-1: none, or not known).
	audit, auditPfx string
	audited         int64
	backOff         func() backoff.BackOff
	log             *service.Logger
	clock           *runstate.Clock

	g       *Gold // nil until opened (and after a failure, to reload the tables)
	pending map[int64]*pendingWindow
	done    int64 // the newest window committed (or found committed)

	mWindows, mRetries *service.MetricCounter
	mRows              *service.MetricCounter
	gWindow            *service.MetricGauge
	gCache             *service.MetricGauge
}

func newGDELTGoldFromParsed(pc *service.ParsedConfig, mgr *service.Resources) (*gdeltGoldProc, error) {
	p := &gdeltGoldProc{log: mgr.Logger(), pending: map[int64]*pendingWindow{}, done: -1, clock: runstate.NewClock("gdelt_gold")}
	var err error
	if p.cfg.Lake, err = pc.FieldString(ggFieldLake); err != nil {
		return nil, err
	}
	s3 := pc.Namespace(ggFieldS3)
	for _, f := range []struct {
		name string
		dst  *string
	}{{ggFieldEndpoint, &p.cfg.S3.Endpoint}, {ggFieldRegion, &p.cfg.S3.Region}, {ggFieldAccessKey, &p.cfg.S3.AccessKeyID}, {ggFieldSecretKey, &p.cfg.S3.SecretAccessKey}} {
		if *f.dst, err = s3.FieldString(f.name); err != nil {
			return nil, err
		}
	}
	// An endpoint given as a URL sets Secure from its scheme (storage.S3Config).
	p.cfg.S3.PathStyle, p.cfg.S3.Secure = true, true
	if p.enabled, err = pc.FieldBool(ggFieldEnabled); err != nil {
		return nil, err
	}
	if p.audit, err = pc.FieldString(ggFieldAudit); err != nil {
		return nil, err
	}
	if p.audit == "" {
		p.audit = strings.TrimSuffix(p.cfg.Lake, "/") + "/audit/windows"
	}
	if p.auditPfx, err = pc.FieldString(ggFieldAuditPfx); err != nil {
		return nil, err
	}
	p.audited = -1
	if p.replay, err = pc.FieldBool(ggFieldReplay); err != nil {
		return nil, err
	}
	if p.cfg.AppID, err = pc.FieldString(ggFieldAppID); err != nil {
		return nil, err
	}
	mb, err := pc.FieldInt(ggFieldCacheMB)
	if err != nil {
		return nil, err
	}
	p.cfg.CacheBytes = int64(mb) << 20
	policy, err := pc.FieldBackOff(ggFieldBackOff)
	if err != nil {
		return nil, err
	}
	policy.Multiplier, policy.RandomizationFactor = 2, 0
	p.backOff = func() backoff.BackOff {
		b := *policy
		b.Reset()
		return &b
	}
	m := mgr.Metrics()
	p.mWindows = m.NewCounter("gdelt_gold_windows")
	p.mRetries = m.NewCounter("gdelt_gold_retries")
	p.mRows = m.NewCounter("gdelt_gold_rows", "table")
	p.gWindow = m.NewGauge("gdelt_gold_window")
	p.gCache = m.NewGauge("gdelt_gold_cache_bytes")
	return p, nil
}

// getter reads a message's row: a *schema.Row in contract.MetaRow, or the
// structured content.
func getter(m *service.Message) (Getter, error) {
	if v, ok := m.MetaGetMut(contract.MetaRow); ok {
		if r, ok := v.(*gschema.Row); ok {
			return func(c string) any { x, _ := r.Get(c); return x }, nil
		}
	}
	s, err := m.AsStructured()
	if err != nil {
		return nil, err
	}
	mp, ok := s.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a silver row is an object, got %T", s)
	}
	return func(c string) any { return mp[c] }, nil
}

func (p *gdeltGoldProc) ProcessBatch(ctx context.Context, batch service.MessageBatch) ([]service.MessageBatch, error) {
	out := []service.MessageBatch{batch}
	if !p.enabled {
		return out, nil
	}
	for _, m := range batch {
		if m.GetError() != nil {
			continue
		}
		table, ok := m.MetaGetMut(contract.MetaSilverTable)
		if !ok {
			continue
		}
		ws, _ := m.MetaGetMut(contract.MetaSilverWindow)
		w, err := strconv.ParseInt(fmt.Sprint(ws), 10, 64)
		if err != nil {
			p.log.Errorf("gdelt_gold: a silver message without a window (silver_window %q): skipped", ws)
			continue
		}
		get, err := getter(m)
		if err != nil {
			p.log.Errorf("gdelt_gold: window %d: %v: skipped", w, err)
			continue
		}
		if table == join.AuditWindows && get("status") != join.StatusSilverComplete {
			continue // WAITING records
		}
		if err := p.open(ctx); err != nil {
			return nil, p.stopped(ctx, err)
		}
		if w <= p.done && (!p.replay || w <= p.audited) {
			// A window replayed after a restart (or a late supplement of a
			// committed window): gold has it (and, when audited, the mart
			// and the audit table too).
			continue
		}
		pw := p.pending[w]
		if pw == nil {
			pw = &pendingWindow{w: p.g.NewWindow(w), shards: map[string]bool{}}
			p.pending[w] = pw
		}
		switch table {
		case join.SilverEvents:
			pw.w.AddEvent(get)
		case join.SilverEventsDetailed:
			pw.w.AddMention(get)
		case join.AuditWindows:
			pw.shards[fmt.Sprint(get("shard"))] = true
			shards, _ := asInt(get("shards"))
			if int64(len(pw.shards)) < shards {
				continue
			}
			mart, audit, err := p.commit(ctx, pw.w)
			if err != nil {
				return nil, err
			}
			if len(mart) > 0 {
				out = append(out, mart)
			}
			if audit != nil {
				out = append(out, service.MessageBatch{audit})
			}
		}
	}
	return out, nil
}

// open opens the tables, retrying until it works or ctx ends.
func (p *gdeltGoldProc) open(ctx context.Context) error {
	if p.g != nil {
		return nil
	}
	return backoff.Retry(func() error {
		g, err := Open(ctx, p.cfg)
		if err != nil {
			return p.failing(err)
		}
		p.g = g
		if c := g.Committed(); c > p.done {
			p.done = c
		}
		if p.replay {
			a, err := p.auditedThrough(ctx)
			if err != nil {
				p.g = nil
				return p.failing(err)
			}
			p.audited = a
		}
		return nil
	}, backoff.WithContext(p.backOff(), ctx))
}

// stopped holds a batch gold could not write until the stream stops (the
// run failed, or ctx ended): returned earlier, its messages would go on
// flagged with the error, to the rejects, and be acknowledged; held, they
// are never acknowledged, and the feed reads them again on the next run.
func (p *gdeltGoldProc) stopped(ctx context.Context, err error) error {
	<-ctx.Done()
	return err
}

// failing records a failure to open or write gold. In a job (a backfill), a
// permanent one (a damaged table) or one that has lasted the job's give-up
// time fails the run and ends the retries; otherwise it is logged and
// retried.
func (p *gdeltGoldProc) failing(err error) error {
	p.mRetries.Incr(1)
	const remedy = "check the lake's storage (GDELT_LAKE, the S3_* settings) and its gold tables"
	if isJob, _ := runstate.Job(); isJob && delta.IsPermanent(err) {
		runstate.Fail("gdelt_gold", err, remedy)
		return backoff.Permanent(err)
	}
	if p.clock.Failing(err, remedy) {
		return backoff.Permanent(err)
	}
	p.log.Warnf("gdelt_gold: %v; retrying", err)
	return err
}

// commit applies window w, retrying storage failures, and returns its mart
// batch and its GOLD_COMPLETE audit row (nil when gold had the window
// already and replay_mart is off).
func (p *gdeltGoldProc) commit(ctx context.Context, w *Window) (service.MessageBatch, *service.Message, error) {
	t0 := time.Now()
	var res *Result
	err := backoff.Retry(func() error {
		if err := p.open(ctx); err != nil {
			return backoff.Permanent(err)
		}
		var r *Result
		var err error
		if p.g.Committed() >= w.ID && p.replay {
			r, err = p.g.Current(ctx, w)
		} else {
			r, err = p.g.Apply(ctx, w)
		}
		if err != nil {
			p.g = nil // reload the tables: another writer or an unknown outcome
			return p.failing(err)
		}
		res = r
		return nil
	}, backoff.WithContext(p.backOff(), ctx))
	if err != nil {
		return nil, nil, p.stopped(ctx, fmt.Errorf("gdelt_gold: window %d: %w", w.ID, err))
	}
	p.clock.OK()
	for k := range p.pending {
		if k <= w.ID {
			delete(p.pending, k)
		}
	}
	if w.ID > p.done {
		p.done = w.ID
		p.gWindow.Set(w.ID)
	}
	p.gCache.Set(p.g.CacheBytes())
	if res.Done && !p.replay {
		p.log.Debugf("gdelt_gold: window %d is in gold already", w.ID)
		return nil, nil, nil
	}
	batch, rows, err := martBatch(res)
	if err != nil {
		return nil, nil, err
	}
	// Also for a replayed window: a crash may have come before its row
	// reached audit/windows, whose txn (appId as gold's) skips it otherwise.
	audit := p.auditRow(res, time.Since(t0))
	if res.Done {
		p.log.Debugf("gdelt_gold: window %d is in gold already: its mart batch again, %d rows", w.ID, rows)
		return batch, audit, nil
	}
	p.mWindows.Incr(1)
	days := map[string]bool{}
	for _, u := range res.Updates {
		p.mRows.Incr(int64(len(u.Rows)), u.Table)
		days[u.Date] = true
	}
	ev, me := w.Rows()
	p.log.Infof("gdelt_gold: window %d: %d events, %d mentions; %d days recomputed, %d gold rows, %d commits in %v",
		w.ID, ev, me, len(days), rows, res.Commits, time.Since(t0).Round(time.Millisecond))
	return batch, audit, nil
}

// auditRow is the window's GOLD_COMPLETE row for audit/windows (join's
// AuditColumns), with the metadata gdelt_lake routes by: silver_table
// audit_windows, silver_window W, silver_txn_app gold's appId.
func (p *gdeltGoldProc) auditRow(res *Result, took time.Duration) *service.Message {
	row := map[string]any{
		"window":       res.Window,
		"window_start": nil,
		"status":       join.StatusGoldComplete,
		"shard":        "gold",
		"shards":       int64(1),
		"recorded_at":  time.Now().UTC(),
		"gold_seconds": took.Seconds(),
	}
	if wt, err := WindowTime(res.Window); err == nil {
		row["window_start"] = wt.UTC()
	}
	perTable := map[string]int64{}
	days := map[string]bool{}
	var total int64
	for _, u := range res.Updates {
		perTable[u.Table] += int64(len(u.Rows))
		total += int64(len(u.Rows))
		days[u.Date] = true
	}
	for _, t := range GoldTables() {
		row["gold_"+t+"_rows"] = perTable[t]
	}
	row["gold_rows"], row["gold_days"] = total, int64(len(days))
	m := service.NewMessage(nil)
	m.SetStructuredMut(row)
	m.MetaSetMut(contract.MetaSilverTable, join.AuditWindows)
	m.MetaSetMut(contract.MetaSilverWindow, strconv.FormatInt(res.Window, 10))
	m.MetaSetMut(contract.MetaSilverTxnApp, p.cfg.AppID)
	return m
}

// martBatch is the batch the mart applies in one transaction (the
// gold ↔ mart contract): per table and date either a replace_day message
// and all the day's rows, or, for a day whose previous rows gold knows
// (DayUpdate.Diff), an upsert message per row new or changed and a delete
// message per key gone; then the progress message, which carries each
// day's summary (row count and sums of its numbers) for the check.
func martBatch(res *Result) (service.MessageBatch, int, error) {
	wid := strconv.FormatInt(res.Window, 10)
	var batch service.MessageBatch
	rows := 0
	msg := func(content []byte, op, table, date string) {
		m := service.NewMessage(content)
		m.MetaSetMut(MetaOp, op)
		if table != "" {
			m.MetaSetMut(MetaTable, table)
			m.MetaSetMut(MetaDate, date)
		}
		m.MetaSetMut(MetaWindow, wid)
		batch = append(batch, m)
	}
	send := func(op string, u DayUpdate, rs []map[string]any) error {
		for _, r := range rs {
			b, err := json.Marshal(r)
			if err != nil {
				return fmt.Errorf("gdelt_gold: encoding a %s row: %w", u.Table, err)
			}
			msg(b, op, u.Table, u.Date)
			rows++
		}
		return nil
	}
	days := make([]map[string]any, 0, len(res.Updates))
	for _, u := range res.Updates {
		var err error
		if u.Diff {
			if err = send(OpUpsert, u, u.Changed); err == nil {
				err = send(OpDelete, u, u.Deleted)
			}
		} else {
			msg(nil, OpReplaceDay, u.Table, u.Date)
			err = send(OpRow, u, u.Rows)
		}
		if err != nil {
			return nil, 0, err
		}
		days = append(days, daySummary(u))
	}
	wt, err := WindowTime(res.Window)
	if err != nil {
		return nil, 0, err
	}
	b, err := json.Marshal(map[string]any{"window": res.Window, "window_time": wt.Format(time.RFC3339), "rows": rows, "days": days})
	if err != nil {
		return nil, 0, err
	}
	msg(b, OpProgress, "", "")
	return batch, rows, nil
}

// daySummary is what the mart's check compares a day with: its table, date,
// row count and, per column, the sum of its integers (ints) or of its
// floats (floats) over the rows where it is not null, in row order.
func daySummary(u DayUpdate) map[string]any {
	ints, floats := map[string]int64{}, map[string]float64{}
	for _, r := range u.Rows {
		for k, v := range r {
			switch x := v.(type) {
			case int64:
				ints[k] += x
			case float64:
				floats[k] += x
			}
		}
	}
	return map[string]any{"table": u.Table, "date": u.Date, "rows": len(u.Rows), "ints": ints, "floats": floats}
}

func (p *gdeltGoldProc) Close(ctx context.Context) error { return nil }

// auditedThrough reads the audit table's txns: the newest window whose
// GOLD_COMPLETE (appId <prefix><app_id>) and MART_COMPLETE (<prefix>mart)
// rows are both there, -1 when either has none (or there is no table).
func (p *gdeltGoldProc) auditedThrough(ctx context.Context) (int64, error) {
	st, err := storage.Open(p.audit, p.cfg.S3)
	if err != nil {
		return -1, fmt.Errorf("gdelt_gold: opening %s: %w", p.audit, err)
	}
	t, err := delta.OpenTable(ctx, st, delta.TableConfig{})
	if err != nil {
		return -1, fmt.Errorf("gdelt_gold: reading %s: %w", p.audit, err)
	}
	g, okG := t.Txn(p.auditPfx + p.cfg.AppID)
	m, okM := t.Txn(p.auditPfx + "mart")
	if !okG || !okM {
		return -1, nil
	}
	return min(g.Version, m.Version), nil
}

package gdelt

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
)

// Config fields of the gdelt_reject processor.
const (
	grFieldMaxRecords = "max_records"
	grFieldMaxRaw     = "max_raw_bytes"
)

// deltaRejectedPrefix starts the error delta_lake gives a row that does not fit its table.
const deltaRejectedPrefix = "delta_lake: rejected: "

func gdeltRejectSpec() *service.ConfigSpec {
	return service.NewConfigSpec().
		Categories("Utility").
		Summary("Turns a failed row into one reject record (JSON): which stage refused it and why, where it came from, and the row itself; bounded in count and size.").
		Description(`
Put it in front of the output that keeps rejected rows (a file, a dead-letter topic). Each message that failed
(`+"`errored()`"+`, or routed here by a `+"`fallback`"+` with `+"`@fallback_error`"+`) becomes one JSON object:

`+"```json"+`
{"stage":"decode","reason":"field_count","error":"gdelt_decode: table mentions, file 20230702160000.mentions.CSV.zip, line 17: field_count: got 3 fields, want 16",
 "table":"mentions","window":"20230702160000","file":"20230702160000.mentions.CSV.zip","line":17,
 "raw":"1\t2\t3","raw_bytes":5,"raw_truncated":false}
`+"```"+`

- `+"`stage`"+`: `+"`feed`"+` (a row over the feed's `+"`max_line_bytes`"+`), `+"`decode`"+` (`+"`gdelt_decode`"+`), `+"`join`"+`
  (`+"`gdelt_join`"+` could not use the row; bronze still keeps it), `+"`table`"+` (a `+"`delta_lake`"+` table refused it).
- `+"`reason`"+`: the stage's reason code (`+"`field_count`"+`, `+"`bad_int`"+`, `+"`line_too_long`"+`, `+"`join_refused`"+`, `+"`delta_rejected`"+`, …).
- `+"`raw`"+`: the row as read (its first `+"`max_raw_bytes`"+`: `+"`raw_truncated`"+` says so, `+"`raw_bytes`"+` is its full
  length; `+"`file`"+` and `+"`line`"+` locate the whole row in the source).
- `+"`kafka`"+`: `+"`topic`"+`, `+"`partition`"+`, `+"`offset`"+` when the row came from Kafka.

At most `+"`max_records`"+` records are made per run: further rejects are dropped, counted in
`+"`gdelt_rejects_dropped`"+` and logged once, so a file of junk cannot fill the disk (the bound is about
`+"`max_records`"+` × (`+"`max_raw_bytes`"+` + 1 KiB)). Window markers (`+"`gdelt_marker`"+`) are never records: they are
dropped, and so are rows the feed read again after a restart (`+"`gdelt_replay`"+`: recorded when first read). Metrics: `+"`gdelt_rejects_recorded`"+` (labels `+"`stage`"+`, `+"`reason`"+`), `+"`gdelt_rejects_dropped`"+`.`).
		Fields(
			service.NewIntField(grFieldMaxRecords).
				Description("The most records made by this processor in one run; 0: no limit.").
				Default(10000),
			service.NewIntField(grFieldMaxRaw).
				Description("The most bytes of the row kept in `raw` (cut at a UTF-8 boundary).").
				Default(64<<10).Advanced(),
		).
		Example("Rejects to a local file", "", `
output:
  switch:
    cases:
      - check: errored()
        output:
          file:
            path: ./out/rejects.jsonl
            codec: lines
          processors:
            - gdelt_reject: {}
`)
}

func init() {
	service.MustRegisterBatchProcessor("gdelt_reject", gdeltRejectSpec(),
		func(pc *service.ParsedConfig, mgr *service.Resources) (service.BatchProcessor, error) {
			maxRecords, err := pc.FieldInt(grFieldMaxRecords)
			if err != nil {
				return nil, err
			}
			maxRaw, err := pc.FieldInt(grFieldMaxRaw)
			if err != nil {
				return nil, err
			}
			if maxRecords < 0 || maxRaw < 0 {
				return nil, errors.New("max_records and max_raw_bytes must not be negative")
			}
			m := mgr.Metrics()
			return &gdeltReject{
				maxRecords: maxRecords, maxRaw: maxRaw, log: mgr.Logger(),
				mRecorded: m.NewCounter("gdelt_rejects_recorded", "stage", "reason"),
				mDropped:  m.NewCounter("gdelt_rejects_dropped"),
			}, nil
		})
}

type gdeltReject struct {
	maxRecords, maxRaw  int
	log                 *service.Logger
	mRecorded, mDropped *service.MetricCounter

	mu      sync.Mutex
	made    int
	dropped int
}

// RejectRecord is the JSON record of one rejected row.
type RejectRecord struct {
	Stage        string       `json:"stage"`
	Reason       string       `json:"reason"`
	Error        string       `json:"error"`
	Table        string       `json:"table,omitempty"`
	Window       string       `json:"window,omitempty"`
	File         string       `json:"file,omitempty"`
	Line         int64        `json:"line,omitempty"`
	Kafka        *KafkaOrigin `json:"kafka,omitempty"`
	Raw          string       `json:"raw"`
	RawBytes     int          `json:"raw_bytes"`
	RawTruncated bool         `json:"raw_truncated"`
}

// KafkaOrigin locates a row read from Kafka.
type KafkaOrigin struct {
	Topic     string `json:"topic"`
	Partition string `json:"partition"`
	Offset    string `json:"offset"`
}

func (g *gdeltReject) ProcessBatch(_ context.Context, batch service.MessageBatch) ([]service.MessageBatch, error) {
	out := batch[:0:0]
	for _, m := range batch {
		if _, marker := m.MetaGet(contract.MetaMarker); marker {
			continue
		}
		if _, replay := m.MetaGet(contract.MetaReplay); replay {
			continue // read again after a restart: recorded when first read
		}
		rec := g.record(m)
		g.mu.Lock()
		over := g.maxRecords > 0 && g.made >= g.maxRecords
		if over {
			g.dropped++
			if g.dropped == 1 {
				g.log.Warnf("gdelt_reject: %d records made, the max_records limit: further rejects are dropped and counted in gdelt_rejects_dropped (this one: %s %s, %s line %d)", g.made, rec.Stage, rec.Reason, rec.File, rec.Line)
			}
		} else {
			g.made++
		}
		g.mu.Unlock()
		if over {
			g.mDropped.Incr(1)
			continue
		}
		g.mRecorded.Incr(1, rec.Stage, rec.Reason)
		b, err := json.Marshal(rec)
		if err != nil {
			return nil, err
		}
		r := m.Copy()
		r.SetBytes(b)
		r.SetError(nil)
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return []service.MessageBatch{out}, nil
}

func (g *gdeltReject) record(m *service.Message) RejectRecord {
	meta := func(k string) string { v, _ := m.MetaGet(k); return v }
	rec := RejectRecord{
		Stage: meta(contract.MetaErrorStage), Reason: meta(contract.MetaErrorReason),
		Table: meta(contract.MetaTable), Window: meta(contract.MetaWindow), File: meta(contract.MetaFile),
	}
	if err := m.GetError(); err != nil {
		rec.Error = err.Error()
	}
	if fe := meta("fallback_error"); fe != "" && (rec.Error == "" || strings.HasPrefix(fe, deltaRejectedPrefix)) {
		rec.Error = fe
	}
	switch {
	case rec.Stage != "":
	case strings.HasPrefix(rec.Error, deltaRejectedPrefix):
		rec.Stage, rec.Reason = contract.StageTable, "delta_rejected"
	case rec.Reason == ReasonLineTooLong:
		rec.Stage = contract.StageFeed
	default:
		rec.Stage = contract.StageDecode
	}
	if rec.Reason == "" {
		rec.Reason = "unknown"
	}
	if l, err := strconv.ParseInt(meta(contract.MetaLine), 10, 64); err == nil {
		rec.Line = l
	}
	if t := meta(contract.KafkaTopic); t != "" {
		rec.Kafka = &KafkaOrigin{Topic: t, Partition: meta(contract.KafkaPartition), Offset: meta(contract.KafkaOffset)}
	}
	// The row as it was read: a decoded row's error path keeps the raw bytes;
	// a row a table refused is structured, its JSON is what it was.
	raw, _ := m.AsBytes()
	rec.RawBytes = len(raw)
	if g.maxRaw > 0 && len(raw) > g.maxRaw {
		cut := g.maxRaw
		for cut > 0 && !utf8.RuneStart(raw[cut]) {
			cut--
		}
		raw, rec.RawTruncated = raw[:cut], true
	}
	rec.Raw = string(raw)
	return rec
}

func (g *gdeltReject) Close(context.Context) error { return nil }

package mart

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"
)

// The gold ↔ mart contract's metadata (see the README's mart section).
const (
	MetaOp      = "gold_op"    // replace_day, row, upsert, delete or progress
	MetaTable   = "gold_table" // the gold table without "gold/"
	MetaDate    = "gold_date"  // YYYY-MM-DD
	MetaWindow  = "gold_window"
	MetaStarted = "gdelt_mart_started" // set by the gdelt_mart template when the batch reached it

	OpReplaceDay = "replace_day"
	OpRow        = "row"
	OpUpsert     = "upsert"
	OpDelete     = "delete"
	OpProgress   = "progress"

	// StatusMartComplete is the audit/windows status of a window the mart applied.
	StatusMartComplete = "MART_COMPLETE"
)

const (
	gmcFieldDriver        = "driver"
	gmcFieldDSN           = "dsn"
	gmcFieldSchema        = "schema"
	gmcFieldTables        = "tables"
	gmcFieldName          = "name"
	gmcFieldDateColumn    = "date_column"
	gmcFieldIntMeasures   = "int_measures"
	gmcFieldFloatMeasures = "float_measures"
)

func gdeltMartCheckSpec() *service.ConfigSpec {
	return service.NewConfigSpec().
		Categories("Services").
		Summary("Compares the mart with a gold batch the mart has just committed, per affected day, and replaces the batch with its `MART_COMPLETE` audit row.").
		Description(`
Used by the ` + "`gdelt_mart`" + ` output after its transaction: it gets the same batch (the gold stage's batch for one
window W, see ` + "`gdelt_mart`" + `) once the mart has acknowledged it. For every table and day the batch names (its
` + "`replace_day`" + `, ` + "`row`" + `, ` + "`upsert`" + ` and ` + "`delete`" + ` messages) it takes gold's summary of the whole day from the
progress message (its ` + "`days`" + `: row count and sums; a batch without them: the sums of the rows sent), reads the same
from the mart with the same driver (one read-only transaction, with the progress row), and compares: counts and
integer sums exactly, float sums within a relative 1e-9.

When the mart's ` + "`progress.last_window`" + ` is past W (a later batch committed first, or W was an old replay), the
mart holds later totals and nothing is compared (` + "`checked: false`" + `).

Metrics: ` + "`gdelt_mart_in_sync`" + ` (1 when the last compared batch agreed, else 0), ` + "`gdelt_mart_lag_windows`" + `
(windows between W and the mart's progress when the mart is behind W, else 0), ` + "`gdelt_mart_lag_seconds`" + ` (now
minus the time of the mart's newest window), ` + "`gdelt_mart_mismatches`" + ` (a counter of disagreeing figures).

The batch becomes one message, the window's ` + "`audit/windows`" + ` row: ` + "`window`" + `, ` + "`window_start`" + `,
` + "`status`" + ` (` + "`MART_COMPLETE`" + `), ` + "`shard`" + ` (` + "`mart`" + `), ` + "`shards`" + ` (1), ` + "`recorded_at`" + `,
` + "`mart_rows`" + ` (rows written), ` + "`mart_days`" + `, ` + "`mart_seconds`" + ` (from the batch reaching ` + "`gdelt_mart`" + ` to
the end of the check), ` + "`mart_last_window`" + `, ` + "`mart_checked`" + `, ` + "`mart_in_sync`" + ` and ` + "`mart_mismatches`" + `
(a list of lines), with metadata ` + "`gold_window`" + `. A mart that cannot be read is an error of the message.`).
		Field(service.NewStringEnumField(gmcFieldDriver, "pgx", "postgres", "sqlite").
			Description("The database/sql driver, as the mart output's.")).
		Field(service.NewStringField(gmcFieldDSN).
			Description("The database, as the mart output's.")).
		Field(service.NewStringField(gmcFieldSchema).
			Description("The schema of the mart's tables (`mart` in PostgreSQL); empty, unqualified (SQLite).").
			Default("")).
		Field(service.NewObjectListField(gmcFieldTables,
			service.NewStringField(gmcFieldName).Description("The table (the gold table's name without `gold/`)."),
			service.NewStringField(gmcFieldDateColumn).Description("Its day column: `event_date`, or `mention_date`."),
			service.NewStringListField(gmcFieldIntMeasures).Description("Integer measures, summed exactly.").Default([]any{}),
			service.NewStringListField(gmcFieldFloatMeasures).Description("Float measures, summed within a relative 1e-9.").Default([]any{}),
		).Description("The mart's tables the batches may name; a batch naming another is an error."))
}

func init() {
	service.MustRegisterBatchProcessor("gdelt_mart_check", gdeltMartCheckSpec(),
		func(conf *service.ParsedConfig, mgr *service.Resources) (service.BatchProcessor, error) {
			return newMartCheckFromParsed(conf, mgr)
		})
}

// checkAttempts is how many times the check reads the mart before it
// reports that it could not.
const checkAttempts = 3

type martCheck struct {
	driver, dsn, schema string
	tables              []Table

	mu      sync.Mutex
	db      *sql.DB
	checker *Checker

	inSync     *service.MetricGauge
	lagWindows *service.MetricGauge
	lagSeconds *service.MetricGauge
	mismatches *service.MetricCounter
	log        *service.Logger
	now        func() time.Time
}

func newMartCheckFromParsed(conf *service.ParsedConfig, mgr *service.Resources) (*martCheck, error) {
	c := &martCheck{now: time.Now, log: mgr.Logger()}
	var err error
	if c.driver, err = conf.FieldString(gmcFieldDriver); err != nil {
		return nil, err
	}
	if c.dsn, err = conf.FieldString(gmcFieldDSN); err != nil {
		return nil, err
	}
	if c.schema, err = conf.FieldString(gmcFieldSchema); err != nil {
		return nil, err
	}
	tconfs, err := conf.FieldObjectList(gmcFieldTables)
	if err != nil {
		return nil, err
	}
	for _, tc := range tconfs {
		var t Table
		if t.Name, err = tc.FieldString(gmcFieldName); err != nil {
			return nil, err
		}
		if t.DateColumn, err = tc.FieldString(gmcFieldDateColumn); err != nil {
			return nil, err
		}
		if t.IntMeasures, err = tc.FieldStringList(gmcFieldIntMeasures); err != nil {
			return nil, err
		}
		if t.FloatMeasures, err = tc.FieldStringList(gmcFieldFloatMeasures); err != nil {
			return nil, err
		}
		c.tables = append(c.tables, t)
	}
	// Validate the names now; the database is opened at the first batch.
	if _, err := NewChecker(nil, c.driver, c.schema, c.tables); err != nil {
		return nil, err
	}
	m := mgr.Metrics()
	c.inSync = m.NewGauge("gdelt_mart_in_sync")
	c.lagWindows = m.NewGauge("gdelt_mart_lag_windows")
	c.lagSeconds = m.NewGauge("gdelt_mart_lag_seconds")
	c.mismatches = m.NewCounter("gdelt_mart_mismatches")
	return c, nil
}

func (c *martCheck) open() (*Checker, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.checker != nil {
		return c.checker, nil
	}
	db, err := sql.Open(c.driver, c.dsn)
	if err != nil {
		return nil, fmt.Errorf("opening the mart: %w", err)
	}
	db.SetMaxOpenConns(1)
	ch, err := NewChecker(db, c.driver, c.schema, c.tables)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	c.db, c.checker = db, ch
	return ch, nil
}

// batchContent is what a gold batch says: its window and, per day, gold's
// summary of it.
type batchContent struct {
	window  int64
	rows    int64
	days    map[Day]Summary
	started time.Time
	// summaries are the progress message's days (gold's own summary of each
	// whole day: a day sent as upserts and deletes holds only its changes);
	// nil when it has none, and the rows sent are summed instead.
	summaries map[Day]Summary
	diffDays  map[Day]bool
}

func (c *martCheck) read(ch *Checker, batch service.MessageBatch) (batchContent, error) {
	b := batchContent{window: -1, days: map[Day]Summary{}, diffDays: map[Day]bool{}}
	for i, msg := range batch {
		ws, _ := msg.MetaGet(MetaWindow)
		w, err := strconv.ParseInt(ws, 10, 64)
		if err != nil {
			return b, fmt.Errorf("message %d: gold_window %q: not a window id", i, ws)
		}
		if b.window >= 0 && w != b.window {
			return b, fmt.Errorf("message %d: gold_window %d in a batch of window %d", i, w, b.window)
		}
		b.window = w
		if s, ok := msg.MetaGet(MetaStarted); ok && b.started.IsZero() {
			b.started, _ = time.Parse(time.RFC3339Nano, s)
		}
		op, _ := msg.MetaGet(MetaOp)
		if op == OpProgress {
			if err := b.readProgress(ch, msg); err != nil {
				return b, fmt.Errorf("message %d: %w", i, err)
			}
			continue
		}
		name, _ := msg.MetaGet(MetaTable)
		date, _ := msg.MetaGet(MetaDate)
		t, ok := ch.Table(name)
		if !ok {
			return b, fmt.Errorf("message %d: gold_table %q is not a mart table", i, name)
		}
		d := Day{Table: name, Date: date}
		s, seen := b.days[d]
		if !seen {
			s = newSummary()
		}
		switch op {
		case OpReplaceDay:
		case OpUpsert, OpDelete:
			// Only the changes: the day's summary comes with the progress message.
			b.diffDays[d] = true
			b.rows++
		case OpRow:
			v, err := msg.AsStructured()
			if err != nil {
				return b, fmt.Errorf("message %d: a %s row that is not JSON: %w", i, name, err)
			}
			row, ok := v.(map[string]any)
			if !ok {
				return b, fmt.Errorf("message %d: a %s row that is not an object", i, name)
			}
			if err := s.Add(t, row); err != nil {
				return b, fmt.Errorf("message %d: %w", i, err)
			}
			b.rows++
		default:
			return b, fmt.Errorf("message %d: gold_op %q", i, op)
		}
		b.days[d] = s
	}
	if b.window < 0 {
		return b, errors.New("an empty batch")
	}
	if b.summaries != nil {
		for d, s := range b.summaries {
			b.days[d] = s
		}
	}
	for d := range b.diffDays {
		if _, ok := b.summaries[d]; !ok {
			return b, fmt.Errorf("%s %s: upserts or deletes without the day's summary in the progress message", d.Table, d.Date)
		}
	}
	return b, nil
}

// readProgress reads the progress message's days: per table and date, gold's
// summary of the whole day (rows, and the sums of its numeric columns).
func (b *batchContent) readProgress(ch *Checker, msg *service.Message) error {
	raw, err := msg.AsBytes()
	if err != nil || len(raw) == 0 {
		return nil
	}
	var p struct {
		Days []struct {
			Table  string                 `json:"table"`
			Date   string                 `json:"date"`
			Rows   int64                  `json:"rows"`
			Ints   map[string]json.Number `json:"ints"`
			Floats map[string]float64     `json:"floats"`
		} `json:"days"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf("a progress message that is not JSON: %w", err)
	}
	if p.Days == nil {
		return nil
	}
	b.summaries = map[Day]Summary{}
	for _, d := range p.Days {
		t, ok := ch.Table(d.Table)
		if !ok {
			return fmt.Errorf("progress: gold_table %q is not a mart table", d.Table)
		}
		s := newSummary()
		s.Rows = d.Rows
		for _, m := range t.IntMeasures {
			if v, ok := d.Ints[m]; ok {
				n, err := v.Int64()
				if err != nil {
					return fmt.Errorf("progress: %s.%s: %w", d.Table, m, err)
				}
				s.Ints[m] = n
			}
		}
		for _, m := range t.FloatMeasures {
			s.Floats[m] = d.Floats[m]
		}
		b.summaries[Day{Table: d.Table, Date: d.Date}] = s
	}
	return nil
}

func (c *martCheck) ProcessBatch(ctx context.Context, batch service.MessageBatch) ([]service.MessageBatch, error) {
	if len(batch) == 0 {
		return nil, nil
	}
	ch, err := c.open()
	if err != nil {
		return nil, err
	}
	// The batch is committed: a batch the check cannot read (the mart took
	// it, so this is the check's own limit) or a mart that cannot be read now
	// (a restart, a dropped connection: tried again a few times) is reported
	// in the row rather than failing the batch, which would send the gold
	// rows on to the audit output as failed messages.
	content, err := c.read(ch, batch)
	var res Result
	for attempt := 1; err == nil; attempt++ {
		if res, err = ch.Check(ctx, content.window, content.days); err == nil || attempt == checkAttempts || ctx.Err() != nil {
			break
		}
		c.log.Warnf("Checking the mart after window %d (attempt %d of %d): %v", content.window, attempt, checkAttempts, err)
		select {
		case <-time.After(time.Duration(attempt) * time.Second):
		case <-ctx.Done():
		}
		err = nil
	}
	now := c.now().UTC()
	if err != nil {
		c.inSync.Set(0)
		c.log.Errorf("The mart could not be checked after window %d: %v", content.window, err)
	} else if res.Checked {
		if res.InSync {
			c.inSync.Set(1)
		} else {
			c.inSync.Set(0)
			c.mismatches.Incr(int64(len(res.Mismatches)))
			c.log.Errorf("The mart disagrees with gold after window %d: %v", res.Window, res.Mismatches)
		}
	}
	if err == nil {
		c.lagWindows.Set(WindowsBetween(res.LastWindow, res.Window))
		if t, ok := windowTime(res.LastWindow); ok {
			c.lagSeconds.Set(int64(now.Sub(t) / time.Second))
		}
	}

	row := map[string]any{
		"window":           res.Window,
		"window_start":     nil,
		"status":           StatusMartComplete,
		"shard":            Stage,
		"shards":           int64(1),
		"recorded_at":      now.Format(time.RFC3339Nano),
		"mart_rows":        content.rows,
		"mart_days":        int64(len(content.days)),
		"mart_seconds":     nil,
		"mart_last_window": res.LastWindow,
		"mart_checked":     res.Checked,
		"mart_in_sync":     res.InSync,
		"mart_mismatches":  append([]string{}, res.Mismatches...),
		"mart_error":       nil,
	}
	if err != nil {
		row["mart_in_sync"], row["mart_last_window"], row["mart_error"] = nil, nil, err.Error()
		row["mart_checked"], row["window"] = false, nil
		if content.window >= 0 {
			row["window"] = content.window
		}
	}
	if t, ok := windowTime(res.Window); ok {
		row["window_start"] = t.Format(time.RFC3339)
	}
	if !content.started.IsZero() {
		row["mart_seconds"] = now.Sub(content.started).Seconds()
	}
	b, err := json.Marshal(row)
	if err != nil {
		return nil, err
	}
	out := batch[0].Copy()
	out.SetBytes(b)
	for _, k := range []string{MetaOp, MetaTable, MetaDate} {
		out.MetaDelete(k)
	}
	return []service.MessageBatch{{out}}, nil
}

func (c *martCheck) Close(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.db == nil {
		return nil
	}
	err := c.db.Close()
	c.db, c.checker = nil, nil
	return err
}

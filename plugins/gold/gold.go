// Package gold is the plain-Go core of the gold stage: daily aggregates of
// the silver tables, labelled with the code books, kept as Delta tables in
// which every row is the full total of its key over all silver committed so
// far. It has no Benthos types; the gdelt_gold processor feeds it the
// silver output of each window and hands on the mart batch it returns.
//
// # Input and time
//
// Gold moves with silver windows only. A Window gathers what the silver
// join emitted for window W: the events first seen in W (silver/events) and
// W's mentions (silver/events_detailed). Apply(W) then makes gold as of
// "silver committed through W". Windows are applied in increasing order;
// one at or below the committed progress changes nothing.
//
// # The tables
//
//   - gold/events_enriched (gold's own, partitioned by event_date): one row
//     per event at its first sighting (GDELT counts an event once, under
//     its first sighting: silver/events), with the codes, Goldstein, tone,
//     counts, source URL, a one-line description from the code books, and
//     the top 5 themes, persons and organisations counted over the GKG
//     columns of the event's complete mentions in its first-sighting window.
//     Appended per window.
//   - gold/source_window (gold's own, partitioned by mention_date): per
//     window and source, the partial counts and sums of its mentions.
//     Appended per window.
//   - country_daily, country_daily_category, actor_network_daily,
//     top_events_daily (partitioned by event_date) are computed from
//     events_enriched; source_daily (partitioned by mention_date) from
//     source_window. Grains, columns and formulas: tables.go, compute.go and
//     the README.
//
// # Why partitions are recomputed whole
//
// An event's date (SQLDATE) may be days before the window it is first seen
// in, so a window updates old days. For each event_date D that window W
// touches, gold reads the whole events_enriched partition D and recomputes
// the four tables' rows of D from it: every row is the day's full total
// (never a partial of one batch), and the z-scores behind anomalous_events
// and most_unusual use the distribution of all the day's events (mean and
// population standard deviation; z = 0 when the day does not vary). The
// same for source_daily from source_window partition D (the partials'
// sums). Each table's affected partitions are then replaced in one Delta
// commit (delta.Appender.ReplacePartitions: their live files removed, the
// new ones added).
//
// # Exactly once
//
// Every commit carries the txn (app "gold", version W): events_enriched and
// source_window skip a window their txn has reached (delta.Appender), a
// gold table's replace is skipped when its txn has reached W. A crash
// anywhere leaves some tables at W and others before it; the replay of W
// (the silver join emits the same window again) finishes the ones that are
// not, with the same rows, since the recomputation reads the same
// partitions. Apply reports Done when every table had reached W: the
// caller then emits nothing for W.
//
// # State and memory
//
// Between windows gold keeps the open tables (their snapshots) and the day
// cache (cache.go, Config.CacheBytes): the recently recomputed days' events
// (or partials) and gold rows, so that a window reads nothing from storage
// and the mart batch carries only what changed (DayUpdate.Diff); a day
// whose files changed behind gold's back is read again. A window
// holds its own events, its mentions' tag counts and source partials; a
// recomputation of a day not cached reads that day's events_enriched
// partition (about 170,000 real events a day).
//
// # Files
//
//	gold.go         Gold: the tables, Window, Apply (the commits), reading a partition back
//	cache.go        the day cache, and the diff of a day's rows against the previous ones
//	tables.go       the tables' names, partitions and columns
//	compute.go      events_enriched rows from silver, a day's gold rows, source_daily from its partials
//	gdelt_gold.go   processor gdelt_gold: the adapter (silver messages in, the mart batch out)
package gold

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/delta"
	"github.com/gdeltflow/gdeltflow/plugins/delta/datafile"
	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
	"github.com/gdeltflow/gdeltflow/plugins/lookups"
)

// DefaultAppID is the txn appId of gold's commits.
const DefaultAppID = "gold"

// Config says where gold lives.
type Config struct {
	// Lake is the lake's root, a folder or s3://bucket/prefix: the tables are
	// <Lake>/gold/<name>.
	Lake string
	S3   storage.S3Config
	// AppID is the txn appId (DefaultAppID when empty).
	AppID string
	// Books are the code books (lookups.Default() when nil).
	Books *lookups.Books
	// CommitAttempts bounds the attempts at one commit on storage errors
	// (the caller retries the whole window after that); default 3.
	CommitAttempts int
	// CacheBytes bounds the day cache (cache.go), an estimate of its heap
	// bytes; 0: no cache (every recomputation reads its partitions, and
	// every update replaces its day).
	CacheBytes int64
}

type table struct {
	def Table
	t   *delta.Table
	ap  *delta.Appender
	// dataSchema is the schema of its data files (no partition column).
	dataSchema schema.StructType
}

// Gold writes the gold tables of one lake. Not safe for concurrent use.
type Gold struct {
	cfg    Config
	books  *lookups.Books
	tables map[string]*table
	cache  *dayCache
}

// Open opens (creating when absent) every table gold writes.
func Open(ctx context.Context, cfg Config) (*Gold, error) {
	if cfg.AppID == "" {
		cfg.AppID = DefaultAppID
	}
	g := &Gold{cfg: cfg, books: cfg.Books, tables: map[string]*table{}, cache: newDayCache(cfg.CacheBytes)}
	if g.books == nil {
		b, err := lookups.Default()
		if err != nil {
			return nil, err
		}
		g.books = b
	}
	for _, def := range Tables() {
		loc := cfg.Lake + "/gold/" + def.Name
		st, err := storage.Open(loc, cfg.S3)
		if err != nil {
			return nil, fmt.Errorf("gold: opening %s: %w", loc, err)
		}
		t, err := delta.OpenTable(ctx, st, delta.TableConfig{EngineInfo: "gdeltflow-gold"})
		if err != nil {
			return nil, fmt.Errorf("gold: opening %s: %w", loc, err)
		}
		js, err := def.Schema().JSON()
		if err != nil {
			return nil, err
		}
		meta := delta.Metadata{Name: "gold_" + def.Name, SchemaString: js, PartitionColumns: []string{def.Partition},
			Configuration: map[string]string{"delta.parquet.compression.codec": "zstd"}}
		if err := t.Create(ctx, meta, delta.Protocol{}); err != nil {
			return nil, fmt.Errorf("gold: creating %s: %w", loc, err)
		}
		ap, err := delta.NewAppender(t, delta.AppendConfig{Schema: def.Schema(), PartitionColumns: []string{def.Partition},
			CommitAttempts: cfg.CommitAttempts})
		if err != nil {
			return nil, err
		}
		tb := &table{def: def, t: t, ap: ap}
		for _, f := range def.Columns {
			if f.Name != def.Partition {
				tb.dataSchema.Fields = append(tb.dataSchema.Fields, f)
			}
		}
		g.tables[def.Name] = tb
	}
	return g, nil
}

// CacheBytes is the day cache's estimate of the bytes it holds.
func (g *Gold) CacheBytes() int64 {
	if g.cache == nil {
		return 0
	}
	return g.cache.size
}

// Books are the code books gold labels with.
func (g *Gold) Books() *lookups.Books { return g.books }

// Committed is the lowest txn version of gold's app over its tables: every
// window at or below it is fully in gold (-1 when none is).
func (g *Gold) Committed() int64 {
	low := int64(-1)
	for i, def := range Tables() {
		tx, ok := g.tables[def.Name].t.Txn(g.cfg.AppID)
		v := int64(-1)
		if ok {
			v = tx.Version
		}
		if i == 0 || v < low {
			low = v
		}
	}
	return low
}

// Window is the silver output of one window, gathered for Apply.
type Window struct {
	ID      int64
	events  []Event
	tags    map[int64]*tags
	sources map[string]*SourcePartial
	books   *lookups.Books
}

// NewWindow starts gathering window w.
func (g *Gold) NewWindow(w int64) *Window {
	return &Window{ID: w, tags: map[int64]*tags{}, sources: map[string]*SourcePartial{}, books: g.books}
}

// AddEvent adds a silver/events row of the window: an event's first sighting.
func (w *Window) AddEvent(get Getter) { w.events = append(w.events, NewEvent(get, w.ID, w.books)) }

// AddMention adds a silver/events_detailed row of the window.
func (w *Window) AddMention(get Getter) {
	src := asString(get("mention_source_name"))
	p := w.sources[src]
	if p == nil {
		p = &SourcePartial{Date: dateOf(w.ID), Window: w.ID, Source: src}
		w.sources[src] = p
	}
	p.add(get)
	if get("join_status") != "complete" {
		return
	}
	id, ok := asInt(get("global_event_id"))
	if !ok {
		return
	}
	t := w.tags[id]
	if t == nil {
		t = newTags()
		w.tags[id] = t
	}
	t.add(get)
}

// Rows counts the window's rows gathered so far (events, mentions).
func (w *Window) Rows() (events, mentions int) {
	for _, p := range w.sources {
		mentions += int(p.Mentions)
	}
	return len(w.events), mentions
}

// DayUpdate is the new content of one partition of one gold table.
type DayUpdate struct {
	Table string
	Date  string // YYYY-MM-DD
	Rows  []map[string]any
	// Diff: the rows gold computed for the day before (the last window
	// that touched it, in this Gold's life) are known, and Changed and
	// Deleted say how Rows differ from them: the rows new or changed, and
	// the key columns of the rows gone. Without Diff, Rows replace the day.
	Diff    bool
	Changed []map[string]any
	Deleted []map[string]any
}

// Result is what Apply did for a window.
type Result struct {
	Window int64
	// Done: every table had the window already; nothing was written and
	// Updates is empty.
	Done bool
	// Updates are the gold tables' replaced partitions, by table (in
	// GoldTables order) then date.
	Updates []DayUpdate
	// Commits counts the commits made (0 to 7).
	Commits int
}

// Apply commits window w to gold: events_enriched and source_window
// appended, then each gold table's affected partitions replaced whole.
// After an error, call it again with the same window (a fresh Window
// gathered from the same rows, or the same one): what was committed is
// skipped.
func (g *Gold) Apply(ctx context.Context, w *Window) (*Result, error) {
	res, err := g.apply(ctx, w)
	if err != nil {
		// The tables are the truth: the days are read from them again.
		g.cache.clear()
	}
	return res, err
}

func (g *Gold) apply(ctx context.Context, w *Window) (*Result, error) {
	res := &Result{Window: w.ID}
	if g.Committed() >= w.ID {
		res.Done = true
		return res, nil
	}
	for i := range w.events {
		e := &w.events[i]
		if t := w.tags[e.ID]; t != nil {
			e.Themes, e.Persons, e.Orgs = top(t.themes, TopN), top(t.persons, TopN), top(t.orgs, TopN)
		}
	}
	// The two tables gold computes from: appended with the window's txn.
	var evRows, srcRows []delta.Row
	eventDates := map[string]bool{}
	for i := range w.events {
		evRows = append(evRows, delta.Row{Values: w.events[i].Row(), AppID: g.cfg.AppID, Version: w.ID})
		eventDates[w.events[i].Date] = true
	}
	mentionDates := map[string]bool{}
	appended := map[string]bool{}
	written := map[string]map[string]bool{TableEventsEnriched: {}, TableSourceWindow: {}}
	for _, src := range sortedKeys(w.sources) {
		p := w.sources[src]
		srcRows = append(srcRows, delta.Row{Values: p.Row(), AppID: g.cfg.AppID, Version: w.ID})
		mentionDates[p.Date] = true
	}
	for _, a := range []struct {
		name string
		rows []delta.Row
	}{{TableEventsEnriched, evRows}, {TableSourceWindow, srcRows}} {
		tb := g.tables[a.name]
		if tx, ok := tb.t.Txn(g.cfg.AppID); ok && tx.Version >= w.ID {
			continue
		}
		appended[a.name] = true
		if len(a.rows) == 0 {
			// Nothing to add: record the window's progress alone.
			if _, err := tb.ap.ReplacePartitions(ctx, nil, nil, delta.Txn{AppID: g.cfg.AppID, Version: w.ID}); err != nil {
				return nil, fmt.Errorf("gold: window %d: %s: %w", w.ID, a.name, err)
			}
			res.Commits++
			continue
		}
		r, err := tb.ap.Append(ctx, a.rows)
		if err != nil {
			return nil, fmt.Errorf("gold: window %d: appending to %s: %w", w.ID, a.name, err)
		}
		if len(r.Failed) > 0 {
			for i, err := range r.Failed {
				return nil, fmt.Errorf("gold: window %d: %s row %d: %w", w.ID, a.name, i, err)
			}
		}
		if r.Version >= 0 {
			res.Commits++
		}
		for _, f := range r.Files {
			written[a.name][f.Path] = true
		}
	}

	// The affected days, recomputed whole: from the cache (the day as it
	// was, plus the window's rows) or else from the partitions just written.
	days := func(m map[string]bool) []string {
		out := make([]string, 0, len(m))
		for d := range m {
			out = append(out, d)
		}
		sort.Strings(out)
		return out
	}
	// A cached day whose files are not the ones it was made from plus the
	// window's (a vacuum, another writer) is read again whole.
	for _, c := range []struct {
		name    string
		mention bool
		dates   map[string]bool
	}{{TableEventsEnriched, false, eventDates}, {TableSourceWindow, true, mentionDates}} {
		for d := range c.dates {
			k := dayKey{mention: c.mention, date: d}
			if st := g.cache.get(k); st != nil && !sameFiles(g.tables[c.name].partitionFiles(d), st.files, written[c.name]) {
				g.cache.drop(k)
			}
		}
	}
	if appended[TableEventsEnriched] {
		for i := range w.events {
			e := &w.events[i]
			if st := g.cache.get(dayKey{date: e.Date}); st != nil {
				n := eventFromRow(e.Date, e.Row()).cloned()
				st.events = append(st.events, n)
				st.dataBytes += eventBytes(&n)
			}
		}
	} else {
		for d := range eventDates {
			g.cache.drop(dayKey{date: d})
		}
	}
	if appended[TableSourceWindow] {
		for _, src := range sortedKeys(w.sources) {
			p := w.sources[src]
			if st := g.cache.get(dayKey{mention: true, date: p.Date}); st != nil {
				q := partialFromRow(p.Date, p.Row())
				q.Date, q.Source = strings.Clone(q.Date), strings.Clone(q.Source)
				st.parts = append(st.parts, q)
				st.dataBytes += int64(96 + len(p.Source))
			}
		}
	} else {
		for d := range mentionDates {
			g.cache.drop(dayKey{mention: true, date: d})
		}
	}
	byTable := map[string][]DayUpdate{}
	touched := map[dayKey]*dayState{}
	update := func(name, d string, st *dayState, rows []map[string]any) DayUpdate {
		u := DayUpdate{Table: name, Date: d, Rows: rows}
		if prev, ok := st.rows[name]; ok {
			u.Diff = true
			u.Changed, u.Deleted = diffRows(prev, rows, g.tables[name].def.Key)
		}
		return u
	}
	for _, d := range days(eventDates) {
		k := dayKey{date: d}
		st := g.cache.get(k)
		if st == nil {
			evs, err := g.readEvents(ctx, d)
			if err != nil {
				return nil, fmt.Errorf("gold: window %d: %w", w.ID, err)
			}
			if g.cache.enabled() {
				for i := range evs {
					evs[i] = evs[i].cloned()
				}
			}
			st = &dayState{events: evs}
			for i := range evs {
				st.dataBytes += eventBytes(&evs[i])
			}
		}
		rows := DayRows(d, st.events, g.books)
		next := map[string][]map[string]any{}
		for _, name := range GoldTables()[:4] {
			byTable[name] = append(byTable[name], update(name, d, st, rows[name]))
			next[name] = rows[name]
		}
		st.rows = next
		touched[k] = st
	}
	for _, d := range days(mentionDates) {
		k := dayKey{mention: true, date: d}
		st := g.cache.get(k)
		if st == nil {
			parts, err := g.readPartials(ctx, d)
			if err != nil {
				return nil, fmt.Errorf("gold: window %d: %w", w.ID, err)
			}
			for i := range parts {
				parts[i].Source = strings.Clone(parts[i].Source)
			}
			st = &dayState{parts: parts}
			for i := range parts {
				st.dataBytes += int64(96 + len(parts[i].Source))
			}
		}
		rows := SourceDayRows(d, st.parts)
		byTable[TableSourceDaily] = append(byTable[TableSourceDaily], update(TableSourceDaily, d, st, rows))
		st.rows = map[string][]map[string]any{TableSourceDaily: rows}
		touched[k] = st
	}
	for _, name := range GoldTables() {
		ups := byTable[name]
		res.Updates = append(res.Updates, ups...)
		tb := g.tables[name]
		if tx, ok := tb.t.Txn(g.cfg.AppID); ok && tx.Version >= w.ID {
			continue
		}
		var rows, parts []map[string]any
		for _, u := range ups {
			parts = append(parts, map[string]any{tb.def.Partition: u.Date})
			rows = append(rows, u.Rows...)
		}
		r, err := tb.ap.ReplacePartitions(ctx, rows, parts, delta.Txn{AppID: g.cfg.AppID, Version: w.ID})
		if err != nil {
			return nil, fmt.Errorf("gold: window %d: %s: %w", w.ID, name, err)
		}
		if r.Version >= 0 {
			res.Commits++
		}
	}
	for k, st := range touched {
		name := TableEventsEnriched
		if k.mention {
			name = TableSourceWindow
		}
		st.files = map[string]bool{}
		for _, a := range g.tables[name].partitionFiles(k.date) {
			st.files[a.Path] = true
		}
		g.cache.put(k, st, w.ID)
	}
	g.cache.evict()
	return res, nil
}

// Current returns, for a window gold has already committed, the gold
// tables' partitions of the dates the window touches as they are now (a
// later window may have changed them since): the mart batch of a replayed
// window, for a mart that may have missed it (a crash after gold's commits
// and before the mart's). Result.Done is set.
func (g *Gold) Current(ctx context.Context, w *Window) (*Result, error) {
	res := &Result{Window: w.ID, Done: true}
	eventDates, mentionDates := map[string]bool{}, map[string]bool{}
	for i := range w.events {
		eventDates[w.events[i].Date] = true
	}
	for _, p := range w.sources {
		mentionDates[p.Date] = true
	}
	for _, name := range GoldTables() {
		dates := eventDates
		if name == TableSourceDaily {
			dates = mentionDates
		}
		for _, d := range sortedKeys(dates) {
			u := DayUpdate{Table: name, Date: d}
			part := g.tables[name].def.Partition
			err := g.readPartition(ctx, name, d, func(r map[string]any) {
				r[part] = d
				u.Rows = append(u.Rows, r)
			})
			if err != nil {
				return nil, fmt.Errorf("gold: window %d: %w", w.ID, err)
			}
			res.Updates = append(res.Updates, u)
		}
	}
	return res, nil
}

// partitionFiles are the live files of one partition of a table.
func (tb *table) partitionFiles(date string) []*delta.Add {
	var out []*delta.Add
	for _, a := range tb.t.Snapshot().SortedFiles() {
		if v := a.PartitionValues[tb.def.Partition]; v != nil && *v == date {
			out = append(out, a)
		}
	}
	return out
}

// readPartition calls fn with every row of one partition.
func (g *Gold) readPartition(ctx context.Context, name, date string, fn func(map[string]any)) error {
	tb := g.tables[name]
	for _, a := range tb.partitionFiles(date) {
		if err := g.readFile(ctx, tb, name, a, fn); err != nil {
			return err
		}
	}
	return nil
}

// readFile calls fn with every row of one data file of a table.
func (g *Gold) readFile(ctx context.Context, tb *table, name string, a *delta.Add, fn func(map[string]any)) error {
	p := delta.DecodePath(a.Path)
	data, err := tb.t.Storage().Read(ctx, p)
	if err != nil {
		return fmt.Errorf("reading %s/%s: %w", name, p, err)
	}
	r, err := datafile.NewReader(bytes.NewReader(data), int64(len(data)), tb.dataSchema)
	if err != nil {
		return fmt.Errorf("reading %s/%s: %w", name, path.Base(p), err)
	}
	for {
		row, err := r.Read()
		if err != nil {
			r.Close()
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("reading %s/%s: %w", name, path.Base(p), err)
		}
		fn(row)
	}
}

func (g *Gold) readEvents(ctx context.Context, date string) ([]Event, error) {
	var evs []Event
	err := g.readPartition(ctx, TableEventsEnriched, date, func(r map[string]any) { evs = append(evs, eventFromRow(date, r)) })
	return evs, err
}

func (g *Gold) readPartials(ctx context.Context, date string) ([]SourcePartial, error) {
	var ps []SourcePartial
	err := g.readPartition(ctx, TableSourceWindow, date, func(r map[string]any) { ps = append(ps, partialFromRow(date, r)) })
	return ps, err
}

// WindowTime is the start of window w (YYYYMMDDHHMMSS), UTC.
func WindowTime(w int64) (time.Time, error) {
	return time.Parse("20060102150405", fmt.Sprintf("%014d", w))
}

// Package join is the plain-Go core of the silver three-way join of GDELT 2.0:
// one silver row per mention row, carrying the mention, the event it refers to
// and the GKG record of the article it appears in. It has no Benthos types; an
// adapter feeds it decoded rows (package gdelt, flat) and hands on what it
// emits.
//
// # Inputs and time
//
// Three streams, interleaved in any way: export (events), mentions and GKG
// rows, each table's rows in window order. A row's window is date_added
// (export), mention_time_date (mentions) or date (GKG). Time moves with window
// ids only, never with the wall clock:
//
//   - A table is complete through window W once it has sent a row of a later
//     window (or Complete was called, or Flush).
//   - The watermark is the lowest of the three tables' "complete through"
//     windows; a table that has sent nothing holds it back.
//   - The mentions of window W are emitted once the watermark reaches W+S
//     (S = Config.GKGWindowSlack, 1): every table, the GKG in particular, has
//     then sent all of W+1, and the events of windows <= W are in.
//
// Why "complete through" rather than "newest window seen": when the newest
// GKG window is W+1 it may still be half sent, and emitting W then would make
// a mention's GKG match depend on batch boundaries. Waiting until every table
// has started W+2 makes the output the same whatever the interleaving across
// tables and the batch boundaries. The cost is one window (15 min) of latency
// in a live stream, which Complete removes when the caller knows a table's
// window has ended (the end of its file). Flush ends the input: everything
// pending is emitted.
//
// # The join
//
//   - Events ⋈ mentions on global_event_id, when the event's window E (its
//     date_added) satisfies E <= W <= E+R: the event was first seen in the
//     mention's window or before, at most R windows before
//     (R = Config.EventRetentionWindows, 192 = 48 h).
//   - Mentions ⋈ GKG on mention_identifier = document_identifier (exact string
//     match), for mention_type = 1 only, with the GKG record's window G within
//     W-S..W+S. Several candidates (the same URL in several of those windows):
//     the nearest window wins, a tie goes to the earlier window. The same URL
//     twice in one window: the first row received is kept, later ones are
//     counted in Stats.DuplicateGKG and dropped.
//   - join_status: "complete" (event and GKG joined), "no_gkg" (event joined,
//     no GKG: none in range, or mention_type != 1, or no identifier), "expired"
//     (no event: older than R windows before the mention, of a later window,
//     or never seen). An expired row still carries the GKG columns when the
//     GKG matched.
//   - Re-exports: an export row whose global_event_id was already seen (GDELT
//     exports an event once, but a re-processed file can repeat it) keeps
//     first-sighting semantics: the row is dropped and counted in
//     Stats.DuplicateEvents, the events table keeps the first row, and later
//     mentions join (or expire) by the first sighting's window. Ids are
//     remembered for Config.EventIDMemoryWindows windows after their own (in
//     state for the retention, then in a compact id memory, ~1 bit per id
//     since GDELT assigns ids in sequence); a repeat after that counts as a
//     new event. The memory survives a restart when the caller persists what
//     DrainEvictedIDs returns and hands it back with RememberIDs.
//
// Output rows are maps holding every column (see Columns for the names;
// window is the mention's window id, which is mention_time_date for GDELT's
// rows), emitted by window and, within a window, by event (GLOBALEVENTID),
// the mentions of one event in the order they arrived.
//
// # State and memory
//
// Everything is kept exactly as long as a mention not yet emitted can join
// it. Events: windows >= last emitted + 1 - R, as compact records (see
// appendEvent), evicted a window at a time. GKG rows, by URL: windows >= last
// emitted + 1 - S, i.e. watermark-1 with the default slack. Pending mentions:
// by window until emitted. So memory is bounded by the retention (plus any
// backlog while a table holds the watermark back); Stats reports the sizes.
//
// # Late rows
//
// A row is late when a mention it could have joined was already emitted:
// an event or a mention of a window <= the last emitted window, a GKG row of a
// window <= last emitted + S. Late rows are counted (Stats.Late) and still
// used as far as possible: a late event or GKG row is stored (unless already
// older than the state keeps) and joins the mentions still pending; a late
// mention of an emitted window is joined at once with the state as it is and
// emitted with the next Drain. Their counts go into a WindowStats record with
// Late set, returned by that Drain, to be added to the window's first record.
// With each table's rows in window order there are no late rows, except
// after Flush or Complete.
//
// # Files
//
//	join.go         Joiner: state, the watermark, emission, eviction (the core, no Benthos types)
//	columns.go      the silver row's columns, the compact event record
//	idmemory.go     the ids of events past the retention (re-exports), and their encoding for a cache
//	snapshot.go     a window's events in state as bytes, and back (a restart without replaying the retention)
//	audit.go        the audit/windows row of a window
//	window.go       window ids as indexes (contract.Window)
//	gdelt_join.go   processor gdelt_join: the adapter (sources and positions, Kafka partitions and markers,
//	                pass-through, the id memory in a cache, metrics, the stall warning)
//	gdelt_join_snapshot.go  the events' snapshots in the state cache: what a restart may trust, and the
//	                feed's rewind it then asks for
package join

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
)

// Config tunes a Joiner. Start from DefaultConfig.
type Config struct {
	// EventRetentionWindows is R: an event joins mentions of its own window and
	// of the R windows after it. 192 = 48 h.
	EventRetentionWindows int
	// GKGWindowSlack is S: a mention's GKG record may be up to S windows before
	// or after the mention's window. It also sets the emission delay.
	GKGWindowSlack int
	// NestedGKG says the GKG rows were decoded with nested parsing: the silver
	// row then also has gkg_page_title and gkg_page_precise_pub_timestamp.
	NestedGKG bool
	// ExplicitCompletion turns off the inference "a row of a later window
	// completes the earlier ones": only Complete and Flush advance a table.
	// For inputs whose rows are in window order only per partition.
	ExplicitCompletion bool
	// EventIDMemoryWindows is how many windows after its own an event's
	// GLOBALEVENTID is remembered, in state or, once evicted, in a compact id
	// memory: an export row with a remembered id is a re-export and is
	// dropped (see "Re-exports"). 0 means the retention only.
	EventIDMemoryWindows int
	// EmitEvents also emits each event stored in state (its first sighting),
	// once, as a row under the export's own column names (the typed events
	// table): the events of window W when W's mentions are emitted, a late
	// event at once. See DrainEvents.
	EmitEvents bool
	// Now stamps WindowStats.FirstArrival and Completed (time.Now if nil). It is
	// never used for join decisions.
	Now func() time.Time
}

// DefaultConfig is R = 192 windows (48 h), S = 1 window and an id memory of
// 2880 windows (30 days).
func DefaultConfig() Config {
	return Config{EventRetentionWindows: 192, GKGWindowSlack: 1, EventIDMemoryWindows: 2880}
}

// WindowStats is the audit record of one window, returned when its mentions
// are emitted (for every window that received a row of any table).
type WindowStats struct {
	Window                   int64     // window id, YYYYMMDDHHMMSS
	Events, Mentions, GKG    int       // rows received per table with this window
	Complete, NoGKG, Expired int       // the window's mentions by status
	JoinRate                 float64   // Complete / Mentions (0 without mentions)
	FirstArrival             time.Time // the window's first row (any table)
	Completed                time.Time // when its mentions were emitted
	// Late marks a supplement: only rows of this window that arrived after its
	// first record was returned. Add it to that record.
	Late bool
}

// TableCounts is a counter per input table.
type TableCounts struct {
	Events, Mentions, GKG uint64
}

func (c *TableCounts) add(t int) {
	switch t {
	case tableEvents:
		c.Events++
	case tableMentions:
		c.Mentions++
	default:
		c.GKG++
	}
}

// Stats are the Joiner's counters and state sizes.
type Stats struct {
	// Watermark is the window id every table is complete through (0 until
	// every table has sent a row); Emitted the last window whose mentions were
	// emitted (0 before the first).
	Watermark, Emitted int64

	Received TableCounts // rows accepted
	Rejected TableCounts // rows Add refused (missing or mistyped columns)
	Late     TableCounts // rows that arrived after a mention they could join was emitted

	Complete, NoGKG, Expired uint64 // silver rows emitted by status

	EventsEvicted, GKGEvicted uint64 // rows dropped from state by age (or on arrival, when already too old)
	DuplicateEvents           uint64 // export rows with a global_event_id already seen (in state or in the id memory): re-exports
	DuplicateGKG              uint64 // GKG rows with a URL already in state for the same window

	StateEvents     int   // events in state
	StateGKG        int   // GKG rows in state
	PendingMentions int   // mentions waiting for the watermark
	StateBytes      int64 // approximate memory held by the three
	IDMemoryWindows int   // evicted windows whose ids are remembered
	IDMemoryBytes   int64 // their memory
}

const (
	tableEvents = iota
	tableMentions
	tableGKG
)

// Approximate fixed costs per stored item, for Stats.StateBytes.
const (
	eventOverhead   = 40  // map slot, id in the window's list
	gkgOverhead     = 120 // map entry, slice, window list
	mentionOverhead = 300 // the pending struct
)

type tableState struct {
	hasRows     bool
	newest      int64 // newest window index received
	hasComplete bool
	complete    int64 // complete through this window index
	cache       windowCache
}

// eventRef locates an event's record: no pointers, so the event map is never
// scanned by the garbage collector.
type eventRef struct {
	win    int64
	off, n uint32
}

// eventArena holds the records of one window's events.
type eventArena struct {
	buf []byte
	ids []int64
}

// clip reallocates the arena to its length when append left much spare
// capacity. Strings already handed out keep the old array alive as long as
// they need it.
func (a *eventArena) clip() {
	if cap(a.buf)-len(a.buf) > len(a.buf)/8 {
		a.buf = slices.Clone(a.buf)
	}
	if cap(a.ids)-len(a.ids) > len(a.ids)/8 {
		a.ids = slices.Clone(a.ids)
	}
}

type gkgRow struct {
	win  int64
	cols []any
}

type mention struct {
	cols    []any
	eventID int64
	mtype   int64 // 0 when nil
	url     string
}

type pendingWindow struct {
	mentions []mention
	bytes    int64 // approximate, for Stats.StateBytes
}

// Joiner is the three-way join's state. It is not safe for concurrent use.
type Joiner struct {
	cfg       Config
	retention int64
	slack     int64
	memory    int64 // windows an id is remembered, >= retention
	now       func() time.Time
	l         *layout

	tables     [3]tableState
	watermark  int64
	hasMark    bool
	emitted    int64 // last emitted window index, valid when hasEmitted
	hasEmitted bool

	events       map[int64]eventRef
	arenas       map[int64]*eventArena
	arenaWins    []int64 // sorted
	gkg          map[string][]gkgRow
	gkgWins      map[int64][]string
	gkgWinList   []int64 // sorted
	pending      map[int64]*pendingWindow
	open         map[int64]*WindowStats // windows not yet emitted
	openWins     []int64                // sorted
	late         map[int64]*WindowStats // supplements for emitted windows
	windowBoxes  map[int64]any          // boxed window ids of pending windows
	ids          idMemory               // ids of evicted windows
	evictedIDs   []WindowIDs            // evicted since the last DrainEvictedIDs
	forgottenIDs []int64                // windows the id memory dropped since then

	out        [][]any // silver rows, in SilverLayout's order
	outWindows []WindowStats
	outEvents  [][]any // event rows, in the export's column order
	opened     []WindowStats

	st                                     Stats
	eventBytes, gkgBytes, pendingBytes     int64
	stateEvents, stateGKG, pendingMentions int
}

// New returns a Joiner. Retention and slack must not be negative.
func New(cfg Config) (*Joiner, error) {
	if cfg.EventRetentionWindows < 0 || cfg.GKGWindowSlack < 0 || cfg.EventIDMemoryWindows < 0 {
		return nil, fmt.Errorf("join: negative retention (%d), GKG slack (%d) or id memory (%d)", cfg.EventRetentionWindows, cfg.GKGWindowSlack, cfg.EventIDMemoryWindows)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Joiner{
		cfg:         cfg,
		retention:   int64(cfg.EventRetentionWindows),
		slack:       int64(cfg.GKGWindowSlack),
		memory:      int64(max(cfg.EventIDMemoryWindows, cfg.EventRetentionWindows)),
		now:         now,
		l:           newLayout(cfg.NestedGKG),
		events:      make(map[int64]eventRef),
		arenas:      make(map[int64]*eventArena),
		gkg:         make(map[string][]gkgRow),
		gkgWins:     make(map[int64][]string),
		pending:     make(map[int64]*pendingWindow),
		open:        make(map[int64]*WindowStats),
		late:        make(map[int64]*WindowStats),
		windowBoxes: make(map[int64]any),
	}, nil
}

func tableIndex(table string) (int, error) {
	t, err := schema.ByName(table)
	if err != nil {
		return 0, fmt.Errorf("join: %w", err)
	}
	switch t {
	case schema.Events:
		return tableEvents, nil
	case schema.Mentions:
		return tableMentions, nil
	}
	return tableGKG, nil
}

// Add takes one decoded row of table ("export" or "events", "mentions",
// "gkg"). It checks the columns the join needs (the window column and the
// join keys: present and of their schema type; the export's other columns of
// their schema type or nil) and refuses the row with an error otherwise,
// leaving the state untouched. The row map is not modified; its values are
// kept (not copied) until emitted or evicted.
//
// When the row moves the watermark, the mentions it releases are joined here
// and queued for Drain.
func (j *Joiner) Add(table string, row map[string]any) error {
	t, err := tableIndex(table)
	if err != nil {
		return err
	}
	names := j.l.in[t]
	vals := make([]any, len(names))
	for i, name := range names {
		vals[i] = row[name]
	}
	return j.addValues(t, vals)
}

// addValues takes a row of table t as its values in the order of the
// table's input layout (InputLayout). The values are kept, not copied.
func (j *Joiner) addValues(t int, vals []any) error {
	var err error
	switch t {
	case tableEvents:
		err = j.addEvent(vals)
	case tableMentions:
		err = j.addMention(vals)
	default:
		err = j.addGKG(vals)
	}
	if err != nil {
		j.st.Rejected.add(t)
		return fmt.Errorf("join: %s row: %w", schema.Tables()[t].Name, err)
	}
	j.st.Received.add(t)
	return nil
}

func (j *Joiner) window(t int, vals []any, col int) (int64, error) {
	v, ok := vals[col].(int64)
	if !ok {
		return 0, fmt.Errorf("column %s: got %T, want int64", j.l.in[t][col], vals[col])
	}
	idx, ok := j.tables[t].cache.index(v)
	if !ok {
		return 0, fmt.Errorf("column %s: %d is not a window id (YYYYMMDDHHMMSS)", j.l.in[t][col], v)
	}
	return idx, nil
}

func (j *Joiner) addEvent(vals []any) error {
	id, ok := vals[j.l.eventID].(int64)
	if !ok {
		return fmt.Errorf("column global_event_id: got %T, want int64", vals[j.l.eventID])
	}
	w, err := j.window(tableEvents, vals, j.l.eventWindow)
	if err != nil {
		return err
	}
	a := j.arenas[w]
	var buf []byte
	if a != nil {
		buf = a.buf
	}
	off := len(buf)
	buf, err = j.l.appendEvent(buf, vals)
	if err != nil {
		if a != nil {
			a.buf = buf // appendEvent cut it back to off
		}
		return err
	}
	j.stats(w).Events++
	late := j.hasEmitted && w <= j.emitted
	if late {
		j.st.Late.Events++
	}
	switch {
	case j.hasEmitted && w < j.emitted+1-j.retention:
		j.st.EventsEvicted++ // older than the state keeps: no mention left to join
		if a != nil {
			a.buf = buf[:off]
		}
	case j.hasEvent(id) || j.ids.seenBefore(id, w, j.memory):
		// A re-export: the event keeps its first sighting.
		j.st.DuplicateEvents++
		if a != nil {
			a.buf = buf[:off]
		}
	default:
		if a == nil {
			// A new window: the previous newest arena is full (events come in
			// window order), so give back its spare capacity.
			if n := len(j.arenaWins); n > 0 && j.arenaWins[n-1] < w {
				j.arenas[j.arenaWins[n-1]].clip()
			}
			a = &eventArena{}
			j.arenas[w] = a
			j.arenaWins = insertSorted(j.arenaWins, w)
		}
		a.buf = buf
		a.ids = append(a.ids, id)
		j.events[id] = eventRef{win: w, off: uint32(off), n: uint32(len(buf) - off)}
		j.stateEvents++
		if late && j.cfg.EmitEvents {
			j.outEvents = append(j.outEvents, j.eventRow(buf[off:]))
		}
		j.eventBytes += int64(len(buf)-off) + eventOverhead
	}
	j.seen(tableEvents, w)
	return nil
}

func (j *Joiner) hasEvent(id int64) bool {
	_, ok := j.events[id]
	return ok
}

func (j *Joiner) addMention(vals []any) error {
	id, ok := vals[j.l.mentionID].(int64)
	if !ok {
		return fmt.Errorf("column global_event_id: got %T, want int64", vals[j.l.mentionID])
	}
	w, err := j.window(tableMentions, vals, j.l.mentionWindow)
	if err != nil {
		return err
	}
	m := mention{eventID: id}
	switch v := vals[j.l.mentionType].(type) {
	case int64:
		m.mtype = v
	case nil:
	default:
		return fmt.Errorf("column mention_type: got %T, want int64 or nil", v)
	}
	switch v := vals[j.l.mentionURL].(type) {
	case string:
		m.url = v
	case nil:
	default:
		return fmt.Errorf("column mention_identifier: got %T, want string or nil", v)
	}
	m.cols = vals
	var size int64
	for _, v := range vals {
		if s, ok := v.(string); ok {
			size += int64(len(s))
		}
	}
	ws := j.stats(w)
	ws.Mentions++
	if j.hasEmitted && w <= j.emitted {
		// Late: its window is out already. Join it now, with the state as it is.
		j.st.Late.Mentions++
		j.emit(&m, w, j.boxWindow(w), ws, nil)
		ws.Completed = j.now()
	} else {
		p := j.pending[w]
		if p == nil {
			p = &pendingWindow{}
			j.pending[w] = p
		}
		p.mentions = append(p.mentions, m)
		p.bytes += size + mentionOverhead
		j.pendingMentions++
		j.pendingBytes += size + mentionOverhead
	}
	j.seen(tableMentions, w)
	return nil
}

func (j *Joiner) addGKG(vals []any) error {
	w, err := j.window(tableGKG, vals, j.l.gkgWindow)
	if err != nil {
		return err
	}
	var url string
	switch v := vals[j.l.gkgURL].(type) {
	case string:
		url = v
	case nil:
	default:
		return fmt.Errorf("column document_identifier: got %T, want string or nil", v)
	}
	j.stats(w).GKG++
	if j.hasEmitted && w <= j.emitted+j.slack {
		j.st.Late.GKG++
	}
	switch {
	case url == "":
		// No identifier: nothing can match it.
	case j.hasEmitted && w < j.emitted+1-j.slack:
		j.st.GKGEvicted++ // older than any pending mention can use
	case j.hasGKG(url, w):
		j.st.DuplicateGKG++
	default:
		cols := vals
		size := gkgSize(cols)
		j.gkg[url] = append(j.gkg[url], gkgRow{win: w, cols: cols})
		if _, ok := j.gkgWins[w]; !ok {
			j.gkgWinList = insertSorted(j.gkgWinList, w)
		}
		j.gkgWins[w] = append(j.gkgWins[w], url)
		j.stateGKG++
		j.gkgBytes += size
	}
	j.seen(tableGKG, w)
	return nil
}

func (j *Joiner) hasGKG(url string, w int64) bool {
	for _, g := range j.gkg[url] {
		if g.win == w {
			return true
		}
	}
	return false
}

// stats returns the record a row of window w counts in: the window's own
// while it is open, a Late supplement once it was emitted.
func (j *Joiner) stats(w int64) *WindowStats {
	if j.hasEmitted && w <= j.emitted {
		ws := j.late[w]
		if ws == nil {
			ws = &WindowStats{Window: windowID(w), FirstArrival: j.now(), Late: true}
			j.late[w] = ws
		}
		return ws
	}
	ws := j.open[w]
	if ws == nil {
		ws = &WindowStats{Window: windowID(w), FirstArrival: j.now()}
		j.open[w] = ws
		j.openWins = insertSorted(j.openWins, w)
		j.opened = append(j.opened, *ws)
	}
	return ws
}

// seen records a row of table t in window w and moves the watermark: the
// table is complete through the window before its newest (its rows come in
// window order; before its first row it sent nothing, so it is complete too).
func (j *Joiner) seen(t int, w int64) {
	ts := &j.tables[t]
	if !ts.hasRows || w > ts.newest {
		ts.hasRows, ts.newest = true, w
	}
	if !j.cfg.ExplicitCompletion && (!ts.hasComplete || ts.newest-1 > ts.complete) {
		ts.hasComplete, ts.complete = true, ts.newest-1
		j.advance()
	}
}

// Complete declares that table has sent every row of the windows up to and
// including window (an id, YYYYMMDDHHMMSS): the end of a file, say. It may
// release mentions, as Add does.
func (j *Joiner) Complete(table string, window int64) error {
	t, err := tableIndex(table)
	if err != nil {
		return err
	}
	w, ok := windowIndex(window)
	if !ok {
		return fmt.Errorf("join: %d is not a window id (YYYYMMDDHHMMSS)", window)
	}
	ts := &j.tables[t]
	if !ts.hasComplete || w > ts.complete {
		ts.hasComplete, ts.complete = true, w
		j.advance()
	}
	return nil
}

// CompleteBefore declares that table has sent every row of the windows before
// window (an id): a source that has sent a row of window, and sends its rows
// in window order. It may release mentions, as Add does.
func (j *Joiner) CompleteBefore(table string, window int64) error {
	w, ok := windowIndex(window)
	if !ok {
		return fmt.Errorf("join: %d is not a window id (YYYYMMDDHHMMSS)", window)
	}
	return j.Complete(table, windowID(w-1))
}

// Drain returns the silver rows and window records emitted since the last
// Drain, in emission order. The rows belong to the caller.
func (j *Joiner) Drain() (rows []map[string]any, windows []WindowStats) {
	vals, windows := j.DrainRows()
	return toMaps(j.l.silver.Names, vals), windows
}

// DrainRows is Drain with each silver row as its values in the order of
// SilverLayout (no map per row).
func (j *Joiner) DrainRows() (rows [][]any, windows []WindowStats) {
	if len(j.late) > 0 {
		wins := make([]int64, 0, len(j.late))
		for w := range j.late {
			wins = append(wins, w)
		}
		slices.Sort(wins)
		for _, w := range wins {
			ws := j.late[w]
			ws.JoinRate = joinRate(ws)
			if ws.Completed.IsZero() {
				ws.Completed = j.now()
			}
			j.outWindows = append(j.outWindows, *ws)
		}
		clear(j.late)
	}
	rows, windows = j.out, j.outWindows
	j.out, j.outWindows = nil, nil
	return rows, windows
}

// DrainEvents returns the event rows emitted since its last call (with
// Config.EmitEvents): each stored event once, under the export's column names,
// in window order. The rows belong to the caller.
func (j *Joiner) DrainEvents() []map[string]any {
	return toMaps(j.l.in[tableEvents], j.DrainEventRows())
}

// DrainEventRows is DrainEvents with each row as its values in the export's
// column order.
func (j *Joiner) DrainEventRows() [][]any {
	rows := j.outEvents
	j.outEvents = nil
	return rows
}

// DrainOpened returns the windows that received their first row since its
// last call, in the order they opened, with FirstArrival and the counts as
// they were then.
func (j *Joiner) DrainOpened() []WindowStats {
	ws := j.opened
	j.opened = nil
	return ws
}

func (j *Joiner) eventRow(rec []byte) []any {
	row := make([]any, len(j.l.in[tableEvents]))
	j.l.putEvent(row, rec)
	return row
}

// Flush ends the input: every table is taken as complete through the newest
// window any table has sent, plus the GKG slack, so every pending mention is
// emitted (with whatever GKG rows of the next window arrived). It returns what
// Drain would. Rows may still be added afterwards (a live stream after a
// backfill); rows of windows already emitted then count as late.
func (j *Joiner) Flush() (rows []map[string]any, windows []WindowStats) {
	j.flush()
	return j.Drain()
}

// FlushRows is Flush with rows as DrainRows gives them.
func (j *Joiner) FlushRows() (rows [][]any, windows []WindowStats) {
	j.flush()
	return j.DrainRows()
}

func (j *Joiner) flush() {
	var newest int64
	found := false
	for t := range j.tables {
		if ts := &j.tables[t]; ts.hasRows && (!found || ts.newest > newest) {
			newest, found = ts.newest, true
		}
	}
	if found {
		for t := range j.tables {
			ts := &j.tables[t]
			if !ts.hasComplete || ts.complete < newest+j.slack {
				ts.hasComplete, ts.complete = true, newest+j.slack
			}
		}
		j.advance()
	}
}

// advance recomputes the watermark and emits the windows it releases.
func (j *Joiner) advance() {
	var wm int64
	for t := range j.tables {
		ts := &j.tables[t]
		if !ts.hasComplete {
			return
		}
		if t == 0 || ts.complete < wm {
			wm = ts.complete
		}
	}
	if j.hasMark && wm <= j.watermark {
		return
	}
	j.watermark, j.hasMark = wm, true
	through := wm - j.slack
	if j.hasEmitted && through <= j.emitted {
		return
	}
	// Emit every open window up to through, in window order.
	n := 0
	for _, w := range j.openWins {
		if w > through {
			break
		}
		n++
		ws := j.open[w]
		if p := j.pending[w]; p != nil {
			box := j.boxWindow(w)
			// The mentions of one event side by side (in arrival order
			// among them): the event's columns are decoded once for all of
			// them, and the writer finds each of their values equal to the
			// row before's.
			slices.SortStableFunc(p.mentions, func(a, b mention) int { return cmp.Compare(a.eventID, b.eventID) })
			var last lastEvent
			for k := range p.mentions {
				j.emit(&p.mentions[k], w, box, ws, &last)
			}
			j.pendingMentions -= len(p.mentions)
			j.pendingBytes -= p.bytes
			delete(j.pending, w)
		}
		if a := j.arenas[w]; a != nil && j.cfg.EmitEvents {
			for _, id := range a.ids {
				ev := j.events[id]
				j.outEvents = append(j.outEvents, j.eventRow(a.buf[ev.off:ev.off+ev.n]))
			}
		}
		delete(j.windowBoxes, w)
		ws.Completed = j.now()
		ws.JoinRate = joinRate(ws)
		j.outWindows = append(j.outWindows, *ws)
		delete(j.open, w)
	}
	j.openWins = j.openWins[n:]
	j.emitted, j.hasEmitted = through, true
	j.evict()
}

func joinRate(ws *WindowStats) float64 {
	if ws.Mentions == 0 {
		return 0
	}
	return float64(ws.Complete) / float64(ws.Mentions)
}

// evict drops what no pending or future mention can join: events of windows
// before emitted+1-R, GKG rows of windows before emitted+1-S.
func (j *Joiner) evict() {
	keepEvents := j.emitted + 1 - j.retention
	n := 0
	for _, w := range j.arenaWins {
		if w >= keepEvents {
			break
		}
		n++
		a := j.arenas[w]
		for _, id := range a.ids {
			delete(j.events, id)
		}
		if j.memory > j.retention {
			j.ids.add(w, a.ids)
			j.evictedIDs = append(j.evictedIDs, WindowIDs{Window: windowID(w), IDs: a.ids})
		}
		j.stateEvents -= len(a.ids)
		j.eventBytes -= int64(len(a.buf)) + int64(len(a.ids))*eventOverhead
		j.st.EventsEvicted += uint64(len(a.ids))
		delete(j.arenas, w)
	}
	j.arenaWins = j.arenaWins[n:]
	for _, w := range j.ids.expire(j.emitted + 1 - j.memory) {
		j.forgottenIDs = append(j.forgottenIDs, windowID(w))
	}

	keepGKG := j.emitted + 1 - j.slack
	n = 0
	for _, w := range j.gkgWinList {
		if w >= keepGKG {
			break
		}
		n++
		for _, url := range j.gkgWins[w] {
			rows := j.gkg[url]
			for k := range rows {
				if rows[k].win == w {
					j.gkgBytes -= gkgSize(rows[k].cols)
					rows = slices.Delete(rows, k, k+1)
					break
				}
			}
			if len(rows) == 0 {
				delete(j.gkg, url)
			} else {
				j.gkg[url] = rows
			}
		}
		j.stateGKG -= len(j.gkgWins[w])
		j.st.GKGEvicted += uint64(len(j.gkgWins[w]))
		delete(j.gkgWins, w)
	}
	j.gkgWinList = j.gkgWinList[n:]
}

func gkgSize(cols []any) int64 {
	size := int64(gkgOverhead + 16*len(cols))
	for _, v := range cols {
		if s, ok := v.(string); ok {
			size += int64(len(s))
		}
	}
	return size
}

func (j *Joiner) boxWindow(w int64) any {
	if b, ok := j.windowBoxes[w]; ok {
		return b
	}
	var b any = windowID(w)
	if !j.hasEmitted || w > j.emitted {
		j.windowBoxes[w] = b
	}
	return b
}

// emit joins mention m of window w and queues the silver row.
// lastEvent is the event the last emitted row joined, with its columns.
type lastEvent struct {
	id   int64
	vals []any // nil: none yet
}

// emit joins mention m of window w into a silver row. last, when not nil,
// holds the event of the row emitted before: a mention of the same event
// shares its decoded columns (the values never change once boxed).
func (j *Joiner) emit(m *mention, w int64, window any, ws *WindowStats, last *lastEvent) {
	l := j.l
	row := make([]any, l.total)
	copy(row[:l.nMention], m.cols)
	joined := false
	if ev, ok := j.events[m.eventID]; ok && ev.win <= w && w-ev.win <= j.retention {
		dst := row[l.nMention : l.nMention+l.nEvent]
		if last != nil && last.vals != nil && last.id == m.eventID {
			copy(dst, last.vals)
		} else {
			l.putEvent(dst, j.arenas[ev.win].buf[ev.off:ev.off+ev.n])
			if last != nil {
				last.id, last.vals = m.eventID, dst
			}
		}
		joined = true
	}
	g := j.matchGKG(m, w)
	if g != nil {
		copy(row[l.nMention+l.nEvent:l.total-2], g)
	}
	switch {
	case !joined:
		row[l.total-2] = boxedExpired
		ws.Expired++
		j.st.Expired++
	case g != nil:
		row[l.total-2] = boxedComplete
		ws.Complete++
		j.st.Complete++
	default:
		row[l.total-2] = boxedNoGKG
		ws.NoGKG++
		j.st.NoGKG++
	}
	row[l.total-1] = window
	j.out = append(j.out, row)
}

// matchGKG returns the GKG columns for mention m of window w: the record of
// m's URL in the nearest window within the slack, the earlier on a tie.
func (j *Joiner) matchGKG(m *mention, w int64) []any {
	if m.mtype != 1 || m.url == "" {
		return nil
	}
	var best []any
	var bestDist, bestWin int64
	for _, g := range j.gkg[m.url] {
		d := g.win - w
		if d < 0 {
			d = -d
		}
		if d > j.slack {
			continue
		}
		if best == nil || d < bestDist || (d == bestDist && g.win < bestWin) {
			best, bestDist, bestWin = g.cols, d, g.win
		}
	}
	return best
}

// Stats returns the counters and current state sizes.
func (j *Joiner) Stats() Stats {
	s := j.st
	if j.hasMark {
		s.Watermark = windowID(j.watermark)
	}
	if j.hasEmitted {
		s.Emitted = windowID(j.emitted)
	}
	s.StateEvents = j.stateEvents
	s.StateGKG = j.stateGKG
	s.PendingMentions = j.pendingMentions
	s.StateBytes = j.eventBytes + j.gkgBytes + j.pendingBytes + j.ids.bytes
	s.IDMemoryWindows = len(j.ids.wins)
	s.IDMemoryBytes = j.ids.bytes
	return s
}

// insertSorted inserts w into the sorted slice s (no duplicates expected).
// Windows nearly always arrive at the end.
func insertSorted(s []int64, w int64) []int64 {
	if n := len(s); n == 0 || s[n-1] < w {
		return append(s, w)
	}
	i, found := slices.BinarySearch(s, w)
	if found {
		return s
	}
	return slices.Insert(s, i, w)
}

// WindowIDs is the GLOBALEVENTIDs first seen in one window (an id,
// YYYYMMDDHHMMSS), as evicted from state into the id memory.
type WindowIDs struct {
	Window int64
	IDs    []int64
}

// DrainEvictedIDs returns the windows whose events left the state since its
// last call, with their ids, and the windows the id memory forgot, for a
// caller that persists the memory (so a restarted Joiner can be given it
// back with RememberIDs). The slices belong to the caller.
func (j *Joiner) DrainEvictedIDs() (evicted []WindowIDs, forgotten []int64) {
	evicted, forgotten = j.evictedIDs, j.forgottenIDs
	j.evictedIDs, j.forgottenIDs = nil, nil
	return evicted, forgotten
}

// RememberIDs gives the id memory the ids first seen in window (an id), as a
// previous run evicted them: an export row with one of them in a later window
// is a re-export. Call it before adding rows of windows after it; a window
// already remembered is ignored.
func (j *Joiner) RememberIDs(window int64, ids []int64) error {
	w, ok := windowIndex(window)
	if !ok {
		return fmt.Errorf("join: %d is not a window id (YYYYMMDDHHMMSS)", window)
	}
	if j.ids.has(w) {
		return nil
	}
	j.ids.add(w, ids)
	return nil
}

// IDMemoryWindows returns how many windows before a window W the id memory
// must cover for rows of W: the windows a restarted Joiner should be given
// back with RememberIDs.
func (j *Joiner) IDMemoryWindows() int64 { return j.memory }

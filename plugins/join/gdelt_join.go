package join

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
)

const (
	gjFieldRetention  = "event_retention_windows"
	gjFieldSlack      = "gkg_slack_windows"
	gjFieldPartitions = "partitions"
	gjFieldShard      = "shard"
	gjFieldShards     = "shards"
	gjFieldTxnApp     = "txn_app_id"
	gjFieldIDMemory   = "event_id_memory_windows"
	gjFieldStateCache = "state_cache"
	gjFieldStateKey   = "state_key"
	gjFieldPass       = "pass_through"
	gjFieldStall      = "stall_warning_after"
)

// stallRepeat is the shortest time between two warnings about the same
// stall: often enough to be seen, rarely enough not to flood the log.
const stallRepeat = time.Minute

// The metadata of the messages gdelt_join emits (contract.MetaSilverTable,
// MetaSilverWindow, MetaSilverTxnApp) and of the feed's markers
// (contract.MetaMarker) live in the feed's contract.

// Silver tables, the values of contract.MetaSilverTable.
const (
	SilverEventsDetailed = "events_detailed"
	SilverEvents         = "events"
	AuditWindows         = "audit_windows"
)

// gdeltJoinLint states the cross-field rules for `benthos lint` (the
// constructor checks them too): a shard below the number of shards, and the
// partitions of all three tables or of none.
const gdeltJoinLint = `
let shards = this.shards.or(1)
let shard = this.shard.or(0)
let parts = [this.partitions.export.or(""), this.partitions.mentions.or(""), this.partitions.gkg.or("")].filter(p -> p != "").length()
root = match {
  $shards < 1 => "shards must be at least 1, got %v".format($shards)
  $shard < 0 || $shard >= $shards => "shard %v of %v shards: want 0 <= shard < shards".format($shard, $shards)
  $parts != 0 && $parts != 3 => "partitions: list the partitions of all three tables (export, mentions, gkg), or of none"
}
`

func gdeltJoinSpec() *service.ConfigSpec {
	return service.NewConfigSpec().
		Categories("Integration").
		LintRule(gdeltJoinLint).
		Summary("The silver three-way join of GDELT: events ⋈ mentions ⋈ GKG, one row per mention, windowed by GDELT time, with a per-window audit record.").
		Description(`
Takes rows decoded by `+"`gdelt_decode`"+` (flat GKG) from all three tables, metadata `+"`gdelt_table`"+`, and keeps a window of
state: events by GLOBALEVENTID for `+"`event_retention_windows`"+`, GKG records by document URL for `+"`gkg_slack_windows`"+`
either side of a mention, and the mentions still waiting. The input messages are consumed (with `+"`pass_through`"+`,
passed on unchanged first, for bronze), and the processor emits:

- once a window is complete, every mention of the window joined with its event (`+"`event_*`"+` columns) and its article's
  GKG record (`+"`gkg_*`"+` columns), with `+"`join_status`"+` `+"`complete`"+`, `+"`no_gkg`"+` or `+"`expired`"+` and `+"`window`"+`: metadata
  `+"`silver_table: events_detailed`"+`; every event first seen in the window (a later row with the same GLOBALEVENTID,
  within `+"`event_id_memory_windows`"+`, is a re-export and is dropped), once, typed as decoded (`+"`silver_table: events`"+`),
  for the events whose GLOBALEVENTID modulo `+"`shards`"+` is `+"`shard`"+`; and the window's audit record, status
  `+"`SILVER_COMPLETE`"+` (`+"`silver_table: audit_windows`"+`), last;
- when a window receives its first row, an audit record with status `+"`WAITING`"+`.

Everything made from one input batch goes out as one batch. Every emitted message carries `+"`silver_window`"+` (the
window id) and `+"`silver_txn_app`"+`: give both to `+"`delta_lake`"+` as `+"`progress: custom`"+` (`+"`version`"+` and `+"`app_id`"+`) so
each window is committed exactly once per table. Each table must receive its messages in order (one `+"`switch`"+`
case per table, as the `+"`gdelt_lake`"+` output does; not a `+"`fan_out_sequential`"+` broker, which lets one batch
overtake another): a later stage knows that window W is whole in silver when the three tables' txns have reached W.

### Time
Time moves with GDELT window ids, never the wall clock, so a backfill and a live run give the same rows. A window W
is emitted once every table is complete through W + `+"`gkg_slack_windows`"+`. A table is complete through a window when:
- without `+"`partitions`"+`: it has sent a row of a later window, or a `+"`gdelt_feed`"+` marker (`+"`window_markers: true`"+`) ended
  the window; the marker of the end of a backfill emits everything;
- with `+"`partitions`"+` (Kafka): every listed partition of its topic (metadata `+"`kafka_partition`"+`) has sent a row of a later
  window, or a `+"`window_end`"+` marker of the window or a later one: a record with metadata `+"`gdelt_marker: window_end`"+`,
  `+"`gdelt_window`"+` and `+"`gdelt_table`"+`, which `+"`gdelt_kafka_route`"+` puts in every partition of every topic at the end of each
  window, so that a partition that got no row of a window (a missing GKG file, a quiet partition) does not hold every
  window back. An `+"`end`"+` marker (`+"`gdelt_marker: end`"+`) received from every listed partition of every table emits
  everything pending, as the end of a backfill does without partitions. Rows and markers must be in window order within
  a partition, as `+"`gdelt_feed`"+` → `+"`gdelt_kafka_route`"+` → Kafka produces them.

A window held back (windows pending and the watermark still) for `+"`stall_warning_after`"+` of wall time is logged at
warn level, at most once a minute while it lasts, naming the tables and partitions it waits for and the newest window
each has sent.

### Restarts and replays
The state lives in memory. With a `+"`gdelt_feed`"+` or a `+"`gdelt_topics`"+` input in the stream and a `+"`state_cache`"+`, the join also stores in the cache, for
each window it emits, the events first sighted in it (`+"`<state_key>/events/<window>`"+`, deleted once no restart can
need them) and a manifest (`+"`<state_key>/events/manifest`"+`). After a restart it restores the events of the windows the
feed's checkpoint proves committed (a window's output travels with a row or marker at most `+"`gkg_slack_windows`"+` + 1
windows later; `+"`gdelt_topics`"+` tells the committed window from its stored resume point) and asks the input to read
again only the windows after them, less the GKG slack: 2 × slack + 1 windows (3) instead of the retention + slack + 1
(194). Without a usable manifest (none, another retention, slack or schema) it asks for the full rewind and rebuilds
the state from the rows read again. Windows already committed are skipped by the Delta txn. A row whose source position (`+"`gdelt_window`"+`/`+"`gdelt_line`"+` within its table and `+"`kafka_partition`"+`, else `+"`kafka_offset`"+`) is not past the last one
taken from its source is a redelivery and is dropped (`+"`gdelt_join_replayed_rows`"+`). Outputs should not nack (set
`+"`delta_lake.commit_attempts: 0`"+`): a nacked window is only written again after a restart.

Messages with an error (e.g. from `+"`gdelt_decode`"+`) pass through unchanged; a row the join cannot use (a missing or
mistyped key or window column) is passed through with an error.

### Metrics
`+"`gdelt_join_rows`"+` (label `+"`status`"+`), `+"`gdelt_join_input_rows`"+`, `+"`gdelt_join_rejected_rows`"+`, `+"`gdelt_join_late_rows`"+`,
`+"`gdelt_join_replayed_rows`"+`, `+"`gdelt_join_duplicate_rows`"+` (label `+"`table`"+`), `+"`gdelt_join_events_evicted`"+`,
`+"`gdelt_join_windows_completed`"+`; gauges `+"`gdelt_join_window_join_rate`"+` (the last completed window's complete / mentions),
`+"`gdelt_join_window_mentions`"+`, `+"`gdelt_join_state_events`"+`, `+"`gdelt_join_state_gkg`"+`, `+"`gdelt_join_pending_mentions`"+`,
`+"`gdelt_join_state_bytes`"+`, `+"`gdelt_join_watermark`"+` and `+"`gdelt_join_emitted_window`"+` (unix seconds),
`+"`gdelt_join_watermark_lag_seconds`"+` (the newest window received minus the watermark), `+"`gdelt_join_pending_windows`"+`
(windows received and not yet emitted). Every metric exists from the start (gauges at 0, counters with each label at 0), so
an alert on `+"`time() - gdelt_join_watermark`"+` fires even when no window was ever completed.`).
		Fields(
			service.NewIntField(gjFieldRetention).
				Description("How many windows after its own an event still joins mentions: 192 = 48 hours. Memory grows with it.").
				Default(192),
			service.NewIntField(gjFieldSlack).
				Description("A mention's GKG record may be this many windows before or after the mention's window; the output waits as long.").
				Default(1).Advanced(),
			service.NewObjectField(gjFieldPartitions,
				service.NewStringField("export").Description("Partitions of the events topic this replica reads, e.g. `0-5`.").Default(""),
				service.NewStringField("mentions").Description("Partitions of the mentions topic, e.g. `0-2`.").Default(""),
				service.NewStringField("gkg").Description("Partitions of the GKG topic (the same as mentions: they are co-partitioned by URL).").Default(""),
			).Description("With Kafka input: the partitions read, per table, as lists (`0,2,4`) or ranges (`0-5`). Completion is then tracked per partition. Empty: not partitioned (`gdelt_feed`).").Advanced(),
			service.NewIntField(gjFieldShard).Description("This replica's index, from 0, when `shards` replicas split the work.").Default(0),
			service.NewIntField(gjFieldShards).Description("How many replicas split the work. Each replica writes the events of its share of GLOBALEVENTIDs and its own audit rows.").Default(1),
			service.NewStringField(gjFieldTxnApp).
				Description("The txn appId stem of this replica's writes (metadata `silver_txn_app`); empty: `silver-<shard>-of-<shards>`. Keep it when restarting a replica.").
				Default("").Advanced(),
			service.NewIntField(gjFieldIDMemory).
				Description("How many windows after its own an event's GLOBALEVENTID is remembered: an export row with a remembered id is a re-export and is dropped, so the event keeps its first sighting (one row in `silver/events`, later mentions joined or expired by the first sighting's window). 2880 = 30 days; ids past the retention cost about one bit each (GDELT assigns them in sequence). Persist them across restarts with `state_cache`.").
				Default(2880).Advanced(),
			service.NewStringField(gjFieldStateCache).
				Description("A cache resource that keeps the id memory (the ids of events that left the state, one item per window) across restarts, so a restarted replica treats re-exports as an uninterrupted one would; and, with a `gdelt_feed` or `gdelt_topics` input in the stream, the snapshots of the events in state (one item per window, and a manifest), so that a restart restores them and the input reads again 2 × `gkg_slack_windows` + 1 windows instead of the retention (see Restarts and replays). Empty: the memory and the state start empty at each start.").
				Default("").Example("checkpoints"),
			service.NewStringField(gjFieldStateKey).
				Description("The key prefix of this replica's items in `state_cache`; empty: `gdelt_join/<txn app id>`.").
				Default("").Advanced(),
			service.NewBoolField(gjFieldPass).
				Description("Also pass every input message on unchanged (rows, markers, errors), before the silver batches: one read of the feed then feeds both the bronze tables and silver. Off: the input rows are consumed.").
				Default(false),
			service.NewDurationField(gjFieldStall).
				Description("Log a warning when windows are pending and the watermark has not moved for this long (wall time), naming the tables and partitions the oldest pending window waits for; repeated at most once a minute while it lasts. Live, the watermark moves once per GDELT window (15 minutes): keep it above that. `0s`: never.").
				Default("30m"),
		).
		Example("From the feed, to three Delta tables", "", `
pipeline:
  threads: 1
  processors:
    - gdelt_decode: {}
    - gdelt_join: {}
output:
  switch:
    cases:
      - check: '@silver_table == "events_detailed"'
        output:
          delta_lake:
            path: ./out/silver/events_detailed
            gdelt_table: silver
            progress: custom
            app_id: '${! @silver_txn_app }'
            version: '${! @silver_window }'
            commit_attempts: 0
`)
}

func init() {
	err := service.RegisterBatchProcessor("gdelt_join", gdeltJoinSpec(),
		func(pc *service.ParsedConfig, mgr *service.Resources) (service.BatchProcessor, error) {
			return newGDELTJoinFromParsed(pc, mgr)
		})
	if err != nil {
		panic(err)
	}
}

// source identifies where a row came from, for completion and redelivery.
type source struct {
	table     int
	partition int32 // -1 without Kafka
}

// partState is what one partition of one table has told the join
// (partitioned mode).
type partState struct {
	newest     int64 // newest window id it sent, in a row or a window_end marker; 0: none
	through    int64 // the window index it is complete through, when hasThrough
	hasThrough bool
	ends       int // end markers received
}

type gdeltJoinProc struct {
	mgr  *service.Resources
	pass bool
	// rowForm: the input rows came as values (metadata gdelt_row), so the
	// output rows go out the same way.
	rowForm bool
	cache   string // state_cache: the id memory's store
	key     string // its key prefix
	loaded  bool   // the id memory was loaded from the cache
	mu      sync.Mutex
	j       *Joiner
	log     *service.Logger
	shard   int64
	shards  int64
	app     string
	parts   [3][]int32 // declared partitions per table; nil: not partitioned

	snap       snapshotState         // the events' snapshots in the state cache
	partState  map[source]*partState // partitioned mode
	flushes    int                   // end markers acted on (partitioned mode)
	lastPos    map[source]int64      // last position taken per source
	maxWaiting int64
	lastStats  Stats
	templates  map[templateKey]*service.Message // per collect call
	now        func() time.Time

	// Stall warnings: the wall time since which the watermark has held back
	// pending windows, and when that was last logged.
	stallAfter          time.Duration
	heldSince, lastWarn time.Time
	heldMark            int64
	wasPending          bool
	warnf               func(format string, args ...any)
	stop, watcherDone   chan struct{}
	closeOnce           sync.Once

	mRows, mInput, mRejected, mLate, mReplayed, mDup *service.MetricCounter
	mEvicted, mWindows                               *service.MetricCounter
	gRate, gWinMentions, gEvents, gGKG, gPending     *service.MetricGauge
	gBytes, gWatermark, gEmitted, gLag, gPendingWins *service.MetricGauge
}

var windowColumns = [3]string{"date_added", "mention_time_date", "date"}

func newGDELTJoinFromParsed(pc *service.ParsedConfig, mgr *service.Resources) (*gdeltJoinProc, error) {
	cfg := DefaultConfig()
	var err error
	if cfg.EventRetentionWindows, err = pc.FieldInt(gjFieldRetention); err != nil {
		return nil, err
	}
	if cfg.GKGWindowSlack, err = pc.FieldInt(gjFieldSlack); err != nil {
		return nil, err
	}
	if cfg.EventIDMemoryWindows, err = pc.FieldInt(gjFieldIDMemory); err != nil {
		return nil, err
	}
	cfg.EmitEvents = true
	p := &gdeltJoinProc{mgr: mgr, log: mgr.Logger(), partState: map[source]*partState{}, lastPos: map[source]int64{}, now: time.Now}
	p.warnf = p.log.Warnf
	if p.pass, err = pc.FieldBool(gjFieldPass); err != nil {
		return nil, err
	}
	if p.cache, err = pc.FieldString(gjFieldStateCache); err != nil {
		return nil, err
	}
	if p.cache != "" && !mgr.HasCache(p.cache) {
		return nil, fmt.Errorf("%s: cache resource %q not found", gjFieldStateCache, p.cache)
	}
	if p.key, err = pc.FieldString(gjFieldStateKey); err != nil {
		return nil, err
	}
	shard, err := pc.FieldInt(gjFieldShard)
	if err != nil {
		return nil, err
	}
	shards, err := pc.FieldInt(gjFieldShards)
	if err != nil {
		return nil, err
	}
	if shards < 1 || shard < 0 || shard >= shards {
		return nil, fmt.Errorf("shard %d of %d: want 0 <= shard < shards", shard, shards)
	}
	p.shard, p.shards = int64(shard), int64(shards)
	if p.app, err = pc.FieldString(gjFieldTxnApp); err != nil {
		return nil, err
	}
	if p.stallAfter, err = pc.FieldDuration(gjFieldStall); err != nil {
		return nil, err
	}
	if p.stallAfter < 0 {
		return nil, fmt.Errorf("%s: %s is negative", gjFieldStall, p.stallAfter)
	}
	if p.app == "" {
		p.app = fmt.Sprintf("silver-%d-of-%d", shard, shards)
	}
	if p.key == "" {
		p.key = "gdelt_join/" + p.app
	}
	pn := pc.Namespace(gjFieldPartitions)
	set := 0
	for t, name := range []string{"export", "mentions", "gkg"} {
		s, err := pn.FieldString(name)
		if err != nil {
			return nil, err
		}
		if s == "" {
			continue
		}
		if p.parts[t], err = parsePartitions(s); err != nil {
			return nil, fmt.Errorf("partitions.%s: %w", name, err)
		}
		set++
	}
	if set != 0 && set != 3 {
		return nil, fmt.Errorf("partitions: list the partitions of all three tables, or of none")
	}
	cfg.ExplicitCompletion = set == 3
	if p.j, err = New(cfg); err != nil {
		return nil, err
	}
	// A gdelt_feed in this stream rewinds and reads ahead as the join needs:
	// the state of the retention and the GKG slack rebuilt after a restart,
	// and the window after a backfill's last one, which completes it.
	// With a state cache, the join restores its events from snapshots and
	// asks for less (gdelt_join_snapshot.go): of a gdelt_feed, or of the
	// gdelt_topics input that reads the Kafka topics.
	needs := gdelt.ConsumerNeeds{
		Rewind:    cfg.EventRetentionWindows + cfg.GKGWindowSlack + 1,
		Lookahead: cfg.GKGWindowSlack,
	}
	if p.cache != "" {
		needs.RewindFrom, needs.Acknowledged = p.rewindFrom, p.acknowledged
	}
	gdelt.RegisterConsumer(mgr, "gdelt_join", needs)
	m := mgr.Metrics()
	p.mRows = m.NewCounter("gdelt_join_rows", "status")
	p.mInput = m.NewCounter("gdelt_join_input_rows", "table")
	p.mRejected = m.NewCounter("gdelt_join_rejected_rows", "table")
	p.mLate = m.NewCounter("gdelt_join_late_rows", "table")
	p.mReplayed = m.NewCounter("gdelt_join_replayed_rows", "table")
	p.mDup = m.NewCounter("gdelt_join_duplicate_rows", "table")
	p.mEvicted = m.NewCounter("gdelt_join_events_evicted")
	p.mWindows = m.NewCounter("gdelt_join_windows_completed")
	p.gRate = m.NewGauge("gdelt_join_window_join_rate")
	p.gWinMentions = m.NewGauge("gdelt_join_window_mentions")
	p.gEvents = m.NewGauge("gdelt_join_state_events")
	p.gGKG = m.NewGauge("gdelt_join_state_gkg")
	p.gPending = m.NewGauge("gdelt_join_pending_mentions")
	p.gBytes = m.NewGauge("gdelt_join_state_bytes")
	p.gWatermark = m.NewGauge("gdelt_join_watermark")
	p.gEmitted = m.NewGauge("gdelt_join_emitted_window")
	p.gLag = m.NewGauge("gdelt_join_watermark_lag_seconds")
	p.gPendingWins = m.NewGauge("gdelt_join_pending_windows")
	// Every series exists before the first window, so that alerts on them
	// (time() - gdelt_join_watermark) fire on a join that never completes one.
	for _, g := range []*service.MetricGauge{p.gRate, p.gWinMentions, p.gEvents, p.gGKG, p.gPending, p.gBytes,
		p.gWatermark, p.gEmitted, p.gLag, p.gPendingWins} {
		g.Set(0)
	}
	for _, st := range []string{StatusComplete, StatusNoGKG, StatusExpired} {
		p.mRows.Incr(0, st)
	}
	for _, t := range schema.Tables() {
		for _, c := range []*service.MetricCounter{p.mInput, p.mRejected, p.mLate, p.mReplayed} {
			c.Incr(0, t.Name)
		}
	}
	p.mDup.Incr(0, "export")
	p.mDup.Incr(0, "gkg")
	p.mEvicted.Incr(0)
	p.mWindows.Incr(0)

	p.heldSince = p.now()
	p.stop, p.watcherDone = make(chan struct{}), make(chan struct{})
	if p.stallAfter > 0 {
		go p.watch(min(max(p.stallAfter/4, 100*time.Millisecond), 15*time.Second))
	} else {
		close(p.watcherDone)
	}
	return p, nil
}

// parsePartitions reads "0-5", "0,2,4" or "3".
func parsePartitions(s string) ([]int32, error) {
	var out []int32
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseInt(strings.TrimSpace(lo), 10, 32)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("%q is not a partition number or range", part)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseInt(strings.TrimSpace(hi), 10, 32); err != nil || b < a {
				return nil, fmt.Errorf("%q is not a partition range", part)
			}
		}
		for n := a; n <= b; n++ {
			if !slices.Contains(out, int32(n)) {
				out = append(out, int32(n))
			}
		}
	}
	return out, nil
}

func (p *gdeltJoinProc) ProcessBatch(ctx context.Context, batch service.MessageBatch) ([]service.MessageBatch, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var passed, refused service.MessageBatch
	if p.pass {
		passed = batch
	}
	keep := func(m *service.Message) {
		if !p.pass {
			passed = append(passed, m)
		}
	}
	for _, m := range batch {
		if m.GetError() != nil {
			keep(m)
			continue
		}
		if _, repair := m.MetaGet(contract.MetaRepair); repair {
			keep(m) // a repaired file of an old window: for bronze, not the join
			continue
		}
		if mk, ok := m.MetaGet(contract.MetaMarker); ok {
			if err := p.marker(m, mk); err != nil {
				p.log.Errorf("%v", err)
				if !p.pass {
					m.SetError(err)
					passed = append(passed, m)
				}
			}
			continue
		}
		if err := p.add(ctx, m); err != nil {
			if p.pass {
				// The row goes on to bronze as it is; a copy records the
				// join's refusal.
				m = m.Copy()
				refused = append(refused, m)
			} else {
				passed = append(passed, m)
			}
			m.SetError(err)
			m.MetaSetMut(contract.MetaErrorStage, "join")
			m.MetaSetMut(contract.MetaErrorReason, "join_refused")
		}
	}
	p.persistIDs(ctx)
	p.storeSnapshots(ctx)
	// One batch out: with several, the engine's pipeline thread would wait
	// for all of them to be acknowledged (a bronze commit period, a silver
	// commit) before taking the next input batch. An output switch splits it
	// by table; rows of several windows may then share a commit, which keeps
	// one txn per appId at the highest window: still exactly once.
	all := append(service.MessageBatch(nil), passed...)
	for _, b := range p.collect() {
		all = append(all, b...)
	}
	all = append(all, refused...)
	if len(all) == 0 {
		return nil, nil
	}
	return []service.MessageBatch{all}, nil
}

// loadIDs gives the joiner the id memory a previous run persisted: the
// windows before the first one this run receives, back to the memory's
// horizon. A missing item is a window without events.
func (p *gdeltJoinProc) loadIDs(ctx context.Context, first int64) {
	p.loaded = true
	if p.cache == "" {
		return
	}
	idx, ok := windowIndex(first)
	if !ok {
		return
	}
	n, windows := 0, 0
	err := p.mgr.AccessCache(ctx, p.cache, func(c service.Cache) {
		for w := idx - p.j.IDMemoryWindows(); w < idx; w++ {
			b, err := c.Get(ctx, p.idKey(windowID(w)))
			if err != nil {
				continue
			}
			ids, err := DecodeIDs(b)
			if err != nil {
				p.log.Warnf("gdelt_join: id memory item %s: %v (ignored)", p.idKey(windowID(w)), err)
				continue
			}
			if err := p.j.RememberIDs(windowID(w), ids); err == nil {
				n += len(ids)
				windows++
			}
		}
	})
	if err != nil {
		p.log.Warnf("gdelt_join: loading the id memory from cache %q: %v; re-exports of events first seen before window %d will count as new", p.cache, err, first)
		return
	}
	p.log.Infof("gdelt_join: id memory: %d ids of %d windows before window %d loaded from cache %q", n, windows, first, p.cache)
}

// persistIDs stores the ids of the windows the joiner evicted and deletes the
// windows it forgot. It runs before the batch is acknowledged, so the feed's
// checkpoint never passes a window whose ids are not stored.
func (p *gdeltJoinProc) persistIDs(ctx context.Context) {
	evicted, forgotten := p.j.DrainEvictedIDs()
	if p.cache == "" || (len(evicted) == 0 && len(forgotten) == 0) {
		return
	}
	err := p.mgr.AccessCache(ctx, p.cache, func(c service.Cache) {
		for _, e := range evicted {
			if err := c.Set(ctx, p.idKey(e.Window), EncodeIDs(e.IDs), nil); err != nil {
				p.log.Warnf("gdelt_join: storing the id memory of window %d: %v", e.Window, err)
			}
		}
		for _, w := range forgotten {
			_ = c.Delete(ctx, p.idKey(w))
		}
	})
	if err != nil {
		p.log.Warnf("gdelt_join: storing the id memory in cache %q: %v", p.cache, err)
	}
}

func (p *gdeltJoinProc) idKey(window int64) string {
	return p.key + "/ids/" + strconv.FormatInt(window, 10)
}

func (p *gdeltJoinProc) marker(m *service.Message, kind string) error {
	if p.j.cfg.ExplicitCompletion {
		return p.partitionMarker(m, kind)
	}
	switch kind {
	case contract.MarkerEnd:
		p.j.flush() // collect drains
		return nil
	case contract.MarkerWindowEnd:
		ws, _ := m.MetaGet(contract.MetaWindow)
		w, err := strconv.ParseInt(ws, 10, 64)
		if err != nil {
			return fmt.Errorf("gdelt_join: window_end marker: gdelt_window %q is not a window id", ws)
		}
		for _, t := range []string{"export", "mentions", "gkg"} {
			if err := p.j.Complete(t, w); err != nil {
				return fmt.Errorf("gdelt_join: window_end marker: %w", err)
			}
		}
		return nil
	}
	return fmt.Errorf("gdelt_join: unknown %s %q", contract.MetaMarker, kind)
}

// partitionMarker takes a marker read from Kafka (gdelt_kafka_route put it
// in every partition): window_end completes its partition through the
// window; end, once every partition of every table has sent one, emits
// everything pending.
func (p *gdeltJoinProc) partitionMarker(m *service.Message, kind string) error {
	tname, _ := m.MetaGet(contract.MetaTable)
	t, err := tableIndex(tname)
	if err != nil {
		return fmt.Errorf("gdelt_join: %s marker: metadata gdelt_table: %w", kind, err)
	}
	if _, ok := m.MetaGet(contract.KafkaPartition); !ok {
		return fmt.Errorf("gdelt_join: %s marker of %s without kafka_partition: with partitions set, markers must come from Kafka (gdelt_kafka_route)", kind, tname)
	}
	src, err := p.source(m, t, tname)
	if err != nil {
		return err
	}
	switch kind {
	case contract.MarkerWindowEnd:
		ws, _ := m.MetaGet(contract.MetaWindow)
		w, err := strconv.ParseInt(ws, 10, 64)
		idx, ok := windowIndex(w)
		if err != nil || !ok {
			return fmt.Errorf("gdelt_join: window_end marker of %s partition %d: gdelt_window %q is not a window id", tname, src.partition, ws)
		}
		p.partitionAt(src, w, idx)
	case contract.MarkerEnd:
		p.part(src).ends++
		p.flushIfEnded()
	default:
		return fmt.Errorf("gdelt_join: unknown %s %q", contract.MetaMarker, kind)
	}
	return nil
}

// source tells where a message came from: its table and, in partitioned
// mode, its Kafka partition, which must be one of the table's.
func (p *gdeltJoinProc) source(m *service.Message, t int, tname string) (source, error) {
	src := source{table: t, partition: -1}
	if ps, ok := m.MetaGet(contract.KafkaPartition); ok && p.parts[t] != nil {
		n, err := strconv.ParseInt(ps, 10, 32)
		if err != nil {
			return src, fmt.Errorf("gdelt_join: kafka_partition %q is not an integer", ps)
		}
		src.partition = int32(n)
		if !slices.Contains(p.parts[t], src.partition) {
			return src, fmt.Errorf("gdelt_join: a %s record from partition %d, which is not in partitions.%s", tname, n, schema.Tables()[t].Name)
		}
	}
	return src, nil
}

func (p *gdeltJoinProc) part(src source) *partState {
	st := p.partState[src]
	if st == nil {
		st = &partState{}
		p.partState[src] = st
	}
	return st
}

// partitionAt records that src sent window id w and is complete through
// window index through, and completes its table as far as all its
// partitions allow.
func (p *gdeltJoinProc) partitionAt(src source, w, through int64) {
	st := p.part(src)
	st.newest = max(st.newest, w)
	if st.hasThrough && through <= st.through {
		return
	}
	st.through, st.hasThrough = through, true
	p.completeTable(src.table)
}

// flushIfEnded emits everything pending once every partition of every
// table has sent one more end marker than was acted on.
func (p *gdeltJoinProc) flushIfEnded() {
	low := -1
	for t := range p.parts {
		for _, part := range p.parts[t] {
			n := 0
			if st := p.partState[source{table: t, partition: part}]; st != nil {
				n = st.ends
			}
			if low < 0 || n < low {
				low = n
			}
		}
	}
	if low > p.flushes {
		p.flushes = low
		p.j.flush() // collect drains
	}
}

func (p *gdeltJoinProc) add(ctx context.Context, m *service.Message) error {
	tname, _ := m.MetaGet(contract.MetaTable)
	t, err := tableIndex(tname)
	if err != nil {
		return fmt.Errorf("gdelt_join: metadata gdelt_table: %w", err)
	}
	src, err := p.source(m, t, tname)
	if err != nil {
		return err
	}
	// A row's position in its source: its window and line in the feed (which
	// ingest carries into Kafka as headers, so a window ingest re-sent after a
	// crash is recognised at its new offsets), else its Kafka offset.
	pos, hasPos := int64(0), false
	if ws, ok := m.MetaGet(contract.MetaWindow); ok {
		ls, _ := m.MetaGet(contract.MetaLine)
		w, err1 := strconv.ParseInt(ws, 10, 64)
		l, err2 := strconv.ParseInt(ls, 10, 64)
		if idx, ok := windowIndex(w); ok && err1 == nil && err2 == nil && l >= 0 && l < 1_000_000_000 {
			pos, hasPos = idx*1_000_000_000+l, true
		}
	}
	if os, ok := m.MetaGet(contract.KafkaOffset); ok && !hasPos {
		if pos, err = strconv.ParseInt(os, 10, 64); err == nil {
			hasPos = true
		}
	}
	if hasPos {
		if last, ok := p.lastPos[src]; ok && pos <= last {
			p.mReplayed.Incr(1, schema.Tables()[t].Name)
			return nil
		}
	}
	// The row: values in column order (gdelt_decode's `form: row`), else a
	// structured object.
	var window int64
	if rv, ok := m.MetaGetMut(contract.MetaRow); ok {
		r, ok := rv.(*schema.Row)
		if !ok || r == nil || r.Layout == nil {
			return fmt.Errorf("gdelt_join: %s row: metadata %s holds %T, want a decoded row", tname, contract.MetaRow, rv)
		}
		p.rowForm = true
		if i := r.Layout.Index(windowColumns[t]); i >= 0 && i < len(r.Values) {
			window, _ = r.Values[i].(int64)
		}
		if window != 0 {
			if !p.loaded {
				p.loadIDs(ctx, window)
			}
			p.noteWindow(window)
		}
		if err := p.j.AddRow(tname, r.Layout, r.Values); err != nil {
			p.mRejected.Incr(1, schema.Tables()[t].Name)
			return err
		}
	} else {
		v, err := m.AsStructured()
		if err != nil {
			return fmt.Errorf("gdelt_join: %s row is not structured: %w", tname, err)
		}
		row, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("gdelt_join: %s row: want an object, got %T", tname, v)
		}
		window, _ = row[windowColumns[t]].(int64)
		if window != 0 {
			if !p.loaded {
				p.loadIDs(ctx, window)
			}
			p.noteWindow(window)
		}
		if err := p.j.Add(tname, row); err != nil {
			p.mRejected.Incr(1, schema.Tables()[t].Name)
			return err
		}
	}
	p.mInput.Incr(1, schema.Tables()[t].Name)
	if hasPos {
		p.lastPos[src] = pos
	}
	if p.j.cfg.ExplicitCompletion && src.partition >= 0 {
		// A row of window w: its partition (in window order) has sent
		// every row of the windows before.
		if idx, ok := windowIndex(window); ok {
			p.partitionAt(src, window, idx-1)
		}
	}
	return nil
}

// completeTable: the table is complete through the lowest window its
// partitions are complete through, once each has told.
func (p *gdeltJoinProc) completeTable(t int) {
	var low int64
	for i, part := range p.parts[t] {
		st := p.partState[source{table: t, partition: part}]
		if st == nil || !st.hasThrough {
			return
		}
		if i == 0 || st.through < low {
			low = st.through
		}
	}
	if err := p.j.Complete(schema.Tables()[t].Name, windowID(low)); err != nil {
		p.log.Errorf("gdelt_join: %v", err)
	}
}

// collect turns what the joiner emitted into batches: the WAITING records,
// then one batch per completed window.
func (p *gdeltJoinProc) collect() []service.MessageBatch {
	rows, wins := p.j.DrainRows()
	p.templates = map[templateKey]*service.Message{}
	opened := p.j.DrainOpened()
	now := p.now()
	var out []service.MessageBatch

	var waiting service.MessageBatch
	for _, ws := range opened {
		if ws.Window <= p.maxWaiting {
			continue // a window opened late: its SILVER_COMPLETE record will tell
		}
		p.maxWaiting = ws.Window
		waiting = append(waiting, p.message(AuditRow(ws, StatusWaiting, strconv.FormatInt(p.shard, 10), int(p.shards), now), AuditWindows, ws.Window, p.app+"-waiting"))
	}
	if len(waiting) > 0 {
		out = append(out, waiting)
	}

	byWin := map[int64]service.MessageBatch{}
	var order []int64
	add := func(w int64, m *service.Message) {
		b, ok := byWin[w]
		if !ok {
			order = append(order, w)
		}
		byWin[w] = append(b, m)
	}
	silver, events := p.j.SilverLayout(), p.j.EventLayout()
	for _, r := range rows {
		w := r[len(r)-1].(int64) // the window column, last
		add(w, p.rowMessage(silver, r, SilverEventsDetailed, w))
	}
	owned := map[int64]int{} // events written by this shard, per window
	idCol, winCol := events.Index("global_event_id"), events.Index("date_added")
	for _, ev := range p.j.DrainEventRows() {
		id, _ := ev[idCol].(int64)
		if ((id%p.shards)+p.shards)%p.shards != p.shard {
			continue
		}
		w := ev[winCol].(int64)
		owned[w]++
		add(w, p.rowMessage(events, ev, SilverEvents, w))
	}
	for _, ws := range wins {
		if ws.Late {
			p.log.Warnf("gdelt_join: window %d got rows after it was emitted (events %d, mentions %d, gkg %d); its silver rows are written only if its commit had not happened", ws.Window, ws.Events, ws.Mentions, ws.GKG)
			continue
		}
		// Every replica reads every event: its audit counts the events it
		// writes, so the shards' rows add up.
		ws.Events = owned[ws.Window]
		p.mWindows.Incr(1)
		p.mRows.Incr(int64(ws.Complete), StatusComplete)
		p.mRows.Incr(int64(ws.NoGKG), StatusNoGKG)
		p.mRows.Incr(int64(ws.Expired), StatusExpired)
		p.gRate.SetFloat64(ws.JoinRate)
		p.gWinMentions.Set(int64(ws.Mentions))
		p.log.Infof("gdelt_join: window %d joined: %d mentions (complete %d, no_gkg %d, expired %d: join rate %.3f), %d events, %d GKG rows",
			ws.Window, ws.Mentions, ws.Complete, ws.NoGKG, ws.Expired, ws.JoinRate, ws.Events, ws.GKG)
		add(ws.Window, p.message(AuditRow(ws, StatusSilverComplete, strconv.FormatInt(p.shard, 10), int(p.shards), now), AuditWindows, ws.Window, p.app))
	}
	slices.Sort(order)
	for _, w := range order {
		out = append(out, byWin[w])
	}
	p.metrics()
	return out
}

// message wraps a row with its metadata. The messages of one table, window
// and appId are copies of one template: they share its metadata (copied on
// write), which saves a map per row.
func (p *gdeltJoinProc) message(row map[string]any, table string, window int64, app string) *service.Message {
	m := p.template(table, window, app).Copy()
	m.SetStructuredMut(row)
	return m
}

func (p *gdeltJoinProc) template(table string, window int64, app string) *service.Message {
	k := templateKey{table, window, app}
	t := p.templates[k]
	if t == nil {
		t = service.NewMessage(nil)
		t.MetaSetMut(contract.MetaSilverTable, table)
		t.MetaSetMut(contract.MetaSilverWindow, strconv.FormatInt(window, 10))
		t.MetaSetMut(contract.MetaSilverTxnApp, app)
		p.templates[k] = t
	}
	return t
}

// rowMessage is message for a row given as values in layout's order: in the
// form the input rows came in (a schema.Row in metadata gdelt_row when they
// came so, else a structured object).
func (p *gdeltJoinProc) rowMessage(ly *schema.Layout, vals []any, table string, window int64) *service.Message {
	if !p.rowForm {
		m := make(map[string]any, len(ly.Names))
		for i, name := range ly.Names {
			m[name] = vals[i]
		}
		return p.message(m, table, window, p.app)
	}
	m := p.template(table, window, p.app).Copy()
	m.MetaSetMut(contract.MetaRow, &schema.Row{Layout: ly, Values: vals})
	return m
}

type templateKey struct {
	table  string
	window int64
	app    string
}

func (p *gdeltJoinProc) metrics() {
	s := p.j.Stats()
	prev := p.lastStats
	p.lastStats = s
	for _, l := range []struct {
		table string
		n     uint64
	}{{"export", s.Late.Events - prev.Late.Events}, {"mentions", s.Late.Mentions - prev.Late.Mentions}, {"gkg", s.Late.GKG - prev.Late.GKG}} {
		if l.n > 0 {
			p.mLate.Incr(int64(l.n), l.table)
		}
	}
	if d := s.DuplicateEvents - prev.DuplicateEvents; d > 0 {
		p.mDup.Incr(int64(d), "export")
	}
	if d := s.DuplicateGKG - prev.DuplicateGKG; d > 0 {
		p.mDup.Incr(int64(d), "gkg")
	}
	if d := s.EventsEvicted - prev.EventsEvicted; d > 0 {
		p.mEvicted.Incr(int64(d))
	}
	p.gEvents.Set(int64(s.StateEvents))
	p.gGKG.Set(int64(s.StateGKG))
	p.gPending.Set(int64(s.PendingMentions))
	p.gBytes.Set(s.StateBytes)
	if wm, ok := windowIndex(s.Watermark); ok {
		p.gWatermark.Set(wm * windowSeconds)
		var newest int64
		for t := range p.j.tables {
			if ts := p.j.tables[t]; ts.hasRows && ts.newest > newest {
				newest = ts.newest
			}
		}
		if newest >= wm {
			p.gLag.Set((newest - wm) * windowSeconds)
		}
	}
	if em, ok := windowIndex(s.Emitted); ok {
		p.gEmitted.Set(em * windowSeconds)
	}
	p.gPendingWins.Set(int64(len(p.j.openWins)))

	// The stall clock restarts whenever the watermark moves, and when
	// windows start pending after none was.
	pending := len(p.j.openWins) > 0
	if s.Watermark != p.heldMark || (pending && !p.wasPending) {
		p.heldMark, p.heldSince = s.Watermark, p.now()
	}
	p.wasPending = pending
}

// watch checks for a stall every tick until Close.
func (p *gdeltJoinProc) watch(every time.Duration) {
	defer close(p.watcherDone)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
			p.mu.Lock()
			p.checkStall()
			p.mu.Unlock()
		}
	}
}

// checkStall logs, at most once per stallRepeat, when windows have been
// pending with the watermark still for stallAfter: which window waits, for
// which tables and partitions, and the newest window each sent. Callers
// hold p.mu.
func (p *gdeltJoinProc) checkStall() {
	if p.stallAfter <= 0 || len(p.j.openWins) == 0 {
		return
	}
	now := p.now()
	held := now.Sub(p.heldSince)
	if held < p.stallAfter || (!p.lastWarn.IsZero() && now.Sub(p.lastWarn) < stallRepeat) {
		return
	}
	p.lastWarn = now
	oldest := p.j.openWins[0]
	s := p.j.Stats()
	wm := "none yet"
	if s.Watermark != 0 {
		wm = strconv.FormatInt(s.Watermark, 10)
	}
	p.warnf("gdelt_join: window %d waits for %s; the watermark (%s) has not moved for %s; pending windows %d, pending mentions %d",
		windowID(oldest), p.holdingBack(oldest+p.j.slack), wm, held.Round(time.Second), len(p.j.openWins), s.PendingMentions)
}

// holdingBack names the tables (and, with partitions, the partitions) not
// yet complete through window index need, with the newest window each sent.
func (p *gdeltJoinProc) holdingBack(need int64) string {
	var parts []string
	for t, tab := range schema.Tables() {
		if p.parts[t] == nil {
			ts := &p.j.tables[t]
			if ts.hasComplete && ts.complete >= need {
				continue
			}
			newest := "none"
			if ts.hasRows {
				newest = strconv.FormatInt(windowID(ts.newest), 10)
			}
			parts = append(parts, fmt.Sprintf("%s (newest window there: %s)", tab.Name, newest))
			continue
		}
		var ids, newest []string
		for _, part := range p.parts[t] {
			st := p.partState[source{table: t, partition: part}]
			if st != nil && st.hasThrough && st.through >= need {
				continue
			}
			ids = append(ids, strconv.Itoa(int(part)))
			if st == nil || st.newest == 0 {
				newest = append(newest, "none")
			} else {
				newest = append(newest, strconv.FormatInt(st.newest, 10))
			}
		}
		if len(ids) == 0 {
			continue
		}
		if !slices.ContainsFunc(newest, func(w string) bool { return w != newest[0] }) {
			newest = newest[:1] // the same everywhere: say it once
		}
		noun := "partitions"
		if len(ids) == 1 {
			noun = "partition"
		}
		parts = append(parts, fmt.Sprintf("%s %s %s (newest window there: %s)", tab.Name, noun, strings.Join(ids, ","), strings.Join(newest, ", ")))
	}
	if len(parts) == 0 {
		return "nothing (it is released by the next record)"
	}
	return strings.Join(parts, "; ")
}

// Close stops the stall watcher; it is idempotent.
func (p *gdeltJoinProc) Close(ctx context.Context) error {
	p.closeOnce.Do(func() { close(p.stop) })
	select {
	case <-p.watcherDone:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

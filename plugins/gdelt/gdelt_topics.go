package gdelt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"
	"gopkg.in/yaml.v3"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
)

const (
	gtFieldInput      = "input"
	gtFieldStateCache = "state_cache"
	gtFieldStateKey   = "state_key"
	gtFieldRetention  = "event_retention_windows"
	gtFieldSlack      = "gkg_slack_windows"
	gtFieldAhead      = "max_windows_ahead"
)

func gdeltTopicsSpec() *service.ConfigSpec {
	return service.NewConfigSpec().
		Categories("Services").
		Summary("Reads the GDELT topics through a `redpanda` input and, after a restart, resumes each partition where the silver join's state needs it, instead of at the start of the topic.").
		Description(`
Wraps a `+"`redpanda`"+` input whose `+"`topics`"+` name their partitions (`+"`gdelt.mentions:0-5`"+`), as `+"`silver.yaml`"+` reads
the topics that `+"`gdelt_kafka_route`"+` wrote (rows and window markers in window order per partition, with `+"`gdelt_table`"+`
and `+"`gdelt_window`"+` headers). It follows what the engine acknowledges: once every partition's acknowledged records
show it complete through window W (a row of a later window or W's `+"`window_end`"+` marker), the `+"`gdelt_join`"+` downstream
has emitted, and its outputs have committed, every window up to E = W - `+"`gkg_slack_windows`"+`. It then stores in
`+"`state_cache`"+` a resume point: per partition, the offset of its first record of the oldest window a restart still needs:
E + 1 - `+"`gkg_slack_windows`"+`, or, for the export topic when the join cannot restore its events, E + 1 -
`+"`event_retention_windows`"+`.

On start it reads the stored point, asks the stream's `+"`gdelt_join`"+` how many windows it needs (as a `+"`gdelt_feed`"+` does, with
E + slack + 1 as the checkpoint: a join that restored its events from the snapshots in its `+"`state_cache`"+` needs no
more events) and rewrites the wrapped input's topics as `+"`topic:partition:offset`"+`, so a restart re-reads a window or
two of every partition (or the events of the retention), not the topics' whole retention.
Windows the join emits again are skipped by their Delta txn. It refuses (an error at start, repeated while it lasts)
a stored point of another set of partitions, and a partition whose first record read is not at its stored offset (the
topic was recreated, or its retention deleted records still needed): delete the state key to read from the start.
A nack stops the storing for the run. Without a stored point the input starts as configured.`).
		Fields(
			service.NewInputField(gtFieldInput).
				Description("A `redpanda` input (its `topics` with explicit partitions: `topic:0-5`; `start_offset` applies when there is no stored point)."),
			service.NewStringField(gtFieldStateCache).
				Description("The cache resource that holds the resume point (e.g. an `atomic_file` directory)."),
			service.NewStringField(gtFieldStateKey).
				Description("The key of this reader's resume point in `state_cache`: one per replica.").
				Default("gdelt_topics"),
			service.NewIntField(gtFieldRetention).
				Description("The downstream `gdelt_join`'s `event_retention_windows`: how many windows of events a restart reads again.").
				Default(192),
			service.NewIntField(gtFieldSlack).
				Description("The downstream `gdelt_join`'s `gkg_slack_windows`.").
				Default(1).Advanced(),
			service.NewIntField(gtFieldAhead).
				Description("How many windows a partition may run ahead of the slowest partition read: a batch that starts later than "+
					"that is held back (unacknowledged, so the `redpanda` input pauses that partition) until the slowest partitions "+
					"catch up. The join keeps every row of a window until all partitions have passed it, so without this bound "+
					"its memory grows with how far the partitions drift apart in a backlog (the small mentions partitions run "+
					"ahead of the large GKG ones). A partition's first batch and the slowest partition's batches always pass; at "+
					"most one batch per partition is held. 0: no bound.").
				Default(0),
		)
}

func init() {
	err := service.RegisterBatchInput("gdelt_topics", gdeltTopicsSpec(),
		func(pc *service.ParsedConfig, mgr *service.Resources) (service.BatchInput, error) {
			return newGDELTTopicsFromParsed(pc, mgr)
		})
	if err != nil {
		panic(err)
	}
}

// topicPart is one partition of one topic.
type topicPart struct {
	topic string
	part  int32
}

func (tp topicPart) String() string { return tp.topic + ":" + strconv.Itoa(int(tp.part)) }

// resumePoint is what gdelt_topics stores.
type resumePoint struct {
	// Window is E: every window up to it was emitted and committed.
	Window int64 `json:"window"`
	// Offsets are, per "topic:partition", where a restart starts reading
	// when the join rebuilds its events from the topics: the export
	// partitions at window Window+1-retention, the others at Window+1-slack.
	Offsets map[string]int64 `json:"offsets"`
	// Near are where every partition starts when the join restored its
	// events from its snapshots: at window Window+1-slack.
	Near      map[string]int64 `json:"near,omitempty"`
	UpdatedAt time.Time        `json:"updated_at"`
}

// partTrack is what gdelt_topics knows of one partition.
type partTrack struct {
	table      string
	hasThrough bool
	through    int64   // window index the acknowledged records complete it through
	wins       []int64 // window indexes with a first record, ascending
	offs       []int64 // their first offsets
	lastAcked  int64   // the offset of its last acknowledged record, -1: none
	expectNext int64   // the stored offset its first record must have; -1: none
}

// batchInfo summarises one batch handed out: per partition, the newest
// window it completes and its last offset.
type batchInfo struct {
	done  bool
	parts map[topicPart]batchPart
}

type batchPart struct {
	through    int64
	hasThrough bool
	lastOff    int64
}

type gdeltTopicsInput struct {
	mgr       *service.Resources
	log       *service.Logger
	raw       map[string]any
	cache     string
	key       string
	retention int64
	slack     int64
	parts     []topicPart

	inner   *service.Resources
	closeFn func(context.Context) error
	label   string

	mu       sync.Mutex
	track    map[topicPart]*partTrack
	queue    []*batchInfo
	stored   int64 // the window of the last stored point (index), -1: none
	broken   bool
	refused  error
	prevOffs map[string]int64 // the offsets started from (see resumePoint.Offsets)
	prevNear map[string]int64 // and their near form

	ahead  int64               // max_windows_ahead, 0: no bound
	passed map[topicPart]int64 // per partition, the window (index) of the last record handed out
	held   []heldBatch         // batches held back by max_windows_ahead, in arrival order
}

// heldBatch is a batch of one partition that started too far ahead.
type heldBatch struct {
	tp    topicPart
	first int64
	batch service.MessageBatch
	ack   service.AckFunc
}

func newGDELTTopicsFromParsed(pc *service.ParsedConfig, mgr *service.Resources) (*gdeltTopicsInput, error) {
	g := &gdeltTopicsInput{mgr: mgr, log: mgr.Logger(), track: map[topicPart]*partTrack{}, stored: -1, label: "gdelt_topics_inner"}
	rawAny, err := pc.FieldAny(gtFieldInput)
	if err != nil {
		return nil, err
	}
	if node, ok := rawAny.(*yaml.Node); ok {
		var m map[string]any
		if err := node.Decode(&m); err != nil {
			return nil, fmt.Errorf("%s: %w", gtFieldInput, err)
		}
		rawAny = m
	}
	raw, ok := rawAny.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: want an input object, got %T", gtFieldInput, rawAny)
	}
	rp, ok := raw["redpanda"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: want a redpanda input", gtFieldInput)
	}
	topics, _ := rp["topics"].([]any)
	for _, t := range topics {
		s, _ := t.(string)
		for _, entry := range strings.Split(s, ",") {
			name, parts, ok := strings.Cut(strings.TrimSpace(entry), ":")
			if !ok || strings.Contains(parts, ":") {
				return nil, fmt.Errorf("%s: topic %q: name its partitions (topic:0-5), without offsets", gtFieldInput, entry)
			}
			ps, err := parsePartitionList(parts)
			if err != nil {
				return nil, fmt.Errorf("%s: topic %q: %w", gtFieldInput, entry, err)
			}
			for _, p := range ps {
				tp := topicPart{name, p}
				if !slices.Contains(g.parts, tp) {
					g.parts = append(g.parts, tp)
				}
			}
		}
	}
	if len(g.parts) == 0 {
		return nil, fmt.Errorf("%s: no topics", gtFieldInput)
	}
	g.raw = raw
	if g.cache, err = pc.FieldString(gtFieldStateCache); err != nil {
		return nil, err
	}
	if !mgr.HasCache(g.cache) {
		return nil, fmt.Errorf("%s: cache resource %q not found", gtFieldStateCache, g.cache)
	}
	if g.key, err = pc.FieldString(gtFieldStateKey); err != nil {
		return nil, err
	}
	r, err := pc.FieldInt(gtFieldRetention)
	if err != nil {
		return nil, err
	}
	s, err := pc.FieldInt(gtFieldSlack)
	if err != nil {
		return nil, err
	}
	if r < 0 || s < 0 {
		return nil, fmt.Errorf("negative retention (%d) or slack (%d)", r, s)
	}
	g.retention, g.slack = int64(r), int64(s)
	a, err := pc.FieldInt(gtFieldAhead)
	if err != nil {
		return nil, err
	}
	if a < 0 {
		return nil, fmt.Errorf("%s: negative (%d)", gtFieldAhead, a)
	}
	g.ahead, g.passed = int64(a), map[topicPart]int64{}
	for _, tp := range g.parts {
		g.track[tp] = &partTrack{lastAcked: -1, expectNext: -1}
	}
	return g, nil
}

// parsePartitionList reads "0-5", "0,2" or "3".
func parsePartitionList(s string) ([]int32, error) {
	var out []int32
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
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
			out = append(out, int32(n))
		}
	}
	return out, nil
}

func (g *gdeltTopicsInput) layout() string {
	names := make([]string, len(g.parts))
	for i, tp := range g.parts {
		names[i] = tp.String()
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

// Connect reads the stored resume point, builds the wrapped input with its
// topics at the stored offsets, and connects it.
func (g *gdeltTopicsInput) Connect(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.inner != nil {
		return nil
	}
	var raw []byte
	var gerr error
	if err := g.mgr.AccessCache(ctx, g.cache, func(c service.Cache) { raw, gerr = c.Get(ctx, g.key) }); err != nil {
		return fmt.Errorf("reading the resume point: %w", err)
	}
	conf := cloneMap(g.raw)
	rp := cloneMap(conf["redpanda"].(map[string]any))
	conf["redpanda"] = rp
	switch {
	case errors.Is(gerr, service.ErrKeyNotFound):
		g.log.Infof("gdelt_topics: no resume point at %q in cache %q: reading as configured", g.key, g.cache)
	case gerr != nil:
		return fmt.Errorf("reading the resume point: %w", gerr)
	default:
		var pt resumePoint
		if err := json.Unmarshal(raw, &pt); err != nil {
			return fmt.Errorf("resume point %q in cache %q: %w", g.key, g.cache, err)
		}
		have := make([]string, 0, len(pt.Offsets))
		for k := range pt.Offsets {
			have = append(have, k)
		}
		sort.Strings(have)
		if strings.Join(have, ",") != g.layout() {
			return fmt.Errorf("the resume point %q in cache %q is for the partitions %s, this input reads %s: delete the key to read from the start of the topics", g.key, g.cache, strings.Join(have, ","), g.layout())
		}
		idx, ok := contract.FromID(pt.Window)
		if !ok {
			return fmt.Errorf("resume point %q in cache %q: window %d is not a window id", g.key, g.cache, pt.Window)
		}
		e := int64(idx)
		// The stateful consumers (gdelt_join) are told the windows through E
		// are committed, as a feed's checkpoint E+slack+1 would: a join that
		// restores its events from snapshots asks for 2 × slack + 1 windows,
		// so every partition may start at E+1-slack.
		offs, how := pt.Offsets, "the join rebuilds its events from the topics"
		c := contract.Window(e + g.slack + 1)
		if rewind := consumersRewind(ctx, g.mgr, c.ID()); pt.Near != nil && int64(c)+1-int64(rewind) >= e+1-g.slack {
			offs, how = pt.Near, "the join restored its events from its snapshots"
		}
		var topics []any
		for _, tp := range g.parts {
			off := offs[tp.String()]
			topics = append(topics, fmt.Sprintf("%s:%d:%d", tp.topic, tp.part, off))
			g.track[tp].expectNext = off
		}
		rp["topics"] = topics
		g.prevOffs, g.prevNear = pt.Offsets, pt.Near
		g.stored = e
		g.log.Infof("gdelt_topics: resuming from the point stored at window %d (%q in cache %q; %s): %s", pt.Window, g.key, g.cache, how, strings.Join(topicsStrings(topics), ", "))
	}
	if errors.Is(gerr, service.ErrKeyNotFound) {
		consumersRewind(ctx, g.mgr, 0) // a first start: the consumers start their state afresh
	}
	conf["label"] = g.label
	yaml, err := json.Marshal(conf)
	if err != nil {
		return err
	}
	rb := service.NewResourceBuilder()
	rb.SetBenthosLogger(g.log)
	if err := rb.AddInputYAML(string(yaml)); err != nil {
		return fmt.Errorf("building the redpanda input: %w", err)
	}
	res, closeFn, err := rb.Build()
	if err != nil {
		return fmt.Errorf("building the redpanda input: %w", err)
	}
	g.inner, g.closeFn = res, closeFn
	return nil
}

func topicsStrings(ts []any) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = fmt.Sprint(t)
	}
	return out
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// ReadBatch reads a batch of the wrapped input and notes, per partition, the
// windows and offsets it holds; its acknowledgement moves the resume point.
// With max_windows_ahead, a batch of a partition too far ahead is held back
// and handed out once the slowest partitions have caught up.
func (g *gdeltTopicsInput) ReadBatch(ctx context.Context) (service.MessageBatch, service.AckFunc, error) {
	for {
		g.mu.Lock()
		inner, refused := g.inner, g.refused
		if refused == nil {
			for i, h := range g.held {
				if g.mayPass(h.tp, h.first) {
					g.held = slices.Delete(g.held, i, i+1)
					batch, ack, err := g.handOut(h.batch, h.ack)
					g.mu.Unlock()
					return batch, ack, err
				}
			}
		}
		g.mu.Unlock()
		if refused != nil {
			select {
			case <-time.After(5 * time.Second):
			case <-ctx.Done():
			}
			return nil, nil, refused
		}
		if inner == nil {
			return nil, nil, service.ErrNotConnected
		}
		var batch service.MessageBatch
		var ack service.AckFunc
		var rerr error
		if err := inner.AccessInput(ctx, g.label, func(i *service.ResourceInput) { batch, ack, rerr = i.ReadBatch(ctx) }); err != nil {
			return nil, nil, err
		}
		if rerr != nil {
			return nil, nil, rerr
		}
		g.mu.Lock()
		if tp, first, ok := g.batchStart(batch); ok && g.ahead > 0 && (!g.mayPass(tp, first) || slices.ContainsFunc(g.held, func(h heldBatch) bool { return h.tp == tp })) {
			g.held = append(g.held, heldBatch{tp: tp, first: first, batch: batch, ack: ack})
			g.mu.Unlock()
			continue
		}
		batch, ack, err := g.handOut(batch, ack)
		g.mu.Unlock()
		return batch, ack, err
	}
}

// batchStart is the partition of a batch (the redpanda input's batches are
// of one partition) and the window of its first record that has one.
func (g *gdeltTopicsInput) batchStart(batch service.MessageBatch) (topicPart, int64, bool) {
	var tp topicPart
	for i, m := range batch {
		topic, _ := m.MetaGet(contract.KafkaTopic)
		ps, _ := m.MetaGet(contract.KafkaPartition)
		part, err := strconv.ParseInt(ps, 10, 32)
		if err != nil {
			return tp, 0, false
		}
		if i == 0 {
			tp = topicPart{topic, int32(part)}
		} else if tp != (topicPart{topic, int32(part)}) {
			return tp, 0, false // several partitions: not held
		}
	}
	for _, m := range batch {
		ws, _ := m.MetaGet(contract.MetaWindow)
		id, _ := strconv.ParseInt(ws, 10, 64)
		if w, ok := contract.FromID(id); ok {
			return tp, int64(w), g.track[tp] != nil
		}
	}
	return tp, 0, false
}

// mayPass: a batch of partition tp starting at window first may be handed out
// under max_windows_ahead: the partition has handed out nothing yet, or it is
// one of the slowest, or first is at most max_windows_ahead after the window
// of the slowest partition that has handed out something. Called with g.mu.
func (g *gdeltTopicsInput) mayPass(tp topicPart, first int64) bool {
	if g.ahead <= 0 {
		return true
	}
	cur, ok := g.passed[tp]
	if !ok {
		return true
	}
	low := cur
	for _, w := range g.passed {
		low = min(low, w)
	}
	return cur <= low || first <= low+g.ahead
}

// handOut notes the windows and offsets of a batch handed out downstream and
// wraps its acknowledgement. Called with g.mu.
func (g *gdeltTopicsInput) handOut(batch service.MessageBatch, ack service.AckFunc) (service.MessageBatch, service.AckFunc, error) {
	info := &batchInfo{parts: map[topicPart]batchPart{}}
	for _, m := range batch {
		topic, _ := m.MetaGet(contract.KafkaTopic)
		ps, _ := m.MetaGet(contract.KafkaPartition)
		os, _ := m.MetaGet(contract.KafkaOffset)
		part, err1 := strconv.ParseInt(ps, 10, 32)
		off, err2 := strconv.ParseInt(os, 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		tp := topicPart{topic, int32(part)}
		tr := g.track[tp]
		if tr == nil {
			continue
		}
		if tr.expectNext >= 0 {
			if off != tr.expectNext {
				g.refused = fmt.Errorf("gdelt_topics: partition %s starts at offset %d, not at the stored resume offset %d: the topic was recreated or its retention deleted records a restart needs; delete the key %q in cache %q to read from the start", tp, off, tr.expectNext, g.key, g.cache)
				g.log.Errorf("%v", g.refused)
				return nil, nil, g.refused
			}
			tr.expectNext = -1
		}
		if tr.table == "" {
			tr.table, _ = m.MetaGet(contract.MetaTable)
		}
		bp := info.parts[tp]
		bp.lastOff = off
		ws, _ := m.MetaGet(contract.MetaWindow)
		id, _ := strconv.ParseInt(ws, 10, 64)
		if w, ok := contract.FromID(id); ok {
			idx := int64(w)
			if n := len(tr.wins); n == 0 || tr.wins[n-1] < idx {
				tr.wins = append(tr.wins, idx)
				tr.offs = append(tr.offs, off)
			}
			through := idx - 1 // a row: the windows before are complete
			if mk, _ := m.MetaGet(contract.MetaMarker); mk == contract.MarkerWindowEnd {
				through = idx
			}
			if !bp.hasThrough || through > bp.through {
				bp.through, bp.hasThrough = through, true
			}
			g.passed[tp] = max(g.passed[tp], idx)
		}
		info.parts[tp] = bp
	}
	g.queue = append(g.queue, info)
	return batch, func(actx context.Context, err error) error {
		aerr := ack(actx, err)
		g.acked(actx, info, err)
		return aerr
	}, nil
}

// acked applies the batches acknowledged in order, and stores a new resume
// point when the committed window moved.
func (g *gdeltTopicsInput) acked(ctx context.Context, info *batchInfo, err error) {
	g.mu.Lock()
	if err != nil {
		if !g.broken {
			g.broken = true
			g.log.Warnf("gdelt_topics: a batch was not acknowledged (%v): the resume point is no longer stored in this run", err)
		}
		g.mu.Unlock()
		return
	}
	info.done = true
	n := 0
	for n < len(g.queue) && g.queue[n].done {
		for tp, bp := range g.queue[n].parts {
			tr := g.track[tp]
			tr.lastAcked = max(tr.lastAcked, bp.lastOff)
			if bp.hasThrough && (!tr.hasThrough || bp.through > tr.through) {
				tr.through, tr.hasThrough = bp.through, true
			}
		}
		n++
	}
	g.queue = g.queue[n:]
	if n == 0 || g.broken {
		g.mu.Unlock()
		return
	}
	// E: every partition is complete through E + slack in acknowledged records.
	var low int64
	for i, tp := range g.parts {
		tr := g.track[tp]
		if !tr.hasThrough {
			g.mu.Unlock()
			return
		}
		if i == 0 || tr.through < low {
			low = tr.through
		}
	}
	e := low - g.slack
	if e <= g.stored {
		g.mu.Unlock()
		return
	}
	pt := resumePoint{Window: contract.Window(e).ID(), Offsets: map[string]int64{}, Near: map[string]int64{}, UpdatedAt: time.Now().UTC()}
	offsetAt := func(tr *partTrack, from int64, prev map[string]int64, tp topicPart) int64 {
		for k, w := range tr.wins {
			if w >= from {
				return tr.offs[k]
			}
		}
		if tr.lastAcked >= 0 {
			// Nothing of those windows here yet: the last acknowledged
			// record again, so that the partition tells its window.
			return tr.lastAcked
		}
		if off, ok := prev[tp.String()]; ok {
			return off // nothing read in this run: where it started
		}
		return g.prevOffs[tp.String()]
	}
	for _, tp := range g.parts {
		tr := g.track[tp]
		from := e + 1 - g.slack
		pt.Near[tp.String()] = offsetAt(tr, from, g.prevNear, tp)
		if tr.table == "export" || tr.table == "events" {
			from = e + 1 - g.retention
		}
		pt.Offsets[tp.String()] = offsetAt(tr, from, g.prevOffs, tp)
		// Forget the windows no later point needs.
		k := 0
		for k+1 < len(tr.wins) && tr.wins[k+1] <= from {
			k++
		}
		tr.wins, tr.offs = tr.wins[k:], tr.offs[k:]
	}
	g.stored = e
	g.mu.Unlock()

	raw, _ := json.Marshal(pt)
	var serr error
	if aerr := g.mgr.AccessCache(ctx, g.cache, func(c service.Cache) { serr = c.Set(ctx, g.key, raw, nil) }); aerr != nil || serr != nil {
		g.log.Warnf("gdelt_topics: storing the resume point of window %d: %v", pt.Window, errors.Join(aerr, serr))
		return
	}
	// As a feed's checkpoint E+slack+1 would: the consumers may drop state
	// no restart from here needs.
	consumersAcknowledged(g.mgr, contract.Window(e+g.slack+1).ID())
}

// Close closes the wrapped input.
func (g *gdeltTopicsInput) Close(ctx context.Context) error {
	g.mu.Lock()
	closeFn := g.closeFn
	g.closeFn = nil
	g.mu.Unlock()
	if closeFn == nil {
		return nil
	}
	// The wrapped input may hold a batch read ahead that nobody will take:
	// wait a little for a clean close, then close it at once.
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := closeFn(cctx); err != nil && ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

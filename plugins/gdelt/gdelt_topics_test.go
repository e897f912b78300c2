package gdelt

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"
	_ "github.com/redpanda-data/connect/v4/public/components/kafka"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
)

// topicsWindow is the id of the i-th window of the test.
func topicsWindow(i int) int64 {
	w, _ := contract.FromID(20240101000000)
	return (w + contract.Window(i)).ID()
}

// produceWindows writes, to partition 0 of topic, for each window: rows
// rows, then a window_end marker, as gdelt_kafka_route does.
func produceWindows(t *testing.T, cl *kgo.Client, topic, table string, from, to, rows int) {
	t.Helper()
	for w := from; w <= to; w++ {
		win := strconv.FormatInt(topicsWindow(w), 10)
		for r := 0; r <= rows; r++ {
			rec := &kgo.Record{Topic: topic, Partition: 0, Value: []byte("row"), Headers: []kgo.RecordHeader{
				{Key: contract.MetaTable, Value: []byte(table)}, {Key: contract.MetaWindow, Value: []byte(win)}}}
			if r == rows {
				rec.Value = nil
				rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: contract.MetaMarker, Value: []byte(contract.MarkerWindowEnd)})
			}
			if err := cl.ProduceSync(context.Background(), rec).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func newTopicsInput(t *testing.T, mgr *service.Resources, brokers string, topics ...string) *gdeltTopicsInput {
	t.Helper()
	quoted := make([]string, len(topics))
	for i, tp := range topics {
		quoted[i] = strconv.Quote(tp)
	}
	pc, err := gdeltTopicsSpec().ParseYAML(fmt.Sprintf(`
state_cache: state
state_key: point
event_retention_windows: 2
input:
  redpanda:
    seed_brokers: [ %q ]
    topics: [ %s ]
    start_offset: earliest
`, brokers, strings.Join(quoted, ", ")), nil)
	if err != nil {
		t.Fatal(err)
	}
	in, err := newGDELTTopicsFromParsed(pc, mgr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = in.Close(context.Background()) })
	return in
}

// readAll reads and acknowledges batches until n records were read; it
// returns the offsets read per topic.
func readAll(t *testing.T, in *gdeltTopicsInput, n int) map[string][]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got := map[string][]int64{}
	for total := 0; total < n; {
		b, ack, err := in.ReadBatch(ctx)
		if err != nil {
			t.Fatalf("after %d records: %v", total, err)
		}
		for _, m := range b {
			topic, _ := m.MetaGet(contract.KafkaTopic)
			os, _ := m.MetaGet(contract.KafkaOffset)
			off, _ := strconv.ParseInt(os, 10, 64)
			got[topic] = append(got[topic], off)
		}
		total += len(b)
		if err := ack(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	return got
}

func storedPoint(t *testing.T, mgr *service.Resources) resumePoint {
	t.Helper()
	var raw []byte
	var gerr error
	if err := mgr.AccessCache(context.Background(), "state", func(c service.Cache) { raw, gerr = c.Get(context.Background(), "point") }); err != nil || gerr != nil {
		t.Fatalf("reading the point: %v %v", err, gerr)
	}
	var pt resumePoint
	if err := json.Unmarshal(raw, &pt); err != nil {
		t.Fatal(err)
	}
	return pt
}

// TestGDELTTopicsResume: the resume point follows the acknowledged windows
// (the events of the retention, a window of mentions), a restart reads from
// it, and a point of other partitions, or a partition that does not start at
// its stored offset, is refused.
func TestGDELTTopicsResume(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "ev", "mn"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := c.ListenAddrs()[0]
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.DefaultProduceTopic("ev"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// Windows 0..9: 3 rows and a marker each (offsets 4w .. 4w+3).
	produceWindows(t, cl, "ev", "export", 0, 9, 3)
	produceWindows(t, cl, "mn", "mentions", 0, 9, 3)

	mgr := service.MockResources(service.MockResourcesOptAddCache("state"))
	// A join that rebuilds its state from the topics: retention 2 + slack 1 + 1.
	var acked []int64
	RegisterConsumer(mgr, "join", ConsumerNeeds{Rewind: 4, Acknowledged: func(c int64) { acked = append(acked, c) }})
	in := newTopicsInput(t, mgr, brokers, "ev:0", "mn:0")
	if err := in.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	readAll(t, in, 80)
	// Both partitions complete through window 9: E = 8; events from window
	// E+1-R = 7 (offset 28), mentions from E+1-S = 8 (offset 32).
	pt := storedPoint(t, mgr)
	if pt.Window != topicsWindow(8) || pt.Offsets["ev:0"] != 28 || pt.Offsets["mn:0"] != 32 || pt.Near["ev:0"] != 32 || pt.Near["mn:0"] != 32 {
		t.Fatalf("stored point %+v, want window %d, ev:0 at 28 (near 32), mn:0 at 32", pt, topicsWindow(8))
	}
	// The consumers hear of it as of a feed's checkpoint E+slack+1.
	if len(acked) == 0 || acked[len(acked)-1] != topicsWindow(10) {
		t.Errorf("consumers told %v, want last %d", acked, topicsWindow(10))
	}
	_ = in.Close(context.Background())

	// A restart reads from the stored offsets.
	produceWindows(t, cl, "ev", "export", 10, 10, 3)
	produceWindows(t, cl, "mn", "mentions", 10, 10, 3)
	in2 := newTopicsInput(t, mgr, brokers, "ev:0", "mn:0")
	if err := in2.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, in2, 16+12)
	if got["ev"][0] != 28 || got["mn"][0] != 32 {
		t.Errorf("the restart read ev from %d and mn from %d, want 28 and 32", got["ev"][0], got["mn"][0])
	}
	if pt := storedPoint(t, mgr); pt.Window != topicsWindow(9) || pt.Offsets["ev:0"] != 32 || pt.Offsets["mn:0"] != 36 {
		t.Errorf("after window 10: stored point %+v, want window %d, ev:0 at 32, mn:0 at 36", pt, topicsWindow(9))
	}
	_ = in2.Close(context.Background())

	// A join that restored its events from snapshots (it asks for 2 × slack
	// + 1 windows before E+slack+1): every partition starts at E+1-slack.
	mgr2 := service.MockResources(service.MockResourcesOptAddCache("state"))
	var asked int64
	RegisterConsumer(mgr2, "join", ConsumerNeeds{Rewind: 4, RewindFrom: func(_ context.Context, c int64) int { asked = c; return 3 }})
	raw, _ := json.Marshal(storedPoint(t, mgr))
	if err := mgr2.AccessCache(context.Background(), "state", func(c service.Cache) { _ = c.Set(context.Background(), "point", raw, nil) }); err != nil {
		t.Fatal(err)
	}
	in5 := newTopicsInput(t, mgr2, brokers, "ev:0", "mn:0")
	if err := in5.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, in5, 16); len(got["ev"]) == 0 || len(got["mn"]) == 0 || got["ev"][0] != 36 || got["mn"][0] != 36 || asked != topicsWindow(11) {
		t.Errorf("after a restored join: read ev from %v, mn from %v, consumers asked with %d; want both at 36, asked with %d", got["ev"], got["mn"], asked, topicsWindow(11))
	}
	_ = in5.Close(context.Background())

	// Another partition layout: refused at Connect.
	in3 := newTopicsInput(t, mgr, brokers, "ev:0")
	if err := in3.Connect(context.Background()); err == nil || !strings.Contains(err.Error(), "is for the partitions ev:0,mn:0, this input reads ev:0") {
		t.Errorf("a point of other partitions: Connect gave %v", err)
	}

	// A stored offset the partition does not start at (a recreated topic):
	// the first read is refused, and so is every later one.
	bad, _ := json.Marshal(resumePoint{Window: topicsWindow(9), Offsets: map[string]int64{"ev:0": 1000, "mn:0": 36}})
	if err := mgr.AccessCache(context.Background(), "state", func(c service.Cache) { _ = c.Set(context.Background(), "point", bad, nil) }); err != nil {
		t.Fatal(err)
	}
	in4 := newTopicsInput(t, mgr, brokers, "ev:0", "mn:0")
	if err := in4.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var rerr error
	for rerr == nil {
		var ack service.AckFunc
		_, ack, rerr = in4.ReadBatch(ctx)
		if ack != nil {
			_ = ack(ctx, nil)
		}
	}
	if !strings.Contains(rerr.Error(), "not at the stored resume offset 1000") {
		t.Errorf("a partition before its stored offset: %v", rerr)
	}
}

// TestGDELTTopicsMaxWindowsAhead: a batch of a partition more than
// max_windows_ahead windows ahead of the slowest partition is held back and
// handed out, in order, once the slowest has caught up; the slowest partition
// and a partition's first batch always pass.
func TestGDELTTopicsMaxWindowsAhead(t *testing.T) {
	a, b := topicPart{"gdelt.mentions", 0}, topicPart{"gdelt.gkg", 0}
	g := &gdeltTopicsInput{ahead: 2, passed: map[topicPart]int64{}, track: map[topicPart]*partTrack{
		a: {lastAcked: -1, expectNext: -1}, b: {lastAcked: -1, expectNext: -1}}}
	w0, _ := contract.FromID(20230703000000)
	base := int64(w0)
	batch := func(tp topicPart, off int64, wins ...int64) service.MessageBatch {
		var out service.MessageBatch
		for i, w := range wins {
			m := service.NewMessage(nil)
			m.MetaSetMut(contract.KafkaTopic, tp.topic)
			m.MetaSetMut(contract.KafkaPartition, strconv.Itoa(int(tp.part)))
			m.MetaSetMut(contract.KafkaOffset, strconv.FormatInt(off+int64(i), 10))
			m.MetaSetMut(contract.MetaWindow, strconv.FormatInt(contract.Window(base+w).ID(), 10))
			out = append(out, m)
		}
		return out
	}
	pass := func(bt service.MessageBatch) bool {
		tp, first, ok := g.batchStart(bt)
		if !ok {
			t.Fatalf("batchStart: no partition and window in %v", bt)
		}
		if !g.mayPass(tp, first) {
			return false
		}
		if _, _, err := g.handOut(bt, func(context.Context, error) error { return nil }); err != nil {
			t.Fatal(err)
		}
		return true
	}
	if !pass(batch(a, 0, 0, 1, 2, 3, 4)) {
		t.Fatal("a partition's first batch is held")
	}
	if !pass(batch(b, 0, 0)) {
		t.Fatal("a partition's first batch is held")
	}
	// a is at 4, b (the slowest) at 0: a's next batch (window 5 > 0 + 2) waits.
	if pass(batch(a, 5, 5)) {
		t.Fatal("a batch 5 windows ahead of the slowest passed with max_windows_ahead 2")
	}
	if !pass(batch(b, 1, 1, 2)) {
		t.Fatal("the slowest partition's batch is held")
	}
	if pass(batch(a, 5, 5)) {
		t.Fatal("a batch 3 windows ahead of the slowest passed with max_windows_ahead 2")
	}
	if !pass(batch(b, 3, 3)) || !pass(batch(a, 5, 5)) {
		t.Fatal("a batch within max_windows_ahead of the slowest is held")
	}
	g.ahead = 0
	if !pass(batch(a, 6, 50)) {
		t.Fatal("max_windows_ahead 0 holds a batch")
	}
}

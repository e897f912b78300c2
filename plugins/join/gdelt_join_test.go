package join

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
)

// kafkaJoin is a gdelt_join in partitioned mode over a Kafka-like input:
// it numbers each partition's records as Kafka would.
type kafkaJoin struct {
	t       *testing.T
	p       *gdeltJoinProc
	offsets map[string]int
	clock   time.Time
	warns   []string
}

func newKafkaJoin(t *testing.T, yaml string) *kafkaJoin {
	t.Helper()
	pc, err := gdeltJoinSpec().ParseYAML(yaml, nil)
	if err != nil {
		t.Fatal(err)
	}
	k := &kafkaJoin{t: t, offsets: map[string]int{}, clock: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	p, err := newGDELTJoinFromParsed(pc, service.MockResources())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	p.mu.Lock()
	p.now = func() time.Time { return k.clock }
	p.heldSince = k.clock
	p.warnf = func(f string, args ...any) { k.warns = append(k.warns, fmt.Sprintf(f, args...)) }
	p.mu.Unlock()
	k.p = p
	return k
}

func (k *kafkaJoin) msg(table string, part int, row map[string]any) *service.Message {
	m := service.NewMessage(nil)
	if row != nil {
		m.SetStructuredMut(row)
	}
	key := table + "/" + strconv.Itoa(part)
	m.MetaSetMut("gdelt_table", table)
	m.MetaSetMut("kafka_partition", strconv.Itoa(part))
	m.MetaSetMut("kafka_offset", strconv.Itoa(k.offsets[key]))
	k.offsets[key]++
	return m
}

func (k *kafkaJoin) marker(table string, part int, kind string, win int) *service.Message {
	m := k.msg(table, part, nil)
	m.MetaSetMut(contract.MetaMarker, kind)
	if kind == contract.MarkerWindowEnd {
		m.MetaSetMut("gdelt_window", strconv.FormatInt(wid(win), 10))
	}
	return m
}

// markers returns a marker of kind for every partition of the tables.
func (k *kafkaJoin) markers(kind string, win int, parts map[string][]int) service.MessageBatch {
	var b service.MessageBatch
	for _, table := range []string{"export", "mentions", "gkg"} {
		for _, part := range parts[table] {
			b = append(b, k.marker(table, part, kind, win))
		}
	}
	return b
}

// process runs a batch and returns the SILVER_COMPLETE windows (test window
// numbers) and the silver rows' statuses, failing on any errored message.
func (k *kafkaJoin) process(b ...*service.Message) (wins []int64, statuses []string) {
	k.t.Helper()
	out, err := k.p.ProcessBatch(context.Background(), b)
	if err != nil {
		k.t.Fatal(err)
	}
	for _, batch := range out {
		for _, m := range batch {
			if err := m.GetError(); err != nil {
				k.t.Fatalf("errored message: %v", err)
			}
			v, _ := m.AsStructured()
			row := v.(map[string]any)
			switch tab, _ := m.MetaGet(contract.MetaSilverTable); tab {
			case AuditWindows:
				if row["status"] == StatusSilverComplete {
					wins = append(wins, row["window"].(int64))
				}
			case SilverEventsDetailed:
				statuses = append(statuses, row[ColumnJoinState].(string))
			}
		}
	}
	return wins, statuses
}

const kafkaJoinYAML = `
partitions:
  export: "0"
  mentions: "0-1"
  gkg: "0-1"
stall_warning_after: 10m
`

var kafkaJoinParts = map[string][]int{"export": {0}, "mentions": {0, 1}, "gkg": {0, 1}}

// Rows only ever reach partition 0 of mentions and GKG (a quiet partition at
// a cold start, a missing GKG file): the windows still close, on the
// window_end markers, and the end markers emit the last one. Without the
// markers, nothing would (every partition must move past a window), and the
// stall is logged naming the partitions.
func TestKafkaMarkersCloseWindows(t *testing.T) {
	k := newKafkaJoin(t, kafkaJoinYAML)
	url := "https://example.com/a"
	wins, _ := k.process(
		k.msg("export", 0, ev(1, 0)), k.msg("mentions", 0, mn(1, 0, 1, url)), k.msg("gkg", 0, gk(0, url, "g0")),
		k.msg("export", 0, ev(2, 1)), k.msg("mentions", 0, mn(2, 1, 1, url)), k.msg("mentions", 0, mn(1, 1, 1, "https://example.com/none")),
	)
	if len(wins) != 0 {
		t.Fatalf("windows %v emitted before any marker: partition 1 of mentions and gkg said nothing", wins)
	}
	if got := k.p.lastStats.PendingMentions; got != 3 {
		t.Errorf("%d mentions pending, want 3", got)
	}

	// An hour of wall time without the watermark moving: one warning naming
	// what holds window 0, then none for a minute.
	k.clock = k.clock.Add(time.Hour)
	k.p.mu.Lock()
	k.p.checkStall()
	k.clock = k.clock.Add(30 * time.Second)
	k.p.checkStall()
	k.p.mu.Unlock()
	if len(k.warns) != 1 {
		t.Fatalf("%d warnings, want 1: %q", len(k.warns), k.warns)
	}
	for _, want := range []string{
		fmt.Sprintf("window %d waits for", wid(0)),
		fmt.Sprintf("export partition 0 (newest window there: %d)", wid(1)),
		fmt.Sprintf("mentions partitions 0,1 (newest window there: %d, none)", wid(1)),
		fmt.Sprintf("gkg partitions 0,1 (newest window there: %d, none)", wid(0)),
		"has not moved for 1h0m0s", "pending windows 2, pending mentions 3",
	} {
		if !strings.Contains(k.warns[0], want) {
			t.Errorf("warning %q lacks %q", k.warns[0], want)
		}
	}

	// Window 0's markers complete every partition through 0; window 0 is
	// emitted once window 1 is complete too (the GKG slack).
	if wins, _ = k.process(k.markers(contract.MarkerWindowEnd, 0, kafkaJoinParts)...); len(wins) != 0 {
		t.Fatalf("windows %v emitted before window 1 ended", wins)
	}
	wins, statuses := k.process(k.markers(contract.MarkerWindowEnd, 1, kafkaJoinParts)...)
	if len(wins) != 1 || wins[0] != wid(0) || strings.Join(statuses, ",") != "complete" {
		t.Fatalf("after window 1's markers: windows %v statuses %v, want window %d with one complete row", wins, statuses, wid(0))
	}

	// end from every partition but one: nothing; from the last: window 1.
	ends := k.markers(contract.MarkerEnd, 0, kafkaJoinParts)
	if wins, _ = k.process(ends[:len(ends)-1]...); len(wins) != 0 {
		t.Fatalf("windows %v emitted before every partition ended", wins)
	}
	wins, statuses = k.process(ends[len(ends)-1])
	// Window 1's rows by event: event 1's (no GKG record) before event 2's.
	if len(wins) != 1 || wins[0] != wid(1) || strings.Join(statuses, ",") != "no_gkg,complete" {
		t.Fatalf("after the end markers: windows %v statuses %v, want window %d with no_gkg, complete", wins, statuses, wid(1))
	}
	if s := k.p.j.Stats(); s.PendingMentions != 0 || len(k.p.j.openWins) != 0 {
		t.Errorf("after the end: %d mentions, %d windows pending", s.PendingMentions, len(k.p.j.openWins))
	}
	// Nothing is pending: no further warning however long it stays so.
	k.clock = k.clock.Add(time.Hour)
	k.p.mu.Lock()
	k.p.checkStall()
	k.p.mu.Unlock()
	if len(k.warns) != 1 {
		t.Errorf("warned with nothing pending: %q", k.warns[1:])
	}
}

// Rows and markers both complete a partition, whichever comes first; a
// marker of an older window than a row already said changes nothing.
func TestKafkaRowsAndMarkersComplete(t *testing.T) {
	k := newKafkaJoin(t, kafkaJoinYAML)
	url := "https://example.com/b"
	b := service.MessageBatch{
		k.msg("export", 0, ev(1, 0)), k.msg("mentions", 1, mn(1, 0, 1, url)), k.msg("gkg", 1, gk(1, url, "g1")),
	}
	// Partition 0 of mentions and gkg: markers of windows 0 and 1; export
	// and partition 1: rows of window 2 (complete through 1), then an old marker.
	b = append(b, k.marker("mentions", 0, contract.MarkerWindowEnd, 1), k.marker("gkg", 0, contract.MarkerWindowEnd, 1))
	if wins, _ := k.process(b...); len(wins) != 0 {
		t.Fatalf("windows %v emitted early", wins)
	}
	wins, statuses := k.process(k.msg("export", 0, ev(3, 2)), k.msg("mentions", 1, mn(3, 2, 1, url)),
		k.msg("gkg", 1, gk(2, url, "g2")), k.marker("gkg", 1, contract.MarkerWindowEnd, 0))
	if len(wins) != 1 || wins[0] != wid(0) || strings.Join(statuses, ",") != "complete" {
		t.Fatalf("windows %v statuses %v, want window %d, complete (its GKG record one window later)", wins, statuses, wid(0))
	}
}

// Markers that cannot be placed are errors on the message, not silence.
func TestKafkaMarkerErrors(t *testing.T) {
	k := newKafkaJoin(t, kafkaJoinYAML)
	noPart := service.NewMessage(nil)
	noPart.MetaSetMut(contract.MetaMarker, contract.MarkerWindowEnd)
	noPart.MetaSetMut("gdelt_table", "gkg")
	noPart.MetaSetMut("gdelt_window", "20240101000000")
	badWin := k.marker("gkg", 0, contract.MarkerWindowEnd, 0)
	badWin.MetaSetMut("gdelt_window", "2024")
	other := k.marker("gkg", 4, contract.MarkerWindowEnd, 0)
	noTable := k.marker("gkg", 0, contract.MarkerEnd, 0)
	noTable.MetaDelete("gdelt_table")
	out, err := k.p.ProcessBatch(context.Background(), service.MessageBatch{noPart, badWin, other, noTable})
	if err != nil {
		t.Fatal(err)
	}
	var errs []string
	for _, b := range out {
		for _, m := range b {
			if m.GetError() != nil {
				errs = append(errs, m.GetError().Error())
			}
		}
	}
	want := []string{"without kafka_partition", `gdelt_window "2024"`, "partition 4, which is not in partitions.gkg", "metadata gdelt_table"}
	if len(errs) != len(want) {
		t.Fatalf("errors %q, want %d", errs, len(want))
	}
	for i, w := range want {
		if !strings.Contains(errs[i], w) {
			t.Errorf("error %q lacks %q", errs[i], w)
		}
	}
}

// Close stops the stall watcher, and can be called again.
func TestJoinCloseStopsWatcher(t *testing.T) {
	pc, err := gdeltJoinSpec().ParseYAML("stall_warning_after: 1s", nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := newGDELTJoinFromParsed(pc, service.MockResources())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := 0; i < 2; i++ {
		if err := p.Close(ctx); err != nil {
			t.Fatalf("Close %d: %v", i+1, err)
		}
	}
	select {
	case <-p.watcherDone:
	default:
		t.Fatal("the watcher is still running after Close")
	}
}

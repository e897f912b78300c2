package join

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
)

func TestWindowIndex(t *testing.T) {
	for _, id := range []int64{19700101000000, 20150218230000, 20240229234500, 20991231234500} {
		idx, ok := windowIndex(id)
		if !ok {
			t.Fatalf("%d: not ok", id)
		}
		if got := windowID(idx); got != id {
			t.Errorf("round trip %d -> %d -> %d", id, idx, got)
		}
		ts, _ := time.Parse("20060102150405", itoa(id))
		if idx != ts.Unix()/900 {
			t.Errorf("%d: index %d, want %d", id, idx, ts.Unix()/900)
		}
	}
	// inside a window: that window
	a, _ := windowIndex(20240101001500)
	b, _ := windowIndex(20240101002959)
	if a != b {
		t.Errorf("20240101002959 in window %d, want %d", b, a)
	}
	for _, bad := range []int64{0, 2024010100000, 20241301000000, 20240230000000, 20230229000000, 20240101240000, 20240101006000, 20240101000060, 19691231234500, 100000000000000} {
		if _, ok := windowIndex(bad); ok {
			t.Errorf("%d accepted", bad)
		}
	}
}

func itoa(v int64) string { return strings.TrimSpace(canonValue(v)[1:]) }

func TestColumns(t *testing.T) {
	for _, nested := range []bool{false, true} {
		cols := Columns(nested)
		want := 16 + 61 + 27 + 2
		if nested {
			want += 2
		}
		if len(cols) != want {
			t.Fatalf("nested=%v: %d columns, want %d", nested, len(cols), want)
		}
		seen := map[string]bool{}
		for i, c := range cols {
			if seen[c.Name] {
				t.Errorf("column %s twice", c.Name)
			}
			seen[c.Name] = true
			if c.Pos != i+1 {
				t.Errorf("%s: pos %d, want %d", c.Name, c.Pos, i+1)
			}
		}
		for _, n := range []string{"global_event_id", "mention_identifier", "event_global_event_id", "event_source_url", "gkg_gkg_record_id", "gkg_document_identifier", "join_status", "window"} {
			if !seen[n] {
				t.Errorf("no column %s", n)
			}
		}
		if seen["gkg_page_title"] != nested {
			t.Errorf("nested=%v: gkg_page_title present=%v", nested, seen["gkg_page_title"])
		}
		if cols[len(cols)-1].Kind != schema.Int64 || cols[len(cols)-2].Kind != schema.String {
			t.Errorf("join_status / window kinds: %v %v", cols[len(cols)-2].Kind, cols[len(cols)-1].Kind)
		}
	}
}

func byStatus(rows []map[string]any) map[string]int {
	out := map[string]int{}
	for _, r := range rows {
		out[r[ColumnJoinState].(string)]++
	}
	return out
}

func TestStatuses(t *testing.T) {
	j := newTest(t, 192, 1)
	rows, wins := feed(t, j, []input{
		{"export", 0, ev(1, 0)},
		{"mentions", 0, mn(1, 0, 1, "https://a")},  // complete
		{"mentions", 0, mn(1, 0, 2, "https://a")},  // no_gkg: not a web mention
		{"mentions", 0, mn(1, 0, 1, "https://b")},  // no_gkg: no GKG record
		{"mentions", 0, mn(1, 0, 1, "")},           // no_gkg: no identifier
		{"mentions", 0, mn(99, 0, 1, "https://a")}, // expired, GKG filled
		{"mentions", 0, mn(98, 0, 3, "doi:1")},     // expired
		{"gkg", 0, gk(0, "https://a", "G-a")},
	}, nil)
	want := []string{StatusComplete, StatusNoGKG, StatusNoGKG, StatusNoGKG, StatusExpired, StatusExpired}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	cols := Columns(false)
	for i, r := range rows {
		if r[ColumnJoinState] != want[i] {
			t.Errorf("row %d: %v, want %s", i, r[ColumnJoinState], want[i])
		}
		if len(r) != len(cols) {
			t.Errorf("row %d: %d columns, want %d", i, len(r), len(cols))
		}
		if r[ColumnWindow] != wid(0) {
			t.Errorf("row %d: window %v", i, r[ColumnWindow])
		}
		for _, c := range cols {
			if _, ok := r[c.Name]; !ok {
				t.Errorf("row %d: no column %s", i, c.Name)
			}
		}
	}
	r := rows[0]
	if r["event_global_event_id"] != int64(1) || r["event_actor1_name"] != "ACTOR 1" || r["event_avg_tone"] != 1.0/3 ||
		r["event_num_mentions"] != int64(-1) || r["event_date_added"] != wid(0) || r["event_actor2_name"] != nil {
		t.Errorf("event columns: %v %v %v %v", r["event_global_event_id"], r["event_actor1_name"], r["event_avg_tone"], r["event_num_mentions"])
	}
	if r["gkg_gkg_record_id"] != "G-a" || r["gkg_date"] != wid(0) || r["gkg_v2_tone"] != "1.5,2,0.5,2.5,20,0,300" {
		t.Errorf("gkg columns: %v %v", r["gkg_gkg_record_id"], r["gkg_date"])
	}
	if r["mention_identifier"] != "https://a" || r["mention_doc_tone"] != -1.25 {
		t.Errorf("mention columns: %v", r["mention_identifier"])
	}
	if rows[1]["gkg_gkg_record_id"] != nil || rows[1]["event_actor1_name"] != "ACTOR 1" {
		t.Errorf("no_gkg row: %v %v", rows[1]["gkg_gkg_record_id"], rows[1]["event_actor1_name"])
	}
	// By event within the window: 98 before 99.
	if rows[4]["global_event_id"] != int64(98) || rows[4]["gkg_gkg_record_id"] != nil {
		t.Errorf("expired row of 98: %v %v", rows[4]["global_event_id"], rows[4]["gkg_gkg_record_id"])
	}
	if rows[5]["gkg_gkg_record_id"] != "G-a" || rows[5]["event_global_event_id"] != nil || rows[5]["global_event_id"] != int64(99) {
		t.Errorf("expired row: %v %v", rows[5]["gkg_gkg_record_id"], rows[5]["event_global_event_id"])
	}
	if len(wins) != 1 || wins[0].Window != wid(0) || wins[0].Events != 1 || wins[0].Mentions != 6 || wins[0].GKG != 1 ||
		wins[0].Complete != 1 || wins[0].NoGKG != 3 || wins[0].Expired != 2 || wins[0].JoinRate != 1.0/6 {
		t.Errorf("window stats: %+v", wins)
	}
	st := j.Stats()
	if st.Complete != 1 || st.NoGKG != 3 || st.Expired != 2 || st.Received != (TableCounts{1, 6, 1}) {
		t.Errorf("stats: %+v", st)
	}
}

func TestGKGNearestWindow(t *testing.T) {
	j := newTest(t, 192, 1)
	ins := []input{
		{"export", 5, ev(1, 5)},
		{"gkg", 3, gk(3, "e", "G3-e")}, // 2 windows before: out of range
		{"gkg", 4, gk(4, "a", "G4-a")},
		{"gkg", 4, gk(4, "c", "G4-c")},
		{"gkg", 5, gk(5, "b", "G5-b")},
		{"gkg", 5, gk(5, "f", "G5-f1")},
		{"gkg", 5, gk(5, "f", "G5-f2")}, // same URL, same window: the first is kept
		{"gkg", 6, gk(6, "a", "G6-a")},  // tie with G4-a: the earlier window wins
		{"gkg", 6, gk(6, "b", "G6-b")},  // farther than G5-b
		{"gkg", 6, gk(6, "c", "G6-c")},
		{"gkg", 7, gk(7, "d", "G7-d")}, // 2 windows after: out of range
	}
	for _, u := range []string{"a", "b", "c", "d", "e", "f"} {
		ins = append(ins, input{"mentions", 5, mn(1, 5, 1, u)})
	}
	rows, _ := feed(t, j, ins, nil)
	want := map[string]any{"a": "G4-a", "b": "G5-b", "c": "G4-c", "d": nil, "e": nil, "f": "G5-f1"}
	if len(rows) != 6 {
		t.Fatalf("%d rows", len(rows))
	}
	for _, r := range rows {
		u := r["mention_identifier"].(string)
		if r["gkg_gkg_record_id"] != want[u] {
			t.Errorf("%s: matched %v, want %v", u, r["gkg_gkg_record_id"], want[u])
		}
	}
	if st := j.Stats(); st.DuplicateGKG != 1 {
		t.Errorf("DuplicateGKG %d, want 1", st.DuplicateGKG)
	}

	// Slack 0: the same window only.
	j = newTest(t, 192, 0)
	rows, _ = feed(t, j, ins, nil)
	want = map[string]any{"a": nil, "b": "G5-b", "c": nil, "d": nil, "e": nil, "f": "G5-f1"}
	for _, r := range rows {
		u := r["mention_identifier"].(string)
		if r["gkg_gkg_record_id"] != want[u] {
			t.Errorf("slack 0, %s: matched %v, want %v", u, r["gkg_gkg_record_id"], want[u])
		}
	}
}

func TestRetention(t *testing.T) {
	j := newTest(t, 3, 1)
	rows, _ := feed(t, j, []input{
		{"export", 0, ev(1, 0)},
		{"export", 1, ev(2, 1)},
		{"mentions", 4, mn(1, 4, 2, "x")}, // 4 windows after the event: expired
		{"mentions", 4, mn(2, 4, 2, "x")}, // 3 windows after: joins
		{"mentions", 4, mn(3, 4, 2, "x")}, // the event comes in a later window: expired
		{"export", 5, ev(3, 5)},
		{"gkg", 4, gk(4, "y", "G")},
	}, nil)
	got := []string{}
	for _, r := range rows {
		got = append(got, r[ColumnJoinState].(string))
	}
	if want := []string{StatusExpired, StatusNoGKG, StatusExpired}; !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	// The same with retention 4: event 1 joins too.
	j = newTest(t, 4, 1)
	rows, _ = feed(t, j, []input{
		{"export", 0, ev(1, 0)}, {"mentions", 4, mn(1, 4, 2, "x")}, {"gkg", 4, gk(4, "y", "G")},
	}, nil)
	if rows[0][ColumnJoinState] != StatusNoGKG {
		t.Errorf("retention 4: %v", rows[0][ColumnJoinState])
	}
}

// TestEmissionTiming: the mentions of W come out once every table is complete
// through W+1, i.e. has sent a row of W+2, and not before.
func TestEmissionTiming(t *testing.T) {
	j := newTest(t, 192, 1)
	step := func(in input, wantRows int) {
		t.Helper()
		mustAdd(t, j, in)
		rows, _ := j.Drain()
		if len(rows) != wantRows {
			t.Fatalf("after %s of window %d: %d rows, want %d", in.table, in.win, len(rows), wantRows)
		}
	}
	step(input{"export", 0, ev(1, 0)}, 0)
	step(input{"mentions", 0, mn(1, 0, 1, "u")}, 0)
	step(input{"gkg", 0, gk(0, "v", "G0")}, 0)
	for _, tb := range []string{"export", "mentions", "gkg"} {
		step(input{tb, 1, map[string]map[string]any{"export": ev(2, 1), "mentions": mn(2, 1, 2, "w"), "gkg": gk(1, "u", "G1")}[tb]}, 0)
	}
	// Every table is complete through window 0: window -1 (empty) is out.
	if st := j.Stats(); st.Watermark != wid(0) || st.Emitted != wid(-1) {
		t.Errorf("watermark %d emitted %d, want %d and %d", st.Watermark, st.Emitted, wid(0), wid(-1))
	}
	step(input{"export", 2, ev(3, 2)}, 0)
	step(input{"gkg", 2, gk(2, "z", "G2")}, 0)
	// The last table to start window 2 releases window 0, whose mention
	// matches the GKG row of window 1.
	mustAdd(t, j, input{"mentions", 2, mn(3, 2, 2, "y")})
	rows, wins := j.Drain()
	if len(rows) != 1 || rows[0]["gkg_gkg_record_id"] != "G1" || rows[0][ColumnJoinState] != StatusComplete {
		t.Fatalf("window 0: %v", rows)
	}
	if len(wins) != 1 || wins[0].Window != wid(0) {
		t.Fatalf("window records %+v", wins)
	}
	if st := j.Stats(); st.Watermark != wid(1) || st.Emitted != wid(0) || st.PendingMentions != 2 {
		t.Errorf("stats %+v", st)
	}
	// Complete cuts the wait: window 1 goes once every table declares window 2 done.
	for _, tb := range []string{"export", "mentions"} {
		if err := j.Complete(tb, wid(2)); err != nil {
			t.Fatal(err)
		}
	}
	if rows, _ := j.Drain(); len(rows) != 0 {
		t.Fatalf("released early: %v", rows)
	}
	if err := j.Complete("gkg", wid(2)); err != nil {
		t.Fatal(err)
	}
	if rows, _ := j.Drain(); len(rows) != 1 || rows[0][ColumnWindow] != wid(1) {
		t.Fatalf("window 1: %v", rows)
	}
	rows, wins = j.Flush()
	if len(rows) != 1 || rows[0][ColumnWindow] != wid(2) || len(wins) != 1 || wins[0].Window != wid(2) {
		t.Fatalf("flush: %v %+v", rows, wins)
	}
}

func TestExplicitCompletion(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ExplicitCompletion = true
	j, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for w := 0; w < 4; w++ {
		mustAdd(t, j, input{"export", w, ev(int64(w+1), w)}, input{"mentions", w, mn(int64(w+1), w, 2, "x")}, input{"gkg", w, gk(w, "y", "G")})
	}
	if rows, _ := j.Drain(); len(rows) != 0 || j.Stats().Watermark != 0 {
		t.Fatalf("explicit mode emitted %d rows without Complete", len(rows))
	}
	for _, tb := range []string{"export", "mentions", "gkg"} {
		if err := j.Complete(tb, wid(2)); err != nil {
			t.Fatal(err)
		}
	}
	rows, _ := j.Drain()
	if len(rows) != 2 || rows[1][ColumnWindow] != wid(1) {
		t.Fatalf("after Complete through 2: %d rows", len(rows))
	}
	if rows, _ := j.Flush(); len(rows) != 2 {
		t.Fatalf("flush: %d rows", len(rows))
	}
}

func TestLateRows(t *testing.T) {
	j := newTest(t, 5, 1)
	for w := 0; w < 4; w++ {
		mustAdd(t, j,
			input{"export", w, ev(int64(100+w), w)},
			input{"mentions", w, mn(int64(100+w), w, 1, "u")},
			input{"gkg", w, gk(w, "g", "G")})
	}
	// Every table is complete through 2: windows 0 and 1 are out.
	rows, wins := j.Drain()
	if len(rows) != 2 || len(wins) != 2 || j.Stats().Emitted != wid(1) {
		t.Fatalf("setup: %d rows, %d windows, emitted %d", len(rows), len(wins), j.Stats().Emitted)
	}

	// A late event of window 1 (out already) joins the pending mention of window 2.
	mustAdd(t, j, input{"mentions", 2, mn(7, 2, 2, "late-event")})
	mustAdd(t, j, input{"export", 1, ev(7, 1)})
	// A late GKG row of window 2 (window 1 is out, so it may have missed a mention) matches a pending mention.
	mustAdd(t, j, input{"mentions", 2, mn(100, 2, 1, "late-gkg")})
	mustAdd(t, j, input{"gkg", 2, gk(2, "late-gkg", "G-late")})
	// A late mention of window 0: joined at once with the state as it is.
	mustAdd(t, j, input{"mentions", 0, mn(100, 0, 1, "u")})
	// A late event older than the state keeps: dropped.
	evictedBefore := j.Stats().EventsEvicted
	mustAdd(t, j, input{"export", -10, ev(8, -10)})

	st := j.Stats()
	if st.Late != (TableCounts{Events: 2, Mentions: 1, GKG: 1}) {
		t.Errorf("late %+v", st.Late)
	}
	if st.EventsEvicted != evictedBefore+1 {
		t.Errorf("evicted %d, want %d", st.EventsEvicted, evictedBefore+1)
	}
	rows, wins = j.Drain()
	if len(rows) != 1 || rows[0][ColumnWindow] != wid(0) || rows[0][ColumnJoinState] != StatusNoGKG {
		t.Fatalf("late mention: %v", rows)
	}
	// The late rows of windows -10, 0 and 1 come as supplements, in window order.
	if len(wins) != 3 || !wins[0].Late || wins[0].Window != wid(-10) || wins[0].Events != 1 ||
		wins[1].Window != wid(0) || wins[1].Mentions != 1 || wins[1].NoGKG != 1 ||
		wins[2].Window != wid(1) || wins[2].Events != 1 || wins[2].Mentions != 0 {
		t.Fatalf("late window records: %+v", wins)
	}
	rows, wins = j.Flush()
	got := map[string]string{}
	for _, r := range rows {
		got[r["mention_identifier"].(string)] = r[ColumnJoinState].(string)
	}
	if got["late-event"] != StatusNoGKG || got["late-gkg"] != StatusComplete {
		t.Errorf("pending after late rows: %v", got)
	}
	for _, w := range wins {
		if w.Late {
			t.Errorf("unexpected late record %+v", w)
		}
		if w.Window == wid(2) && (w.Mentions != 3 || w.GKG != 2) {
			t.Errorf("window 2: %+v", w)
		}
	}
}

func TestFlushThenFollow(t *testing.T) {
	j := newTest(t, 192, 1)
	mustAdd(t, j, input{"export", 0, ev(1, 0)}, input{"mentions", 0, mn(1, 0, 1, "a")}, input{"gkg", 0, gk(0, "b", "G")})
	rows, wins := j.Flush()
	if len(rows) != 1 || len(wins) != 1 || j.Stats().Emitted != wid(0) {
		t.Fatalf("flush: %d rows, %d windows", len(rows), len(wins))
	}
	// The live stream goes on with window 1; its GKG rows are late for window 0.
	for w := 1; w < 4; w++ {
		mustAdd(t, j, input{"export", w, ev(int64(w+1), w)}, input{"mentions", w, mn(int64(w+1), w, 1, "a")}, input{"gkg", w, gk(w, "a", "G")})
	}
	// Flush took every table as complete through window 1; now they are through 2.
	rows, _ = j.Drain()
	if len(rows) != 1 || rows[0][ColumnJoinState] != StatusComplete || rows[0][ColumnWindow] != wid(1) {
		t.Fatalf("follow: %v", rows)
	}
	if st := j.Stats(); st.Late != (TableCounts{GKG: 1}) {
		t.Errorf("late %+v", st.Late)
	}
	if rows, _ := j.Flush(); len(rows) != 2 {
		t.Errorf("second flush: %d rows", len(rows))
	}
	if rows, _ := j.Flush(); len(rows) != 0 {
		t.Errorf("third flush: %d rows", len(rows))
	}
}

func TestWindowStats(t *testing.T) {
	clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg := DefaultConfig()
	cfg.Now = func() time.Time { clock = clock.Add(time.Second); return clock }
	j, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, j,
		input{"gkg", 0, gk(0, "only-gkg", "G0")}, // window 0: GKG only
		input{"export", 1, ev(1, 1)},
		input{"export", 1, ev(2, 1)},
		input{"mentions", 1, mn(1, 1, 1, "a")},
		input{"mentions", 1, mn(2, 1, 1, "b")},
		input{"mentions", 1, mn(3, 1, 1, "c")},
		input{"mentions", 1, mn(1, 1, 2, "d")},
		input{"gkg", 1, gk(1, "a", "Ga")},
		input{"gkg", 2, gk(2, "c", "Gc")},
	)
	_, wins := j.Flush()
	if len(wins) != 3 {
		t.Fatalf("%d records: %+v", len(wins), wins)
	}
	w0, w1, w2 := wins[0], wins[1], wins[2]
	if w0.Window != wid(0) || w0.GKG != 1 || w0.Mentions != 0 || w0.JoinRate != 0 {
		t.Errorf("window 0: %+v", w0)
	}
	if w1.Window != wid(1) || w1.Events != 2 || w1.Mentions != 4 || w1.GKG != 1 || w1.Complete != 1 || w1.NoGKG != 2 || w1.Expired != 1 || w1.JoinRate != 0.25 {
		t.Errorf("window 1: %+v", w1)
	}
	if w2.Window != wid(2) || w2.GKG != 1 || w2.Mentions != 0 {
		t.Errorf("window 2: %+v", w2)
	}
	if !w0.FirstArrival.Before(w1.FirstArrival) || !w1.FirstArrival.Before(w1.Completed) || w1.Completed.After(w2.Completed) {
		t.Errorf("times: %v %v %v %v", w0.FirstArrival, w1.FirstArrival, w1.Completed, w2.Completed)
	}
}

// TestStateBounded: over a long run the state stays within the retention.
func TestStateBounded(t *testing.T) {
	const R, perWindow, windows, memory = 8, 20, 400, 16
	cfg := DefaultConfig()
	cfg.EventRetentionWindows, cfg.GKGWindowSlack, cfg.EventIDMemoryWindows = R, 1, memory
	j, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	id := int64(1)
	var maxEvents, maxGKG, maxPending int
	var bytesEarly, bytesLate int64
	for w := 0; w < windows; w++ {
		first := id
		for k := 0; k < perWindow; k++ {
			mustAdd(t, j, input{"export", w, ev(id, w)})
			id++
		}
		for k := 0; k < 2*perWindow; k++ {
			ref := first + int64(r.IntN(perWindow))
			if r.IntN(2) == 0 {
				ref -= int64(r.IntN(12 * perWindow)) // up to 12 windows back
			}
			mustAdd(t, j, input{"mentions", w, mn(ref, w, 1, "u"+itoa(int64(w*1000+k)))})
		}
		for k := 0; k < perWindow/2; k++ {
			mustAdd(t, j, input{"gkg", w, gk(w, "u"+itoa(int64(w*1000+k)), "G")})
		}
		j.Drain()
		st := j.Stats()
		maxEvents = max(maxEvents, st.StateEvents)
		maxGKG = max(maxGKG, st.StateGKG)
		maxPending = max(maxPending, st.PendingMentions)
		if w == windows/4 {
			bytesEarly = st.StateBytes
		}
		if w > windows/4 {
			bytesLate = max(bytesLate, st.StateBytes)
		}
	}
	// Events of the last emitted window and the R before it, plus the windows not yet emitted.
	if maxEvents > (R+3)*perWindow {
		t.Errorf("events in state up to %d, want <= %d", maxEvents, (R+3)*perWindow)
	}
	if maxGKG > 4*perWindow/2 {
		t.Errorf("GKG rows in state up to %d", maxGKG)
	}
	if maxPending > 3*2*perWindow {
		t.Errorf("pending mentions up to %d", maxPending)
	}
	if st := j.Stats(); st.IDMemoryWindows > memory-R || st.IDMemoryBytes <= 0 {
		t.Errorf("id memory: %d windows, %d bytes", st.IDMemoryWindows, st.IDMemoryBytes)
	}
	if bytesLate > bytesEarly*11/10 {
		t.Errorf("state bytes grow: %d at a quarter, up to %d later", bytesEarly, bytesLate)
	}
	st := j.Stats()
	if st.EventsEvicted < uint64((windows-R-4)*perWindow) || st.GKGEvicted == 0 {
		t.Errorf("evictions: events %d, gkg %d", st.EventsEvicted, st.GKGEvicted)
	}
	rows, _ := j.Flush()
	st = j.Stats()
	if st.PendingMentions != 0 || len(rows) == 0 {
		t.Errorf("after flush: %d pending, %d rows", st.PendingMentions, len(rows))
	}
	if total := st.Complete + st.NoGKG + st.Expired; total != uint64(windows*2*perWindow) {
		t.Errorf("%d rows emitted, want %d", total, windows*2*perWindow)
	}
	if st.Complete == 0 || st.NoGKG == 0 || st.Expired == 0 {
		t.Errorf("statuses %d %d %d", st.Complete, st.NoGKG, st.Expired)
	}
}

func TestAddErrors(t *testing.T) {
	j := newTest(t, 192, 1)
	bad := func(table string, row map[string]any, want string) {
		t.Helper()
		err := j.Add(table, row)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", table, err, want)
		}
	}
	bad("nope", ev(1, 0), "unknown GDELT table")
	e := ev(1, 0)
	delete(e, "global_event_id")
	bad("export", e, "global_event_id")
	e = ev(1, 0)
	e["date_added"] = int64(20241301000000)
	bad("export", e, "not a window id")
	e = ev(1, 0)
	e["num_mentions"] = "3"
	bad("export", e, "column num_mentions: got string, want int64")
	e = ev(1, 0)
	e["avg_tone"] = int64(3)
	bad("export", e, "column avg_tone")
	m := mn(1, 0, 1, "u")
	m["mention_identifier"] = int64(5)
	bad("mentions", m, "mention_identifier")
	m = mn(1, 0, 1, "u")
	m["mention_time_date"] = "20240101000000"
	bad("mentions", m, "mention_time_date")
	g := gk(0, "u", "G")
	g["date"] = nil
	bad("gkg", g, "column date")
	st := j.Stats()
	if st.Rejected != (TableCounts{Events: 4, Mentions: 2, GKG: 1}) || st.Received != (TableCounts{}) {
		t.Errorf("counts: rejected %+v received %+v", st.Rejected, st.Received)
	}
	if st.StateEvents != 0 || st.PendingMentions != 0 || st.StateGKG != 0 || st.Watermark != 0 {
		t.Errorf("state touched: %+v", st)
	}
	// A rejected row between two good ones of the same window leaves the arena intact.
	mustAdd(t, j, input{"export", 0, ev(1, 0)})
	e = ev(2, 0)
	e["year"] = 1.5
	if err := j.Add("export", e); err == nil {
		t.Fatal("accepted")
	}
	mustAdd(t, j, input{"export", 0, ev(3, 0)}, input{"mentions", 0, mn(3, 0, 2, "x")}, input{"gkg", 0, gk(0, "y", "G")})
	rows, _ := j.Flush()
	if len(rows) != 1 || rows[0]["event_actor1_name"] != "ACTOR 3" {
		t.Errorf("after a rejected row: %v", rows)
	}
	if _, err := New(Config{EventRetentionWindows: -1}); err == nil {
		t.Error("negative retention accepted")
	}
	if err := j.Complete("export", 42); err == nil {
		t.Error("Complete with a bad window accepted")
	}
}

func TestDuplicateEvent(t *testing.T) {
	j := newTest(t, 192, 1)
	e2 := ev(1, 1)
	e2["actor1_name"] = "SECOND"
	rows, _ := feed(t, j, []input{
		{"export", 0, ev(1, 0)}, {"export", 1, e2}, {"mentions", 1, mn(1, 0, 2, "x")}, {"gkg", 1, gk(1, "y", "G")},
	}, nil)
	if len(rows) != 1 || rows[0]["event_actor1_name"] != "ACTOR 1" || j.Stats().DuplicateEvents != 1 {
		t.Errorf("duplicate: %v, %d", rows[0]["event_actor1_name"], j.Stats().DuplicateEvents)
	}
}

func TestNestedGKG(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NestedGKG = true
	j, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	g := gk(0, "a", "G")
	g["page_title"] = "A title"
	g["page_precise_pub_timestamp"] = int64(20240101000000)
	g["themes"] = []any{"TAX_FNCACT", "KILL"}
	rows, _ := feed(t, j, []input{{"export", 0, ev(1, 0)}, {"mentions", 0, mn(1, 0, 1, "a")}, {"gkg", 0, g}}, nil)
	r := rows[0]
	if len(r) != len(Columns(true)) || r["gkg_page_title"] != "A title" || r["gkg_page_precise_pub_timestamp"] != int64(20240101000000) {
		t.Errorf("%d columns, title %v", len(r), r["gkg_page_title"])
	}
	if th, ok := r["gkg_themes"].([]any); !ok || len(th) != 2 {
		t.Errorf("nested themes: %#v", r["gkg_themes"])
	}
}

// TestRowsIndependent: the input maps are not modified, and each silver row
// is a map of its own.
func TestRowsIndependent(t *testing.T) {
	j := newTest(t, 192, 1)
	m := mn(1, 0, 1, "a")
	before := canon(m, schema.Mentions.Columns)
	rows, _ := feed(t, j, []input{{"export", 0, ev(1, 0)}, {"mentions", 0, m}, {"mentions", 0, m}, {"gkg", 0, gk(0, "a", "G")}}, nil)
	if canon(m, schema.Mentions.Columns) != before || len(m) != 16 {
		t.Error("input row modified")
	}
	rows[0]["event_actor1_name"] = "changed"
	if rows[1]["event_actor1_name"] != "ACTOR 1" {
		t.Error("rows share a map")
	}
}

// TestEmitEvents: with EmitEvents every stored event comes out exactly once,
// with its export columns unchanged, whatever the order; every window opens
// once (DrainOpened) before its record is emitted.
func TestEmitEvents(t *testing.T) {
	d := makeOracleData(t)
	want := map[int64]map[string]any{}
	for _, x := range d.inputs {
		if x.table == "export" {
			id := x.row["global_event_id"].(int64)
			if _, dup := want[id]; !dup {
				want[id] = x.row
			}
		}
	}
	for _, o := range oracleOrders(d)[:8] {
		cfg := DefaultConfig()
		cfg.EventRetentionWindows = oracleRetention
		cfg.EmitEvents = true
		j, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int64]int{}
		opened := map[int64]int{}
		var lastWin int64
		check := func(evs []map[string]any) {
			for _, ev := range evs {
				id := ev["global_event_id"].(int64)
				got[id]++
				if w := ev["date_added"].(int64); w < lastWin {
					t.Fatalf("%s: event of window %d after one of %d", o.name, w, lastWin)
				} else {
					lastWin = w
				}
				for k, v := range want[id] {
					if ev[k] != v {
						t.Fatalf("%s: event %d column %s = %v, want %v", o.name, id, k, ev[k], v)
					}
				}
				if len(ev) != len(schema.Events.Columns) {
					t.Fatalf("%s: event row has %d columns", o.name, len(ev))
				}
			}
		}
		for i := 0; i < len(o.inputs); i += 37 {
			mustAdd(t, j, o.inputs[i:min(i+37, len(o.inputs))]...)
			_, wins := j.Drain()
			for _, ws := range j.DrainOpened() {
				opened[ws.Window]++
			}
			for _, ws := range wins {
				if opened[ws.Window] != 1 {
					t.Fatalf("%s: window %d emitted, opened %d times", o.name, ws.Window, opened[ws.Window])
				}
			}
			check(j.DrainEvents())
		}
		j.Flush()
		check(j.DrainEvents())
		for id := range want {
			if got[id] != 1 {
				t.Fatalf("%s: event %d emitted %d times", o.name, id, got[id])
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d events emitted, want %d", o.name, len(got), len(want))
		}
	}
}

// TestReexports: an event exported again keeps its first sighting, whether the
// first copy is still in state or was evicted into the id memory; past the
// memory a repeat is a new event; a restarted Joiner given the persisted ids
// decides as an uninterrupted one.
func TestReexports(t *testing.T) {
	const retention, memory = 2, 6
	newJ := func() *Joiner {
		cfg := DefaultConfig()
		cfg.EventRetentionWindows, cfg.GKGWindowSlack, cfg.EventIDMemoryWindows = retention, 1, memory
		cfg.EmitEvents = true
		j, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	// Event 1 first seen in window 0; exported again in window 1 (first still
	// in state), in window 4 (evicted: in the id memory) and in window 12
	// (forgotten: a new event). Mentions of 1 in windows 1, 4 and 12.
	second := ev(1, 1)
	second["actor1_name"] = "AGAIN"
	ins := []input{
		{"export", 0, ev(1, 0)}, {"export", 0, ev(2, 0)},
		{"export", 1, second}, {"mentions", 1, mn(1, 1, 2, "x")},
		{"export", 4, ev(1, 4)}, {"mentions", 4, mn(1, 4, 2, "x")},
		{"export", 12, ev(1, 12)}, {"mentions", 12, mn(1, 12, 2, "x")},
	}
	for w := 0; w <= 14; w++ { // every table moves through every window
		ins = append(ins, input{"gkg", w, gk(w, fmt.Sprintf("u%d", w), fmt.Sprint("G", w))})
	}
	slices.SortStableFunc(ins, func(a, b input) int { return a.win - b.win })

	j := newJ()
	rows, _ := feed(t, j, ins, nil)
	persisted, forgotten := j.DrainEvictedIDs()
	if len(persisted) == 0 || len(forgotten) == 0 {
		t.Fatalf("nothing evicted (%v) or forgotten (%v)", persisted, forgotten)
	}
	var statuses []string
	for _, r := range rows {
		statuses = append(statuses, r[ColumnJoinState].(string)+"/"+fmt.Sprint(r["event_actor1_name"]))
	}
	// window 1: joins the first sighting (ACTOR 1, not AGAIN); window 4: the
	// first sighting is 4 windows old, past the retention: expired, not joined
	// to the re-export; window 12: a new event.
	want := []string{"no_gkg/ACTOR 1", "expired/<nil>", "no_gkg/ACTOR 1"}
	if !slices.Equal(statuses, want) {
		t.Fatalf("statuses %v, want %v", statuses, want)
	}
	var evWins []int64
	for _, e := range j.DrainEvents() {
		if e["global_event_id"] == int64(1) {
			evWins = append(evWins, e["date_added"].(int64))
		}
	}
	if !slices.Equal(evWins, []int64{wid(0), wid(12)}) {
		t.Fatalf("events table rows for id 1 in windows %v, want %v", evWins, []int64{wid(0), wid(12)})
	}
	if d := j.Stats().DuplicateEvents; d != 2 {
		t.Fatalf("duplicates %d, want 2", d)
	}

	// A restart at window 3 with a rewind of retention+slack+1 windows would
	// replay windows 0..; here the replay starts at window 3 (window 0 was
	// evicted): without the persisted ids the window-4 copy would be new.
	fresh := newJ()
	var rest []input
	for _, x := range ins {
		if x.win >= 3 {
			rest = append(rest, x)
		}
	}
	rowsNoMemory, _ := feed(t, fresh, rest, nil)
	if rowsNoMemory[0][ColumnJoinState] != StatusNoGKG {
		t.Fatalf("without the memory the window-4 re-export should join as new: %v", rowsNoMemory[0][ColumnJoinState])
	}
	// The uninterrupted run persisted what it evicted; a restart is given the
	// windows before its replay.
	j2 := newJ()
	for _, e := range persisted {
		if e.Window < wid(3) {
			if err := j2.RememberIDs(e.Window, e.IDs); err != nil {
				t.Fatal(err)
			}
		}
	}
	rows2, _ := feed(t, j2, rest, nil)
	if rows2[0][ColumnJoinState] != StatusExpired || rows2[1][ColumnJoinState] != StatusNoGKG {
		t.Fatalf("with the persisted ids: %v, %v", rows2[0][ColumnJoinState], rows2[1][ColumnJoinState])
	}
}

func TestIDMemory(t *testing.T) {
	var m idMemory
	m.add(10, []int64{100, 101, 103, 104})     // dense: a bitset
	m.add(20, []int64{5000, 1, 9_000_000_000}) // sparse: a list
	m.add(10, []int64{7})                      // already there: ignored
	for _, c := range []struct {
		id, win int64
		want    bool
	}{
		{101, 11, true}, {102, 11, false}, {101, 10, false}, {1, 21, true}, {1, 20, false},
		{9_000_000_000, 30, true}, {9_000_000_001, 30, false}, {7, 30, false},
	} {
		if got := m.seenBefore(c.id, c.win, 100); got != c.want {
			t.Errorf("seenBefore(%d, %d) = %v", c.id, c.win, got)
		}
	}
	if gone := m.expire(15); !slices.Equal(gone, []int64{10}) || m.seenBefore(101, 30, 100) || !m.seenBefore(5000, 30, 100) || m.seenBefore(5000, 30, 9) {
		t.Fatalf("expire: gone %v", gone)
	}
	ids := []int64{9, 3, 3, 1_000_000_000_000, 4}
	back, err := DecodeIDs(EncodeIDs(ids))
	if err != nil || !slices.Equal(back, []int64{3, 4, 9, 1_000_000_000_000}) {
		t.Fatalf("round trip %v %v", back, err)
	}
}

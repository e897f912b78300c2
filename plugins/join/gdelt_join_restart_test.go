package join

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	_ "github.com/redpanda-data/benthos/v4/public/components/pure"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
	_ "github.com/gdeltflow/gdeltflow/plugins/state"
)

// txnSink stands for the silver Delta tables: per table and txn appId it
// keeps the committed version (the window) and skips rows at or below it,
// as delta_lake with progress: custom does. It survives the "process".
type txnSink struct {
	mu        sync.Mutex
	committed map[string]int64
	rows      map[string][]string // table → canonical rows
}

func newTxnSink() *txnSink {
	return &txnSink{committed: map[string]int64{}, rows: map[string][]string{}}
}

func (s *txnSink) write(b service.MessageBatch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	type pending struct {
		rows []string
		max  int64
	}
	byKey := map[string]*pending{}
	var order []string
	for _, m := range b {
		if err := m.GetError(); err != nil {
			return fmt.Errorf("a failed message reached the tables: %w", err)
		}
		table, ok := m.MetaGet(contract.MetaSilverTable)
		if !ok {
			continue // a bronze row or a marker, passed through
		}
		app, _ := m.MetaGet(contract.MetaSilverTxnApp)
		ws, _ := m.MetaGet(contract.MetaSilverWindow)
		var w int64
		fmt.Sscan(ws, &w)
		key := table + "|" + app
		v, err := m.AsStructured()
		if err != nil {
			return err
		}
		row := v.(map[string]any)
		if table == AuditWindows {
			if row["status"] != StatusSilverComplete {
				continue
			}
			r := map[string]any{}
			for k, x := range row {
				if k != "first_arrival" && k != "silver_completed" && k != "recorded_at" {
					r[k] = x
				}
			}
			row = r
		}
		js, err := json.Marshal(row)
		if err != nil {
			return err
		}
		p := byKey[key]
		if p == nil {
			p = &pending{}
			byKey[key] = p
			order = append(order, key)
		}
		if w > s.committed[key] {
			p.rows = append(p.rows, table+" "+string(js))
		}
		p.max = max(p.max, w)
	}
	for _, key := range order {
		p := byKey[key]
		if p.max <= s.committed[key] {
			continue
		}
		table, _, _ := strings.Cut(key, "|")
		s.rows[table] = append(s.rows[table], p.rows...)
		s.committed[key] = p.max
	}
	return nil
}

func (s *txnSink) sorted() map[string][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]string{}
	for t, r := range s.rows {
		out[t] = slices.Sorted(slices.Values(r))
	}
	return out
}

// runJoinStream runs gdelt_feed → gdelt_decode → gdelt_join (pass_through,
// state in an atomic_file cache) into sink, as pipelines/local.yaml does. With
// killAfter > 0 the run dies at its killAfter-th output batch: that batch and
// every later one is never acknowledged, and the stream is torn down. It
// returns whether the run was killed, and its log.
func runJoinStream(t *testing.T, mirror, state string, retention, batchRows int, sink *txnSink, killAfter int) (bool, string) {
	t.Helper()
	sb := service.NewStreamBuilder()
	var logBuf bytes.Buffer
	var logMu sync.Mutex
	sb.SetLogger(slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logBuf}, &slog.HandlerOptions{Level: slog.LevelInfo})))
	err := sb.SetYAML(fmt.Sprintf(`
input:
  gdelt_feed:
    base_url: %s
    mode: backfill
    checkpoint_cache: state
    max_batch_rows: %d
    window_markers: true
pipeline:
  threads: 1
  processors:
    - gdelt_decode: {}
    - gdelt_join:
        event_retention_windows: %d
        pass_through: true
        state_cache: state
        stall_warning_after: 0s
output:
  drop: {}
cache_resources:
  - label: state
    atomic_file:
      directory: %s
`, mirror, batchRows, retention, state))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	calls, killed := 0, false
	err = sb.AddBatchConsumerFunc(func(cctx context.Context, b service.MessageBatch) error {
		mu.Lock()
		calls++
		dead := killed || (killAfter > 0 && calls >= killAfter)
		if dead && !killed {
			killed = true
			cancel()
		}
		mu.Unlock()
		if dead {
			<-ctx.Done()
			return ctx.Err()
		}
		return sink.write(b)
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := sb.Build()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		logMu.Lock()
		t.Fatalf("the stream did not end within 2 minutes:\n%s", logBuf.String())
	}
	mu.Lock()
	k := killed
	mu.Unlock()
	if err != nil && !k {
		t.Fatalf("stream: %v", err)
	}
	logMu.Lock()
	defer logMu.Unlock()
	return k, logBuf.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func genJoinMirror(t *testing.T, windows int, seed int64) string {
	t.Helper()
	dir := t.TempDir()
	m, err := gdeltgen.NewMirror(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	cfg := gdeltgen.Small(time.Date(2023, 7, 2, 15, 45, 0, 0, time.UTC), windows, seed)
	cfg.Reexports = 4
	if err := gdeltgen.Generate(cfg, m.AddWindow); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestJoinRestartsFromSnapshots kills the feed → join stream at random output
// batches (the killed batch and everything after it never acknowledged, the
// state written so far kept), restarts it on the same state and tables until
// a run ends, for many seeds, and compares the silver rows, the events and
// the audit records with one uninterrupted run's. It also checks that the
// restarts restored the join's events from its snapshots and read few
// windows again.
func TestJoinRestartsFromSnapshots(t *testing.T) {
	seeds := 12
	if testing.Short() {
		seeds = 3
	}
	const windows, retention = 24, 6
	mirror := genJoinMirror(t, windows, 7)
	refSink := newTxnSink()
	if killed, _ := runJoinStream(t, mirror, t.TempDir(), retention, 50, refSink, 0); killed {
		t.Fatal("the reference run was killed")
	}
	ref := refSink.sorted()
	if len(ref[SilverEventsDetailed]) == 0 || len(ref[SilverEvents]) == 0 || len(ref[AuditWindows]) != windows {
		t.Fatalf("reference run: %d silver rows, %d events, %d audit records (want %d)",
			len(ref[SilverEventsDetailed]), len(ref[SilverEvents]), len(ref[AuditWindows]), windows)
	}
	kills, restored := 0, 0
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(uint64(seed), 11))
		state := t.TempDir()
		sink := newTxnSink()
		batch := 20 + rng.IntN(60)
		var logs []string
		for run := 0; ; run++ {
			kill := 0
			if run < 8 {
				kill = 1 + rng.IntN(60)
			}
			killed, log := runJoinStream(t, mirror, state, retention, batch, sink, kill)
			logs = append(logs, log)
			if strings.Contains(log, "restored") && strings.Contains(log, "from the state snapshots") {
				restored++
			}
			if !killed {
				break
			}
			kills++
		}
		got := sink.sorted()
		for _, table := range []string{SilverEventsDetailed, SilverEvents, AuditWindows} {
			if !slices.Equal(got[table], ref[table]) {
				t.Errorf("seed %d (batch %d rows): %s differs from the uninterrupted run: %d rows, want %d%s",
					seed, batch, table, len(got[table]), len(ref[table]), firstRowDiff(got[table], ref[table]))
			}
		}
		if t.Failed() {
			for i, l := range logs {
				t.Logf("seed %d run %d log:\n%s", seed, i, grepLines(l, "gdelt_join", "rewind", "resuming"))
			}
			return
		}
	}
	t.Logf("%d kills over %d seeds; %d restarts restored the join's events from snapshots", kills, seeds, restored)
	if kills < 20 && !testing.Short() {
		t.Errorf("only %d kills", kills)
	}
	if restored < kills/3 {
		t.Errorf("only %d of %d restarts restored from snapshots", restored, kills)
	}
}

func firstRowDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("; first difference:\n got %.300s\nwant %.300s", a[i], b[i])
		}
	}
	return ""
}

func grepLines(s string, words ...string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		for _, w := range words {
			if strings.Contains(l, w) && !strings.Contains(l, "joined:") {
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

// TestJoinSnapshotRoundTrip: a window's events survive SnapshotEvents →
// RestoreEvents byte for byte, and a damaged or foreign snapshot is refused.
func TestJoinSnapshotRoundTrip(t *testing.T) {
	j := newTest(t, 4, 1)
	mustAdd(t, j, input{"export", 0, ev(1, 0)}, input{"export", 0, ev(2, 0)}, input{"export", 1, ev(3, 1)})
	snap, n := j.SnapshotEvents(wid(0))
	if n != 2 {
		t.Fatalf("snapshot of window 0 holds %d events, want 2", n)
	}
	k := newTest(t, 4, 1)
	if got, err := k.RestoreEvents(wid(0), snap); err != nil || got != 2 {
		t.Fatalf("RestoreEvents: %d, %v", got, err)
	}
	again, _ := k.SnapshotEvents(wid(0))
	if !bytes.Equal(again, snap) {
		t.Error("a restored window's snapshot differs from the original")
	}
	mustAdd(t, k, input{"mentions", 1, mn(1, 1, 2, "")}, input{"mentions", 1, mn(9, 1, 2, "")})
	rows, _ := k.Flush()
	if len(rows) != 2 || rows[0][ColumnJoinState] != StatusNoGKG || rows[1][ColumnJoinState] != StatusExpired {
		t.Errorf("after restore, mentions of events 1 and 9: %v", rows)
	}
	bad := bytes.Clone(snap)
	bad[len(bad)/2] ^= 1
	if _, err := newTest(t, 4, 1).RestoreEvents(wid(0), bad); err == nil {
		t.Error("a damaged snapshot was restored")
	}
	if _, err := newTest(t, 4, 1).RestoreEvents(wid(0), []byte("nope")); err == nil {
		t.Error("garbage was restored")
	}
}

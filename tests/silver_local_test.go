package tests

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
	"github.com/gdeltflow/gdeltflow/tests/duckdbtest"
)

// silverResult is silver_compare.mjs's report.
type silverResult struct {
	DetailedRows   int64            `json:"detailed_rows"`
	ExpectedRows   int64            `json:"expected_rows"`
	Missing        int64            `json:"missing"`
	Extra          int64            `json:"extra"`
	ByStatus       map[string]int64 `json:"by_status"`
	EventsRows     int64            `json:"events_rows"`
	EventsExpected int64            `json:"events_expected"`
	EventsMissing  int64            `json:"events_missing"`
	EventsExtra    int64            `json:"events_extra"`
	AuditWindows   int64            `json:"audit_windows"`
	AuditMismatch  int64            `json:"audit_mismatch"`
}

func (r silverResult) exact() bool {
	return r.Missing == 0 && r.Extra == 0 && r.EventsMissing == 0 && r.EventsExtra == 0 && r.AuditMismatch == 0 &&
		r.DetailedRows == r.ExpectedRows && r.ExpectedRows > 0 && r.EventsRows == r.EventsExpected
}

// rawDir unzips every table of a mirror into one folder, as silver_compare.mjs reads them.
func rawDir(t *testing.T, mirror string) string {
	t.Helper()
	dir := t.TempDir()
	for _, table := range []string{"export", "mentions", "gkg"} {
		unzipTable(t, mirror, table, dir)
	}
	return dir
}

// compareSilver runs the SQL oracle (tests/duckdb/silver_compare.mjs) over the
// raw files and the silver tables under out.
func compareSilver(t *testing.T, raw, out string, retention int, through string) silverResult {
	t.Helper()
	args := []string{raw, out, strconv.Itoa(retention)}
	if through != "" {
		args = append(args, through)
	}
	rows := duckdbtest.Run(t, "silver_compare.mjs", "", args...)
	b, err := json.Marshal(rows[0])
	if err != nil {
		t.Fatal(err)
	}
	var r silverResult
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestSilverLocalOracle runs the offline default (pipelines/local.yaml) over a
// generated mirror (late mentions, documents shared by several events, GKG
// rows without mentions, repeated mentions, GKG rows one window off) with
// several batch sizes, and checks the silver tables against the join written
// in SQL (tests/duckdb/join_oracle.mjs, joinSQL: the semantics) run by DuckDB
// over the raw files: the same rows with the same values, each once; the
// events table against the export rows; the audit's counts per window.
func TestSilverLocalOracle(t *testing.T) {
	requireDuckDB(t)
	mirror, windows := genMirror(t, 10, 21)
	raw := rawDir(t, mirror)
	var ref silverResult
	for i, batch := range []string{"1024", "7", "193"} {
		out := t.TempDir()
		// A short retention (2 windows) makes events expire within the data set.
		for _, retention := range []int{192, 2} {
			o := filepath.Join(out, strconv.Itoa(retention))
			runLocal(t, "GDELT_BASE_URL="+mirror, "GDELT_OUT="+o, "GDELT_BATCH_ROWS="+batch, "SILVER_RETENTION="+strconv.Itoa(retention))
			got := compareSilver(t, raw, o, retention, "")
			t.Logf("batch %s rows, retention %d: %+v", batch, retention, got)
			if !got.exact() {
				t.Errorf("batch %s, retention %d: silver differs from the SQL join: %+v", batch, retention, got)
			}
			if got.AuditWindows != int64(len(windows)) {
				t.Errorf("audit/windows has %d SILVER_COMPLETE windows, want %d", got.AuditWindows, len(windows))
			}
			for _, s := range []string{"complete", "no_gkg", "expired"} {
				if got.ByStatus[s] == 0 {
					t.Errorf("retention %d: no %s row: the data set does not exercise every status", retention, s)
				}
			}
			if retention == 192 {
				if i == 0 {
					ref = got
				} else if got.ByStatus["complete"] != ref.ByStatus["complete"] || got.DetailedRows != ref.DetailedRows {
					t.Errorf("batch %s: %+v, batch 1024: %+v", batch, got, ref)
				}
			}
		}
	}
}

// TestSilverLocalCrash kills the offline default with SIGKILL at 20 random
// points and restarts it; at the end the silver tables equal the SQL join
// exactly, as an uninterrupted run's do (TestSilverLocalOracle), re-exports
// included.
func TestSilverLocalCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("20 kill -9 trials")
	}
	requireDuckDB(t)
	// Re-exported events, most of them past a retention of 8 windows: the
	// join's id memory must survive the kills (it is kept in out/state).
	const retention = 8
	mirror, windows := genMirrorWith(t, 60, 23, func(c *gdeltgen.Config) { c.Reexports = 6 })
	raw := rawDir(t, mirror)
	out := t.TempDir()
	// Small batches, and bronze commits every 1 s rather than 250 ms, so
	// that a run lasts long enough for kills to land in it.
	env := []string{"GDELT_BASE_URL=" + mirror, "GDELT_OUT=" + out, "GDELT_BATCH_ROWS=40", "DELTA_BATCH_ROWS=200",
		"DELTA_BATCH_PERIOD=1s", "SILVER_RETENTION=" + strconv.Itoa(retention), "LOG_LEVEL=info"}
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 5))
	t.Logf("kill times drawn with seed %d", seed)
	// 20 kills that land while the run is still going; a run that ends before
	// its kill leaves checkpoints the next one resumes from.
	// Every restart after the first checkpoint should restore the join's
	// events from its snapshots (gdelt_join logs it) and read 3 windows again.
	kills, runs, resumed, restored := 0, 0, 0, 0
	count := func(log string) {
		if strings.Contains(log, "gdelt_feed: resuming after window") {
			resumed++
			if strings.Contains(log, "from the state snapshots") && strings.Contains(log, "rewind_windows 3 ") {
				restored++
			}
		}
	}
	for ; kills < 20 && runs < 80; runs++ {
		p := startPipeline(t, "pipelines/local.yaml", env...)
		select {
		case <-time.After(time.Duration(200+rng.IntN(1800)) * time.Millisecond):
			p.Kill()
			kills++
		case <-p.exited:
		}
		count(p.log.String())
	}
	if kills < 20 {
		t.Fatalf("only %d of %d runs were killed before they ended", kills, runs)
	}
	last := startPipeline(t, "pipelines/local.yaml", env...)
	last.Wait(3 * time.Minute)
	count(last.log.String())
	got := compareSilver(t, raw, out, retention, "")
	t.Logf("after %d kill -9 trials in %d runs over %d windows (%d restarts resumed a checkpoint, %d of them restored the join from snapshots): %+v",
		kills, runs, len(windows), resumed, restored, got)
	// How many lives reach a first checkpoint depends on the machine's load.
	if resumed < 5 || restored < resumed*3/4 {
		t.Errorf("%d restarts resumed a checkpoint, %d restored the join's state from snapshots: want most", resumed, restored)
	}
	if !got.exact() || got.AuditWindows != int64(len(windows)) {
		t.Errorf("silver after crashes differs from the SQL join: %+v", got)
	}
	if _, err := os.Stat(filepath.Join(out, "rejects.jsonl")); err == nil {
		t.Errorf("rejects.jsonl exists: %s", readFile(t, filepath.Join(out, "rejects.jsonl")))
	}
}

func readFile(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSilverLocalContinuation: a backfill that stops at window T and a later
// run over the whole range give exactly the rows of one uninterrupted run, by
// the SQL oracle: the first run reads the window after T (the join's GKG
// slack) to complete T and leaves that window pending; the second run
// restores the join's events from their snapshots and reads again the
// windows the feed's checkpoint does not prove committed. Re-exported events
// are in the data.
func TestSilverLocalContinuation(t *testing.T) {
	requireDuckDB(t)
	mirror, windows := genMirrorWith(t, 40, 29, func(c *gdeltgen.Config) { c.Reexports = 4 })
	raw := rawDir(t, mirror)
	for _, retention := range []int{192, 12} {
		out := t.TempDir()
		env := []string{"GDELT_BASE_URL=" + mirror, "GDELT_OUT=" + out, "SILVER_RETENTION=" + strconv.Itoa(retention)}
		first := runLocal(t, append(env, "GDELT_TO="+windows[24])...)
		if !strings.Contains(first, "lookahead_windows 1") {
			t.Errorf("the first run did not read a lookahead window:\n%s", tail(first, 3000))
		}
		mid := compareSilver(t, raw, out, retention, windows[24])
		if !mid.exact() {
			t.Errorf("retention %d: after the run to %s, silver through it differs from the SQL join: %+v", retention, windows[24], mid)
		}
		// The second run restores the join's events from its snapshots and
		// reads again only the windows they cannot stand for (2 × slack + 1).
		second := runLocal(t, env...)
		for _, want := range []string{"rewind_windows 3 ", "from the state snapshots"} {
			if !strings.Contains(second, want) {
				t.Errorf("the second run did not log %q:\n%s", want, tail(second, 3000))
			}
		}
		got := compareSilver(t, raw, out, retention, "")
		t.Logf("retention %d: to %s, then the rest: %+v", retention, windows[24], got)
		if !got.exact() || got.AuditWindows != int64(len(windows)) {
			t.Errorf("retention %d: a backfill to T then the rest differs from one run, by the SQL join: %+v", retention, got)
		}
	}
}

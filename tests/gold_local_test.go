package tests

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/delta"
	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
	"github.com/gdeltflow/gdeltflow/plugins/gold"
	"github.com/gdeltflow/gdeltflow/tests/duckdbtest"
)

// goldCheck is gold_oracle.mjs's line for one gold table.
type goldCheck struct {
	Table      string          `json:"table"`
	GoldRows   int64           `json:"gold_rows"`
	OracleRows int64           `json:"oracle_rows"`
	Missing    int64           `json:"missing"`
	Extra      int64           `json:"extra"`
	Duplicates int64           `json:"duplicates"`
	Mismatched int64           `json:"mismatched"`
	Sample     json.RawMessage `json:"sample"`
}

// compareGold runs the SQL oracle (tests/duckdb/gold_oracle.mjs: the gold
// tables computed by DuckDB from the silver Delta tables and the code books)
// and fails the test on any difference. It returns the number of events
// whose event date is before their first sighting's date.
func compareGold(t *testing.T, out string) (lateEvents int64) {
	t.Helper()
	rows := duckdbtest.Run(t, "gold_oracle.mjs", "", out, filepath.Join(repoRoot(t), "resources", "lookups"))
	if len(rows) != len(gold.GoldTables())+1 {
		t.Fatalf("gold_oracle.mjs printed %d lines", len(rows))
	}
	for _, r := range rows[:len(rows)-1] {
		b, _ := json.Marshal(r)
		var c goldCheck
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: gold %d rows, oracle %d; missing %d, extra %d, duplicates %d, mismatched %d",
			c.Table, c.GoldRows, c.OracleRows, c.Missing, c.Extra, c.Duplicates, c.Mismatched)
		if c.OracleRows == 0 || c.GoldRows != c.OracleRows || c.Missing+c.Extra+c.Duplicates+c.Mismatched != 0 {
			t.Errorf("%s differs from the SQL oracle: %s", c.Table, b)
		}
	}
	late := rows[len(rows)-1]
	t.Logf("events: %v", late)
	n, _ := late["late_events"].(json.Number).Int64()
	return n
}

// goldVersions is each gold table's Delta version.
func goldVersions(t *testing.T, out string) map[string]int64 {
	t.Helper()
	v := map[string]int64{}
	for _, tb := range gold.Tables() {
		st, err := storage.NewLocal(filepath.Join(out, "gold", tb.Name))
		if err != nil {
			t.Fatal(err)
		}
		s, err := delta.Load(context.Background(), st)
		if err != nil {
			t.Fatalf("gold/%s: %v", tb.Name, err)
		}
		v[tb.Name] = s.Version
	}
	return v
}

// sameGold checks, with DuckDB reading the live files, that two lakes hold
// the same gold rows (EXCEPT ALL both ways: a doubled row differs).
func sameGold(t *testing.T, a, b string) {
	t.Helper()
	live := func(out, table string) string {
		st, err := storage.NewLocal(filepath.Join(out, "gold", table))
		if err != nil {
			t.Fatal(err)
		}
		s, err := delta.Load(context.Background(), st)
		if err != nil {
			t.Fatal(err)
		}
		var files []string
		for _, f := range s.SortedFiles() {
			files = append(files, duckdbtest.Quote(filepath.Join(out, "gold", table, delta.DecodePath(f.Path))))
		}
		sort.Strings(files)
		if len(files) == 0 {
			return "(SELECT 1 WHERE false)"
		}
		return "read_parquet([" + strings.Join(files, ",") + "], hive_partitioning = true)"
	}
	for _, table := range gold.GoldTables() {
		ra, rb := live(a, table), live(b, table)
		rows := duckdbtest.Query(t, `SELECT (SELECT count(*) FROM `+ra+`) AS a,
		  (SELECT count(*) FROM (SELECT * FROM `+ra+` EXCEPT ALL SELECT * FROM `+rb+`)) AS only_a,
		  (SELECT count(*) FROM (SELECT * FROM `+rb+` EXCEPT ALL SELECT * FROM `+ra+`)) AS only_b`)
		if rows[0]["only_a"] != json.Number("0") || rows[0]["only_b"] != json.Number("0") {
			t.Errorf("gold/%s differs between the runs: %v", table, rows[0])
		}
	}
}

// TestGoldLocalOracle runs the offline default (pipelines/local.yaml, with
// gdelt_gold after the join) over a generated mirror, whose events include
// SQLDATEs days, a month and a year before their DATEADDED (late updates of
// older days), with two batch sizes, and checks every gold table against the
// SQL oracle row for row. Then the whole mirror is read again (the feed's
// checkpoint deleted, so the join emits every window again): gold skips
// every window by its txn and no table gets a new version.
func TestGoldLocalOracle(t *testing.T) {
	requireDuckDB(t)
	mirror, windows := genMirror(t, 12, 31)
	var outs []string
	for _, batch := range []string{"1024", "7"} {
		out := t.TempDir()
		runLocal(t, "GDELT_BASE_URL="+mirror, "GDELT_OUT="+out, "GDELT_BATCH_ROWS="+batch)
		if late := compareGold(t, out); late == 0 {
			t.Errorf("batch %s: no event with an event date before its first sighting: late updates are not exercised", batch)
		}
		outs = append(outs, out)
	}
	sameGold(t, outs[0], outs[1])

	out := outs[0]
	before := goldVersions(t, out)
	if err := os.RemoveAll(filepath.Join(out, "state")); err != nil {
		t.Fatal(err)
	}
	log := runLocal(t, "GDELT_BASE_URL="+mirror, "GDELT_OUT="+out)
	if after := goldVersions(t, out); !equalVersions(before, after) {
		t.Errorf("a replay of all %d windows changed gold: versions %v, then %v", len(windows), before, after)
	}
	if strings.Contains(log, "gdelt_gold: window") {
		t.Errorf("the replay committed gold windows again:\n%s", tail(log, 3000))
	}
	compareGold(t, out)
}

func equalVersions(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestGoldLocalCrash kills the offline default with SIGKILL at 20 random
// points (between and inside gold's seven commits of a window among them)
// and restarts it; at the end gold equals the SQL oracle and an
// uninterrupted run's gold, row for row; the SQLite mart equals gold and the
// audit has one SILVER, GOLD and MART_COMPLETE row per window.
func TestGoldLocalCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("20 kill -9 trials")
	}
	requireDuckDB(t)
	mirror, windows := genMirror(t, 40, 37)
	ref := t.TempDir()
	runLocal(t, "GDELT_BASE_URL="+mirror, "GDELT_OUT="+ref, "GDELT_BATCH_ROWS=40")

	out := t.TempDir()
	// Bronze commits every 1 s rather than 250 ms: runs long enough for
	// the kills to land in them (62 runs for 20 kills at 250 ms, of 80).
	env := []string{"GDELT_BASE_URL=" + mirror, "GDELT_OUT=" + out, "GDELT_BATCH_ROWS=40", "DELTA_BATCH_ROWS=200", "DELTA_BATCH_PERIOD=1s"}
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	t.Logf("kill times drawn with seed %d", seed)
	kills, runs := 0, 0
	for ; kills < 20 && runs < 80; runs++ {
		p := startPipeline(t, "pipelines/local.yaml", env...)
		select {
		case <-time.After(time.Duration(100+rng.IntN(1400)) * time.Millisecond):
			p.Kill()
			kills++
		case <-p.exited:
		}
	}
	if kills < 20 {
		t.Fatalf("only %d of %d runs were killed before they ended", kills, runs)
	}
	startPipeline(t, "pipelines/local.yaml", env...).Wait(3 * time.Minute)
	t.Logf("after %d kill -9 trials in %d runs over %d windows", kills, runs, len(windows))
	compareGold(t, out)
	sameGold(t, ref, out)
	// The mart (SQLite) and the audit lifecycle survived the kills too.
	compareMart(t, out, filepath.Join(out, "mart.sqlite"))
	checkLifecycle(t, out)
	if _, err := os.Stat(filepath.Join(out, "rejects.jsonl")); err == nil {
		t.Errorf("rejects.jsonl exists: %s", readFile(t, filepath.Join(out, "rejects.jsonl")))
	}
}

// TestGoldNotAFolderExits2: GDELT_OUT/gold is a regular file, so no gold
// table can be opened: the backfill exits 2 with one line naming gdelt_gold,
// writes no reject (the held windows are not passed on flagged), and a run
// after the file is removed makes gold equal to the SQL oracle (the feed's
// rewind replays the windows the first run could not finish).
func TestGoldNotAFolderExits2(t *testing.T) {
	requireDuckDB(t)
	mirror, _ := genMirror(t, 6, 41)
	out := t.TempDir()
	if err := os.WriteFile(filepath.Join(out, "gold"), []byte("not a folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"GDELT_BASE_URL=" + mirror, "GDELT_OUT=" + out, "GDELT_GIVE_UP_AFTER=2s"}
	code, stderr, log, took := runFailing(t, "pipelines/local.yaml", env...)
	t.Logf("exit %d after %s: %q", code, took.Round(time.Millisecond), stderr)
	if code != 2 || len(stderr) != 1 || !strings.HasPrefix(stderr[0], "gdeltflow: gdelt_gold: ") || !strings.Contains(stderr[0], "not a directory") {
		t.Fatalf("exit %d, stderr %q\n%s", code, stderr, tail(log, 3000))
	}
	if _, err := os.Stat(filepath.Join(out, "rejects.jsonl")); err == nil {
		t.Errorf("rejects.jsonl exists: %s", tail(readFile(t, filepath.Join(out, "rejects.jsonl")), 2000))
	}
	if err := os.Remove(filepath.Join(out, "gold")); err != nil {
		t.Fatal(err)
	}
	runLocal(t, env...)
	compareGold(t, out)
}

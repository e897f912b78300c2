package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/delta"
	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
	"github.com/gdeltflow/gdeltflow/plugins/deltalake"
	"github.com/gdeltflow/gdeltflow/plugins/gold"
	"github.com/gdeltflow/gdeltflow/plugins/join"
	"github.com/gdeltflow/gdeltflow/tests/duckdbtest"
)

// martKeys are the gold tables' grains: the mart's primary keys.
var martKeys = map[string][]string{
	gold.TableCountryDaily:         {"event_date", "country_fips"},
	gold.TableCountryDailyCategory: {"event_date", "country_fips", "cameo_root"},
	gold.TableActorNetworkDaily:    {"event_date", "actor1_country", "actor2_country"},
	gold.TableTopEventsDaily:       {"event_date", "country_fips", "kind"},
	gold.TableSourceDaily:          {"mention_date", "source_name"},
}

// liveParquet is a DuckDB read_parquet over a Delta table's live files (the
// log read by our kernel, the files by DuckDB), with its partition columns.
func liveParquet(t *testing.T, dir string, partitioned bool) string {
	t.Helper()
	st, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := delta.Load(context.Background(), st)
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	var files []string
	for _, f := range s.SortedFiles() {
		files = append(files, duckdbtest.Quote(filepath.Join(dir, delta.DecodePath(f.Path))))
	}
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatalf("%s has no live files", dir)
	}
	return fmt.Sprintf("read_parquet([%s], hive_partitioning = %v, union_by_name = true)", strings.Join(files, ","), partitioned)
}

// sqliteRows reads a query's rows with the sqlite3 command-line client
// (JSON mode): an independent reader of the mart.
func sqliteRows(t *testing.T, file, query string) []map[string]any {
	t.Helper()
	if _, err := exec.LookPath("sqlite3"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("no sqlite3 client: .ci/run installs it")
		}
		t.Skip("no sqlite3 client (apt-get install sqlite3)")
	}
	cmd := exec.Command("sqlite3", "-bail", "-readonly", "-json", file, query)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sqlite3 %q: %v\n%s", query, err, stderr.String())
	}
	var rows []map[string]any
	if len(bytes.TrimSpace(out)) == 0 {
		return rows
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&rows); err != nil {
		t.Fatalf("sqlite3 -json %q: %v\n%.2000s", query, err, out)
	}
	return rows
}

// canonical turns a value read by DuckDB or sqlite3 into a comparable one:
// numbers as float64, JSON text of a list (the mart's string lists) as the
// list, anything else as its string.
func canonical(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case json.Number:
		f, _ := x.Float64()
		return f
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = canonical(x[i])
		}
		return out
	case string:
		if strings.HasPrefix(x, "[") {
			var l []any
			if json.Unmarshal([]byte(x), &l) == nil {
				return canonical(l)
			}
		}
		return x
	case bool:
		if x {
			return 1.0
		}
		return 0.0
	}
	return fmt.Sprint(v)
}

func sameValue(a, b any) bool {
	fa, okA := a.(float64)
	fb, okB := b.(float64)
	if okA && okB {
		return fa == fb || math.Abs(fa-fb) <= 1e-12*math.Max(math.Abs(fa), math.Abs(fb))
	}
	la, okA := a.([]any)
	lb, okB := b.([]any)
	if okA && okB {
		if len(la) != len(lb) {
			return false
		}
		for i := range la {
			if !sameValue(la[i], lb[i]) {
				return false
			}
		}
		return true
	}
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// compareMart checks that every mart table (read with sqlite3) holds the
// rows of its gold table (read by DuckDB from the Delta table's live files),
// row for row, each column equal (doubles within 1e-12 relative: the
// client's printing). It returns the rows compared per table.
func compareMart(t *testing.T, lake, martFile string) map[string]int {
	t.Helper()
	return compareMartWith(t, lake, func(table string) []map[string]any { return sqliteRows(t, martFile, "SELECT * FROM "+table) })
}

// compareMartWith is compareMart with the mart's rows of a table from read.
func compareMartWith(t *testing.T, lake string, read func(table string) []map[string]any) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, table := range gold.GoldTables() {
		keys := martKeys[table]
		goldRows := duckdbtest.Query(t, "SELECT * FROM "+liveParquet(t, filepath.Join(lake, "gold", table), true))
		martRows := read(table)
		index := func(rows []map[string]any, who string) map[string]map[string]any {
			m := map[string]map[string]any{}
			for _, r := range rows {
				var k []string
				for _, c := range keys {
					k = append(k, fmt.Sprint(canonical(r[c])))
				}
				ks := strings.Join(k, "|")
				if _, dup := m[ks]; dup {
					t.Errorf("%s %s: key %s twice", who, table, ks)
				}
				m[ks] = r
			}
			return m
		}
		g, m := index(goldRows, "gold"), index(martRows, "mart")
		if len(g) == 0 {
			t.Errorf("gold/%s is empty", table)
		}
		bad := 0
		for k, gr := range g {
			mr, ok := m[k]
			if !ok {
				bad++
				if bad <= 3 {
					t.Errorf("mart %s lacks %s", table, k)
				}
				continue
			}
			for c, gv := range gr {
				if mv, ok := mr[c]; !ok || !sameValue(canonical(gv), canonical(mv)) {
					bad++
					if bad <= 3 {
						t.Errorf("mart %s %s column %s: mart %v, gold %v", table, k, c, mv, gv)
					}
				}
			}
		}
		for k := range m {
			if _, ok := g[k]; !ok {
				bad++
				if bad <= 3 {
					t.Errorf("mart %s has %s, gold does not", table, k)
				}
			}
		}
		t.Logf("%s: gold %d rows, mart %d rows, %d differences", table, len(g), len(m), bad)
		counts[table] = len(g)
	}
	return counts
}

// auditRows reads audit/windows with DuckDB.
func auditRows(t *testing.T, lake, where string) []map[string]any {
	t.Helper()
	return duckdbtest.Query(t, `SELECT "window", status, shard, gold_rows, gold_days, gold_seconds, mart_rows, mart_days,
	  mart_seconds, mart_checked, mart_in_sync, mart_error, len(mart_mismatches) AS mismatches, mart_last_window,
	  silver_completed, recorded_at FROM `+liveParquet(t, filepath.Join(lake, "audit", "windows"), false)+` `+where+`
	  ORDER BY "window", recorded_at`)
}

// checkLifecycle checks that every window with a SILVER_COMPLETE row has
// exactly one GOLD_COMPLETE and one MART_COMPLETE row, with at most as many
// rows as gold wrote for the window, each check good (martCheckOK) and the
// newest window's check a comparison of the mart with gold.
func checkLifecycle(t *testing.T, lake string) int {
	t.Helper()
	rows := auditRows(t, lake, "")
	type life struct {
		silver, gold, mart int
		goldRows, martRows string
	}
	byWindow := map[string]*life{}
	lastMart, lastChecked := "", false // the newest window's check compared the mart
	for _, r := range rows {
		w := fmt.Sprint(r["window"])
		l := byWindow[w]
		if l == nil {
			l = &life{}
			byWindow[w] = l
		}
		switch r["status"] {
		case join.StatusSilverComplete:
			l.silver++
		case join.StatusGoldComplete:
			l.gold++
			l.goldRows = fmt.Sprint(r["gold_rows"])
			if r["shard"] != "gold" || r["gold_seconds"] == nil || r["gold_days"] == nil {
				t.Errorf("window %s: GOLD_COMPLETE row %v", w, r)
			}
		case join.StatusMartComplete:
			l.mart++
			l.martRows = fmt.Sprint(r["mart_rows"])
			if w > lastMart {
				lastMart, lastChecked = w, r["mart_checked"] == true
			}
			if r["shard"] != "mart" || !martCheckOK(r) || r["mart_seconds"] == nil {
				t.Errorf("window %s: MART_COMPLETE row %v", w, r)
			}
		}
	}
	n := 0
	for w, l := range byWindow {
		if l.silver == 0 {
			continue
		}
		n++
		// The mart gets the rows that changed (gold rewrites whole days): at
		// most as many as gold wrote.
		gr, _ := strconv.ParseInt(l.goldRows, 10, 64)
		mr, err := strconv.ParseInt(l.martRows, 10, 64)
		if l.silver != 1 || l.gold != 1 || l.mart != 1 || err != nil || mr > gr {
			t.Errorf("window %s: %d SILVER_COMPLETE, %d GOLD_COMPLETE (%s rows), %d MART_COMPLETE (%s rows): want one each, mart rows ≤ gold rows",
				w, l.silver, l.gold, l.goldRows, l.mart, l.martRows)
		}
	}
	if n == 0 {
		t.Error("no SILVER_COMPLETE row in audit/windows")
	}
	if lastMart != "" && !lastChecked {
		t.Errorf("window %s, the newest: its MART_COMPLETE row did not compare the mart with gold", lastMart)
	}
	return n
}

// martCheckOK tells whether a MART_COMPLETE row is a good check: the mart
// compared with gold and in sync, or (no error) not compared because the mart
// was already past the window when its check ran (a later window's
// transaction committed first; that window's own check covers the mart).
func martCheckOK(r map[string]any) bool {
	if r["mart_error"] != nil || fmt.Sprint(r["mismatches"]) != "0" {
		return false
	}
	if r["mart_checked"] == true {
		return r["mart_in_sync"] == true
	}
	return asInt(r["mart_last_window"]) > asInt(r["window"])
}

// TestMartLocal runs the offline default over a generated mirror (late
// events included) and checks: out/mart.sqlite, read with the sqlite3
// client, equals the gold Delta tables read by DuckDB, row for row; the
// audit has one SILVER_COMPLETE, GOLD_COMPLETE and MART_COMPLETE row per
// window (the mart in sync by its check); the README's mart queries run. A
// replay of every window (the feed's checkpoint deleted) adds no audit row
// and leaves the mart as it was.
func TestMartLocal(t *testing.T) {
	requireDuckDB(t)
	mirror, windows := genMirror(t, 12, 31)
	out := t.TempDir()
	runLocal(t, "GDELT_BASE_URL="+mirror, "GDELT_OUT="+out)
	mart := filepath.Join(out, "mart.sqlite")
	compareMart(t, out, mart)
	n := checkLifecycle(t, out)
	t.Logf("%d windows in the mirror, %d with the full lifecycle", len(windows), n)
	progress := sqliteRows(t, mart, "SELECT last_window FROM progress WHERE stage = 'mart'")
	if len(progress) != 1 {
		t.Fatalf("progress: %v", progress)
	}

	before := auditRows(t, out, "")
	if err := os.RemoveAll(filepath.Join(out, "state")); err != nil {
		t.Fatal(err)
	}
	runLocal(t, "GDELT_BASE_URL="+mirror, "GDELT_OUT="+out)
	if after := auditRows(t, out, ""); len(after) != len(before) {
		t.Errorf("a replay of every window added audit rows: %d, then %d", len(before), len(after))
	}
	compareMart(t, out, mart)
	checkLifecycle(t, out)
	if again := sqliteRows(t, mart, "SELECT last_window FROM progress WHERE stage = 'mart'"); fmt.Sprint(again) != fmt.Sprint(progress) {
		t.Errorf("progress after the replay: %v, before %v", again, progress)
	}
}

// TestMartLocalOldAudit: an audit/windows table made before the gold and
// mart columns existed (the former 15 columns, one row) gains them on the
// next run (one ADD COLUMNS commit); its old row reads with nulls there and
// the new rows carry them.
func TestMartLocalOldAudit(t *testing.T) {
	requireDuckDB(t)
	mirror, _ := genMirror(t, 4, 43)
	out := t.TempDir()
	ctx := context.Background()
	st, err := storage.NewLocal(filepath.Join(out, "audit", "windows"))
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := delta.OpenTable(ctx, st, delta.TableConfig{})
	if err != nil {
		t.Fatal(err)
	}
	full := deltalake.AuditWindowsSchema()
	old := full
	old.Fields = full.Fields[:15]
	if old.Fields[14].Name != "recorded_at" {
		t.Fatalf("the former audit schema ends with recorded_at, not %s", old.Fields[14].Name)
	}
	js, _ := old.JSON()
	if err := tbl.Create(ctx, delta.Metadata{Name: "audit_windows", SchemaString: js, PartitionColumns: []string{}}, delta.Protocol{}); err != nil {
		t.Fatal(err)
	}
	ap, err := delta.NewAppender(tbl, delta.AppendConfig{Schema: old})
	if err != nil {
		t.Fatal(err)
	}
	oldRow := map[string]any{"window": int64(20000101000000), "status": join.StatusWaiting, "shard": "0", "shards": int64(1),
		"recorded_at": time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := ap.Append(ctx, []delta.Row{{Values: oldRow, AppID: "old", Version: 1}}); err != nil {
		t.Fatal(err)
	}

	log := runLocal(t, "GDELT_BASE_URL="+mirror, "GDELT_OUT="+out)
	if !strings.Contains(log, "columns added: gold_rows") {
		t.Errorf("no log line of the added columns:\n%s", tail(log, 3000))
	}
	s, err := delta.Load(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := full.JSON()
	if s.Metadata.SchemaString != want {
		t.Errorf("audit schema after the run:\n%s\nwant\n%s", s.Metadata.SchemaString, want)
	}
	oldBack := auditRows(t, out, `WHERE "window" = 20000101000000`)
	if len(oldBack) != 1 || oldBack[0]["gold_rows"] != nil || oldBack[0]["mart_in_sync"] != nil {
		t.Errorf("the old row read back: %v", oldBack)
	}
	checkLifecycle(t, out)
	compareMart(t, out, filepath.Join(out, "mart.sqlite"))
}

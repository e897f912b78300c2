package delta

import (
	"context"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gdeltflow/gdeltflow/plugins/internal/deltatest"
)

// TestReplacePartitions replaces one day of a two-day table: the day holds
// exactly the new rows, the other day is untouched, a replay of the same txn
// version changes nothing, and DuckDB, replaying the log on its own, reads
// the same live rows.
func TestReplacePartitions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tb := wrTable(t, deltatest.Local(t, dir))
	ap := wrAppender(t, tb, AppendConfig{})
	var rows []Row
	for i := int64(1); i <= 6; i++ {
		day := "2023-07-01"
		if i > 3 {
			day = "2023-07-02"
		}
		rows = append(rows, Row{Values: map[string]any{"id": i, "name": "old", "score": float64(i), "day": day}})
	}
	if _, err := ap.Append(ctx, rows); err != nil {
		t.Fatal(err)
	}
	// Two replaces of day 1 (a second file set replacing the first), one of
	// day 3 (new, empty before).
	day1 := map[string]any{"day": "2023-07-01"}
	for v, n := range []int64{2, 1} {
		var repl []map[string]any
		for i := int64(0); i < n; i++ {
			repl = append(repl, map[string]any{"id": 100*int64(v+1) + i, "name": "new", "score": 0.5, "day": "2023-07-01"})
		}
		res, err := ap.ReplacePartitions(ctx, repl, []map[string]any{day1, {"day": "2023-07-03"}}, Txn{AppID: "gold", Version: int64(v + 1)})
		if err != nil {
			t.Fatal(err)
		}
		if res.Version < 0 || res.Written != int(n) {
			t.Fatalf("replace %d: %+v", v+1, res)
		}
	}
	before := tb.Version()
	live := func() []string {
		var out []string
		for _, a := range tb.Snapshot().SortedFiles() {
			out = append(out, filepath.Join(dir, DecodePath(a.Path)))
		}
		return out
	}
	files := live()
	// A replay of version 2: nothing happens.
	res, err := ap.ReplacePartitions(ctx, []map[string]any{{"id": int64(999), "day": "2023-07-01"}}, []map[string]any{day1}, Txn{AppID: "gold", Version: 2})
	if err != nil || res.Version != -1 || tb.Version() != before {
		t.Fatalf("replay: %+v, %v; version %d, want %d", res, err, tb.Version(), before)
	}
	// A fresh Table over the same folder sees the same, and its replay too is a no-op.
	tb2, err := OpenTable(ctx, deltatest.Local(t, dir), TableConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ap2 := wrAppender(t, tb2, AppendConfig{})
	if res, err := ap2.ReplacePartitions(ctx, nil, []map[string]any{day1}, Txn{AppID: "gold", Version: 1}); err != nil || res.Version != -1 {
		t.Fatalf("replay in a new Table: %+v, %v", res, err)
	}
	// A row outside the replaced partitions is refused.
	if _, err := ap.ReplacePartitions(ctx, []map[string]any{{"id": int64(1), "day": "2023-07-05"}}, []map[string]any{day1}, Txn{AppID: "gold", Version: 9}); err == nil {
		t.Fatal("a row outside the replaced partitions was accepted")
	}

	// DuckDB: its own log replay finds the same live files, and reads the rows.
	deltatest.RequireDuck(t)
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = deltatest.Quote(f)
	}
	got := deltatest.Duck(t, `WITH log AS (SELECT CAST(regexp_extract(filename, '(\d{20})\.json$', 1) AS BIGINT) v, json
	      FROM read_ndjson_objects(`+deltatest.Quote(dir+"/_delta_log/*.json")+`, filename = true)),
	    a AS (SELECT json->>'$.add.path' p, max(v) v FROM log WHERE (json->'$.add') IS NOT NULL GROUP BY 1),
	    r AS (SELECT json->>'$.remove.path' p, max(v) v FROM log WHERE (json->'$.remove') IS NOT NULL GROUP BY 1)
	  SELECT string_agg(a.p, ',' ORDER BY a.p) AS live FROM a LEFT JOIN r USING (p) WHERE r.v IS NULL OR r.v < a.v`)
	var want []string
	for _, f := range files {
		rel, _ := filepath.Rel(dir, f)
		want = append(want, EncodePath(filepath.ToSlash(rel)))
	}
	sort.Strings(want)
	if got[0]["live"] != strings.Join(want, ",") {
		t.Fatalf("DuckDB's live files %v, ours %v", got[0]["live"], want)
	}
	rowsOut := deltatest.Duck(t, `SELECT CAST("day" AS VARCHAR) AS d, string_agg(CAST(id AS VARCHAR) || ':' || name, ',' ORDER BY id) ids
	  FROM read_parquet([`+strings.Join(quoted, ",")+`], hive_partitioning = true) GROUP BY 1 ORDER BY 1`)
	wantRows := map[string]string{"2023-07-01": "200:new", "2023-07-02": "4:old,5:old,6:old"}
	if len(rowsOut) != len(wantRows) {
		t.Fatalf("DuckDB reads %v", rowsOut)
	}
	for _, r := range rowsOut {
		if wantRows[r["d"].(string)] != r["ids"] {
			t.Errorf("day %v: %v, want %v", r["d"], r["ids"], wantRows[r["d"].(string)])
		}
	}
}

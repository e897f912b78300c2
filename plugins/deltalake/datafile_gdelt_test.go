package deltalake

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/delta/datafile"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
	gschema "github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
	"github.com/gdeltflow/gdeltflow/plugins/internal/deltatest"
)

func TestParquetGDELTRoundTripDuckDB(t *testing.T) {
	cases := []struct {
		table   *gschema.Table
		tsv     func(testing.TB) []byte
		columns int
	}{
		{gschema.Events, pqtExportTSV, 61},
		{gschema.Mentions, pqtSmallMentionsTSV, 16},
		{gschema.GKG, pqtGKGTSV, 27},
	}
	for _, c := range cases {
		t.Run(c.table.Name, func(t *testing.T) {
			deltatest.RequireDuck(t)
			rows, err := pqtDecodeTSV(c.table, false, c.tsv(t))
			if err != nil {
				t.Fatal(err)
			}
			s := GDELTSchema(c.table, false)
			if len(s.Fields) != c.columns {
				t.Fatalf("%d columns, want %d", len(s.Fields), c.columns)
			}
			// Nulls in every column: a row of nils and a row with no keys.
			allNull := map[string]any{}
			for _, f := range s.Fields {
				allNull[f.Name] = nil
			}
			rows = append(rows[:len(rows)/2], append([]map[string]any{allNull, {}}, rows[len(rows)/2:]...)...)
			// Small row groups and pages: several of each per column.
			o := datafile.Config{RowGroupRows: max(len(rows)/3, 1), PageBufferSize: 16 << 10}
			path, st := deltatest.WriteFile(t, t.TempDir(), s, o, rows)

			got := deltatest.Duck(t, "SELECT * FROM read_parquet("+deltatest.Quote(path)+", file_row_number = true) ORDER BY file_row_number")
			if len(got) != len(rows) {
				t.Fatalf("DuckDB read %d rows, wrote %d", len(got), len(rows))
			}
			bad := 0
			for i := range rows {
				for _, f := range s.Fields {
					if err := deltatest.SameValue(rows[i][f.Name], got[i][f.Name]); err != nil {
						bad++
						if bad <= 10 {
							t.Errorf("row %d column %s: %v", i, f.Name, err)
						}
					}
				}
			}
			if bad > 0 {
				t.Fatalf("%d values differ", bad)
			}

			deltatest.CheckFile(t, path, s, int64(len(rows)), 3)
			deltatest.CheckStats(t, path, s, st)
			t.Logf("%d rows, %d columns, %d bytes", len(rows), len(s.Fields), pqtFileSize(t, path))
		})
	}
}

// pqtSmallMentionsTSV: gdeltgen's Small config, two windows of Mentions.
func pqtSmallMentionsTSV(tb testing.TB) []byte {
	tb.Helper()
	var out []byte
	t0 := time.Date(2023, 7, 2, 15, 30, 0, 0, time.UTC)
	if err := gdeltgen.Generate(gdeltgen.Small(t0, 2, 1), func(w gdeltgen.Window) error {
		out = append(out, w.Mentions...)
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	return out
}

func pqtFileSize(tb testing.TB, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return fi.Size()
}

func TestParquetNestedGKGDuckDB(t *testing.T) {
	deltatest.RequireDuck(t)
	rows, err := pqtDecodeTSV(gschema.GKG, true, pqtGKGTSV(t))
	if err != nil {
		t.Fatal(err)
	}
	rows = rows[:60]
	s := GDELTSchema(gschema.GKG, true)
	allNull := map[string]any{}
	for _, f := range s.Fields {
		allNull[f.Name] = nil
	}
	// Empty lists and a struct with a null member, beside real rows.
	empty := map[string]any{"gkg_record_id": "empty", "counts": []any{}, "themes": []any{},
		"v2_tone": map[string]any{"tone": 1.5, "word_count": nil}, "dates": []any{map[string]any{"resolution": int64(1)}}}
	rows = append(rows, allNull, empty)
	path, st := deltatest.WriteFile(t, t.TempDir(), s, datafile.Config{RowGroupRows: 25, PageBufferSize: 8 << 10}, rows)
	got := deltatest.Duck(t, "SELECT * FROM read_parquet("+deltatest.Quote(path)+", file_row_number = true) ORDER BY file_row_number")
	if len(got) != len(rows) {
		t.Fatalf("DuckDB read %d rows, wrote %d", len(got), len(rows))
	}
	bad, lists := 0, 0
	for i := range rows {
		for _, f := range s.Fields {
			if l, ok := rows[i][f.Name].([]any); ok && len(l) > 1 {
				lists++
			}
			if err := deltatest.SameValue(rows[i][f.Name], got[i][f.Name]); err != nil {
				bad++
				if bad <= 10 {
					t.Errorf("row %d column %s: %v", i, f.Name, err)
				}
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d values differ", bad)
	}
	if lists < 100 {
		t.Fatalf("only %d lists with several elements: the nested parse did not happen?", lists)
	}
	deltatest.CheckFile(t, path, s, int64(len(rows)), 3)

	// Arrays: nullCount only, as DuckDB counts null lists; the tone struct: nested stats.
	var sel []string
	var arrays []string
	for _, f := range s.Fields {
		if f.Type.Array != nil {
			arrays = append(arrays, f.Name)
			sel = append(sel, fmt.Sprintf(`count(*) - count("%s") AS "%s"`, f.Name, f.Name))
		}
	}
	sel = append(sel, "min(v2_tone.tone) AS tmin", "max(v2_tone.tone) AS tmax", "count(*) - count(v2_tone.word_count) AS wnull")
	duck := deltatest.Duck(t, "SELECT "+strings.Join(sel, ", ")+" FROM read_parquet("+deltatest.Quote(path)+")")[0]
	for _, a := range arrays {
		if fmt.Sprint(st.NullCount[a]) != duck[a].(json.Number).String() {
			t.Errorf("%s: nullCount %v, DuckDB %v", a, st.NullCount[a], duck[a])
		}
		if _, ok := st.MinValues[a]; ok {
			t.Errorf("%s: an array has minValues", a)
		}
	}
	tmin, _ := duck["tmin"].(json.Number).Float64()
	tmax, _ := duck["tmax"].(json.Number).Float64()
	tone := func(m map[string]any) any { return m["v2_tone"].(map[string]any)["tone"] }
	if tone(st.MinValues) != tmin || tone(st.MaxValues) != tmax {
		t.Errorf("v2_tone.tone min/max %v %v, DuckDB %v %v", tone(st.MinValues), tone(st.MaxValues), tmin, tmax)
	}
	if wn := st.NullCount["v2_tone"].(map[string]any)["word_count"]; fmt.Sprint(wn) != duck["wnull"].(json.Number).String() {
		t.Errorf("v2_tone.word_count nullCount %v, DuckDB %v", wn, duck["wnull"])
	}
	js, err := st.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js, `"v2_tone":{"tone":`) || !json.Valid([]byte(js)) {
		t.Errorf("stats JSON: %s", js)
	}
}

// TestParquetMemoryBounded writes 10x more rows with the same RowGroupBytes
// and checks the writer's memory does not grow with them: it holds one row
// group at most. The live heap is measured after a GC at regular points
// (peak heap in use and allocations are logged too), in a child process so
// that nothing else running in the test binary counts.
func TestParquetMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	if os.Getenv("PQ_MEMORY_CHILD") == "1" {
		t.Skip("in the child")
	}
	deltatest.GDELTDataDir(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestParquetMemoryChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "PQ_MEMORY_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var small, big pqtMemResult
	for _, line := range strings.Split(string(out), "\n") {
		if _, j, ok := strings.Cut(line, "MEMRESULT "); ok {
			var r pqtMemResult
			if err := json.Unmarshal([]byte(j), &r); err != nil {
				t.Fatal(err)
			}
			if r.Rows == 20000 {
				small = r
			} else {
				big = r
			}
		}
	}
	if small.Rows == 0 || big.Rows == 0 {
		t.Fatalf("child output:\n%s", out)
	}
	for _, r := range []pqtMemResult{small, big} {
		t.Logf("%d rows: peak live heap %.1f MiB (%.1f MiB before), peak heap in use +%.1f MiB, %.1f MiB allocated, %d row groups, at most %d bytes buffered",
			r.Rows, float64(r.Live)/(1<<20), float64(r.Base)/(1<<20), float64(r.Inuse)/(1<<20), float64(r.Alloc)/(1<<20), r.Groups, r.Buffered)
	}
	if big.Groups < 5*small.Groups {
		t.Errorf("row groups: %d then %d: RowGroupBytes did not cut them", small.Groups, big.Groups)
	}
	// What may grow: the footer's metadata (~45 KB a row group here: 4 MiB
	// over 90), and pooled zstd encoders come and go with the forced GCs (a
	// few MiB). Holding the rows would take the 90 row groups' ~90 MiB.
	compressed := uint64(big.Groups) * pqtMemGroupBytes
	if big.Live > small.Live+compressed/6 {
		t.Errorf("peak live heap grew from %d to %d bytes with 10x the rows (their row groups: %d bytes)", small.Live, big.Live, compressed)
	}
}

type pqtMemResult struct {
	Rows, Groups int
	// Live is the peak heap after a GC while writing, Base the heap after a
	// GC before (the decoded rows, pooled buffers): both absolute.
	Live, Base, Inuse, Alloc uint64
	Buffered                 int64
}

const pqtMemGroupBytes, pqtMemPageBytes = 1 << 20, 64 << 10

// TestParquetMemoryChild is TestParquetMemoryBounded's measurement.
func TestParquetMemoryChild(t *testing.T) {
	if os.Getenv("PQ_MEMORY_CHILD") != "1" {
		t.Skip("run by TestParquetMemoryBounded")
	}
	rows, err := pqtDecodeTSV(gschema.Events, false, pqtExportTSV(t))
	if err != nil {
		t.Fatal(err)
	}
	s := GDELTSchema(gschema.Events, false)
	measure := func(n int) pqtMemResult {
		runtime.GC()
		ms0 := pqtMemStats()
		r := pqtMemResult{Rows: n}
		w, err := datafile.NewWriter(io.Discard, s, datafile.Config{RowGroupBytes: pqtMemGroupBytes, PageBufferSize: pqtMemPageBytes})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			if err := w.Write(rows[i%len(rows)]); err != nil {
				t.Fatal(err)
			}
			if i%1000 == 999 {
				r.Buffered = max(r.Buffered, w.BufferedBytes())
				ms := pqtMemStats()
				r.Inuse = max(r.Inuse, ms.HeapInuse-min(ms.HeapInuse, ms0.HeapInuse))
			}
			if i%5000 == 4999 {
				runtime.GC()
				r.Live = max(r.Live, pqtMemStats().HeapAlloc)
			}
		}
		if _, err := w.Close(); err != nil {
			t.Fatal(err)
		}
		// One row group of compressed pages, plus one page per column being filled.
		if r.Buffered > pqtMemGroupBytes+int64(len(s.Fields))*(pqtMemPageBytes+16<<10) {
			t.Errorf("%d rows: %d bytes buffered, RowGroupBytes is %d", n, r.Buffered, pqtMemGroupBytes)
		}
		r.Alloc = pqtMemStats().TotalAlloc - ms0.TotalAlloc
		r.Groups = len(w.Metadata().RowGroups)
		r.Base = ms0.HeapAlloc
		return r
	}
	measure(5000) // warm up: pooled buffers and encoders, lazily built parquet-go types
	for _, n := range []int{20000, 200000} {
		j, _ := json.Marshal(measure(n))
		fmt.Printf("MEMRESULT %s\n", j)
	}
}

func pqtMemStats() runtime.MemStats {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms
}

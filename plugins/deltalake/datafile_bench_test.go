package deltalake

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"github.com/gdeltflow/gdeltflow/plugins/delta/datafile"
	gschema "github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
	"github.com/gdeltflow/gdeltflow/plugins/internal/deltatest"
)

// BenchmarkParquetWrite writes the decoded rows of a GDELT file into a zstd
// Parquet file in a temp dir: one op is the whole file, so MB/s is over the
// raw TSV bytes the rows came from (comparable with DuckDB's figure from
// tests/duckdb/bench_copy.mjs, see BenchmarkParquetWriteDuckDB). peak-heap-MB
// is the most the heap in use grew above what the decoded rows already take.
//
//	go test -run '^$' -bench ParquetWrite -cpu 1 ./plugins/deltalake/
func BenchmarkParquetWrite(b *testing.B) {
	for _, c := range pqtBenchCases() {
		b.Run(c.name, func(b *testing.B) {
			tsv := c.tsv(b)
			rows := pqtBenchDecode(b, c.table, c.nested, tsv)
			s := GDELTSchema(c.table, c.nested)
			dir := b.TempDir()
			path := filepath.Join(dir, "out.parquet")
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			base := ms.HeapInuse
			peak := base
			sample := func() {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
			var size int64
			first := true
			b.SetBytes(int64(len(tsv)))
			b.ReportAllocs()
			cpu0 := pqtBenchCPU()
			b.ResetTimer()
			for b.Loop() {
				fh, err := os.Create(path)
				if err != nil {
					b.Fatal(err)
				}
				w, err := datafile.NewWriter(fh, s, datafile.Config{CompressionLevel: c.level})
				if err != nil {
					b.Fatal(err)
				}
				for i, r := range rows {
					if err := w.Write(r); err != nil {
						b.Fatal(err)
					}
					if first && i%1024 == 1023 {
						sample()
					}
				}
				if first {
					sample()
					first = false
				}
				if _, err := w.Close(); err != nil {
					b.Fatal(err)
				}
				if err := fh.Close(); err != nil {
					b.Fatal(err)
				}
				size = w.BytesWritten()
			}
			b.StopTimer()
			// CPU time is steadier than wall time on a shared machine.
			b.ReportMetric(float64(pqtBenchCPU()-cpu0)/1e6/float64(b.N), "cpu-ms/op")
			if s := b.Elapsed().Seconds(); s > 0 {
				b.ReportMetric(float64(len(rows))*float64(b.N)/s, "rows/s")
			}
			b.ReportMetric(float64(size)/1e6, "parquet-MB")
			b.ReportMetric(float64(peak-base)/(1<<20), "peak-heap-MB")
		})
	}
}

// BenchmarkParquetWriteDuckDB runs tests/duckdb/bench_copy.mjs on the same
// TSV (DuckDB loads it untimed, then times COPY ... (FORMAT parquet,
// COMPRESSION zstd) with one thread) and reports its rows/s and MB/s. The
// script runs once per benchmark; ns/op is not meaningful here.
func BenchmarkParquetWriteDuckDB(b *testing.B) {
	node, dir := deltatest.RequireDuck(b), deltatest.DuckDir()
	for _, c := range pqtBenchCases() {
		if c.nested || c.level != 0 {
			continue // DuckDB reads the raw file flat, at its own zstd level
		}
		b.Run(c.name, func(b *testing.B) {
			tsvPath := filepath.Join(b.TempDir(), c.name+".tsv")
			if err := os.WriteFile(tsvPath, c.tsv(b), 0o644); err != nil {
				b.Fatal(err)
			}
			cmd := exec.Command(node, "bench_copy.mjs", tsvPath, c.table.Name)
			cmd.Dir = dir
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				b.Fatalf("bench_copy.mjs: %v\n%s", err, stderr.String())
			}
			var res struct {
				Rows         float64 `json:"rows_per_s"`
				MB           float64 `json:"mb_per_s"`
				ParquetBytes float64 `json:"parquet_bytes"`
			}
			if err := json.Unmarshal(out, &res); err != nil {
				b.Fatalf("bench_copy.mjs output %q: %v", out, err)
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(res.Rows, "rows/s")
			b.ReportMetric(res.MB, "MB/s")
			b.ReportMetric(res.ParquetBytes/1e6, "parquet-MB")
		})
	}
}

// pqtBenchCPU returns the process's user+system CPU time in nanoseconds.
func pqtBenchCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

type pqtBenchCase struct {
	name   string
	table  *gschema.Table
	nested bool
	tsv    func(testing.TB) []byte
	level  int // datafile.Config.CompressionLevel
}

// pqtBenchCases: the three tables with the writer's defaults (zstd at its
// fastest level), the GKG nested, and the flat tables at zstd's default
// level 3, DuckDB's, for a like-for-like codec.
func pqtBenchCases() []pqtBenchCase {
	return []pqtBenchCase{
		{"export", gschema.Events, false, pqtExportTSV, 0},
		{"mentions", gschema.Mentions, false, pqtMentionsTSV, 0},
		{"gkg", gschema.GKG, false, pqtGKGTSV, 0},
		{"gkg-nested", gschema.GKG, true, pqtGKGTSV, 0},
		{"export-zstd3", gschema.Events, false, pqtExportTSV, 3},
		{"mentions-zstd3", gschema.Mentions, false, pqtMentionsTSV, 3},
		{"gkg-zstd3", gschema.GKG, false, pqtGKGTSV, 3},
	}
}

func pqtBenchDecode(tb testing.TB, t *gschema.Table, nested bool, tsv []byte) []map[string]any {
	tb.Helper()
	rows, err := pqtDecodeTSV(t, nested, tsv)
	if err != nil {
		tb.Fatal(err)
	}
	return rows
}

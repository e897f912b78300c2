package gdelt

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
)

// BenchmarkDecode decodes whole files: one op is one pass over every row, so
// MB/s is the decoder's throughput on raw bytes (newlines included). The
// plain cases build maps (Decode, gdelt_decode's form: map); the /row ones
// rows in column order (DecodeRowIn with an arena per 1,024 rows, as
// gdelt_decode's form: row does per batch).
func BenchmarkDecode(b *testing.B) {
	cases := []struct {
		name   string
		table  *schema.Table
		nested bool
		lines  func(testing.TB) [][]byte
	}{
		{"export", schema.Events, false, realExportLines},
		{"mentions", schema.Mentions, false, generatedMentionLines},
		{"gkg", schema.GKG, false, realGKGLines},
		{"gkg/nested", schema.GKG, true, realGKGLines},
	}
	for _, c := range cases {
		for _, row := range []bool{false, true} {
			name := c.name
			if row {
				name += "/row"
			}
			b.Run(name, func(b *testing.B) {
				lines := c.lines(b)
				size := 0
				for _, l := range lines {
					size += len(l) + 1
				}
				d := NewDecoder(c.table, c.nested)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := cpuSeconds()
				for b.Loop() {
					var arena *RowArena
					for i, l := range lines {
						var err error
						if row {
							if i%1024 == 0 {
								arena = new(RowArena) // one per batch, as gdelt_decode (which shares its messages' bytes instead of copying lines: faster)
							}
							_, err = d.DecodeRowIn(l, arena)
						} else {
							_, err = d.Decode(l)
						}
						if err != nil {
							b.Fatal(err)
						}
					}
				}
				reportRows(b, len(lines))
				if cpu := cpuSeconds() - cpu0; cpu > 0 {
					b.ReportMetric(float64(len(lines))*float64(b.N)/cpu, "rows/cpu-s")
				}
			})
		}
	}
}

// cpuSeconds is the CPU time (user + system) the process has used: rows per
// CPU second compare with DuckDB's on a machine other work keeps busy,
// where rows per wall second do not.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// BenchmarkDecodeProcessor runs the gdelt_decode processor on batches of
// 1,000 export rows, to show what the Benthos adapter adds to the core.
func BenchmarkDecodeProcessor(b *testing.B) {
	b.Run("export", func(b *testing.B) {
		lines := realExportLines(b)[:1000]
		size := 0
		for _, l := range lines {
			size += len(l) + 1
		}
		conf, err := gdeltDecodeSpec().ParseYAML("table: export", nil)
		if err != nil {
			b.Fatal(err)
		}
		p, err := newGDELTDecodeFromParsed(conf, service.MockResources())
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		batch := make(service.MessageBatch, len(lines))
		b.SetBytes(int64(size))
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			b.StopTimer()
			for i, l := range lines {
				batch[i] = service.NewMessage(l)
			}
			b.StartTimer()
			out, err := p.ProcessBatch(ctx, batch)
			if err != nil || len(out) != 1 || len(out[0]) != len(lines) {
				b.Fatalf("got %v batches, err %v", len(out), err)
			}
		}
		reportRows(b, len(lines))
	})
}

// generatedMentionLines returns the rows of the Mentions file named by
// GDELT_BENCH_MENTIONS (tests/bench.sh passes one of its generated day-load
// windows), or else ~5,000 realistic rows from plugins/gdelt/gdeltgen (one window; no
// real Mentions file is at hand).
func generatedMentionLines(tb testing.TB) [][]byte {
	tb.Helper()
	if path := os.Getenv("GDELT_BENCH_MENTIONS"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		return splitLines(data)
	}
	cfg := gdeltgen.Config{Seed: 7, Start: time.Date(2023, 7, 2, 15, 30, 0, 0, time.UTC), Windows: 1,
		Events: 2000, Mentions: 5000, GKG: 10, GKGRowBytes: 3000}
	var lines [][]byte
	if err := gdeltgen.Generate(cfg, func(w gdeltgen.Window) error {
		lines = splitLines(w.Mentions)
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	return lines
}

func reportRows(b *testing.B, rowsPerOp int) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(rowsPerOp)*float64(b.N)/s, "rows/s")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rowsPerOp*b.N), "ns/row")
}

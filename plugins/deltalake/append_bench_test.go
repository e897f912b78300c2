package deltalake

import (
	"archive/zip"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/delta"
	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
	gschema "github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
	"github.com/gdeltflow/gdeltflow/plugins/internal/deltatest"
	"github.com/gdeltflow/gdeltflow/plugins/join"
	"github.com/gdeltflow/gdeltflow/tests/miniotest"
)

// benchFiles returns the raw content of every file of one table of the
// benchmark load, window by window: the generated day (96 windows, ~1.5 GB
// unzipped, cached in .cache/dayload) unless GDELT_BENCH_LOAD=small.
func benchFiles(b *testing.B, table string) [][]byte {
	b.Helper()
	var out [][]byte
	if os.Getenv("GDELT_BENCH_LOAD") == "small" {
		err := gdeltgen.Generate(gdeltgen.Small(time.Date(2023, 7, 2, 15, 45, 0, 0, time.UTC), 4, 1), func(w gdeltgen.Window) error {
			out = append(out, map[string][]byte{"export": w.Export, "mentions": w.Mentions, "gkg": w.GKG}[table])
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		return out
	}
	dir, _ := filepath.Abs("../../.cache/dayload")
	if err := gdeltgen.WriteDayLoad(dir, 1); err != nil {
		b.Fatal(err)
	}
	suffix := map[string]string{"export": ".export.CSV.zip", "mentions": ".mentions.CSV.zip", "gkg": ".gkg.csv.zip"}[table]
	names, _ := filepath.Glob(filepath.Join(dir, "*"+suffix))
	sort.Strings(names)
	for _, n := range names {
		zr, err := zip.OpenReader(n)
		if err != nil {
			b.Fatal(err)
		}
		rc, _ := zr.File[0].Open()
		data, err := io.ReadAll(rc)
		rc.Close()
		zr.Close()
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// BenchmarkDeltaWrite appends a day of each GDELT table to a Delta table on
// local disk and on MinIO: zstd Parquet, stats, commit. Windows are gathered
// into commits of up to 10,000 rows or 16 MB of raw rows, as the pipelines'
// batching policy does. Decoding is not timed (BenchmarkDecode measures it);
// MB/s is of the raw TSV bytes, comparable with DuckDB's COPY of the same rows
// (tests/duckdb/bench_copy.mjs, run by tests/bench.sh). peak-heap-MB is the
// peak live heap above the input the benchmark holds (the raw day): the
// decoded batch being written plus the writer's row group and buffers. The
// /map cases hand the writer maps (delta.Row.Values); the /row ones the
// decoder's rows in column order (delta.Row.Data: gdelt_decode's form: row,
// as delta_lake passes them, no copy).
func BenchmarkDeltaWrite(b *testing.B) {
	var srv *miniotest.Server
	if miniotest.Binary() != "" {
		srv = miniotest.Start(b)
		srv.Bucket(b, "bench")
	}
	for _, where := range []string{"local", "minio"} {
		for _, name := range []string{"export/map", "export/row", "mentions/map", "mentions/row", "gkg/map", "gkg/row", "silver/row"} {
			table, form, _ := strings.Cut(name, "/")
			b.Run(where+"/"+name, func(b *testing.B) {
				if where == "minio" && srv == nil {
					b.Skip("MinIO not installed (tests/minio.sh install)")
				}
				if table == "silver" {
					benchSilverWrite(b, where, srv)
					return
				}
				files := benchFiles(b, table)
				var raw int64
				for _, f := range files {
					raw += int64(len(f))
				}
				tab, _ := gschema.ByName(table)
				dec := gdelt.NewDecoder(tab, false)
				ctx := context.Background()
				b.SetBytes(raw)
				b.ReportAllocs()
				var rows, parquetBytes int64
				var peak uint64
				var cpu float64 // CPU seconds of the timed appends
				b.ResetTimer()
				for i := 0; b.Loop(); i++ {
					b.StopTimer()
					var st storage.Storage
					var err error
					if where == "local" {
						st, err = storage.NewLocal(b.TempDir())
					} else {
						st, err = storage.NewS3("s3://bench/"+table+"-"+time.Now().Format("150405.000000"), storage.S3Config{
							Endpoint: srv.Endpoint, AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey, PathStyle: true})
					}
					if err != nil {
						b.Fatal(err)
					}
					w := benchAppender(b, ctx, st, GDELTSchema(tab, false))
					runtime.GC()
					base := deltatest.LiveHeap()
					stop := deltatest.PeakHeap()
					rows, parquetBytes = 0, 0
					var batch []delta.Row
					var batchBytes int
					flush := func() {
						cpu0 := cpuSeconds()
						defer func() { cpu += cpuSeconds() - cpu0 }()
						res, err := w.Append(ctx, batch)
						if err != nil {
							b.Fatal(err)
						}
						rows += int64(res.Written)
						for _, a := range res.Files {
							parquetBytes += a.Size
						}
						batch, batchBytes = nil, 0
					}
					for fi, f := range files {
						b.StopTimer()
						for line, l := range strings.Split(strings.TrimSuffix(string(f), "\n"), "\n") {
							version := int64(fi)*1_000_000 + int64(line)
							if form == "row" {
								r, err := dec.DecodeRow([]byte(l))
								if err != nil {
									b.Fatal(err)
								}
								batch = append(batch, delta.Row{Data: r.Values, AppID: "bench", Version: version})
								continue
							}
							m, err := dec.Decode([]byte(l))
							if err != nil {
								b.Fatal(err)
							}
							batch = append(batch, delta.Row{Values: m, AppID: "bench", Version: version})
						}
						batchBytes += len(f)
						b.StartTimer()
						if len(batch) >= benchBatchRows || batchBytes >= benchBatchBytes || fi == len(files)-1 {
							flush()
						}
					}
					b.StopTimer()
					if p := stop(); p > base {
						peak = max(peak, p-base)
					}
					b.StartTimer()
				}
				b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
				if cpu > 0 {
					b.ReportMetric(float64(rows)*float64(b.N)/cpu, "rows/cpu-s")
				}
				b.ReportMetric(float64(parquetBytes)/1e6, "parquet-MB")
				b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
			})
		}
	}
}

// benchSilverWrite is BenchmarkDeltaWrite's silver/row: the day load joined
// (untimed: the three tables of each window decoded in row form and fed to
// a join.Joiner, as gdelt_join does) and each window's silver rows (106
// columns, the article's GKG record on each of its mentions) appended as one
// commit, as the gdelt_lake template commits silver (unpartitioned here).
// GDELT_BENCH_SILVER_DIR keeps the local table there (emptied first), for
// DuckDB's COPY of the same rows (tests/bench.sh delta).
func benchSilverWrite(b *testing.B, where string, srv *miniotest.Server) {
	names := benchWindowZips(b)
	ctx := context.Background()
	s, err := TableSchema(TableSilver, false)
	if err != nil {
		b.Fatal(err)
	}
	decs := map[string]*gdelt.Decoder{}
	for _, t := range []string{"export", "mentions", "gkg"} {
		tab, _ := gschema.ByName(t)
		decs[t] = gdelt.NewDecoder(tab, false)
	}
	b.ReportAllocs()
	var rows, parquetBytes, raw int64
	var peak uint64
	var cpu float64
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		var st storage.Storage
		switch dir := os.Getenv("GDELT_BENCH_SILVER_DIR"); {
		case where == "local" && dir != "":
			if err := os.RemoveAll(dir); err != nil {
				b.Fatal(err)
			}
			st, err = storage.NewLocal(dir)
		case where == "local":
			st, err = storage.NewLocal(b.TempDir())
		default:
			st, err = storage.NewS3("s3://bench/silver-"+time.Now().Format("150405.000000"), storage.S3Config{
				Endpoint: srv.Endpoint, AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey, PathStyle: true})
		}
		if err != nil {
			b.Fatal(err)
		}
		w := benchAppender(b, ctx, st, s)
		j, err := join.New(join.DefaultConfig())
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		base := deltatest.LiveHeap()
		stop := deltatest.PeakHeap()
		rows, parquetBytes, raw = 0, 0, 0
		appendRows := func(out [][]any, version int64) {
			if len(out) == 0 {
				return
			}
			batch := make([]delta.Row, len(out))
			for i, r := range out {
				batch[i] = delta.Row{Data: r, AppID: "bench", Version: version}
			}
			b.StartTimer()
			cpu0 := cpuSeconds()
			res, err := w.Append(ctx, batch)
			cpu += cpuSeconds() - cpu0
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			rows += int64(res.Written)
			for _, a := range res.Files {
				parquetBytes += a.Size
			}
		}
		for wi, win := range names {
			for _, t := range []string{"export", "mentions", "gkg"} {
				data := benchUnzip(b, win.zips[t])
				raw += int64(len(data))
				ly, err := j.InputLayout(t)
				if err != nil {
					b.Fatal(err)
				}
				for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
					r, err := decs[t].DecodeRow([]byte(l))
					if err != nil {
						b.Fatal(err)
					}
					if r.Layout != ly {
						b.Fatalf("%s: the decoder's layout is not the join's", t)
					}
					if err := j.AddRow(t, ly, r.Values); err != nil {
						b.Fatal(err)
					}
				}
				if err := j.Complete(t, win.id); err != nil {
					b.Fatal(err)
				}
			}
			out, _ := j.DrainRows()
			appendRows(out, int64(wi))
		}
		out, _ := j.FlushRows()
		appendRows(out, int64(len(names)))
		if p := stop(); p > base {
			peak = max(peak, p-base)
		}
		b.StartTimer()
	}
	b.SetBytes(raw)
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	if cpu > 0 {
		b.ReportMetric(float64(rows)*float64(b.N)/cpu, "rows/cpu-s")
	}
	b.ReportMetric(float64(parquetBytes)/1e6, "parquet-MB")
	b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
}

// benchWindow is one window of the day load: its id and its zip per table.
type benchWindow struct {
	id   int64
	zips map[string]string
}

// benchWindowZips lists the day load's windows in window order.
func benchWindowZips(b *testing.B) []benchWindow {
	dir, _ := filepath.Abs("../../.cache/dayload")
	if err := gdeltgen.WriteDayLoad(dir, 1); err != nil {
		b.Fatal(err)
	}
	exports, _ := filepath.Glob(filepath.Join(dir, "*.export.CSV.zip"))
	sort.Strings(exports)
	var out []benchWindow
	for _, e := range exports {
		stamp := strings.TrimSuffix(filepath.Base(e), ".export.CSV.zip")
		id, err := strconv.ParseInt(stamp, 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, benchWindow{id, map[string]string{"export": e, "mentions": filepath.Join(dir, stamp+".mentions.CSV.zip"), "gkg": filepath.Join(dir, stamp+".gkg.csv.zip")}})
	}
	return out
}

func benchUnzip(b *testing.B, name string) []byte {
	zr, err := zip.OpenReader(name)
	if err != nil {
		b.Fatal(err)
	}
	defer zr.Close()
	rc, err := zr.File[0].Open()
	if err != nil {
		b.Fatal(err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		b.Fatal(err)
	}
	return data
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

// The commit size of BenchmarkDeltaWrite: what the pipelines' batching
// policy (DELTA_BATCH_ROWS) would gather.
const (
	benchBatchRows  = 10_000
	benchBatchBytes = 16 << 20
)

// benchAppender creates a table of schema s in st and an appender to it.
func benchAppender(b *testing.B, ctx context.Context, st storage.Storage, s schema.StructType) *delta.Appender {
	b.Helper()
	tb, err := delta.OpenTable(ctx, st, delta.TableConfig{})
	if err != nil {
		b.Fatal(err)
	}
	js, _ := s.JSON()
	if err := tb.Create(ctx, delta.Metadata{ID: "bench", Format: delta.Format{Provider: "parquet"}, SchemaString: js}, delta.Protocol{MinReaderVersion: 1, MinWriterVersion: 2}); err != nil {
		b.Fatal(err)
	}
	w, err := delta.NewAppender(tb, delta.AppendConfig{Schema: s})
	if err != nil {
		b.Fatal(err)
	}
	return w
}

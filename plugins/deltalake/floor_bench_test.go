package deltalake

import (
	"bytes"
	"crypto/md5"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"

	"github.com/klauspost/compress/zip"
	"github.com/klauspost/compress/zstd"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
)

// BenchmarkDayFloor measures what no implementation of the day's work can
// skip, on one core: the feed's MD5 of every zip and its inflate (the same
// zip package and flate decoder as gdelt_feed), and zstd at the Delta
// writer's setting (SpeedFastest, 2 MiB window, one goroutine) over the day's
// unzipped bytes twice: once for bronze, and once more for silver, which
// carries each mention's event and its article's GKG record (the GKG text is
// most of both). Zstd runs over the tab-separated text in 8 MiB pieces, not
// over Parquet pages: pages of one column compress a little faster, and
// dictionaries store a repeated value once, so this floor is approximate.
// It reports CPU seconds of each part and their sum (floor-cpu-s), the
// figure `tests/bench.sh day` sets the pipeline's CPU seconds against.
// GDELT_BENCH_LOAD=small: 4 small windows.
func BenchmarkDayFloor(b *testing.B) {
	var zips [][]byte
	if os.Getenv("GDELT_BENCH_LOAD") == "small" {
		for _, t := range []string{"export", "mentions", "gkg"} {
			for _, raw := range benchFiles(b, t) {
				zips = append(zips, zipOf(b, raw))
			}
		}
	} else {
		dir, _ := filepath.Abs("../../.cache/dayload")
		if err := gdeltgen.WriteDayLoad(dir, 1); err != nil {
			b.Fatal(err)
		}
		names, _ := filepath.Glob(filepath.Join(dir, "*.zip"))
		sort.Strings(names)
		for _, n := range names {
			data, err := os.ReadFile(n)
			if err != nil {
				b.Fatal(err)
			}
			zips = append(zips, data)
		}
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(2<<20), zstd.WithZeroFrames(true), zstd.WithEncoderCRC(false))
	if err != nil {
		b.Fatal(err)
	}
	runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(runtime.NumCPU())
	var zipped, unzipped, compressed int64
	var md5s, inflate, zst float64
	buf := make([]byte, 0, 64<<20)
	var out []byte
	for b.Loop() {
		zipped, unzipped, compressed, md5s, inflate, zst = 0, 0, 0, 0, 0, 0
		for _, z := range zips {
			zipped += int64(len(z))
			c0 := cpuSeconds()
			md5.Sum(z)
			c1 := cpuSeconds()
			zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
			if err != nil {
				b.Fatal(err)
			}
			rc, err := zr.File[0].Open()
			if err != nil {
				b.Fatal(err)
			}
			w := bytes.NewBuffer(buf[:0])
			if _, err := io.Copy(w, rc); err != nil {
				b.Fatal(err)
			}
			rc.Close()
			raw := w.Bytes()
			buf = raw[:0]
			c2 := cpuSeconds()
			for pass := 0; pass < 2; pass++ {
				for off := 0; off < len(raw); off += 8 << 20 {
					out = enc.EncodeAll(raw[off:min(off+8<<20, len(raw))], out[:0])
					compressed += int64(len(out))
				}
			}
			c3 := cpuSeconds()
			unzipped += int64(len(raw))
			md5s += c1 - c0
			inflate += c2 - c1
			zst += c3 - c2
		}
	}
	floor := md5s + inflate + zst
	b.ReportMetric(float64(zipped)/1e6, "zipped-MB")
	b.ReportMetric(float64(unzipped)/1e6, "unzipped-MB")
	b.ReportMetric(float64(compressed)/2e6, "zstd-MB-per-pass")
	b.ReportMetric(md5s, "md5-cpu-s")
	b.ReportMetric(inflate, "inflate-cpu-s")
	b.ReportMetric(zst, "zstd-2-passes-cpu-s")
	b.ReportMetric(floor, "floor-cpu-s")
	b.ReportMetric(floor/float64(runtime.NumCPU()), "floor-wall-s-all-cores")
}

// zipOf zips raw as a GDELT file (one deflated entry).
func zipOf(b *testing.B, raw []byte) []byte {
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	w, err := zw.Create("f.CSV")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := w.Write(raw); err != nil {
		b.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	return out.Bytes()
}

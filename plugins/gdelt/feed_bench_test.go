package gdelt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
)

// benchMirror returns a mirror for the feed benchmarks: the day-sized load
// (96 windows, ~1.5 GB unzipped, cached under .cache/ at the repository root)
// unless GDELT_BENCH_LOAD=small asks for a few small windows.
func benchMirror(b *testing.B) string {
	b.Helper()
	if os.Getenv("GDELT_BENCH_LOAD") == "small" {
		dir := b.TempDir()
		writeMirror(b, dir, generate(b, 4), nil)
		return dir
	}
	dir, err := filepath.Abs("../../.cache/dayload")
	must(b, err)
	must(b, gdeltgen.WriteDayLoad(dir, 1))
	return dir
}

type countingEmitter struct{ rows, bytes int64 }

func (c *countingEmitter) Chunk(_ context.Context, ch *Chunk) error {
	c.rows += int64(len(ch.Lines))
	c.bytes += int64(ch.Bytes)
	return nil
}
func (c *countingEmitter) WindowEnd(context.Context, *WindowEnd) error { return nil }
func (c *countingEmitter) End(context.Context) error                   { return nil }

type quietLog struct{}

func (quietLog) Infof(string, ...any)  {}
func (quietLog) Warnf(string, ...any)  {}
func (quietLog) Errorf(string, ...any) {}

// BenchmarkFeed measures the feed end to end over a local mirror: read, verify
// size and md5, inflate, split into rows. MB/s is of unzipped data.
// "core" is the plain-Go feed; "input" adds the Benthos adapter (messages with
// their five metadata keys, batches, acks and progress).
func BenchmarkFeed(b *testing.B) {
	dir := benchMirror(b)
	cfg := testConfig(ModeBackfill)
	cfg.MaxBatchRows, cfg.MaxBatchSize = 1024, 8<<20

	var total countingEmitter
	src, _ := NewSource(dir, nil, RetryPolicy{MaxAttempts: 1}, nil)
	must(b, NewFeed(cfg, src, quietLog{}).Run(context.Background(), "", &total))
	b.Logf("load: %d rows, %.0f MB unzipped", total.rows, float64(total.bytes)/1e6)

	b.Run("core", func(b *testing.B) {
		b.SetBytes(total.bytes)
		for b.Loop() {
			var c countingEmitter
			must(b, NewFeed(cfg, src, quietLog{}).Run(context.Background(), "", &c))
			if c.bytes != total.bytes {
				b.Fatalf("read %d bytes, want %d", c.bytes, total.bytes)
			}
		}
		b.ReportMetric(float64(total.rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("input", func(b *testing.B) {
		b.SetBytes(total.bytes)
		for b.Loop() {
			pc, err := gdeltFeedSpec().ParseYAML(fmt.Sprintf("base_url: %s\nmode: backfill\n", dir), nil)
			must(b, err)
			conf, err := gdeltFeedConfFromParsed(pc)
			must(b, err)
			in, err := newGDELTFeedFromParsed(conf, service.MockResources())
			must(b, err)
			ctx := context.Background()
			must(b, in.Connect(ctx))
			var rows int64
			for {
				batch, ack, err := in.ReadBatch(ctx)
				if errors.Is(err, service.ErrEndOfInput) {
					break
				}
				must(b, err)
				rows += int64(len(batch))
				must(b, ack(ctx, nil))
			}
			cctx, cancel := context.WithTimeout(ctx, time.Minute)
			must(b, in.Close(cctx))
			cancel()
			if rows != total.rows {
				b.Fatalf("read %d rows, want %d", rows, total.rows)
			}
		}
		b.ReportMetric(float64(total.rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}

package tests

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
	"github.com/gdeltflow/gdeltflow/tests/miniotest"
)

// BenchmarkKafkaToDelta measures the Kafka path at day scale: ingest.yaml
// backfills the generated day (96 windows, ~1.5 GB unzipped) into the topics
// (a burst: bronze is not running), then bronze.yaml drains the topics into
// Delta on MinIO. It reports the burst's consumer lag and the sustained
// drain rate (rows/s, MB/s of raw rows). Every process (kfake, MinIO, both
// pipelines) shares this machine's 2 cores. GDELT_BENCH_LOAD=small uses a few
// small windows instead.
func BenchmarkKafkaToDelta(b *testing.B) {
	if miniotest.Binary() == "" {
		b.Skip("MinIO not installed (tests/minio.sh install)")
	}
	mirror, _ := filepath.Abs(filepath.Join(repoRoot(b), ".cache", "dayload"))
	if os.Getenv("GDELT_BENCH_LOAD") == "small" {
		mirror, _ = genMirror(b, 4, 1)
	} else if err := gdeltgen.WriteDayLoad(mirror, 1); err != nil {
		b.Fatal(err)
	}
	var rawBytes, rawRows int64

	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		srv := miniotest.Start(b)
		srv.Bucket(b, "lake")
		k := startKafkaDev(b)

		t0 := time.Now()
		startPipeline(b, "pipelines/ingest.yaml", "KAFKA_BROKERS="+k.Brokers, "GDELT_BASE_URL="+mirror,
			"GDELT_MODE=backfill", "INGEST_STATE="+b.TempDir()).Wait(30 * time.Minute)
		ingestTime := time.Since(t0)
		burst, bytes := topicTotals(b, k.Brokers)
		rawRows, rawBytes = burst, bytes
		b.Logf("ingest: %d records (%.0f MB of rows) in %s: %.0f rows/s, %.1f MB/s; consumer lag after the burst: %d records",
			burst, float64(bytes)/1e6, ingestTime.Round(time.Millisecond), float64(burst)/ingestTime.Seconds(), float64(bytes)/1e6/ingestTime.Seconds(), burst)

		b.StartTimer()
		t1 := time.Now()
		bronze := startPipeline(b, "pipelines/bronze.yaml", append(s3Env(srv, "lake"), "KAFKA_BROKERS="+k.Brokers,
			"BRONZE_GROUP=bench")...)
		var lastLog time.Time
		for {
			lag := groupLag(b, k.Brokers, "bench", burst)
			if lag == 0 {
				break
			}
			if time.Since(lastLog) > 10*time.Second {
				b.Logf("  %5.0fs: lag %d", time.Since(t1).Seconds(), lag)
				lastLog = time.Now()
			}
			if time.Since(t1) > 30*time.Minute {
				b.Fatalf("bronze did not drain the burst in 30 minutes\n%s", tail(bronze.log.String(), 3000))
			}
			time.Sleep(500 * time.Millisecond)
		}
		drain := time.Since(t1)
		b.StopTimer()
		bronze.Stop()
		b.Logf("bronze: drained %d records in %s: %.0f rows/s, %.1f MB/s into Delta on MinIO; Delta holds %v",
			burst, drain.Round(time.Millisecond), float64(burst)/drain.Seconds(), float64(bytes)/1e6/drain.Seconds(), s3Rows(b, srv, "lake"))
		b.StartTimer()
	}
	b.SetBytes(rawBytes)
	b.ReportMetric(float64(rawRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func admin(tb testing.TB, brokers string) (*kadm.Client, func()) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...))
	if err != nil {
		tb.Fatal(err)
	}
	return kadm.NewClient(cl), cl.Close
}

// topicTotals counts the records in the three table topics, and their value
// bytes (read back once, to know what the burst holds).
func topicTotals(tb testing.TB, brokers string) (records, valueBytes int64) {
	tb.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...),
		kgo.ConsumeTopics("gdelt.events", "gdelt.mentions", "gdelt.gkg"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		tb.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	ends, err := adm.ListEndOffsets(ctx, "gdelt.events", "gdelt.mentions", "gdelt.gkg")
	if err != nil {
		tb.Fatal(err)
	}
	ends.Each(func(o kadm.ListedOffset) { records += o.Offset })
	var seen int64
	for seen < records {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			tb.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) { seen++; valueBytes += int64(len(r.Value)) + 1 })
	}
	return records, valueBytes
}

// groupLag is the group's total lag over the table topics; before the group
// committed anything it is the whole burst.
func groupLag(tb testing.TB, brokers, group string, burst int64) int64 {
	adm, closeFn := admin(tb, brokers)
	defer closeFn()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offsets, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return burst
	}
	var committed int64
	offsets.Each(func(o kadm.OffsetResponse) {
		if o.Topic != "gdelt.dlq" && o.Err == nil {
			committed += o.At
		}
	})
	return burst - committed
}

package tests

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gdeltflow/gdeltflow/tests/miniotest"
)

// BenchmarkKafkaDay measures the Kafka path end to end on a burst: ingest.yaml
// backfills a generated load into the topics (bronze and silver are not
// running: the burst is the consumers' lag), then bronze.yaml drains the
// topics into Delta on MinIO while silver.yaml joins them, both at once.
// Every 2 s it prints bronze's consumer lag (records not yet committed by its
// group, kadm) and silver's (windows not yet in silver); it reports the wall
// time of each stage, rows/s, the CPU seconds each stage used and the peak
// resident memory of bronze and silver.
//
// The same burst runs with one bronze and one silver, then with two bronze
// replicas (one consumer group) and two silver shards (SILVER_SHARD,
// SILVER_SHARDS=2, SILVER_PARTITIONS 0-2 and 3-5), for the speed-up; and with
// one of each at ½, 1 and 2 days, for how the cost grows with the load. The
// loads are the day load's generator (seed 1, 96 windows a day, ~1.5 GB
// unzipped), its first 48 windows, and 192 windows, generated once under
// .cache. Every process (kfake, MinIO, the pipelines) shares this machine's
// cores, so two replicas show what the extra concurrency buys on it, not on
// more machines.
//
// GDELT_BENCH_DAYS (0.5,1,2) picks the loads; the two-replica run is made on
// the first load of 1 day or more (or on the only one). GDELT_BENCH_LOAD=small:
// 4 small windows, both topologies.
func BenchmarkKafkaDay(b *testing.B) {
	if miniotest.Binary() == "" {
		b.Skip("MinIO not installed (tests/minio.sh install)")
	}
	type load struct {
		name    string
		days    float64
		mirror  string
		windows []string
	}
	var loads []load
	scaleAt := 0
	if os.Getenv("GDELT_BENCH_LOAD") == "small" {
		m, ws := genMirror(b, 4, 1)
		loads = append(loads, load{"small (4 windows)", 0, m, ws})
	} else {
		days := os.Getenv("GDELT_BENCH_DAYS")
		if days == "" {
			days = "0.5,1,2"
		}
		scaleAt = -1
		for _, d := range strings.Split(days, ",") {
			f, err := strconv.ParseFloat(strings.TrimSpace(d), 64)
			if err != nil || f <= 0 || f*96 != float64(int(f*96)) {
				b.Fatalf("GDELT_BENCH_DAYS: %q is not a number of days in whole windows", d)
			}
			n := int(f * 96)
			name := fmt.Sprintf("load-%dw", n)
			switch n {
			case 96:
				name = "dayload" // gdeltgen.WriteDayLoad's, the other benchmarks' day
			case 24:
				name = "latencyload" // BenchmarkKafkaLatency's
			}
			m, ws := cachedLoad(b, name, n)
			if scaleAt < 0 && f >= 1 {
				scaleAt = len(loads)
			}
			loads = append(loads, load{fmt.Sprintf("%g days (%d windows)", f, n), f, m, ws})
		}
		if scaleAt < 0 {
			scaleAt = 0
		}
	}

	type row struct {
		load, topology string
		days           float64
		res            kafkaDayResult
	}
	benthosBin(b) // built before anything is timed
	kafkaDevBin(b)
	var rows []row
	for b.Loop() {
		rows = rows[:0]
		for i, l := range loads {
			topologies := [][2]int{{1, 1}}
			if i == scaleAt {
				topologies = append(topologies, [2]int{2, 2})
			}
			for _, tp := range topologies {
				benchf("== %s, bronze x%d, silver x%d", l.name, tp[0], tp[1])
				res := runKafkaDay(b, l.mirror, l.windows, tp[0], tp[1])
				rows = append(rows, row{l.name, fmt.Sprintf("bronze x%d, silver x%d", tp[0], tp[1]), l.days, res})
			}
		}
	}
	benchf("the Kafka path on a burst (wall seconds; CPU seconds of each stage's processes; the machine's %d cores shared by all):", runtime.NumCPU())
	benchf("  %-22s %-20s %10s %7s %7s %7s %7s %10s %34s %s", "load", "topology", "rows", "ingest", "bronze", "silver", "total", "rows/s", "CPU s: ingest/bronze/silver/kafka", "peak RSS MiB: bronze/silver")
	for _, r := range rows {
		benchf("  %-22s %-20s %10d %7.1f %7.1f %7.1f %7.1f %10.0f %34s %.0f/%.0f", r.load, r.topology, r.res.rows,
			r.res.ingest.Seconds(), r.res.bronze.Seconds(), r.res.silver.Seconds(), r.res.total().Seconds(),
			float64(r.res.rows)/r.res.total().Seconds(),
			fmt.Sprintf("%.1f/%.1f/%.1f/%.1f", r.res.cpuIngest, r.res.cpuBronze, r.res.cpuSilver, r.res.cpuKafka),
			r.res.rssBronze, r.res.rssSilver)
	}
	var one, two *row
	for i := range rows {
		if rows[i].load == loads[scaleAt].name {
			if one == nil {
				one = &rows[i]
			} else {
				two = &rows[i]
			}
		}
	}
	if one != nil {
		b.ReportMetric(float64(one.res.rows)/one.res.total().Seconds(), "rows/s")
	}
	if one != nil && two != nil {
		benchf("speed-up of two bronze replicas and two silver shards on %s: bronze drain %.2fx, silver %.2fx, drain (both done) %.2fx",
			one.load, one.res.bronze.Seconds()/two.res.bronze.Seconds(), one.res.silver.Seconds()/two.res.silver.Seconds(),
			one.res.drain().Seconds()/two.res.drain().Seconds())
		b.ReportMetric(one.res.drain().Seconds()/two.res.drain().Seconds(), "speedup-x2")
	}
	var ref *row
	for i := range rows {
		if rows[i].days == 1 && rows[i].topology == "bronze x1, silver x1" {
			ref = &rows[i]
		}
	}
	if ref != nil {
		benchf("cost growth (one replica each; relative to 1 day: rows, wall, CPU of the pipelines, wall per row):")
		for _, r := range rows {
			if r.topology != ref.topology {
				continue
			}
			rr := float64(r.res.rows) / float64(ref.res.rows)
			wr := r.res.total().Seconds() / ref.res.total().Seconds()
			cr := r.res.cpuPipelines() / ref.res.cpuPipelines()
			benchf("  %-22s rows %.2fx  wall %.2fx  CPU %.2fx  wall per row %.2fx", r.load, rr, wr, cr, wr/rr)
		}
	}
}

// kafkaDayResult is one burst through the Kafka path.
type kafkaDayResult struct {
	rows, records                             int64
	ingest, bronze, silver                    time.Duration // silver and bronze from the moment both start
	cpuIngest, cpuBronze, cpuSilver, cpuKafka float64       // user + system seconds of the processes
	rssBronze, rssSilver                      float64       // peak resident MiB of one replica (the largest)
}

func (r kafkaDayResult) drain() time.Duration { return max(r.bronze, r.silver) }
func (r kafkaDayResult) total() time.Duration { return r.ingest + r.drain() }
func (r kafkaDayResult) cpuPipelines() float64 {
	return r.cpuIngest + r.cpuBronze + r.cpuSilver
}

// peakRSS is the peak resident memory of an exited process, in MiB.
func peakRSS(ps *os.ProcessState) float64 {
	if ps == nil {
		return 0
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return float64(ru.Maxrss) / 1024 // KiB on Linux
	}
	return 0
}

// cpuSeconds is the user + system time of an exited process.
func cpuSeconds(ps *os.ProcessState) float64 {
	if ps == nil {
		return 0
	}
	return (ps.UserTime() + ps.SystemTime()).Seconds()
}

// runKafkaDay sends a mirror into the topics (ingest, timed), then runs
// bronzes bronze replicas and silvers silver shards until bronze's group has
// no lag and every shard's silver reached the last window.
func runKafkaDay(b *testing.B, mirror string, windows []string, bronzes, silvers int) kafkaDayResult {
	b.Helper()
	b.StopTimer()
	srv := miniotest.Start(b)
	srv.Bucket(b, "lake")
	k := startKafkaDev(b)
	b.StartTimer()
	var res kafkaDayResult

	t0 := time.Now()
	ingest := startPipeline(b, "pipelines/ingest.yaml", "KAFKA_BROKERS="+k.Brokers, "GDELT_BASE_URL="+mirror,
		"GDELT_MODE=backfill", "INGEST_STATE="+b.TempDir())
	ingest.Wait(60 * time.Minute)
	res.ingest = time.Since(t0)
	res.cpuIngest = cpuSeconds(ingest.cmd.ProcessState)

	b.StopTimer()
	records, bytes := topicTotals(b, k.Brokers)
	for _, n := range zipRowCounts(b, mirror) {
		res.rows += int64(n)
	}
	res.records = records
	benchf("ingest: %d rows (%d records with the markers, %.0f MB of rows) in %s: %.0f rows/s, %.1f MB/s; the consumers' lag: all of it",
		res.rows, records, float64(bytes)/1e6, res.ingest.Round(time.Millisecond), float64(res.rows)/res.ingest.Seconds(), float64(bytes)/1e6/res.ingest.Seconds())
	b.StartTimer()

	env := append(s3Env(srv, "lake"), "KAFKA_BROKERS="+k.Brokers)
	var bronze, silver []*pipeline
	var apps []string
	t1 := time.Now()
	for i := 0; i < bronzes; i++ {
		bronze = append(bronze, startPipeline(b, "pipelines/bronze.yaml", append(slices.Clip(env), "BRONZE_GROUP=bench")...))
	}
	state := b.TempDir() // a fresh broker each run: fresh resume points too
	for i := 0; i < silvers; i++ {
		lo, hi := i*6/silvers, (i+1)*6/silvers-1 // the 6 partitions of mentions and GKG (resources/topics.yaml)
		silver = append(silver, startPipeline(b, "pipelines/silver.yaml", append(slices.Clip(env), "SILVER_STATE="+state, fmt.Sprintf("SILVER_SHARD=%d", i),
			fmt.Sprintf("SILVER_SHARDS=%d", silvers), fmt.Sprintf("SILVER_PARTITIONS=%d-%d", lo, hi))...))
		apps = append(apps, fmt.Sprintf("silver-%d-of-%d", i, silvers))
	}
	last, _ := strconv.ParseInt(windows[len(windows)-1], 10, 64)
	windowIndex := map[int64]int{}
	for i, w := range windows {
		n, _ := strconv.ParseInt(w, 10, 64)
		windowIndex[n] = i
	}
	var lastLog time.Time
	for res.bronze == 0 || res.silver == 0 {
		if res.bronze == 0 && groupLag(b, k.Brokers, "bench", records) == 0 {
			res.bronze = time.Since(t1)
		}
		behind := 0 // windows not yet in silver, on the slowest shard
		if res.silver == 0 {
			for _, app := range apps {
				txns := silverTxns(b, srv, "lake", app)
				at := min(txns["silver/events_detailed"], txns["audit/windows"])
				n := len(windows)
				if i, ok := windowIndex[at]; ok {
					n = len(windows) - 1 - i
				}
				behind = max(behind, n)
			}
			if behind == 0 {
				res.silver = time.Since(t1)
			}
		}
		if time.Since(lastLog) >= 2*time.Second || (res.bronze != 0 && res.silver != 0) {
			lag := int64(0)
			if res.bronze == 0 {
				lag = groupLag(b, k.Brokers, "bench", records)
			}
			benchf("  %5.1fs: bronze lag %8d records, silver %3d windows behind", time.Since(t1).Seconds(), lag, behind)
			lastLog = time.Now()
		}
		if time.Since(t1) > 60*time.Minute {
			b.Fatalf("the burst not drained in 60 minutes\n%s\n%s", tail(bronze[0].log.String(), 3000), tail(silver[0].log.String(), 3000))
		}
		time.Sleep(500 * time.Millisecond)
	}
	b.StopTimer()
	for _, p := range bronze {
		p.Stop()
		res.cpuBronze += cpuSeconds(p.cmd.ProcessState)
		res.rssBronze = max(res.rssBronze, peakRSS(p.cmd.ProcessState))
	}
	for _, p := range silver {
		p.Stop()
		res.cpuSilver += cpuSeconds(p.cmd.ProcessState)
		res.rssSilver = max(res.rssSilver, peakRSS(p.cmd.ProcessState))
	}
	k.Stop()
	if k.cmd != nil {
		res.cpuKafka = cpuSeconds(k.cmd.ProcessState)
	}
	got := s3Rows(b, srv, "lake")
	benchf("bronze (x%d) drained %d records in %s (%.0f rows/s); silver (x%d) through window %d in %s; bronze holds %v",
		bronzes, records, res.bronze.Round(time.Millisecond), float64(res.rows)/res.bronze.Seconds(), silvers, last,
		res.silver.Round(time.Millisecond), got)
	b.StartTimer()
	return res
}

// benchf prints a line of a benchmark's report on standard output, whole
// (go test cuts a benchmark's log after a few lines unless -v).
func benchf(format string, args ...any) { fmt.Printf(format+"\n", args...) }

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

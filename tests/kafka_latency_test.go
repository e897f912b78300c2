package tests

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
	"github.com/gdeltflow/gdeltflow/tests/duckdbtest"
	"github.com/gdeltflow/gdeltflow/tests/miniotest"
)

// BenchmarkKafkaLatency measures how soon a published window is in the lake
// on the Kafka path: a mirror folder publishes one more window every few
// seconds (its files are there, then lastupdate.txt names them, as GDELT does
// every 15 minutes), ingest.yaml follows it (poll 200 ms), and bronze.yaml and
// silver.yaml run on kfake (cmd/kafka-dev) and MinIO. Per window W it takes,
// after the run, from the topics and the tables' Delta logs:
//
//   - in Kafka: W published → the newest producer timestamp of W's window_end
//     markers (each partition's marker follows W's rows): ingest's share;
//   - bronze: W published → the last bronze commit holding a row of W (the
//     commitInfo timestamp of every commit whose data files DuckDB finds W's
//     rows in, over the three tables);
//   - silver: W+1 published → W's silver commit (the first commit of
//     silver/events_detailed and of audit/windows whose txn reaches W). W's
//     join needs W+1: a mention joins GKG records of the window after its own,
//     and W closes on W+1's markers; so W+1's files are the last W waits for.
//     (From W's own publication add the publishing interval.)
//
// It runs twice in the same run, with a fresh broker and MinIO each time:
// "before" is bronze.yaml with the output batching it had (commits of 50,000
// rows, 1,500 GKG rows, or every 10 s) and both consumers' inputs with the
// 1 MB partition buffer they had; "after" is the YAML as it is (input
// batches committed within 300 ms, no row counts; 8 MiB buffers in bronze, 4 MiB and 1 MiB fetches in
// silver). The first window is a warm-up (the
// processes start); p50, p99 and max are over the others. It also prints the
// CPU seconds per window of each pipeline. Every process shares this
// machine's cores. GDELT_BENCH_LOGS=<folder> keeps each process's log there
// (at info level: one line per commit).
//
// The load: 24 windows of the day load's volume (~1,750 events, ~4,500
// mentions, ~1,130 GKG rows of ~12 KB each), generated once into
// .cache/latencyload, one every GDELT_BENCH_EVERY (3s);
// GDELT_BENCH_LOAD=small: 8 small windows, one a second.
func BenchmarkKafkaLatency(b *testing.B) {
	if miniotest.Binary() == "" {
		b.Skip("MinIO not installed (tests/minio.sh install)")
	}
	duckdbtest.Require(b)
	every := 3 * time.Second
	var mirror string
	var windows []string
	if os.Getenv("GDELT_BENCH_LOAD") == "small" {
		every = time.Second
		mirror, windows = genMirror(b, 8, 21)
	} else {
		mirror, windows = cachedLoad(b, "latencyload", 24)
	}
	if s := os.Getenv("GDELT_BENCH_EVERY"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			b.Fatalf("GDELT_BENCH_EVERY: %v", err)
		}
		every = d
	}
	// The before run: today's bronze.yaml and silver.yaml with what this
	// measurement changed put back: bronze's output batching, and the inputs'
	// partition buffers at their 1 MB default.
	dir := b.TempDir()
	revert := func(file string, edits ...string) string {
		text, err := os.ReadFile(filepath.Join(repoRoot(b), "pipelines", file))
		if err != nil {
			b.Fatal(err)
		}
		s := string(text)
		for i := 0; i < len(edits); i += 2 {
			if !strings.Contains(s, edits[i]) {
				b.Fatalf("pipelines/%s has no %q to put back for the before run", file, edits[i])
			}
			s = strings.Replace(s, edits[i], edits[i+1], 1)
		}
		out := filepath.Join(dir, file)
		if err := os.WriteFile(out, []byte(s), 0o644); err != nil {
			b.Fatal(err)
		}
		return out
	}
	bronzeBefore := revert("bronze.yaml",
		"    batch_rows: 0\n    gkg_batch_rows: 0\n    batch_period: 300ms\n", "    batch_rows: 50000\n    gkg_batch_rows: 1500\n    batch_period: 10s\n",
		"    partition_buffer_bytes: ${BRONZE_PARTITION_BUFFER:8MiB}\n", "")
	// gdelt_topics' wrapped redpanda input: its partition buffer back at the 1 MB default.
	silverBefore := revert("silver.yaml", "        partition_buffer_bytes: ${SILVER_PARTITION_BUFFER:4MiB}\n", "")

	runs := []struct{ name, bronze, silver string }{
		{"before (output batching 50,000 / 1,500 rows or 10 s; 1 MB partition buffers)", bronzeBefore, silverBefore},
		{"after (input batches within 300 ms; 8 MiB (bronze) and 4 MiB (silver) partition buffers)", "pipelines/bronze.yaml", "pipelines/silver.yaml"},
	}
	benthosBin(b) // built before anything is timed
	kafkaDevBin(b)
	var results []latencyResult
	for b.Loop() {
		results = results[:0]
		for _, r := range runs {
			res := runLatency(b, mirror, windows, every, r.bronze, r.silver)
			res.name = r.name
			results = append(results, res)
		}
	}
	benchf("%d windows published every %s (the first is a warm-up), ingest polls every 200 ms; latencies in seconds:", len(windows), every)
	benchf("  %-92s %-36s %-36s %-36s %s", "bronze.yaml", "in Kafka (W published)", "in bronze (W published)", "in silver (W+1 published)", "in silver (W published)")
	for _, r := range results {
		benchf("  %-92s %-36s %-36s %-36s %s", r.name, r.kafka, r.bronze, r.silverNext, r.silverOwn)
	}
	for _, r := range results {
		benchf("  %-92s CPU seconds per window: ingest %.2f, bronze %.2f, silver %.2f", r.name, r.cpuIngest, r.cpuBronze, r.cpuSilver)
	}
	after := results[len(results)-1]
	b.ReportMetric(after.bronze.p99, "bronze-p99-s")
	b.ReportMetric(after.silverNext.p99, "silver-p99-s")
	b.ReportMetric(results[0].bronze.p99, "before-bronze-p99-s")
}

type latencyResult struct {
	name                                 string
	kafka, bronze, silverNext, silverOwn quantiles
	cpuIngest, cpuBronze, cpuSilver      float64 // CPU seconds per window
}

type quantiles struct {
	n             int
	p50, p99, max float64
}

func (q quantiles) String() string {
	return fmt.Sprintf("p50 %5.2f p99 %5.2f max %5.2f (n %d)", q.p50, q.p99, q.max, q.n)
}

// quantilesOf gives nearest-rank percentiles of seconds.
func quantilesOf(xs []float64) quantiles {
	if len(xs) == 0 {
		return quantiles{}
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	rank := func(p float64) float64 { return s[int(math.Ceil(p*float64(len(s))))-1] }
	return quantiles{n: len(s), p50: rank(0.5), p99: rank(0.99), max: s[len(s)-1]}
}

// runLatency runs the followed mirror through ingest, the given bronze
// config and silver.yaml, on a fresh broker and MinIO, and measures it.
func runLatency(b *testing.B, mirror string, windows []string, every time.Duration, bronzeConf, silverConf string) latencyResult {
	b.Helper()
	srv := miniotest.Start(b)
	srv.Bucket(b, "lake")
	k := startKafkaDev(b)
	lu := filepath.Join(mirror, "lastupdate.txt")
	os.Remove(lu)
	defer os.Remove(lu)
	published := map[string]time.Time{}
	setLastUpdate(b, mirror, windows[0])
	published[windows[0]] = time.Now()
	env := append(s3Env(srv, "lake"), "KAFKA_BROKERS="+k.Brokers)
	if os.Getenv("GDELT_BENCH_LOGS") != "" {
		env = append(env, "LOG_LEVEL=info")
	}
	ingest := startPipeline(b, "pipelines/ingest.yaml", append(slices.Clip(env), "GDELT_BASE_URL="+mirror,
		"GDELT_MODE=follow", "GDELT_POLL_INTERVAL=200ms", "INGEST_STATE="+b.TempDir())...)
	bronze := startPipeline(b, bronzeConf, append(env, "BRONZE_GROUP=latency")...)
	// A fresh broker each run: a fresh resume point too.
	silver := startPipeline(b, silverConf, append(slices.Clip(env), "SILVER_STATE="+b.TempDir())...)
	defer func() { ingest.Stop(); bronze.Stop(); silver.Stop() }()

	// The warm-up window: every process is up and has written it to bronze.
	for deadline := time.Now().Add(2 * time.Minute); ; {
		got := s3Rows(b, srv, "lake")
		if got["export"] > 0 && got["mentions"] > 0 && got["gkg"] > 0 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the first window not in bronze after 2 minutes: %v\n%s\n%s", got, tail(ingest.log.String(), 2000), tail(bronze.log.String(), 2000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	start := time.Now()
	for i, w := range windows[1:] {
		time.Sleep(time.Until(start.Add(time.Duration(i) * every)))
		setLastUpdate(b, mirror, w)
		published[w] = time.Now()
	}
	waitRows(b, srv, "lake", zipRowCounts(b, mirror), 5*time.Minute, ingest, bronze)
	waitSilver(b, srv, "lake", []string{"silver-0-of-1"}, windows[len(windows)-2], 5*time.Minute, silver)
	inKafka := kafkaWindowTimes(b, k.Brokers)
	ingest.Stop()
	bronze.Stop()
	silver.Stop()
	if dir := os.Getenv("GDELT_BENCH_LOGS"); dir != "" { // each process's log, for a closer look
		tag := "after"
		if bronzeConf != "pipelines/bronze.yaml" {
			tag = "before"
		}
		for _, p := range []*pipeline{ingest, bronze, silver} {
			name := filepath.Join(dir, tag+"-"+strings.TrimSuffix(filepath.Base(p.name), ".yaml")+".log")
			if err := os.WriteFile(name, []byte(p.log.String()), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	cpu := func(p *pipeline) float64 { return cpuSeconds(p.cmd.ProcessState) / float64(len(windows)) }
	res := latencyResult{cpuIngest: cpu(ingest), cpuBronze: cpu(bronze), cpuSilver: cpu(silver)}

	local := downloadPrefixes(b, srv, "lake", "bronze/", "silver/events_detailed/", "audit/")
	bronzeAt := map[string]time.Time{} // window → its last bronze commit
	for table, name := range bronzeTables {
		dir := filepath.Join(local, "bronze", name)
		commits := deltaCommits(b, dir)
		col := map[string]string{"export": "date_added", "mentions": "mention_time_date", "gkg": "date"}[table]
		rows := duckdbtest.Query(b, fmt.Sprintf(
			`SELECT DISTINCT parse_filename(filename) AS file, CAST(%s AS VARCHAR) AS w FROM read_parquet(%s, filename = true, hive_partitioning = false)`,
			col, duckdbtest.Quote(filepath.Join(dir, "window_date=*", "*.parquet"))))
		for _, r := range rows {
			file, w := r["file"].(string), r["w"].(string)
			at, ok := commits.fileCommit[file]
			if !ok {
				continue // an orphan: no commit references it
			}
			if at.After(bronzeAt[w]) {
				bronzeAt[w] = at
			}
		}
	}
	silverAt := map[string]time.Time{} // window → its silver commit (the later of the two tables)
	for _, table := range []string{"silver/events_detailed", "audit/windows"} {
		commits := deltaCommits(b, filepath.Join(local, filepath.FromSlash(table)))
		for _, w := range windows {
			wn, _ := strconv.ParseInt(w, 10, 64)
			var first time.Time
			for _, c := range commits.list {
				if c.txns["gdeltflow-silver-0-of-1"] >= wn {
					first = c.at
					break
				}
			}
			if !first.IsZero() && first.After(silverAt[w]) {
				silverAt[w] = first
			}
		}
	}
	var kf, br, sn, so []float64
	for i, w := range windows {
		if i == 0 {
			continue
		}
		if at, ok := inKafka[w]; ok {
			kf = append(kf, at.Sub(published[w]).Seconds())
		}
		if at, ok := bronzeAt[w]; ok {
			br = append(br, at.Sub(published[w]).Seconds())
		} else {
			b.Errorf("%s: no bronze commit holds window %s", bronzeConf, w)
		}
		if i+1 < len(windows) {
			at, ok := silverAt[w]
			if !ok {
				b.Errorf("%s: no silver commit reaches window %s", bronzeConf, w)
				continue
			}
			sn = append(sn, at.Sub(published[windows[i+1]]).Seconds())
			so = append(so, at.Sub(published[w]).Seconds())
		}
	}
	res.kafka, res.bronze, res.silverNext, res.silverOwn = quantilesOf(kf), quantilesOf(br), quantilesOf(sn), quantilesOf(so)
	return res
}

// kafkaWindowTimes reads the table topics whole and returns, per window, when
// the whole window was in Kafka: the newest producer timestamp of its
// window_end markers (each partition's marker follows the window's rows).
func kafkaWindowTimes(tb testing.TB, brokers string) map[string]time.Time {
	tb.Helper()
	topics := []string{"gdelt.events", "gdelt.mentions", "gdelt.gkg"}
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...), kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		tb.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topics...)
	if err != nil {
		tb.Fatal(err)
	}
	var remaining int64
	ends.Each(func(o kadm.ListedOffset) { remaining += o.Offset })
	out := map[string]time.Time{}
	for remaining > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			tb.Fatalf("reading the topics: %v (%d records left)", err, remaining)
		}
		fs.EachRecord(func(r *kgo.Record) {
			remaining--
			var w, marker string
			for _, h := range r.Headers {
				switch h.Key {
				case "gdelt_window":
					w = string(h.Value)
				case "gdelt_marker":
					marker = string(h.Value)
				}
			}
			if marker == "window_end" && r.Timestamp.After(out[w]) {
				out[w] = r.Timestamp
			}
		})
	}
	return out
}

// tableCommits is a Delta table's log read as JSON: each commit's time
// (commitInfo timestamp) and txns, and which commit added each data file.
type tableCommits struct {
	list       []commitAt
	fileCommit map[string]time.Time // data file name (no folder) → its commit's time
}

type commitAt struct {
	version int64
	at      time.Time
	txns    map[string]int64
}

// deltaCommits reads every JSON commit under dir/_delta_log, in version order.
func deltaCommits(tb testing.TB, dir string) tableCommits {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "_delta_log", "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(files) // 20-digit versions sort as numbers
	out := tableCommits{fileCommit: map[string]time.Time{}}
	for _, f := range files {
		v, err := strconv.ParseInt(strings.TrimSuffix(filepath.Base(f), ".json"), 10, 64)
		if err != nil {
			continue
		}
		fh, err := os.Open(f)
		if err != nil {
			tb.Fatal(err)
		}
		c := commitAt{version: v, txns: map[string]int64{}}
		var added []string
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			var a struct {
				CommitInfo *struct {
					Timestamp int64 `json:"timestamp"`
				} `json:"commitInfo"`
				Add *struct {
					Path string `json:"path"`
				} `json:"add"`
				Txn *struct {
					AppID   string `json:"appId"`
					Version int64  `json:"version"`
				} `json:"txn"`
			}
			if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
				tb.Fatalf("%s: %v", f, err)
			}
			switch {
			case a.CommitInfo != nil:
				c.at = time.UnixMilli(a.CommitInfo.Timestamp)
			case a.Add != nil:
				added = append(added, a.Add.Path[strings.LastIndex(a.Add.Path, "/")+1:])
			case a.Txn != nil:
				c.txns[a.Txn.AppID] = a.Txn.Version
			}
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		for _, p := range added {
			out.fileCommit[p] = c.at
		}
		out.list = append(out.list, c)
	}
	return out
}

// cachedLoad returns a mirror of the first n windows of the day load (the
// same generator, seed and start as gdeltgen.WriteDayLoad), generated once
// into .cache/<name>, and its window ids.
func cachedLoad(tb testing.TB, name string, n int) (dir string, windows []string) {
	tb.Helper()
	dir, _ = filepath.Abs(filepath.Join(repoRoot(tb), ".cache", name))
	cfg := gdeltgen.Day(gdeltgen.DayLoadStart, 1)
	cfg.Windows = n
	for i := 0; i < n; i++ {
		windows = append(windows, gdeltgen.WindowID(cfg.Start.Add(time.Duration(i)*15*time.Minute)))
	}
	master, _ := gdeltgen.ListFileNames(false)
	if _, err := os.Stat(filepath.Join(dir, master)); err == nil {
		return dir, windows
	}
	tmp := dir + ".tmp"
	os.RemoveAll(tmp)
	m, err := gdeltgen.NewMirror(tmp, false)
	if err != nil {
		tb.Fatal(err)
	}
	if err := gdeltgen.Generate(cfg, m.AddWindow); err != nil {
		tb.Fatal(err)
	}
	if err := m.Close(); err != nil {
		tb.Fatal(err)
	}
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		tb.Fatal(err)
	}
	return dir, windows
}

// zipRowCounts counts the rows of each table in a mirror's zips, streaming
// (no unzipped copy on disk).
func zipRowCounts(tb testing.TB, mirror string) map[string]int {
	tb.Helper()
	out := map[string]int{}
	for table, ext := range map[string]string{"export": "export.CSV", "mentions": "mentions.CSV", "gkg": "gkg.csv"} {
		zips, err := filepath.Glob(filepath.Join(mirror, "*."+ext+".zip"))
		if err != nil {
			tb.Fatal(err)
		}
		buf := make([]byte, 1<<20)
		for _, z := range zips {
			zr, err := zip.OpenReader(z)
			if err != nil {
				tb.Fatal(err)
			}
			rc, err := zr.File[0].Open()
			if err != nil {
				tb.Fatal(err)
			}
			for {
				n, err := rc.Read(buf)
				out[table] += bytes.Count(buf[:n], []byte{'\n'})
				if err == io.EOF {
					break
				}
				if err != nil {
					tb.Fatal(err)
				}
			}
			rc.Close()
			zr.Close()
		}
	}
	return out
}

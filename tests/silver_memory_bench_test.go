package tests

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/tests/miniotest"
)

// BenchmarkSilverBurstMemory is the silver half of BenchmarkKafkaDay at a
// smaller cost: ingest.yaml backfills GDELT_SILVER_MEM_WINDOWS windows of the
// day load (24 by default: the quarter day of BenchmarkKafkaLatency) into the
// topics, then silver.yaml alone drains them, once per config of
// GDELT_SILVER_MEM_CONFIGS (comma-separated paths; default
// pipelines/silver.yaml), each into its own bucket with fresh state, on the
// same burst. Every second it reads silver's /metrics (resident memory, Go
// heap, the join's pending mentions and state); at the end it prints each
// run's peak RSS (the OS's), peak heap and the silver tables' row counts,
// which must be the same for every config (audit/windows aside: its WAITING
// rows depend on how the windows were read). GDELT_BENCH_LOAD=small: 4 small
// windows (CI's short pass). With GDELT_SILVER_MEM_PROFILE=DIR it writes a
// heap profile (/debug/pprof/heap) of each run at its peak heap into DIR.
func BenchmarkSilverBurstMemory(b *testing.B) {
	n := 24
	if s := os.Getenv("GDELT_SILVER_MEM_WINDOWS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 2 {
			b.Fatalf("GDELT_SILVER_MEM_WINDOWS: %q", s)
		}
		n = v
	}
	name := fmt.Sprintf("load-%dw", n)
	if n == 24 {
		name = "latencyload"
	}
	var mirror string
	var windows []string
	if os.Getenv("GDELT_BENCH_LOAD") == "small" { // CI's one short pass
		mirror, windows = genMirror(b, 4, 1)
	} else {
		mirror, windows = cachedLoad(b, name, n)
	}
	if miniotest.Binary() == "" {
		b.Skip("MinIO not installed (tests/minio.sh install)")
	}
	configs := []string{"pipelines/silver.yaml"}
	if s := os.Getenv("GDELT_SILVER_MEM_CONFIGS"); s != "" {
		configs = strings.Split(s, ",")
	}
	profDir := os.Getenv("GDELT_SILVER_MEM_PROFILE")
	benthosBin(b)
	kafkaDevBin(b)
	for b.Loop() {
		srv := miniotest.Start(b)
		k := startKafkaDev(b)
		t0 := time.Now()
		ingest := startPipeline(b, "pipelines/ingest.yaml", "KAFKA_BROKERS="+k.Brokers, "GDELT_BASE_URL="+mirror,
			"GDELT_MODE=backfill", "INGEST_STATE="+b.TempDir())
		ingest.Wait(30 * time.Minute)
		records, bytes := topicTotals(b, k.Brokers)
		benchf("ingest: %d windows, %d records, %.0f MB of rows in %s", len(windows), records, float64(bytes)/1e6, time.Since(t0).Round(time.Second))
		var rows []map[string]int64
		for i, cfg := range configs {
			bucket := fmt.Sprintf("lake%d", i)
			srv.Bucket(b, bucket)
			rows = append(rows, runSilverBurst(b, srv, k, bucket, cfg, windows, profDir, i))
		}
		for i := 1; i < len(rows); i++ {
			delete(rows[i], "audit/windows")
			delete(rows[0], "audit/windows")
			if len(rows[0]) == 0 || fmt.Sprint(rows[i]) != fmt.Sprint(rows[0]) {
				b.Errorf("%s wrote %v, %s wrote %v", configs[i], rows[i], configs[0], rows[0])
			}
		}
	}
}

// runSilverBurst runs one silver config over the topics until its last
// window is in the bucket, and prints its memory.
func runSilverBurst(b *testing.B, srv *miniotest.Server, k *kafkaDev, bucket, cfg string, windows []string, profDir string, i int) map[string]int64 {
	b.Helper()
	// The config with the HTTP server's debug endpoints (pprof) on.
	path := cfg
	if !filepath.IsAbs(path) {
		path = filepath.Join(repoRoot(b), cfg)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	const addr = "  address: ${HTTP_ADDRESS:127.0.0.1:4197}\n"
	if !strings.Contains(string(src), addr) {
		b.Fatalf("%s: no http address line to add debug_endpoints after", cfg)
	}
	conf := filepath.Join(b.TempDir(), "silver.yaml")
	if err := os.WriteFile(conf, []byte(strings.Replace(string(src), addr, addr+"  debug_endpoints: true\n", 1)), 0o644); err != nil {
		b.Fatal(err)
	}
	port := freePorts(b, 1)[0]
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	env := append(s3Env(srv, bucket), "KAFKA_BROKERS="+k.Brokers, "SILVER_STATE="+b.TempDir(),
		"HTTP_ENABLED=true", fmt.Sprintf("HTTP_ADDRESS=127.0.0.1:%d", port))
	t1 := time.Now()
	p := startPipeline(b, conf, env...)
	last, _ := strconv.ParseInt(windows[len(windows)-1], 10, 64)
	app := "silver-0-of-1"
	var peakHeap, peakRSS, peakPending, peakState float64
	var lastLog time.Time
	for {
		m, _ := tryScrape(strings.TrimPrefix(base, "http://"))
		if m == nil {
			m = map[string]float64{}
		}
		rss, heap := m["process_resident_memory_bytes"], m["go_memstats_heap_inuse_bytes"]
		peakRSS = max(peakRSS, rss)
		peakPending = max(peakPending, m["gdelt_join_pending_mentions"])
		peakState = max(peakState, m["gdelt_join_state_bytes"])
		if heap > peakHeap*1.05 && heap > 200<<20 && profDir != "" {
			saveURL(b, base+"/debug/pprof/heap", filepath.Join(profDir, fmt.Sprintf("heap-%d.pb.gz", i)))
		}
		peakHeap = max(peakHeap, heap)
		txns := silverTxns(b, srv, bucket, app)
		at := min(txns["silver/events_detailed"], txns["audit/windows"])
		if time.Since(lastLog) >= 5*time.Second || at >= last {
			benchf("  %s %5.1fs: rss %4.0f MiB, heap in use %4.0f MiB, pending mentions %7.0f, join state %4.0f MiB, pending windows %2.0f, emitted %d",
				cfg, time.Since(t1).Seconds(), rss/(1<<20), heap/(1<<20), m["gdelt_join_pending_mentions"], m["gdelt_join_state_bytes"]/(1<<20), m["gdelt_join_pending_windows"], at)
			lastLog = time.Now()
		}
		if at >= last {
			break
		}
		if time.Since(t1) > 30*time.Minute {
			b.Fatalf("%s: not through %d in 30 minutes\n%s", cfg, last, tail(p.log.String(), 3000))
		}
		time.Sleep(time.Second)
	}
	wall := time.Since(t1)
	p.Stop()
	got := map[string]int64{}
	for _, table := range silverTables {
		if s, err := s3Snapshot(b, srv, bucket, table); err == nil {
			got[table], _ = s.NumRecords()
		}
	}
	benchf("%s: through %d in %s, CPU %.1f s; peak RSS %.0f MiB (OS), %.0f MiB (scraped); peak heap in use %.0f MiB; peak pending mentions %.0f, join state %.0f MiB; rows %v",
		cfg, last, wall.Round(time.Second), cpuSeconds(p.cmd.ProcessState), peakRSSOf(p.cmd), peakRSS/(1<<20), peakHeap/(1<<20), peakPending, peakState/(1<<20), got)
	return got
}

func peakRSSOf(c *exec.Cmd) float64 { return peakRSS(c.ProcessState) }

func saveURL(tb testing.TB, url, path string) {
	cl := http.Client{Timeout: 30 * time.Second}
	resp, err := cl.Get(url)
	if err != nil {
		tb.Logf("%s: %v", url, err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	_, _ = io.Copy(f, resp.Body)
}

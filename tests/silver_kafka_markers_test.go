package tests

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
	"github.com/gdeltflow/gdeltflow/tests/miniotest"
)

// The window markers on the Kafka path (ingest's gdelt_kafka_route, silver's
// gdelt_join): windows close in every partition, whether or not it got rows.

// TestSilverKafkaMissingFiles: the same generated windows, with every GKG
// file of three windows (two in a row, and the last) and the export file of
// another missing (listed, but a 404), through Kafka (ingest.yaml →
// silver.yaml) and through the offline default (local.yaml): both emit every
// window and both equal the SQL join over the files that exist (so they equal
// each other row for row), with no_gkg where the GKG is missing. Before the
// markers, silver.yaml held every window from the first GKG gap on.
func TestSilverKafkaMissingFiles(t *testing.T) {
	requireDuckDB(t)
	mirror, windows := genMirror(t, 8, 41)
	missing := []string{
		gdeltgen.FileName(windows[2], "gkg", false), gdeltgen.FileName(windows[3], "gkg", false),
		gdeltgen.FileName(windows[7], "gkg", false), gdeltgen.FileName(windows[5], "export", false),
	}
	for _, name := range missing {
		if err := os.Remove(filepath.Join(mirror, name)); err != nil {
			t.Fatal(err)
		}
	}
	last := windows[len(windows)-1]

	srv := miniotest.Start(t)
	srv.Bucket(t, "lake")
	k := startKafkaDev(t)
	ingestMirror(t, k, mirror)
	silver := startPipeline(t, "pipelines/silver.yaml", append(s3Env(srv, "lake"), "KAFKA_BROKERS="+k.Brokers)...)
	waitSilver(t, srv, "lake", []string{"silver-0-of-1"}, last, 2*time.Minute, silver)
	silver.Stop()
	viaKafka := checkSilverExact(t, srv, "lake", mirror, last)

	out := t.TempDir()
	runLocal(t, "GDELT_BASE_URL="+mirror, "GDELT_OUT="+out)
	offline := compareSilver(t, rawDir(t, mirror), out, 192, "")
	t.Logf("offline default: %+v", offline)
	if !offline.exact() {
		t.Errorf("offline default: %+v, want the SQL join's rows exactly", offline)
	}
	for name, r := range map[string]silverResult{"kafka": viaKafka, "offline": offline} {
		if r.AuditWindows != int64(len(windows)) {
			t.Errorf("%s: %d windows SILVER_COMPLETE, want all %d", name, r.AuditWindows, len(windows))
		}
		if r.ByStatus["no_gkg"] == 0 {
			t.Errorf("%s: no no_gkg row, though three windows lack their GKG file", name)
		}
	}
	if viaKafka.DetailedRows != offline.DetailedRows || !maps.Equal(viaKafka.ByStatus, offline.ByStatus) || viaKafka.EventsRows != offline.EventsRows {
		t.Errorf("through Kafka %+v, offline %+v: want the same rows", viaKafka, offline)
	}
	t.Logf("%s missing; both paths: %d rows (complete %d, no_gkg %d, expired %d), %d events, %d windows", strings.Join(missing, ", "),
		viaKafka.DetailedRows, viaKafka.ByStatus["complete"], viaKafka.ByStatus["no_gkg"], viaKafka.ByStatus["expired"], viaKafka.EventsRows, viaKafka.AuditWindows)
	if t.Failed() {
		t.Logf("--- silver.yaml's log:\n%s", tail(silver.log.String(), 4000))
	}
}

// TestSilverKafkaBundledMirror runs the README's Kafka how-to on the bundled
// mirror (a finite backfill: ingest.yaml, then silver.yaml): every window is
// emitted, the last ones on the backfill's end markers, so silver holds all
// 600 mentions (it held 300 before the markers), equal to the SQL join.
func TestSilverKafkaBundledMirror(t *testing.T) {
	requireDuckDB(t)
	mirror := filepath.Join(repoRoot(t), "resources", "mirror")
	const last = "20230702163000" // the mirror's newest window
	srv := miniotest.Start(t)
	srv.Bucket(t, "lake")
	k := startKafkaDev(t)
	ingestMirror(t, k, mirror)
	silver := startPipeline(t, "pipelines/silver.yaml", append(s3Env(srv, "lake"), "KAFKA_BROKERS="+k.Brokers)...)
	waitSilver(t, srv, "lake", []string{"silver-0-of-1"}, last, 2*time.Minute, silver)
	silver.Stop()
	got := checkSilverExact(t, srv, "lake", mirror, "")
	if got.DetailedRows != 600 {
		t.Errorf("silver/events_detailed holds %d mentions, want all 600 of the bundled mirror", got.DetailedRows)
	}
	if got.AuditWindows != 6 {
		t.Errorf("%d windows SILVER_COMPLETE, want the mirror's 6", got.AuditWindows)
	}
	t.Logf("bundled mirror through Kafka: %d of 600 mentions (complete %d, no_gkg %d, expired %d), %d events, %d windows",
		got.DetailedRows, got.ByStatus["complete"], got.ByStatus["no_gkg"], got.ByStatus["expired"], got.EventsRows, got.AuditWindows)
}

// TestSilverKafkaColdStartQuietPartition starts silver.yaml on empty topics
// (its metrics exist at once: watermark 0, nothing pending), then ingests
// windows none of whose documents hashes to partition 3: partition 3 of
// gdelt.mentions and gdelt.gkg only ever receives markers. Every window is
// emitted, equal to the SQL join.
func TestSilverKafkaColdStartQuietPartition(t *testing.T) {
	requireDuckDB(t)
	const quiet = 3
	mirror, windows, dropped := genMirrorWithout(t, 6, 43, func(table string, line []byte) bool {
		return gdelt.KeyPartition(gdelt.RowKey(map[string]int{"mentions": 1, "gkg": 2}[table], line), 6) == quiet
	})
	last := windows[len(windows)-1]
	srv := miniotest.Start(t)
	srv.Bucket(t, "lake")
	k := startKafkaDev(t)
	addr := fmt.Sprintf("127.0.0.1:%d", freePorts(t, 1)[0])
	silver := startPipeline(t, "pipelines/silver.yaml", append(s3Env(srv, "lake"), "KAFKA_BROKERS="+k.Brokers,
		"HTTP_ENABLED=true", "HTTP_ADDRESS="+addr)...)

	m := waitMetrics(t, addr, "gdelt_join_watermark", 30*time.Second, silver)
	for _, name := range []string{"gdelt_join_watermark", "gdelt_join_pending_windows", "gdelt_join_emitted_window",
		"gdelt_join_watermark_lag_seconds", "gdelt_join_pending_mentions", "gdelt_join_windows_completed", "gdelt_join_rows"} {
		if v, ok := m[name]; !ok || v != 0 {
			t.Errorf("at start: %s = %v (present %v), want 0", name, v, ok)
		}
	}

	ingestMirror(t, k, mirror)
	for _, topic := range []string{"gdelt.mentions", "gdelt.gkg"} {
		pl := readTopics(t, k.Brokers)[topicPartition{topic, quiet}]
		if pl == nil || pl.Rows != 0 || pl.WindowEnds != len(windows) || pl.Ends != 1 {
			t.Fatalf("%s partition %d: %+v, want markers only (%d window_end, 1 end)", topic, quiet, pl, len(windows))
		}
	}
	waitSilver(t, srv, "lake", []string{"silver-0-of-1"}, last, 2*time.Minute, silver)
	m = scrapeMetrics(t, addr)
	lastTime, _ := gdeltgen.ParseWindowID(last)
	if m["gdelt_join_pending_windows"] != 0 || m["gdelt_join_windows_completed"] != float64(len(windows)) || m["gdelt_join_watermark"] < float64(lastTime.Unix()) {
		t.Errorf("after the backfill: pending_windows %v, windows_completed %v, watermark %v; want 0, %d, >= %d",
			m["gdelt_join_pending_windows"], m["gdelt_join_windows_completed"], m["gdelt_join_watermark"], len(windows), lastTime.Unix())
	}
	silver.Stop()
	got := checkSilverExact(t, srv, "lake", mirror, last)
	if got.AuditWindows != int64(len(windows)) {
		t.Errorf("%d windows SILVER_COMPLETE, want %d", got.AuditWindows, len(windows))
	}
	t.Logf("%d mentions and GKG rows of partition %d left out; silver: %+v", dropped, quiet, got)
}

// TestSilverKafkaStallWarning follows a live feed: with only the first
// window published, silver.yaml cannot emit it (it waits for the next
// window's GKG): after SILVER_STALL_WARNING it says so, naming the partitions
// that hold it back, and the metrics show one window pending at the
// watermark of that window. The next window's markers release it.
func TestSilverKafkaStallWarning(t *testing.T) {
	requireDuckDB(t)
	mirror, windows := genMirror(t, 2, 44)
	srv := miniotest.Start(t)
	srv.Bucket(t, "lake")
	k := startKafkaDev(t)
	addr := fmt.Sprintf("127.0.0.1:%d", freePorts(t, 1)[0])
	silver := startPipeline(t, "pipelines/silver.yaml", append(s3Env(srv, "lake"), "KAFKA_BROKERS="+k.Brokers,
		"HTTP_ENABLED=true", "HTTP_ADDRESS="+addr, "SILVER_STALL_WARNING=1s")...)
	setLastUpdate(t, mirror, windows[0])
	ingest := startPipeline(t, "pipelines/ingest.yaml", "KAFKA_BROKERS="+k.Brokers, "GDELT_BASE_URL="+mirror,
		"GDELT_MODE=follow", "GDELT_POLL_INTERVAL=100ms", "INGEST_STATE="+t.TempDir())

	want := "window " + windows[0] + " waits for export partitions 0,1,2,3,4,5 (newest window there: " + windows[0] + ")"
	for deadline := time.Now().Add(time.Minute); !strings.Contains(silver.log.String(), want); {
		if time.Now().After(deadline) {
			t.Fatalf("no stall warning %q after a minute:\n%s", want, tail(silver.log.String(), 3000))
		}
		time.Sleep(200 * time.Millisecond)
	}
	var warning string
	for _, l := range strings.Split(silver.log.String(), "\n") {
		if strings.Contains(l, want) {
			warning = l
			break
		}
	}
	t.Logf("the warning: %s", warning)
	for _, s := range []string{"level=warn", "mentions partitions 0,1,2,3,4,5", "gkg partitions 0,1,2,3,4,5", "pending windows 1, pending mentions 150"} {
		if !strings.Contains(warning, s) {
			t.Errorf("the warning lacks %q", s)
		}
	}
	first, _ := gdeltgen.ParseWindowID(windows[0])
	m := scrapeMetrics(t, addr)
	if m["gdelt_join_pending_windows"] != 1 || m["gdelt_join_watermark"] != float64(first.Unix()) || m["gdelt_join_windows_completed"] != 0 {
		t.Errorf("held back: pending_windows %v, watermark %v, windows_completed %v; want 1, %d, 0",
			m["gdelt_join_pending_windows"], m["gdelt_join_watermark"], m["gdelt_join_windows_completed"], first.Unix())
	}

	setLastUpdate(t, mirror, windows[1])
	waitSilver(t, srv, "lake", []string{"silver-0-of-1"}, windows[0], time.Minute, silver, ingest)
	m = scrapeMetrics(t, addr)
	second, _ := gdeltgen.ParseWindowID(windows[1])
	if m["gdelt_join_windows_completed"] != 1 || m["gdelt_join_watermark"] != float64(second.Unix()) {
		t.Errorf("after the next window: windows_completed %v, watermark %v; want 1, %d", m["gdelt_join_windows_completed"], m["gdelt_join_watermark"], second.Unix())
	}
	ingest.Stop()
	silver.Stop()
}

// genMirrorWithout is genMirror without the mentions and GKG rows drop
// selects; it returns how many it dropped.
func genMirrorWithout(t *testing.T, n int, seed int64, drop func(table string, line []byte) bool) (dir string, windows []string, dropped int) {
	t.Helper()
	dir = t.TempDir()
	m, err := gdeltgen.NewMirror(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	filter := func(table string, content []byte) []byte {
		var out []byte
		for _, line := range bytes.SplitAfter(content, []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			if drop(table, bytes.TrimRight(line, "\r\n")) {
				dropped++
				continue
			}
			out = append(out, line...)
		}
		return out
	}
	err = gdeltgen.Generate(gdeltgen.Small(time.Date(2023, 7, 2, 15, 45, 0, 0, time.UTC), n, seed), func(w gdeltgen.Window) error {
		windows = append(windows, gdeltgen.WindowID(w.Time))
		w.Mentions, w.GKG = filter("mentions", w.Mentions), filter("gkg", w.GKG)
		return m.AddWindow(w)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, windows, dropped
}

// scrapeMetrics reads a benthos process's Prometheus endpoint: each metric
// by name, summed over its series.
func scrapeMetrics(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	m, err := tryScrape(addr)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func tryScrape(addr string) (map[string]float64, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name := line[:strings.IndexAny(line, "{ ")]
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics line %q: %w", line, err)
		}
		out[name] += v
	}
	return out, sc.Err()
}

// waitMetrics polls the endpoint until it serves the named metric.
func waitMetrics(t *testing.T, addr, name string, timeout time.Duration, p *pipeline) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		m, err := tryScrape(addr)
		if _, ok := m[name]; err == nil && ok {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s at http://%s/metrics after %s (last error %v)\n%s", name, addr, timeout, err, tail(p.log.String(), 3000))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

package tests

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
	"github.com/gdeltflow/gdeltflow/tests/miniotest"
)

// BenchmarkSilverRestart measures a restart of silver.yaml with the day's
// join state: ingest.yaml puts the generated day but its last five windows
// into the topics, silver.yaml joins them all and stops; the rest of the day
// is ingested; then silver.yaml is started twice on copies of the same state
// folder: as it is (gdelt_topics resumes each partition at its stored point)
// and without the resume point (it reads the topics from the start, as before
// gdelt_topics). It reports, for each, the time from process start to the
// first new window joined. GDELT_BENCH_LOAD=small uses small windows.
// GDELT_BENCH_DAYS=2 uses a two-day load instead of the day (192 consecutive
// windows from the day load's start, generated once into .cache/load-2d, the
// same as gdelt-gen -scale day -seed 1 -windows 192): 48 h of join state, the
// whole retention.
func BenchmarkSilverRestart(b *testing.B) {
	if miniotest.Binary() == "" {
		b.Skip("MinIO not installed (tests/minio.sh install)")
	}
	mirror, _ := filepath.Abs(filepath.Join(repoRoot(b), ".cache", "dayload"))
	var windows []string
	days := 1
	if os.Getenv("GDELT_BENCH_LOAD") == "small" {
		mirror, windows = genMirror(b, 24, 1)
	} else {
		switch d := os.Getenv("GDELT_BENCH_DAYS"); d {
		case "", "1":
			if err := gdeltgen.WriteDayLoad(mirror, 1); err != nil {
				b.Fatal(err)
			}
			for i := range 96 {
				windows = append(windows, gdeltgen.WindowID(gdeltgen.DayLoadStart.Add(time.Duration(i)*gdeltgen.WindowDuration)))
			}
		case "2":
			days = 2
			mirror, windows = cachedLoad(b, "load-2d", 192)
		default:
			b.Fatalf("GDELT_BENCH_DAYS: %q is not 1 or 2", d)
		}
	}
	b.Logf("load: %s, %d windows (%s to %s)", mirror, len(windows), windows[0], windows[len(windows)-1])
	limit := time.Duration(days) * 30 * time.Minute
	to := windows[len(windows)-6]
	toID, _ := strconv.ParseInt(to, 10, 64)
	toWin, _ := contract.FromID(toID)
	next := (toWin + 1).ID() // the first window no silver run has emitted
	b.StopTimer()
	for range b.N {
		srv := miniotest.Start(b)
		srv.Bucket(b, "lake")
		k := startKafkaDev(b)
		ingestState := b.TempDir()
		ingest := func(extra ...string) {
			start := time.Now()
			startPipeline(b, "pipelines/ingest.yaml", append([]string{"KAFKA_BROKERS=" + k.Brokers, "GDELT_BASE_URL=" + mirror,
				"GDELT_MODE=backfill", "INGEST_STATE=" + ingestState}, extra...)...).Wait(limit)
			b.Logf("ingest %v: %s", extra, time.Since(start).Round(time.Millisecond))
		}
		ingest("GDELT_TO=" + to)
		state := b.TempDir()
		env := append(s3Env(srv, "lake"), "KAFKA_BROKERS="+k.Brokers, "LOG_LEVEL=info")
		start := time.Now()
		first := startPipeline(b, "pipelines/silver.yaml", append(env, "SILVER_STATE="+state)...)
		waitSilver(b, srv, "lake", []string{"silver-0-of-1"}, to, limit, first)
		first.Stop()
		b.Logf("silver.yaml through %s: %s", to, time.Since(start).Round(time.Millisecond))
		ingest()

		resumeState, fullState := b.TempDir(), b.TempDir()
		copyDir(b, state, resumeState)
		copyDir(b, state, fullState)
		if err := os.Remove(filepath.Join(fullState, "topics-silver-0-of-1")); err != nil {
			b.Fatal(err)
		}
		joined := regexp.MustCompile(`gdelt_join: window ` + strconv.FormatInt(next, 10) + ` joined`)
		restart := func(name, dir string) time.Duration {
			t0 := time.Now()
			p := startPipeline(b, "pipelines/silver.yaml", append(env, "SILVER_STATE="+dir)...)
			defer p.Stop()
			for !joined.MatchString(p.log.String()) {
				if time.Since(t0) > limit {
					b.Fatalf("%s: window %d not joined in %s\n%s", name, next, limit, tail(p.log.String(), 3000))
				}
				time.Sleep(20 * time.Millisecond)
			}
			d := time.Since(t0)
			resumed := strings.Contains(p.log.String(), "gdelt_topics: resuming from the point stored")
			b.Logf("%-48s %6.2f s to window %d joined (resumed from a stored point: %v; load average %s)", name, d.Seconds(), next, resumed, loadAvg())
			return d
		}
		b.StartTimer()
		withPoint := restart("restart with the stored resume point", resumeState)
		b.StopTimer()
		fromStart := restart("restart from the start of the topics (no point)", fullState)
		b.Logf("ratio: the restart with the resume point reaches the new window %.1fx sooner", fromStart.Seconds()/withPoint.Seconds())
		b.ReportMetric(withPoint.Seconds(), "s-resumed")
		b.ReportMetric(fromStart.Seconds(), "s-from-start")
	}
}

// loadAvg is the machine's load average over 1, 5 and 15 minutes ("?" where
// /proc/loadavg is not).
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

// copyDir copies the files of a folder tree.
func copyDir(tb testing.TB, from, to string) {
	tb.Helper()
	err := filepath.Walk(from, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if info.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		tb.Fatal(err)
	}
}

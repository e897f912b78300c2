package tests

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/tests/gdeltgen"
)

// TestMemoryBoundedByConfig runs the embedded default over a mirror and over
// one ten times longer, and compares the peak resident size the kernel
// reports for each run: memory is set by the settings (batch and commit sizes,
// the join's retention, the Go heap's limit), not by how much input there
// is, so the longer run peaks within 20% of the shorter one. Both runs hold
// the heap at a configured limit (GOMEMLIMIT, the collector off below it): a
// live set that grew with the input would push the longer run past it.
// (tests/bench.sh mem measures the figures with the defaults on the day load.)
func TestMemoryBoundedByConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("two pipeline runs")
	}
	const limitMiB = 256
	start := time.Date(2023, 7, 2, 15, 45, 0, 0, time.UTC)
	mirror := func(windows int) string {
		dir := t.TempDir()
		m, err := gdeltgen.NewMirror(dir, false)
		if err != nil {
			t.Fatal(err)
		}
		cfg := gdeltgen.Small(start, windows, 3)
		cfg.GKG, cfg.GKGRowBytes = 200, 0 // realistic GKG rows (~12 KB): 2.4 MB a window
		if err := gdeltgen.Generate(cfg, m.AddWindow); err != nil {
			t.Fatal(err)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	peak := func(mirror string) int64 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, benthosBin(t), "-c", "pipelines/local.yaml")
		cmd.Dir = repoRoot(t)
		// Commits of a few windows' rows, so that the longer run makes many.
		cmd.Env = append(os.Environ(), "GDELT_BASE_URL="+mirror, "GDELT_OUT="+t.TempDir(), "LOG_LEVEL=warn",
			"DELTA_BATCH_ROWS=500", "DELTA_BATCH_ROWS_GKG=300", "GOGC=off", "GOMEMLIMIT="+strconv.Itoa(limitMiB)+"MiB")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("benthos: %v\n%s", err, out)
		}
		return cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
	}
	short, long := mirror(6), mirror(60)
	p1 := peak(short)
	p10 := peak(long)
	t.Logf("peak RSS: 6 windows %.1f MiB, 60 windows %.1f MiB (%.2f×)", float64(p1)/1024, float64(p10)/1024, float64(p10)/float64(p1))
	if p10 > p1*12/10 {
		t.Errorf("ten times the input peaked at %d KiB, more than 120%% of %d KiB: memory grows with the input", p10, p1)
	}
	if p10 > (limitMiB+96)<<10 {
		t.Errorf("ten times the input peaked at %d KiB, far over the %d MiB heap limit: the live data outgrew it", p10, limitMiB)
	}
}

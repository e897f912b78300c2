package tests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
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
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// The kernel's high-water mark of the process's own memory, read while
		// it runs (the rusage of a child counts the test binary's memory it
		// shared between fork and exec).
		status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var hwm int64
		for {
			if b, err := os.ReadFile(status); err == nil {
				for _, line := range strings.Split(string(b), "\n") {
					if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
						if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil && kb > hwm {
							hwm = kb
						}
					}
				}
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("benthos: %v\n%s", err, out.String())
				}
				return hwm
			case <-time.After(20 * time.Millisecond):
			}
		}
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

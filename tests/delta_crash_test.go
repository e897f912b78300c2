package tests

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/delta"
	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
)

// TestDeltaCrashRecovery kills the default pipeline (feed → decode → three
// bronze Delta tables) with SIGKILL at random points, 24 times, restarting it
// after each kill; then lets it finish. After every kill each table must be
// readable with no duplicated row; at the end each holds every source row
// exactly once. Commits are slowed (GDELTFLOW_TEST_DELTA_COMMIT_DELAY) so
// that many kills land between the data-file upload and the commit: the test
// counts them by the orphan files they leave.
func TestDeltaCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 trials take about a minute")
	}
	requireDuckDB(t)
	mirror := t.TempDir()
	m, err := gdeltgen.NewMirror(mirror, false)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2023, 7, 2, 15, 45, 0, 0, time.UTC)
	if err := gdeltgen.Generate(gdeltgen.Small(start, 60, 42), m.AddWindow); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	src := t.TempDir()
	sources := map[string][]string{}
	for table := range bronzeTables {
		sources[table] = unzipTable(t, mirror, table, src)
	}

	env := append(os.Environ(), "GDELT_BASE_URL="+mirror, "GDELT_OUT="+out, "LOG_LEVEL=error",
		"GDELT_BATCH_ROWS=25", "DELTA_BATCH_ROWS=25", "GDELTFLOW_TEST_DELTA_COMMIT_DELAY=40ms")
	run := func(ctx context.Context) *exec.Cmd {
		cmd := exec.CommandContext(ctx, benthosBin(t), "-c", "pipelines/local.yaml")
		cmd.Dir = repoRoot(t)
		cmd.Env = env
		var logBuf strings.Builder
		cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}

	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	t.Logf("kill times drawn with seed %d", seed)
	var killed, finished, midCommit int
	for trial := 0; trial < 24; trial++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := run(ctx)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-time.After(time.Duration(50+rng.IntN(1200)) * time.Millisecond):
			_ = cmd.Process.Kill() // SIGKILL: no shutdown, no flush
			<-done
			killed++
		case err := <-done:
			if err != nil {
				t.Fatalf("trial %d: the pipeline failed: %v", trial, err)
			}
			finished++
		}
		cancel()
		// Readable, nothing twice.
		for table, name := range bronzeTables {
			dir := filepath.Join(out, "bronze", name)
			if _, err := os.Stat(filepath.Join(dir, "_delta_log")); err != nil {
				continue
			}
			c := compareDelta(t, dir, table, sources[table])
			if c.Extra != 0 || c.PartitionErrors != 0 {
				t.Fatalf("trial %d, bronze/%s after kill -9: %+v (rows in the table that are not in the source, or twice)", trial, name, c)
			}
			midCommit += orphans(t, dir)
		}
	}
	t.Logf("%d kills, %d runs finished before their kill; %d data files orphaned by kills between upload and commit", killed, finished, midCommit)
	if killed < 20 {
		t.Fatalf("only %d kills landed", killed)
	}
	if midCommit == 0 {
		t.Fatal("no kill landed between a data-file upload and its commit")
	}

	// Let it finish.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run(ctx).Wait(); err != nil {
		t.Fatalf("final run: %v", err)
	}
	for table, name := range bronzeTables {
		c := compareDelta(t, filepath.Join(out, "bronze", name), table, sources[table])
		t.Logf("bronze/%s: %+v", name, c)
		if c.Missing != 0 || c.Extra != 0 || c.DeltaRows != c.SourceRows || c.PartitionErrors != 0 {
			t.Errorf("bronze/%s after %d kills: %+v, want every source row exactly once", name, killed, c)
		}
	}
}

// orphans counts the table's data files that no commit references: left by
// a process killed after writing them and before committing. It removes them
// so the next trial counts its own.
func orphans(t *testing.T, dir string) int {
	t.Helper()
	ctx := context.Background()
	st, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := delta.Load(ctx, st)
	if err != nil {
		t.Fatalf("%s is not readable: %v", dir, err)
	}
	plan, err := delta.PlanVacuum(ctx, st, s, 0, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, f := range plan.Orphans {
		if strings.HasSuffix(f.Path, ".parquet") {
			n++
		}
	}
	if err := delta.ExecuteVacuum(ctx, st, plan); err != nil {
		t.Fatal(err)
	}
	return n
}

package tests

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Exit codes of a backfill whose Delta tables cannot be written: the run
// stops with exit code 2 and one stderr line "gdeltflow: delta_lake <table>:
// <cause>; <remedy>", within a bounded time, instead of retrying for ever.

// exitBound bounds a failing run: the failure comes at once (a permanent
// one) or after the give-up time, then the engine's graceful stop waits up
// to 3/4 of shutdown_timeout (20 s by default) for the rows stuck in flight.
const exitBound = 90 * time.Second

// runFailing runs a pipeline that must fail; it returns the exit code, the
// non-blank stderr lines, the log (stdout) and how long it ran.
func runFailing(t *testing.T, pipeline string, env ...string) (int, []string, string, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), exitBound)
	defer cancel()
	cmd := exec.CommandContext(ctx, benthosBin(t), "-c", pipeline)
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if ctx.Err() != nil {
		t.Fatalf("%s still running after %s: it should have failed\nstderr:\n%s\nlog:\n%s", pipeline, exitBound, stderr.String(), tail(stdout.String(), 4000))
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return code, lines, stdout.String(), took
}

// TestLocalPipelineBronzeNotAFolder: GDELT_OUT/bronze is a regular file, so
// no bronze table can be created: the backfill exits 2 at once with the
// cause and the remedy.
func TestLocalPipelineBronzeNotAFolder(t *testing.T) {
	out := t.TempDir()
	if err := os.WriteFile(filepath.Join(out, "bronze"), []byte("not a folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stderr, log, took := runFailing(t, "pipelines/local.yaml", "GDELT_OUT="+out, "LOG_LEVEL=info")
	t.Logf("exit %d after %s: %q", code, took.Round(time.Millisecond), stderr)
	want := regexp.MustCompile(`^gdeltflow: delta_lake ` + regexp.QuoteMeta(out) + `/bronze/(events|mentions|gkg): .*not a directory; a file is where the table's folder must be: .*GDELT_OUT`)
	if code != 2 || len(stderr) != 1 || !want.MatchString(stderr[0]) {
		t.Fatalf("exit %d, stderr %q; want 2 and one line matching %s\nlog:\n%s", code, stderr, want, tail(log, 4000))
	}
	if b, _ := os.ReadFile(filepath.Join(out, "bronze")); string(b) != "not a folder" {
		t.Errorf("the file in the way was changed: %q", b)
	}
}

// TestLocalPipelineDamagedTable: bronze/events has a commit that is not
// JSON. The backfill exits 2 at once naming the table, the damaged log and
// the remedy; the damaged log is left as it was; once the table is moved
// aside, a second run writes every row of every table exactly once (nothing
// was lost to the failed run).
func TestLocalPipelineDamagedTable(t *testing.T) {
	requireDuckDB(t)
	out := t.TempDir()
	events := filepath.Join(out, "bronze", "events")
	commit0 := filepath.Join(events, "_delta_log", "00000000000000000000.json")
	if err := os.MkdirAll(filepath.Dir(commit0), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(commit0, []byte("{garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stderr, log, took := runFailing(t, "pipelines/local.yaml", "GDELT_OUT="+out, "LOG_LEVEL=info")
	t.Logf("exit %d after %s: %q", code, took.Round(time.Millisecond), stderr)
	prefix := "gdeltflow: delta_lake " + events + ": "
	if code != 2 || len(stderr) != 1 || !strings.HasPrefix(stderr[0], prefix) ||
		!strings.Contains(stderr[0], "damaged table log: parsing _delta_log/00000000000000000000.json") ||
		!strings.Contains(stderr[0], "; the table's log is damaged: look at it with `delta-table history "+events+"`") {
		t.Fatalf("exit %d, stderr %q; want 2 and one line %q…\nlog:\n%s", code, stderr, prefix, tail(log, 4000))
	}
	if b, _ := os.ReadFile(commit0); string(b) != "{garbage\n" {
		t.Errorf("the damaged commit was changed: %q", b)
	}

	if err := os.Rename(events, filepath.Join(out, "events.damaged")); err != nil {
		t.Fatal(err)
	}
	runLocal(t, "GDELT_OUT="+out, "LOG_LEVEL=warn")
	want := mirrorRows(t)
	src := t.TempDir()
	mirror := filepath.Join(repoRoot(t), "resources", "mirror")
	for table, name := range bronzeTables {
		c := compareDelta(t, filepath.Join(out, "bronze", name), table, unzipTable(t, mirror, table, src))
		if c.DeltaRows != want[table] || c.Missing != 0 || c.Extra != 0 || c.PartitionErrors != 0 {
			t.Errorf("bronze/%s after the second run: %+v, want exactly the %d source rows", name, c, want[table])
		}
	}
}

// TestMinIOPipelineGivesUp: S3 unreachable for a whole backfill (a port
// nothing listens on): the run fails after the job's give-up time, exit 2,
// one line with the cause and the remedy (GDELT_GIVE_UP_AFTER sets it).
func TestMinIOPipelineGivesUp(t *testing.T) {
	code, stderr, log, took := runFailing(t, "pipelines/local.yaml", "GDELT_OUT="+t.TempDir(), "GDELT_LAKE=s3://lake", "LOG_LEVEL=info",
		"GDELT_GIVE_UP_AFTER=5s", "S3_ENDPOINT=http://"+closedAddr(t), "S3_ACCESS_KEY_ID=test", "S3_SECRET_ACCESS_KEY=test-secret")
	t.Logf("exit %d after %s: %q", code, took.Round(time.Millisecond), stderr)
	// Whichever stage meets the storage first gives up: a table's writer, or
	// gold reading its own tables; each names the cause and the remedy.
	want := regexp.MustCompile(`^gdeltflow: (delta_lake s3://lake/(bronze/(events|mentions|gkg)|silver/(events|events_detailed)|audit/windows): failing for \d+s: .*connection refused; check that the S3 endpoint|gdelt_gold: failing for \d+s: .*connection refused; check the lake's storage \(GDELT_LAKE, the S3_\* settings\))`)
	if code != 2 || len(stderr) != 1 || !want.MatchString(stderr[0]) {
		t.Fatalf("exit %d, stderr %q; want 2 and one line matching %s\nlog:\n%s", code, stderr, want, tail(log, 4000))
	}
	if took < 5*time.Second {
		t.Errorf("failed after %s, before the give-up time", took)
	}
	if strings.Contains(log+strings.Join(stderr, "\n"), "test-secret") {
		t.Error("the secret key was printed")
	}
	// Warned when the failure began, not at every retry.
	if n := strings.Count(log, "opening the table failed"); n < 1 || n > 6 {
		t.Errorf("%d warnings about opening the tables, want one per table (6) at most\n%s", n, tail(log, 4000))
	}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

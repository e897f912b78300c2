package tests

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// benthosRun is one run of the built binary.
type benthosRun struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// runBenthos runs the binary in the repository root with extra environment,
// for at most a minute, and returns how it ended.
func runBenthos(t *testing.T, env []string, args ...string) benthosRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, benthosBin(t), args...)
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	r := benthosRun{stdout: out.String(), stderr: errOut.String(), took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ctx.Err() == nil:
		r.code = ee.ExitCode()
	default:
		t.Fatalf("benthos %v: %v (after %s)\nstdout:\n%s\nstderr:\n%s", args, err, r.took, r.stdout, r.stderr)
	}
	return r
}

// stderrLines returns the non-empty lines of stderr.
func (r benthosRun) stderrLines() []string {
	var out []string
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// TestLocalBackfillExitCodes: the embedded default as a scheduler runs it. A
// mistyped GDELT_BASE_URL or a range with no window of the list exits 2
// within seconds, with one stderr line naming the cause and the remedy; a
// GDELT_FROM after GDELT_TO is refused (exit 1) saying what was understood;
// and nothing is written to the tables.
func TestLocalBackfillExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		code int
		line []string // parts of the one stderr line
	}{
		{"typo in GDELT_BASE_URL", []string{"GDELT_BASE_URL=./resources/mirrror"}, 2, []string{
			"gdeltflow: gdelt_feed: ", "resources/mirrror/masterfilelist.txt: not found", "check base_url (GDELT_BASE_URL)"}},
		{"an empty range", []string{"GDELT_FROM=2030-01-01", "GDELT_TO=2030-01-01"}, 2, []string{
			"gdeltflow: gdelt_feed: no window of resources/mirror/masterfilelist.txt lies from 2030-01-01 00:00 to 2030-01-01 23:45",
			"the list covers 2019-10-24 14:30 to 2023-07-02 16:30", "choose from and to (GDELT_FROM, GDELT_TO)"}},
		{"from after to", []string{"GDELT_FROM=2023-07-03", "GDELT_TO=2023-07-02"}, 1, []string{
			"from 2023-07-03 00:00 is after to 2023-07-02 23:45"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			r := runBenthos(t, append(tc.env, "GDELT_OUT="+out), "-c", "pipelines/local.yaml")
			lines := r.stderrLines()
			if r.code != tc.code || len(lines) != 1 {
				t.Fatalf("exit %d with %d stderr lines, want %d and one line\nstderr:\n%s\nstdout:\n%s", r.code, len(lines), tc.code, r.stderr, r.stdout)
			}
			for _, p := range tc.line {
				if !strings.Contains(lines[0], p) {
					t.Errorf("stderr %q lacks %q", lines[0], p)
				}
			}
			if r.took > 20*time.Second {
				t.Errorf("took %s", r.took)
			}
			for _, table := range []string{"bronze/events", "bronze/mentions", "bronze/gkg"} {
				logs, _ := filepath.Glob(filepath.Join(out, table, "_delta_log", "*.json"))
				if len(logs) > 1 {
					t.Errorf("%s has %d commits", table, len(logs))
				}
			}
		})
	}
}

// newMirrorServer serves dir over HTTP on a free loopback port until the test ends.
func newMirrorServer(t *testing.T, dir string) string {
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestLocalBackfillMissingHTTPMirror: the same typo against an HTTP mirror
// (a 404 for the list) exits 2 as fast.
func TestLocalBackfillMissingHTTPMirror(t *testing.T) {
	srv := newMirrorServer(t, filepath.Join(repoRoot(t), "resources", "mirror"))
	r := runBenthos(t, []string{"GDELT_BASE_URL=" + srv + "/gdeltv3/", "GDELT_OUT=" + t.TempDir()}, "-c", "pipelines/local.yaml")
	lines := r.stderrLines()
	if r.code != 2 || len(lines) != 1 || !strings.HasPrefix(lines[0], "gdeltflow: gdelt_feed: ") ||
		!strings.Contains(lines[0], srv+"/gdeltv3/masterfilelist.txt: HTTP 404") {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

// TestLocalNewcomerSettings: GDELT_MODE in another case runs a backfill, lint
// takes table names in any case, and refuses a table named twice and a range
// in follow mode.
func TestLocalNewcomerSettings(t *testing.T) {
	out := t.TempDir()
	r := runBenthos(t, []string{"GDELT_MODE=Backfill ", "GDELT_OUT=" + out}, "-c", "pipelines/local.yaml")
	if r.code != 0 || !strings.Contains(r.stdout, "backfill of 6 windows") {
		t.Fatalf("GDELT_MODE=Backfill: exit %d\n%s\n%s", r.code, r.stderr, r.stdout)
	}
	if r := runBenthos(t, []string{`GDELT_TABLES=["Events"," GKG"]`}, "lint", "pipelines/local.yaml"); r.code != 0 {
		t.Errorf("lint refused tables in another case: %s%s", r.stdout, r.stderr)
	}
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{[]string{`GDELT_TABLES=["export","events"]`}, "a table is named more than once"},
		{[]string{"GDELT_MODE=follow", "GDELT_FROM=2023-07-02"}, "from and to apply to modes backfill and repair, not follow"},
	} {
		r := runBenthos(t, tc.env, "lint", "pipelines/local.yaml")
		if r.code == 0 || !strings.Contains(r.stdout+r.stderr, tc.want) {
			t.Errorf("lint with %v: exit %d\n%s%s", tc.env, r.code, r.stdout, r.stderr)
		}
	}
}

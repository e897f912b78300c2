package tests

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gdeltflow/gdeltflow/tests/duckdbtest"
)

// TestTrustReportMatchesDuckDB runs the embedded default over the bundled mirror,
// then cmd/gdelt-trust on its output, and checks every window's counts against
// DuckDB reading audit/windows' Parquet files, and its anomalies against the
// feed's checkpoint (the mirror lacks four files: missing_from_list) and the
// join rates DuckDB computes.
func TestTrustReportMatchesDuckDB(t *testing.T) {
	duckdbtest.Require(t)
	root := repoRoot(t)
	out := t.TempDir()
	runLocal(t, "GDELT_OUT="+out)

	bin := filepath.Join(t.TempDir(), "gdelt-trust")
	build := exec.Command("go", "build", "-o", bin, "./cmd/gdelt-trust")
	build.Dir = root
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building cmd/gdelt-trust: %v\n%s", err, b)
	}
	cmd := exec.Command(bin, "-json", "-n", "0", out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 3) {
		t.Fatalf("gdelt-trust: %v\n%s", err, stderr.String())
	}
	type window struct {
		Window       int64    `json:"window"`
		Statuses     []string `json:"statuses"`
		EventsRows   int64    `json:"events_rows"`
		MentionsRows int64    `json:"mentions_rows"`
		GKGRows      int64    `json:"gkg_rows"`
		CompleteRows int64    `json:"complete_rows"`
		NoGKGRows    int64    `json:"no_gkg_rows"`
		ExpiredRows  int64    `json:"expired_rows"`
		JoinRate     *float64 `json:"join_rate"`
		MissingFiles []string `json:"missing_files"`
		Anomalies    []string `json:"anomalies"`
	}
	got := map[int64]window{}
	for _, line := range strings.Split(strings.TrimSpace(string(stdout)), "\n") {
		var w window
		if err := json.Unmarshal([]byte(line), &w); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		got[w.Window] = w
	}

	rows := duckdbtest.Query(t, "SET autoinstall_known_extensions=false; SELECT \"window\", sum(events_rows) AS e, sum(mentions_rows) AS m, sum(gkg_rows) AS g, "+
		"sum(complete_rows) AS c, sum(no_gkg_rows) AS n, sum(expired_rows) AS x FROM read_parquet("+
		duckdbtest.Quote(filepath.Join(out, "audit", "windows", "*.parquet"))+") WHERE status = 'SILVER_COMPLETE' GROUP BY 1 ORDER BY 1")
	if len(rows) == 0 || len(rows) != len(got) {
		t.Fatalf("DuckDB: %d silver windows, the report %d", len(rows), len(got))
	}
	num := func(v any) int64 {
		var n int64
		fmt.Sscan(fmt.Sprint(v), &n)
		return n
	}
	var lowRate int
	for _, r := range rows {
		id := num(r["window"])
		w, ok := got[id]
		if !ok {
			t.Errorf("window %d missing from the report", id)
			continue
		}
		want := [6]int64{num(r["e"]), num(r["m"]), num(r["g"]), num(r["c"]), num(r["n"]), num(r["x"])}
		have := [6]int64{w.EventsRows, w.MentionsRows, w.GKGRows, w.CompleteRows, w.NoGKGRows, w.ExpiredRows}
		if want != have {
			t.Errorf("window %d: report %v, DuckDB %v (events, mentions, gkg, complete, no_gkg, expired)", id, have, want)
		}
		flagged := strings.Contains(strings.Join(w.Anomalies, ";"), "join rate")
		if low := want[1] > 0 && float64(want[3])/float64(want[1]) < 0.5; low != flagged {
			t.Errorf("window %d: join rate %d/%d, flagged %v", id, want[3], want[1], flagged)
		} else if low {
			lowRate++
		}
	}

	// Every incomplete file of the checkpoint is flagged on its window.
	b, err := os.ReadFile(filepath.Join(out, "state", "gdelt_feed"))
	if err != nil {
		t.Fatal(err)
	}
	var cp struct {
		Incomplete []struct{ Window, Table, Reason string } `json:"incomplete"`
	}
	if err := json.Unmarshal(b, &cp); err != nil {
		t.Fatal(err)
	}
	flaggedFiles := 0
	for _, f := range cp.Incomplete {
		var id int64
		fmt.Sscan(f.Window, &id)
		w, ok := got[id]
		if !ok {
			continue // a window with no silver row (its rows never came)
		}
		if !strings.Contains(strings.Join(w.Anomalies, ";"), f.Table+": "+f.Reason) {
			t.Errorf("window %d: %s %s not flagged: %v", id, f.Table, f.Reason, w.Anomalies)
		}
		flaggedFiles++
	}
	if len(cp.Incomplete) == 0 || flaggedFiles == 0 {
		t.Errorf("the bundled mirror lacks files; checkpoint lists %d, report flagged %d", len(cp.Incomplete), flaggedFiles)
	}
	t.Logf("%d windows compared with DuckDB; %d incomplete files and %d low join rates flagged", len(rows), flaggedFiles, lowRate)

	// The text form names the anomalies too.
	text, _ := exec.Command(bin, out).Output()
	if !strings.Contains(string(text), "files not read") || !strings.Contains(string(text), "anomalies flagged") {
		t.Errorf("text report:\n%s", text)
	}
}

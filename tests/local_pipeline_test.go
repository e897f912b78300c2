package tests

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// repoRoot is the module's root: the folder above tests/.
func repoRoot(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// benthosBin builds cmd/benthos once per test binary.
func benthosBin(t testing.TB) string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gdeltflow-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "benthos")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/benthos")
		cmd.Dir = repoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building cmd/benthos: %v\n%s", buildErr, binPath)
	}
	return binPath
}

// runLocal runs pipelines/local.yaml with extra environment and returns its log.
func runLocal(t *testing.T, env ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, benthosBin(t), "-c", "pipelines/local.yaml")
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("benthos -c pipelines/local.yaml: %v\n%s", err, out)
	}
	return string(out)
}

// mirrorRows counts the rows of every file listed in the bundled mirror's
// master list, per table, reading the zips with archive/zip (not our feed).
func mirrorRows(t *testing.T) map[string]int {
	dir := filepath.Join(repoRoot(t), "resources", "mirror")
	list, err := os.ReadFile(filepath.Join(dir, "masterfilelist.txt"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(list)), "\n") {
		name := filepath.Base(strings.Fields(line)[2])
		zr, err := zip.OpenReader(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		rc, err := zr.File[0].Open()
		if err != nil {
			t.Fatal(err)
		}
		var n int
		sc := bufio.NewScanner(rc)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			n++
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		rc.Close()
		zr.Close()
		table := map[bool]string{true: "export", false: ""}[strings.Contains(name, ".export.")]
		switch {
		case strings.Contains(name, ".mentions."):
			table = "mentions"
		case strings.Contains(name, ".gkg."):
			table = "gkg"
		}
		rows[table] += n
	}
	return rows
}

func readJSONL(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(line))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, m)
	}
	return out
}

// TestLocalPipeline runs the embedded default exactly as the README says and
// checks what it wrote.
func TestLocalPipeline(t *testing.T) {
	out := t.TempDir()
	runLocal(t, "GDELT_OUT="+out, "LOG_LEVEL=warn")

	want := mirrorRows(t)
	if want["export"] < 2111 || want["gkg"] < 951 || want["mentions"] == 0 {
		t.Fatalf("the mirror is not what the README says: %v", want)
	}
	got := map[string][]map[string]any{}
	for _, table := range []string{"export", "mentions", "gkg"} {
		got[table] = readJSONL(t, filepath.Join(out, table+".jsonl"))
		if len(got[table]) != want[table] {
			t.Errorf("%s: wrote %d rows, the mirror has %d", table, len(got[table]), want[table])
		}
	}
	if rej := readJSONL(t, filepath.Join(out, "rejects.jsonl")); len(rej) != 0 {
		t.Errorf("%d rejects, want 0: first %v", len(rej), rej[0])
	}
	// The real export's first row, checked against its raw text.
	var first map[string]any
	for _, r := range got["export"] {
		if r["global_event_id"] == json.Number("881990832") {
			first = r
		}
	}
	if first == nil {
		t.Fatal("the real export's row 881990832 is missing")
	}
	for k, v := range map[string]any{
		"sql_date": json.Number("20181024"), "fraction_date": json.Number("2018.8055"), "actor1_code": nil,
		"actor2_code": "AUS", "actor2_name": "VICTORIA", "event_code": "139", "goldstein_scale": json.Number("-7"),
		"avg_tone": json.Number("2.02774813233724"), "action_geo_full_name": "Vancouver, British Columbia, Canada",
		"action_geo_long": json.Number("-123.133"), "action_geo_feature_id": "-575268",
		"date_added": json.Number("20191024143000"),
		"source_url": "https://www.timescolonist.com/entertainment/jeremy-dutcher-brings-ancestors-songs-to-life-1.23985964",
	} {
		if g := first[k]; g != v {
			t.Errorf("row 881990832 %s = %#v, raw text says %#v", k, g, v)
		}
	}
	if len(first) != 61 {
		t.Errorf("row has %d columns, want 61", len(first))
	}

	// A second run has nothing left to read: the checkpoint holds.
	runLocal(t, "GDELT_OUT="+out, "LOG_LEVEL=warn")
	for _, table := range []string{"export", "mentions", "gkg"} {
		if n := len(readJSONL(t, filepath.Join(out, table+".jsonl"))); n != want[table] {
			t.Errorf("after a second run %s has %d rows, want %d", table, n, want[table])
		}
	}
	var cp struct {
		Window     string `json:"window"`
		Incomplete []struct{ Window, Table, Reason string }
	}
	b, err := os.ReadFile(filepath.Join(out, "state", "gdelt_feed"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cp); err != nil {
		t.Fatal(err)
	}
	// The real samples come alone: their windows' other files are recorded as missing.
	if len(cp.Incomplete) != 4 {
		t.Errorf("checkpoint records %d incomplete files, want 4 (the real samples' missing tables): %s", len(cp.Incomplete), b)
	}
}

// TestLocalPipelineNestedGKG runs the default with nested GKG parsing on.
func TestLocalPipelineNestedGKG(t *testing.T) {
	out := t.TempDir()
	runLocal(t, "GDELT_OUT="+out, "LOG_LEVEL=warn", "GDELT_GKG_NESTED=true", `GDELT_TABLES=["gkg"]`, "GDELT_FROM=20230702153000", "GDELT_TO=20230702153000")
	rows := readJSONL(t, filepath.Join(out, "gkg.jsonl"))
	if len(rows) != 951 {
		t.Fatalf("%d gkg rows, want the 951 of the real file", len(rows))
	}
	var withTone, withThemes, withTitle int
	for _, r := range rows {
		if tone, ok := r["v2_tone"].(map[string]any); ok && tone["tone"] != nil {
			withTone++
		}
		if th, ok := r["v2_themes"].([]any); ok && len(th) > 0 {
			withThemes++
		}
		if s, ok := r["page_title"].(string); ok && s != "" {
			withTitle++
		}
	}
	if withTone != 951 || withThemes < 800 || withTitle < 800 {
		t.Errorf("nested fields: tone %d, themes %d, titles %d of 951", withTone, withThemes, withTitle)
	}
	if _, err := os.Stat(filepath.Join(out, "export.jsonl")); err == nil {
		t.Error("export.jsonl written although only gkg was asked for")
	}
}

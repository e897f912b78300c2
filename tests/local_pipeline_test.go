package tests

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/tests/duckdbtest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// repoRoot is the module's root: the folder above tests/.
func repoRoot(t testing.TB) string { return duckdbtest.RepoRoot() }

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

// deltaCheck is what DuckDB found comparing a Delta table with its sources.
type deltaCheck struct {
	Version         int64 `json:"version"`
	LiveFiles       int   `json:"live_files"`
	DeltaRows       int   `json:"delta_rows"`
	SourceRows      int   `json:"source_rows"`
	Missing         int   `json:"missing"`
	Extra           int   `json:"extra"`
	PartitionErrors int   `json:"partition_errors"`
}

// compareDelta has DuckDB replay the table's log, read its live Parquet files
// and compare the rows, as multisets, with the raw TSV files
// (tests/duckdb/delta_compare.mjs).
func compareDelta(t *testing.T, tableDir, table string, tsv []string) deltaCheck {
	t.Helper()
	rows := duckdbtest.Run(t, "delta_compare.mjs", "", append([]string{tableDir, table}, tsv...)...)
	if len(rows) != 1 {
		t.Fatalf("delta_compare.mjs %s: %d result lines, want 1", tableDir, len(rows))
	}
	b, _ := json.Marshal(rows[0])
	var c deltaCheck
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("delta_compare.mjs: %v: %s", err, b)
	}
	return c
}

// requireDuckDB skips without node and the npm packages, except in CI.
func requireDuckDB(t *testing.T) {
	t.Helper()
	duckdbtest.Require(t)
}

// unzipTable writes the unzipped files of one table of a mirror into dir.
func unzipTable(t *testing.T, mirror, table, dir string) []string {
	t.Helper()
	zips, err := filepath.Glob(filepath.Join(mirror, "*."+map[string]string{"export": "export.CSV", "mentions": "mentions.CSV", "gkg": "gkg.csv"}[table]+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, z := range zips {
		zr, err := zip.OpenReader(z)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := zr.File[0].Open()
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, zr.File[0].Name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(f, rc); err != nil {
			t.Fatal(err)
		}
		f.Close()
		rc.Close()
		zr.Close()
		out = append(out, p)
	}
	return out
}

var bronzeTables = map[string]string{"export": "events", "mentions": "mentions", "gkg": "gkg"}

// TestLocalPipeline runs the embedded default exactly as the README says and
// checks, with DuckDB as the reader, that the three bronze Delta tables hold
// exactly the mirror's rows.
func TestLocalPipeline(t *testing.T) {
	out := t.TempDir()
	runLocal(t, "GDELT_OUT="+out, "LOG_LEVEL=warn")

	want := mirrorRows(t)
	firstVersion := map[string]int64{}
	if want["export"] != 2351 || want["gkg"] != 1111 || want["mentions"] != 600 {
		t.Fatalf("the mirror is not what the README says: %v", want)
	}
	src := t.TempDir()
	mirror := filepath.Join(repoRoot(t), "resources", "mirror")
	for table, name := range bronzeTables {
		c := compareDelta(t, filepath.Join(out, "bronze", name), table, unzipTable(t, mirror, table, src))
		t.Logf("%s: %+v", name, c)
		firstVersion[name] = c.Version
		if c.DeltaRows != want[table] || c.SourceRows != want[table] || c.Missing != 0 || c.Extra != 0 || c.PartitionErrors != 0 {
			t.Errorf("bronze/%s: %+v, want exactly the %d source rows", name, c, want[table])
		}
	}
	if rej := readJSONL(t, filepath.Join(out, "rejects.jsonl")); len(rej) != 0 {
		t.Errorf("%d rejects, want 0: first %v", len(rej), rej[0])
	}

	// A second run has nothing left to read: the checkpoint holds, no commit is added.
	runLocal(t, "GDELT_OUT="+out, "LOG_LEVEL=warn")
	for table, name := range bronzeTables {
		c := compareDelta(t, filepath.Join(out, "bronze", name), table, unzipTable(t, mirror, table, src))
		// The first run's commit count depends on timing (a batch period
		// may close a commit early); the second run must add none.
		if c.DeltaRows != want[table] || c.Version != firstVersion[name] {
			t.Errorf("after a second run bronze/%s: %+v, want version %d still", name, c, firstVersion[name])
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
	if len(cp.Incomplete) != 4 || cp.Window != "20230702163000" {
		t.Errorf("checkpoint %s, want window 20230702163000 and 4 incomplete files (the real samples' missing tables)", b)
	}
}

// TestDecodeNestedGKGThroughBinary runs the feed and gdelt_decode with nested
// GKG parsing in the built binary over the real GKG file.
func TestDecodeNestedGKGThroughBinary(t *testing.T) {
	out := t.TempDir()
	cfg := filepath.Join(out, "nested.yaml")
	mirror := filepath.Join(repoRoot(t), "resources", "mirror")
	if err := os.WriteFile(cfg, []byte(`
http: { enabled: false }
input:
  gdelt_feed:
    base_url: `+mirror+`
    mode: backfill
    from: "20230702153000"
    to: "20230702153000"
    tables: [ gkg ]
pipeline:
  processors:
    - gdelt_decode: { gkg_nested: true }
output:
  file:
    path: `+filepath.Join(out, "gkg.jsonl")+`
    codec: lines
logger: { level: warn }
`), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if b, err := exec.CommandContext(ctx, benthosBin(t), "-c", cfg).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
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
}

package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
	"github.com/gdeltflow/gdeltflow/tests/duckdbtest"
)

// The DuckDB oracle: tests/duckdb/read_csv.mjs reads the same raw files with
// DuckDB's read_csv, and every row and column must agree with our Decoder.
// Without node or tests/duckdb/node_modules the test skips, except under
// CI=true, where it fails: run `npm install` in tests/duckdb.

func oracleSkip(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format+" (CI=true: the DuckDB oracle must run)", args...)
	}
	t.Skipf(format, args...)
}

// oracleSetup returns the node binary and the tests/duckdb folder.
func oracleSetup(t *testing.T) (node, dir string) {
	t.Helper()
	return duckdbtest.Require(t), duckdbtest.Dir()
}

// oracleDataDir is shared/testdata/gdelt beside the repository (GDELT_TESTDATA overrides).
func oracleDataDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("GDELT_TESTDATA")
	if dir == "" {
		dir = filepath.Join(filepath.Dir(duckdbtest.RepoRoot()), "shared", "testdata", "gdelt")
	}
	if _, err := os.Stat(dir); err != nil {
		oracleSkip(t, "real GDELT test data not found: %v", err)
	}
	return dir
}

func oracleDuckType(k schema.Kind) string {
	switch k {
	case schema.Int64:
		return "BIGINT"
	case schema.Float64:
		return "DOUBLE"
	}
	return "VARCHAR"
}

// oracleDuckRows runs read_csv.mjs on file and returns its rows, numbers kept exact.
func oracleDuckRows(t *testing.T, node, dir, file, table string) []map[string]any {
	t.Helper()
	return duckdbtest.Run(t, "read_csv.mjs", "", file, table)
}

// oracleCompare decodes every line of file and compares each row and
// column with DuckDB's reading of the same file.
func oracleCompare(t *testing.T, node, dir, file string, table *schema.Table) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	duck := oracleDuckRows(t, node, dir, file, table.Name)
	if len(duck) != len(lines) {
		t.Fatalf("DuckDB read %d rows, the file has %d lines", len(duck), len(lines))
	}
	d := gdelt.NewDecoder(table, false)
	mismatches := 0
	for i, line := range lines {
		row, err := d.Decode(line)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if len(duck[i]) != len(table.Columns) {
			t.Fatalf("line %d: DuckDB gave %d columns, want %d", i+1, len(duck[i]), len(table.Columns))
		}
		for _, c := range table.Columns {
			if msg := oracleCompareValue(c.Kind, row[c.Name], duck[i][c.Name]); msg != "" {
				mismatches++
				if mismatches <= 20 {
					t.Errorf("line %d, %s: %s", i+1, c.Name, msg)
				}
			}
		}
	}
	if mismatches > 0 {
		t.Fatalf("%d values differ", mismatches)
	}
	t.Logf("%s: %d rows × %d columns agree with DuckDB", filepath.Base(file), len(lines), len(table.Columns))
}

func oracleCompareValue(k schema.Kind, ours, theirs any) string {
	if ours == nil || theirs == nil {
		if ours != nil || theirs != nil {
			return fmt.Sprintf("ours %#v, DuckDB %#v", ours, theirs)
		}
		return ""
	}
	switch k {
	case schema.Int64:
		n, ok := theirs.(json.Number)
		v, ok2 := ours.(int64)
		if !ok || !ok2 || n.String() != strconv.FormatInt(v, 10) {
			return fmt.Sprintf("ours %#v, DuckDB %#v", ours, theirs)
		}
	case schema.Float64:
		n, ok := theirs.(json.Number)
		v, ok2 := ours.(float64)
		f, err := n.Float64()
		if !ok || !ok2 || err != nil {
			return fmt.Sprintf("ours %#v, DuckDB %#v", ours, theirs)
		}
		if diff := math.Abs(v - f); diff > 1e-9*math.Max(math.Abs(v), math.Abs(f)) && diff != 0 {
			return fmt.Sprintf("ours %v, DuckDB %v", v, f)
		}
	default:
		if ours != theirs {
			return fmt.Sprintf("ours %q, DuckDB %q", ours, theirs)
		}
	}
	return ""
}

// TestOracleColumns checks the column list hard-coded in read_csv.mjs against
// schema.go, and schema.go against GDELT's BigQuery schemas in shared/testdata.
func TestOracleColumns(t *testing.T) {
	node, dir := oracleSetup(t)
	bq := map[string]string{
		schema.ExportTable: "events_export.tsv", schema.MentionsTable: "mentions.tsv", schema.GKGTable: "gkg21.tsv",
	}
	for _, table := range schema.Tables() {
		cmd := exec.Command(node, "read_csv.mjs", "--columns", table.Name)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("--columns %s: %v", table.Name, err)
		}
		var cols []struct{ Name, Type string }
		if err := json.Unmarshal(out, &cols); err != nil {
			t.Fatal(err)
		}
		if len(cols) != len(table.Columns) {
			t.Fatalf("%s: read_csv.mjs has %d columns, schema.go %d", table.Name, len(cols), len(table.Columns))
		}
		for i, c := range table.Columns {
			if cols[i].Name != c.Name || cols[i].Type != oracleDuckType(c.Kind) {
				t.Errorf("%s column %d: read_csv.mjs %s %s, schema.go %s %s", table.Name, i+1, cols[i].Name, cols[i].Type, c.Name, oracleDuckType(c.Kind))
			}
		}

		// pos, name(s)..., bq_type: the name is the codebook's or BigQuery's.
		data, err := os.ReadFile(filepath.Join(oracleDataDir(t), "schema", bq[table.Name]))
		if err != nil {
			t.Fatal(err)
		}
		rows := strings.Split(strings.TrimSpace(string(data)), "\n")[1:]
		if len(rows) != len(table.Columns) {
			t.Fatalf("%s: BigQuery schema has %d columns, schema.go %d", table.Name, len(rows), len(table.Columns))
		}
		for i, r := range rows {
			f := strings.Split(r, "\t")
			c := table.Columns[i]
			want := map[string]schema.Kind{"INTEGER": schema.Int64, "FLOAT": schema.Float64, "STRING": schema.String}[f[len(f)-1]]
			if f[0] != strconv.Itoa(c.Pos) || f[len(f)-2] != c.Source || want != c.Kind {
				t.Errorf("%s: BigQuery %v vs schema.go %d %s %s", table.Name, f, c.Pos, c.Source, c.Kind)
			}
		}
	}
}

func TestOracleRealExport(t *testing.T) {
	node, dir := oracleSetup(t)
	oracleCompare(t, node, dir, filepath.Join(oracleDataDir(t), "20191024143000.export.CSV"), schema.Events)
}

func TestOracleRealGKG(t *testing.T) {
	node, dir := oracleSetup(t)
	data, err := gdeltgen.UnzipFile(filepath.Join(oracleDataDir(t), "20230702153000.gkg.csv.zip"))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "20230702153000.gkg.csv")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	oracleCompare(t, node, dir, file, schema.GKG)
}

// TestOracleGeneratedMentions covers the Mentions layout, for which no real
// file is at hand, with a generated window.
func TestOracleGeneratedMentions(t *testing.T) {
	node, dir := oracleSetup(t)
	cfg := gdeltgen.Small(time.Date(2023, 7, 2, 15, 30, 0, 0, time.UTC), 1, 3)
	cfg.Mentions = 2000
	var data []byte
	if err := gdeltgen.Generate(cfg, func(w gdeltgen.Window) error { data = w.Mentions; return nil }); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "20230702153000.mentions.CSV")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	oracleCompare(t, node, dir, file, schema.Mentions)
}

package delta

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt"
	gschema "github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
	"github.com/gdeltflow/gdeltflow/tests/duckdbtest"
	"github.com/gdeltflow/gdeltflow/tests/gdeltgen"

	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
)

// Test data and the DuckDB oracle (tests/duckdb/query.mjs). Without node,
// tests/duckdb/node_modules or the shared GDELT files the tests that need
// them skip, except under CI=true, where they fail.

func pqtSkip(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf(format+" (CI=true: this must run)", args...)
	}
	tb.Skipf(format, args...)
}

// pqtGDELTDataDir is shared/testdata/gdelt beside the repository (GDELT_TESTDATA overrides).
func pqtGDELTDataDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("GDELT_TESTDATA")
	if dir == "" {
		dir = filepath.Join(filepath.Dir(duckdbtest.RepoRoot()), "shared", "testdata", "gdelt")
	}
	if _, err := os.Stat(dir); err != nil {
		pqtSkip(tb, "real GDELT test data not found: %v", err)
	}
	return dir
}

func pqtGoldenDir(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(filepath.Dir(duckdbtest.RepoRoot()), "shared", "testdata", "delta-golden")
	if _, err := os.Stat(dir); err != nil {
		pqtSkip(tb, "Delta golden tables not found: %v", err)
	}
	return dir
}

var (
	pqtExportOnce, pqtGKGOnce, pqtMentionsOnce sync.Once
	pqtExport, pqtGKG, pqtMentions             []byte
	pqtExportErr, pqtGKGErr, pqtMentionsErr    error
)

// pqtExportTSV is the real Events export file 20191024143000 (2,111 rows).
func pqtExportTSV(tb testing.TB) []byte {
	tb.Helper()
	dir := pqtGDELTDataDir(tb)
	pqtExportOnce.Do(func() {
		pqtExport, pqtExportErr = os.ReadFile(filepath.Join(dir, "20191024143000.export.CSV"))
	})
	if pqtExportErr != nil {
		tb.Fatal(pqtExportErr)
	}
	return pqtExport
}

// pqtGKGTSV is the real GKG file 20230702153000, unzipped (951 rows, 12 MB).
func pqtGKGTSV(tb testing.TB) []byte {
	tb.Helper()
	dir := pqtGDELTDataDir(tb)
	pqtGKGOnce.Do(func() {
		pqtGKG, pqtGKGErr = gdeltgen.UnzipFile(filepath.Join(dir, "20230702153000.gkg.csv.zip"))
	})
	if pqtGKGErr != nil {
		tb.Fatal(pqtGKGErr)
	}
	return pqtGKG
}

// pqtMentionsTSV is one window of realistic generated Mentions rows
// (5,000; no real Mentions file is at hand).
func pqtMentionsTSV(tb testing.TB) []byte {
	tb.Helper()
	pqtMentionsOnce.Do(func() {
		cfg := gdeltgen.Config{Seed: 7, Start: time.Date(2023, 7, 2, 15, 30, 0, 0, time.UTC), Windows: 1,
			Events: 2000, Mentions: 5000, GKG: 10, GKGRowBytes: 3000}
		pqtMentionsErr = gdeltgen.Generate(cfg, func(w gdeltgen.Window) error {
			pqtMentions = w.Mentions
			return nil
		})
	})
	if pqtMentionsErr != nil {
		tb.Fatal(pqtMentionsErr)
	}
	return pqtMentions
}

// pqtDecodeTSV decodes every line of a raw GDELT file.
func pqtDecodeTSV(t *gschema.Table, nested bool, tsv []byte) ([]map[string]any, error) {
	d := gdelt.NewDecoder(t, nested)
	lines := bytes.Split(bytes.TrimSuffix(tsv, []byte("\n")), []byte("\n"))
	rows := make([]map[string]any, 0, len(lines))
	for i, l := range lines {
		r, err := d.Decode(l)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// pqtDuckSetup returns the node binary and the tests/duckdb folder.
func pqtDuckSetup(tb testing.TB) (node, dir string) {
	tb.Helper()
	return duckdbtest.Require(tb), duckdbtest.Dir()
}

// pqtDuck runs SQL with query.mjs and returns the rows of the last
// statement, numbers as json.Number (BIGINTs exact).
func pqtDuck(tb testing.TB, sql string) []map[string]any {
	tb.Helper()
	return duckdbtest.Query(tb, sql)
}

func pqtQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// pqtWriteFile writes rows to a new file in dir and returns its path and stats.
func pqtWriteFile(tb testing.TB, dir string, s schema.StructType, o WriterOptions, rows []map[string]any) (string, *Stats) {
	tb.Helper()
	path := filepath.Join(dir, fmt.Sprintf("part-%d.parquet", time.Now().UnixNano()))
	fh, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer fh.Close()
	w, err := NewFileWriter(fh, s, o)
	if err != nil {
		tb.Fatal(err)
	}
	for i, r := range rows {
		if err := w.Write(r); err != nil {
			tb.Fatalf("row %d: %v", i, err)
		}
	}
	st, err := w.Close()
	if err != nil {
		tb.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		tb.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	if fi.Size() != w.BytesWritten() {
		tb.Fatalf("BytesWritten %d, file has %d bytes", w.BytesWritten(), fi.Size())
	}
	if w.Rows() != int64(len(rows)) {
		tb.Fatalf("Rows() = %d, want %d", w.Rows(), len(rows))
	}
	return path, st
}

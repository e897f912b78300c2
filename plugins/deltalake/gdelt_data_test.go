package deltalake

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
	gschema "github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
	"github.com/gdeltflow/gdeltflow/plugins/internal/deltatest"
)

// GDELT test data: real files (deltatest.GDELTDataDir) and generated ones.

var (
	pqtExportOnce, pqtGKGOnce, pqtMentionsOnce sync.Once
	pqtExport, pqtGKG, pqtMentions             []byte
	pqtExportErr, pqtGKGErr, pqtMentionsErr    error
)

// pqtExportTSV is the real Events export file 20191024143000 (2,111 rows).
func pqtExportTSV(tb testing.TB) []byte {
	tb.Helper()
	dir := deltatest.GDELTDataDir(tb)
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
	dir := deltatest.GDELTDataDir(tb)
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

package deltalake

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gdeltflow/gdeltflow/plugins/delta/datafile"
	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
	gschema "github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
	"github.com/gdeltflow/gdeltflow/plugins/internal/deltatest"
)

// TestReaderGDELT: the rows of each GDELT table, the nested GKG among them,
// written by datafile.Writer read back with datafile.Reader as the decoder
// emitted them; and so do they from the same file rewritten by DuckDB (its
// own encodings and layout).
func TestReaderGDELT(t *testing.T) {
	cases := []struct {
		name   string
		table  *gschema.Table
		nested bool
		tsv    func(testing.TB) []byte
	}{
		{"export", gschema.Events, false, pqtExportTSV},
		{"mentions", gschema.Mentions, false, pqtSmallMentionsTSV},
		{"gkg", gschema.GKG, false, pqtGKGTSV},
		{"gkg-nested", gschema.GKG, true, pqtGKGTSV},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			deltatest.RequireDuck(t)
			rows, err := pqtDecodeTSV(c.table, c.nested, c.tsv(t))
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) > 400 {
				rows = rows[:400]
			}
			s := GDELTSchema(c.table, c.nested)
			dir := t.TempDir()
			ours, _ := deltatest.WriteFile(t, dir, s, datafile.Config{RowGroupRows: 150, PageBufferSize: 16 << 10}, rows)
			duck := filepath.Join(dir, "duck.parquet")
			deltatest.Duck(t, "COPY (SELECT * FROM read_parquet("+deltatest.Quote(ours)+", file_row_number = true) ORDER BY file_row_number) TO "+
				deltatest.Quote(duck)+" (FORMAT parquet, ROW_GROUP_SIZE 100)")
			for _, path := range []string{ours, duck} {
				got := readFile(t, path, s)
				if len(got) != len(rows) {
					t.Fatalf("%s: %d rows, want %d", filepath.Base(path), len(got), len(rows))
				}
				bad := 0
				for i := range rows {
					if err := sameDecoded(rows[i], got[i]); err != nil {
						if bad++; bad <= 5 {
							t.Errorf("%s row %d: %v", filepath.Base(path), i, err)
						}
					}
				}
			}
		})
	}
}

// readFile reads every row of a data file.
func readFile(t *testing.T, path string, s schema.StructType) []map[string]any {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	fi, _ := fh.Stat()
	r, err := datafile.NewReader(fh, fi.Size(), s)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, row)
	}
}

// sameDecoded compares a row as the decoder emitted it with the row read:
// the same Go values, a key the decoder left out being null.
func sameDecoded(want, got any) error {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("want a struct, got %#v", got)
		}
		for k := range g {
			if err := sameDecoded(w[k], g[k]); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		}
		for k := range w {
			if _, ok := g[k]; !ok && w[k] != nil {
				return fmt.Errorf("%s: not read", k)
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("want %d elements, got %#v", len(w), got)
		}
		for i := range w {
			if err := sameDecoded(w[i], g[i]); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return nil
	}
	if !reflect.DeepEqual(want, got) {
		return fmt.Errorf("want %#v, got %#v", want, got)
	}
	return nil
}

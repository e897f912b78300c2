package datafile_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go/format"

	"github.com/gdeltflow/gdeltflow/plugins/delta/datafile"
	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
	"github.com/gdeltflow/gdeltflow/plugins/internal/deltatest"
)

// TestParquetDictionaryDuckDB writes string columns of every kind of
// repetition, several row groups of several pages, and has DuckDB read them
// back with their stats: a few repeated values (dictionary pages), all
// distinct (given up at the first page: PLAIN), a dictionary that outgrows
// its bound (dictionary pages, then PLAIN in the same chunk), one value
// (indices of bit width 0), nulls, and a row rolled back in the middle.
func TestParquetDictionaryDuckDB(t *testing.T) {
	deltatest.RequireDuck(t)
	defer datafile.SetDictMaxBytes(4 << 10)()
	defer datafile.SetDictDecideValues(64)() // decided at the first page
	s := schema.StructType{Fields: []schema.StructField{
		schema.NewField("low", schema.StringType, true), schema.NewField("uniq", schema.StringType, true),
		schema.NewField("grow", schema.StringType, true), schema.NewField("one", schema.StringType, true),
		schema.NewField("n", schema.LongType, true), schema.NewField("req", schema.StringType, false),
	}}
	var rows []map[string]any
	for i := range 3000 {
		r := map[string]any{
			"low":  fmt.Sprintf("code%02d", i%7),
			"uniq": fmt.Sprintf("https://example.com/%d", i),
			"grow": fmt.Sprintf("v%d", i%3),
			"one":  "same",
			"n":    int64(i),
			"req":  fmt.Sprintf("r%d", i%3),
		}
		if i%1000 >= 300 {
			r["grow"] = fmt.Sprintf("distinct-%06d-%s", i, strings.Repeat("x", i%50))
		}
		if i%11 == 0 {
			r["low"] = nil
		}
		if i%13 == 0 {
			r["grow"] = nil
		}
		rows = append(rows, r)
	}
	path := filepath.Join(t.TempDir(), "dict.parquet")
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := datafile.NewWriter(fh, s, datafile.Config{RowGroupRows: 1000, PageBufferSize: 2 << 10})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
		if i == 1500 {
			// Every dictionary column takes a value, then req fails the row.
			bad := map[string]any{"low": "rolled-back", "uniq": "rolled-back", "grow": "rolled-back", "one": "rolled-back", "req": nil}
			var ve *datafile.ValueError
			if err := w.Write(bad); !errors.As(err, &ve) || ve.Column != "req" {
				t.Fatalf("bad row: %v", err)
			}
		}
	}
	st, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}

	got := deltatest.Duck(t, "SELECT low, uniq, grow, one, n, req FROM read_parquet("+deltatest.Quote(path)+", file_row_number = true) ORDER BY file_row_number")
	if len(got) != len(rows) {
		t.Fatalf("DuckDB read %d rows, wrote %d", len(got), len(rows))
	}
	bad := 0
	for i := range rows {
		for _, f := range s.Fields {
			if err := deltatest.SameValue(rows[i][f.Name], got[i][f.Name]); err != nil {
				if bad++; bad <= 10 {
					t.Errorf("row %d column %s: %v", i, f.Name, err)
				}
			}
		}
	}
	deltatest.CheckFile(t, path, s, int64(len(rows)), 3)
	deltatest.CheckStats(t, path, s, st)

	// The encodings of the first row group's chunks.
	pages := func(col int) (dict, plain int32, dictPage bool) {
		md := w.Metadata().RowGroups[0].Columns[col].MetaData
		for _, e := range md.EncodingStats {
			switch {
			case e.PageType == format.DictionaryPage:
				dictPage = true
			case e.Encoding == format.RLEDictionary:
				dict += e.Count
			default:
				plain += e.Count
			}
		}
		return
	}
	for col, want := range map[int]string{0: "dictionary", 1: "plain", 2: "dictionary then plain", 3: "dictionary", 5: "dictionary"} {
		d, p, dp := pages(col)
		var is string
		switch {
		case dp && d > 0 && p == 0:
			is = "dictionary"
		case !dp && d == 0 && p > 0:
			is = "plain"
		case dp && d > 0 && p > 0:
			is = "dictionary then plain"
		default:
			is = fmt.Sprintf("%d dictionary pages, %d plain, dictionary page %v", d, p, dp)
		}
		if is != want {
			t.Errorf("column %s: %s, want %s", s.Fields[col].Name, is, want)
		}
	}
	js, _ := st.JSON()
	var stats struct {
		Min map[string]any `json:"minValues"`
		Max map[string]any `json:"maxValues"`
	}
	if err := json.Unmarshal([]byte(js), &stats); err != nil {
		t.Fatal(err)
	}
	if stats.Min["low"] != "code00" || stats.Max["low"] != "code06" || stats.Min["one"] != "same" || stats.Max["one"] != "same" {
		t.Errorf("stats %s", js)
	}
}

// TestParquetDictionaryDecidedOverChunks: the dictionary is kept or given up
// once dictDecideValues values are in, over pages and row groups: values
// that repeat far apart (every first page all distinct) keep it, all
// distinct ones give it up from the next chunk on. DuckDB reads both back.
func TestParquetDictionaryDecidedOverChunks(t *testing.T) {
	deltatest.RequireDuck(t)
	s := schema.StructType{Fields: []schema.StructField{
		schema.NewField("spread", schema.StringType, true), schema.NewField("uniq", schema.StringType, true),
	}}
	pad := strings.Repeat("x", 200)
	var rows []map[string]any
	for i := range 4000 {
		rows = append(rows, map[string]any{
			"spread": fmt.Sprintf("article-%04d-%s", i%300, pad),
			"uniq":   fmt.Sprintf("https://example.com/%06d/%s", i, pad),
		})
	}
	o := datafile.Config{RowGroupRows: 1000, PageBufferSize: 16 << 10}
	path, st := deltatest.WriteFile(t, t.TempDir(), s, o, rows)
	got := deltatest.Duck(t, "SELECT spread, uniq FROM read_parquet("+deltatest.Quote(path)+", file_row_number = true) ORDER BY file_row_number")
	if len(got) != len(rows) {
		t.Fatalf("DuckDB read %d rows, wrote %d", len(got), len(rows))
	}
	for i := range rows {
		for _, c := range []string{"spread", "uniq"} {
			if err := deltatest.SameValue(rows[i][c], got[i][c]); err != nil {
				t.Fatalf("row %d column %s: %v", i, c, err)
			}
		}
	}
	deltatest.CheckFile(t, path, s, int64(len(rows)), 4)
	deltatest.CheckStats(t, path, s, st)
	// Per row group and column: does the chunk have a dictionary page?
	meta := deltatest.Duck(t, "SELECT row_group_id, path_in_schema, dictionary_page_offset IS NOT NULL AS dict FROM parquet_metadata("+deltatest.Quote(path)+") ORDER BY row_group_id, column_id")
	want := map[string][]bool{"spread": {true, true, true, true}, "uniq": {true, true, false, false}}
	gotDict := map[string][]bool{}
	for _, m := range meta {
		c := fmt.Sprint(m["path_in_schema"])
		gotDict[c] = append(gotDict[c], m["dict"] == true)
	}
	for c, w := range want {
		if fmt.Sprint(gotDict[c]) != fmt.Sprint(w) {
			t.Errorf("column %s: dictionary per row group %v, want %v", c, gotDict[c], w)
		}
	}
}

// TestParquetDictionaryHints: a table's files pass their dictionary
// decisions on (DictHints). A file of fewer values than a decision takes
// decides at its end: its mostly distinct column is PLAIN; the next files
// write that column PLAIN from the start, even when its values now repeat,
// and keep the dictionary of a repeating one; the file that decides afresh
// (every dictRefreshFiles-th) gives the column its dictionary back, and the
// next file keeps it. DuckDB reads every file back.
func TestParquetDictionaryHints(t *testing.T) {
	deltatest.RequireDuck(t)
	defer datafile.SetDictRefreshFiles(3)()
	s := schema.StructType{Fields: []schema.StructField{
		schema.NewField("code", schema.StringType, true), schema.NewField("text", schema.StringType, true),
	}}
	hints := datafile.NewDictHints()
	o := datafile.Config{Hints: hints}
	dir := t.TempDir()
	// Files 1 and 2: text all distinct; from file 3 on it repeats; file 4
	// decides afresh (files 1, 4, 7... with one in 3).
	want := []map[string]bool{
		{"code": true, "text": false},
		{"code": true, "text": false},
		{"code": true, "text": false},
		{"code": true, "text": true},
		{"code": true, "text": true},
	}
	for file, w := range want {
		var rows []map[string]any
		for i := range 1000 { // fewer values than a decision takes (2,048)
			text := fmt.Sprintf("file %d article %04d %s", file, i, strings.Repeat("x", i%40))
			if file >= 2 {
				text = fmt.Sprintf("article %02d", i%50)
			}
			rows = append(rows, map[string]any{"code": fmt.Sprintf("c%d", i%9), "text": text})
		}
		sub := filepath.Join(dir, fmt.Sprint(file))
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		path, st := deltatest.WriteFile(t, sub, s, o, rows)
		got := deltatest.Duck(t, "SELECT code, text FROM read_parquet("+deltatest.Quote(path)+", file_row_number = true) ORDER BY file_row_number")
		if len(got) != len(rows) {
			t.Fatalf("file %d: DuckDB read %d rows, wrote %d", file+1, len(got), len(rows))
		}
		for i := range rows {
			for _, c := range []string{"code", "text"} {
				if err := deltatest.SameValue(rows[i][c], got[i][c]); err != nil {
					t.Fatalf("file %d row %d column %s: %v", file+1, i, c, err)
				}
			}
		}
		deltatest.CheckStats(t, path, s, st)
		meta := deltatest.Duck(t, "SELECT path_in_schema, dictionary_page_offset IS NOT NULL AS dict FROM parquet_metadata("+deltatest.Quote(path)+")")
		for _, m := range meta {
			c := fmt.Sprint(m["path_in_schema"])
			if (m["dict"] == true) != w[c] {
				t.Errorf("file %d column %s: dictionary %v, want %v", file+1, c, m["dict"], w[c])
			}
		}
	}
}

// TestParquetDictionarySharedValues: long values that rows share by memory
// (silver's GKG text: one string on each of an article's mentions) are
// found by their memory, and short ones on neighbouring rows as the value
// before; equal values at other memory, shared values first met in a row
// that is rolled back, and row groups (each chunk its own dictionary) read
// back from DuckDB as written, dictionary-encoded.
func TestParquetDictionarySharedValues(t *testing.T) {
	deltatest.RequireDuck(t)
	defer datafile.SetDictDecideValues(64)()
	s := schema.StructType{Fields: []schema.StructField{
		schema.NewField("text", schema.StringType, true), schema.NewField("req", schema.StringType, false),
		schema.NewField("code", schema.StringType, true),
	}}
	codes := make([]string, 5) // short values, the same string on neighbouring rows
	for i := range codes {
		codes[i] = fmt.Sprintf("c%d", i)
	}
	long := func(i int) string { return fmt.Sprintf("%04d:%s", i, strings.Repeat("gcam,", 60)) } // > 128 bytes
	shared := make([]string, 40)
	for i := range shared {
		shared[i] = long(i)
	}
	var rows []map[string]any
	for i := range 2000 {
		v := shared[(i/3)%len(shared)] // the same string on neighbouring rows, and again later
		if i%7 == 0 {
			v = long((i / 3) % len(shared)) // the same bytes at other memory
		}
		if i%50 == 49 {
			v = long(1000 + i) // a value of its own
		}
		code := codes[(i/3)%len(codes)]
		if i%11 == 0 {
			code = fmt.Sprintf("c%d", (i/3)%len(codes)) // equal, at other memory
		}
		rows = append(rows, map[string]any{"text": v, "req": "r", "code": code})
	}
	path := filepath.Join(t.TempDir(), "shared.parquet")
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := datafile.NewWriter(fh, s, datafile.Config{RowGroupRows: 700, PageBufferSize: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	rolledBack, rolledBackCode := long(5000), fmt.Sprintf("c%d", 99)
	for i, r := range rows {
		if i == 1000 {
			// New values enter the dictionaries, then req fails the row;
			// the same strings come back in the next rows.
			var ve *datafile.ValueError
			if err := w.Write(map[string]any{"code": rolledBackCode, "text": rolledBack, "req": nil}); !errors.As(err, &ve) || ve.Column != "req" {
				t.Fatalf("bad row: %v", err)
			}
		}
		if i >= 1000 && i < 1010 {
			r["text"], r["code"] = rolledBack, rolledBackCode
		}
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	got := deltatest.Duck(t, "SELECT text, code FROM read_parquet("+deltatest.Quote(path)+", file_row_number = true) ORDER BY file_row_number")
	if len(got) != len(rows) {
		t.Fatalf("DuckDB read %d rows, wrote %d", len(got), len(rows))
	}
	for i := range rows {
		for _, c := range []string{"text", "code"} {
			if got[i][c] != rows[i][c] {
				t.Fatalf("row %d column %s: DuckDB read %.30q, wrote %.30q", i, c, got[i][c], rows[i][c])
			}
		}
	}
	for g, rg := range w.Metadata().RowGroups {
		for _, col := range []int{0, 2} {
			dictPage := false
			for _, e := range rg.Columns[col].MetaData.EncodingStats {
				dictPage = dictPage || e.PageType == format.DictionaryPage
			}
			if !dictPage {
				t.Errorf("row group %d column %d: no dictionary page", g, col)
			}
		}
	}
}

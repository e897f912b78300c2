package deltatest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/gdeltflow/gdeltflow/plugins/delta/datafile"
	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
)

// Checks of Parquet data files against DuckDB (an independent reader) and
// against the file's own bytes.

// SameValue compares a Go value written with what DuckDB read (JSON with
// json.Number): int64 exactly, float64 bit for bit, strings, booleans,
// nulls, and lists and structs recursively.
func SameValue(want, got any) error {
	switch w := want.(type) {
	case nil:
		if got != nil {
			return fmt.Errorf("want null, got %v", got)
		}
	case int64:
		n, ok := got.(json.Number)
		if !ok || n.String() != strconv.FormatInt(w, 10) {
			return fmt.Errorf("want %d, got %v", w, got)
		}
	case float64:
		n, ok := got.(json.Number)
		if !ok {
			return fmt.Errorf("want %v, got %T %v", w, got, got)
		}
		f, err := strconv.ParseFloat(n.String(), 64)
		if err != nil || math.Float64bits(f) != math.Float64bits(w) {
			return fmt.Errorf("want %v, got %v", w, n)
		}
	case string:
		if g, ok := got.(string); !ok || g != w {
			return fmt.Errorf("want %q, got %v", w, got)
		}
	case bool:
		if g, ok := got.(bool); !ok || g != w {
			return fmt.Errorf("want %v, got %v", w, got)
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("want a list of %d, got %v", len(w), got)
		}
		for i := range w {
			if err := SameValue(w[i], g[i]); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("want a struct, got %v", got)
		}
		for k, v := range w {
			if err := SameValue(v, g[k]); err != nil {
				return fmt.Errorf(".%s: %w", k, err)
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok && g[k] != nil {
				return fmt.Errorf(".%s: not written, read %v", k, g[k])
			}
		}
	default:
		return fmt.Errorf("unexpected Go type %T", want)
	}
	return nil
}

// CheckFile checks what DuckDB and the file's own bytes say of it:
// ZSTD for every column chunk, V1 data pages only (the page headers read
// back with parquet-go's thrift decoder), columns in schema order, the
// expected row groups; and that parquet-go opens it too.
func CheckFile(t *testing.T, path string, s schema.StructType, rows int64, wantRowGroups int) {
	t.Helper()
	meta := Duck(t, "SELECT row_group_id, path_in_schema, compression FROM parquet_metadata("+Quote(path)+")")
	groups := map[string]bool{}
	for _, m := range meta {
		if m["compression"] != "ZSTD" {
			t.Fatalf("column chunk %v: compression %v, want ZSTD", m["path_in_schema"], m["compression"])
		}
		groups[fmt.Sprint(m["row_group_id"])] = true
	}
	if wantRowGroups > 0 && len(groups) < wantRowGroups {
		t.Errorf("%d row groups, want at least %d", len(groups), wantRowGroups)
	}
	cols := Duck(t, "SELECT name FROM parquet_schema("+Quote(path)+")")
	var names []string
	for _, c := range cols[1:] { // [0] is the root
		names = append(names, c["name"].(string))
	}
	flat := true
	for _, f := range s.Fields {
		flat = flat && f.Type.IsPrimitive()
	}
	if flat {
		// Flat schemas: the Parquet columns are the Delta columns, in order.
		if strings.Join(names, ",") != strings.Join(s.Names(), ",") {
			t.Errorf("parquet_schema columns %v, want %v", names, s.Names())
		}
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fh, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("parquet-go cannot open the file: %v", err)
	}
	if fh.NumRows() != rows {
		t.Errorf("parquet-go: %d rows, want %d", fh.NumRows(), rows)
	}
	pages := 0
	for _, rg := range fh.Metadata().RowGroups {
		for _, cc := range rg.Columns {
			md := cc.MetaData
			// A chunk starts with its dictionary page when it has one.
			start := md.DataPageOffset
			if md.DictionaryPageOffset > 0 {
				start = md.DictionaryPageOffset
			}
			off, end := start, start+md.TotalCompressedSize
			var values int64
			dict := false
			for off < end {
				r := bytes.NewReader(data[off:end])
				var h format.PageHeader
				if err := thrift.NewDecoder(new(thrift.CompactProtocol).NewReader(r)).Decode(&h); err != nil {
					t.Fatalf("%v: page header at %d: %v", md.PathInSchema, off, err)
				}
				if h.Type == format.DictionaryPage && off == start && md.DictionaryPageOffset == start {
					if e := h.DictionaryPageHeader.V.Encoding; e != format.Plain {
						t.Fatalf("%v: dictionary page encoding %v, want PLAIN", md.PathInSchema, e)
					}
					dict = true
					off += int64(len(data[off:end])-r.Len()) + int64(h.CompressedPageSize)
					if off != md.DataPageOffset {
						t.Fatalf("%v: the data pages start at %d, metadata says %d", md.PathInSchema, off, md.DataPageOffset)
					}
					continue
				}
				if h.Type != format.DataPage {
					t.Fatalf("%v: page type %v, want DATA_PAGE (V1)", md.PathInSchema, h.Type)
				}
				// Integer columns may be DELTA_BINARY_PACKED (the writer's default for them).
				delta := md.Type == format.Int32 || md.Type == format.Int64
				if e := h.DataPageHeader.V.Encoding; e != format.Plain && (e != format.RLEDictionary || !dict) && (e != format.DeltaBinaryPacked || !delta) {
					t.Fatalf("%v: data page encoding %v (dictionary page: %v)", md.PathInSchema, e, dict)
				}
				values += int64(h.DataPageHeader.V.NumValues)
				off += int64(len(data[off:end])-r.Len()) + int64(h.CompressedPageSize)
				pages++
			}
			if off != end || values != md.NumValues {
				t.Fatalf("%v: pages end at %d (chunk ends at %d), %d values (metadata says %d)", md.PathInSchema, off, end, values, md.NumValues)
			}
		}
	}
	if pages == 0 && rows > 0 {
		t.Fatal("no pages")
	}
}

// CheckStats compares the flat leaves' stats with DuckDB's
// min, max and count(*) - count(x).
func CheckStats(t *testing.T, path string, s schema.StructType, st *datafile.Stats) {
	t.Helper()
	var sel []string
	type leaf struct {
		expr string
		key  []string
		prim string
	}
	var leaves []leaf
	var walk func(prefix string, keys []string, fields []schema.StructField)
	walk = func(prefix string, keys []string, fields []schema.StructField) {
		for _, f := range fields {
			expr := prefix + `"` + f.Name + `"`
			k := append(append([]string(nil), keys...), f.Name)
			switch {
			case f.Type.Struct != nil:
				walk(expr+".", k, f.Type.Struct.Fields)
			case f.Type.IsPrimitive():
				leaves = append(leaves, leaf{expr, k, f.Type.Primitive})
			}
		}
	}
	walk("", nil, s.Fields)
	for i, l := range leaves {
		sel = append(sel, fmt.Sprintf("min(%s) AS mn%d, max(%s) AS mx%d, count(*) - count(%s) AS nc%d", l.expr, i, l.expr, i, l.expr, i))
	}
	got := Duck(t, "SELECT count(*) AS n, "+strings.Join(sel, ", ")+" FROM read_parquet("+Quote(path)+")")
	row := got[0]
	if row["n"].(json.Number).String() != strconv.FormatInt(st.NumRecords, 10) {
		t.Errorf("numRecords %d, DuckDB counts %v", st.NumRecords, row["n"])
	}
	lookup := func(m map[string]any, keys []string) (any, bool) {
		var v any = m
		for _, k := range keys {
			mm, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = mm[k]; !ok {
				return nil, false
			}
		}
		return v, true
	}
	for i, l := range leaves {
		name := strings.Join(l.key, ".")
		nc, ok := lookup(st.NullCount, l.key)
		if !ok || fmt.Sprint(nc) != row[fmt.Sprintf("nc%d", i)].(json.Number).String() {
			t.Errorf("%s: nullCount %v, DuckDB %v", name, nc, row[fmt.Sprintf("nc%d", i)])
		}
		dmin, dmax := row[fmt.Sprintf("mn%d", i)], row[fmt.Sprintf("mx%d", i)]
		mn, okMin := lookup(st.MinValues, l.key)
		mx, okMax := lookup(st.MaxValues, l.key)
		if dmin == nil {
			if okMin || okMax {
				t.Errorf("%s: all null, but min %v max %v", name, mn, mx)
			}
			continue
		}
		if !okMin || !okMax {
			t.Errorf("%s: no min/max, DuckDB %v %v", name, dmin, dmax)
			continue
		}
		switch l.prim {
		case schema.TypeLong:
			if fmt.Sprint(mn) != dmin.(json.Number).String() || fmt.Sprint(mx) != dmax.(json.Number).String() {
				t.Errorf("%s: min/max %v %v, DuckDB %v %v", name, mn, mx, dmin, dmax)
			}
		case schema.TypeDouble:
			fmin, _ := dmin.(json.Number).Float64()
			fmax, _ := dmax.(json.Number).Float64()
			if mn.(float64) != fmin || mx.(float64) != fmax {
				t.Errorf("%s: min/max %v %v, DuckDB %v %v", name, mn, mx, dmin, dmax)
			}
		case schema.TypeString:
			smin, smax := dmin.(string), dmax.(string)
			wantMax, _ := statsMax(smax)
			if mn.(string) != statsMin(smin) || mx.(string) != wantMax {
				t.Errorf("%s: min/max %q %q, DuckDB %q %q", name, mn, mx, smin, smax)
			}
			if mx.(string) < smax || mn.(string) > smin {
				t.Errorf("%s: bounds %q %q do not cover DuckDB's %q %q", name, mn, mx, smin, smax)
			}
		}
	}
}

// WriteFile writes rows to a new file in dir and returns its path and stats.
func WriteFile(tb testing.TB, dir string, s schema.StructType, o datafile.Config, rows []map[string]any) (string, *datafile.Stats) {
	tb.Helper()
	path := filepath.Join(dir, fmt.Sprintf("part-%d.parquet", time.Now().UnixNano()))
	fh, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer fh.Close()
	w, err := datafile.NewWriter(fh, s, o)
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

// statsStringPrefix is how many characters of a string a Delta stats bound
// keeps (Spark's delta.dataSkippingStringPrefixLength default).
const statsStringPrefix = 32

// statsMin is the stats minimum Spark writes for a column whose least value
// is s: its first statsStringPrefix characters. Written here again, apart
// from the writer's code, so that the check does not use what it checks.
func statsMin(s string) string {
	n := 0
	for i := range s {
		if n == statsStringPrefix {
			return s[:i]
		}
		n++
	}
	return s
}

// statsMax is the stats maximum for a greatest value s: s itself when short,
// else its prefix with the last character raised by one (skipping the
// surrogates, dropping a U+10FFFF and raising the one before), so that it
// stays above every string with that prefix; ok is false when no character
// can be raised.
func statsMax(s string) (string, bool) {
	p := statsMin(s)
	if p == s {
		return s, true
	}
	r := []rune(p)
	for len(r) > 0 {
		last := r[len(r)-1]
		r = r[:len(r)-1]
		if last == utf8.MaxRune {
			continue
		}
		last++
		if last >= 0xD800 && last <= 0xDFFF {
			last = 0xE000
		}
		return string(append(r, last)), true
	}
	return "", false
}

package delta

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	gschema "github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
	"github.com/gdeltflow/gdeltflow/tests/gdeltgen"

	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
)

// The round trips go through DuckDB (tests/duckdb/query.mjs), an
// independent reader: every value of every column must come back as the
// Go row had it, and the stats must match DuckDB's min, max and null count.

func TestParquetGDELTRoundTripDuckDB(t *testing.T) {
	cases := []struct {
		table   *gschema.Table
		tsv     func(testing.TB) []byte
		columns int
	}{
		{gschema.Events, pqtExportTSV, 61},
		{gschema.Mentions, pqtSmallMentionsTSV, 16},
		{gschema.GKG, pqtGKGTSV, 27},
	}
	for _, c := range cases {
		t.Run(c.table.Name, func(t *testing.T) {
			pqtDuckSetup(t)
			rows, err := pqtDecodeTSV(c.table, false, c.tsv(t))
			if err != nil {
				t.Fatal(err)
			}
			s := GDELTSchema(c.table, false)
			if len(s.Fields) != c.columns {
				t.Fatalf("%d columns, want %d", len(s.Fields), c.columns)
			}
			// Nulls in every column: a row of nils and a row with no keys.
			allNull := map[string]any{}
			for _, f := range s.Fields {
				allNull[f.Name] = nil
			}
			rows = append(rows[:len(rows)/2], append([]map[string]any{allNull, {}}, rows[len(rows)/2:]...)...)
			// Small row groups and pages: several of each per column.
			o := WriterOptions{RowGroupRows: max(len(rows)/3, 1), PageBufferSize: 16 << 10}
			path, st := pqtWriteFile(t, t.TempDir(), s, o, rows)

			got := pqtDuck(t, "SELECT * FROM read_parquet("+pqtQuote(path)+", file_row_number = true) ORDER BY file_row_number")
			if len(got) != len(rows) {
				t.Fatalf("DuckDB read %d rows, wrote %d", len(got), len(rows))
			}
			bad := 0
			for i := range rows {
				for _, f := range s.Fields {
					if err := pqtSameValue(rows[i][f.Name], got[i][f.Name]); err != nil {
						bad++
						if bad <= 10 {
							t.Errorf("row %d column %s: %v", i, f.Name, err)
						}
					}
				}
			}
			if bad > 0 {
				t.Fatalf("%d values differ", bad)
			}

			pqtCheckFile(t, path, s, int64(len(rows)), 3)
			pqtCheckStats(t, path, s, st)
			t.Logf("%d rows, %d columns, %d bytes", len(rows), len(s.Fields), pqtFileSize(t, path))
		})
	}
}

// pqtSmallMentionsTSV: gdeltgen's Small config, two windows of Mentions.
func pqtSmallMentionsTSV(tb testing.TB) []byte {
	tb.Helper()
	var out []byte
	t0 := time.Date(2023, 7, 2, 15, 30, 0, 0, time.UTC)
	if err := gdeltgen.Generate(gdeltgen.Small(t0, 2, 1), func(w gdeltgen.Window) error {
		out = append(out, w.Mentions...)
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	return out
}

func pqtFileSize(tb testing.TB, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return fi.Size()
}

// pqtSameValue compares a Go value written with what DuckDB read (JSON with
// json.Number): int64 exactly, float64 bit for bit, strings, nulls, and
// lists and structs recursively.
func pqtSameValue(want, got any) error {
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
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("want a list of %d, got %v", len(w), got)
		}
		for i := range w {
			if err := pqtSameValue(w[i], g[i]); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("want a struct, got %v", got)
		}
		for k, v := range w {
			if err := pqtSameValue(v, g[k]); err != nil {
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

// pqtCheckFile checks what DuckDB and the file's own bytes say of it:
// ZSTD for every column chunk, V1 data pages only (the page headers read
// back with parquet-go's thrift decoder), columns in schema order, the
// expected row groups; and that parquet-go opens it too.
func pqtCheckFile(t *testing.T, path string, s schema.StructType, rows int64, wantRowGroups int) {
	t.Helper()
	meta := pqtDuck(t, "SELECT row_group_id, path_in_schema, compression FROM parquet_metadata("+pqtQuote(path)+")")
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
	cols := pqtDuck(t, "SELECT name FROM parquet_schema("+pqtQuote(path)+")")
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
			off, end := md.DataPageOffset, md.DataPageOffset+md.TotalCompressedSize
			var values int64
			for off < end {
				r := bytes.NewReader(data[off:end])
				var h format.PageHeader
				if err := thrift.NewDecoder(new(thrift.CompactProtocol).NewReader(r)).Decode(&h); err != nil {
					t.Fatalf("%v: page header at %d: %v", md.PathInSchema, off, err)
				}
				if h.Type != format.DataPage {
					t.Fatalf("%v: page type %v, want DATA_PAGE (V1)", md.PathInSchema, h.Type)
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

// pqtCheckStats compares the flat leaves' stats with DuckDB's
// min, max and count(*) - count(x).
func pqtCheckStats(t *testing.T, path string, s schema.StructType, st *Stats) {
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
	got := pqtDuck(t, "SELECT count(*) AS n, "+strings.Join(sel, ", ")+" FROM read_parquet("+pqtQuote(path)+")")
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
			wantMax, _ := pqStatsTruncateMax(smax)
			if mn.(string) != pqStatsTruncateMin(smin) || mx.(string) != wantMax {
				t.Errorf("%s: min/max %q %q, DuckDB %q %q", name, mn, mx, smin, smax)
			}
			if mx.(string) < smax || mn.(string) > smin {
				t.Errorf("%s: bounds %q %q do not cover DuckDB's %q %q", name, mn, mx, smin, smax)
			}
		}
	}
}

func TestParquetNestedGKGDuckDB(t *testing.T) {
	pqtDuckSetup(t)
	rows, err := pqtDecodeTSV(gschema.GKG, true, pqtGKGTSV(t))
	if err != nil {
		t.Fatal(err)
	}
	rows = rows[:60]
	s := GDELTSchema(gschema.GKG, true)
	allNull := map[string]any{}
	for _, f := range s.Fields {
		allNull[f.Name] = nil
	}
	// Empty lists and a struct with a null member, beside real rows.
	empty := map[string]any{"gkg_record_id": "empty", "counts": []any{}, "themes": []any{},
		"v2_tone": map[string]any{"tone": 1.5, "word_count": nil}, "dates": []any{map[string]any{"resolution": int64(1)}}}
	rows = append(rows, allNull, empty)
	path, st := pqtWriteFile(t, t.TempDir(), s, WriterOptions{RowGroupRows: 25, PageBufferSize: 8 << 10}, rows)
	got := pqtDuck(t, "SELECT * FROM read_parquet("+pqtQuote(path)+", file_row_number = true) ORDER BY file_row_number")
	if len(got) != len(rows) {
		t.Fatalf("DuckDB read %d rows, wrote %d", len(got), len(rows))
	}
	bad, lists := 0, 0
	for i := range rows {
		for _, f := range s.Fields {
			if l, ok := rows[i][f.Name].([]any); ok && len(l) > 1 {
				lists++
			}
			if err := pqtSameValue(rows[i][f.Name], got[i][f.Name]); err != nil {
				bad++
				if bad <= 10 {
					t.Errorf("row %d column %s: %v", i, f.Name, err)
				}
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d values differ", bad)
	}
	if lists < 100 {
		t.Fatalf("only %d lists with several elements: the nested parse did not happen?", lists)
	}
	pqtCheckFile(t, path, s, int64(len(rows)), 3)

	// Arrays: nullCount only, as DuckDB counts null lists; the tone struct: nested stats.
	var sel []string
	var arrays []string
	for _, f := range s.Fields {
		if f.Type.Array != nil {
			arrays = append(arrays, f.Name)
			sel = append(sel, fmt.Sprintf(`count(*) - count("%s") AS "%s"`, f.Name, f.Name))
		}
	}
	sel = append(sel, "min(v2_tone.tone) AS tmin", "max(v2_tone.tone) AS tmax", "count(*) - count(v2_tone.word_count) AS wnull")
	duck := pqtDuck(t, "SELECT "+strings.Join(sel, ", ")+" FROM read_parquet("+pqtQuote(path)+")")[0]
	for _, a := range arrays {
		if fmt.Sprint(st.NullCount[a]) != duck[a].(json.Number).String() {
			t.Errorf("%s: nullCount %v, DuckDB %v", a, st.NullCount[a], duck[a])
		}
		if _, ok := st.MinValues[a]; ok {
			t.Errorf("%s: an array has minValues", a)
		}
	}
	tmin, _ := duck["tmin"].(json.Number).Float64()
	tmax, _ := duck["tmax"].(json.Number).Float64()
	tone := func(m map[string]any) any { return m["v2_tone"].(map[string]any)["tone"] }
	if tone(st.MinValues) != tmin || tone(st.MaxValues) != tmax {
		t.Errorf("v2_tone.tone min/max %v %v, DuckDB %v %v", tone(st.MinValues), tone(st.MaxValues), tmin, tmax)
	}
	if wn := st.NullCount["v2_tone"].(map[string]any)["word_count"]; fmt.Sprint(wn) != duck["wnull"].(json.Number).String() {
		t.Errorf("v2_tone.word_count nullCount %v, DuckDB %v", wn, duck["wnull"])
	}
	js, err := st.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js, `"v2_tone":{"tone":`) || !json.Valid([]byte(js)) {
		t.Errorf("stats JSON: %s", js)
	}
}

func TestParquetBadValues(t *testing.T) {
	s := schema.StructType{Fields: []schema.StructField{
		schema.NewField("id", schema.LongType, false),
		schema.NewField("score", schema.DoubleType, true),
		schema.NewField("name", schema.StringType, true),
		schema.NewField("items", schema.ArrayOf(schema.StructOf(schema.NewField("count", schema.LongType, true), schema.NewField("tag", schema.StringType, true)), true), true),
		schema.NewField("tone", schema.StructOf(schema.NewField("tone", schema.DoubleType, true)), true),
	}}
	var buf bytes.Buffer
	w, err := NewFileWriter(&buf, s, WriterOptions{RowGroupRows: 2})
	if err != nil {
		t.Fatal(err)
	}
	good := func(id int64) map[string]any {
		return map[string]any{"id": id, "score": 1.5, "name": "n" + strconv.FormatInt(id, 10),
			"items": []any{map[string]any{"count": id, "tag": "a"}, map[string]any{"count": int64(2)}},
			"tone":  map[string]any{"tone": -2.5}}
	}
	bad := []struct {
		row  map[string]any
		want string
	}{
		{map[string]any{"id": "abc"}, `column id: want long, got string "abc"`},
		{map[string]any{"id": int64(9), "score": "abc"}, `column score: want double, got string "abc"`},
		{map[string]any{"id": int64(9), "score": true}, `column score: want double, got bool true`},
		{map[string]any{"id": nil, "score": 1.0}, `column id: null in a non-nullable column`},
		{map[string]any{"score": 1.0}, `column id: null in a non-nullable column`},
		{map[string]any{"id": 1.5}, `column id: want long, got float64 1.5`},
		{map[string]any{"id": int64(9), "name": int64(5)}, `column name: want string, got int64 5`},
		{map[string]any{"id": int64(9), "items": []any{map[string]any{"count": int64(1)}, map[string]any{"count": "x"}}}, `column items[1].count: want long, got string "x"`},
		{map[string]any{"id": int64(9), "items": "notalist"}, `column items: want array, got string "notalist"`},
		{map[string]any{"id": int64(9), "tone": map[string]any{"tone": "hot"}}, `column tone.tone: want double, got string "hot"`},
		{map[string]any{"id": int64(9), "name": strings.Repeat("x", 10), "tone": 5}, `column tone: want struct, got int 5`},
	}
	var want []map[string]any
	for i, b := range bad {
		r := good(int64(i))
		if err := w.Write(r); err != nil {
			t.Fatalf("good row %d: %v", i, err)
		}
		want = append(want, r)
		err := w.Write(b.row)
		var ve *ValueError
		if err == nil || !errors.As(err, &ve) || err.Error() != b.want {
			t.Errorf("bad row %d: got error %v, want %s", i, err, b.want)
		}
	}
	last := good(99)
	last["score"], last["items"] = json.Number("3.25"), []any{}
	if err := w.Write(last); err != nil {
		t.Fatal(err)
	}
	last["score"] = 3.25
	want = append(want, last)
	st, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if st.NumRecords != int64(len(want)) || w.Rows() != int64(len(want)) {
		t.Fatalf("numRecords %d, Rows %d, want %d", st.NumRecords, w.Rows(), len(want))
	}
	if st.NullCount["id"] != int64(0) || st.MinValues["id"] != int64(0) || st.MaxValues["id"] != int64(99) {
		t.Errorf("id stats: %v %v %v", st.NullCount["id"], st.MinValues["id"], st.MaxValues["id"])
	}
	if _, err := w.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if err := w.Write(good(1)); err == nil {
		t.Fatal("Write after Close succeeded")
	}

	pqtDuckSetup(t)
	path := filepath.Join(t.TempDir(), "bad.parquet")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got := pqtDuck(t, "SELECT * FROM read_parquet("+pqtQuote(path)+", file_row_number = true) ORDER BY file_row_number")
	if len(got) != len(want) {
		t.Fatalf("DuckDB read %d rows, want the %d good ones", len(got), len(want))
	}
	for i := range want {
		for _, f := range s.Fields {
			if err := pqtSameValue(want[i][f.Name], got[i][f.Name]); err != nil {
				t.Errorf("row %d column %s: %v", i, f.Name, err)
			}
		}
	}
}

// TestParquetAllTypesDuckDB writes every Delta type from the Go values a
// caller may hold and reads them back with DuckDB.
func TestParquetAllTypesDuckDB(t *testing.T) {
	pqtDuckSetup(t)
	s := schema.StructType{Fields: []schema.StructField{
		schema.NewField("l", schema.LongType, true), schema.NewField("i", schema.IntegerType, true), schema.NewField("sh", schema.ShortType, true),
		schema.NewField("b", schema.ByteType, true), schema.NewField("d", schema.DoubleType, true), schema.NewField("f", schema.FloatType, true),
		schema.NewField("s", schema.StringType, true), schema.NewField("bo", schema.BooleanType, true), schema.NewField("dt", schema.DateType, true),
		schema.NewField("ts", schema.TimestampType, true), schema.NewField("tn", schema.TimestampNTZType, true), schema.NewField("bin", schema.BinaryType, true),
		schema.NewField("d1", schema.DecimalType(5, 2), true), schema.NewField("d2", schema.DecimalType(15, 3), true), schema.NewField("d3", schema.DecimalType(25, 4), true),
		schema.NewField("arr", schema.ArrayOf(schema.StringType, true), true), schema.NewField("m", schema.MapOf(schema.StringType, schema.LongType, true), true),
		schema.NewField("req", schema.StringType, false),
	}}
	ts := time.Date(2023, 7, 2, 15, 30, 45, 123456000, time.UTC)
	rows := []map[string]any{
		{"l": int64(-5), "i": 7, "sh": int16(-300), "b": json.Number("12"), "d": -0.5, "f": float32(1.25),
			"s": "héllo", "bo": true, "dt": "2023-07-02", "ts": ts, "tn": "2023-07-02T15:30:45.5",
			"bin": []byte{0, 1, 2}, "d1": json.Number("-123.45"), "d2": "1234567890.125", "d3": json.Number("-123456789012345678901.2345"),
			"arr": []any{"a", nil, "c"}, "m": map[string]any{"x": int64(1), "y": nil}, "req": ""},
		{"l": nil, "i": int64(-2147483648), "sh": 32767, "b": -128, "d": 1e300, "f": 3.5,
			"s": "", "bo": false, "dt": time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC), "ts": ts.Add(-time.Hour).Format(time.RFC3339Nano),
			"tn": ts, "bin": "raw", "d1": 1.5, "d2": int64(-7), "d3": "0.0001", "arr": []string{}, "m": map[string]any{}, "req": "x"},
		{"req": "nulls"},
	}
	path, st := pqtWriteFile(t, t.TempDir(), s, WriterOptions{}, rows)
	got := pqtDuck(t, `SELECT l, i, sh, b, d, f, s, bo, CAST(dt AS VARCHAR) AS dt, epoch_us(ts) AS ts,
		epoch_us(tn) AS tn, CAST(bin AS VARCHAR) AS bin, CAST(d1 AS VARCHAR) AS d1, CAST(d2 AS VARCHAR) AS d2,
		CAST(d3 AS VARCHAR) AS d3, arr, CAST(m AS VARCHAR) AS m, req, typeof(ts) AS tts, typeof(tn) AS ttn,
		typeof(d3) AS td3, typeof(sh) AS tsh, typeof(b) AS tb
		FROM read_parquet(`+pqtQuote(path)+`, file_row_number = true) ORDER BY file_row_number`)
	want := []string{
		`{"arr":["a",null,"c"],"b":12,"bin":"\\x00\\x01\\x02","bo":true,"d":-0.5,"d1":"-123.45","d2":"1234567890.125","d3":"-123456789012345678901.2345","dt":"2023-07-02","f":1.25,"i":7,"l":-5,"m":"{x=1, y=NULL}","req":"","s":"héllo","sh":-300,"tb":"TINYINT","td3":"DECIMAL(25,4)","tn":1688311845500000,"ts":1688311845123456,"tsh":"SMALLINT","ttn":"TIMESTAMP","tts":"TIMESTAMP WITH TIME ZONE"}`,
		`{"arr":[],"b":-128,"bin":"raw","bo":false,"d":1e+300,"d1":"1.50","d2":"-7.000","d3":"0.0001","dt":"1969-12-31","f":3.5,"i":-2147483648,"l":null,"m":"{}","req":"x","s":"","sh":32767,"tb":"TINYINT","td3":"DECIMAL(25,4)","tn":1688311845123456,"ts":1688308245123456,"tsh":"SMALLINT","ttn":"TIMESTAMP","tts":"TIMESTAMP WITH TIME ZONE"}`,
		`{"arr":null,"b":null,"bin":null,"bo":null,"d":null,"d1":null,"d2":null,"d3":null,"dt":null,"f":null,"i":null,"l":null,"m":null,"req":"nulls","s":null,"sh":null,"tb":"TINYINT","td3":"DECIMAL(25,4)","tn":null,"ts":null,"tsh":"SMALLINT","ttn":"TIMESTAMP","tts":"TIMESTAMP WITH TIME ZONE"}`,
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		b, _ := json.Marshal(got[i])
		if string(b) != want[i] {
			t.Errorf("row %d:\n got %s\nwant %s", i, b, want[i])
		}
	}
	js, err := st.JSON()
	if err != nil {
		t.Fatal(err)
	}
	wantStats := `{"numRecords":3,` +
		`"minValues":{"l":-5,"i":-2147483648,"sh":-300,"b":-128,"d":-0.5,"f":1.25,"s":"","dt":"1969-12-31","ts":"2023-07-02T14:30:45.123Z","tn":"2023-07-02T15:30:45.123","d1":-123.45,"d2":-7.000,"d3":-123456789012345678901.2345,"req":""},` +
		`"maxValues":{"l":-5,"i":7,"sh":32767,"b":12,"d":1e+300,"f":3.5,"s":"héllo","dt":"2023-07-02","ts":"2023-07-02T15:30:45.123Z","tn":"2023-07-02T15:30:45.500","d1":1.50,"d2":1234567890.125,"d3":0.0001,"req":"x"},` +
		`"nullCount":{"l":2,"i":1,"sh":1,"b":1,"d":1,"f":1,"s":1,"bo":1,"dt":1,"ts":1,"tn":1,"bin":1,"d1":1,"d2":1,"d3":1,"arr":1,"m":1,"req":0}}`
	if js != wantStats {
		t.Errorf("stats:\n got %s\nwant %s", js, wantStats)
	}
}

// TestStatsMatchSparkGolden writes the row of the golden table
// data-skipping-basic-stats-all-types and compares our stats with the ones
// Spark wrote for it (numbers by value, timestamps by instant).
func TestStatsMatchSparkGolden(t *testing.T) {
	dir := filepath.Join(pqtGoldenDir(t), "data-skipping-basic-stats-all-types")
	data, err := os.ReadFile(filepath.Join(dir, "_delta_log", "00000000000000000000.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schemaString, golden string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var a struct {
			MetaData *struct{ SchemaString string } `json:"metaData"`
			Add      *struct{ Stats string }        `json:"add"`
		}
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatal(err)
		}
		if a.MetaData != nil {
			schemaString = a.MetaData.SchemaString
		}
		if a.Add != nil && strings.Contains(a.Add.Stats, `"numRecords":1`) {
			golden = a.Add.Stats
		}
	}
	s, err := schema.Parse(schemaString)
	if err != nil || golden == "" {
		t.Fatalf("golden: %v %q", err, golden)
	}
	row := map[string]any{"as_int": 0, "as_long": int64(0), "as_byte": 0, "as_short": 0, "as_float": 0.0,
		"as_double": 0.0, "as_string": "0", "as_date": "2000-01-01",
		"as_timestamp": time.Date(2000, 1, 1, 0, 0, 0, 0, time.FixedZone("PST", -8*3600)), "as_big_decimal": json.Number("0")}
	var buf bytes.Buffer
	w, err := NewFileWriter(&buf, s, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(row); err != nil {
		t.Fatal(err)
	}
	st, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	ours, err := st.JSON()
	if err != nil {
		t.Fatal(err)
	}
	parse := func(js string) map[string]any {
		dec := json.NewDecoder(strings.NewReader(js))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	g, o := parse(golden), parse(ours)
	if fmt.Sprint(g["numRecords"]) != fmt.Sprint(o["numRecords"]) {
		t.Errorf("numRecords %v, Spark %v", o["numRecords"], g["numRecords"])
	}
	for _, part := range []string{"minValues", "maxValues", "nullCount"} {
		gm, om := g[part].(map[string]any), o[part].(map[string]any)
		if len(gm) != len(om) {
			t.Errorf("%s: %d keys, Spark %d: %v vs %v", part, len(om), len(gm), om, gm)
		}
		for k, gv := range gm {
			ov := om[k]
			same := fmt.Sprint(gv) == fmt.Sprint(ov)
			if gn, ok := gv.(json.Number); ok {
				on, _ := ov.(json.Number)
				gf, _ := gn.Float64()
				of, err := on.Float64()
				same = err == nil && gf == of
			} else if gs, ok := gv.(string); ok && k == "as_timestamp" {
				gt, err1 := time.Parse("2006-01-02T15:04:05.000Z07:00", gs)
				ot, err2 := time.Parse("2006-01-02T15:04:05.000Z07:00", fmt.Sprint(ov))
				same = err1 == nil && err2 == nil && gt.Equal(ot)
			}
			if !same {
				t.Errorf("%s.%s: ours %v, Spark %v", part, k, ov, gv)
			}
		}
	}
	t.Logf("ours:  %s", ours)
	t.Logf("Spark: %s", golden)
}

func TestParquetEmptyFile(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewFileWriter(&buf, GDELTSchema(gschema.Mentions, false), WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	js, _ := st.JSON()
	want := `{"numRecords":0,"minValues":{},"maxValues":{},"nullCount":{` // then 0 per column
	if !strings.HasPrefix(js, want) {
		t.Errorf("stats %s", js)
	}
	fh, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if fh.NumRows() != 0 || len(fh.Schema().Fields()) != 16 {
		t.Errorf("rows %d, columns %d", fh.NumRows(), len(fh.Schema().Fields()))
	}
}

func TestStatsTruncation(t *testing.T) {
	long := strings.Repeat("a", 31) + "bcdef"
	if got := pqStatsTruncateMin(long); got != strings.Repeat("a", 31)+"b" {
		t.Errorf("min %q", got)
	}
	if got, ok := pqStatsTruncateMax(long); !ok || got != strings.Repeat("a", 31)+"c" {
		t.Errorf("max %q %v", got, ok)
	}
	// Characters, not bytes; a bumped max stays above every value with the prefix.
	multi := strings.Repeat("é", 40)
	if got := pqStatsTruncateMin(multi); got != strings.Repeat("é", 32) {
		t.Errorf("min %q", got)
	}
	mx, ok := pqStatsTruncateMax(multi)
	if !ok || mx != strings.Repeat("é", 31)+"ê" || mx <= multi {
		t.Errorf("max %q %v", mx, ok)
	}
	edge := strings.Repeat("a", 31) + "\U0010FFFF" + "zz"
	if mx, ok := pqStatsTruncateMax(edge); !ok || mx != strings.Repeat("a", 30)+"b" || mx <= edge {
		t.Errorf("max %q %v", mx, ok)
	}
	if _, ok := pqStatsTruncateMax(strings.Repeat("\U0010FFFF", 40)); ok {
		t.Error("a max of only U+10FFFF has no bound")
	}
	if mx, ok := pqStatsTruncateMax(strings.Repeat("a", 31) + "\uD7FFxyz"); !ok || mx != strings.Repeat("a", 31)+"\uE000" {
		t.Errorf("surrogates skipped: %q", mx)
	}
	short := "short"
	if mx, ok := pqStatsTruncateMax(short); !ok || mx != short || pqStatsTruncateMin(short) != short {
		t.Error("short strings are kept")
	}
}

func TestStatsJSONOrder(t *testing.T) {
	s := schema.StructType{Fields: []schema.StructField{schema.NewField("z", schema.LongType, true), schema.NewField("a", schema.StructOf(schema.NewField("y", schema.StringType, true), schema.NewField("b", schema.DoubleType, true)), true)}}
	st := &Stats{NumRecords: 2, MinValues: map[string]any{"a": map[string]any{"b": 1.5, "y": "<&>"}, "z": int64(1)},
		MaxValues: map[string]any{"z": int64(3), "extra": int64(1)}, NullCount: map[string]any{}, schema: &s}
	js, err := st.JSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"numRecords":2,"minValues":{"z":1,"a":{"y":"<&>","b":1.5}},"maxValues":{"z":3,"extra":1},"nullCount":{}}`
	if js != want {
		t.Errorf("got  %s\nwant %s", js, want)
	}
	// Without a schema: sorted keys.
	st.schema = nil
	js, _ = st.JSON()
	if want := `{"numRecords":2,"minValues":{"a":{"b":1.5,"y":"<&>"},"z":1},"maxValues":{"extra":1,"z":3},"nullCount":{}}`; js != want {
		t.Errorf("got  %s\nwant %s", js, want)
	}
}

// TestParquetMemoryBounded writes 10x more rows with the same RowGroupBytes
// and checks the writer's memory does not grow with them: it holds one row
// group at most. The live heap is measured after a GC at regular points
// (peak heap in use and allocations are logged too), in a child process so
// that nothing else running in the test binary counts.
func TestParquetMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	if os.Getenv("PQ_MEMORY_CHILD") == "1" {
		t.Skip("in the child")
	}
	pqtGDELTDataDir(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestParquetMemoryChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "PQ_MEMORY_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var small, big pqtMemResult
	for _, line := range strings.Split(string(out), "\n") {
		if _, j, ok := strings.Cut(line, "MEMRESULT "); ok {
			var r pqtMemResult
			if err := json.Unmarshal([]byte(j), &r); err != nil {
				t.Fatal(err)
			}
			if r.Rows == 20000 {
				small = r
			} else {
				big = r
			}
		}
	}
	if small.Rows == 0 || big.Rows == 0 {
		t.Fatalf("child output:\n%s", out)
	}
	for _, r := range []pqtMemResult{small, big} {
		t.Logf("%d rows: peak live heap %.1f MiB (%.1f MiB before), peak heap in use +%.1f MiB, %.1f MiB allocated, %d row groups, at most %d bytes buffered",
			r.Rows, float64(r.Live)/(1<<20), float64(r.Base)/(1<<20), float64(r.Inuse)/(1<<20), float64(r.Alloc)/(1<<20), r.Groups, r.Buffered)
	}
	if big.Groups < 5*small.Groups {
		t.Errorf("row groups: %d then %d: RowGroupBytes did not cut them", small.Groups, big.Groups)
	}
	// What may grow: the footer's metadata (~45 KB a row group here: 4 MiB
	// over 90), and pooled zstd encoders come and go with the forced GCs (a
	// few MiB). Holding the rows would take the 90 row groups' ~90 MiB.
	compressed := uint64(big.Groups) * pqtMemGroupBytes
	if big.Live > small.Live+compressed/6 {
		t.Errorf("peak live heap grew from %d to %d bytes with 10x the rows (their row groups: %d bytes)", small.Live, big.Live, compressed)
	}
}

type pqtMemResult struct {
	Rows, Groups int
	// Live is the peak heap after a GC while writing, Base the heap after a
	// GC before (the decoded rows, pooled buffers): both absolute.
	Live, Base, Inuse, Alloc uint64
	Buffered                 int64
}

const pqtMemGroupBytes, pqtMemPageBytes = 1 << 20, 64 << 10

// TestParquetMemoryChild is TestParquetMemoryBounded's measurement.
func TestParquetMemoryChild(t *testing.T) {
	if os.Getenv("PQ_MEMORY_CHILD") != "1" {
		t.Skip("run by TestParquetMemoryBounded")
	}
	rows, err := pqtDecodeTSV(gschema.Events, false, pqtExportTSV(t))
	if err != nil {
		t.Fatal(err)
	}
	s := GDELTSchema(gschema.Events, false)
	measure := func(n int) pqtMemResult {
		runtime.GC()
		ms0 := pqtMemStats()
		r := pqtMemResult{Rows: n}
		w, err := NewFileWriter(&pqCountingWriter{w: io.Discard}, s, WriterOptions{RowGroupBytes: pqtMemGroupBytes, PageBufferSize: pqtMemPageBytes})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			if err := w.Write(rows[i%len(rows)]); err != nil {
				t.Fatal(err)
			}
			if i%1000 == 999 {
				r.Buffered = max(r.Buffered, w.BufferedBytes())
				ms := pqtMemStats()
				r.Inuse = max(r.Inuse, ms.HeapInuse-min(ms.HeapInuse, ms0.HeapInuse))
			}
			if i%5000 == 4999 {
				runtime.GC()
				r.Live = max(r.Live, pqtMemStats().HeapAlloc)
			}
		}
		if _, err := w.Close(); err != nil {
			t.Fatal(err)
		}
		// One row group of compressed pages, plus one page per column being filled.
		if r.Buffered > pqtMemGroupBytes+int64(len(s.Fields))*(pqtMemPageBytes+16<<10) {
			t.Errorf("%d rows: %d bytes buffered, RowGroupBytes is %d", n, r.Buffered, pqtMemGroupBytes)
		}
		r.Alloc = pqtMemStats().TotalAlloc - ms0.TotalAlloc
		r.Groups = len(w.Metadata().RowGroups)
		r.Base = ms0.HeapAlloc
		return r
	}
	measure(5000) // warm up: pooled buffers and encoders, lazily built parquet-go types
	for _, n := range []int{20000, 200000} {
		j, _ := json.Marshal(measure(n))
		fmt.Printf("MEMRESULT %s\n", j)
	}
}

// TestParquetRowGroupRows: row groups hold exactly RowGroupRows rows.
func TestParquetRowGroupRows(t *testing.T) {
	s := schema.StructType{Fields: []schema.StructField{schema.NewField("x", schema.LongType, true)}}
	w, err := NewFileWriter(io.Discard, s, WriterOptions{RowGroupRows: 100})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1050; i++ {
		if err := w.Write(map[string]any{"x": int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	st, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int64
	for _, rg := range w.Metadata().RowGroups {
		sizes = append(sizes, rg.NumRows)
	}
	if len(sizes) != 11 || sizes[0] != 100 || sizes[10] != 50 {
		t.Errorf("row groups %v", sizes)
	}
	if st.MinValues["x"] != int64(0) || st.MaxValues["x"] != int64(1049) || st.NumRecords != 1050 {
		t.Errorf("stats %v %v %v", st.NumRecords, st.MinValues, st.MaxValues)
	}
}

func TestParquetOptions(t *testing.T) {
	s := schema.StructType{Fields: []schema.StructField{schema.NewField("x", schema.StringType, true)}}
	for _, c := range []string{"zstd", "snappy", "gzip", "uncompressed", ""} {
		var buf bytes.Buffer
		w, err := NewFileWriter(&buf, s, WriterOptions{Compression: c})
		if err != nil {
			t.Fatal(c, err)
		}
		if err := w.Write(map[string]any{"x": "hello"}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Close(); err != nil {
			t.Fatal(err)
		}
		fh, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(c, err)
		}
		r := parquet.NewReader(fh)
		out := make([]parquet.Row, 1)
		if n, _ := r.ReadRows(out); n != 1 || out[0][0].String() != "hello" {
			t.Errorf("%s: read %d rows %v", c, n, out)
		}
		codec := fh.Metadata().RowGroups[0].Columns[0].MetaData.Codec
		want := map[string]format.CompressionCodec{"": format.Zstd, "zstd": format.Zstd, "snappy": format.Snappy, "gzip": format.Gzip, "uncompressed": format.Uncompressed}[c]
		if codec != want {
			t.Errorf("%s: codec %v", c, codec)
		}
	}
	if _, err := NewFileWriter(io.Discard, s, WriterOptions{Compression: "lzo"}); err == nil {
		t.Error("lzo accepted")
	}
	if _, err := NewFileWriter(io.Discard, schema.StructType{}, WriterOptions{}); err == nil {
		t.Error("empty schema accepted")
	}
	if _, err := NewFileWriter(io.Discard, schema.StructType{Fields: []schema.StructField{schema.NewField("x", schema.DataType{Primitive: "void"}, true)}}, WriterOptions{}); err == nil {
		t.Error("void accepted")
	}
}

func pqtMemStats() runtime.MemStats {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms
}

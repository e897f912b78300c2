package datafile_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/delta/datafile"
	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
	"github.com/gdeltflow/gdeltflow/plugins/internal/deltatest"
)

// readAll reads every row of the file at path with schema s.
func readAll(t *testing.T, path string, s schema.StructType) []map[string]any {
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
	defer r.Close()
	var rows []map[string]any
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("row %d: %v", len(rows), err)
		}
		rows = append(rows, row)
	}
	if int64(len(rows)) != r.NumRows() {
		t.Fatalf("read %d rows, the footer says %d", len(rows), r.NumRows())
	}
	return rows
}

// everyType has a column of each type Writer writes, nested ones among them.
var everyType = schema.StructType{Fields: []schema.StructField{
	schema.NewField("l", schema.LongType, true), schema.NewField("i", schema.IntegerType, true), schema.NewField("sh", schema.ShortType, true),
	schema.NewField("b", schema.ByteType, true), schema.NewField("d", schema.DoubleType, true), schema.NewField("f", schema.FloatType, true),
	schema.NewField("s", schema.StringType, true), schema.NewField("bo", schema.BooleanType, true), schema.NewField("dt", schema.DateType, true),
	schema.NewField("ts", schema.TimestampType, true), schema.NewField("tn", schema.TimestampNTZType, true), schema.NewField("bin", schema.BinaryType, true),
	schema.NewField("d1", schema.DecimalType(5, 2), true), schema.NewField("d2", schema.DecimalType(15, 3), true), schema.NewField("d3", schema.DecimalType(25, 4), true),
	schema.NewField("arr", schema.ArrayOf(schema.StringType, true), true),
	schema.NewField("m", schema.MapOf(schema.StringType, schema.LongType, true), true),
	schema.NewField("mi", schema.MapOf(schema.LongType, schema.StringType, true), true),
	schema.NewField("items", schema.ArrayOf(schema.StructOf(schema.NewField("n", schema.LongType, true),
		schema.NewField("tags", schema.ArrayOf(schema.StringType, false), true)), true), true),
	schema.NewField("tone", schema.StructOf(schema.NewField("tone", schema.DoubleType, true), schema.NewField("words", schema.LongType, false)), true),
	schema.NewField("req", schema.StringType, false),
}}

// TestReaderRoundTrip writes a row of every type, nulls at every level and
// empty lists and maps, over several row groups and pages, and reads back
// the values typed per the schema: the Go types the doc promises, equal to
// what was written.
func TestReaderRoundTrip(t *testing.T) {
	ts := time.Date(2023, 7, 2, 15, 30, 45, 123456000, time.UTC)
	day := time.Date(2023, 7, 2, 0, 0, 0, 0, time.UTC)
	full := map[string]any{
		"l": int64(-5), "i": int32(7), "sh": int16(-300), "b": int8(12), "d": -0.5, "f": float32(1.25),
		"s": "héllo", "bo": true, "dt": day, "ts": ts, "tn": ts.Add(time.Hour), "bin": []byte{0, 1, 2},
		"d1": json.Number("-123.45"), "d2": json.Number("1234567890.125"), "d3": json.Number("-123456789012345678901.2345"),
		"arr": []any{"a", nil, "c"}, "m": map[string]any{"x": int64(1), "y": nil}, "mi": map[any]any{int64(3): "three", int64(-1): nil},
		"items": []any{map[string]any{"n": int64(1), "tags": []any{"p", "q"}}, nil, map[string]any{"n": nil, "tags": []any{}},
			map[string]any{"n": int64(4), "tags": nil}},
		"tone": map[string]any{"tone": math.Inf(-1), "words": int64(250)}, "req": "",
	}
	empty := map[string]any{"arr": []any{}, "m": map[string]any{}, "mi": map[any]any{}, "items": []any{},
		"tone": map[string]any{"tone": nil, "words": int64(0)}, "req": "empties", "d1": json.Number("0.00"), "dt": time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC)}
	var rows []map[string]any
	for i := 0; i < 300; i++ {
		switch i % 3 {
		case 0:
			r := map[string]any{}
			for k, v := range full {
				r[k] = v
			}
			r["l"] = int64(i)
			rows = append(rows, r)
		case 1:
			rows = append(rows, empty)
		default:
			rows = append(rows, map[string]any{"req": fmt.Sprint("nulls ", i)})
		}
	}
	path, _ := deltatest.WriteFile(t, t.TempDir(), everyType, datafile.Config{RowGroupRows: 70, PageBufferSize: 1 << 10}, rows)
	got := readAll(t, path, everyType)
	if len(got) != len(rows) {
		t.Fatalf("%d rows, want %d", len(got), len(rows))
	}
	for i := range rows {
		for _, f := range everyType.Fields {
			want := rows[i][f.Name]
			if !reflect.DeepEqual(got[i][f.Name], want) {
				t.Errorf("row %d column %s: got %#v, want %#v", i, f.Name, got[i][f.Name], want)
			}
		}
		if len(got[i]) != len(everyType.Fields) {
			t.Errorf("row %d: %d columns, want every one of the schema's %d", i, len(got[i]), len(everyType.Fields))
		}
	}
	// What was read writes again as it was (the row is a Writer row).
	path2, _ := deltatest.WriteFile(t, t.TempDir(), everyType, datafile.Config{}, got)
	if again := readAll(t, path2, everyType); !reflect.DeepEqual(again, got) {
		t.Error("a row read, written and read again differs")
	}
}

// TestReaderSchemaNotFile: columns are found by name. A column of the schema
// that the file lacks (a partition column: its value is in the add action)
// reads as null; a file column the schema does not name is skipped, nested
// ones too. A column of another type fails at NewReader, naming it.
func TestReaderSchemaNotFile(t *testing.T) {
	written := schema.StructType{Fields: []schema.StructField{
		schema.NewField("id", schema.LongType, false), schema.NewField("name", schema.StringType, true),
		schema.NewField("tone", schema.StructOf(schema.NewField("tone", schema.DoubleType, true), schema.NewField("words", schema.LongType, true)), true),
	}}
	rows := []map[string]any{{"id": int64(1), "name": "a", "tone": map[string]any{"tone": 1.5, "words": int64(3)}}, {"id": int64(2)}}
	path, _ := deltatest.WriteFile(t, t.TempDir(), written, datafile.Config{}, rows)
	table := schema.StructType{Fields: []schema.StructField{
		schema.NewField("day", schema.DateType, true), // the partition column
		schema.NewField("tone", schema.StructOf(schema.NewField("words", schema.LongType, true), schema.NewField("added", schema.StringType, true)), true),
		schema.NewField("id", schema.LongType, false),
	}}
	got := readAll(t, path, table)
	want := []map[string]any{
		{"day": nil, "tone": map[string]any{"words": int64(3), "added": nil}, "id": int64(1)},
		{"day": nil, "tone": nil, "id": int64(2)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	fh, _ := os.Open(path)
	defer fh.Close()
	fi, _ := fh.Stat()
	for _, bad := range []struct {
		s    schema.StructType
		want string
	}{
		{schema.StructType{Fields: []schema.StructField{schema.NewField("name", schema.LongType, true)}}, "column name: the schema says long, the file has BYTE_ARRAY (STRING)"},
		{schema.StructType{Fields: []schema.StructField{schema.NewField("id", schema.ArrayOf(schema.LongType, true), true)}}, "column id: the schema says array<long>, the file's column is not a list"},
		{schema.StructType{Fields: []schema.StructField{schema.NewField("tone", schema.StringType, true)}}, "column tone: the schema says string, the file has a group"},
	} {
		if _, err := datafile.NewReader(fh, fi.Size(), bad.s); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("NewReader: %v, want %q", err, bad.want)
		}
	}
	if _, err := datafile.NewReader(strings.NewReader("not parquet"), 11, written); err == nil {
		t.Error("a file that is not Parquet opened")
	}
}

// TestReaderDuckDBFile reads a file DuckDB wrote (its own encodings:
// dictionaries, its list and map layout, its physical types) and compares
// every value with what DuckDB itself reads from that file.
func TestReaderDuckDBFile(t *testing.T) {
	deltatest.RequireDuck(t)
	path := filepath.Join(t.TempDir(), "duck.parquet")
	deltatest.Duck(t, `COPY (
  SELECT * FROM (VALUES
    (-5::BIGINT, 7::INTEGER, -300::SMALLINT, 12::TINYINT, -0.5::DOUBLE, 1.25::FLOAT, 'héllo', true, DATE '2023-07-02',
     TIMESTAMPTZ '2023-07-02 15:30:45.123456+00', TIMESTAMP '2023-07-02 16:30:45.5', '\x00\x01'::BLOB,
     -123.45::DECIMAL(5,2), 1234567890.125::DECIMAL(15,3), -123456789012345678901.2345::DECIMAL(25,4),
     ['a', NULL, 'c'], MAP {'x': 1::BIGINT, 'y': NULL}, [{'n': 1::BIGINT, 'tags': ['p', 'q']}, NULL, {'n': NULL, 'tags': []}],
     {'tone': 2.5::DOUBLE, 'words': 250::BIGINT}, 'full'),
    (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     [], MAP {}, [], {'tone': NULL, 'words': 0::BIGINT}, 'empties'),
    (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, 'nulls')
  ) AS t(l, i, sh, b, d, f, s, bo, dt, ts, tn, bin, d1, d2, d3, arr, m, items, tone, req)
  , range(50)
) TO `+deltatest.Quote(path)+` (FORMAT parquet, ROW_GROUP_SIZE 40)`)
	s := schema.StructType{Fields: []schema.StructField{}}
	for _, f := range everyType.Fields {
		if f.Name != "mi" {
			s.Fields = append(s.Fields, f)
		}
	}
	s.Fields = append(s.Fields, schema.NewField("range", schema.LongType, true))
	got := readAll(t, path, s)
	duck := deltatest.Duck(t, `SELECT l, i, sh, b, d, f, s, bo, CAST(dt AS VARCHAR) AS dt, epoch_us(ts) AS ts, epoch_us(tn) AS tn,
		CAST(bin AS VARCHAR) AS bin, CAST(d1 AS VARCHAR) AS d1, CAST(d2 AS VARCHAR) AS d2, CAST(d3 AS VARCHAR) AS d3,
		arr, CAST(m AS VARCHAR) AS m, items, tone, req, "range"
		FROM read_parquet(`+deltatest.Quote(path)+`, file_row_number = true) ORDER BY file_row_number`)
	if len(got) != len(duck) || len(got) != 150 {
		t.Fatalf("read %d rows, DuckDB %d, want 150", len(got), len(duck))
	}
	for i := range got {
		for _, f := range s.Fields {
			ours := comparable(got[i][f.Name])
			if f.Name == "m" && ours != nil {
				ours = duckMap(got[i][f.Name].(map[string]any))
			}
			if err := deltatest.SameValue(ours, duck[i][f.Name]); err != nil {
				t.Errorf("row %d column %s: ours %#v, DuckDB %v: %v", i, f.Name, got[i][f.Name], duck[i][f.Name], err)
			}
		}
	}
}

// comparable turns a value read into what the DuckDB query above returns for
// it: times as epoch microseconds, dates, decimals and bytes as strings,
// narrow numbers widened, recursively.
func comparable(v any) any {
	switch x := v.(type) {
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case int8:
		return int64(x)
	case float32:
		return float64(x)
	case json.Number:
		return x.String()
	case []byte:
		var b strings.Builder
		for _, c := range x {
			fmt.Fprintf(&b, `\x%02X`, c)
		}
		return b.String()
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 {
			return x.Format(time.DateOnly)
		}
		return x.UnixMicro()
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = comparable(x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = comparable(e)
		}
		return out
	}
	return v
}

// duckMap is DuckDB's text of a map: {x=1, y=NULL}, keys sorted.
func duckMap(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		v := "NULL"
		if m[k] != nil {
			v = fmt.Sprint(m[k])
		}
		parts[i] = k + "=" + v
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// TestReaderMemoryBounded reads a file of many row groups, 24 MB of
// incompressible text, from disk: the live heap grows by about a row group
// (1 MiB here), not by the file (the reader holds one row group's column
// readers and a few rows).
func TestReaderMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("memory measurement")
	}
	s := schema.StructType{Fields: []schema.StructField{schema.NewField("id", schema.LongType, false), schema.NewField("text", schema.StringType, true)}}
	const rows, rowGroup = 24 << 10, 1 << 20
	path := filepath.Join(t.TempDir(), "big.parquet")
	size, groups := writeText(t, path, s, rows, rowGroup)

	// The live heap after a collection, at regular points: garbage does not
	// count (nor the writer's pooled encoders: two collections free them).
	live := func() int64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc)
	}
	base, peak := live(), int64(0)
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	r, err := datafile.NewReader(in, size, s)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if row["id"] != int64(n) || len(row["text"].(string)) != 1024 {
			t.Fatalf("row %d: id %v", n, row["id"])
		}
		n++
		if n%1000 == 0 {
			peak = max(peak, live())
		}
	}
	if n != rows {
		t.Fatalf("read %d rows, wrote %d", n, rows)
	}
	grew := peak - base
	t.Logf("%d bytes in %d row groups; the live heap grew by %d bytes at most while reading", size, groups, grew)
	if groups < 10 || grew > 4*rowGroup {
		t.Errorf("the heap grew by %d bytes reading a file of %d bytes in %d row groups: the reader holds more than a row group", grew, size, groups)
	}
}

// writeText writes rows of an id and 1 KiB of random letters to path, in
// row groups of about rowGroup bytes, and returns the file's size and its
// number of row groups.
func writeText(t *testing.T, path string, s schema.StructType, rows int, rowGroup int64) (int64, int) {
	t.Helper()
	rnd := rand.New(rand.NewSource(1))
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	w, err := datafile.NewWriter(fh, s, datafile.Config{RowGroupBytes: rowGroup})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1024)
	for i := 0; i < rows; i++ {
		for j := range buf {
			buf[j] = 'a' + byte(rnd.Intn(26))
		}
		if err := w.Write(map[string]any{"id": int64(i), "text": string(buf)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.BytesWritten(), len(w.Metadata().RowGroups)
}

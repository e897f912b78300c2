package datafile_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/gdeltflow/gdeltflow/plugins/delta/datafile"
	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
	"github.com/gdeltflow/gdeltflow/plugins/internal/deltatest"
)

// The round trips go through DuckDB (tests/duckdb/query.mjs), an
// independent reader: every value of every column must come back as the
// Go row had it, and the stats must match DuckDB's min, max and null count.
// The GDELT tables' round trips are in plugins/deltalake, beside their schemas.

// sixteenColumns is a flat schema of sixteen nullable columns of the types
// the decoder emits (the width of GDELT Mentions).
var sixteenColumns = func() schema.StructType {
	var s schema.StructType
	for i, t := range []schema.DataType{schema.LongType, schema.DoubleType, schema.StringType, schema.StringType} {
		for j := 0; j < 4; j++ {
			s.Fields = append(s.Fields, schema.NewField(fmt.Sprintf("c%d_%d", i, j), t, true))
		}
	}
	return s
}()

func TestParquetBadValues(t *testing.T) {
	s := schema.StructType{Fields: []schema.StructField{
		schema.NewField("id", schema.LongType, false),
		schema.NewField("score", schema.DoubleType, true),
		schema.NewField("name", schema.StringType, true),
		schema.NewField("items", schema.ArrayOf(schema.StructOf(schema.NewField("count", schema.LongType, true), schema.NewField("tag", schema.StringType, true)), true), true),
		schema.NewField("tone", schema.StructOf(schema.NewField("tone", schema.DoubleType, true)), true),
	}}
	var buf bytes.Buffer
	w, err := datafile.NewWriter(&buf, s, datafile.Config{RowGroupRows: 2})
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
		var ve *datafile.ValueError
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

	deltatest.RequireDuck(t)
	path := filepath.Join(t.TempDir(), "bad.parquet")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got := deltatest.Duck(t, "SELECT * FROM read_parquet("+deltatest.Quote(path)+", file_row_number = true) ORDER BY file_row_number")
	if len(got) != len(want) {
		t.Fatalf("DuckDB read %d rows, want the %d good ones", len(got), len(want))
	}
	for i := range want {
		for _, f := range s.Fields {
			if err := deltatest.SameValue(want[i][f.Name], got[i][f.Name]); err != nil {
				t.Errorf("row %d column %s: %v", i, f.Name, err)
			}
		}
	}
}

// TestParquetAllTypesDuckDB writes every Delta type from the Go values a
// caller may hold and reads them back with DuckDB.
func TestParquetAllTypesDuckDB(t *testing.T) {
	deltatest.RequireDuck(t)
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
	path, st := deltatest.WriteFile(t, t.TempDir(), s, datafile.Config{}, rows)
	got := deltatest.Duck(t, `SELECT l, i, sh, b, d, f, s, bo, CAST(dt AS VARCHAR) AS dt, epoch_us(ts) AS ts,
		epoch_us(tn) AS tn, CAST(bin AS VARCHAR) AS bin, CAST(d1 AS VARCHAR) AS d1, CAST(d2 AS VARCHAR) AS d2,
		CAST(d3 AS VARCHAR) AS d3, arr, CAST(m AS VARCHAR) AS m, req, typeof(ts) AS tts, typeof(tn) AS ttn,
		typeof(d3) AS td3, typeof(sh) AS tsh, typeof(b) AS tb
		FROM read_parquet(`+deltatest.Quote(path)+`, file_row_number = true) ORDER BY file_row_number`)
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
	dir := filepath.Join(deltatest.GoldenDir(t), "data-skipping-basic-stats-all-types")
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
	w, err := datafile.NewWriter(&buf, s, datafile.Config{})
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
	w, err := datafile.NewWriter(&buf, sixteenColumns, datafile.Config{})
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

// TestParquetRowGroupRows: row groups hold exactly RowGroupRows rows.
func TestParquetRowGroupRows(t *testing.T) {
	s := schema.StructType{Fields: []schema.StructField{schema.NewField("x", schema.LongType, true)}}
	w, err := datafile.NewWriter(io.Discard, s, datafile.Config{RowGroupRows: 100})
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
		w, err := datafile.NewWriter(&buf, s, datafile.Config{Compression: c})
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
	if _, err := datafile.NewWriter(io.Discard, s, datafile.Config{Compression: "lzo"}); err == nil {
		t.Error("lzo accepted")
	}
	if _, err := datafile.NewWriter(io.Discard, schema.StructType{}, datafile.Config{}); err == nil {
		t.Error("empty schema accepted")
	}
	if _, err := datafile.NewWriter(io.Discard, schema.StructType{Fields: []schema.StructField{schema.NewField("x", schema.DataType{Primitive: "void"}, true)}}, datafile.Config{}); err == nil {
		t.Error("void accepted")
	}
}

// TestParquetWriteValues writes the same rows, good and bad, through
// WriteValues (in schema order) and through Write (maps): the files are the
// same bytes, and every bad row fails alone with the error Write gives,
// naming the column.
func TestParquetWriteValues(t *testing.T) {
	s := schema.StructType{Fields: []schema.StructField{
		schema.NewField("id", schema.LongType, false),
		schema.NewField("score", schema.DoubleType, true),
		schema.NewField("name", schema.StringType, true),
		schema.NewField("items", schema.ArrayOf(schema.StructOf(schema.NewField("count", schema.LongType, true)), true), true),
	}}
	rows := []struct {
		vals []any
		want string // "" for a good row
	}{
		{[]any{int64(1), 1.5, "a", []any{map[string]any{"count": int64(3)}}}, ""},
		{[]any{int64(2), "abc", "b", nil}, `column score: want double, got string "abc"`},
		{[]any{nil, 2.5}, `column id: null in a non-nullable column`},
		{[]any{}, `column id: null in a non-nullable column`},
		{[]any{int64(3), nil, int64(5)}, `column name: want string, got int64 5`},
		{[]any{int64(4), nil, "d", []any{map[string]any{"count": "x"}}}, `column items[0].count: want long, got string "x"`},
		{[]any{int64(5)}, ""},                              // a short row: the rest is null
		{[]any{int64(6), 6.5, "f", nil, "ignored", 7}, ""}, // values past the schema are ignored
		{[]any{int64(7), 7.5, "g", []any{}}, ""},
	}
	write := func(byValues bool) []byte {
		var buf bytes.Buffer
		w, err := datafile.NewWriter(&buf, s, datafile.Config{RowGroupRows: 3})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			if byValues {
				err = w.WriteValues(r.vals)
			} else {
				m := map[string]any{}
				for j, v := range r.vals {
					if j < len(s.Fields) {
						m[s.Fields[j].Name] = v
					}
				}
				err = w.Write(m)
			}
			var ve *datafile.ValueError
			switch {
			case r.want == "" && err != nil:
				t.Errorf("values %v, row %d: %v", byValues, i, err)
			case r.want != "" && (err == nil || !errors.As(err, &ve) || err.Error() != r.want):
				t.Errorf("values %v, row %d: got error %v, want %s", byValues, i, err, r.want)
			}
		}
		st, err := w.Close()
		if err != nil {
			t.Fatal(err)
		}
		if st.NumRecords != 4 {
			t.Errorf("values %v: %d records, want the 4 good rows", byValues, st.NumRecords)
		}
		return buf.Bytes()
	}
	byValues, byMap := write(true), write(false)
	if !bytes.Equal(byValues, byMap) {
		t.Fatalf("WriteValues wrote %d bytes, Write %d: the files differ", len(byValues), len(byMap))
	}
	r, err := datafile.NewReader(bytes.NewReader(byValues), int64(len(byValues)), s)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, row["id"].(int64))
		if row["id"] == int64(5) && (row["score"] != nil || row["name"] != nil || row["items"] != nil) {
			t.Errorf("short row read back as %v, want nulls after id", row)
		}
	}
	if fmt.Sprint(ids) != "[1 5 6 7]" {
		t.Errorf("ids read back %v, want [1 5 6 7]", ids)
	}
}

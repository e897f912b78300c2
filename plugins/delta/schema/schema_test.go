package schema_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
	"github.com/gdeltflow/gdeltflow/plugins/internal/deltatest"
)

// The protocol's own example schema (PROTOCOL.md, "Schema Serialization
// Format"), compacted.
const protocolExampleSchema = `{"type":"struct","fields":[` +
	`{"name":"a","type":"integer","nullable":false,"metadata":{}},` +
	`{"name":"b","type":{"type":"struct","fields":[{"name":"d","type":"integer","nullable":false,"metadata":{}}]},"nullable":true,"metadata":{}},` +
	`{"name":"c","type":{"type":"array","elementType":"integer","containsNull":false},"nullable":true,"metadata":{}},` +
	`{"name":"e","type":{"type":"array","elementType":{"type":"struct","fields":[{"name":"d","type":"integer","nullable":false,"metadata":{}}]},"containsNull":true},"nullable":true,"metadata":{}},` +
	`{"name":"f","type":{"type":"map","keyType":"string","valueType":"string","valueContainsNull":true},"nullable":true,"metadata":{}}]}`

func TestSchemaJSONProtocolExample(t *testing.T) {
	s, err := schema.Parse(protocolExampleSchema)
	if err != nil {
		t.Fatal(err)
	}
	want := schema.StructType{Fields: []schema.StructField{
		schema.NewField("a", schema.IntegerType, false),
		schema.NewField("b", schema.StructOf(schema.NewField("d", schema.IntegerType, false)), true),
		schema.NewField("c", schema.ArrayOf(schema.IntegerType, false), true),
		schema.NewField("e", schema.ArrayOf(schema.StructOf(schema.NewField("d", schema.IntegerType, false)), true), true),
		schema.NewField("f", schema.MapOf(schema.StringType, schema.StringType, true), true),
	}}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("parsed %+v", s)
	}
	js, err := s.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if js != protocolExampleSchema {
		t.Errorf("JSON:\n got %s\nwant %s", js, protocolExampleSchema)
	}
	if got := s.Fields[3].Type.String(); got != "array<struct<d:integer>>" {
		t.Errorf("String() = %s", got)
	}
	// The spaced, indented form of the protocol parses the same.
	var v any
	_ = json.Unmarshal([]byte(protocolExampleSchema), &v)
	pretty, _ := json.MarshalIndent(v, "", "  ")
	s2, err := schema.Parse(string(pretty))
	if err != nil || !reflect.DeepEqual(s2, want) {
		t.Errorf("indented: %v %+v", err, s2)
	}
}

// TestSchemaJSONGolden parses the schemaString of every golden table and
// serializes it back byte for byte.
func TestSchemaJSONGolden(t *testing.T) {
	dir := deltatest.GoldenDir(t)
	logs, err := filepath.Glob(filepath.Join(dir, "*", "_delta_log", "00000000000000000000.json"))
	if err != nil || len(logs) < 5 {
		t.Fatalf("golden logs: %v %v", logs, err)
	}
	seen := map[string]bool{}
	for _, path := range logs {
		table := filepath.Base(filepath.Dir(filepath.Dir(path)))
		fh, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var line struct {
				MetaData *struct {
					SchemaString string `json:"schemaString"`
				} `json:"metaData"`
			}
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatal(err)
			}
			if line.MetaData == nil {
				continue
			}
			s, err := schema.Parse(line.MetaData.SchemaString)
			if err != nil {
				t.Fatalf("%s: %v", table, err)
			}
			js, err := s.JSON()
			if err != nil {
				t.Fatal(err)
			}
			if js != line.MetaData.SchemaString {
				t.Errorf("%s:\n got %s\nwant %s", table, js, line.MetaData.SchemaString)
			}
			back, err := schema.Parse(js)
			if err != nil || !reflect.DeepEqual(back, s) {
				t.Errorf("%s: round trip: %v", table, err)
			}
			seen[table] = true
			if table == "data-skipping-basic-stats-all-types" {
				var types []string
				for _, f := range s.Fields {
					types = append(types, f.Type.String())
				}
				if got := strings.Join(types, ","); got != "integer,long,byte,short,float,double,string,date,timestamp,decimal(1,0)" {
					t.Errorf("all-types: %s", got)
				}
			}
			if table == "data-reader-partition-values" {
				f, _ := s.Field("as_list_of_records")
				if f.Type.Array == nil || f.Type.Array.ElementType.Struct == nil || !f.Type.Array.ContainsNull {
					t.Errorf("as_list_of_records: %s", f.Type)
				}
				if got := len(s.Without("as_int", "as_long").Fields); got != len(s.Fields)-2 {
					t.Errorf("Without: %d fields", got)
				}
			}
		}
		fh.Close()
	}
	if !seen["data-skipping-basic-stats-all-types"] || !seen["data-reader-partition-values"] {
		t.Errorf("tables parsed: %v", seen)
	}
}

func TestSchemaJSONRoundTrip(t *testing.T) {
	protocolExample, err := schema.Parse(protocolExampleSchema)
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]schema.StructType{"protocol example": protocolExample, "all types": allTypes} {
		js, err := s.JSON()
		if err != nil {
			t.Fatal(err)
		}
		back, err := schema.Parse(js)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, s) {
			t.Errorf("%s: round trip differs", name)
		}
		if !json.Valid([]byte(js)) {
			t.Errorf("%s: invalid JSON", name)
		}
		// Through encoding/json too (schema.StructType and schema.DataType marshal themselves).
		var st schema.StructType
		raw, _ := json.Marshal(s)
		if err := json.Unmarshal(raw, &st); err != nil || !reflect.DeepEqual(st, s) {
			t.Errorf("%s: encoding/json round trip: %v", name, err)
		}
	}
	// Metadata keeps its values exactly (column mapping ids are integers).
	s := schema.StructType{Fields: []schema.StructField{{Name: "x", Type: schema.LongType, Nullable: true,
		Metadata: map[string]any{"delta.columnMapping.id": json.Number("5"), "comment": "<a & b>"}}}}
	js, _ := s.JSON()
	if js != `{"type":"struct","fields":[{"name":"x","type":"long","nullable":true,"metadata":{"comment":"<a & b>","delta.columnMapping.id":5}}]}` {
		t.Errorf("metadata: %s", js)
	}
	back, err := schema.Parse(js)
	if err != nil || !reflect.DeepEqual(back, s) {
		t.Errorf("metadata round trip: %v %+v", err, back)
	}
}

func TestSchemaErrors(t *testing.T) {
	for _, bad := range []string{
		`{"type":"struct","fields":[{"name":"a","type":"int64","nullable":true,"metadata":{}}]}`,
		`{"type":"struct","fields":[{"name":"a","type":"decimal(40,2)","nullable":true,"metadata":{}}]}`,
		`{"type":"struct","fields":[{"name":"a","type":"long"},{"name":"A","type":"long"}]}`,
		`{"type":"struct","fields":[{"name":"","type":"long"}]}`,
		`{"type":"struct","fields":[{"name":"a","type":{"type":"tuple"}}]}`,
		`"long"`,
		`{"type":"struct","fields":[{"name":"a"}]}`,
		`not json`,
	} {
		if s, err := schema.Parse(bad); err == nil {
			t.Errorf("accepted %s: %+v", bad, s)
		}
	}
	if _, err := (schema.StructType{Fields: []schema.StructField{{Name: "x", Type: schema.DataType{}}}}).JSON(); err == nil {
		t.Error("a field without a type serialized")
	}
	for _, ok := range []string{"decimal(38,38)", "decimal(1,0)", "decimal", "timestamp_ntz", "binary"} {
		s := schema.StructType{Fields: []schema.StructField{schema.NewField("x", schema.DataType{Primitive: ok}, true)}}
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for name, want := range map[string][2]int{"decimal(38,38)": {38, 38}, "decimal( 5 , 2 )": {5, 2}, "decimal": {10, 0}} {
		if p, sc, err := schema.ParseDecimal(name); err != nil || p != want[0] || sc != want[1] {
			t.Errorf("ParseDecimal(%s) = %d, %d, %v", name, p, sc, err)
		}
	}
	for _, bad := range []string{"decimal(39,2)", "decimal(5,6)", "decimal(5)", "decimal(a,b)"} {
		if _, _, err := schema.ParseDecimal(bad); err == nil {
			t.Errorf("ParseDecimal(%s) accepted", bad)
		}
	}
}

func TestParseYAML(t *testing.T) {
	// As a Benthos config hands it over: []any of map[string]any.
	conf := []any{
		map[string]any{"name": "id", "type": "long", "nullable": false},
		map[string]any{"name": "score", "type": "double"},
		map[string]any{"name": "tags", "type": "array", "element": "string"},
		map[string]any{"name": "tone", "type": "struct", "fields": []any{
			map[string]any{"name": "tone", "type": "double"},
			map[string]any{"name": "words", "type": "long", "nullable": false},
		}},
		map[string]any{"name": "items", "type": map[string]any{"type": "array", "contains_null": false,
			"element": map[string]any{"type": "struct", "fields": []any{map[string]any{"name": "n", "type": "integer"}}}}},
		map[string]any{"name": "attrs", "type": "map", "key": "string", "value": "decimal(10,2)", "value_contains_null": false},
		map[string]any{"name": "day", "type": "date", "metadata": map[string]any{"comment": "partition"}},
	}
	s, err := schema.ParseYAML(conf)
	if err != nil {
		t.Fatal(err)
	}
	want := schema.StructType{Fields: []schema.StructField{
		schema.NewField("id", schema.LongType, false),
		schema.NewField("score", schema.DoubleType, true),
		schema.NewField("tags", schema.ArrayOf(schema.StringType, true), true),
		schema.NewField("tone", schema.StructOf(schema.NewField("tone", schema.DoubleType, true), schema.NewField("words", schema.LongType, false)), true),
		schema.NewField("items", schema.ArrayOf(schema.StructOf(schema.NewField("n", schema.IntegerType, true)), false), true),
		schema.NewField("attrs", schema.MapOf(schema.StringType, schema.DecimalType(10, 2), false), true),
		{Name: "day", Type: schema.DateType, Nullable: true, Metadata: map[string]any{"comment": "partition"}},
	}}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("got  %+v\nwant %+v", s, want)
	}
	for _, bad := range []any{
		"id: long",
		[]any{},
		[]any{map[string]any{"name": "x"}},
		[]any{map[string]any{"name": "x", "type": "bigint"}},
		[]any{map[string]any{"name": "x", "type": "array"}},
		[]any{map[string]any{"name": "x", "type": "long", "element": "string"}},
		[]any{map[string]any{"name": "x", "type": "long", "nulable": true}},
		[]any{map[string]any{"name": "x", "type": "long", "nullable": "yes"}},
		[]any{map[string]any{"name": "x", "type": "long"}, map[string]any{"name": "X", "type": "long"}},
		[]any{map[string]any{"name": "x", "type": "struct", "fields": []any{}}},
		[]any{map[string]any{"name": "x", "type": "map", "key": "string"}},
	} {
		if s, err := schema.ParseYAML(bad); err == nil {
			t.Errorf("accepted %v: %+v", bad, s)
		}
	}
}

// allTypes has a column of every Delta type the writer knows, nested ones
// with metadata.
var allTypes = schema.StructType{Fields: []schema.StructField{
	schema.NewField("l", schema.LongType, false), schema.NewField("i", schema.IntegerType, true),
	schema.NewField("sh", schema.ShortType, true), schema.NewField("b", schema.ByteType, true),
	schema.NewField("d", schema.DoubleType, true), schema.NewField("f", schema.FloatType, true),
	schema.NewField("s", schema.StringType, true), schema.NewField("bo", schema.BooleanType, true),
	schema.NewField("dt", schema.DateType, true), schema.NewField("ts", schema.TimestampType, true),
	schema.NewField("tn", schema.TimestampNTZType, true), schema.NewField("bin", schema.BinaryType, true),
	schema.NewField("d1", schema.DecimalType(5, 2), true), schema.NewField("d3", schema.DecimalType(25, 4), true),
	schema.NewField("arr", schema.ArrayOf(schema.StringType, true), true),
	schema.NewField("m", schema.MapOf(schema.StringType, schema.LongType, true), true),
	schema.NewField("st", schema.StructOf(schema.NewField("a", schema.ArrayOf(schema.StructOf(schema.NewField("x", schema.DoubleType, true)), false), true)), true),
	{Name: "c", Type: schema.StringType, Nullable: true, Metadata: map[string]any{"comment": "<a & b>"}},
}}

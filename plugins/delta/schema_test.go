package delta

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
)

// The protocol's own example schema (PROTOCOL.md, "Schema Serialization
// Format"), compacted.
const pqtProtocolExampleSchema = `{"type":"struct","fields":[` +
	`{"name":"a","type":"integer","nullable":false,"metadata":{}},` +
	`{"name":"b","type":{"type":"struct","fields":[{"name":"d","type":"integer","nullable":false,"metadata":{}}]},"nullable":true,"metadata":{}},` +
	`{"name":"c","type":{"type":"array","elementType":"integer","containsNull":false},"nullable":true,"metadata":{}},` +
	`{"name":"e","type":{"type":"array","elementType":{"type":"struct","fields":[{"name":"d","type":"integer","nullable":false,"metadata":{}}]},"containsNull":true},"nullable":true,"metadata":{}},` +
	`{"name":"f","type":{"type":"map","keyType":"string","valueType":"string","valueContainsNull":true},"nullable":true,"metadata":{}}]}`

func TestSchemaJSONProtocolExample(t *testing.T) {
	s, err := ParseSchema(pqtProtocolExampleSchema)
	if err != nil {
		t.Fatal(err)
	}
	want := StructType{Fields: []StructField{
		NewField("a", IntegerType, false),
		NewField("b", StructOf(NewField("d", IntegerType, false)), true),
		NewField("c", ArrayOf(IntegerType, false), true),
		NewField("e", ArrayOf(StructOf(NewField("d", IntegerType, false)), true), true),
		NewField("f", MapOf(StringType, StringType, true), true),
	}}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("parsed %+v", s)
	}
	js, err := s.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if js != pqtProtocolExampleSchema {
		t.Errorf("JSON:\n got %s\nwant %s", js, pqtProtocolExampleSchema)
	}
	if got := s.Fields[3].Type.String(); got != "array<struct<d:integer>>" {
		t.Errorf("String() = %s", got)
	}
	// The spaced, indented form of the protocol parses the same.
	var v any
	_ = json.Unmarshal([]byte(pqtProtocolExampleSchema), &v)
	pretty, _ := json.MarshalIndent(v, "", "  ")
	s2, err := ParseSchema(string(pretty))
	if err != nil || !reflect.DeepEqual(s2, want) {
		t.Errorf("indented: %v %+v", err, s2)
	}
}

// TestSchemaJSONGolden parses the schemaString of every golden table and
// serializes it back byte for byte.
func TestSchemaJSONGolden(t *testing.T) {
	dir := pqtGoldenDir(t)
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
			s, err := ParseSchema(line.MetaData.SchemaString)
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
			back, err := ParseSchema(js)
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
	for _, tb := range schema.Tables() {
		for _, nested := range []bool{false, true} {
			s := GDELTSchema(tb, nested)
			js, err := s.JSON()
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParseSchema(js)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, s) {
				t.Errorf("%s nested=%v: round trip differs", tb.Name, nested)
			}
			if !json.Valid([]byte(js)) {
				t.Errorf("%s: invalid JSON", tb.Name)
			}
			// Through encoding/json too (StructType and DataType marshal themselves).
			var st StructType
			raw, _ := json.Marshal(s)
			if err := json.Unmarshal(raw, &st); err != nil || !reflect.DeepEqual(st, s) {
				t.Errorf("%s: encoding/json round trip: %v", tb.Name, err)
			}
		}
	}
	// Metadata keeps its values exactly (column mapping ids are integers).
	s := StructType{Fields: []StructField{{Name: "x", Type: LongType, Nullable: true,
		Metadata: map[string]any{"delta.columnMapping.id": json.Number("5"), "comment": "<a & b>"}}}}
	js, _ := s.JSON()
	if js != `{"type":"struct","fields":[{"name":"x","type":"long","nullable":true,"metadata":{"comment":"<a & b>","delta.columnMapping.id":5}}]}` {
		t.Errorf("metadata: %s", js)
	}
	back, err := ParseSchema(js)
	if err != nil || !reflect.DeepEqual(back, s) {
		t.Errorf("metadata round trip: %v %+v", err, back)
	}
}

func TestSchemaGDELT(t *testing.T) {
	for _, c := range []struct {
		table  *schema.Table
		nested bool
		n      int
		check  map[string]string
	}{
		{schema.Events, false, 61, map[string]string{"global_event_id": "long", "goldstein_scale": "double", "source_url": "string"}},
		{schema.Mentions, false, 16, map[string]string{"mention_doc_tone": "double", "confidence": "long"}},
		{schema.GKG, false, 27, map[string]string{"counts": "string", "v2_tone": "string", "date": "long"}},
		{schema.GKG, true, 29, map[string]string{
			"counts":                     "array<struct<count_type:string,count:long,object_type:string,location_type:long,location_full_name:string,location_country_code:string,location_adm1_code:string,location_lat:double,location_long:double,location_feature_id:string>>",
			"themes":                     "array<string>",
			"v2_tone":                    "struct<tone:double,positive_score:double,negative_score:double,polarity:double,activity_reference_density:double,self_group_reference_density:double,word_count:long>",
			"gcam":                       "array<struct<key:string,value:double>>",
			"extras":                     "string",
			"page_title":                 "string",
			"page_precise_pub_timestamp": "long",
		}},
		{schema.Events, true, 61, nil}, // nested applies to the GKG only
	} {
		s := GDELTSchema(c.table, c.nested)
		if len(s.Fields) != c.n {
			t.Errorf("%s nested=%v: %d columns, want %d", c.table.Name, c.nested, len(s.Fields), c.n)
		}
		for i, col := range c.table.Columns {
			if s.Fields[i].Name != col.Name || !s.Fields[i].Nullable {
				t.Errorf("%s: column %d is %s", c.table.Name, i, s.Fields[i].Name)
			}
		}
		for name, want := range c.check {
			f, ok := s.Field(name)
			if !ok || f.Type.String() != want {
				t.Errorf("%s nested=%v: %s is %s, want %s", c.table.Name, c.nested, name, f.Type, want)
			}
		}
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
		if s, err := ParseSchema(bad); err == nil {
			t.Errorf("accepted %s: %+v", bad, s)
		}
	}
	if _, err := (StructType{Fields: []StructField{{Name: "x", Type: DataType{}}}}).JSON(); err == nil {
		t.Error("a field without a type serialized")
	}
	for _, ok := range []string{"decimal(38,38)", "decimal(1,0)", "decimal", "timestamp_ntz", "binary"} {
		if err := schCheckPrimitive(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

func TestParseSchemaYAML(t *testing.T) {
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
	s, err := ParseSchemaYAML(conf)
	if err != nil {
		t.Fatal(err)
	}
	want := StructType{Fields: []StructField{
		NewField("id", LongType, false),
		NewField("score", DoubleType, true),
		NewField("tags", ArrayOf(StringType, true), true),
		NewField("tone", StructOf(NewField("tone", DoubleType, true), NewField("words", LongType, false)), true),
		NewField("items", ArrayOf(StructOf(NewField("n", IntegerType, true)), false), true),
		NewField("attrs", MapOf(StringType, DecimalType(10, 2), false), true),
		{Name: "day", Type: DateType, Nullable: true, Metadata: map[string]any{"comment": "partition"}},
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
		if s, err := ParseSchemaYAML(bad); err == nil {
			t.Errorf("accepted %v: %+v", bad, s)
		}
	}
}

package deltalake

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
	gschema "github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
	"github.com/gdeltflow/gdeltflow/plugins/join"
)

func TestGDELTSchemaJSONRoundTrip(t *testing.T) {
	for _, tb := range gschema.Tables() {
		for _, nested := range []bool{false, true} {
			s := GDELTSchema(tb, nested)
			js, err := s.JSON()
			if err != nil {
				t.Fatal(err)
			}
			back, err := schema.Parse(js)
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
			var st schema.StructType
			raw, _ := json.Marshal(s)
			if err := json.Unmarshal(raw, &st); err != nil || !reflect.DeepEqual(st, s) {
				t.Errorf("%s: encoding/json round trip: %v", tb.Name, err)
			}
		}
	}
}

func TestSchemaGDELT(t *testing.T) {
	for _, c := range []struct {
		table  *gschema.Table
		nested bool
		n      int
		check  map[string]string
	}{
		{gschema.Events, false, 61, map[string]string{"global_event_id": "long", "goldstein_scale": "double", "source_url": "string"}},
		{gschema.Mentions, false, 16, map[string]string{"mention_doc_tone": "double", "confidence": "long"}},
		{gschema.GKG, false, 27, map[string]string{"counts": "string", "v2_tone": "string", "date": "long"}},
		{gschema.GKG, true, 29, map[string]string{
			"counts":                     "array<struct<count_type:string,count:long,object_type:string,location_type:long,location_full_name:string,location_country_code:string,location_adm1_code:string,location_lat:double,location_long:double,location_feature_id:string>>",
			"themes":                     "array<string>",
			"v2_tone":                    "struct<tone:double,positive_score:double,negative_score:double,polarity:double,activity_reference_density:double,self_group_reference_density:double,word_count:long>",
			"gcam":                       "array<struct<key:string,value:double>>",
			"extras":                     "string",
			"page_title":                 "string",
			"page_precise_pub_timestamp": "long",
		}},
		{gschema.Events, true, 61, nil}, // nested applies to the GKG only
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

// TestTableSchema: every gdelt_table name has its schema; events is export.
func TestTableSchema(t *testing.T) {
	widths := map[string]int{"export": 61, "events": 61, "mentions": 16, "gkg": 27, TableSilver: len(join.Columns(false)), TableAuditWindows: len(join.AuditColumns())}
	for _, name := range TableNames {
		s, err := TableSchema(name, false)
		if err != nil || len(s.Fields) != widths[name] {
			t.Errorf("%s: %d columns, %v; want %d", name, len(s.Fields), err, widths[name])
		}
	}
	if s, err := TableSchema("gkg", true); err != nil || len(s.Fields) != 29 || s.Fields[0].Name != "gkg_record_id" {
		t.Errorf("gkg nested: %d columns, %v", len(s.Fields), err)
	}
	if s, err := TableSchema("mentions", true); err != nil || len(s.Fields) != 16 {
		t.Errorf("nested applies to the GKG only: mentions has %d columns, %v", len(s.Fields), err)
	}
	if _, err := TableSchema("gkgg", false); err == nil || !strings.Contains(err.Error(), "silver") {
		t.Errorf("an unknown name: %v", err)
	}
}

package deltalake

import (
	"fmt"
	"strings"

	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
	gschema "github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
	"github.com/gdeltflow/gdeltflow/plugins/join"
)

// The table catalogue: which Delta schema a gdelt_table name means. The
// bronze tables take the columns gdelt_decode emits, silver and the audit
// the columns gdelt_join emits; the Delta library knows none of them.

// The gdelt_table values for what gdelt_join emits.
const (
	TableSilver       = "silver"        // joined rows: join.Columns(false)
	TableAuditWindows = "audit_windows" // join.AuditColumns
)

// TableNames are the gdelt_table values, in the order the spec lists them
// ("events" is another name of "export").
var TableNames = []string{gschema.ExportTable, "events", gschema.MentionsTable, gschema.GKGTable, TableSilver, TableAuditWindows}

// TableSchema is the Delta schema of a gdelt_table: a GDELT table by the
// name gdelt_decode gives it (export, also called events; mentions; gkg,
// nested when asked: the GKG only has a nested form), silver or
// audit_windows.
func TableSchema(name string, nested bool) (schema.StructType, error) {
	switch name {
	case TableSilver:
		return GDELTSchema(&gschema.Table{Name: TableSilver, Columns: join.Columns(false)}, false), nil
	case TableAuditWindows:
		return AuditWindowsSchema(), nil
	}
	t, err := gschema.ByName(name)
	if err != nil {
		return schema.StructType{}, fmt.Errorf("gdelt_table %q is unknown: want one of %s", name, strings.Join(TableNames, ", "))
	}
	return GDELTSchema(t, nested && t == gschema.GKG), nil
}

// AuditWindowsSchema is the schema of audit/windows (join.AuditColumns).
func AuditWindowsSchema() schema.StructType {
	var st schema.StructType
	for _, c := range join.AuditColumns() {
		t := schema.DataType{Primitive: c.Type}
		if c.Type == "array<string>" {
			t = schema.ArrayOf(schema.StringType, true)
		}
		st.Fields = append(st.Fields, schema.StructField{Name: c.Name, Type: t, Nullable: true, Metadata: map[string]any{"comment": c.Doc}})
	}
	return st
}

// GDELTSchema returns the Delta schema of a GDELT table, columns in file
// order, every column nullable (the decoder turns empty fields into nulls):
// Int64 → long, Float64 → double, String → string. With nested on, the GKG
// columns that have a nested form take it (lists of structs become
// array<struct<...>>, the tone a struct, plain lists array<string>) and the
// two columns parsed out of V2EXTRASXML follow the table's own columns.
func GDELTSchema(t *gschema.Table, nested bool) schema.StructType {
	nested = nested && t.Name == gschema.GKGTable
	st := schema.StructType{Fields: make([]schema.StructField, 0, len(t.Columns)+len(gschema.GKGExtrasColumns))}
	for _, c := range t.Columns {
		var dt schema.DataType
		if nested && c.Nesting != gschema.Flat && c.Nested != nil {
			dt = gdeltFieldType(c.Nested)
		} else {
			dt = gdeltKindType(c.Kind)
		}
		st.Fields = append(st.Fields, schema.StructField{Name: c.Name, Type: dt, Nullable: true})
	}
	if nested {
		for _, f := range gschema.GKGExtrasColumns {
			st.Fields = append(st.Fields, schema.StructField{Name: f.Name, Type: gdeltFieldType(&f), Nullable: true})
		}
	}
	return st
}

func gdeltKindType(k gschema.Kind) schema.DataType {
	switch k {
	case gschema.Int64:
		return schema.LongType
	case gschema.Float64:
		return schema.DoubleType
	}
	return schema.StringType
}

// gdeltFieldType maps a nested GKG field. Elements and struct members are
// nullable: the decoder leaves an empty part of a block as nil.
func gdeltFieldType(f *gschema.Field) schema.DataType {
	switch f.Kind {
	case gschema.List:
		return schema.ArrayOf(gdeltFieldType(f.Elem), true)
	case gschema.Struct:
		fields := make([]schema.StructField, len(f.Fields))
		for i := range f.Fields {
			fields[i] = schema.StructField{Name: f.Fields[i].Name, Type: gdeltFieldType(&f.Fields[i]), Nullable: true}
		}
		return schema.StructOf(fields...)
	}
	return gdeltKindType(f.Kind)
}

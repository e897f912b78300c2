package delta

import (
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
	"github.com/gdeltflow/gdeltflow/plugins/join"
)

// The gdelt_table values for what gdelt_join emits.
const (
	TableSilver       = "silver"        // joined rows: join.Columns(false)
	TableAuditWindows = "audit_windows" // join.AuditColumns
)

// AuditWindowsSchema is the schema of audit/windows (join.AuditColumns).
func AuditWindowsSchema() StructType {
	var st StructType
	for _, c := range join.AuditColumns() {
		st.Fields = append(st.Fields, StructField{Name: c.Name, Type: DataType{Primitive: c.Type}, Nullable: true, Metadata: map[string]any{"comment": c.Doc}})
	}
	return st
}

// GDELTSchema returns the Delta schema of a GDELT table, columns in file
// order, every column nullable (the decoder turns empty fields into nulls):
// Int64 → long, Float64 → double, String → string. With nested on, the GKG
// columns that have a nested form take it (lists of structs become
// array<struct<...>>, the tone a struct, plain lists array<string>) and the
// two columns parsed out of V2EXTRASXML follow the table's own columns.
func GDELTSchema(t *schema.Table, nested bool) StructType {
	nested = nested && t.Name == schema.GKGTable
	st := StructType{Fields: make([]StructField, 0, len(t.Columns)+len(schema.GKGExtrasColumns))}
	for _, c := range t.Columns {
		var dt DataType
		if nested && c.Nesting != schema.Flat && c.Nested != nil {
			dt = gdeltFieldType(c.Nested)
		} else {
			dt = gdeltKindType(c.Kind)
		}
		st.Fields = append(st.Fields, StructField{Name: c.Name, Type: dt, Nullable: true})
	}
	if nested {
		for _, f := range schema.GKGExtrasColumns {
			st.Fields = append(st.Fields, StructField{Name: f.Name, Type: gdeltFieldType(&f), Nullable: true})
		}
	}
	return st
}

func gdeltKindType(k schema.Kind) DataType {
	switch k {
	case schema.Int64:
		return LongType
	case schema.Float64:
		return DoubleType
	}
	return StringType
}

// gdeltFieldType maps a nested GKG field. Elements and struct members are
// nullable: the decoder leaves an empty part of a block as nil.
func gdeltFieldType(f *schema.Field) DataType {
	switch f.Kind {
	case schema.List:
		return ArrayOf(gdeltFieldType(f.Elem), true)
	case schema.Struct:
		fields := make([]StructField, len(f.Fields))
		for i := range f.Fields {
			fields[i] = StructField{Name: f.Fields[i].Name, Type: gdeltFieldType(&f.Fields[i]), Nullable: true}
		}
		return StructOf(fields...)
	}
	return gdeltKindType(f.Kind)
}

package schema

import (
	"fmt"
	"strconv"
	"strings"
)

// Delta primitive type names.
const (
	TypeString       = "string"
	TypeLong         = "long"
	TypeInteger      = "integer"
	TypeShort        = "short"
	TypeByte         = "byte"
	TypeDouble       = "double"
	TypeFloat        = "float"
	TypeBoolean      = "boolean"
	TypeDate         = "date"
	TypeTimestamp    = "timestamp"
	TypeTimestampNTZ = "timestamp_ntz"
	TypeBinary       = "binary"
)

// Complex type names, as they appear in the "type" key of a nested type.
const (
	typeStruct = "struct"
	typeArray  = "array"
	typeMap    = "map"
)

// DataType is a Delta column type: a primitive (Primitive is its name, e.g.
// "long" or "decimal(10,2)") or exactly one of Struct, Array, Map.
type DataType struct {
	Primitive string
	Struct    *StructType
	Array     *ArrayType
	Map       *MapType
}

// ArrayType is Delta's "array".
type ArrayType struct {
	ElementType  DataType
	ContainsNull bool
}

// MapType is Delta's "map".
type MapType struct {
	KeyType           DataType
	ValueType         DataType
	ValueContainsNull bool
}

// StructField is one column (or nested field) of a struct.
type StructField struct {
	Name     string
	Type     DataType
	Nullable bool
	// Metadata is the column metadata (column mapping, invariants, ...);
	// nil serializes as {}.
	Metadata map[string]any
}

// StructType is a table schema or a struct column.
type StructType struct {
	Fields []StructField
}

// Primitive types, ready to use.
var (
	StringType       = DataType{Primitive: TypeString}
	LongType         = DataType{Primitive: TypeLong}
	IntegerType      = DataType{Primitive: TypeInteger}
	ShortType        = DataType{Primitive: TypeShort}
	ByteType         = DataType{Primitive: TypeByte}
	DoubleType       = DataType{Primitive: TypeDouble}
	FloatType        = DataType{Primitive: TypeFloat}
	BooleanType      = DataType{Primitive: TypeBoolean}
	DateType         = DataType{Primitive: TypeDate}
	TimestampType    = DataType{Primitive: TypeTimestamp}
	TimestampNTZType = DataType{Primitive: TypeTimestampNTZ}
	BinaryType       = DataType{Primitive: TypeBinary}
)

// DecimalType returns decimal(precision,scale).
func DecimalType(precision, scale int) DataType {
	return DataType{Primitive: "decimal(" + strconv.Itoa(precision) + "," + strconv.Itoa(scale) + ")"}
}

// ArrayOf returns an array type.
func ArrayOf(elem DataType, containsNull bool) DataType {
	return DataType{Array: &ArrayType{ElementType: elem, ContainsNull: containsNull}}
}

// MapOf returns a map type.
func MapOf(key, value DataType, valueContainsNull bool) DataType {
	return DataType{Map: &MapType{KeyType: key, ValueType: value, ValueContainsNull: valueContainsNull}}
}

// StructOf returns a struct type with the given fields.
func StructOf(fields ...StructField) DataType {
	return DataType{Struct: &StructType{Fields: fields}}
}

// NewField returns a field with no metadata.
func NewField(name string, t DataType, nullable bool) StructField {
	return StructField{Name: name, Type: t, Nullable: nullable}
}

// String returns the type in Spark's simpleString form: long,
// array<struct<a:long,b:string>>, map<string,double>.
func (t DataType) String() string {
	switch {
	case t.Struct != nil:
		var b strings.Builder
		b.WriteString("struct<")
		for i, f := range t.Struct.Fields {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(f.Name)
			b.WriteByte(':')
			b.WriteString(f.Type.String())
		}
		b.WriteByte('>')
		return b.String()
	case t.Array != nil:
		return "array<" + t.Array.ElementType.String() + ">"
	case t.Map != nil:
		return "map<" + t.Map.KeyType.String() + "," + t.Map.ValueType.String() + ">"
	}
	return t.Primitive
}

// IsPrimitive reports whether t is a primitive type.
func (t DataType) IsPrimitive() bool { return t.Struct == nil && t.Array == nil && t.Map == nil }

// Field returns the field named name and whether it exists.
func (s StructType) Field(name string) (StructField, bool) {
	for _, f := range s.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return StructField{}, false
}

// Names returns the top-level column names in order.
func (s StructType) Names() []string {
	out := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		out[i] = f.Name
	}
	return out
}

// Without returns a copy of s without the named top-level columns (the
// partition columns, which are not written into data files).
func (s StructType) Without(names ...string) StructType {
	out := StructType{Fields: make([]StructField, 0, len(s.Fields))}
	for _, f := range s.Fields {
		skip := false
		for _, n := range names {
			if f.Name == n {
				skip = true
				break
			}
		}
		if !skip {
			out.Fields = append(out.Fields, f)
		}
	}
	return out
}

var primitives = []string{
	TypeString, TypeLong, TypeInteger, TypeShort, TypeByte, TypeDouble, TypeFloat,
	TypeBoolean, TypeDate, TypeTimestamp, TypeTimestampNTZ, TypeBinary,
}

// checkPrimitive accepts Delta's primitive names and decimal(p,s).
func checkPrimitive(name string) error {
	for _, p := range primitives {
		if name == p {
			return nil
		}
	}
	if strings.HasPrefix(name, "decimal") {
		_, _, err := ParseDecimal(name)
		return err
	}
	return fmt.Errorf("unknown type %q (want one of %s, decimal(p,s), or array, struct, map)",
		name, strings.Join(primitives, ", "))
}

// ParseDecimal parses the name of a decimal type, "decimal(p,s)" ("decimal"
// alone is Spark's decimal(10,0)), into its precision and scale.
func ParseDecimal(name string) (precision, scale int, err error) {
	if name == "decimal" {
		return 10, 0, nil
	}
	in, ok := strings.CutPrefix(name, "decimal(")
	if ok {
		in, ok = strings.CutSuffix(in, ")")
	}
	var ps, ss string
	if ok {
		ps, ss, ok = strings.Cut(in, ",")
	}
	if ok {
		precision, err = strconv.Atoi(strings.TrimSpace(ps))
		ok = err == nil
	}
	if ok {
		scale, err = strconv.Atoi(strings.TrimSpace(ss))
		ok = err == nil
	}
	if !ok || precision < 1 || precision > 38 || scale < 0 || scale > precision {
		return 0, 0, fmt.Errorf("invalid decimal type %q (want decimal(p,s) with 1 <= p <= 38, 0 <= s <= p)", name)
	}
	return precision, scale, nil
}

// Validate checks what Delta requires of a schema: every type valid, field
// names non-empty and unique regardless of case within each struct.
func (s StructType) Validate() error { return validateStruct(&s, "") }

func validateStruct(s *StructType, path string) error {
	seen := make(map[string]string, len(s.Fields))
	for _, f := range s.Fields {
		fp := f.Name
		if path != "" {
			fp = path + "." + f.Name
		}
		if f.Name == "" {
			return fmt.Errorf("%s: empty field name", orElse(path, "schema"))
		}
		low := strings.ToLower(f.Name)
		if prev, dup := seen[low]; dup {
			return fmt.Errorf("duplicate column %q (same as %q regardless of case)", fp, prev)
		}
		seen[low] = f.Name
		if err := validateType(f.Type, fp); err != nil {
			return err
		}
	}
	return nil
}

func validateType(t DataType, path string) error {
	switch {
	case t.Struct != nil:
		if t.Array != nil || t.Map != nil || t.Primitive != "" {
			return fmt.Errorf("%s: a type must be exactly one of a primitive, struct, array or map", path)
		}
		return validateStruct(t.Struct, path)
	case t.Array != nil:
		if t.Map != nil || t.Primitive != "" {
			return fmt.Errorf("%s: a type must be exactly one of a primitive, struct, array or map", path)
		}
		return validateType(t.Array.ElementType, path+"[]")
	case t.Map != nil:
		if t.Primitive != "" {
			return fmt.Errorf("%s: a type must be exactly one of a primitive, struct, array or map", path)
		}
		if err := validateType(t.Map.KeyType, path+".key"); err != nil {
			return err
		}
		return validateType(t.Map.ValueType, path+".value")
	}
	if err := checkPrimitive(t.Primitive); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func orElse(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

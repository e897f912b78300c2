package delta

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Delta's schema serialization (PROTOCOL.md, "Schema Serialization Format"):
// the JSON in the metaData action's schemaString. Spark's representation,
// compact, keys in Spark's order, so a schema we write reads back byte for
// byte the way Spark and delta-rs print it.

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

// JSON returns the exact Delta serialization:
// {"type":"struct","fields":[{"name":..,"type":..,"nullable":..,"metadata":{..}},..]}.
func (s StructType) JSON() (string, error) {
	if err := s.Validate(); err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := schWriteStruct(&b, &s); err != nil {
		return "", err
	}
	return b.String(), nil
}

// MarshalJSON writes the Delta serialization (as JSON, not as a string).
func (s StructType) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := schWriteStruct(&b, &s); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// UnmarshalJSON reads the Delta serialization of a struct type.
func (s *StructType) UnmarshalJSON(data []byte) error {
	t, err := schParseType(data, "")
	if err != nil {
		return err
	}
	if t.Struct == nil {
		return fmt.Errorf("schema: want a struct, got %s", t)
	}
	*s = *t.Struct
	return nil
}

// MarshalJSON writes a primitive as a JSON string and a complex type as an object.
func (t DataType) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := schWriteType(&b, t); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// UnmarshalJSON reads a Delta type.
func (t *DataType) UnmarshalJSON(data []byte) error {
	v, err := schParseType(data, "")
	if err != nil {
		return err
	}
	*t = v
	return nil
}

func schWriteStruct(b *bytes.Buffer, s *StructType) error {
	b.WriteString(`{"type":"struct","fields":[`)
	for i := range s.Fields {
		f := &s.Fields[i]
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"name":`)
		schWriteString(b, f.Name)
		b.WriteString(`,"type":`)
		if err := schWriteType(b, f.Type); err != nil {
			return fmt.Errorf("field %s: %w", f.Name, err)
		}
		b.WriteString(`,"nullable":`)
		b.WriteString(strconv.FormatBool(f.Nullable))
		b.WriteString(`,"metadata":`)
		if len(f.Metadata) == 0 {
			b.WriteString("{}")
		} else {
			var m bytes.Buffer
			enc := json.NewEncoder(&m)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(f.Metadata); err != nil {
				return fmt.Errorf("field %s: metadata: %w", f.Name, err)
			}
			b.Write(bytes.TrimSuffix(m.Bytes(), []byte("\n")))
		}
		b.WriteByte('}')
	}
	b.WriteString("]}")
	return nil
}

func schWriteType(b *bytes.Buffer, t DataType) error {
	n := 0
	for _, set := range []bool{t.Struct != nil, t.Array != nil, t.Map != nil, t.Primitive != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errors.New("a type must be exactly one of a primitive, struct, array or map")
	}
	switch {
	case t.Struct != nil:
		return schWriteStruct(b, t.Struct)
	case t.Array != nil:
		b.WriteString(`{"type":"array","elementType":`)
		if err := schWriteType(b, t.Array.ElementType); err != nil {
			return err
		}
		b.WriteString(`,"containsNull":`)
		b.WriteString(strconv.FormatBool(t.Array.ContainsNull))
		b.WriteByte('}')
	case t.Map != nil:
		b.WriteString(`{"type":"map","keyType":`)
		if err := schWriteType(b, t.Map.KeyType); err != nil {
			return err
		}
		b.WriteString(`,"valueType":`)
		if err := schWriteType(b, t.Map.ValueType); err != nil {
			return err
		}
		b.WriteString(`,"valueContainsNull":`)
		b.WriteString(strconv.FormatBool(t.Map.ValueContainsNull))
		b.WriteByte('}')
	default:
		schWriteString(b, t.Primitive)
	}
	return nil
}

func schWriteString(b *bytes.Buffer, s string) {
	// Same escaping as encoding/json without HTML escaping (Spark leaves <>&).
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.Truncate(b.Len() - 1) // Encode appends '\n'
}

// ParseSchema parses a metaData schemaString.
func ParseSchema(schemaString string) (StructType, error) {
	t, err := schParseType([]byte(schemaString), "")
	if err != nil {
		return StructType{}, fmt.Errorf("parsing schema: %w", err)
	}
	if t.Struct == nil {
		return StructType{}, fmt.Errorf("parsing schema: want a struct type at the top, got %s", t)
	}
	if err := t.Struct.Validate(); err != nil {
		return StructType{}, fmt.Errorf("parsing schema: %w", err)
	}
	return *t.Struct, nil
}

// schJSONType is the union of the keys of Delta's complex types.
type schJSONType struct {
	Type              string          `json:"type"`
	Fields            []schJSONField  `json:"fields"`
	ElementType       json.RawMessage `json:"elementType"`
	ContainsNull      *bool           `json:"containsNull"`
	KeyType           json.RawMessage `json:"keyType"`
	ValueType         json.RawMessage `json:"valueType"`
	ValueContainsNull *bool           `json:"valueContainsNull"`
}

type schJSONField struct {
	Name     *string         `json:"name"`
	Type     json.RawMessage `json:"type"`
	Nullable *bool           `json:"nullable"`
	Metadata json.RawMessage `json:"metadata"`
}

func schParseType(data []byte, path string) (DataType, error) {
	data = bytes.TrimSpace(data)
	at := func() string {
		if path == "" {
			return ""
		}
		return path + ": "
	}
	if len(data) == 0 {
		return DataType{}, fmt.Errorf("%smissing type", at())
	}
	if data[0] == '"' {
		var name string
		if err := json.Unmarshal(data, &name); err != nil {
			return DataType{}, fmt.Errorf("%s%w", at(), err)
		}
		if err := schCheckPrimitive(name); err != nil {
			return DataType{}, fmt.Errorf("%s%w", at(), err)
		}
		return DataType{Primitive: name}, nil
	}
	var j schJSONType
	if err := json.Unmarshal(data, &j); err != nil {
		return DataType{}, fmt.Errorf("%s%w", at(), err)
	}
	switch j.Type {
	case typeStruct:
		st := &StructType{Fields: make([]StructField, 0, len(j.Fields))}
		for i, f := range j.Fields {
			if f.Name == nil {
				return DataType{}, fmt.Errorf("%sfield %d has no name", at(), i)
			}
			fp := *f.Name
			if path != "" {
				fp = path + "." + fp
			}
			ft, err := schParseType(f.Type, fp)
			if err != nil {
				return DataType{}, err
			}
			sf := StructField{Name: *f.Name, Type: ft, Nullable: true}
			if f.Nullable != nil {
				sf.Nullable = *f.Nullable
			}
			if md := bytes.TrimSpace(f.Metadata); len(md) > 0 && !bytes.Equal(md, []byte("null")) {
				dec := json.NewDecoder(bytes.NewReader(md))
				dec.UseNumber() // column mapping ids stay exact integers
				var m map[string]any
				if err := dec.Decode(&m); err != nil {
					return DataType{}, fmt.Errorf("%s: metadata: %w", fp, err)
				}
				if len(m) > 0 {
					sf.Metadata = m
				}
			}
			st.Fields = append(st.Fields, sf)
		}
		return DataType{Struct: st}, nil
	case typeArray:
		et, err := schParseType(j.ElementType, path+"[]")
		if err != nil {
			return DataType{}, err
		}
		a := &ArrayType{ElementType: et, ContainsNull: true}
		if j.ContainsNull != nil {
			a.ContainsNull = *j.ContainsNull
		}
		return DataType{Array: a}, nil
	case typeMap:
		kt, err := schParseType(j.KeyType, path+".key")
		if err != nil {
			return DataType{}, err
		}
		vt, err := schParseType(j.ValueType, path+".value")
		if err != nil {
			return DataType{}, err
		}
		m := &MapType{KeyType: kt, ValueType: vt, ValueContainsNull: true}
		if j.ValueContainsNull != nil {
			m.ValueContainsNull = *j.ValueContainsNull
		}
		return DataType{Map: m}, nil
	}
	return DataType{}, fmt.Errorf("%sunknown complex type %q (want struct, array or map)", at(), j.Type)
}

var schPrimitives = []string{
	TypeString, TypeLong, TypeInteger, TypeShort, TypeByte, TypeDouble, TypeFloat,
	TypeBoolean, TypeDate, TypeTimestamp, TypeTimestampNTZ, TypeBinary,
}

// schCheckPrimitive accepts Delta's primitive names and decimal(p,s).
func schCheckPrimitive(name string) error {
	for _, p := range schPrimitives {
		if name == p {
			return nil
		}
	}
	if strings.HasPrefix(name, "decimal") {
		_, _, err := schDecimal(name)
		return err
	}
	return fmt.Errorf("unknown type %q (want one of %s, decimal(p,s), or array, struct, map)",
		name, strings.Join(schPrimitives, ", "))
}

// schDecimal parses "decimal(p,s)" ("decimal" alone is Spark's decimal(10,0)).
func schDecimal(name string) (precision, scale int, err error) {
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
func (s StructType) Validate() error { return schValidateStruct(&s, "") }

func schValidateStruct(s *StructType, path string) error {
	seen := make(map[string]string, len(s.Fields))
	for _, f := range s.Fields {
		fp := f.Name
		if path != "" {
			fp = path + "." + f.Name
		}
		if f.Name == "" {
			return fmt.Errorf("%s: empty field name", schOr(path, "schema"))
		}
		low := strings.ToLower(f.Name)
		if prev, dup := seen[low]; dup {
			return fmt.Errorf("duplicate column %q (same as %q regardless of case)", fp, prev)
		}
		seen[low] = f.Name
		if err := schValidateType(f.Type, fp); err != nil {
			return err
		}
	}
	return nil
}

func schValidateType(t DataType, path string) error {
	switch {
	case t.Struct != nil:
		if t.Array != nil || t.Map != nil || t.Primitive != "" {
			return fmt.Errorf("%s: a type must be exactly one of a primitive, struct, array or map", path)
		}
		return schValidateStruct(t.Struct, path)
	case t.Array != nil:
		if t.Map != nil || t.Primitive != "" {
			return fmt.Errorf("%s: a type must be exactly one of a primitive, struct, array or map", path)
		}
		return schValidateType(t.Array.ElementType, path+"[]")
	case t.Map != nil:
		if t.Primitive != "" {
			return fmt.Errorf("%s: a type must be exactly one of a primitive, struct, array or map", path)
		}
		if err := schValidateType(t.Map.KeyType, path+".key"); err != nil {
			return err
		}
		return schValidateType(t.Map.ValueType, path+".value")
	}
	if err := schCheckPrimitive(t.Primitive); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func schOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ParseSchemaYAML reads a schema declared in a config: a list of fields
//
//   - name: id
//     type: long
//     nullable: false          # default true
//   - name: tags
//     type: array
//     element: string          # or a type object; contains_null defaults to true
//   - name: tone
//     type: struct
//     fields: [{name: tone, type: double}]
//   - name: attrs
//     type: map
//     key: string
//     value: double            # value_contains_null defaults to true
//
// where "type" may also be an object of the same form ({type: array, element: ...}).
// Optional "metadata" (a map) is kept as the column metadata.
func ParseSchemaYAML(v any) (StructType, error) {
	st, err := schYAMLStruct(v, "")
	if err != nil {
		return StructType{}, fmt.Errorf("schema: %w", err)
	}
	if len(st.Fields) == 0 {
		return StructType{}, errors.New("schema: no fields")
	}
	if err := st.Validate(); err != nil {
		return StructType{}, fmt.Errorf("schema: %w", err)
	}
	return st, nil
}

func schYAMLList(v any) ([]any, bool) {
	switch l := v.(type) {
	case []any:
		return l, true
	case []map[string]any:
		out := make([]any, len(l))
		for i := range l {
			out[i] = l[i]
		}
		return out, true
	}
	return nil, false
}

func schYAMLMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case map[any]any: // yaml.v2 style
		out := make(map[string]any, len(m))
		for k, x := range m {
			ks, ok := k.(string)
			if !ok {
				return nil, false
			}
			out[ks] = x
		}
		return out, true
	}
	return nil, false
}

func schYAMLStruct(v any, path string) (StructType, error) {
	list, ok := schYAMLList(v)
	if !ok {
		return StructType{}, fmt.Errorf("%s: want a list of fields, got %T", schOr(path, "fields"), v)
	}
	st := StructType{Fields: make([]StructField, 0, len(list))}
	for i, item := range list {
		m, ok := schYAMLMap(item)
		if !ok {
			return StructType{}, fmt.Errorf("%sfield %d: want an object with name and type, got %T", schYAMLAt(path), i, item)
		}
		if err := schYAMLKeys(m, "name", "type", "nullable", "metadata", "element", "contains_null", "fields", "key", "value", "value_contains_null"); err != nil {
			return StructType{}, fmt.Errorf("%sfield %d: %w", schYAMLAt(path), i, err)
		}
		name, ok := m["name"].(string)
		if !ok || name == "" {
			return StructType{}, fmt.Errorf("%sfield %d: name must be a non-empty string", schYAMLAt(path), i)
		}
		fp := name
		if path != "" {
			fp = path + "." + name
		}
		t, err := schYAMLType(m, fp)
		if err != nil {
			return StructType{}, err
		}
		f := StructField{Name: name, Type: t, Nullable: true}
		if n, ok := m["nullable"]; ok && n != nil {
			b, ok := n.(bool)
			if !ok {
				return StructType{}, fmt.Errorf("%s: nullable must be true or false, got %v", fp, n)
			}
			f.Nullable = b
		}
		if md, ok := m["metadata"]; ok && md != nil {
			mm, ok := schYAMLMap(md)
			if !ok {
				return StructType{}, fmt.Errorf("%s: metadata must be an object, got %T", fp, md)
			}
			if len(mm) > 0 {
				f.Metadata = mm
			}
		}
		st.Fields = append(st.Fields, f)
	}
	return st, nil
}

func schYAMLAt(path string) string {
	if path == "" {
		return ""
	}
	return path + ": "
}

func schYAMLKeys(m map[string]any, allowed ...string) error {
	var bad []string
	for k := range m {
		ok := false
		for _, a := range allowed {
			if k == a {
				ok = true
				break
			}
		}
		if !ok {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("unknown key(s) %s", strings.Join(bad, ", "))
	}
	return nil
}

// schYAMLType reads the type of a field (or of an element/key/value) from m,
// which holds "type" and, for complex types, their other keys.
func schYAMLType(m map[string]any, path string) (DataType, error) {
	tv, ok := m["type"]
	if !ok || tv == nil {
		return DataType{}, fmt.Errorf("%s: missing type", path)
	}
	if tm, ok := schYAMLMap(tv); ok {
		// type: {type: array, element: ...}
		if err := schYAMLKeys(tm, "type", "element", "contains_null", "fields", "key", "value", "value_contains_null"); err != nil {
			return DataType{}, fmt.Errorf("%s: %w", path, err)
		}
		return schYAMLType(tm, path)
	}
	name, ok := tv.(string)
	if !ok {
		return DataType{}, fmt.Errorf("%s: type must be a type name or an object, got %T", path, tv)
	}
	name = strings.TrimSpace(name)
	optBool := func(key string) (bool, error) {
		x, ok := m[key]
		if !ok || x == nil {
			return true, nil
		}
		b, ok := x.(bool)
		if !ok {
			return false, fmt.Errorf("%s: %s must be true or false, got %v", path, key, x)
		}
		return b, nil
	}
	switch name {
	case typeArray:
		ev, ok := m["element"]
		if !ok {
			return DataType{}, fmt.Errorf("%s: an array needs element", path)
		}
		et, err := schYAMLElem(ev, path+"[]")
		if err != nil {
			return DataType{}, err
		}
		cn, err := optBool("contains_null")
		if err != nil {
			return DataType{}, err
		}
		return ArrayOf(et, cn), nil
	case typeStruct:
		fv, ok := m["fields"]
		if !ok {
			return DataType{}, fmt.Errorf("%s: a struct needs fields", path)
		}
		st, err := schYAMLStruct(fv, path)
		if err != nil {
			return DataType{}, err
		}
		if len(st.Fields) == 0 {
			return DataType{}, fmt.Errorf("%s: a struct needs at least one field", path)
		}
		return DataType{Struct: &st}, nil
	case typeMap:
		kv, ok := m["key"]
		if !ok {
			return DataType{}, fmt.Errorf("%s: a map needs key", path)
		}
		vv, ok := m["value"]
		if !ok {
			return DataType{}, fmt.Errorf("%s: a map needs value", path)
		}
		kt, err := schYAMLElem(kv, path+".key")
		if err != nil {
			return DataType{}, err
		}
		vt, err := schYAMLElem(vv, path+".value")
		if err != nil {
			return DataType{}, err
		}
		vcn, err := optBool("value_contains_null")
		if err != nil {
			return DataType{}, err
		}
		return MapOf(kt, vt, vcn), nil
	}
	for _, k := range []string{"element", "fields", "key", "value"} {
		if _, ok := m[k]; ok {
			return DataType{}, fmt.Errorf("%s: %q is only for array, struct or map types, not %s", path, k, name)
		}
	}
	if err := schCheckPrimitive(name); err != nil {
		return DataType{}, fmt.Errorf("%s: %w", path, err)
	}
	return DataType{Primitive: name}, nil
}

// schYAMLElem reads an element, key or value type: a type name or an object.
func schYAMLElem(v any, path string) (DataType, error) {
	if s, ok := v.(string); ok {
		return schYAMLType(map[string]any{"type": s}, path)
	}
	m, ok := schYAMLMap(v)
	if !ok {
		return DataType{}, fmt.Errorf("%s: want a type name or an object, got %T", path, v)
	}
	if err := schYAMLKeys(m, "type", "element", "contains_null", "fields", "key", "value", "value_contains_null"); err != nil {
		return DataType{}, fmt.Errorf("%s: %w", path, err)
	}
	return schYAMLType(m, path)
}

package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Delta's schema serialization (PROTOCOL.md, "Schema Serialization Format"):
// the JSON in the metaData action's schemaString. Spark's representation,
// compact, keys in Spark's order, so a schema we write reads back byte for
// byte the way Spark and delta-rs print it.

// JSON returns the exact Delta serialization:
// {"type":"struct","fields":[{"name":..,"type":..,"nullable":..,"metadata":{..}},..]}.
func (s StructType) JSON() (string, error) {
	if err := s.Validate(); err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := writeStruct(&b, &s); err != nil {
		return "", err
	}
	return b.String(), nil
}

// MarshalJSON writes the Delta serialization (as JSON, not as a string).
func (s StructType) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := writeStruct(&b, &s); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// UnmarshalJSON reads the Delta serialization of a struct type.
func (s *StructType) UnmarshalJSON(data []byte) error {
	t, err := parseType(data, "")
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
	if err := writeType(&b, t); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// UnmarshalJSON reads a Delta type.
func (t *DataType) UnmarshalJSON(data []byte) error {
	v, err := parseType(data, "")
	if err != nil {
		return err
	}
	*t = v
	return nil
}

func writeStruct(b *bytes.Buffer, s *StructType) error {
	b.WriteString(`{"type":"struct","fields":[`)
	for i := range s.Fields {
		f := &s.Fields[i]
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"name":`)
		writeString(b, f.Name)
		b.WriteString(`,"type":`)
		if err := writeType(b, f.Type); err != nil {
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

func writeType(b *bytes.Buffer, t DataType) error {
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
		return writeStruct(b, t.Struct)
	case t.Array != nil:
		b.WriteString(`{"type":"array","elementType":`)
		if err := writeType(b, t.Array.ElementType); err != nil {
			return err
		}
		b.WriteString(`,"containsNull":`)
		b.WriteString(strconv.FormatBool(t.Array.ContainsNull))
		b.WriteByte('}')
	case t.Map != nil:
		b.WriteString(`{"type":"map","keyType":`)
		if err := writeType(b, t.Map.KeyType); err != nil {
			return err
		}
		b.WriteString(`,"valueType":`)
		if err := writeType(b, t.Map.ValueType); err != nil {
			return err
		}
		b.WriteString(`,"valueContainsNull":`)
		b.WriteString(strconv.FormatBool(t.Map.ValueContainsNull))
		b.WriteByte('}')
	default:
		writeString(b, t.Primitive)
	}
	return nil
}

func writeString(b *bytes.Buffer, s string) {
	// Same escaping as encoding/json without HTML escaping (Spark leaves <>&).
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.Truncate(b.Len() - 1) // Encode appends '\n'
}

// Parse parses a metaData schemaString.
func Parse(schemaString string) (StructType, error) {
	t, err := parseType([]byte(schemaString), "")
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

// jsonType is the union of the keys of Delta's complex types.
type jsonType struct {
	Type              string          `json:"type"`
	Fields            []jsonField     `json:"fields"`
	ElementType       json.RawMessage `json:"elementType"`
	ContainsNull      *bool           `json:"containsNull"`
	KeyType           json.RawMessage `json:"keyType"`
	ValueType         json.RawMessage `json:"valueType"`
	ValueContainsNull *bool           `json:"valueContainsNull"`
}

type jsonField struct {
	Name     *string         `json:"name"`
	Type     json.RawMessage `json:"type"`
	Nullable *bool           `json:"nullable"`
	Metadata json.RawMessage `json:"metadata"`
}

func parseType(data []byte, path string) (DataType, error) {
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
		if err := checkPrimitive(name); err != nil {
			return DataType{}, fmt.Errorf("%s%w", at(), err)
		}
		return DataType{Primitive: name}, nil
	}
	var j jsonType
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
			ft, err := parseType(f.Type, fp)
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
		et, err := parseType(j.ElementType, path+"[]")
		if err != nil {
			return DataType{}, err
		}
		a := &ArrayType{ElementType: et, ContainsNull: true}
		if j.ContainsNull != nil {
			a.ContainsNull = *j.ContainsNull
		}
		return DataType{Array: a}, nil
	case typeMap:
		kt, err := parseType(j.KeyType, path+".key")
		if err != nil {
			return DataType{}, err
		}
		vt, err := parseType(j.ValueType, path+".value")
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

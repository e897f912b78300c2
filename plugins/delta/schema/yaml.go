package schema

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ParseYAML reads a schema declared in a config: a list of fields
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
func ParseYAML(v any) (StructType, error) {
	st, err := yamlStruct(v, "")
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

func yamlList(v any) ([]any, bool) {
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

func yamlMap(v any) (map[string]any, bool) {
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

func yamlStruct(v any, path string) (StructType, error) {
	list, ok := yamlList(v)
	if !ok {
		return StructType{}, fmt.Errorf("%s: want a list of fields, got %T", orElse(path, "fields"), v)
	}
	st := StructType{Fields: make([]StructField, 0, len(list))}
	for i, item := range list {
		m, ok := yamlMap(item)
		if !ok {
			return StructType{}, fmt.Errorf("%sfield %d: want an object with name and type, got %T", yamlAt(path), i, item)
		}
		if err := yamlKeys(m, "name", "type", "nullable", "metadata", "element", "contains_null", "fields", "key", "value", "value_contains_null"); err != nil {
			return StructType{}, fmt.Errorf("%sfield %d: %w", yamlAt(path), i, err)
		}
		name, ok := m["name"].(string)
		if !ok || name == "" {
			return StructType{}, fmt.Errorf("%sfield %d: name must be a non-empty string", yamlAt(path), i)
		}
		fp := name
		if path != "" {
			fp = path + "." + name
		}
		t, err := yamlType(m, fp)
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
			mm, ok := yamlMap(md)
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

func yamlAt(path string) string {
	if path == "" {
		return ""
	}
	return path + ": "
}

func yamlKeys(m map[string]any, allowed ...string) error {
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

// yamlType reads the type of a field (or of an element/key/value) from m,
// which holds "type" and, for complex types, their other keys.
func yamlType(m map[string]any, path string) (DataType, error) {
	tv, ok := m["type"]
	if !ok || tv == nil {
		return DataType{}, fmt.Errorf("%s: missing type", path)
	}
	if tm, ok := yamlMap(tv); ok {
		// type: {type: array, element: ...}
		if err := yamlKeys(tm, "type", "element", "contains_null", "fields", "key", "value", "value_contains_null"); err != nil {
			return DataType{}, fmt.Errorf("%s: %w", path, err)
		}
		return yamlType(tm, path)
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
		et, err := yamlElem(ev, path+"[]")
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
		st, err := yamlStruct(fv, path)
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
		kt, err := yamlElem(kv, path+".key")
		if err != nil {
			return DataType{}, err
		}
		vt, err := yamlElem(vv, path+".value")
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
	if err := checkPrimitive(name); err != nil {
		return DataType{}, fmt.Errorf("%s: %w", path, err)
	}
	return DataType{Primitive: name}, nil
}

// yamlElem reads an element, key or value type: a type name or an object.
func yamlElem(v any, path string) (DataType, error) {
	if s, ok := v.(string); ok {
		return yamlType(map[string]any{"type": s}, path)
	}
	m, ok := yamlMap(v)
	if !ok {
		return DataType{}, fmt.Errorf("%s: want a type name or an object, got %T", path, v)
	}
	if err := yamlKeys(m, "type", "element", "contains_null", "fields", "key", "value", "value_contains_null"); err != nil {
		return DataType{}, fmt.Errorf("%s: %w", path, err)
	}
	return yamlType(m, path)
}

package datafile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"unsafe"

	"github.com/parquet-go/parquet-go"
)

// Shredding: one row's values into the columns' pages, with the Dremel
// definition and repetition levels of the compiled schema.

func (f *Writer) appendNulls(n *schemaNode, rep, def int) {
	for _, c := range f.cols[n.first:n.last] {
		c.null(rep, def, f.seq)
	}
}

// leaf appends the value v of leaf n (nil is null).
func (f *Writer) leaf(n *schemaNode, v any, rep, parentDef int) error {
	c := n.c
	start := len(c.data)
	if c.dict != nil {
		c.rowIdx, c.rowNew = len(c.dict.idx), false
	}
	// The decoder's types first, without the converter's call.
	switch n.fast {
	case fastString:
		if s, ok := v.(string); ok {
			f.checkBytes += len(s)
			if c.dict.active() {
				c.rowNew = c.dict.addString(s)
				c.levels(rep, n.def, f.seq, start)
				return nil
			}
			c.room(len(s) + 4)
			c.data = binary.LittleEndian.AppendUint32(c.data, uint32(len(s)))
			c.data = append(c.data, s...)
			c.levels(rep, n.def, f.seq, start)
			return nil
		}
	case fastLong:
		if x, ok := v.(int64); ok {
			c.room(8)
			c.data = binary.LittleEndian.AppendUint64(c.data, uint64(x))
			c.levels(rep, n.def, f.seq, start)
			return nil
		}
	case fastDouble:
		if x, ok := v.(float64); ok {
			c.room(8)
			c.data = binary.LittleEndian.AppendUint64(c.data, math.Float64bits(x))
			c.levels(rep, n.def, f.seq, start)
			return nil
		}
	}
	if v == nil {
		if !n.optional {
			return &ValueError{Reason: "null in a non-nullable column"}
		}
		c.null(rep, parentDef, f.seq)
		return nil
	}
	pv, err := n.conv(v)
	if err != nil {
		return err
	}
	if c.phys == parquet.ByteArray {
		f.checkBytes += int(pv.u64)
		if c.dict.active() {
			c.rowNew = c.dict.add(unsafe.String(pv.ptr, int(pv.u64)))
			c.levels(rep, n.def, f.seq, start)
			return nil
		}
	}
	c.value(pv)
	c.levels(rep, n.def, f.seq, start)
	return nil
}

// shred appends the values of v for node n: rep is the repetition level of
// the first value, parentDef the definition level of n's parent.
func (f *Writer) shred(n *schemaNode, v any, rep, parentDef int) error {
	if n.kind == kindLeaf {
		return f.leaf(n, v, rep, parentDef)
	}
	if v == nil {
		if !n.optional {
			return &ValueError{Reason: "null in a non-nullable column"}
		}
		f.appendNulls(n, rep, parentDef)
		return nil
	}
	switch n.kind {
	case kindStruct:
		m, ok := v.(map[string]any)
		if !ok {
			return shredStructReflect(f, n, v, rep)
		}
		for _, c := range n.fields {
			if err := f.shred(c, m[c.name], rep, n.def); err != nil {
				var ve *ValueError
				if errors.As(err, &ve) {
					ve.prefix(c.name)
				}
				return err
			}
		}
		return nil
	case kindList:
		return f.shredList(n, v, rep)
	case kindMap:
		return f.shredMap(n, v, rep)
	}
	return fmt.Errorf("datafile: bad schema node kind %d", n.kind)
}

// shredStructReflect accepts other map types with string keys (map[string]string,
// map[string]int64, ...) through reflection.
func shredStructReflect(f *Writer, n *schemaNode, v any, rep int) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return &ValueError{Reason: "want struct, got " + describe(v)}
	}
	for _, c := range n.fields {
		var cv any
		if x := rv.MapIndex(reflect.ValueOf(c.name).Convert(rv.Type().Key())); x.IsValid() {
			cv = x.Interface()
		}
		if err := f.shred(c, cv, rep, n.def); err != nil {
			var ve *ValueError
			if errors.As(err, &ve) {
				ve.prefix(c.name)
			}
			return err
		}
	}
	return nil
}

func (f *Writer) shredList(n *schemaNode, v any, rep int) error {
	elemErr := func(i int, err error) error {
		var ve *ValueError
		if errors.As(err, &ve) {
			ve.prefix("[" + strconv.Itoa(i) + "]")
		}
		return err
	}
	switch l := v.(type) {
	case []any:
		if len(l) == 0 {
			f.appendNulls(n, rep, n.def)
			return nil
		}
		for i, e := range l {
			r := rep
			if i > 0 {
				r = n.rep
			}
			if err := f.shred(n.elem, e, r, n.def+1); err != nil {
				return elemErr(i, err)
			}
		}
		return nil
	case string, []byte:
		return &ValueError{Reason: "want array, got " + describe(v)}
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return &ValueError{Reason: "want array, got " + describe(v)}
	}
	if rv.Len() == 0 {
		f.appendNulls(n, rep, n.def)
		return nil
	}
	for i := 0; i < rv.Len(); i++ {
		r := rep
		if i > 0 {
			r = n.rep
		}
		if err := f.shred(n.elem, rv.Index(i).Interface(), r, n.def+1); err != nil {
			return elemErr(i, err)
		}
	}
	return nil
}

func (f *Writer) shredMap(n *schemaNode, v any, rep int) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map {
		return &ValueError{Reason: "want map, got " + describe(v)}
	}
	if rv.Len() == 0 {
		f.appendNulls(n, rep, n.def)
		return nil
	}
	// Sorted keys: the same map always makes the same file.
	keys := rv.MapKeys()
	sort.Slice(keys, func(i, j int) bool {
		return fmt.Sprint(keys[i].Interface()) < fmt.Sprint(keys[j].Interface())
	})
	for i, k := range keys {
		r := rep
		if i > 0 {
			r = n.rep
		}
		kv := k.Interface()
		if err := f.shred(n.key, kv, r, n.def+1); err != nil {
			var ve *ValueError
			if errors.As(err, &ve) {
				ve.prefix("key")
			}
			return err
		}
		if err := f.shred(n.value, rv.MapIndex(k).Interface(), r, n.def+1); err != nil {
			var ve *ValueError
			if errors.As(err, &ve) {
				ve.prefix("[" + fmt.Sprint(kv) + "]")
			}
			return err
		}
	}
	return nil
}

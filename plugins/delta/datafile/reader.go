package datafile

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"

	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
)

// Reader reads the rows of one data file back, typed per the Delta schema
// the caller gives: the table's schema without its partition columns, whose
// values are in the add action, not in the file (a column the file lacks
// reads as null, as after a schema change; file columns the schema does not
// name are skipped). Columns are found by name, so a file of Spark, delta-rs
// or DuckDB reads as well as ours. parquet-go decodes the pages; the reader
// assembles each row from its columns' definition and repetition levels. It
// holds one row group's column readers and a few rows at a time, never the
// file. It is not safe for concurrent use.
//
// A row is a map[string]any with every column of the schema (nil for null):
//
//	string → string, binary → []byte, long → int64, integer → int32,
//	short → int16, byte → int8, double → float64, float → float32,
//	boolean → bool, date → time.Time (UTC midnight),
//	timestamp → time.Time (UTC), timestamp_ntz → time.Time (its wall clock, as UTC),
//	decimal(p,s) → json.Number with s fractional digits,
//	array → []any, struct → map[string]any, map → map[string]any
//	(map[any]any when its keys are not strings).
//
// These are values Writer takes, so a row read is a row that can be written.
type Reader struct {
	file   *parquet.File
	schema schema.StructType
	root   []*readNode
	used   []int  // the file's leaf columns that the schema reads
	want   []bool // by leaf column: used

	group int          // the next row group
	rows  parquet.Rows // the current row group's rows, nil between groups
	buf   []parquet.Row
	n, i  int // rows in buf, and the next one to assemble

	// The current row's values, by leaf column, and a cursor in each.
	values [][]parquet.Value
	pos    []int
}

// readRows is how many rows a Reader decodes at once.
const readRows = 64

// NewReader opens the data file in r (size bytes) to read it with schema s.
// It reads the footer only; a file whose columns do not fit s (another
// physical type, a list that is not a list) fails here, naming the column.
func NewReader(r io.ReaderAt, size int64, s schema.StructType) (*Reader, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	f, err := parquet.OpenFile(r, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("parquet reader: %w", err)
	}
	rd := &Reader{file: f, schema: s, values: make([][]parquet.Value, len(f.Schema().Columns())), pos: make([]int, len(f.Schema().Columns()))}
	b := readBuilder{}
	for i := range s.Fields {
		n, err := b.field(&s.Fields[i], f.Root().Column(s.Fields[i].Name), 0, 0, s.Fields[i].Name)
		if err != nil {
			return nil, fmt.Errorf("parquet reader: %w", err)
		}
		rd.root = append(rd.root, n)
	}
	rd.used = b.used
	rd.want = make([]bool, len(rd.values))
	for _, c := range b.used {
		rd.want[c] = true
	}
	return rd, nil
}

// NumRows is the number of rows in the file.
func (r *Reader) NumRows() int64 { return r.file.NumRows() }

// Read returns the next row, or io.EOF after the last one.
func (r *Reader) Read() (map[string]any, error) {
	for r.i >= r.n {
		if err := r.fill(); err != nil {
			return nil, err
		}
	}
	row := r.buf[r.i]
	r.i++
	for _, c := range r.used {
		r.values[c], r.pos[c] = r.values[c][:0], 0
	}
	for _, v := range row {
		if c := v.Column(); c < len(r.want) && r.want[c] {
			r.values[c] = append(r.values[c], v)
		}
	}
	out := make(map[string]any, len(r.root))
	for _, n := range r.root {
		v, err := r.read(n)
		if err != nil {
			return nil, fmt.Errorf("parquet reader: column %s: %w", n.path, err)
		}
		out[n.name] = v
	}
	for _, c := range r.used {
		if r.pos[c] != len(r.values[c]) {
			return nil, fmt.Errorf("parquet reader: leaf column %d: %d of its %d values in a row were not read (its levels do not fit the schema)", c, r.pos[c], len(r.values[c]))
		}
	}
	return out, nil
}

// fill decodes the next rows, moving to the next row group when one ends.
func (r *Reader) fill() error {
	if r.rows == nil {
		if r.group >= len(r.file.RowGroups()) {
			return io.EOF
		}
		r.rows = r.file.RowGroups()[r.group].Rows()
		r.group++
	}
	if r.buf == nil {
		r.buf = make([]parquet.Row, readRows)
	}
	n, err := r.rows.ReadRows(r.buf)
	r.n, r.i = n, 0
	if errors.Is(err, io.EOF) {
		err = r.rows.Close()
		r.rows = nil
	}
	if err != nil {
		return fmt.Errorf("parquet reader: row group %d: %w", r.group-1, err)
	}
	return nil
}

// Close releases the current row group's readers; the io.ReaderAt is the
// caller's to close.
func (r *Reader) Close() error {
	if r.rows == nil {
		return nil
	}
	err := r.rows.Close()
	r.rows = nil
	r.group = len(r.file.RowGroups())
	return err
}

// readNode is a column of the schema matched with the file's columns: the
// definition level at which it is present and, for lists and maps, the
// repetition level of their entries, as the file's schema sets them.
type readNode struct {
	kind nodeKind
	name string
	path string
	def  int // present (not null) at this definition level or above
	rep  int // lists and maps: the repetition level of an entry after the first

	fields     []*readNode
	elem       *readNode
	key, value *readNode
	stringKeys bool

	lead   int   // a leaf column under the node, whose levels tell its nulls; -1: the file has none
	leaves []int // every leaf column under the node
	conv   func(parquet.Value) (any, error)
}

type readBuilder struct {
	used []int
}

// field matches the schema field f with the file column col (nil: absent)
// under a parent present at definition level def, repeated at level rep.
func (b *readBuilder) field(f *schema.StructField, col *parquet.Column, def, rep int, path string) (*readNode, error) {
	n := &readNode{name: f.Name, path: path, lead: -1}
	if col == nil {
		return n, nil // read as null
	}
	if col.Repeated() {
		return nil, fmt.Errorf("column %s: a repeated field outside a list or map (a legacy list encoding) is not supported", path)
	}
	n.def = def
	if col.Optional() {
		n.def++
	}
	return n, b.build(n, f.Type, col, rep)
}

// build fills n, whose file column is col, for Delta type t.
func (b *readBuilder) build(n *readNode, t schema.DataType, col *parquet.Column, rep int) error {
	switch {
	case t.Struct != nil:
		n.kind = kindStruct
		if col.Leaf() {
			return fmt.Errorf("column %s: the schema says %s, the file has a %s column", n.path, t, col.Type())
		}
		for i := range t.Struct.Fields {
			sf := &t.Struct.Fields[i]
			c, err := b.field(sf, col.Column(sf.Name), n.def, rep, n.path+"."+sf.Name)
			if err != nil {
				return err
			}
			n.fields = append(n.fields, c)
		}
	case t.Array != nil, t.Map != nil:
		entries, err := repeatedChild(col, n.path, t)
		if err != nil {
			return err
		}
		n.rep = rep + 1
		entryDef := n.def + 1
		if t.Array != nil {
			n.kind = kindList
			// Three levels (list / repeated group / element), as Spark,
			// delta-rs, DuckDB and Writer write lists; in the older two-level
			// form the repeated field is the element itself.
			elemField := &schema.StructField{Name: "element", Type: t.Array.ElementType, Nullable: t.Array.ContainsNull}
			if threeLevel(col, entries) {
				if n.elem, err = b.field(elemField, entries.Columns()[0], entryDef, n.rep, n.path+"[]"); err != nil {
					return err
				}
			} else {
				n.elem = &readNode{name: "element", path: n.path + "[]", def: entryDef, lead: -1}
				if err := b.build(n.elem, t.Array.ElementType, entries, n.rep); err != nil {
					return err
				}
			}
		} else {
			n.kind = kindMap
			kv := entries.Columns()
			if entries.Leaf() || len(kv) != 2 {
				return fmt.Errorf("column %s: a map's entries must be a group of a key and a value", n.path)
			}
			n.stringKeys = t.Map.KeyType.Primitive == schema.TypeString
			if n.key, err = b.field(&schema.StructField{Name: "key", Type: t.Map.KeyType}, kv[0], entryDef, n.rep, n.path+".key"); err != nil {
				return err
			}
			if n.value, err = b.field(&schema.StructField{Name: "value", Type: t.Map.ValueType, Nullable: true}, kv[1], entryDef, n.rep, n.path+".value"); err != nil {
				return err
			}
			if n.key.lead < 0 {
				return fmt.Errorf("column %s: the map has no key column", n.path)
			}
		}
	default:
		n.kind = kindLeaf
		if !col.Leaf() {
			return fmt.Errorf("column %s: the schema says %s, the file has a group", n.path, t)
		}
		if col.MaxDefinitionLevel() != n.def || col.MaxRepetitionLevel() != rep {
			return fmt.Errorf("column %s: levels %d/%d in the file, %d/%d from its path", n.path, col.MaxDefinitionLevel(), col.MaxRepetitionLevel(), n.def, rep)
		}
		conv, err := leafConverter(t.Primitive, col.Type())
		if err != nil {
			return fmt.Errorf("column %s: %w", n.path, err)
		}
		n.conv = conv
		n.lead = col.Index()
		n.leaves = []int{n.lead}
		b.used = append(b.used, n.lead)
		return nil
	}
	for _, c := range n.children() {
		if n.lead < 0 {
			n.lead = c.lead
		}
		n.leaves = append(n.leaves, c.leaves...)
	}
	return nil
}

func (n *readNode) children() []*readNode {
	switch n.kind {
	case kindStruct:
		return n.fields
	case kindList:
		return []*readNode{n.elem}
	case kindMap:
		return []*readNode{n.key, n.value}
	}
	return nil
}

// repeatedChild is the repeated group under a list or map column.
func repeatedChild(col *parquet.Column, path string, t schema.DataType) (*parquet.Column, error) {
	cs := col.Columns()
	if col.Leaf() || len(cs) != 1 || !cs[0].Repeated() {
		return nil, fmt.Errorf("column %s: the schema says %s, the file's column is not a list or map of one repeated field", path, t)
	}
	return cs[0], nil
}

// threeLevel tells the standard list (a repeated group holding the element)
// from the two-level one, by the rules of the Parquet format's backward
// compatibility section.
func threeLevel(list, repeated *parquet.Column) bool {
	if repeated.Leaf() || len(repeated.Columns()) != 1 {
		return false
	}
	name := repeated.Name()
	return name != "array" && name != list.Name()+"_tuple"
}

// read assembles the value of n in the current row.
func (r *Reader) read(n *readNode) (any, error) {
	if n.lead < 0 {
		return nil, nil
	}
	lead := r.peek(n.lead)
	if lead.DefinitionLevel() < n.def {
		r.skip(n) // null
		return nil, nil
	}
	switch n.kind {
	case kindLeaf:
		v := r.next(n.lead)
		return n.conv(v)
	case kindStruct:
		m := make(map[string]any, len(n.fields))
		for _, f := range n.fields {
			v, err := r.read(f)
			if err != nil {
				return nil, err
			}
			m[f.name] = v
		}
		return m, nil
	case kindList:
		out := []any{}
		if lead.DefinitionLevel() == n.def {
			r.skip(n) // empty
			return out, nil
		}
		for {
			v, err := r.read(n.elem)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			if !r.another(n) {
				return out, nil
			}
		}
	case kindMap:
		var sm map[string]any
		var am map[any]any
		if n.stringKeys {
			sm = map[string]any{}
		} else {
			am = map[any]any{}
		}
		if lead.DefinitionLevel() > n.def {
			for {
				k, err := r.read(n.key)
				if err != nil {
					return nil, err
				}
				v, err := r.read(n.value)
				if err != nil {
					return nil, err
				}
				if sm != nil {
					s, _ := k.(string)
					sm[s] = v
				} else {
					am[k] = v
				}
				if !r.another(n) {
					break
				}
			}
		} else {
			r.skip(n) // empty
		}
		if sm != nil {
			return sm, nil
		}
		return am, nil
	}
	return nil, fmt.Errorf("bad node kind %d", n.kind)
}

func (r *Reader) peek(col int) parquet.Value {
	if r.pos[col] >= len(r.values[col]) {
		return parquet.Value{} // a missing value reads as null; Read reports the imbalance
	}
	return r.values[col][r.pos[col]]
}

func (r *Reader) next(col int) parquet.Value {
	v := r.peek(col)
	r.pos[col]++
	return v
}

// skip passes the one value each leaf under n has when n is null or empty.
func (r *Reader) skip(n *readNode) {
	for _, c := range n.leaves {
		r.pos[c]++
	}
}

// another reports whether the list or map n has another entry in this row.
func (r *Reader) another(n *readNode) bool {
	c := n.lead
	return r.pos[c] < len(r.values[c]) && r.values[c][r.pos[c]].RepetitionLevel() == n.rep
}

// leafConverter reads the values of a file column of type ft as Delta type
// name, or says why they cannot be.
func leafConverter(name string, ft parquet.Type) (func(parquet.Value) (any, error), error) {
	kind := ft.Kind()
	lt := ft.LogicalType()
	mismatch := func() error { return fmt.Errorf("the schema says %s, the file has %s", name, describeType(ft)) }
	switch name {
	case schema.TypeString:
		if kind == parquet.ByteArray {
			return func(v parquet.Value) (any, error) { return string(v.ByteArray()), nil }, nil
		}
	case schema.TypeBinary:
		if kind == parquet.ByteArray || kind == parquet.FixedLenByteArray {
			return func(v parquet.Value) (any, error) { return append([]byte{}, v.ByteArray()...), nil }, nil
		}
	case schema.TypeLong:
		switch kind {
		case parquet.Int64:
			return func(v parquet.Value) (any, error) { return v.Int64(), nil }, nil
		case parquet.Int32: // a widened type
			return func(v parquet.Value) (any, error) { return int64(v.Int32()), nil }, nil
		}
	case schema.TypeInteger:
		if kind == parquet.Int32 {
			return func(v parquet.Value) (any, error) { return v.Int32(), nil }, nil
		}
	case schema.TypeShort:
		if kind == parquet.Int32 {
			return func(v parquet.Value) (any, error) { return int16(v.Int32()), nil }, nil
		}
	case schema.TypeByte:
		if kind == parquet.Int32 {
			return func(v parquet.Value) (any, error) { return int8(v.Int32()), nil }, nil
		}
	case schema.TypeDouble:
		switch kind {
		case parquet.Double:
			return func(v parquet.Value) (any, error) { return v.Double(), nil }, nil
		case parquet.Float:
			return func(v parquet.Value) (any, error) { return float64(v.Float()), nil }, nil
		}
	case schema.TypeFloat:
		if kind == parquet.Float {
			return func(v parquet.Value) (any, error) { return v.Float(), nil }, nil
		}
	case schema.TypeBoolean:
		if kind == parquet.Boolean {
			return func(v parquet.Value) (any, error) { return v.Boolean(), nil }, nil
		}
	case schema.TypeDate:
		if kind == parquet.Int32 {
			return func(v parquet.Value) (any, error) {
				return time.Unix(int64(v.Int32())*86400, 0).UTC(), nil
			}, nil
		}
	case schema.TypeTimestamp, schema.TypeTimestampNTZ:
		switch kind {
		case parquet.Int64:
			unit := time.Microsecond
			if lt != nil {
				if ts, ok := lt.Value.(*format.TimestampType); ok && ts.Unit.Value != nil {
					unit = ts.Unit.Value.Duration()
				}
			} else if ct := ft.ConvertedType(); ct != nil && *ct == deprecated.TimestampMillis {
				unit = time.Millisecond
			}
			return func(v parquet.Value) (any, error) { return unitTime(v.Int64(), unit), nil }, nil
		case parquet.Int96: // Spark's and Hive's legacy timestamps
			return func(v parquet.Value) (any, error) { return int96Time(v.Int96()), nil }, nil
		}
	default:
		if strings.HasPrefix(name, "decimal") {
			return decimalConverter(name, ft)
		}
		return nil, fmt.Errorf("type %s cannot be read", name)
	}
	return nil, mismatch()
}

// decimalConverter reads the unscaled integers of decimal(p,s) as exact
// decimal numbers with s fractional digits.
func decimalConverter(name string, ft parquet.Type) (func(parquet.Value) (any, error), error) {
	_, scale, err := schema.ParseDecimal(name)
	if err != nil {
		return nil, err
	}
	if lt := ft.LogicalType(); lt != nil {
		if d, ok := lt.Value.(*format.DecimalType); ok && int(d.Scale) != scale {
			return nil, fmt.Errorf("the schema says %s, the file's decimal has scale %d", name, d.Scale)
		}
	}
	str := func(u *big.Int) (any, error) { return json.Number(decimalString(u, scale)), nil }
	switch ft.Kind() {
	case parquet.Int32:
		return func(v parquet.Value) (any, error) { return str(big.NewInt(int64(v.Int32()))) }, nil
	case parquet.Int64:
		return func(v parquet.Value) (any, error) { return str(big.NewInt(v.Int64())) }, nil
	case parquet.ByteArray, parquet.FixedLenByteArray:
		return func(v parquet.Value) (any, error) { return str(fromTwosComplement(v.ByteArray())) }, nil
	}
	return nil, fmt.Errorf("the schema says %s, the file has %s", name, describeType(ft))
}

// unitTime is n units since the epoch, in UTC.
func unitTime(n int64, unit time.Duration) time.Time {
	switch unit {
	case time.Nanosecond:
		return time.Unix(0, n).UTC()
	case time.Millisecond:
		return time.UnixMilli(n).UTC()
	}
	return time.UnixMicro(n).UTC()
}

// int96Time decodes an INT96 timestamp: nanoseconds of the day, then the
// Julian day.
func int96Time(i deprecated.Int96) time.Time {
	var b [12]byte
	binary.LittleEndian.PutUint32(b[0:], i[0])
	binary.LittleEndian.PutUint32(b[4:], i[1])
	binary.LittleEndian.PutUint32(b[8:], i[2])
	nanos := int64(binary.LittleEndian.Uint64(b[0:8]))
	day := int64(binary.LittleEndian.Uint32(b[8:12])) - 2440588 // the Julian day of 1970-01-01
	return time.Unix(day*86400, nanos).UTC()
}

// describeType names a file column's type for errors: its physical type and
// its logical annotation, if any.
func describeType(t parquet.Type) string {
	s := t.Kind().String()
	if lt := t.LogicalType(); lt != nil && lt.Value != nil {
		s += " (" + lt.String() + ")"
	}
	return s
}

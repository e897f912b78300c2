package delta

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"

	"github.com/parquet-go/parquet-go/compress/zstd"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"
)

// The Parquet data-file writer. Rows arrive as map[string]any (what the GDELT
// decoder and Benthos structured messages hold) and are shredded straight
// into per-column parquet.Values, with definition and repetition levels
// computed from the Delta schema, then handed column by column to
// parquet-go's column writers: no reflection, no parquet.Row transposition.

// Writer defaults.
const (
	DefaultRowGroupRows  = 128 * 1024
	DefaultRowGroupBytes = 64 << 20
	DefaultCompression   = "zstd"
)

// Rows are staged and pushed to the column writers in batches: this many rows
// or this many bytes of values, whichever comes first. A batch is also the
// most a single data page can overshoot the page buffer size by.
const (
	pqBatchRows  = 256
	pqBatchBytes = 1 << 20
)

// WriterOptions configure a FileWriter.
type WriterOptions struct {
	// Compression is the codec of every column: "zstd" (default), "snappy",
	// "gzip" or "uncompressed".
	Compression string
	// RowGroupRows flushes a row group after this many rows (default 128Ki).
	RowGroupRows int
	// RowGroupBytes flushes a row group once its encoded pages and buffered
	// values reach about this many bytes (default 64 MiB). The writer holds
	// at most one row group in memory, so this bounds its memory.
	RowGroupBytes int64
	// PageBufferSize is the uncompressed size at which a column's buffered
	// values become a data page (parquet-go's default, 256 KiB, when 0).
	PageBufferSize int
}

// ValueError is returned by Write when a value does not fit its column. The
// row is not written; the writer stays usable.
type ValueError struct {
	Column string // the column's path: goldstein_scale, v2_tone.tone, counts[2].count
	Reason string // e.g. `want double, got string "abc"`
}

func (e *ValueError) Error() string { return "column " + e.Column + ": " + e.Reason }

// prefix puts a struct field name or a list index in front of the path.
func (e *ValueError) prefix(p string) *ValueError {
	switch {
	case e.Column == "":
		e.Column = p
	case e.Column[0] == '[':
		e.Column = p + e.Column
	default:
		e.Column = p + "." + e.Column
	}
	return e
}

// FileWriter writes one Parquet data file of a Delta table.
type FileWriter struct {
	out    *pqCountingWriter
	w      *parquet.Writer
	cols   []*parquet.ColumnWriter
	schema StructType
	root   *pqNode
	leaves []*pqNode

	// vals holds the staged values of each leaf column. A flat leaf (no
	// array or map above it) has exactly one value per row: slot i is row i
	// of the batch. A repeated leaf appends; marks keeps the lengths of the
	// repeated leaves at the start of the row being shredded, to undo it.
	vals       [][]pqValue
	repCols    []int
	marks      []int
	batchRows  int
	batchBytes int

	rowGroupRows  int
	rowGroupBytes int64
	groupRows     int
	groupBase     int64 // w.Size() when the current row group started

	codec          compress.Codec
	pageBufferSize int

	rows   int64
	err    error // sticky: a failure of the output or of parquet-go
	closed bool
	stats  *Stats
}

// NewFileWriter returns a writer of a Parquet file with schema s to w:
// columns in schema order, data pages V1, one codec for every column. The
// caller passes the schema without partition columns. Close writes the
// footer; w itself is not closed.
func NewFileWriter(w io.Writer, s StructType, o WriterOptions) (*FileWriter, error) {
	if pqLayoutErr != nil {
		return nil, pqLayoutErr
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if len(s.Fields) == 0 {
		return nil, errors.New("parquet writer: the schema has no columns")
	}
	codec, err := pqCodec(o.Compression)
	if err != nil {
		return nil, err
	}
	if o.RowGroupRows <= 0 {
		o.RowGroupRows = DefaultRowGroupRows
	}
	if o.RowGroupBytes <= 0 {
		o.RowGroupBytes = DefaultRowGroupBytes
	}
	b := pqBuilder{}
	root, err := b.build(&StructField{Name: "", Type: StructOf(s.Fields...), Nullable: false}, 0, 0, "")
	if err != nil {
		return nil, err
	}
	f := &FileWriter{
		out:           &pqCountingWriter{w: w},
		schema:        s,
		root:          root,
		leaves:        b.leaves,
		vals:          make([][]pqValue, len(b.leaves)),
		rowGroupRows:  o.RowGroupRows,
		rowGroupBytes: o.RowGroupBytes,
	}
	for i, l := range b.leaves {
		if l.flat {
			f.vals[i] = make([]pqValue, pqBatchRows)
		} else {
			f.repCols = append(f.repCols, i)
		}
	}
	f.marks = make([]int, len(f.repCols))
	f.codec = codec
	f.pageBufferSize = o.PageBufferSize
	return f, nil
}

// start creates the parquet-go writer once the first batch is staged: the
// batch decides which columns are dictionary-encoded.
func (f *FileWriter) start() error {
	f.chooseEncodings()
	opts := []parquet.WriterOption{
		parquet.NewSchema("spark_schema", f.root.parquetNode()),
		parquet.Compression(f.codec),
		parquet.DataPageVersion(1), // Delta: writers default to V1 data pages
		// Per-page min/max in page headers would repeat whole long strings
		// (GKG fields run to tens of KB); the page index has them truncated.
		parquet.DataPageStatistics(false),
		// A dictionary that outgrows this goes back to plain encoding.
		parquet.DictionaryMaxBytes(pqDictMaxBytes),
	}
	if f.pageBufferSize > 0 {
		opts = append(opts, parquet.PageBufferSize(f.pageBufferSize))
	}
	// NewWriter panics on a bad configuration: check it first. (Passing the
	// checked *WriterConfig itself would not do: it ORs the boolean options
	// with the defaults, so DataPageStatistics(false) would be lost.)
	if _, err := parquet.NewWriterConfig(opts...); err != nil {
		f.err = fmt.Errorf("parquet writer: %w", err)
		return f.err
	}
	f.w = parquet.NewWriter(f.out, opts...)
	f.cols = f.w.ColumnWriters()
	if len(f.cols) != len(f.leaves) {
		f.err = fmt.Errorf("parquet writer: %d column writers for %d leaf columns", len(f.cols), len(f.leaves))
		return f.err
	}
	return nil
}

// pqDictMaxBytes bounds a column's dictionary (per row group).
const pqDictMaxBytes = 1 << 20

// chooseEncodings turns dictionary encoding on for the flat columns whose
// first batch repeats values: at least half of its non-null values are
// repeats (GDELT's codes, country codes, dates, source names), or it has
// too few values to tell. Unique values (URLs, GKG blocks, ids) stay plain:
// a dictionary would only cost hashing there.
func (f *FileWriter) chooseEncodings() {
	mode := os.Getenv("PQ_DICT")
	for _, n := range f.leaves {
		n.dict = false
		if !n.flat || n.phys == parquet.Boolean || mode == "off" {
			continue
		}
		if mode == "str" && !n.bytes {
			continue
		}
		vals := f.vals[n.col][:f.batchRows]
		nonNull, distinct := 0, 0
		if n.bytes {
			seen := make(map[string]struct{}, len(vals))
			for i := range vals {
				if v := &vals[i]; v.kind != 0 {
					nonNull++
					seen[unsafe.String(v.ptr, int(v.u64))] = struct{}{}
				}
			}
			distinct = len(seen)
		} else {
			seen := make(map[uint64]struct{}, len(vals))
			for i := range vals {
				if v := &vals[i]; v.kind != 0 {
					nonNull++
					seen[v.u64] = struct{}{}
				}
			}
			distinct = len(seen)
		}
		n.dict = nonNull < 16 || distinct*2 <= nonNull
	}
}

var pqZstdFastest = zstd.Codec{Level: zstd.SpeedFastest}

func pqCodec(name string) (compress.Codec, error) {
	switch strings.ToLower(name) {
	case "", "zstd":
		if os.Getenv("PQ_ZSTD") == "fastest" {
			return &pqZstdFastest, nil
		}
		return &parquet.Zstd, nil
	case "snappy":
		return &parquet.Snappy, nil
	case "gzip":
		return &parquet.Gzip, nil
	case "uncompressed", "none":
		return &parquet.Uncompressed, nil
	}
	return nil, fmt.Errorf("unknown parquet compression %q (want zstd, snappy, gzip or uncompressed)", name)
}

// Schema returns the schema the file is written with.
func (f *FileWriter) Schema() StructType { return f.schema }

// Rows returns the number of rows written so far.
func (f *FileWriter) Rows() int64 { return f.rows }

// BytesWritten returns the bytes passed to the output so far: the flushed
// row groups (and the footer after Close). Rows of the current row group are
// not counted until it is flushed.
func (f *FileWriter) BytesWritten() int64 { return f.out.n }

// Write adds one row. Keys are column names; a missing key is null; keys
// that are not columns are ignored. Values are converted to the column
// types: int64, int, float64, string, bool, time.Time, json.Number, []byte,
// []any for arrays, map[string]any for structs and maps. A value that does
// not fit fails with a *ValueError, nothing of the row is written, and the
// writer stays usable.
func (f *FileWriter) Write(row map[string]any) error {
	if f.closed {
		return errors.New("parquet writer: write after close")
	}
	if f.err != nil {
		return f.err
	}
	for i, c := range f.repCols {
		f.marks[i] = len(f.vals[c])
	}
	bytesMark := f.batchBytes
	for _, n := range f.root.fields {
		v := row[n.name]
		var err error
		if n.kind == pqLeaf {
			err = f.leaf(n, v, 0, 0)
		} else {
			err = f.shred(n, v, 0, 0)
		}
		if err != nil {
			for i, c := range f.repCols {
				clear(f.vals[c][f.marks[i]:])
				f.vals[c] = f.vals[c][:f.marks[i]]
			}
			f.batchBytes = bytesMark
			var ve *ValueError
			if errors.As(err, &ve) {
				ve.prefix(n.name)
			}
			return err
		}
	}
	f.rows++
	f.batchRows++
	if f.batchRows >= pqBatchRows || f.batchBytes >= pqBatchBytes || f.groupRows+f.batchRows >= f.rowGroupRows {
		return f.push()
	}
	return nil
}

// push hands the staged rows to the column writers and flushes the row
// group when it is full.
func (f *FileWriter) push() error {
	if f.batchRows == 0 {
		return nil
	}
	if f.w == nil {
		if err := f.start(); err != nil {
			return err
		}
	}
	for i, c := range f.cols {
		vals := f.vals[i]
		if f.leaves[i].flat {
			vals = vals[:f.batchRows]
		}
		if _, err := c.WriteRowValues(pqValues(vals)); err != nil {
			f.err = fmt.Errorf("parquet writer: column %s: %w", f.leaves[i].path, err)
			return f.err
		}
		clear(vals) // drop the references to the callers' strings
		if !f.leaves[i].flat {
			f.vals[i] = vals[:0]
		}
	}
	f.groupRows += f.batchRows
	f.batchRows, f.batchBytes = 0, 0
	if f.groupRows >= f.rowGroupRows || f.w.Size()-f.groupBase >= f.rowGroupBytes {
		return f.flushRowGroup()
	}
	return nil
}

func (f *FileWriter) flushRowGroup() error {
	if err := f.w.Flush(); err != nil {
		f.err = fmt.Errorf("parquet writer: flushing a row group: %w", err)
		return f.err
	}
	f.groupRows = 0
	f.groupBase = f.w.Size()
	return nil
}

// Flush ends the current row group (a no-op when it is empty).
func (f *FileWriter) Flush() error {
	if f.closed {
		return errors.New("parquet writer: flush after close")
	}
	if f.err != nil {
		return f.err
	}
	if err := f.push(); err != nil {
		return err
	}
	if f.groupRows > 0 {
		return f.flushRowGroup()
	}
	return nil
}

// Close flushes the last row group, writes the footer and returns the
// file's statistics, taken from the footer. Calling it again returns the
// same statistics.
func (f *FileWriter) Close() (*Stats, error) {
	if f.closed {
		if f.err != nil {
			return nil, f.err
		}
		return f.stats, nil
	}
	f.closed = true
	if f.err != nil {
		return nil, f.err
	}
	if err := f.push(); err != nil {
		return nil, err
	}
	if f.w == nil { // no rows: a file with the schema and no row groups
		if err := f.start(); err != nil {
			return nil, err
		}
	}
	f.vals, f.marks = nil, nil
	if err := f.w.Close(); err != nil {
		f.err = fmt.Errorf("parquet writer: writing the footer: %w", err)
		return nil, f.err
	}
	st, err := pqStatsFromFooter(f.w.File().Metadata(), f.root, f.leaves, f.schema)
	if err != nil {
		f.err = err
		return nil, err
	}
	f.stats = st
	return st, nil
}

type pqCountingWriter struct {
	w io.Writer
	n int64
}

func (c *pqCountingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// ---------------------------------------------------------------------------
// The compiled schema.

type pqKind uint8

const (
	pqLeaf pqKind = iota
	pqStruct
	pqList
	pqMap
)

// pqNode is one node of the schema with its Dremel levels.
type pqNode struct {
	kind     pqKind
	name     string // the field name ("element", "key", "value" inside lists and maps)
	path     string // dotted path for messages
	optional bool
	def      int // definition level when this node is present
	rep      int // list/map: the repetition level of their entries; others: of the enclosing list
	typ      DataType

	// leaf
	col   int
	conv  pqConverter
	fast  pqFast // the decoder's Go type for this column, converted inline
	bytes bool   // ByteArray values: counted in the batch size
	flat  bool   // no array or map above: one value per row

	fields     []*pqNode // struct
	elem       *pqNode   // list
	key, value *pqNode   // map

	first, last int // leaf columns [first, last) under this node

	leafNode parquet.Node // leaf: the bare Parquet type
	phys     parquet.Kind // leaf: the physical type
	dict     bool         // leaf: dictionary-encoded (chosen from the first batch)
}

type pqBuilder struct {
	leaves []*pqNode
}

// build compiles field f whose parent is present at definition level
// parentDef and repeated at parentRep.
func (b *pqBuilder) build(f *StructField, parentDef, parentRep int, parentPath string) (*pqNode, error) {
	n := &pqNode{name: f.Name, optional: f.Nullable, rep: parentRep, typ: f.Type, first: len(b.leaves)}
	n.path = f.Name
	if parentPath != "" {
		n.path = parentPath + "." + f.Name
	}
	n.def = parentDef
	if n.optional {
		n.def++
	}
	if n.def > parquet.MaxDefinitionLevel || parentRep+1 > parquet.MaxRepetitionLevel {
		return nil, fmt.Errorf("column %s: nested too deeply", n.path)
	}
	t := f.Type
	switch {
	case t.Struct != nil:
		n.kind = pqStruct
		for i := range t.Struct.Fields {
			c, err := b.build(&t.Struct.Fields[i], n.def, parentRep, n.path)
			if err != nil {
				return nil, err
			}
			n.fields = append(n.fields, c)
		}
		if len(n.fields) == 0 {
			return nil, fmt.Errorf("column %s: a struct needs at least one field", schOr(n.path, "schema"))
		}
	case t.Array != nil:
		n.kind = pqList
		n.rep = parentRep + 1
		e, err := b.build(&StructField{Name: "element", Type: t.Array.ElementType, Nullable: t.Array.ContainsNull}, n.def+1, n.rep, n.path)
		if err != nil {
			return nil, err
		}
		e.path = n.path + "[]"
		n.elem = e
	case t.Map != nil:
		n.kind = pqMap
		n.rep = parentRep + 1
		k, err := b.build(&StructField{Name: "key", Type: t.Map.KeyType, Nullable: false}, n.def+1, n.rep, n.path)
		if err != nil {
			return nil, err
		}
		v, err := b.build(&StructField{Name: "value", Type: t.Map.ValueType, Nullable: t.Map.ValueContainsNull}, n.def+1, n.rep, n.path)
		if err != nil {
			return nil, err
		}
		n.key, n.value = k, v
	default:
		n.kind = pqLeaf
		leaf, conv, err := pqPrimitive(t.Primitive)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", n.path, err)
		}
		n.leafNode = leaf
		n.phys = leaf.Type().Kind()
		n.conv = conv
		n.bytes = n.phys == parquet.ByteArray
		n.flat = parentRep == 0
		switch t.Primitive {
		case TypeString:
			n.fast = pqFastString
		case TypeLong:
			n.fast = pqFastLong
		case TypeDouble:
			n.fast = pqFastDouble
		}
		n.col = len(b.leaves)
		b.leaves = append(b.leaves, n)
	}
	n.last = len(b.leaves)
	if n.last-n.first == 0 {
		return nil, fmt.Errorf("column %s: no leaf columns", n.path)
	}
	if n.last > parquet.MaxColumnIndex {
		return nil, errors.New("parquet writer: too many columns")
	}
	return n, nil
}

// parquetNode returns the Parquet schema node of n: 3-level lists and maps,
// groups in field order, dictionary encoding on the leaves that chose it.
func (n *pqNode) parquetNode() parquet.Node {
	var node parquet.Node
	switch n.kind {
	case pqStruct:
		fields := make([]pqGroupField, len(n.fields))
		for i, c := range n.fields {
			fields[i] = pqGroupField{Node: c.parquetNode(), name: c.name}
		}
		node = &pqGroup{fields: fields}
	case pqList:
		node = parquet.List(n.elem.parquetNode())
	case pqMap:
		node = parquet.Map(n.key.parquetNode(), n.value.parquetNode())
	default:
		node = n.leafNode
		if n.dict {
			node = parquet.Encoded(node, &parquet.RLEDictionary)
		}
	}
	if n.optional {
		return parquet.Optional(node)
	}
	return parquet.Required(node)
}

type pqFast uint8

const (
	pqFastNone pqFast = iota
	pqFastString
	pqFastLong
	pqFastDouble
)

// pqGroup is a Parquet group whose fields keep their declared order
// (parquet.Group is a map and sorts them by name).
type pqGroup struct {
	fields []pqGroupField
}

type pqGroupField struct {
	parquet.Node
	name string
}

func (f *pqGroupField) Name() string { return f.name }

func (f *pqGroupField) Value(base reflect.Value) reflect.Value {
	panic("delta: reflection over a Delta parquet schema is not supported")
}

func (g *pqGroup) asGroup() parquet.Group {
	m := make(parquet.Group, len(g.fields))
	for _, f := range g.fields {
		m[f.name] = f.Node
	}
	return m
}

func (g *pqGroup) ID() int                     { return 0 }
func (g *pqGroup) String() string              { return g.asGroup().String() }
func (g *pqGroup) Type() parquet.Type          { return parquet.Group{}.Type() }
func (g *pqGroup) Optional() bool              { return false }
func (g *pqGroup) Repeated() bool              { return false }
func (g *pqGroup) Required() bool              { return true }
func (g *pqGroup) Leaf() bool                  { return false }
func (g *pqGroup) Encoding() encoding.Encoding { return nil }
func (g *pqGroup) Compression() compress.Codec { return nil }
func (g *pqGroup) GoType() reflect.Type        { return g.asGroup().GoType() }
func (g *pqGroup) Fields() []parquet.Field     { return g.fieldList() }
func (g *pqGroup) fieldList() (out []parquet.Field) {
	out = make([]parquet.Field, len(g.fields))
	for i := range g.fields {
		out[i] = &g.fields[i]
	}
	return out
}

// ---------------------------------------------------------------------------
// Shredding: one row's values into the staged columns.

func (f *FileWriter) put(n *pqNode, v pqValue) {
	if n.flat {
		f.vals[n.col][f.batchRows] = v
	} else {
		f.vals[n.col] = append(f.vals[n.col], v)
	}
}

func (f *FileWriter) appendNulls(n *pqNode, rep, def int) {
	for c := n.first; c < n.last; c++ {
		f.put(f.leaves[c], pqValue{rep: uint8(rep), def: uint8(def), col: ^uint16(c)})
	}
}

// leaf appends the value v of leaf n (nil is null).
func (f *FileWriter) leaf(n *pqNode, v any, rep, parentDef int) error {
	var pv pqValue
	ok := false
	// The decoder's types first, without the converter's call.
	switch n.fast {
	case pqFastString:
		var s string
		if s, ok = v.(string); ok {
			pv = pqValue{ptr: unsafe.StringData(s), u64: uint64(len(s)), kind: pqKindByteArray}
			f.batchBytes += len(s)
		}
	case pqFastLong:
		var x int64
		if x, ok = v.(int64); ok {
			pv = pqValue{u64: uint64(x), kind: pqKindInt64}
		}
	case pqFastDouble:
		var x float64
		if x, ok = v.(float64); ok {
			pv = pqValue{u64: math.Float64bits(x), kind: pqKindDouble}
		}
	}
	if !ok {
		if v == nil {
			if !n.optional {
				return &ValueError{Reason: "null in a non-nullable column"}
			}
			f.put(n, pqValue{rep: uint8(rep), def: uint8(parentDef), col: ^uint16(n.col)})
			return nil
		}
		var err error
		if pv, err = n.conv(v); err != nil {
			return err
		}
		if n.bytes {
			f.batchBytes += int(pv.u64)
		}
	}
	pv.rep, pv.def, pv.col = uint8(rep), uint8(n.def), ^uint16(n.col)
	f.put(n, pv)
	return nil
}

// shred appends the values of v for node n: rep is the repetition level of
// the first value, parentDef the definition level of n's parent.
func (f *FileWriter) shred(n *pqNode, v any, rep, parentDef int) error {
	if n.kind == pqLeaf {
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
	case pqStruct:
		m, ok := v.(map[string]any)
		if !ok {
			return pqStructFallback(f, n, v, rep)
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
	case pqList:
		return f.shredList(n, v, rep)
	case pqMap:
		return f.shredMap(n, v, rep)
	}
	return fmt.Errorf("delta: bad schema node kind %d", n.kind)
}

// pqStructFallback accepts other map types with string keys (map[string]string,
// map[string]int64, ...) through reflection.
func pqStructFallback(f *FileWriter, n *pqNode, v any, rep int) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return &ValueError{Reason: "want struct, got " + pqDescribe(v)}
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

func (f *FileWriter) shredList(n *pqNode, v any, rep int) error {
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
		return &ValueError{Reason: "want array, got " + pqDescribe(v)}
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return &ValueError{Reason: "want array, got " + pqDescribe(v)}
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

func (f *FileWriter) shredMap(n *pqNode, v any, rep int) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map {
		return &ValueError{Reason: "want map, got " + pqDescribe(v)}
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

// ---------------------------------------------------------------------------
// Converters: a Go value into a parquet.Value of the column's physical type.

type pqConverter func(v any) (pqValue, error)

func pqPrimitive(name string) (parquet.Node, pqConverter, error) {
	switch name {
	case TypeString:
		return parquet.String(), pqString, nil
	case TypeBinary:
		return parquet.Leaf(parquet.ByteArrayType), pqBinary, nil
	case TypeLong:
		return parquet.Leaf(parquet.Int64Type), pqLong, nil
	case TypeInteger:
		return parquet.Leaf(parquet.Int32Type), pqIntN(TypeInteger, math.MinInt32, math.MaxInt32), nil
	case TypeShort:
		return parquet.Int(16), pqIntN(TypeShort, math.MinInt16, math.MaxInt16), nil
	case TypeByte:
		return parquet.Int(8), pqIntN(TypeByte, math.MinInt8, math.MaxInt8), nil
	case TypeDouble:
		return parquet.Leaf(parquet.DoubleType), pqDouble, nil
	case TypeFloat:
		return parquet.Leaf(parquet.FloatType), pqFloat, nil
	case TypeBoolean:
		return parquet.Leaf(parquet.BooleanType), pqBoolean, nil
	case TypeDate:
		return parquet.Date(), pqDate, nil
	case TypeTimestamp:
		return parquet.TimestampAdjusted(parquet.Microsecond, true), pqTimestamp(TypeTimestamp), nil
	case TypeTimestampNTZ:
		return parquet.TimestampAdjusted(parquet.Microsecond, false), pqTimestamp(TypeTimestampNTZ), nil
	}
	if strings.HasPrefix(name, "decimal") {
		p, s, err := schDecimal(name)
		if err != nil {
			return nil, nil, err
		}
		var phys parquet.Type
		size := 0
		switch {
		case p <= 9:
			phys = parquet.Int32Type
		case p <= 18:
			phys = parquet.Int64Type
		default:
			size = pqDecimalBytes(p)
			phys = parquet.FixedLenByteArrayType(size)
		}
		return parquet.Decimal(s, p, phys), pqDecimal(name, p, s, size), nil
	}
	return nil, nil, fmt.Errorf("unsupported type %q", name)
}

// pqDecimalBytes is the fixed length that holds any unscaled value of precision p.
func pqDecimalBytes(p int) int {
	max := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(p)), nil)
	return (max.BitLen() + 1 + 7) / 8
}

func pqWant(want string, v any) error {
	return &ValueError{Reason: "want " + want + ", got " + pqDescribe(v)}
}

// pqDescribe names a value's Go type and shows it, cut short.
func pqDescribe(v any) string {
	const maxLen = 64
	switch x := v.(type) {
	case string:
		if len(x) > maxLen {
			cut := maxLen
			for cut > 0 && !utf8.RuneStart(x[cut]) {
				cut--
			}
			return "string " + strconv.Quote(x[:cut]) + "... (" + strconv.Itoa(len(x)) + " bytes)"
		}
		return "string " + strconv.Quote(x)
	case json.Number:
		return "number " + x.String()
	}
	s := fmt.Sprintf("%v", v)
	if len(s) > maxLen {
		s = s[:maxLen] + "..."
	}
	return fmt.Sprintf("%T %s", v, s)
}

func pqString(v any) (pqValue, error) {
	switch x := v.(type) {
	case string:
		// The column buffer copies the bytes; the string stays immutable.
		return pqStringV(x), nil
	case []byte:
		if !utf8.Valid(x) {
			return pqValue{}, &ValueError{Reason: "want string, got []byte that is not valid UTF-8"}
		}
		return pqBytesV(append([]byte(nil), x...)), nil
	}
	return pqValue{}, pqWant(TypeString, v)
}

func pqBinary(v any) (pqValue, error) {
	switch x := v.(type) {
	case []byte:
		// Copied: the caller may reuse its slice before the batch is pushed.
		return pqBytesV(append([]byte(nil), x...)), nil
	case string:
		return pqStringV(x), nil
	}
	return pqValue{}, pqWant(TypeBinary, v)
}

// pqInt64 accepts Go integers, integral floats and json.Number.
func pqInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case int16:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x), true
		}
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	case float64:
		if x == math.Trunc(x) && x >= -9.223372036854775808e18 && x < 9.223372036854775808e18 {
			return int64(x), true
		}
	case float32:
		f := float64(x)
		if f == math.Trunc(f) && f >= -9.223372036854775808e18 && f < 9.223372036854775808e18 {
			return int64(f), true
		}
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, true
		}
		if f, err := x.Float64(); err == nil {
			return pqInt64(f)
		}
	}
	return 0, false
}

func pqLong(v any) (pqValue, error) {
	if x, ok := v.(int64); ok { // the decoder's type: no detour
		return pqInt64V(x), nil
	}
	i, ok := pqInt64(v)
	if !ok {
		return pqValue{}, pqWant(TypeLong, v)
	}
	return pqInt64V(i), nil
}

func pqIntN(name string, lo, hi int64) pqConverter {
	return func(v any) (pqValue, error) {
		i, ok := pqInt64(v)
		if !ok {
			return pqValue{}, pqWant(name, v)
		}
		if i < lo || i > hi {
			return pqValue{}, &ValueError{Reason: fmt.Sprintf("want %s, got %d: out of range [%d, %d]", name, i, lo, hi)}
		}
		return pqInt32V(int32(i)), nil
	}
}

func pqFloat64(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string, bool, nil:
		return 0, false
	}
	if i, ok := pqInt64(v); ok {
		return float64(i), true
	}
	return 0, false
}

func pqDouble(v any) (pqValue, error) {
	if x, ok := v.(float64); ok {
		return pqDoubleV(x), nil
	}
	f, ok := pqFloat64(v)
	if !ok {
		return pqValue{}, pqWant(TypeDouble, v)
	}
	return pqDoubleV(f), nil
}

func pqFloat(v any) (pqValue, error) {
	f, ok := pqFloat64(v)
	if !ok {
		return pqValue{}, pqWant(TypeFloat, v)
	}
	if !math.IsInf(f, 0) && !math.IsNaN(f) && math.Abs(f) > math.MaxFloat32 {
		return pqValue{}, &ValueError{Reason: fmt.Sprintf("want float, got %g: out of range", f)}
	}
	return pqFloatV(float32(f)), nil
}

func pqBoolean(v any) (pqValue, error) {
	if b, ok := v.(bool); ok {
		return pqBoolV(b), nil
	}
	return pqValue{}, pqWant(TypeBoolean, v)
}

const pqDayMicros = 86400 * 1000000

func pqDate(v any) (pqValue, error) {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		// The calendar date in the value's own location.
		y, m, d := x.Date()
		t = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	case string:
		p, err := time.Parse(time.DateOnly, x)
		if err != nil {
			return pqValue{}, &ValueError{Reason: "want date (YYYY-MM-DD), got " + pqDescribe(v)}
		}
		t = p
	default:
		return pqValue{}, pqWant("date (time.Time or YYYY-MM-DD)", v)
	}
	days := t.Unix() / 86400
	if t.Unix() < 0 && t.Unix()%86400 != 0 {
		days--
	}
	if days < math.MinInt32 || days > math.MaxInt32 {
		return pqValue{}, &ValueError{Reason: "date out of range: " + pqDescribe(v)}
	}
	return pqInt32V(int32(days)), nil
}

func pqTimestamp(name string) pqConverter {
	ntz := name == TypeTimestampNTZ
	return func(v any) (pqValue, error) {
		var t time.Time
		switch x := v.(type) {
		case time.Time:
			t = x
		case string:
			p, err := time.Parse(time.RFC3339Nano, x)
			if err != nil && ntz {
				p, err = time.Parse("2006-01-02T15:04:05.999999999", x)
			}
			if err != nil {
				p, err = time.Parse("2006-01-02 15:04:05.999999999", x)
			}
			if err != nil {
				return pqValue{}, &ValueError{Reason: "want " + name + " (RFC 3339), got " + pqDescribe(v)}
			}
			t = p
		default:
			return pqValue{}, pqWant(name+" (time.Time or RFC 3339 string)", v)
		}
		if ntz {
			// Wall-clock time: keep the fields, drop the zone.
			y, mo, d := t.Date()
			h, mi, s := t.Clock()
			t = time.Date(y, mo, d, h, mi, s, t.Nanosecond(), time.UTC)
		}
		return pqInt64V(t.UnixMicro()), nil
	}
}

// pqDecimal converts to the unscaled integer of decimal(p,s); a value with
// more fractional digits than s is refused rather than rounded.
func pqDecimal(name string, p, s, size int) pqConverter {
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(p)), nil)
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(s)), nil)
	return func(v any) (pqValue, error) {
		r := new(big.Rat)
		switch x := v.(type) {
		case json.Number:
			if _, ok := r.SetString(x.String()); !ok {
				return pqValue{}, pqWant(name, v)
			}
		case string:
			if _, ok := r.SetString(strings.TrimSpace(x)); !ok {
				return pqValue{}, pqWant(name, v)
			}
		case float64, float32:
			f, _ := pqFloat64(v)
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return pqValue{}, pqWant(name, v)
			}
			r.SetString(strconv.FormatFloat(f, 'f', -1, 64))
		default:
			i, ok := pqInt64(v)
			if !ok {
				return pqValue{}, pqWant(name, v)
			}
			r.SetInt64(i)
		}
		r.Mul(r, new(big.Rat).SetInt(scale))
		if !r.IsInt() {
			return pqValue{}, &ValueError{Reason: fmt.Sprintf("want %s, got %s: more than %d fractional digits", name, pqDescribe(v), s)}
		}
		u := r.Num()
		if new(big.Int).Abs(u).Cmp(limit) >= 0 {
			return pqValue{}, &ValueError{Reason: fmt.Sprintf("want %s, got %s: too many digits", name, pqDescribe(v))}
		}
		switch {
		case p <= 9:
			return pqInt32V(int32(u.Int64())), nil
		case p <= 18:
			return pqInt64V(u.Int64()), nil
		}
		return pqFixedV(pqTwosComplement(u, size)), nil
	}
}

// pqTwosComplement returns u as a big-endian two's complement of size bytes.
func pqTwosComplement(u *big.Int, size int) []byte {
	out := make([]byte, size)
	if u.Sign() >= 0 {
		u.FillBytes(out)
		return out
	}
	// -u = ^(|u| - 1)
	m := new(big.Int).Sub(new(big.Int).Abs(u), big.NewInt(1))
	m.FillBytes(out)
	for i := range out {
		out[i] = ^out[i]
	}
	return out
}

// ---------------------------------------------------------------------------
// Values. pqValue has the memory layout of parquet.Value (v0.32.0), whose
// fields are unexported: building values directly, levels included, instead
// of through parquet.Int64Value(x).Level(r, d, c) is a good part of the
// writer's speed. pqLayoutErr checks the layout against parquet-go's own
// constructors once; should a parquet-go upgrade change it, NewFileWriter
// fails (and the tests with it) rather than write garbage.

type pqValue struct {
	ptr  *byte
	u64  uint64
	kind int8 // ^Kind, so that the zero value is null
	def  uint8
	rep  uint8
	col  uint16 // ^column index
}

const (
	pqKindBoolean   = ^int8(parquet.Boolean)
	pqKindInt32     = ^int8(parquet.Int32)
	pqKindInt64     = ^int8(parquet.Int64)
	pqKindFloat     = ^int8(parquet.Float)
	pqKindDouble    = ^int8(parquet.Double)
	pqKindByteArray = ^int8(parquet.ByteArray)
	pqKindFixed     = ^int8(parquet.FixedLenByteArray)
)

func pqInt64V(x int64) pqValue    { return pqValue{u64: uint64(x), kind: pqKindInt64} }
func pqInt32V(x int32) pqValue    { return pqValue{u64: uint64(x), kind: pqKindInt32} }
func pqDoubleV(x float64) pqValue { return pqValue{u64: math.Float64bits(x), kind: pqKindDouble} }
func pqFloatV(x float32) pqValue  { return pqValue{u64: uint64(math.Float32bits(x)), kind: pqKindFloat} }
func pqStringV(s string) pqValue {
	return pqValue{ptr: unsafe.StringData(s), u64: uint64(len(s)), kind: pqKindByteArray}
}
func pqBytesV(b []byte) pqValue {
	return pqValue{ptr: unsafe.SliceData(b), u64: uint64(len(b)), kind: pqKindByteArray}
}
func pqFixedV(b []byte) pqValue {
	return pqValue{ptr: unsafe.SliceData(b), u64: uint64(len(b)), kind: pqKindFixed}
}
func pqBoolV(b bool) (v pqValue) {
	v.kind = pqKindBoolean
	if b {
		v.u64 = 1
	}
	return v
}

// pqValues views staged values as parquet.Values (same layout, checked).
func pqValues(v []pqValue) []parquet.Value {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*parquet.Value)(unsafe.Pointer(&v[0])), len(v))
}

var pqLayoutErr = pqCheckLayout()

func pqCheckLayout() error {
	if unsafe.Sizeof(pqValue{}) != unsafe.Sizeof(parquet.Value{}) {
		return fmt.Errorf("parquet writer: parquet.Value is %d bytes, want %d: the parquet-go version is not the one this writer was built for",
			unsafe.Sizeof(parquet.Value{}), unsafe.Sizeof(pqValue{}))
	}
	str := "abc"
	fixed := []byte{1, 2, 3, 4}
	probes := []struct {
		mine   pqValue
		theirs parquet.Value
	}{
		{pqInt64V(-5), parquet.Int64Value(-5)},
		{pqInt32V(-7), parquet.Int32Value(-7)},
		{pqDoubleV(-1.5), parquet.DoubleValue(-1.5)},
		{pqFloatV(2.5), parquet.FloatValue(2.5)},
		{pqBoolV(true), parquet.BooleanValue(true)},
		{pqBoolV(false), parquet.BooleanValue(false)},
		{pqStringV(str), parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(str), len(str)))},
		{pqFixedV(fixed), parquet.FixedLenByteArrayValue(fixed)},
		{pqValue{}, parquet.NullValue()},
	}
	for i, p := range probes {
		for _, lv := range [][3]int{{0, 0, 0}, {1, 2, 3}, {0, 1, 300}, {3, 7, 65000}} {
			m := p.mine
			m.rep, m.def, m.col = uint8(lv[0]), uint8(lv[1]), ^uint16(lv[2])
			t := p.theirs.Level(lv[0], lv[1], lv[2])
			a := unsafe.Slice((*byte)(unsafe.Pointer(&m)), unsafe.Sizeof(m))
			b := unsafe.Slice((*byte)(unsafe.Pointer(&t)), unsafe.Sizeof(t))
			// Compare the meaningful bytes (padding aside) through parquet-go's accessors.
			v := pqValues([]pqValue{m})[0]
			if v.Kind() != t.Kind() || v.IsNull() != t.IsNull() || v.RepetitionLevel() != lv[0] ||
				v.DefinitionLevel() != lv[1] || v.Column() != t.Column() || !parquet.Equal(v, t) ||
				string(a[:unsafe.Offsetof(m.kind)]) != string(b[:unsafe.Offsetof(m.kind)]) {
				return fmt.Errorf("parquet writer: parquet.Value layout check %d failed: the parquet-go version is not the one this writer was built for", i)
			}
		}
	}
	return nil
}

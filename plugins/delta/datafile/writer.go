package datafile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/delta"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
)

// The Parquet data-file writer. Rows arrive as values in schema order
// (WriteValues: what gdeltflow's row form holds) or as map[string]any (Write:
// what Benthos structured messages hold) and are shredded straight
// into per-column data pages: plain-encoded values (dictionary indices for
// repeating strings, DELTA_BINARY_PACKED integers) and RLE definition and
// repetition levels computed from the Delta schema, compressed a page at a
// time and kept per column until the row group is flushed. parquet-go
// provides the types, the thrift structures of the footer, the RLE level
// encoder and the codecs; its row-oriented writer is not used (its per-value
// parquet.Value buffering cost more than all the rest together).

// Writer defaults.
const (
	DefaultRowGroupRows   = 128 * 1024
	DefaultRowGroupBytes  = 64 << 20
	DefaultPageBufferSize = 1 << 20
	DefaultCompression    = "zstd"
)

// Every checkEveryRows rows (or checkEveryBytes of values) the writer looks for
// full pages and a full row group: pages end on row boundaries, so this is
// also about the most a page overshoots the page size by.
const (
	checkEveryRows  = 64
	checkEveryBytes = 256 << 10
	// pageBudget bounds the open pages of one file, all columns together.
	pageBudget = 8 << 20
	// keepPageBuf is the most page buffer a column keeps after a page.
	keepPageBuf = 256 << 10
)

// Config configure a Writer.
type Config struct {
	// Compression is the codec of every column: "zstd" (default), "snappy",
	// "gzip" or "uncompressed".
	Compression string
	// CompressionLevel is the zstd level: 0 or 1 for the fastest (about
	// zstd's level 1, the default: the writer is CPU-bound on it), 2-4 for
	// zstd's default (level 3), 5-9 for better, 10 and more for the best.
	// Other codecs ignore it.
	CompressionLevel int
	// RowGroupRows flushes a row group after this many rows (default 128Ki).
	RowGroupRows int
	// RowGroupBytes flushes a row group once its compressed pages and
	// buffered values reach about this many bytes (default 64 MiB). The
	// writer holds one row group in memory at most, so this bounds its
	// memory (plus one page per column being filled).
	RowGroupBytes int64
	// PageBufferSize is the uncompressed size at which a column's values
	// become a data page (default 1 MiB).
	PageBufferSize int
	// Plain writes every column PLAIN: no dictionary for the string
	// columns outside arrays and maps, which otherwise use one per column
	// chunk when their values repeat (see dict.go), and no
	// DELTA_BINARY_PACKED for the int32/int64 columns.
	Plain bool
	// Hints, shared by the writers of one table's files, starts a column
	// PLAIN whose values the table's earlier files found mostly distinct
	// (see DictHints); nil, every file decides every column.
	Hints *DictHints
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

// Writer writes one Parquet data file of a Delta table: data pages V1,
// PLAIN, RLE_DICTIONARY or DELTA_BINARY_PACKED, columns in schema order, min/max/null count statistics
// per column chunk. It is not safe for concurrent use.
type Writer struct {
	out    *countingWriter
	schema schema.StructType
	root   *schemaNode
	leaves []*schemaNode
	cols   []*column

	codec         compressor
	pageSize      int
	rowGroupRows  int
	rowGroupBytes int64

	checkRows  int // rows since the last page check
	checkBytes int // string bytes since the last page check
	seq        uint64
	repCols    []*column // the columns under an array or map
	groupRows  int
	rows       int64

	started   bool // "PAR1" written
	rowGroups []format.RowGroup
	header    bytes.Buffer
	thrift    *thrift.Encoder
	ordered   []any  // Write's row in schema order, reused
	scratch   []byte // a page body before compression
	lv        []byte // RLE-encoded levels
	comp      []byte // a compressed page body
	enc       []byte // a page's DELTA_BINARY_PACKED values

	err    error      // sticky: a failure of the output
	closed bool       // set by Close before it flushes the last row group
	hints  *DictHints // the table's dictionary decisions, or nil
	stats  *Stats
	meta   *format.FileMetaData
}

// NewWriter returns a writer of a Parquet file with schema s to w. The
// caller passes the schema without partition columns. Close writes the
// footer; w itself is not closed. Nothing is written to w before the first
// row group is flushed.
func NewWriter(w io.Writer, s schema.StructType, o Config) (*Writer, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if len(s.Fields) == 0 {
		return nil, errors.New("parquet writer: the schema has no columns")
	}
	codec, err := newCodec(o.Compression, o.CompressionLevel)
	if err != nil {
		return nil, err
	}
	if o.RowGroupRows <= 0 {
		o.RowGroupRows = DefaultRowGroupRows
	}
	if o.RowGroupBytes <= 0 {
		o.RowGroupBytes = DefaultRowGroupBytes
	}
	if o.PageBufferSize <= 0 {
		o.PageBufferSize = DefaultPageBufferSize
	}
	b := builder{}
	root, err := b.build(&schema.StructField{Name: "", Type: schema.StructOf(s.Fields...), Nullable: false}, 0, 0, "")
	if err != nil {
		return nil, err
	}
	f := &Writer{
		out:           &countingWriter{w: w},
		schema:        s,
		root:          root,
		leaves:        b.leaves,
		codec:         codec,
		pageSize:      o.PageBufferSize,
		rowGroupRows:  o.RowGroupRows,
		rowGroupBytes: o.RowGroupBytes,
		hints:         o.Hints,
	}
	fresh := f.hints == nil || f.hints.start()
	f.thrift = thrift.NewEncoder(new(thrift.CompactProtocol).NewWriter(&f.header))
	// The Parquet schema, and each leaf's path and column order.
	pschema := parquet.NewSchema("spark_schema", root.parquetNode())
	var paths [][]string
	var orders []format.ColumnOrder
	var walk func(name string, node parquet.Node, path []string)
	walk = func(name string, node parquet.Node, path []string) {
		if node.Leaf() {
			paths = append(paths, append([]string(nil), path...))
			if co := node.Type().ColumnOrder(); co != nil {
				orders = append(orders, *co)
			} else {
				orders = append(orders, format.ColumnOrder{})
			}
			return
		}
		for _, fl := range node.Fields() {
			walk(fl.Name(), fl, append(path, fl.Name()))
		}
	}
	walk("", pschema, nil)
	if len(paths) != len(f.leaves) {
		return nil, fmt.Errorf("parquet writer: %d leaf columns in the Parquet schema, %d in the Delta schema", len(paths), len(f.leaves))
	}
	f.cols = make([]*column, len(f.leaves))
	for i, n := range f.leaves {
		c := &column{
			n:        n,
			phys:     n.phys,
			maxDef:   n.maxDef,
			maxRep:   n.maxRep,
			path:     paths[i],
			wantHist: n.wantHist,
		}
		if c.wantHist {
			c.hist = make([]int64, c.maxDef+1)
		}
		n.c = c
		f.cols[i] = c
		if c.maxRep > 0 {
			f.repCols = append(f.repCols, c)
		} else if c.phys == parquet.ByteArray && !o.Plain && (fresh || !f.hints.isPlain(c.n.path)) {
			c.dict = newDictionary()
		}
		c.delta = (c.phys == parquet.Int64 || c.phys == parquet.Int32) && !o.Plain && littleEndian
		c.data = getBuf()
		c.chunk = getBuf()
		if c.maxDef > 0 {
			c.defs = getBuf()
		}
		if c.maxRep > 0 {
			c.reps = getBuf()
		}
	}
	f.meta = &format.FileMetaData{
		Version: 1,
		Schema:  schemaElements(pschema),
		// parquet-mr ignores the string statistics of a file whose
		// created_by it cannot parse: "<app> version <v> (build <b>)".
		CreatedBy:    "gdeltflow version 1.0.0 (build delta-writer)",
		ColumnOrders: orders,
	}
	return f, nil
}

// compressor compresses a page body.
// Schema returns the schema the file is written with.
func (f *Writer) Schema() schema.StructType { return f.schema }

// Rows returns the number of rows written so far.
func (f *Writer) Rows() int64 { return f.rows }

// BytesWritten returns the bytes passed to the output so far: the flushed
// row groups (and the footer after Close). Rows of the current row group are
// not counted until it is flushed.
func (f *Writer) BytesWritten() int64 { return f.out.n }

// BufferedBytes returns about how much the current row group holds in
// memory: its compressed pages and the values of the pages being filled.
func (f *Writer) BufferedBytes() int64 {
	var n int64
	for _, c := range f.cols {
		n += int64(len(c.chunk) + c.pageBytes())
		if c.dict != nil {
			n += int64(c.dict.bytes)
		}
	}
	return n
}

// Write adds one row. Keys are column names; a missing key is null; keys
// that are not columns are ignored. Values are converted to the column
// types: int64, int, float64, string, bool, time.Time, json.Number, []byte,
// []any for arrays, map[string]any for structs and maps. A value that does
// not fit fails with a *ValueError, nothing of the row is written, and the
// writer stays usable. Rows that are already in column order go faster
// through WriteValues.
func (f *Writer) Write(row map[string]any) error {
	vals := f.ordered[:0]
	for _, n := range f.root.fields {
		vals = append(vals, row[n.name])
	}
	f.ordered = vals
	err := f.WriteValues(vals)
	clear(vals) // the writer keeps no reference to the row's values
	return err
}

// WriteValues adds one row given as the values of the schema's top-level
// columns in schema order (vals[i] is Schema().Fields[i]'s; nil is null, a
// shorter slice leaves the last columns null; values past the schema are
// ignored), converted as Write converts them, with no lookup by name. A
// value that does not fit fails with a *ValueError naming the column,
// nothing of the row is written, and the writer stays usable. The writer
// keeps no reference to vals.
func (f *Writer) WriteValues(vals []any) error {
	if f.closed {
		return errors.New("parquet writer: write after close")
	}
	if f.err != nil {
		return f.err
	}
	f.seq++
	for _, c := range f.repCols {
		c.mark = rowMark{defs: len(c.defs), reps: len(c.reps), data: len(c.data), entries: c.entries, nulls: c.nulls}
	}
	for i, n := range f.root.fields {
		var v any
		if i < len(vals) {
			v = vals[i]
		}
		var err error
		if n.kind == kindLeaf {
			err = f.leaf(n, v, 0, 0)
		} else {
			err = f.shred(n, v, 0, 0)
		}
		if err != nil {
			f.rollback()
			var ve *ValueError
			if errors.As(err, &ve) {
				ve.prefix(n.name)
			}
			return err
		}
	}
	f.rows++
	f.groupRows++
	f.checkRows++
	if f.groupRows >= f.rowGroupRows {
		return f.flushRowGroup()
	}
	if f.checkRows >= checkEveryRows || f.checkBytes >= checkEveryBytes {
		return f.check()
	}
	return nil
}

// rollback undoes the values of the current row: a flat column holds at
// most one (seq tells whether it got it), a repeated one goes back to its mark.
func (f *Writer) rollback() {
	for _, c := range f.cols {
		if c.maxRep > 0 {
			c.rollback()
			continue
		}
		if c.seq != f.seq {
			continue
		}
		if c.maxDef > 0 {
			if c.defs[len(c.defs)-1] < uint8(c.maxDef) {
				c.nulls--
			}
			c.defs = c.defs[:len(c.defs)-1]
		}
		c.data = c.data[:c.rowData]
		if c.dict != nil && c.rowIdx < len(c.dict.idx) {
			c.dict.drop(c.rowNew)
		}
		c.entries--
		c.seq = 0
	}
}

// check flushes the full pages, and the row group when it is full. The open
// pages of all columns together are held under pageBudget: past it, the
// biggest ones become pages early (a wide table, such as silver's 106
// columns, would otherwise hold up to a page size per column).
func (f *Writer) check() error {
	f.checkRows, f.checkBytes = 0, 0
	var size, open int64
	var biggest *column
	for _, c := range f.cols {
		if c.pageBytes() >= f.pageSize {
			if err := f.flushPage(c); err != nil {
				f.err = err
				return err
			}
		}
		page := int64(c.pageBytes())
		size += int64(len(c.chunk)) + page
		if c.dict != nil {
			size += int64(c.dict.bytes)
		}
		open += page
		if biggest == nil || page > int64(biggest.pageBytes()) {
			biggest = c
		}
	}
	for open > pageBudget && biggest != nil {
		page := int64(biggest.pageBytes())
		if err := f.flushPage(biggest); err != nil {
			f.err = err
			return err
		}
		open -= page
		biggest = nil
		for _, c := range f.cols {
			if p := c.pageBytes(); p > 0 && (biggest == nil || p > biggest.pageBytes()) {
				biggest = c
			}
		}
	}
	if size >= f.rowGroupBytes {
		return f.flushRowGroup()
	}
	return nil
}

// Flush ends the current row group (a no-op when it is empty).
func (f *Writer) Flush() error {
	if f.closed {
		return errors.New("parquet writer: flush after close")
	}
	if f.err != nil {
		return f.err
	}
	return f.flushRowGroup()
}

// Close flushes the last row group, writes the footer and returns the
// file's statistics, taken from the footer. Calling it again returns the
// same statistics.
func (f *Writer) Close() (*Stats, error) {
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
	if err := f.flushRowGroup(); err != nil {
		return nil, err
	}
	if err := f.start(); err != nil {
		return nil, err
	}
	f.meta.NumRows = f.rows
	f.meta.RowGroups = f.rowGroups
	f.header.Reset()
	if err := f.thrift.Encode(f.meta); err != nil {
		return nil, fmt.Errorf("parquet writer: encoding the footer: %w", err)
	}
	footer := binary.LittleEndian.AppendUint32(f.header.Bytes(), uint32(f.header.Len()))
	footer = append(footer, "PAR1"...)
	if _, err := f.out.Write(footer); err != nil {
		f.err = fmt.Errorf("parquet writer: writing the footer: %w", err)
		return nil, f.err
	}
	for _, c := range f.cols {
		c.release()
		if c.dict != nil {
			c.dict.release()
			c.dict = nil
		}
	}
	if z, ok := f.codec.(*zstdFile); ok {
		z.release()
	}
	putBuf(f.scratch)
	putBuf(f.comp)
	f.scratch, f.lv, f.comp = nil, nil, nil
	st, err := statsFromFooter(f.meta, f.root, f.leaves, f.schema)
	if err != nil {
		f.err = err
		return nil, err
	}
	f.stats = st
	return st, nil
}

// Metadata returns the footer written by Close (nil before).
func (f *Writer) Metadata() *format.FileMetaData {
	if !f.closed || f.err != nil {
		return nil
	}
	return f.meta
}

func (f *Writer) start() error {
	if f.started {
		return nil
	}
	f.started = true
	if _, err := f.out.Write([]byte("PAR1")); err != nil {
		f.err = fmt.Errorf("parquet writer: %w", err)
		return f.err
	}
	return nil
}

func (f *Writer) flushRowGroup() error {
	f.checkRows, f.checkBytes = 0, 0
	if f.groupRows == 0 {
		return nil
	}
	for _, c := range f.cols {
		if err := f.flushPage(c); err != nil {
			f.err = err
			return err
		}
	}
	if err := f.start(); err != nil {
		return err
	}
	rg := format.RowGroup{
		Columns:    make([]format.ColumnChunk, len(f.cols)),
		NumRows:    int64(f.groupRows),
		FileOffset: f.out.n,
		Ordinal:    int16(len(f.rowGroups)),
	}
	for i, c := range f.cols {
		offset := f.out.n
		dictPage := 0
		if c.dict != nil && c.dict.pages > 0 {
			n, err := f.writeDictPage(c)
			if err != nil {
				f.err = err
				return err
			}
			dictPage = n
		}
		if _, err := f.out.Write(c.chunk); err != nil {
			f.err = fmt.Errorf("parquet writer: writing column %s: %w", c.n.path, err)
			return f.err
		}
		rg.Columns[i] = c.chunkMetadata(offset, f.codec, dictPage)
		rg.TotalByteSize += c.chunkUncompressed
		rg.TotalCompressedSize += int64(dictPage + len(c.chunk))
		c.resetChunk()
		if c.dict != nil {
			c.dict.reset()
		}
	}
	f.rowGroups = append(f.rowGroups, rg)
	f.groupRows = 0
	return nil
}

// flushPage encodes, compresses and appends the page being filled to the
// column's chunk.
func (f *Writer) flushPage(c *column) error {
	if c.entries == 0 {
		return nil
	}
	if c.dict != nil {
		f.decide(c)
	}
	dict := c.dict != nil && len(c.dict.idx) > 0
	f.room(c.pageBytes() + 64)
	body := f.scratch[:0]
	var err error
	if c.maxRep > 0 {
		if body, err = f.appendLevels(body, c.reps, c.maxRep); err != nil {
			return err
		}
	}
	if c.maxDef > 0 {
		if body, err = f.appendLevels(body, c.defs, c.maxDef); err != nil {
			return err
		}
		if c.hist != nil {
			for _, d := range c.defs {
				c.hist[d]++
			}
		}
	}
	deltaPage := c.delta && len(c.data) > 0
	switch {
	case dict:
		if body, err = f.appendIndices(body, c.dict); err != nil {
			return err
		}
	case deltaPage:
		body = f.appendDelta(body, c)
	case c.phys == parquet.Boolean:
		body = packBooleans(body, c.data)
	default:
		body = append(body, c.data...)
	}
	f.scratch = body
	c.bounds()
	compressed, err := f.codec.Encode(f.comp[:0], body)
	if err != nil {
		return fmt.Errorf("parquet writer: compressing column %s: %w", c.n.path, err)
	}
	f.comp = compressed
	nulls := c.nulls
	header := format.PageHeader{
		Type:                 format.DataPage,
		UncompressedPageSize: int32(len(body)),
		CompressedPageSize:   int32(len(compressed)),
	}
	encoding := format.Plain
	if dict {
		encoding = format.RLEDictionary
		c.dict.pages++
		c.dict.idx = c.dict.idx[:0]
		c.dict.pageFrom = c.dict.bytes
	} else if deltaPage {
		encoding = format.DeltaBinaryPacked
		c.deltaPages++
	}
	header.DataPageHeader.Set(format.DataPageHeader{
		NumValues:               int32(c.entries),
		Encoding:                encoding,
		DefinitionLevelEncoding: format.RLE,
		RepetitionLevelEncoding: format.RLE,
		Statistics:              format.Statistics{NullCount: int64(nulls)},
	})
	f.header.Reset()
	if err := f.thrift.Encode(&header); err != nil {
		return fmt.Errorf("parquet writer: encoding a page header: %w", err)
	}
	if need := f.header.Len() + len(compressed); cap(c.chunk)-len(c.chunk) < need {
		c.chunk = grown(c.chunk, need, 0)
	}
	c.chunk = append(c.chunk, f.header.Bytes()...)
	c.chunk = append(c.chunk, compressed...)
	c.chunkUncompressed += int64(f.header.Len() + len(body))
	c.chunkValues += int64(c.entries)
	c.chunkNulls += int64(nulls)
	c.pages++
	c.pageHint = len(c.data) + len(c.data)/8
	c.resetPage()
	if cap(c.data) > keepPageBuf {
		// A big page buffer goes back to the pool rather than staying with
		// its column for the file's life: the open pages' budget bounds
		// their lengths, this bounds what they keep.
		putBuf(c.data)
		c.data = nil
	}
	return nil
}

// room makes f.scratch hold n bytes and f.comp about as many (zstd's
// output of incompressible input), so a page is built and compressed
// without growing either on the way.
func (f *Writer) room(n int) {
	if cap(f.scratch) < n {
		f.scratch = grown(f.scratch[:0], n, 0)
	}
	if n += n>>7 + 64; cap(f.comp) < n {
		f.comp = grown(f.comp[:0], n, 0)
	}
}

// littleEndian: the PLAIN values of a page are the machine's int32/int64s,
// which the delta encoder takes as they are.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// appendDelta appends the page's PLAIN int32 or int64 values
// DELTA_BINARY_PACKED: ids, times and offsets become a few bits per value,
// so zstd (the writer's main cost) gets a fraction of the bytes.
func (f *Writer) appendDelta(dst []byte, c *column) []byte {
	p := unsafe.Pointer(unsafe.SliceData(c.data))
	if c.phys == parquet.Int64 {
		f.enc, _ = deltaEnc.EncodeInt64(f.enc[:0], unsafe.Slice((*int64)(p), len(c.data)/8))
	} else {
		f.enc, _ = deltaEnc.EncodeInt32(f.enc[:0], unsafe.Slice((*int32)(p), len(c.data)/4))
	}
	return append(dst, f.enc...)
}

var deltaEnc delta.BinaryPackedEncoding

// appendLevels appends V1 page levels: a 4-byte length, then the RLE /
// bit-packed hybrid encoding.
func (f *Writer) appendLevels(dst []byte, levels []uint8, max int) ([]byte, error) {
	enc := rle.Encoding{BitWidth: bits.Len8(uint8(max))}
	out, err := enc.EncodeLevels(f.lv[:0], levels)
	if err != nil {
		return dst, fmt.Errorf("parquet writer: encoding levels: %w", err)
	}
	f.lv = out
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(out)))
	return append(dst, out...), nil
}

// packBooleans appends one bit per value, least significant bit first.
func packBooleans(dst, vals []byte) []byte {
	for i := 0; i < len(vals); i += 8 {
		var b byte
		for j := 0; j < 8 && i+j < len(vals); j++ {
			b |= (vals[i+j] & 1) << j
		}
		dst = append(dst, b)
	}
	return dst
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

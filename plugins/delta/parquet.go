package delta

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"math/bits"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
)

// The Parquet data-file writer. Rows arrive as map[string]any (what the GDELT
// decoder and Benthos structured messages hold) and are shredded straight
// into per-column data pages: plain-encoded values and RLE definition and
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

// Every pqCheckRows rows (or pqCheckBytes of values) the writer looks for
// full pages and a full row group: pages end on row boundaries, so this is
// also about the most a page overshoots the page size by.
const (
	pqCheckRows  = 64
	pqCheckBytes = 256 << 10
	// pqPageBudget bounds the open pages of one file, all columns together.
	pqPageBudget = 8 << 20
	// pqKeepPageBuf is the most page buffer a column keeps after a page.
	pqKeepPageBuf = 256 << 10
)

// WriterOptions configure a FileWriter.
type WriterOptions struct {
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

// FileWriter writes one Parquet data file of a Delta table: data pages V1,
// plain encoding, columns in schema order, min/max/null count statistics
// per column chunk. It is not safe for concurrent use.
type FileWriter struct {
	out    *pqCountingWriter
	schema schema.StructType
	root   *pqNode
	leaves []*pqNode
	cols   []*pqColumn

	codec         pqCompressor
	pageSize      int
	rowGroupRows  int
	rowGroupBytes int64

	checkRows  int // rows since the last page check
	checkBytes int // string bytes since the last page check
	seq        uint64
	repCols    []*pqColumn // the columns under an array or map
	groupRows  int
	rows       int64

	started   bool // "PAR1" written
	rowGroups []format.RowGroup
	header    bytes.Buffer
	thrift    *thrift.Encoder
	scratch   []byte // a page body before compression
	lv        []byte // RLE-encoded levels
	comp      []byte // a compressed page body

	err    error // sticky: a failure of the output
	closed bool
	stats  *Stats
	meta   *format.FileMetaData
}

// NewFileWriter returns a writer of a Parquet file with schema s to w. The
// caller passes the schema without partition columns. Close writes the
// footer; w itself is not closed. Nothing is written to w before the first
// row group is flushed.
func NewFileWriter(w io.Writer, s schema.StructType, o WriterOptions) (*FileWriter, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if len(s.Fields) == 0 {
		return nil, errors.New("parquet writer: the schema has no columns")
	}
	codec, err := pqCodec(o.Compression, o.CompressionLevel)
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
	b := pqBuilder{}
	root, err := b.build(&schema.StructField{Name: "", Type: schema.StructOf(s.Fields...), Nullable: false}, 0, 0, "")
	if err != nil {
		return nil, err
	}
	f := &FileWriter{
		out:           &pqCountingWriter{w: w},
		schema:        s,
		root:          root,
		leaves:        b.leaves,
		codec:         codec,
		pageSize:      o.PageBufferSize,
		rowGroupRows:  o.RowGroupRows,
		rowGroupBytes: o.RowGroupBytes,
	}
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
	f.cols = make([]*pqColumn, len(f.leaves))
	for i, n := range f.leaves {
		c := &pqColumn{
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
		}
		c.data = pqGetBuf()
		c.chunk = pqGetBuf()
		if c.maxDef > 0 {
			c.defs = pqGetBuf()
		}
		if c.maxRep > 0 {
			c.reps = pqGetBuf()
		}
	}
	f.meta = &format.FileMetaData{
		Version: 1,
		Schema:  pqSchemaElements(pschema),
		// parquet-mr ignores the string statistics of a file whose
		// created_by it cannot parse: "<app> version <v> (build <b>)".
		CreatedBy:    "gdeltflow version 1.0.0 (build delta-writer)",
		ColumnOrders: orders,
	}
	return f, nil
}

// pqCompressor compresses a page body.
type pqCompressor interface {
	Encode(dst, src []byte) ([]byte, error)
	CompressionCodec() format.CompressionCodec
}

// pqZstd is a zstd codec with pooled encoders and a window fitted to pages:
// the encoder's default 8 MiB history would be most of the writer's memory.
type pqZstd struct {
	level zstd.EncoderLevel
	pool  sync.Pool
}

const pqZstdWindow = 2 << 20

var (
	pqZstdFastest = pqZstd{level: zstd.SpeedFastest}
	pqZstdDefault = pqZstd{level: zstd.SpeedDefault}
	pqZstdBetter  = pqZstd{level: zstd.SpeedBetterCompression}
	pqZstdBest    = pqZstd{level: zstd.SpeedBestCompression}
)

// pqZstdFile holds one encoder for a file's lifetime (a GC does not take
// it back mid-file, as it would from the pool) and returns it on release.
type pqZstdFile struct {
	z *pqZstd
	e *zstd.Encoder
}

func (f *pqZstdFile) CompressionCodec() format.CompressionCodec { return format.Zstd }

func (f *pqZstdFile) Encode(dst, src []byte) ([]byte, error) {
	if f.e == nil {
		f.e, _ = f.z.pool.Get().(*zstd.Encoder)
	}
	if f.e == nil {
		e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(f.z.level), zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(pqZstdWindow), zstd.WithZeroFrames(true), zstd.WithEncoderCRC(false))
		if err != nil {
			return dst, err
		}
		f.e = e
	}
	return f.e.EncodeAll(src, dst[:0]), nil
}

func (f *pqZstdFile) release() {
	if f.e != nil {
		f.z.pool.Put(f.e)
		f.e = nil
	}
}

func pqCodec(name string, level int) (pqCompressor, error) {
	switch strings.ToLower(name) {
	case "", "zstd":
		switch {
		case level <= 1:
			return &pqZstdFile{z: &pqZstdFastest}, nil
		case level <= 4:
			return &pqZstdFile{z: &pqZstdDefault}, nil
		case level <= 9:
			return &pqZstdFile{z: &pqZstdBetter}, nil
		}
		return &pqZstdFile{z: &pqZstdBest}, nil
	case "snappy":
		return &parquet.Snappy, nil
	case "gzip":
		return &parquet.Gzip, nil
	case "uncompressed", "none":
		return &parquet.Uncompressed, nil
	}
	return nil, fmt.Errorf("unknown parquet compression %q (want zstd, snappy, gzip or uncompressed)", name)
}

// pqSchemaElements flattens the Parquet schema depth-first, root first, as
// the footer wants it.
func pqSchemaElements(root parquet.Node) []format.SchemaElement {
	var out []format.SchemaElement
	var walk func(name string, node parquet.Node, isRoot bool)
	walk = func(name string, node parquet.Node, isRoot bool) {
		t := node.Type()
		e := format.SchemaElement{Name: name}
		if !isRoot {
			switch {
			case node.Optional():
				e.RepetitionType.Set(format.Optional)
			case node.Repeated():
				e.RepetitionType.Set(format.Repeated)
			default:
				e.RepetitionType.Set(format.Required)
			}
		}
		if lt := t.LogicalType(); lt != nil {
			e.LogicalType = *lt
			if d, ok := lt.Value.(*format.DecimalType); ok {
				e.Scale.Set(d.Scale)
				e.Precision.Set(d.Precision)
			}
		}
		if n := int32(t.Length()); n > 0 {
			e.TypeLength.Set(n)
		}
		if !node.Leaf() {
			e.NumChildren.Set(int32(len(node.Fields())))
		}
		if pt := t.PhysicalType(); pt != nil {
			e.Type.Set(*pt)
		}
		if ct := t.ConvertedType(); ct != nil {
			e.ConvertedType.Set(*ct)
		}
		out = append(out, e)
		for _, fl := range node.Fields() {
			walk(fl.Name(), fl, false)
		}
	}
	walk("spark_schema", root, true)
	return out
}

// Schema returns the schema the file is written with.
func (f *FileWriter) Schema() schema.StructType { return f.schema }

// Rows returns the number of rows written so far.
func (f *FileWriter) Rows() int64 { return f.rows }

// BytesWritten returns the bytes passed to the output so far: the flushed
// row groups (and the footer after Close). Rows of the current row group are
// not counted until it is flushed.
func (f *FileWriter) BytesWritten() int64 { return f.out.n }

// BufferedBytes returns about how much the current row group holds in
// memory: its compressed pages and the values of the pages being filled.
func (f *FileWriter) BufferedBytes() int64 {
	var n int64
	for _, c := range f.cols {
		n += int64(len(c.chunk) + len(c.data) + len(c.defs) + len(c.reps))
	}
	return n
}

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
	f.seq++
	for _, c := range f.repCols {
		c.mark = pqMark{defs: len(c.defs), reps: len(c.reps), data: len(c.data), entries: c.entries, nulls: c.nulls}
	}
	for _, n := range f.root.fields {
		v := row[n.name]
		var err error
		if n.kind == pqLeaf {
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
	if f.checkRows >= pqCheckRows || f.checkBytes >= pqCheckBytes {
		return f.check()
	}
	return nil
}

// rollback undoes the values of the current row: a flat column holds at
// most one (seq tells whether it got it), a repeated one goes back to its mark.
func (f *FileWriter) rollback() {
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
		c.entries--
		c.seq = 0
	}
}

// check flushes the full pages, and the row group when it is full. The open
// pages of all columns together are held under pqPageBudget: past it, the
// biggest ones become pages early (a wide table, such as silver's 106
// columns, would otherwise hold up to a page size per column).
func (f *FileWriter) check() error {
	f.checkRows, f.checkBytes = 0, 0
	var size, open int64
	var biggest *pqColumn
	for _, c := range f.cols {
		if len(c.data)+len(c.defs)+len(c.reps) >= f.pageSize {
			if err := f.flushPage(c); err != nil {
				f.err = err
				return err
			}
		}
		page := int64(len(c.data) + len(c.defs) + len(c.reps))
		size += int64(len(c.chunk)) + page
		open += page
		if biggest == nil || page > int64(len(biggest.data)+len(biggest.defs)+len(biggest.reps)) {
			biggest = c
		}
	}
	for open > pqPageBudget && biggest != nil {
		page := int64(len(biggest.data) + len(biggest.defs) + len(biggest.reps))
		if err := f.flushPage(biggest); err != nil {
			f.err = err
			return err
		}
		open -= page
		biggest = nil
		for _, c := range f.cols {
			if p := len(c.data) + len(c.defs) + len(c.reps); p > 0 && (biggest == nil || p > len(biggest.data)+len(biggest.defs)+len(biggest.reps)) {
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
func (f *FileWriter) Flush() error {
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
	}
	if z, ok := f.codec.(*pqZstdFile); ok {
		z.release()
	}
	pqPutBuf(f.scratch)
	pqPutBuf(f.comp)
	f.scratch, f.lv, f.comp = nil, nil, nil
	st, err := pqStatsFromFooter(f.meta, f.root, f.leaves, f.schema)
	if err != nil {
		f.err = err
		return nil, err
	}
	f.stats = st
	return st, nil
}

// Metadata returns the footer written by Close (nil before).
func (f *FileWriter) Metadata() *format.FileMetaData {
	if !f.closed || f.err != nil {
		return nil
	}
	return f.meta
}

func (f *FileWriter) start() error {
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

func (f *FileWriter) flushRowGroup() error {
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
		if _, err := f.out.Write(c.chunk); err != nil {
			f.err = fmt.Errorf("parquet writer: writing column %s: %w", c.n.path, err)
			return f.err
		}
		rg.Columns[i] = c.chunkMetadata(offset, f.codec)
		rg.TotalByteSize += c.chunkUncompressed
		rg.TotalCompressedSize += int64(len(c.chunk))
		c.resetChunk()
	}
	f.rowGroups = append(f.rowGroups, rg)
	f.groupRows = 0
	return nil
}

// flushPage encodes, compresses and appends the page being filled to the
// column's chunk.
func (f *FileWriter) flushPage(c *pqColumn) error {
	if c.entries == 0 {
		return nil
	}
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
	if c.phys == parquet.Boolean {
		body = pqPackBooleans(body, c.data)
	} else {
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
	header.DataPageHeader.Set(format.DataPageHeader{
		NumValues:               int32(c.entries),
		Encoding:                format.Plain,
		DefinitionLevelEncoding: format.RLE,
		RepetitionLevelEncoding: format.RLE,
		Statistics:              format.Statistics{NullCount: int64(nulls)},
	})
	f.header.Reset()
	if err := f.thrift.Encode(&header); err != nil {
		return fmt.Errorf("parquet writer: encoding a page header: %w", err)
	}
	c.chunk = append(c.chunk, f.header.Bytes()...)
	c.chunk = append(c.chunk, compressed...)
	c.chunkUncompressed += int64(f.header.Len() + len(body))
	c.chunkValues += int64(c.entries)
	c.chunkNulls += int64(nulls)
	c.pages++
	c.resetPage()
	if cap(c.data) > pqKeepPageBuf {
		// A big page buffer goes back to the pool rather than staying with
		// its column for the file's life: the open pages' budget bounds
		// their lengths, this bounds what they keep.
		pqPutBuf(c.data)
		c.data = nil
	}
	return nil
}

// appendLevels appends V1 page levels: a 4-byte length, then the RLE /
// bit-packed hybrid encoding.
func (f *FileWriter) appendLevels(dst []byte, levels []uint8, max int) ([]byte, error) {
	enc := rle.Encoding{BitWidth: bits.Len8(uint8(max))}
	out, err := enc.EncodeLevels(f.lv[:0], levels)
	if err != nil {
		return dst, fmt.Errorf("parquet writer: encoding levels: %w", err)
	}
	f.lv = out
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(out)))
	return append(dst, out...), nil
}

// pqPackBooleans appends one bit per value, least significant bit first.
func pqPackBooleans(dst, vals []byte) []byte {
	for i := 0; i < len(vals); i += 8 {
		var b byte
		for j := 0; j < 8 && i+j < len(vals); j++ {
			b |= (vals[i+j] & 1) << j
		}
		dst = append(dst, b)
	}
	return dst
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
// Column chunks.

// pqFooterBoundBytes caps a byte-array min/max in the footer: longer bounds
// are cut (the max bumped up so it stays an upper bound), as parquet-mr and
// Spark do, so GKG's long strings do not bloat the footer.
const pqFooterBoundBytes = 256

type pqMark struct{ defs, reps, data, entries, nulls int }

// pqColumn is one leaf column: the page being filled and the row group's
// compressed pages.
type pqColumn struct {
	n              *pqNode
	phys           parquet.Kind
	maxDef, maxRep int
	path           []string
	wantHist       bool

	// The page being filled.
	defs, reps []uint8
	data       []byte // PLAIN values (booleans: a byte each, packed at flush)
	entries    int    // level entries: values and nulls
	nulls      int
	mark       pqMark // repeated columns: the page at the start of the current row
	seq        uint64 // flat columns: the row (FileWriter.seq) of the last value
	rowData    int    // flat columns: len(data) before the last value

	// The row group's column chunk.
	chunk             []byte
	chunkValues       int64
	chunkNulls        int64
	chunkUncompressed int64
	pages             int32
	min, max          []byte  // PLAIN bounds so far (byte arrays without length), nil: none
	hist              []int64 // definition level histogram (first leaf of an array or map)
}

func (c *pqColumn) rollback() {
	m := c.mark
	c.defs, c.reps, c.data = c.defs[:m.defs], c.reps[:m.reps], c.data[:m.data]
	c.entries, c.nulls = m.entries, m.nulls
}

func (c *pqColumn) resetPage() {
	c.defs, c.reps, c.data = c.defs[:0], c.reps[:0], c.data[:0]
	c.entries, c.nulls = 0, 0
}

func (c *pqColumn) resetChunk() {
	c.chunk = c.chunk[:0]
	c.chunkValues, c.chunkNulls, c.chunkUncompressed, c.pages = 0, 0, 0, 0
	c.min, c.max = nil, nil
	clear(c.hist)
}

func (c *pqColumn) release() {
	for _, b := range [][]byte{c.defs, c.reps, c.data, c.chunk} {
		pqPutBuf(b)
	}
	c.defs, c.reps, c.data, c.chunk = nil, nil, nil, nil
}

// Page and chunk buffers go back to a pool when a file is closed: a writer
// of many files reuses them instead of growing new ones from nothing. The
// pool is bounded in bytes (a sync.Pool is not: between two collections it
// kept every closed file's buffers, half a gigabyte on the day load), and
// keeps no buffer bigger than a few pages.
var pqPool = struct {
	sync.Mutex
	bufs  [][]byte
	bytes int
}{}

const (
	pqMaxPooledBuf   = 4 << 20  // a bigger buffer (a big row group's chunk) is left to the collector
	pqMaxPooledBytes = 32 << 20 // all pooled buffers together
)

func pqGetBuf() []byte {
	pqPool.Lock()
	defer pqPool.Unlock()
	n := len(pqPool.bufs)
	if n == 0 {
		return nil
	}
	b := pqPool.bufs[n-1]
	pqPool.bufs[n-1] = nil
	pqPool.bufs = pqPool.bufs[:n-1]
	pqPool.bytes -= cap(b)
	return b[:0]
}

func pqPutBuf(b []byte) {
	if cap(b) == 0 || cap(b) > pqMaxPooledBuf {
		return
	}
	pqPool.Lock()
	defer pqPool.Unlock()
	if pqPool.bytes+cap(b) > pqMaxPooledBytes {
		return
	}
	pqPool.bufs = append(pqPool.bufs, b[:0])
	pqPool.bytes += cap(b)
}

// null appends a null entry of row seq.
func (c *pqColumn) null(rep, def int, seq uint64) {
	if c.maxDef > 0 {
		c.defs = append(c.defs, uint8(def))
	}
	if c.maxRep > 0 {
		c.reps = append(c.reps, uint8(rep))
	} else {
		c.seq, c.rowData = seq, len(c.data)
	}
	c.entries++
	c.nulls++
}

// levels records the value just appended at data[start:] for row seq.
func (c *pqColumn) levels(rep, def int, seq uint64, start int) {
	if c.maxDef > 0 {
		c.defs = append(c.defs, uint8(def))
	}
	if c.maxRep > 0 {
		c.reps = append(c.reps, uint8(rep))
	} else {
		c.seq, c.rowData = seq, start
	}
	c.entries++
}

// value appends a converted value in its PLAIN form.
func (c *pqColumn) value(v pqValue) {
	switch c.phys {
	case parquet.Boolean:
		c.data = append(c.data, byte(v.u64&1))
	case parquet.Int32, parquet.Float:
		c.data = binary.LittleEndian.AppendUint32(c.data, uint32(v.u64))
	case parquet.Int64, parquet.Double:
		c.data = binary.LittleEndian.AppendUint64(c.data, v.u64)
	case parquet.ByteArray:
		c.data = binary.LittleEndian.AppendUint32(c.data, uint32(v.u64))
		c.data = append(c.data, unsafe.Slice(v.ptr, int(v.u64))...)
	case parquet.FixedLenByteArray:
		c.data = append(c.data, unsafe.Slice(v.ptr, int(v.u64))...)
	}
}

// bounds merges the min and max of the page's values into the chunk's.
func (c *pqColumn) bounds() {
	d := c.data
	if len(d) == 0 {
		return
	}
	switch c.phys {
	case parquet.Int64:
		lo := int64(binary.LittleEndian.Uint64(d))
		hi := lo
		for i := 8; i+8 <= len(d); i += 8 {
			x := int64(binary.LittleEndian.Uint64(d[i:]))
			lo, hi = min(lo, x), max(hi, x)
		}
		if c.min == nil || lo < int64(binary.LittleEndian.Uint64(c.min)) {
			c.min = binary.LittleEndian.AppendUint64(c.min[:0], uint64(lo))
		}
		if c.max == nil || hi > int64(binary.LittleEndian.Uint64(c.max)) {
			c.max = binary.LittleEndian.AppendUint64(c.max[:0], uint64(hi))
		}
	case parquet.Int32:
		lo := int32(binary.LittleEndian.Uint32(d))
		hi := lo
		for i := 4; i+4 <= len(d); i += 4 {
			x := int32(binary.LittleEndian.Uint32(d[i:]))
			lo, hi = min(lo, x), max(hi, x)
		}
		if c.min == nil || lo < int32(binary.LittleEndian.Uint32(c.min)) {
			c.min = binary.LittleEndian.AppendUint32(c.min[:0], uint32(lo))
		}
		if c.max == nil || hi > int32(binary.LittleEndian.Uint32(c.max)) {
			c.max = binary.LittleEndian.AppendUint32(c.max[:0], uint32(hi))
		}
	case parquet.Double:
		// NaNs take no part in bounds (Parquet's rule for floating point).
		lo, hi, any := math.Inf(1), math.Inf(-1), false
		for i := 0; i+8 <= len(d); i += 8 {
			x := math.Float64frombits(binary.LittleEndian.Uint64(d[i:]))
			if x != x {
				continue
			}
			any = true
			if x < lo || (x == 0 && lo == 0 && math.Signbit(x)) {
				lo = x
			}
			if x > hi || (x == 0 && hi == 0 && !math.Signbit(x)) {
				hi = x
			}
		}
		if !any {
			return
		}
		if c.min == nil || lo < math.Float64frombits(binary.LittleEndian.Uint64(c.min)) {
			c.min = binary.LittleEndian.AppendUint64(c.min[:0], math.Float64bits(lo))
		}
		if c.max == nil || hi > math.Float64frombits(binary.LittleEndian.Uint64(c.max)) {
			c.max = binary.LittleEndian.AppendUint64(c.max[:0], math.Float64bits(hi))
		}
	case parquet.Float:
		lo, hi, any := float32(math.Inf(1)), float32(math.Inf(-1)), false
		for i := 0; i+4 <= len(d); i += 4 {
			x := math.Float32frombits(binary.LittleEndian.Uint32(d[i:]))
			if x != x {
				continue
			}
			any = true
			lo, hi = min(lo, x), max(hi, x)
		}
		if !any {
			return
		}
		if c.min == nil || lo < math.Float32frombits(binary.LittleEndian.Uint32(c.min)) {
			c.min = binary.LittleEndian.AppendUint32(c.min[:0], math.Float32bits(lo))
		}
		if c.max == nil || hi > math.Float32frombits(binary.LittleEndian.Uint32(c.max)) {
			c.max = binary.LittleEndian.AppendUint32(c.max[:0], math.Float32bits(hi))
		}
	case parquet.Boolean:
		lo, hi := byte(1), byte(0)
		for _, b := range d {
			lo, hi = min(lo, b), max(hi, b)
		}
		if c.min == nil || lo < c.min[0] {
			c.min = append(c.min[:0], lo)
		}
		if c.max == nil || hi > c.max[0] {
			c.max = append(c.max[:0], hi)
		}
	case parquet.ByteArray:
		var lo, hi []byte
		for i := 0; i+4 <= len(d); {
			n := int(binary.LittleEndian.Uint32(d[i:]))
			v := d[i+4 : i+4+n]
			i += 4 + n
			if lo == nil || bytes.Compare(v, lo) < 0 {
				lo = v
			}
			if hi == nil || bytes.Compare(v, hi) > 0 {
				hi = v
			}
		}
		if lo == nil {
			return
		}
		if c.min == nil || bytes.Compare(lo, c.min) < 0 {
			c.min = append(make([]byte, 0, len(lo)), lo...)
		}
		if c.max == nil || bytes.Compare(hi, c.max) > 0 {
			c.max = append(make([]byte, 0, len(hi)), hi...)
		}
	case parquet.FixedLenByteArray:
		// Decimals: signed big-endian two's complement.
		w := c.n.leafNode.Type().Length()
		if w <= 0 {
			return
		}
		var lo, hi []byte
		for i := 0; i+w <= len(d); i += w {
			v := d[i : i+w]
			if lo == nil || pqCompareSigned(v, lo) < 0 {
				lo = v
			}
			if hi == nil || pqCompareSigned(v, hi) > 0 {
				hi = v
			}
		}
		if lo == nil {
			return
		}
		if c.min == nil || pqCompareSigned(lo, c.min) < 0 {
			c.min = append(c.min[:0:0], lo...)
		}
		if c.max == nil || pqCompareSigned(hi, c.max) > 0 {
			c.max = append(c.max[:0:0], hi...)
		}
	}
}

// pqCompareSigned compares two big-endian two's complement integers of the same width.
func pqCompareSigned(a, b []byte) int {
	if len(a) > 0 && len(b) > 0 && (a[0]^b[0])&0x80 != 0 {
		if a[0]&0x80 != 0 {
			return -1
		}
		return 1
	}
	return bytes.Compare(a, b)
}

// chunkMetadata describes the column chunk written at offset.
func (c *pqColumn) chunkMetadata(offset int64, codec pqCompressor) format.ColumnChunk {
	encodings := []format.Encoding{format.Plain}
	if c.maxDef > 0 || c.maxRep > 0 {
		encodings = append(encodings, format.RLE)
	}
	st := format.Statistics{NullCount: c.chunkNulls}
	if c.min != nil && c.max != nil {
		st.MinValue, st.MaxValue = c.min, c.max
		switch c.phys {
		case parquet.ByteArray:
			// Non-nil even when empty: "" is a bound, and thrift skips nil.
			st.MinValue = append([]byte{}, pqTruncateMin(string(c.min), pqFooterBoundBytes)...)
			if mx, ok := pqTruncateMax(string(c.max), pqFooterBoundBytes); ok {
				st.MaxValue = append([]byte{}, mx...)
			} else {
				st.MinValue, st.MaxValue = nil, nil
			}
		case parquet.Double:
			// Zeros: -0 as the min, +0 as the max (readers may see either).
			if math.Float64frombits(binary.LittleEndian.Uint64(c.min)) == 0 {
				st.MinValue = binary.LittleEndian.AppendUint64(nil, math.Float64bits(math.Copysign(0, -1)))
			}
			if math.Float64frombits(binary.LittleEndian.Uint64(c.max)) == 0 {
				st.MaxValue = binary.LittleEndian.AppendUint64(nil, 0)
			}
		}
	}
	md := format.ColumnMetaData{
		Type:                  format.Type(c.phys),
		Encoding:              encodings,
		PathInSchema:          c.path,
		Codec:                 codec.CompressionCodec(),
		NumValues:             c.chunkValues,
		TotalUncompressedSize: c.chunkUncompressed,
		TotalCompressedSize:   int64(len(c.chunk)),
		DataPageOffset:        offset,
		Statistics:            st,
		EncodingStats:         []format.PageEncodingStats{{PageType: format.DataPage, Encoding: format.Plain, Count: c.pages}},
	}
	if c.hist != nil {
		md.SizeStatistics.DefinitionLevelHistogram = append([]int64(nil), c.hist...)
	}
	return format.ColumnChunk{FileOffset: offset, MetaData: md}
}

// pqTruncateMin cuts s to at most n bytes on a character boundary: a
// prefix is never greater than s.
func pqTruncateMin(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// pqTruncateMax cuts s to at most n bytes and, when that cut something,
// bumps the last kept character so the result is greater than any string
// with that prefix. ok is false when there is no such bound.
func pqTruncateMax(s string, n int) (string, bool) {
	p := pqTruncateMin(s, n)
	if len(p) == len(s) {
		return s, true
	}
	return pqBump(p)
}

// pqBump returns the smallest string greater than every string that starts
// with p and has the same length in characters, by incrementing the last
// character that can be (surrogates skipped; a U+10FFFF is dropped).
func pqBump(p string) (string, bool) {
	for len(p) > 0 {
		r, size := utf8.DecodeLastRuneInString(p)
		head := p[:len(p)-size]
		if r == utf8.RuneError && size <= 1 {
			if b := p[len(p)-1]; b < 0xFF {
				return head + string([]byte{b + 1}), true
			}
			p = head
			continue
		}
		if r >= utf8.MaxRune {
			p = head
			continue
		}
		r++
		if r >= 0xD800 && r <= 0xDFFF {
			r = 0xE000
		}
		return head + string(r), true
	}
	return "", false
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
	typ      schema.DataType

	fields     []*pqNode // struct
	elem       *pqNode   // list
	key, value *pqNode   // map

	first, last int // leaf columns [first, last) under this node

	// Leaves.
	col      int
	c        *pqColumn
	conv     pqConverter
	fast     pqFast       // the decoder's Go type for this column, converted inline
	leafNode parquet.Node // the bare Parquet type
	phys     parquet.Kind
	maxDef   int
	maxRep   int
	wantHist bool // the first leaf of an optional array or map: its histogram counts their nulls
}

type pqFast uint8

const (
	pqFastNone pqFast = iota
	pqFastString
	pqFastLong
	pqFastDouble
)

type pqBuilder struct {
	leaves []*pqNode
}

// build compiles field f whose parent is present at definition level
// parentDef and repeated at parentRep.
func (b *pqBuilder) build(f *schema.StructField, parentDef, parentRep int, parentPath string) (*pqNode, error) {
	n := &pqNode{name: f.Name, optional: f.Nullable, rep: parentRep, typ: f.Type, first: len(b.leaves)}
	n.path = f.Name
	if parentPath != "" {
		n.path = parentPath + "." + f.Name
	}
	n.def = parentDef
	if n.optional {
		n.def++
	}
	if n.def+1 > parquet.MaxDefinitionLevel || parentRep+1 > parquet.MaxRepetitionLevel {
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
			return nil, fmt.Errorf("column %s: a struct needs at least one field", orElse(n.path, "schema"))
		}
	case t.Array != nil:
		n.kind = pqList
		n.rep = parentRep + 1
		e, err := b.build(&schema.StructField{Name: "element", Type: t.Array.ElementType, Nullable: t.Array.ContainsNull}, n.def+1, n.rep, n.path)
		if err != nil {
			return nil, err
		}
		e.path = n.path + "[]"
		n.elem = e
	case t.Map != nil:
		n.kind = pqMap
		n.rep = parentRep + 1
		k, err := b.build(&schema.StructField{Name: "key", Type: t.Map.KeyType, Nullable: false}, n.def+1, n.rep, n.path)
		if err != nil {
			return nil, err
		}
		v, err := b.build(&schema.StructField{Name: "value", Type: t.Map.ValueType, Nullable: t.Map.ValueContainsNull}, n.def+1, n.rep, n.path)
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
		n.maxDef = n.def
		n.maxRep = parentRep
		switch t.Primitive {
		case schema.TypeString:
			n.fast = pqFastString
		case schema.TypeLong:
			n.fast = pqFastLong
		case schema.TypeDouble:
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
	if (n.kind == pqList || n.kind == pqMap) && n.optional {
		b.leaves[n.first].wantHist = true
	}
	return n, nil
}

// parquetNode returns the Parquet schema node of n: 3-level lists and maps,
// groups in field order.
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
	}
	if n.optional {
		return parquet.Optional(node)
	}
	return parquet.Required(node)
}

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
func (g *pqGroup) Fields() []parquet.Field {
	out := make([]parquet.Field, len(g.fields))
	for i := range g.fields {
		out[i] = &g.fields[i]
	}
	return out
}

// ---------------------------------------------------------------------------
// Shredding: one row's values into the columns' pages.

func (f *FileWriter) appendNulls(n *pqNode, rep, def int) {
	for _, c := range f.cols[n.first:n.last] {
		c.null(rep, def, f.seq)
	}
}

// leaf appends the value v of leaf n (nil is null).
func (f *FileWriter) leaf(n *pqNode, v any, rep, parentDef int) error {
	c := n.c
	start := len(c.data)
	// The decoder's types first, without the converter's call.
	switch n.fast {
	case pqFastString:
		if s, ok := v.(string); ok {
			f.checkBytes += len(s)
			c.data = binary.LittleEndian.AppendUint32(c.data, uint32(len(s)))
			c.data = append(c.data, s...)
			c.levels(rep, n.def, f.seq, start)
			return nil
		}
	case pqFastLong:
		if x, ok := v.(int64); ok {
			c.data = binary.LittleEndian.AppendUint64(c.data, uint64(x))
			c.levels(rep, n.def, f.seq, start)
			return nil
		}
	case pqFastDouble:
		if x, ok := v.(float64); ok {
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
	}
	c.value(pv)
	c.levels(rep, n.def, f.seq, start)
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

type pqConverter func(v any) (pqValue, error)

func pqPrimitive(name string) (parquet.Node, pqConverter, error) {
	switch name {
	case schema.TypeString:
		return parquet.String(), pqString, nil
	case schema.TypeBinary:
		return parquet.Leaf(parquet.ByteArrayType), pqBinary, nil
	case schema.TypeLong:
		return parquet.Leaf(parquet.Int64Type), pqLong, nil
	case schema.TypeInteger:
		return parquet.Leaf(parquet.Int32Type), pqIntN(schema.TypeInteger, math.MinInt32, math.MaxInt32), nil
	case schema.TypeShort:
		return parquet.Int(16), pqIntN(schema.TypeShort, math.MinInt16, math.MaxInt16), nil
	case schema.TypeByte:
		return parquet.Int(8), pqIntN(schema.TypeByte, math.MinInt8, math.MaxInt8), nil
	case schema.TypeDouble:
		return parquet.Leaf(parquet.DoubleType), pqDouble, nil
	case schema.TypeFloat:
		return parquet.Leaf(parquet.FloatType), pqFloat, nil
	case schema.TypeBoolean:
		return parquet.Leaf(parquet.BooleanType), pqBoolean, nil
	case schema.TypeDate:
		return parquet.Date(), pqDate, nil
	case schema.TypeTimestamp:
		return parquet.TimestampAdjusted(parquet.Microsecond, true), pqTimestamp(schema.TypeTimestamp), nil
	case schema.TypeTimestampNTZ:
		return parquet.TimestampAdjusted(parquet.Microsecond, false), pqTimestamp(schema.TypeTimestampNTZ), nil
	}
	if strings.HasPrefix(name, "decimal") {
		p, s, err := schema.ParseDecimal(name)
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
		return pqStringV(x), nil
	case []byte:
		if !utf8.Valid(x) {
			return pqValue{}, &ValueError{Reason: "want string, got []byte that is not valid UTF-8"}
		}
		return pqBytesV(x), nil
	}
	return pqValue{}, pqWant(schema.TypeString, v)
}

func pqBinary(v any) (pqValue, error) {
	switch x := v.(type) {
	case []byte:
		return pqBytesV(x), nil
	case string:
		return pqStringV(x), nil
	}
	return pqValue{}, pqWant(schema.TypeBinary, v)
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
		return pqValue{}, pqWant(schema.TypeLong, v)
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
		return pqValue{}, pqWant(schema.TypeDouble, v)
	}
	return pqDoubleV(f), nil
}

func pqFloat(v any) (pqValue, error) {
	f, ok := pqFloat64(v)
	if !ok {
		return pqValue{}, pqWant(schema.TypeFloat, v)
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
	return pqValue{}, pqWant(schema.TypeBoolean, v)
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
	ntz := name == schema.TypeTimestampNTZ
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

// pqValue is a converted scalar: the bits of a number (booleans 0 or 1) in
// u64, or the bytes of a byte array at ptr, u64 long.
type pqValue struct {
	ptr *byte
	u64 uint64
}

func pqInt64V(x int64) pqValue    { return pqValue{u64: uint64(x)} }
func pqInt32V(x int32) pqValue    { return pqValue{u64: uint64(uint32(x))} }
func pqDoubleV(x float64) pqValue { return pqValue{u64: math.Float64bits(x)} }
func pqFloatV(x float32) pqValue  { return pqValue{u64: uint64(math.Float32bits(x))} }
func pqStringV(s string) pqValue  { return pqValue{ptr: unsafe.StringData(s), u64: uint64(len(s))} }
func pqBytesV(b []byte) pqValue   { return pqValue{ptr: unsafe.SliceData(b), u64: uint64(len(b))} }
func pqFixedV(b []byte) pqValue   { return pqBytesV(b) }
func pqBoolV(b bool) pqValue {
	if b {
		return pqValue{u64: 1}
	}
	return pqValue{}
}

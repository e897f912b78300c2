package datafile

import (
	"bytes"
	"encoding/binary"
	"math"
	"unicode/utf8"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// Column chunks: the page being filled and the row group's compressed pages
// of each leaf column, with their bounds for the footer's statistics.

// footerBoundBytes caps a byte-array min/max in the footer: longer bounds
// are cut (the max bumped up so it stays an upper bound), as parquet-mr and
// Spark do, so GKG's long strings do not bloat the footer.
const footerBoundBytes = 256

type rowMark struct{ defs, reps, data, entries, nulls int }

// column is one leaf column: the page being filled and the row group's
// compressed pages.
type column struct {
	n              *schemaNode
	phys           parquet.Kind
	maxDef, maxRep int
	path           []string
	wantHist       bool

	// The page being filled.
	defs, reps []uint8
	data       []byte // PLAIN values (booleans: a byte each, packed at flush)
	entries    int    // level entries: values and nulls
	nulls      int
	mark       rowMark     // repeated columns: the page at the start of the current row
	seq        uint64      // flat columns: the row (Writer.seq) of the last value
	rowData    int         // flat columns: len(data) before the last value
	pageHint   int         // the size of the last page's values: what a new page buffer starts with
	dict       *dictionary // flat byte-array columns: the chunk's dictionary (dict.go)
	rowIdx     int         // dictionary columns: len(dict.idx) before the row's value
	rowNew     bool        // dictionary columns: the row's value added an entry
	delta      bool        // int32/int64 columns: pages DELTA_BINARY_PACKED

	// The row group's column chunk.
	chunk             []byte
	chunkValues       int64
	chunkNulls        int64
	chunkUncompressed int64
	pages             int32
	deltaPages        int32   // DELTA_BINARY_PACKED pages of the chunk
	min, max          []byte  // PLAIN bounds so far (byte arrays without length), nil: none
	hist              []int64 // definition level histogram (first leaf of an array or map)
}

func (c *column) rollback() {
	m := c.mark
	c.defs, c.reps, c.data = c.defs[:m.defs], c.reps[:m.reps], c.data[:m.data]
	c.entries, c.nulls = m.entries, m.nulls
}

func (c *column) resetPage() {
	c.defs, c.reps, c.data = c.defs[:0], c.reps[:0], c.data[:0]
	c.entries, c.nulls = 0, 0
}

func (c *column) resetChunk() {
	c.chunk = c.chunk[:0]
	c.chunkValues, c.chunkNulls, c.chunkUncompressed, c.pages, c.deltaPages = 0, 0, 0, 0, 0
	c.min, c.max = nil, nil
	clear(c.hist)
}

func (c *column) release() {
	for _, b := range [][]byte{c.defs, c.reps, c.data, c.chunk} {
		putBuf(b)
	}
	c.defs, c.reps, c.data, c.chunk = nil, nil, nil, nil
}

// room makes room for n more bytes of values: a page buffer grows to the
// last page's size at once, then doubles.
func (c *column) room(n int) {
	if cap(c.data)-len(c.data) < n {
		c.data = grown(c.data, n, c.pageHint)
	}
}

// null appends a null entry of row seq.
func (c *column) null(rep, def int, seq uint64) {
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
func (c *column) levels(rep, def int, seq uint64, start int) {
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
func (c *column) value(v scalar) {
	if c.phys == parquet.ByteArray || c.phys == parquet.FixedLenByteArray {
		c.room(int(v.u64) + 4)
	} else {
		c.room(8)
	}
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

// pageBytes is about what the page being filled takes.
func (c *column) pageBytes() int {
	n := len(c.data) + len(c.defs) + len(c.reps)
	if c.dict != nil {
		// The indices, and the values the page added to the dictionary: a
		// page of distinct values is as big as PLAIN, and ends as soon.
		n += 4*len(c.dict.idx) + c.dict.bytes - c.dict.pageFrom
	}
	return n
}

// bounds merges the min and max of the page's PLAIN values into the chunk's.
func (c *column) bounds() { c.boundsOf(c.data) }

// boundsOf merges the min and max of PLAIN values d into the chunk's.
func (c *column) boundsOf(d []byte) {
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
			if lo == nil || compareSigned(v, lo) < 0 {
				lo = v
			}
			if hi == nil || compareSigned(v, hi) > 0 {
				hi = v
			}
		}
		if lo == nil {
			return
		}
		if c.min == nil || compareSigned(lo, c.min) < 0 {
			c.min = append(c.min[:0:0], lo...)
		}
		if c.max == nil || compareSigned(hi, c.max) > 0 {
			c.max = append(c.max[:0:0], hi...)
		}
	}
}

// compareSigned compares two big-endian two's complement integers of the same width.
func compareSigned(a, b []byte) int {
	if len(a) > 0 && len(b) > 0 && (a[0]^b[0])&0x80 != 0 {
		if a[0]&0x80 != 0 {
			return -1
		}
		return 1
	}
	return bytes.Compare(a, b)
}

// chunkMetadata describes the column chunk written at offset.
// dictPage is the length of the dictionary page in front of the data pages
// (0: none).
func (c *column) chunkMetadata(offset int64, codec compressor, dictPage int) format.ColumnChunk {
	encodings := []format.Encoding{format.Plain}
	if c.maxDef > 0 || c.maxRep > 0 {
		encodings = append(encodings, format.RLE)
	}
	var dictPages int32
	if dictPage > 0 {
		dictPages = c.dict.pages
		encodings = append(encodings, format.RLEDictionary)
	}
	if c.deltaPages > 0 {
		encodings = append(encodings, format.DeltaBinaryPacked)
	}
	st := format.Statistics{NullCount: c.chunkNulls}
	if c.min != nil && c.max != nil {
		st.MinValue, st.MaxValue = c.min, c.max
		switch c.phys {
		case parquet.ByteArray:
			// Non-nil even when empty: "" is a bound, and thrift skips nil.
			st.MinValue = append([]byte{}, truncateFooterMin(string(c.min), footerBoundBytes)...)
			if mx, ok := truncateFooterMax(string(c.max), footerBoundBytes); ok {
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
		TotalCompressedSize:   int64(dictPage + len(c.chunk)),
		DataPageOffset:        offset + int64(dictPage),
		Statistics:            st,
	}
	if dictPage > 0 {
		md.DictionaryPageOffset = offset
		md.EncodingStats = append(md.EncodingStats,
			format.PageEncodingStats{PageType: format.DictionaryPage, Encoding: format.Plain, Count: 1},
			format.PageEncodingStats{PageType: format.DataPage, Encoding: format.RLEDictionary, Count: dictPages})
	}
	if c.deltaPages > 0 {
		md.EncodingStats = append(md.EncodingStats, format.PageEncodingStats{PageType: format.DataPage, Encoding: format.DeltaBinaryPacked, Count: c.deltaPages})
	}
	if plain := c.pages - dictPages - c.deltaPages; plain > 0 {
		md.EncodingStats = append(md.EncodingStats, format.PageEncodingStats{PageType: format.DataPage, Encoding: format.Plain, Count: plain})
	}
	if c.hist != nil {
		md.SizeStatistics.DefinitionLevelHistogram = append([]int64(nil), c.hist...)
	}
	return format.ColumnChunk{FileOffset: offset, MetaData: md}
}

// truncateFooterMin cuts s to at most n bytes on a character boundary: a
// prefix is never greater than s.
func truncateFooterMin(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// truncateFooterMax cuts s to at most n bytes and, when that cut something,
// bumps the last kept character so the result is greater than any string
// with that prefix. ok is false when there is no such bound.
func truncateFooterMax(s string, n int) (string, bool) {
	p := truncateFooterMin(s, n)
	if len(p) == len(s) {
		return s, true
	}
	return bump(p)
}

// bump returns the smallest string greater than every string that starts
// with p and has the same length in characters, by incrementing the last
// character that can be (surrogates skipped; a U+10FFFF is dropped).
func bump(p string) (string, bool) {
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

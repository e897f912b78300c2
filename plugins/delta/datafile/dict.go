package datafile

import (
	"encoding/binary"
	"fmt"
	"sync"
	"unsafe"

	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/format"
)

// Dictionary encoding of string columns. A flat byte-array column starts
// each column chunk with a dictionary: its pages hold RLE_DICTIONARY indices
// and the chunk's distinct values go once into a dictionary page in front of
// them (silver's GKG columns repeat an article's record on each of its
// mentions; codes, names and domains repeat everywhere). A column whose
// values are mostly distinct (URLs) gives it up at its first page, which is
// then written PLAIN, and stays PLAIN for the rest of the file; one whose
// dictionary grows past dictMaxBytes goes on PLAIN for the rest of the chunk
// (Parquet allows the mix, as parquet-mr writes it). Bounds come from the
// dictionary's values, every one of which a row of the chunk holds.
var (
	// dictMaxBytes bounds one column's dictionary (its PLAIN values); a
	// variable for the tests.
	dictMaxBytes = 8 << 20
	// dictMinEntries: a first page with fewer values keeps its dictionary
	// whatever their distinctness (a small file is cheap either way).
	dictMinEntries = 64
)

// dictionary is one column chunk's dictionary.
type dictionary struct {
	index    map[string]int32
	entries  []string // the values, in blocks: the index's keys point into them
	blocks   [][]byte // the values' bytes, filled one after another, never moved or pooled
	block    int      // the block being filled
	bytes    int      // the dictionary page's size: 4 + len(value) per entry
	pageFrom int      // bytes when the page being filled began: its new entries count in its size
	idx      []int32  // the page's values, as entries
	pages    int32    // RLE_DICTIONARY pages of the chunk
	plain    bool     // the chunk went on PLAIN after dictionary pages
	off      bool     // given up for the file: the column is PLAIN
}

// dictPool keeps the dictionaries of closed files: a writer per commit
// would otherwise grow each column's map and blocks again from nothing
// (the map's rehashes were a good part of a small file's dictionary cost).
var dictPool sync.Pool

func newDictionary() *dictionary {
	if d, ok := dictPool.Get().(*dictionary); ok {
		return d
	}
	return &dictionary{index: map[string]int32{}}
}

// release empties d and pools it; a dictionary grown past its bound is left
// to the collector.
func (d *dictionary) release() {
	if d.bytes > dictMaxBytes || len(d.entries) > 1<<16 {
		return
	}
	d.reset()
	d.off = false
	dictPool.Put(d)
}

// active tells whether values go into the dictionary.
func (d *dictionary) active() bool { return d != nil && !d.off && !d.plain }

// dictBlock is the size of the blocks that hold a dictionary's values.
const dictBlock = 64 << 10

// add appends s's entry to the page; new tells whether the entry is new.
func (d *dictionary) add(s string) (new bool) {
	i, ok := d.index[s]
	if !ok {
		new = true
		key := d.keep(s)
		i = int32(len(d.entries))
		d.entries = append(d.entries, key)
		d.index[key] = i
		d.bytes += 4 + len(s)
	}
	d.idx = append(d.idx, i)
	return new
}

// keep copies s into the blocks (the caller's row is not kept).
func (d *dictionary) keep(s string) string {
	if len(s) == 0 {
		return ""
	}
	for d.block < len(d.blocks) && cap(d.blocks[d.block])-len(d.blocks[d.block]) < len(s) {
		d.block++
	}
	if d.block == len(d.blocks) {
		d.blocks = append(d.blocks, make([]byte, 0, max(dictBlock, len(s))))
	}
	b := d.blocks[d.block]
	off := len(b)
	b = append(b, s...)
	d.blocks[d.block] = b
	return unsafe.String(&b[off], len(s))
}

// drop removes the last entry of the page, and of the dictionary when new
// (a row rolled back: its values leave no trace, in the bounds either).
func (d *dictionary) drop(new bool) {
	d.idx = d.idx[:len(d.idx)-1]
	if new {
		last := len(d.entries) - 1
		delete(d.index, d.entries[last])
		d.bytes -= 4 + len(d.entries[last])
		d.entries = d.entries[:last]
	}
}

// plainOf appends the PLAIN form of the page's values to dst.
func (d *dictionary) plainOf(dst []byte) []byte {
	for _, i := range d.idx {
		s := d.entries[i]
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(s)))
		dst = append(dst, s...)
	}
	return dst
}

// page appends the dictionary page's body (the values, PLAIN) to dst.
func (d *dictionary) page(dst []byte) []byte {
	for _, s := range d.entries {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(s)))
		dst = append(dst, s...)
	}
	return dst
}

// reset empties the dictionary for the next column chunk; its blocks are
// filled again.
func (d *dictionary) reset() {
	clear(d.index)
	clear(d.entries)
	d.entries, d.idx = d.entries[:0], d.idx[:0]
	for i := range d.blocks {
		d.blocks[i] = d.blocks[i][:0]
	}
	d.block, d.bytes, d.pageFrom, d.pages, d.plain = 0, 0, 0, 0, false
}

// decide, before a page of a dictionary column is written, whether it goes
// on with its dictionary: not when the first page's values are mostly
// distinct (the page is turned PLAIN and the column stays PLAIN for the
// file), nor once the dictionary is past its bound (PLAIN for the rest of
// the chunk, after this page).
func (f *Writer) decide(c *column) {
	d := c.dict
	if !d.active() || len(d.idx) == 0 {
		return
	}
	if d.pages == 0 && len(d.idx) >= dictMinEntries && 2*len(d.entries) > len(d.idx) {
		c.room(d.bytes)
		c.data = d.plainOf(c.data)
		d.off = true
		d.reset()
		return
	}
	if d.bytes > dictMaxBytes {
		d.plain = true // this page still uses it
	}
}

// appendIndices appends the page's entries, RLE_DICTIONARY encoded (bit
// width byte, then the RLE / bit-packed hybrid).
func (f *Writer) appendIndices(dst []byte, d *dictionary) ([]byte, error) {
	var enc rle.DictionaryEncoding
	out, err := enc.EncodeInt32(f.lv[:0], d.idx)
	if err != nil {
		return dst, fmt.Errorf("parquet writer: encoding dictionary indices: %w", err)
	}
	f.lv = out
	return append(dst, out...), nil
}

// writeDictPage compresses the chunk's dictionary into a dictionary page:
// header and body, returned in f.dictPage; the uncompressed size is added to
// the chunk's. Its values' bounds are merged into the chunk's.
func (f *Writer) writeDictPage(c *column) error {
	d := c.dict
	f.room(d.bytes)
	body := d.page(f.scratch[:0])
	f.scratch = body
	c.boundsOf(body)
	compressed, err := f.codec.Encode(f.comp[:0], body)
	if err != nil {
		return fmt.Errorf("parquet writer: compressing the dictionary of column %s: %w", c.n.path, err)
	}
	f.comp = compressed
	header := format.PageHeader{
		Type:                 format.DictionaryPage,
		UncompressedPageSize: int32(len(body)),
		CompressedPageSize:   int32(len(compressed)),
	}
	header.DictionaryPageHeader.Set(format.DictionaryPageHeader{NumValues: int32(len(d.entries)), Encoding: format.Plain})
	f.header.Reset()
	if err := f.thrift.Encode(&header); err != nil {
		return fmt.Errorf("parquet writer: encoding a dictionary page header: %w", err)
	}
	f.dictPage = append(append(f.dictPage[:0], f.header.Bytes()...), compressed...)
	c.chunkUncompressed += int64(f.header.Len() + len(body))
	return nil
}

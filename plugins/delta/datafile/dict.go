package datafile

import (
	"encoding/binary"
	"fmt"
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
	index map[string]int32
	data  []byte  // PLAIN values (4-byte length, bytes), the dictionary page's body
	offs  []int32 // offset in data of each entry
	idx   []int32 // the page's values, as entries
	pages int32   // RLE_DICTIONARY pages of the chunk
	plain bool    // the chunk went on PLAIN after dictionary pages
	off   bool    // given up for the file: the column is PLAIN
}

func newDictionary() *dictionary { return &dictionary{index: map[string]int32{}} }

// active tells whether values go into the dictionary.
func (d *dictionary) active() bool { return d != nil && !d.off && !d.plain }

// add appends s's entry to the page; new tells whether the entry is new.
func (d *dictionary) add(s string) (new bool) {
	i, ok := d.index[s]
	if !ok {
		new = true
		off := len(d.data)
		// data is appended to, never pooled: the index's keys point into it.
		d.data = binary.LittleEndian.AppendUint32(d.data, uint32(len(s)))
		d.data = append(d.data, s...)
		key := ""
		if len(s) > 0 {
			key = unsafe.String(&d.data[off+4], len(s))
		}
		i = int32(len(d.offs))
		d.offs = append(d.offs, int32(off))
		d.index[key] = i
	}
	d.idx = append(d.idx, i)
	return new
}

// drop removes the last entry of the page, and of the dictionary when new
// (a row rolled back: its values leave no trace, in the bounds either).
func (d *dictionary) drop(new bool) {
	d.idx = d.idx[:len(d.idx)-1]
	if new {
		last := len(d.offs) - 1
		off := int(d.offs[last])
		n := int(binary.LittleEndian.Uint32(d.data[off:]))
		delete(d.index, string(d.data[off+4:off+4+n]))
		d.data, d.offs = d.data[:off], d.offs[:last]
	}
}

// plainOf appends the PLAIN form of the page's values to dst.
func (d *dictionary) plainOf(dst []byte) []byte {
	for _, i := range d.idx {
		off := int(d.offs[i])
		n := int(binary.LittleEndian.Uint32(d.data[off:]))
		dst = append(dst, d.data[off:off+4+n]...)
	}
	return dst
}

// reset empties the dictionary for the next column chunk.
func (d *dictionary) reset() {
	clear(d.index)
	d.data, d.offs, d.idx = d.data[:0], d.offs[:0], d.idx[:0]
	d.pages, d.plain = 0, false
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
	if d.pages == 0 && len(d.idx) >= dictMinEntries && 2*len(d.offs) > len(d.idx) {
		c.room(len(d.data))
		c.data = d.plainOf(c.data)
		d.off = true
		d.reset()
		return
	}
	if len(d.data) > dictMaxBytes {
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
// the chunk's.
func (f *Writer) writeDictPage(c *column) error {
	d := c.dict
	compressed, err := f.codec.Encode(f.comp[:0], d.data)
	if err != nil {
		return fmt.Errorf("parquet writer: compressing the dictionary of column %s: %w", c.n.path, err)
	}
	f.comp = compressed
	header := format.PageHeader{
		Type:                 format.DictionaryPage,
		UncompressedPageSize: int32(len(d.data)),
		CompressedPageSize:   int32(len(compressed)),
	}
	header.DictionaryPageHeader.Set(format.DictionaryPageHeader{NumValues: int32(len(d.offs)), Encoding: format.Plain})
	f.header.Reset()
	if err := f.thrift.Encode(&header); err != nil {
		return fmt.Errorf("parquet writer: encoding a dictionary page header: %w", err)
	}
	f.dictPage = append(append(f.dictPage[:0], f.header.Bytes()...), compressed...)
	c.chunkUncompressed += int64(f.header.Len() + len(d.data))
	return nil
}

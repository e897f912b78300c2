package datafile

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"unsafe"

	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/format"
)

// Dictionary encoding of string columns. A flat byte-array column starts
// each column chunk with a dictionary: its pages hold RLE_DICTIONARY indices
// and the chunk's distinct values go once into a dictionary page in front of
// them (silver's GKG columns repeat an article's record on each of its
// mentions; codes, names and domains repeat everywhere). Whether the values
// repeat enough is decided once per file, when the column has taken
// dictDecideValues values (or at its first page, if that page holds as
// many): a column whose values are then mostly distinct (URLs of the bronze
// tables, the GKG's text) gives the dictionary up and is PLAIN for the rest
// of the file (the page being decided on too, when it is the chunk's
// first). The decision waits for that many values because repeats can be far
// apart: silver's mentions of one article are spread over its window, so a
// first page of GCAM text (~110 values of ~9 KB) is mostly distinct while the
// window's whole chunk repeats each value about four times. Waiting costs a
// mostly distinct column little: hashing and copying its values is a small
// fraction of compressing them, which PLAIN does too. A dictionary that
// grows past dictMaxBytes goes on PLAIN for the rest of the chunk (Parquet
// allows the mix, as parquet-mr writes it). Bounds come from the
// dictionary's values, every one of which a row of the chunk holds.
var (
	// dictMaxBytes bounds one column's dictionary (its PLAIN values): a
	// silver window's GCAM texts fit; a variable for the tests.
	dictMaxBytes = 16 << 20
	// dictDecideValues: how many values a column takes before its
	// dictionary is kept or given up; a variable for the tests.
	dictDecideValues = 2048
)

// DictHints carries a table's dictionary decisions from its files to its
// next ones. A column whose values a file found mostly distinct starts the
// next files PLAIN: it is not hashed and copied into a dictionary that would
// be given up (bronze GKG's text: 1.3 GB a day, commits of 2,000 rows, fewer
// values than a decision takes, so every file built a dictionary of its
// whole text). Every dictRefreshFiles-th file decides afresh, so a column
// whose values begin to repeat gets its dictionary back. Only decisions over
// at least dictHintValues values count. Safe for concurrent writers; one per
// table (delta.Appender keeps one).
type DictHints struct {
	mu    sync.Mutex
	plain map[string]bool // column path → its last decision gave the dictionary up
	files int
}

// NewDictHints returns empty hints: the first file decides every column.
func NewDictHints() *DictHints { return &DictHints{plain: map[string]bool{}} }

var (
	// dictRefreshFiles: one file in this many ignores the hints and
	// decides every column again; a variable for the tests.
	dictRefreshFiles = 16
	// dictHintValues: the fewest values a decision that counts for the
	// next files is made over.
	dictHintValues = 256
)

// start counts a new file; fresh tells it to ignore the hints.
func (h *DictHints) start() (fresh bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.files++
	return h.files%dictRefreshFiles == 1
}

func (h *DictHints) isPlain(path string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.plain[path]
}

func (h *DictHints) record(path string, plain bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if plain {
		h.plain[path] = true
	} else {
		delete(h.plain, path)
	}
}

// dictionary is one column chunk's dictionary.
type dictionary struct {
	index    map[string]int32
	byAddr   map[*byte]addrEntry // long values by their memory (addString)
	lastAddr *byte               // the memory of the last add's value, when it made a new entry
	prev     *byte               // the memory of the value addString took last (nil: none), of prevLen bytes, entry prevIdx
	prevLen  int
	prevIdx  int32
	entries  []string // the values, in blocks: the index's keys point into them
	blocks   [][]byte // the values' bytes, filled one after another, never moved; pooled when the dictionary is
	block    int      // the block being filled
	bytes    int      // the dictionary page's size: 4 + len(value) per entry
	pageFrom int      // bytes when the page being filled began: its new entries count in its size
	idx      []int32  // the page's values, as entries
	pages    int32    // RLE_DICTIONARY pages of the chunk
	plain    bool     // the chunk went on PLAIN after dictionary pages
	off      bool     // given up for the file: the column is PLAIN
	seen     int      // values of the chunk's flushed dictionary pages
	past     [2]int   // values and entries of the file's earlier chunks (until decided)
	decided  bool     // kept or given up (quit) for the file
	quit     bool     // given up after dictionary pages: off from the next chunk
}

// dictPool keeps the dictionaries of closed files: a writer per commit
// would otherwise grow each column's map and blocks again from nothing
// (the map's rehashes were a good part of a small file's dictionary cost).
var dictPool sync.Pool

func newDictionary() *dictionary {
	if d, ok := dictPool.Get().(*dictionary); ok {
		return d
	}
	return &dictionary{index: map[string]int32{}, byAddr: map[*byte]addrEntry{}}
}

// addrEntry is a long value's length and entry, found by its memory.
type addrEntry struct {
	n int
	i int32
}

// addrMinLen is the shortest value addString looks up by its memory first.
const addrMinLen = 128

// release empties d and pools it, with some of its blocks.
func (d *dictionary) release() {
	d.reset()
	d.off, d.decided, d.quit, d.past = false, false, false, [2]int{}
	if len(d.blocks) > dictPoolBlocks {
		for _, b := range d.blocks[dictPoolBlocks:] {
			putBuf(b)
		}
		clear(d.blocks[dictPoolBlocks:])
		d.blocks = d.blocks[:dictPoolBlocks] // a pooled dictionary keeps 1 MiB of blocks at most
	}
	dictPool.Put(d)
}

// active tells whether values go into the dictionary.
func (d *dictionary) active() bool { return d != nil && !d.off && !d.plain }

// dictBlock is the size of the blocks that hold a dictionary's values.
const dictBlock = 64 << 10

// dictPoolBlocks is the most blocks a pooled dictionary keeps.
const dictPoolBlocks = 16

// add appends s's entry to the page; new tells whether the entry is new.
func (d *dictionary) add(s string) (new bool) {
	i, ok := d.index[s]
	if !ok {
		new = true
		d.lastAddr = nil
		key := d.keep(s)
		i = int32(len(d.entries))
		d.entries = append(d.entries, key)
		d.index[key] = i
		d.bytes += 4 + len(s)
	}
	d.idx = append(d.idx, i)
	return new
}

// addString is add for a Go string, which never changes: a long value seen
// before at the same memory (the same bytes, so the same entry) is found
// without hashing it and comparing it byte by byte. Silver's rows share
// their GKG values: an article's record (GCAM text of ~9 KB and more) is one
// string on each of its mentions. The map's key keeps the memory alive for
// the chunk (reset forgets it), so it cannot hold another value meanwhile.
// Only for values that are strings of their own: a value made from a buffer
// that is written again (a reader's page) must go through add.
//
// First of all, a value at the memory of the value before it is that
// value's entry: silver's rows come event by event, and the mentions of one
// event share its decoded columns.
func (d *dictionary) addString(s string) (new bool) {
	if len(s) == 0 {
		return d.add(s)
	}
	p := unsafe.StringData(s)
	if p == d.prev && len(s) == d.prevLen {
		d.idx = append(d.idx, d.prevIdx)
		d.lastAddr = nil
		return false
	}
	if len(s) < addrMinLen {
		new = d.add(s)
	} else if e, ok := d.byAddr[p]; ok && e.n == len(s) {
		d.idx = append(d.idx, e.i)
		d.lastAddr = nil
	} else {
		new = d.add(s)
		d.byAddr[p] = addrEntry{n: len(s), i: d.idx[len(d.idx)-1]}
		if new {
			d.lastAddr = p
		}
	}
	d.prev, d.prevLen, d.prevIdx = p, len(s), d.idx[len(d.idx)-1]
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
		d.blocks = append(d.blocks, getBufCap(max(dictBlock, len(s))))
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
	d.prev = nil
	if new {
		if d.lastAddr != nil {
			delete(d.byAddr, d.lastAddr)
			d.lastAddr = nil
		}
		last := len(d.entries) - 1
		delete(d.index, d.entries[last])
		d.bytes -= 4 + len(d.entries[last])
		d.entries = d.entries[:last]
	}
}

// plainOf appends the PLAIN form of the page's values to dst.
func (d *dictionary) plainOf(dst []byte) []byte {
	n := 0
	for _, i := range d.idx {
		n += 4 + len(d.entries[i])
	}
	dst = slices.Grow(dst, n)
	for _, i := range d.idx {
		s := d.entries[i]
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(s)))
		dst = append(dst, s...)
	}
	return dst
}

// page appends the dictionary page's body (the values, PLAIN) to dst.
func (d *dictionary) page(dst []byte) []byte {
	dst = slices.Grow(dst, d.bytes) // its size is known: no growing copy by copy
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
	clear(d.byAddr)
	d.lastAddr, d.prev = nil, nil
	d.idx = d.idx[:0]
	for i := range d.blocks {
		d.blocks[i] = d.blocks[i][:0]
	}
	d.past[0] += d.seen
	d.past[1] += len(d.entries)
	clear(d.entries)
	d.entries = d.entries[:0]
	d.block, d.bytes, d.pageFrom, d.pages, d.plain, d.seen = 0, 0, 0, 0, false, 0
	if d.quit {
		d.off = true
	}
}

// decide, before a page of a dictionary column is written, whether it goes
// on with its dictionary. Once per file, when the column has taken
// dictDecideValues values (over its chunks so far: a chunk's distinct
// values count as new) or at the file's last page (Close has set closed) if
// it has fewer (no more values can repeat them), mostly distinct values give it up: the page is
// turned PLAIN if it is the chunk's first (the column is then PLAIN for the
// file), else it is the chunk's last dictionary page and the column is PLAIN
// from the next chunk on. A dictionary past its bound is PLAIN for the rest
// of the chunk, after this page.
func (f *Writer) decide(c *column) {
	d := c.dict
	if !d.active() || len(d.idx) == 0 {
		return
	}
	if n := d.past[0] + d.seen + len(d.idx); !d.decided && (n >= dictDecideValues || f.closed) {
		d.decided = true
		distinct := 2*(d.past[1]+len(d.entries)) > n
		if f.hints != nil && n >= dictHintValues {
			f.hints.record(c.n.path, distinct)
		}
		if distinct {
			if d.pages == 0 {
				c.room(d.bytes)
				c.data = d.plainOf(c.data)
				d.off = true
				d.reset()
				return
			}
			d.plain, d.quit = true, true // this page still uses it
		}
	}
	d.seen += len(d.idx)
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

// writeDictPage compresses the chunk's dictionary into a dictionary page and
// writes it (header, then body) to the file; it returns the page's size. The
// uncompressed size is added to the chunk's; its values' bounds are merged
// into the chunk's.
func (f *Writer) writeDictPage(c *column) (int, error) {
	d := c.dict
	f.room(d.bytes)
	body := d.page(f.scratch[:0])
	f.scratch = body
	c.boundsOf(body)
	compressed, err := f.codec.Encode(f.comp[:0], body)
	if err != nil {
		return 0, fmt.Errorf("parquet writer: compressing the dictionary of column %s: %w", c.n.path, err)
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
		return 0, fmt.Errorf("parquet writer: encoding a dictionary page header: %w", err)
	}
	for _, b := range [][]byte{f.header.Bytes(), compressed} {
		if _, err := f.out.Write(b); err != nil {
			return 0, fmt.Errorf("parquet writer: writing column %s: %w", c.n.path, err)
		}
	}
	c.chunkUncompressed += int64(f.header.Len() + len(body))
	return f.header.Len() + len(compressed), nil
}

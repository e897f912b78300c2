package gdelt

import (
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"

	"github.com/gdeltflow/gdeltflow/plugins/internal/box"
)

// Reasons a raw row fails to decode. They are the only ways a row fails: a
// malformed nested GKG block is skipped and counted, never fatal.
const (
	ReasonFieldCount  = "field_count"  // not exactly the table's number of tab-separated fields
	ReasonInvalidUTF8 = "invalid_utf8" // the line is not valid UTF-8
	ReasonBadInt      = "bad_int"      // an INT64 column holds something other than a decimal integer
	ReasonBadFloat    = "bad_float"    // a FLOAT64 column holds something other than a finite decimal number
)

// DecodeError says why one raw row was rejected.
type DecodeError struct {
	Table  string // the table's file-name part: export, mentions, gkg
	Reason string // one of the Reason constants
	Column string // the snake_case column at fault, "" for field_count
	Detail string // human-readable, e.g. "got 60 fields, want 61"
}

// Error reads "<reason>: <detail>", e.g. `bad_int: column num_mentions: "1x"`.
func (e *DecodeError) Error() string { return e.Reason + ": " + e.Detail }

// decodeMaxQuoted bounds how much of a bad value an error message repeats.
const decodeMaxQuoted = 64

// decodeColumn is the per-column state the hot loop needs, flattened out of
// schema.Column so the loop touches one small struct.
type decodeColumn struct {
	name    string
	kind    schema.Kind
	nesting schema.Nesting // Flat unless nested parsing applies to this column
}

// Decoder turns raw GDELT TSV lines of one table into rows of typed values:
// in column order (DecodeRow) or as maps keyed by the snake_case column
// names of package schema (Decode).
//
// A Decoder is safe for concurrent use once built (set OnMalformed before
// sharing it).
type Decoder struct {
	table  *schema.Table
	nested bool
	cols   []decodeColumn
	layout *schema.Layout // the columns, then with nested parsing the GKG's extras
	nStr   int            // flat string columns: the size of a row's string slab
	nNum   int            // int64 and float64 columns: the size of a row's number slab

	// malformed counts skipped nested blocks per column index.
	malformed   []atomic.Int64
	onMalformed func(column string, blocks int)
}

// NewDecoder builds a decoder for table t. nested turns on the parsing of
// the nested GKG columns (ignored for the other tables).
func NewDecoder(t *schema.Table, nested bool) *Decoder {
	nested = nested && t.Name == schema.GKGTable
	d := &Decoder{
		table:     t,
		nested:    nested,
		cols:      make([]decodeColumn, len(t.Columns)),
		layout:    schema.LayoutOf(t, nested),
		malformed: make([]atomic.Int64, len(t.Columns)),
	}
	for i, c := range t.Columns {
		d.cols[i] = decodeColumn{name: c.Name, kind: c.Kind}
		if nested {
			d.cols[i].nesting = c.Nesting
		}
		switch {
		case c.Kind == schema.Int64 || c.Kind == schema.Float64:
			d.nNum++
		case d.cols[i].nesting == schema.Flat:
			d.nStr++
		}
	}
	return d
}

// Table returns the table the decoder was built for.
func (d *Decoder) Table() *schema.Table { return d.table }

// Nested reports whether nested GKG parsing is on.
func (d *Decoder) Nested() bool { return d.nested }

// OnMalformed sets a function called once per decoded row and nested column
// that had malformed blocks, with the number skipped. Set it before the
// decoder is used; fn must be safe for concurrent calls.
func (d *Decoder) OnMalformed(fn func(column string, blocks int)) { d.onMalformed = fn }

// Malformed returns the number of nested blocks skipped so far, per column
// (only columns with at least one).
func (d *Decoder) Malformed() map[string]int {
	out := map[string]int{}
	for i := range d.malformed {
		if n := d.malformed[i].Load(); n > 0 {
			out[d.cols[i].name] = int(n)
		}
	}
	return out
}

// Decode turns one raw line (without its newline; one trailing '\r' is
// dropped) into a map holding every column of the table: int64, float64 or
// string values, nil for empty fields, and with nested parsing the nested GKG
// values. The returned strings share one copy of the line. It is DecodeRow's
// row as a map: the stages that take rows (the Delta writer) read DecodeRow's
// form without the map.
func (d *Decoder) Decode(line []byte) (map[string]any, error) {
	vals, err := d.decodeValues(line, nil)
	if err != nil {
		return nil, err
	}
	// (Cloning a template map with every key was tried: it saves the inserts
	// of empty fields but its copy costs more under GC than it saves.)
	m := make(map[string]any, len(vals))
	for i, n := range d.layout.Names {
		m[n] = vals[i]
	}
	return m, nil
}

// DecodeRow decodes one raw line as Decode does, into a row whose values are
// in column order (Layout: schema.LayoutOf(table, nested)): the same typed
// values Decode's map holds, with no map built. A bad row fails with the
// same *DecodeError.
func (d *Decoder) DecodeRow(line []byte) (*schema.Row, error) {
	return d.DecodeRowIn(line, nil)
}

// DecodeRowIn is DecodeRow with the row's memory taken from arena a (nil:
// allocated for the row alone): the rows of a batch decoded in one arena
// cost a few allocations in all.
func (d *Decoder) DecodeRowIn(line []byte, a *RowArena) (*schema.Row, error) {
	vals, err := d.decodeValues(line, a)
	if err != nil {
		return nil, err
	}
	var r *schema.Row
	if a != nil {
		r = a.row()
	} else {
		r = new(schema.Row)
	}
	r.Layout, r.Values = d.layout, vals
	return r, nil
}

// Layout is the layout of the rows DecodeRow returns.
func (d *Decoder) Layout() *schema.Layout { return d.layout }

// decodeValues is the decoder's core: the line's values in layout order,
// in memory from a (nil: allocated for this row).
func (d *Decoder) decodeValues(line []byte, a *RowArena) ([]any, error) {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if !utf8.Valid(line) {
		return nil, d.utf8Error(line)
	}
	cols := d.cols
	last := len(cols) - 1
	// The row's scalars live in two slabs and the values point into them:
	// three allocations per row instead of one per value, or a share of an
	// arena's chunks.
	var (
		s    string // the only copy: every value is a substring of s
		vals []any  // nil: null, the empty fields
		strs []string
		nums []uint64
	)
	if a != nil {
		s = a.line(line)
		vals = take(&a.vals, len(d.layout.Names), 16)
		strs = take(&a.strs, d.nStr, 16)
		nums = take(&a.nums, d.nNum, 8)
	} else {
		s = string(line)
		vals = make([]any, len(d.layout.Names))
		strs = make([]string, d.nStr)
		nums = make([]uint64, d.nNum)
	}
	si, ni := 0, 0
	var slab gkgSlab  // nested values only
	var pending []int // column, blocks pairs: malformed counts, kept until the row is known to be good
	for i := range cols {
		c := &cols[i]
		var f string
		if i < last {
			j := strings.IndexByte(s, '\t')
			if j < 0 {
				return nil, d.fieldCountError(i + 1)
			}
			f, s = s[:j], s[j+1:]
		} else {
			if strings.IndexByte(s, '\t') >= 0 {
				return nil, d.fieldCountError(len(cols) + strings.Count(s, "\t"))
			}
			f = s
		}
		if len(f) == 0 {
			continue
		}
		switch c.kind {
		case schema.Int64:
			v, ok := decodeInt(f)
			if !ok {
				return nil, d.valueError(ReasonBadInt, c.name, "not an integer", f)
			}
			nums[ni] = uint64(v)
			vals[i] = box.At(box.Int64, unsafe.Pointer(&nums[ni]))
			ni++
		case schema.Float64:
			v, ok := decodeFloat(f)
			if !ok {
				return nil, d.valueError(ReasonBadFloat, c.name, "not a finite number", f)
			}
			nums[ni] = math.Float64bits(v)
			vals[i] = box.At(box.Float64, unsafe.Pointer(&nums[ni]))
			ni++
		default:
			if c.nesting == schema.Flat {
				strs[si] = f
				vals[i] = box.At(box.String, unsafe.Pointer(&strs[si]))
				si++
				continue
			}
			v, bad := d.nestedValue(c.nesting, f, vals[len(cols):], &slab)
			vals[i] = v
			if bad > 0 {
				pending = append(pending, i, bad)
			}
		}
	}
	for k := 0; k < len(pending); k += 2 {
		d.countMalformed(pending[k], pending[k+1])
	}
	return vals, nil
}

func (d *Decoder) countMalformed(col, blocks int) {
	d.malformed[col].Add(int64(blocks))
	if d.onMalformed != nil {
		d.onMalformed(d.cols[col].name, blocks)
	}
}

func (d *Decoder) fieldCountError(got int) error {
	return &DecodeError{
		Table:  d.table.Name,
		Reason: ReasonFieldCount,
		Detail: "got " + strconv.Itoa(got) + " fields, want " + strconv.Itoa(len(d.cols)),
	}
}

func (d *Decoder) valueError(reason, col, what, v string) error {
	return &DecodeError{
		Table:  d.table.Name,
		Reason: reason,
		Column: col,
		Detail: "column " + col + ": " + what + ": " + decodeQuote(v),
	}
}

func (d *Decoder) utf8Error(line []byte) error {
	off := 0
	for off < len(line) {
		r, size := utf8.DecodeRune(line[off:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		off += size
	}
	e := &DecodeError{
		Table:  d.table.Name,
		Reason: ReasonInvalidUTF8,
		Detail: "invalid UTF-8 at byte " + strconv.Itoa(off),
	}
	// Name the column when the bad byte falls inside one of the table's fields.
	if col := decodeCountTabs(line[:off]); col < len(d.cols) {
		e.Column = d.cols[col].name
		e.Detail += " (column " + e.Column + ")"
	}
	return e
}

func decodeCountTabs(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\t' {
			n++
		}
	}
	return n
}

// decodeQuote quotes v for an error message, cut to decodeMaxQuoted bytes on a
// rune boundary.
func decodeQuote(v string) string {
	if len(v) <= decodeMaxQuoted {
		return strconv.Quote(v)
	}
	cut := decodeMaxQuoted
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return strconv.Quote(v[:cut]) + "... (" + strconv.Itoa(len(v)) + " bytes)"
}

// decodeInt parses an optionally signed decimal integer without allocating.
func decodeInt(s string) (int64, bool) {
	i := 0
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		i = 1
		if len(s) == 1 {
			return 0, false
		}
	}
	if len(s)-i > 18 {
		// Might overflow: let strconv decide (rare; allocates on error only).
		v, err := strconv.ParseInt(s, 10, 64)
		return v, err == nil
	}
	var n int64
	for ; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, false
		}
		n = n*10 + int64(c)
	}
	if neg {
		n = -n
	}
	return n, true
}

// decodePow10 holds the exactly representable powers of ten used by decodeFloat's
// fast path.
var decodePow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// decodeFloat parses a finite decimal number. Plain decimals ("-96.8005",
// "2.02774813233724") with at most 15 significant digits take an exact fast
// path (one correctly rounded division, as in strconv); anything else goes to
// strconv.ParseFloat. Infinities, NaN and hex floats are refused: they are not
// GDELT values and would not survive JSON.
func decodeFloat(s string) (float64, bool) {
	i := 0
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		i = 1
	}
	var mant uint64
	digits, frac := 0, 0
	dot := false
	sawDigit := false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			sawDigit = true
			if mant == 0 && c == '0' {
				if dot {
					frac++
				}
				continue // leading zeros are not significant
			}
			mant = mant*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return decodeFloatSlow(s)
		}
	}
	if !sawDigit {
		return 0, false
	}
	if digits > 15 || frac >= len(decodePow10) {
		return decodeFloatSlow(s)
	}
	f := float64(mant) / decodePow10[frac]
	if neg {
		f = -f
	}
	return f, true
}

func decodeFloatSlow(s string) (float64, bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c == '.', c == '-', c == '+', c == 'e', c == 'E':
		default:
			return 0, false // inf, nan, hex, underscores, spaces
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

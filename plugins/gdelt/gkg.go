package gdelt

import (
	"html"
	"math"
	"strings"
	"unsafe"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"

	"github.com/gdeltflow/gdeltflow/plugins/internal/box"
)

// Lenient parsing of the nested GKG 2.1 columns (see the table in
// docs/gdelt-format.md). Each parser returns the nested value and the number
// of malformed blocks it skipped. A block is malformed when it has the wrong
// number of fields or a number that does not parse; empty blocks (the
// trailing separator most list fields end with) are dropped silently.

// gkgMaxBlockFields is the widest nested block (V2.1COUNTS: 11 fields).
const gkgMaxBlockFields = 11

// gkgElem describes the objects of one nested column.
type gkgElem struct {
	fields     []schema.Field
	nStr, nNum int // string and number fields per object: slab sizes
}

// gkgElems caches the element description of each nested GKG column.
var gkgElems = func() map[schema.Nesting]*gkgElem {
	out := map[schema.Nesting]*gkgElem{}
	for _, c := range schema.GKG.Columns {
		if c.Nested == nil {
			continue
		}
		var fields []schema.Field
		switch {
		case c.Nested.Kind == schema.Struct:
			fields = c.Nested.Fields
		case c.Nested.Kind == schema.List && c.Nested.Elem.Kind == schema.Struct:
			fields = c.Nested.Elem.Fields
		default:
			continue
		}
		e := &gkgElem{fields: fields}
		for _, f := range fields {
			if f.Kind == schema.String {
				e.nStr++
			} else {
				e.nNum++
			}
		}
		out[c.Nesting] = e
	}
	return out
}()

// gkgSlab hands out boxed scalars backed by shared chunks (see package box), so a
// nested value costs one allocation per object, not one per field.
type gkgSlab struct {
	strs []string
	nums []uint64
}

// reserve makes room for nStr strings and nNum numbers in one chunk each.
func (s *gkgSlab) reserve(nStr, nNum int) {
	if len(s.strs) < nStr {
		s.strs = make([]string, max(nStr, 32))
	}
	if len(s.nums) < nNum {
		s.nums = make([]uint64, max(nNum, 32))
	}
}

func (s *gkgSlab) str(v string) any {
	s.reserve(1, 0)
	p := &s.strs[0]
	*p = v
	s.strs = s.strs[1:]
	return box.At(box.String, unsafe.Pointer(p))
}

func (s *gkgSlab) num(typ unsafe.Pointer, bits uint64) any {
	s.reserve(0, 1)
	p := &s.nums[0]
	*p = bits
	s.nums = s.nums[1:]
	return box.At(typ, unsafe.Pointer(p))
}

// nestedValue parses the non-empty raw value f of a nested GKG column.
// extras receives the extra columns parsed out of V2EXTRASXML (in
// schema.GKGExtrasColumns order).
func (d *Decoder) nestedValue(n schema.Nesting, f string, extras []any, slab *gkgSlab) (any, int) {
	switch n {
	case schema.Counts, schema.V2Counts, schema.Locations, schema.V2Locations, schema.Dates:
		return gkgStructList(f, ';', gkgElems[n], gkgSplitHash, slab)
	case schema.V2Themes, schema.V2Names:
		return gkgStructList(f, ';', gkgElems[n], gkgSplitLastComma, slab)
	case schema.Amounts:
		return gkgStructList(f, ';', gkgElems[n], gkgSplitAmount, slab)
	case schema.GCAM:
		return gkgStructList(f, ',', gkgElems[n], gkgSplitGCAM, slab)
	case schema.Quotations:
		return gkgQuotations(f, gkgElems[n], slab)
	case schema.Themes, schema.Names, schema.SemicolonList:
		return gkgStringList(f, ';', slab), 0
	case schema.Tone:
		var parts [gkgMaxBlockFields]string
		k := gkgSplitComma(f, &parts)
		v, ok := gkgStruct(gkgElems[n], parts[:], k, slab)
		if !ok {
			return nil, 1
		}
		return v, 0
	case schema.Extras:
		return f, gkgExtras(f, extras)
	}
	return f, 0
}

// gkgSplitter cuts one block into its fields and returns how many it found
// (more than gkgMaxBlockFields means "too many").
type gkgSplitter func(block string, out *[gkgMaxBlockFields]string) int

// The two separators whole blocks are split on, built once.
var (
	gkgSplitHash  = gkgSplitAll('#')
	gkgSplitComma = gkgSplitAll(',')
)

func gkgSplitAll(sep byte) gkgSplitter {
	return func(b string, out *[gkgMaxBlockFields]string) int {
		for k := 0; ; k++ {
			if k == gkgMaxBlockFields {
				return gkgMaxBlockFields + 1
			}
			j := strings.IndexByte(b, sep)
			if j < 0 {
				out[k] = b
				return k + 1
			}
			out[k], b = b[:j], b[j+1:]
		}
	}
}

// gkgSplitLastComma handles name,offset and theme,offset: a name may itself hold
// a comma, the offset never does.
func gkgSplitLastComma(b string, out *[gkgMaxBlockFields]string) int {
	j := strings.LastIndexByte(b, ',')
	if j < 0 {
		out[0] = b
		return 1
	}
	out[0], out[1] = b[:j], b[j+1:]
	return 2
}

// gkgSplitAmount handles amount,object,offset where the object is free text.
func gkgSplitAmount(b string, out *[gkgMaxBlockFields]string) int {
	i := strings.IndexByte(b, ',')
	j := strings.LastIndexByte(b, ',')
	if i < 0 || i == j {
		return gkgSplitLastComma(b, out)
	}
	out[0], out[1], out[2] = b[:i], b[i+1:j], b[j+1:]
	return 3
}

// gkgSplitGCAM handles key:value.
func gkgSplitGCAM(b string, out *[gkgMaxBlockFields]string) int {
	j := strings.IndexByte(b, ':')
	if j < 0 {
		out[0] = b
		return 1
	}
	out[0], out[1] = b[:j], b[j+1:]
	return 2
}

// gkgStructList parses sep-separated blocks into a list of objects.
func gkgStructList(f string, sep byte, e *gkgElem, split gkgSplitter, slab *gkgSlab) (any, int) {
	n := strings.Count(f, string(sep)) + 1
	out := make([]any, 0, n)
	slab.reserve(n*e.nStr, n*e.nNum)
	bad := 0
	var parts [gkgMaxBlockFields]string
	for len(f) > 0 {
		var b string
		if j := strings.IndexByte(f, sep); j >= 0 {
			b, f = f[:j], f[j+1:]
		} else {
			b, f = f, ""
		}
		if b == "" {
			continue
		}
		v, ok := gkgStruct(e, parts[:], split(b, &parts), slab)
		if !ok {
			bad++
			continue
		}
		out = append(out, v)
	}
	return out, bad
}

// gkgStruct makes one object from the first k parts; ok is false when k
// does not match the fields or a number does not parse.
func gkgStruct(e *gkgElem, parts []string, k int, slab *gkgSlab) (map[string]any, bool) {
	fields := e.fields
	if k != len(fields) {
		return nil, false
	}
	// Parse the numbers before allocating anything: a bad one drops the block.
	var bits [gkgMaxBlockFields]uint64
	for i := range fields {
		p := parts[i]
		if p == "" {
			continue
		}
		switch fields[i].Kind {
		case schema.Int64:
			v, ok := decodeInt(p)
			if !ok {
				return nil, false
			}
			bits[i] = uint64(v)
		case schema.Float64:
			v, ok := decodeFloat(p)
			if !ok {
				return nil, false
			}
			bits[i] = math.Float64bits(v)
		}
	}
	m := make(map[string]any, len(fields))
	for i := range fields {
		var v any
		if p := parts[i]; p != "" {
			switch fields[i].Kind {
			case schema.Int64:
				v = slab.num(box.Int64, bits[i])
			case schema.Float64:
				v = slab.num(box.Float64, bits[i])
			default:
				v = slab.str(p)
			}
		}
		m[fields[i].Name] = v
	}
	return m, true
}

// gkgStringList splits a sep-separated list of plain strings.
func gkgStringList(f string, sep byte, slab *gkgSlab) []any {
	n := strings.Count(f, string(sep)) + 1
	out := make([]any, 0, n)
	slab.reserve(n, 0)
	for len(f) > 0 {
		var b string
		if j := strings.IndexByte(f, sep); j >= 0 {
			b, f = f[:j], f[j+1:]
		} else {
			b, f = f, ""
		}
		if b != "" {
			out = append(out, slab.str(b))
		}
	}
	return out
}

// gkgQuotations parses V2.1QUOTATIONS: '#'-separated offset|length|verb|quote
// blocks. A quote may itself contain '#' or '|', so a '#' only starts a new
// block when what follows looks like "digits|digits|", and the quote is
// everything after the third '|'.
func gkgQuotations(f string, e *gkgElem, slab *gkgSlab) (any, int) {
	out := make([]any, 0, strings.Count(f, "#")+1)
	bad := 0
	var parts [gkgMaxBlockFields]string
	emit := func(b string) {
		if b == "" {
			return
		}
		k := 0
		for ; k < 3; k++ {
			j := strings.IndexByte(b, '|')
			if j < 0 {
				break
			}
			parts[k], b = b[:j], b[j+1:]
		}
		parts[k] = b
		v, ok := gkgStruct(e, parts[:], k+1, slab)
		if !ok {
			bad++
			return
		}
		out = append(out, v)
	}
	start, pos := 0, 0
	for {
		j := strings.IndexByte(f[pos:], '#')
		if j < 0 {
			emit(f[start:])
			return out, bad
		}
		k := pos + j
		if gkgQuotationStart(f[k+1:]) {
			emit(f[start:k])
			start = k + 1
		}
		pos = k + 1
	}
}

func gkgQuotationStart(s string) bool {
	for n := 0; n < 2; n++ {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i == len(s) || s[i] != '|' {
			return false
		}
		s = s[i+1:]
	}
	return true
}

// GDELT's V2EXTRASXML tags read by gkgExtras.
const (
	gkgExtrasTitleOpen       = "<PAGE_TITLE>"
	gkgExtrasTitleClose      = "</PAGE_TITLE>"
	gkgExtrasPubTimeOpen     = "<PAGE_PRECISEPUBTIMESTAMP>"
	gkgExtrasPubTimeClose    = "</PAGE_PRECISEPUBTIMESTAMP>"
	gkgExtrasColTitle        = "page_title"
	gkgExtrasColPubTimestamp = "page_precise_pub_timestamp"
)

// gkgExtras sets page_title (HTML entities decoded: GDELT writes titles
// with numeric character references such as &#x2013;) and
// page_precise_pub_timestamp (YYYYMMDDHHMMSS) from V2EXTRASXML. It returns 1
// when a tag is present but unusable (unclosed, or a timestamp that is not an
// integer); that value is then nil.
func gkgExtras(f string, extras []any) int {
	bad := 0
	extras[0], extras[1] = nil, nil // gkgExtrasColTitle, gkgExtrasColPubTimestamp
	if v, found, ok := gkgExtrasTag(f, gkgExtrasTitleOpen, gkgExtrasTitleClose); !ok {
		bad++
	} else if found && v != "" {
		if strings.IndexByte(v, '&') >= 0 {
			v = html.UnescapeString(v)
		}
		extras[0] = v
	}
	if v, found, ok := gkgExtrasTag(f, gkgExtrasPubTimeOpen, gkgExtrasPubTimeClose); !ok {
		bad++
	} else if found && v != "" {
		if ts, ok := decodeInt(v); ok {
			extras[1] = ts
		} else {
			bad++
		}
	}
	if bad > 0 {
		return 1
	}
	return 0
}

// gkgExtrasTag returns the text between open and close; found is false when open
// does not occur, ok is false when it does but close does not follow.
func gkgExtrasTag(f, open, close string) (v string, found, ok bool) {
	i := strings.Index(f, open)
	if i < 0 {
		return "", false, true
	}
	f = f[i+len(open):]
	j := strings.Index(f, close)
	if j < 0 {
		return "", true, false
	}
	return f[:j], true, true
}

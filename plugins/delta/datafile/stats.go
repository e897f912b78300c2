package datafile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
)

// Per-file statistics (PROTOCOL.md, "Per-file Statistics") for the add
// action, taken from the Parquet footer the writer just wrote: the column
// chunk statistics (min, max, null count) and the definition level
// histograms, merged over the row groups. As Spark does: min/max for
// numbers, dates, timestamps and strings; nullCount for every leaf and for
// arrays and maps themselves; nothing inside arrays and maps.

// statsStringPrefix is how many characters of a string min/max are kept
// (Spark's delta.dataSkippingStringPrefixLength default).
const statsStringPrefix = 32

// Stats are the statistics of one data file. The maps mirror the schema:
// a struct column holds a nested map.
type Stats struct {
	NumRecords int64
	MinValues  map[string]any
	MaxValues  map[string]any
	NullCount  map[string]any

	// schema orders the JSON keys like the columns; nil sorts them.
	schema *schema.StructType
}

// JSON returns the add action's "stats" string:
// {"numRecords":..,"minValues":{..},"maxValues":{..},"nullCount":{..}}.
func (s *Stats) JSON() (string, error) {
	var b bytes.Buffer
	b.WriteString(`{"numRecords":`)
	b.WriteString(strconv.FormatInt(s.NumRecords, 10))
	for _, part := range []struct {
		key string
		m   map[string]any
	}{{"minValues", s.MinValues}, {"maxValues", s.MaxValues}, {"nullCount", s.NullCount}} {
		b.WriteString(`,"` + part.key + `":`)
		if err := writeStatsObject(&b, part.m, s.schema); err != nil {
			return "", fmt.Errorf("stats %s: %w", part.key, err)
		}
	}
	b.WriteByte('}')
	return b.String(), nil
}

// writeStatsObject writes m with the keys in the order of st's fields, then
// any other keys sorted.
func writeStatsObject(b *bytes.Buffer, m map[string]any, st *schema.StructType) error {
	b.WriteByte('{')
	n := 0
	done := make(map[string]bool, len(m))
	writeKV := func(k string, v any, sub *schema.StructType) error {
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		done[k] = true
		writeJSONString(b, k)
		b.WriteByte(':')
		if mm, ok := v.(map[string]any); ok {
			return writeStatsObject(b, mm, sub)
		}
		return writeStatsValue(b, v)
	}
	if st != nil {
		for _, f := range st.Fields {
			v, ok := m[f.Name]
			if !ok {
				continue
			}
			if err := writeKV(f.Name, v, f.Type.Struct); err != nil {
				return err
			}
		}
	}
	if len(done) < len(m) {
		rest := make([]string, 0, len(m)-len(done))
		for k := range m {
			if !done[k] {
				rest = append(rest, k)
			}
		}
		sort.Strings(rest)
		for _, k := range rest {
			if err := writeKV(k, m[k], nil); err != nil {
				return err
			}
		}
	}
	b.WriteByte('}')
	return nil
}

func writeStatsValue(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case string:
		writeJSONString(b, x)
		return nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("non-finite number %v", x)
		}
	}
	j, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b.Write(j)
	return nil
}

// statsColumn accumulates one leaf column over the row groups.
type statsColumn struct {
	nulls    int64
	min, max []byte // PLAIN-encoded bounds (byte arrays without length)
	bounded  bool   // every row group with values had bounds
	anyValue bool
	has      bool // min and max hold a value (an empty string is a value)
}

// statsFromFooter builds the file's Stats from the footer metadata.
func statsFromFooter(meta *format.FileMetaData, root *schemaNode, leaves []*schemaNode, schema schema.StructType) (*Stats, error) {
	cols := make([]statsColumn, len(leaves))
	for i := range cols {
		cols[i].bounded = true
	}
	defHist := make([][]int64, len(leaves))
	for _, rg := range meta.RowGroups {
		if len(rg.Columns) != len(cols) {
			return nil, fmt.Errorf("stats: row group has %d columns, want %d", len(rg.Columns), len(cols))
		}
		for j := range rg.Columns {
			md := &rg.Columns[j].MetaData
			c := &cols[j]
			st := &md.Statistics
			c.nulls += st.NullCount
			if h := md.SizeStatistics.DefinitionLevelHistogram; len(h) > 0 {
				if defHist[j] == nil {
					defHist[j] = make([]int64, len(h))
				}
				for k := range h {
					if k < len(defHist[j]) {
						defHist[j][k] += h[k]
					}
				}
			}
			if md.NumValues-st.NullCount <= 0 {
				continue // only nulls: no bounds expected
			}
			c.anyValue = true
			if st.MinValue == nil || st.MaxValue == nil {
				c.bounded = false
				continue
			}
			leaf := leaves[j]
			if !c.has || compareBounds(leaf, st.MinValue, c.min) < 0 {
				c.min = append([]byte{}, st.MinValue...)
			}
			if !c.has || compareBounds(leaf, st.MaxValue, c.max) > 0 {
				c.max = append([]byte{}, st.MaxValue...)
			}
			c.has = true
		}
	}
	s := &Stats{
		NumRecords: meta.NumRows,
		MinValues:  map[string]any{},
		MaxValues:  map[string]any{},
		NullCount:  map[string]any{},
		schema:     &schema,
	}
	for _, n := range root.fields {
		statsOfNode(n, cols, defHist, s.MinValues, s.MaxValues, s.NullCount)
	}
	return s, nil
}

func statsOfNode(n *schemaNode, cols []statsColumn, defHist [][]int64, mins, maxs, nulls map[string]any) {
	switch n.kind {
	case kindLeaf:
		c := &cols[n.col]
		nulls[n.name] = c.nulls
		if !c.anyValue || !c.bounded || !c.has {
			return
		}
		lo, okLo := statsBound(n, c.min, false)
		hi, okHi := statsBound(n, c.max, true)
		if okLo && okHi {
			mins[n.name] = lo
			maxs[n.name] = hi
		}
	case kindStruct:
		sMin, sMax, sNull := map[string]any{}, map[string]any{}, map[string]any{}
		for _, c := range n.fields {
			statsOfNode(c, cols, defHist, sMin, sMax, sNull)
		}
		if len(sMin) > 0 {
			mins[n.name] = sMin
		}
		if len(sMax) > 0 {
			maxs[n.name] = sMax
		}
		if len(sNull) > 0 {
			nulls[n.name] = sNull
		}
	case kindList, kindMap:
		// Rows where the array (or map) itself is null: in its first leaf,
		// the entries defined below the array's own level. A null ancestor
		// also counts, as Spark counts a field of a null struct as null.
		h := defHist[n.first]
		if !n.optional {
			nulls[n.name] = int64(0)
			return
		}
		if h == nil {
			return
		}
		var k int64
		for d := 0; d < n.def && d < len(h); d++ {
			k += h[d]
		}
		nulls[n.name] = k
	}
}

// compareBounds orders two PLAIN-encoded values of a leaf column.
func compareBounds(n *schemaNode, a, b []byte) int {
	kind := n.phys
	switch {
	case len(a) == 4 && len(b) == 4 && kind == parquet.Int32:
		x, y := int32(binary.LittleEndian.Uint32(a)), int32(binary.LittleEndian.Uint32(b))
		return compare(x, y)
	case len(a) == 8 && len(b) == 8 && kind == parquet.Int64:
		x, y := int64(binary.LittleEndian.Uint64(a)), int64(binary.LittleEndian.Uint64(b))
		return compare(x, y)
	case len(a) == 4 && len(b) == 4 && kind == parquet.Float:
		x, y := math.Float32frombits(binary.LittleEndian.Uint32(a)), math.Float32frombits(binary.LittleEndian.Uint32(b))
		return compare(x, y)
	case len(a) == 8 && len(b) == 8 && kind == parquet.Double:
		x, y := math.Float64frombits(binary.LittleEndian.Uint64(a)), math.Float64frombits(binary.LittleEndian.Uint64(b))
		return compare(x, y)
	case kind == parquet.FixedLenByteArray && len(a) == len(b) && len(a) > 0: // decimal: signed big-endian
		if (a[0]^b[0])&0x80 != 0 {
			if a[0]&0x80 != 0 {
				return -1
			}
			return 1
		}
		return bytes.Compare(a, b)
	}
	return bytes.Compare(a, b) // strings: unsigned byte order (= code point order)
}

func compare[T int32 | int64 | float32 | float64](x, y T) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// statsBound turns a PLAIN-encoded bound into its JSON stats value; ok is
// false when the type has no min/max in Delta stats or the bound cannot be
// written (a NaN, a string whose max cannot be truncated).
func statsBound(n *schemaNode, b []byte, isMax bool) (any, bool) {
	prim := n.typ.Primitive
	switch prim {
	case schema.TypeLong:
		if len(b) != 8 {
			return nil, false
		}
		return int64(binary.LittleEndian.Uint64(b)), true
	case schema.TypeInteger, schema.TypeShort, schema.TypeByte:
		if len(b) != 4 {
			return nil, false
		}
		return int64(int32(binary.LittleEndian.Uint32(b))), true
	case schema.TypeDouble:
		if len(b) != 8 {
			return nil, false
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(b))
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, false
		}
		if f == 0 {
			f = 0 // the footer's -0 min: Spark writes 0.0
		}
		return f, true
	case schema.TypeFloat:
		if len(b) != 4 {
			return nil, false
		}
		f := math.Float32frombits(binary.LittleEndian.Uint32(b))
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return nil, false
		}
		if f == 0 {
			f = 0
		}
		return json.Number(strconv.FormatFloat(float64(f), 'g', -1, 32)), true
	case schema.TypeString:
		if isMax {
			return truncateStatsMax(string(b))
		}
		return truncateStatsMin(string(b)), true
	case schema.TypeDate:
		if len(b) != 4 {
			return nil, false
		}
		days := int64(int32(binary.LittleEndian.Uint32(b)))
		return time.Unix(days*86400, 0).UTC().Format(time.DateOnly), true
	case schema.TypeTimestamp, schema.TypeTimestampNTZ:
		if len(b) != 8 {
			return nil, false
		}
		// Milliseconds, truncated down, as the protocol says of timestamp stats.
		us := int64(binary.LittleEndian.Uint64(b))
		ms := us / 1000
		if us < 0 && us%1000 != 0 {
			ms--
		}
		t := time.UnixMilli(ms).UTC()
		if prim == schema.TypeTimestampNTZ {
			return t.Format("2006-01-02T15:04:05.000"), true
		}
		return t.Format("2006-01-02T15:04:05.000Z07:00"), true
	}
	if strings.HasPrefix(prim, "decimal") {
		_, scale, err := schema.ParseDecimal(prim)
		if err != nil {
			return nil, false
		}
		var u *big.Int
		switch len(b) {
		case 4:
			u = big.NewInt(int64(int32(binary.LittleEndian.Uint32(b))))
		case 8:
			if n.phys == parquet.Int64 {
				u = big.NewInt(int64(binary.LittleEndian.Uint64(b)))
				break
			}
			fallthrough
		default:
			u = fromTwosComplement(b)
		}
		return json.Number(decimalString(u, scale)), true
	}
	return nil, false // boolean, binary: nullCount only
}

func fromTwosComplement(b []byte) *big.Int {
	u := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		u.Sub(u, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return u
}

func decimalString(u *big.Int, scale int) string {
	neg := u.Sign() < 0
	digits := new(big.Int).Abs(u).String()
	if scale > 0 {
		if len(digits) <= scale {
			digits = strings.Repeat("0", scale-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if neg {
		digits = "-" + digits
	}
	return digits
}

// truncateStatsMin keeps the first statsStringPrefix characters: a prefix is
// never greater than the value.
func truncateStatsMin(s string) string {
	i, n := 0, 0
	for i < len(s) && n < statsStringPrefix {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return s[:i]
}

// truncateStatsMax keeps the first statsStringPrefix characters and,
// when that cut something, bumps the last kept character up by one, so the
// bound is greater than every string that starts with the prefix. ok is
// false when no such bound exists (only U+10FFFF characters): the max is
// then left out.
func truncateStatsMax(s string) (string, bool) {
	p := truncateStatsMin(s)
	if len(p) == len(s) {
		return s, true
	}
	return bump(p)
}

// writeJSONString writes s as a JSON string, escaped as encoding/json does
// but without HTML escaping, as Spark writes it (it leaves <, > and &).
func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.Truncate(b.Len() - 1) // Encode appends '\n'
}

func orElse(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

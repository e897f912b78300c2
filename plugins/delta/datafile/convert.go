package datafile

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/parquet-go/parquet-go"

	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
)

// converter turns a Go value into a column's scalar, or says why it does not
// fit (a *ValueError).
type converter func(v any) (scalar, error)

func leafType(name string) (parquet.Node, converter, error) {
	switch name {
	case schema.TypeString:
		return parquet.String(), convString, nil
	case schema.TypeBinary:
		return parquet.Leaf(parquet.ByteArrayType), convBinary, nil
	case schema.TypeLong:
		return parquet.Leaf(parquet.Int64Type), convLong, nil
	case schema.TypeInteger:
		return parquet.Leaf(parquet.Int32Type), convIntN(schema.TypeInteger, math.MinInt32, math.MaxInt32), nil
	case schema.TypeShort:
		return parquet.Int(16), convIntN(schema.TypeShort, math.MinInt16, math.MaxInt16), nil
	case schema.TypeByte:
		return parquet.Int(8), convIntN(schema.TypeByte, math.MinInt8, math.MaxInt8), nil
	case schema.TypeDouble:
		return parquet.Leaf(parquet.DoubleType), convDouble, nil
	case schema.TypeFloat:
		return parquet.Leaf(parquet.FloatType), convFloat, nil
	case schema.TypeBoolean:
		return parquet.Leaf(parquet.BooleanType), convBoolean, nil
	case schema.TypeDate:
		return parquet.Date(), convDate, nil
	case schema.TypeTimestamp:
		return parquet.TimestampAdjusted(parquet.Microsecond, true), convTimestamp(schema.TypeTimestamp), nil
	case schema.TypeTimestampNTZ:
		return parquet.TimestampAdjusted(parquet.Microsecond, false), convTimestamp(schema.TypeTimestampNTZ), nil
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
			size = decimalBytes(p)
			phys = parquet.FixedLenByteArrayType(size)
		}
		return parquet.Decimal(s, p, phys), convDecimal(name, p, s, size), nil
	}
	return nil, nil, fmt.Errorf("unsupported type %q", name)
}

// decimalBytes is the fixed length that holds any unscaled value of precision p.
func decimalBytes(p int) int {
	max := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(p)), nil)
	return (max.BitLen() + 1 + 7) / 8
}

func wantErr(want string, v any) error {
	return &ValueError{Reason: "want " + want + ", got " + describe(v)}
}

// describe names a value's Go type and shows it, cut short.
func describe(v any) string {
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

func convString(v any) (scalar, error) {
	switch x := v.(type) {
	case string:
		return stringScalar(x), nil
	case []byte:
		if !utf8.Valid(x) {
			return scalar{}, &ValueError{Reason: "want string, got []byte that is not valid UTF-8"}
		}
		return bytesScalar(x), nil
	}
	return scalar{}, wantErr(schema.TypeString, v)
}

func convBinary(v any) (scalar, error) {
	switch x := v.(type) {
	case []byte:
		return bytesScalar(x), nil
	case string:
		return stringScalar(x), nil
	}
	return scalar{}, wantErr(schema.TypeBinary, v)
}

// AsInt64 is v as an integer, as Write reads the value of an integer column:
// Go integers, integral floats and json.Number; ok is false for anything else.
func AsInt64(v any) (int64, bool) {
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
			return AsInt64(f)
		}
	}
	return 0, false
}

func convLong(v any) (scalar, error) {
	if x, ok := v.(int64); ok { // the decoder's type: no detour
		return int64Scalar(x), nil
	}
	i, ok := AsInt64(v)
	if !ok {
		return scalar{}, wantErr(schema.TypeLong, v)
	}
	return int64Scalar(i), nil
}

func convIntN(name string, lo, hi int64) converter {
	return func(v any) (scalar, error) {
		i, ok := AsInt64(v)
		if !ok {
			return scalar{}, wantErr(name, v)
		}
		if i < lo || i > hi {
			return scalar{}, &ValueError{Reason: fmt.Sprintf("want %s, got %d: out of range [%d, %d]", name, i, lo, hi)}
		}
		return int32Scalar(int32(i)), nil
	}
}

func toFloat64(v any) (float64, bool) {
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
	if i, ok := AsInt64(v); ok {
		return float64(i), true
	}
	return 0, false
}

func convDouble(v any) (scalar, error) {
	if x, ok := v.(float64); ok {
		return doubleScalar(x), nil
	}
	f, ok := toFloat64(v)
	if !ok {
		return scalar{}, wantErr(schema.TypeDouble, v)
	}
	return doubleScalar(f), nil
}

func convFloat(v any) (scalar, error) {
	f, ok := toFloat64(v)
	if !ok {
		return scalar{}, wantErr(schema.TypeFloat, v)
	}
	if !math.IsInf(f, 0) && !math.IsNaN(f) && math.Abs(f) > math.MaxFloat32 {
		return scalar{}, &ValueError{Reason: fmt.Sprintf("want float, got %g: out of range", f)}
	}
	return floatScalar(float32(f)), nil
}

func convBoolean(v any) (scalar, error) {
	if b, ok := v.(bool); ok {
		return boolScalar(b), nil
	}
	return scalar{}, wantErr(schema.TypeBoolean, v)
}

const dayMicros = 86400 * 1000000

func convDate(v any) (scalar, error) {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		// The calendar date in the value's own location.
		y, m, d := x.Date()
		t = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	case string:
		p, err := time.Parse(time.DateOnly, x)
		if err != nil {
			return scalar{}, &ValueError{Reason: "want date (YYYY-MM-DD), got " + describe(v)}
		}
		t = p
	default:
		return scalar{}, wantErr("date (time.Time or YYYY-MM-DD)", v)
	}
	days := t.Unix() / 86400
	if t.Unix() < 0 && t.Unix()%86400 != 0 {
		days--
	}
	if days < math.MinInt32 || days > math.MaxInt32 {
		return scalar{}, &ValueError{Reason: "date out of range: " + describe(v)}
	}
	return int32Scalar(int32(days)), nil
}

func convTimestamp(name string) converter {
	ntz := name == schema.TypeTimestampNTZ
	return func(v any) (scalar, error) {
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
				return scalar{}, &ValueError{Reason: "want " + name + " (RFC 3339), got " + describe(v)}
			}
			t = p
		default:
			return scalar{}, wantErr(name+" (time.Time or RFC 3339 string)", v)
		}
		if ntz {
			// Wall-clock time: keep the fields, drop the zone.
			y, mo, d := t.Date()
			h, mi, s := t.Clock()
			t = time.Date(y, mo, d, h, mi, s, t.Nanosecond(), time.UTC)
		}
		return int64Scalar(t.UnixMicro()), nil
	}
}

// convDecimal converts to the unscaled integer of decimal(p,s); a value with
// more fractional digits than s is refused rather than rounded.
func convDecimal(name string, p, s, size int) converter {
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(p)), nil)
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(s)), nil)
	return func(v any) (scalar, error) {
		r := new(big.Rat)
		switch x := v.(type) {
		case json.Number:
			if _, ok := r.SetString(x.String()); !ok {
				return scalar{}, wantErr(name, v)
			}
		case string:
			if _, ok := r.SetString(strings.TrimSpace(x)); !ok {
				return scalar{}, wantErr(name, v)
			}
		case float64, float32:
			f, _ := toFloat64(v)
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return scalar{}, wantErr(name, v)
			}
			r.SetString(strconv.FormatFloat(f, 'f', -1, 64))
		default:
			i, ok := AsInt64(v)
			if !ok {
				return scalar{}, wantErr(name, v)
			}
			r.SetInt64(i)
		}
		r.Mul(r, new(big.Rat).SetInt(scale))
		if !r.IsInt() {
			return scalar{}, &ValueError{Reason: fmt.Sprintf("want %s, got %s: more than %d fractional digits", name, describe(v), s)}
		}
		u := r.Num()
		if new(big.Int).Abs(u).Cmp(limit) >= 0 {
			return scalar{}, &ValueError{Reason: fmt.Sprintf("want %s, got %s: too many digits", name, describe(v))}
		}
		switch {
		case p <= 9:
			return int32Scalar(int32(u.Int64())), nil
		case p <= 18:
			return int64Scalar(u.Int64()), nil
		}
		return fixedScalar(twosComplement(u, size)), nil
	}
}

// twosComplement returns u as a big-endian two's complement of size bytes.
func twosComplement(u *big.Int, size int) []byte {
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

// scalar is a converted scalar: the bits of a number (booleans 0 or 1) in
// u64, or the bytes of a byte array at ptr, u64 long.
type scalar struct {
	ptr *byte
	u64 uint64
}

func int64Scalar(x int64) scalar    { return scalar{u64: uint64(x)} }
func int32Scalar(x int32) scalar    { return scalar{u64: uint64(uint32(x))} }
func doubleScalar(x float64) scalar { return scalar{u64: math.Float64bits(x)} }
func floatScalar(x float32) scalar  { return scalar{u64: uint64(math.Float32bits(x))} }
func stringScalar(s string) scalar  { return scalar{ptr: unsafe.StringData(s), u64: uint64(len(s))} }
func bytesScalar(b []byte) scalar   { return scalar{ptr: unsafe.SliceData(b), u64: uint64(len(b))} }
func fixedScalar(b []byte) scalar   { return bytesScalar(b) }
func boolScalar(b bool) scalar {
	if b {
		return scalar{u64: 1}
	}
	return scalar{}
}

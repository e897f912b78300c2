package delta

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/delta/datafile"
	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
)

// partitionOf serialises the partition values of a row as Delta does, and
// returns them with the Hive-style folder of the data files.
func (ap *Appender) partitionOf(values map[string]any) (map[string]*string, string, error) {
	if len(ap.cfg.PartitionColumns) == 0 {
		return nil, "", nil
	}
	pv := make(map[string]*string, len(ap.cfg.PartitionColumns))
	var dir strings.Builder
	for _, col := range ap.cfg.PartitionColumns {
		s, null, err := partitionString(ap.partTypes[col], values[col])
		if err != nil {
			return nil, "", fmt.Errorf("partition column %s: %w", col, err)
		}
		if dir.Len() > 0 {
			dir.WriteByte('/')
		}
		dir.WriteString(col)
		dir.WriteByte('=')
		if null {
			pv[col] = nil
			dir.WriteString("__HIVE_DEFAULT_PARTITION__")
			continue
		}
		pv[col] = &s
		dir.WriteString(hiveEscape(s))
	}
	return pv, dir.String(), nil
}

// partitionString formats a partition value per the protocol's "Partition
// Value Serialization".
func partitionString(t schema.DataType, v any) (string, bool, error) {
	if v == nil {
		return "", true, nil
	}
	switch t.Primitive {
	case "string":
		if s, ok := v.(string); ok {
			return s, false, nil
		}
	case "long", "integer", "short", "byte":
		if n, ok := datafile.AsInt64(v); ok {
			return strconv.FormatInt(n, 10), false, nil
		}
	case "date":
		switch x := v.(type) {
		case string:
			if _, err := time.Parse("2006-01-02", x); err == nil {
				return x, false, nil
			}
		case time.Time:
			return x.UTC().Format("2006-01-02"), false, nil
		}
	case "timestamp":
		if x, ok := v.(time.Time); ok {
			return x.UTC().Format("2006-01-02 15:04:05.000000"), false, nil
		}
	case "boolean":
		if b, ok := v.(bool); ok {
			return strconv.FormatBool(b), false, nil
		}
	}
	return "", false, fmt.Errorf("want a %s partition value, got %T %v", t, v, v)
}

// PartitionValue reads a partition value of an add action (partitionValues:
// a string, or nil for null) as a value of the column's type t: the inverse
// of the serialization above, and the Go types datafile.Reader gives the
// same types (string, int64 for long, int32, int16, int8, bool, float64
// for double, float32 for float, json.Number for decimal, time.Time for date,
// timestamp and timestamp_ntz, in UTC). Partition columns are not in the data
// files: a reader of the table adds their values to each row of a file.
// An empty string is null but for a string column.
func PartitionValue(t schema.DataType, s *string) (any, error) {
	if s == nil || (*s == "" && t.Primitive != schema.TypeString) {
		return nil, nil
	}
	v := *s
	var out any
	var err error
	switch t.Primitive {
	case schema.TypeString:
		out = v
	case schema.TypeLong:
		out, err = strconv.ParseInt(v, 10, 64)
	case schema.TypeInteger:
		var n int64
		n, err = strconv.ParseInt(v, 10, 32)
		out = int32(n)
	case schema.TypeShort:
		var n int64
		n, err = strconv.ParseInt(v, 10, 16)
		out = int16(n)
	case schema.TypeByte:
		var n int64
		n, err = strconv.ParseInt(v, 10, 8)
		out = int8(n)
	case schema.TypeBoolean:
		out, err = strconv.ParseBool(v)
	case schema.TypeDate:
		out, err = time.Parse(time.DateOnly, v)
	case schema.TypeDouble:
		out, err = strconv.ParseFloat(v, 64)
	case schema.TypeFloat:
		var f float64
		f, err = strconv.ParseFloat(v, 32)
		out = float32(f)
	case schema.TypeTimestamp, schema.TypeTimestampNTZ:
		// Delta writes "2006-01-02 15:04:05.000000" (UTC); readers meet ISO 8601 too.
		var ts time.Time
		for _, layout := range []string{"2006-01-02 15:04:05.999999999", time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
			if ts, err = time.Parse(layout, v); err == nil {
				break
			}
		}
		out = ts.UTC()
	default:
		if strings.HasPrefix(t.Primitive, "decimal") {
			out, err = decimalPartition(t.Primitive, v)
			break
		}
		return nil, fmt.Errorf("partition values of type %s are not supported", t)
	}
	if err != nil {
		return nil, fmt.Errorf("partition value %q is not a %s", v, t)
	}
	return out, nil
}

// hiveEscape escapes a partition value for a folder name as Spark does.
func hiveEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || strings.IndexByte("\"#%'*/:=?\\\x7f{[]^", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// decimalPartition reads a decimal partition value as the data file reader
// gives decimals: a json.Number with the scale's fractional digits.
func decimalPartition(typ, v string) (any, error) {
	_, scale, err := schema.ParseDecimal(typ)
	if err != nil {
		return nil, err
	}
	r, ok := new(big.Rat).SetString(v)
	if !ok {
		return nil, fmt.Errorf("not a decimal")
	}
	return json.Number(r.FloatString(scale)), nil
}

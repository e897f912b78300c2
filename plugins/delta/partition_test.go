package delta

import (
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/delta/datafile"
	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
	"github.com/gdeltflow/gdeltflow/plugins/internal/deltatest"
)

// TestPartitionValueRoundTrip: a value serialized into partitionValues reads
// back as the same value, typed as the data file reader types its columns.
func TestPartitionValueRoundTrip(t *testing.T) {
	ts := time.Date(2023, 7, 2, 15, 30, 0, 123456000, time.UTC)
	for _, c := range []struct {
		typ       string
		written   any
		read      any
		malformed string
	}{
		{"string", "a/b=c", "a/b=c", ""},
		{"string", "", "", ""},
		{"long", int64(-5), int64(-5), "x"},
		{"integer", int32(7), int32(7), "2147483648"},
		{"short", int16(-300), int16(-300), "40000"},
		{"byte", int8(12), int8(12), "300"},
		{"boolean", true, true, "yes"},
		{"date", "2023-07-02", time.Date(2023, 7, 2, 0, 0, 0, 0, time.UTC), "2023-7-2"},
		{"timestamp", ts, ts, "noon"},
	} {
		typ := schema.DataType{Primitive: c.typ}
		s, null, err := partitionString(typ, c.written)
		if err != nil || null {
			t.Fatalf("%s %v: %v", c.typ, c.written, err)
		}
		got, err := PartitionValue(typ, &s)
		if err != nil || !reflect.DeepEqual(got, c.read) {
			t.Errorf("%s %q: read %#v, %v; want %#v", c.typ, s, got, err, c.read)
		}
		if got, err := PartitionValue(typ, nil); got != nil || err != nil {
			t.Errorf("%s null: %v %v", c.typ, got, err)
		}
		if c.malformed != "" {
			if _, err := PartitionValue(typ, &c.malformed); err == nil {
				t.Errorf("%s %q accepted", c.typ, c.malformed)
			}
		}
	}
	// Spark's form of a timestamp, without the fraction.
	spark := "2021-09-08 11:11:11"
	if got, err := PartitionValue(schema.TimestampType, &spark); err != nil || !got.(time.Time).Equal(time.Date(2021, 9, 8, 11, 11, 11, 0, time.UTC)) {
		t.Errorf("timestamp %q: %v %v", spark, got, err)
	}
	empty := ""
	if got, err := PartitionValue(schema.LongType, &empty); got != nil || err != nil {
		t.Errorf("an empty long is null: %v %v", got, err)
	}
}

// TestAppendedFilesReadBack: the data files of a partitioned table hold the
// other columns only; a reader gets each row back whole from a file read
// with the schema without the partition columns and the add's
// partitionValues.
func TestAppendedFilesReadBack(t *testing.T) {
	ctx := context.Background()
	st := deltatest.Local(t, t.TempDir())
	w := wrAppender(t, wrTable(t, st), AppendConfig{})
	rows := wrRows("a", 1, 60)
	res, err := w.Append(ctx, rows)
	if err != nil || res.Written != 60 {
		t.Fatalf("append: %+v %v", res, err)
	}
	fileSchema := wrSchema.Without("day")
	dayType, _ := wrSchema.Field("day")
	var got []map[string]any
	for _, a := range res.Files {
		data, err := st.Read(ctx, DecodePath(a.Path))
		if err != nil {
			t.Fatal(err)
		}
		r, err := datafile.NewReader(bytes.NewReader(data), int64(len(data)), fileSchema)
		if err != nil {
			t.Fatal(err)
		}
		day, err := PartitionValue(dayType.Type, a.PartitionValues["day"])
		if err != nil {
			t.Fatal(err)
		}
		for {
			row, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := row["day"]; ok {
				t.Fatalf("%s: the partition column is in the file", a.Path)
			}
			row["day"] = day.(time.Time).Format(time.DateOnly)
			got = append(got, row)
		}
	}
	sort.Slice(got, func(i, j int) bool { return got[i]["id"].(int64) < got[j]["id"].(int64) })
	for i, r := range rows {
		if i >= len(got) || !reflect.DeepEqual(got[i], r.Values) {
			t.Fatalf("row %d: read %v, appended %v", i, got[min(i, len(got)-1)], r.Values)
		}
	}
	if len(got) != len(rows) {
		t.Fatalf("read %d rows, appended %d", len(got), len(rows))
	}
}

package datafile

import (
	"strings"
	"testing"

	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
)

func TestStatsTruncation(t *testing.T) {
	long := strings.Repeat("a", 31) + "bcdef"
	if got := truncateStatsMin(long); got != strings.Repeat("a", 31)+"b" {
		t.Errorf("min %q", got)
	}
	if got, ok := truncateStatsMax(long); !ok || got != strings.Repeat("a", 31)+"c" {
		t.Errorf("max %q %v", got, ok)
	}
	// Characters, not bytes; a bumped max stays above every value with the prefix.
	multi := strings.Repeat("é", 40)
	if got := truncateStatsMin(multi); got != strings.Repeat("é", 32) {
		t.Errorf("min %q", got)
	}
	mx, ok := truncateStatsMax(multi)
	if !ok || mx != strings.Repeat("é", 31)+"ê" || mx <= multi {
		t.Errorf("max %q %v", mx, ok)
	}
	edge := strings.Repeat("a", 31) + "\U0010FFFF" + "zz"
	if mx, ok := truncateStatsMax(edge); !ok || mx != strings.Repeat("a", 30)+"b" || mx <= edge {
		t.Errorf("max %q %v", mx, ok)
	}
	if _, ok := truncateStatsMax(strings.Repeat("\U0010FFFF", 40)); ok {
		t.Error("a max of only U+10FFFF has no bound")
	}
	if mx, ok := truncateStatsMax(strings.Repeat("a", 31) + "\uD7FFxyz"); !ok || mx != strings.Repeat("a", 31)+"\uE000" {
		t.Errorf("surrogates skipped: %q", mx)
	}
	short := "short"
	if mx, ok := truncateStatsMax(short); !ok || mx != short || truncateStatsMin(short) != short {
		t.Error("short strings are kept")
	}
}

func TestStatsJSONOrder(t *testing.T) {
	s := schema.StructType{Fields: []schema.StructField{schema.NewField("z", schema.LongType, true), schema.NewField("a", schema.StructOf(schema.NewField("y", schema.StringType, true), schema.NewField("b", schema.DoubleType, true)), true)}}
	st := &Stats{NumRecords: 2, MinValues: map[string]any{"a": map[string]any{"b": 1.5, "y": "<&>"}, "z": int64(1)},
		MaxValues: map[string]any{"z": int64(3), "extra": int64(1)}, NullCount: map[string]any{}, schema: &s}
	js, err := st.JSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"numRecords":2,"minValues":{"z":1,"a":{"y":"<&>","b":1.5}},"maxValues":{"z":3,"extra":1},"nullCount":{}}`
	if js != want {
		t.Errorf("got  %s\nwant %s", js, want)
	}
	// Without a schema: sorted keys.
	st.schema = nil
	js, _ = st.JSON()
	if want := `{"numRecords":2,"minValues":{"a":{"b":1.5,"y":"<&>"},"z":1},"maxValues":{"extra":1,"z":3},"nullCount":{}}`; js != want {
		t.Errorf("got  %s\nwant %s", js, want)
	}
}

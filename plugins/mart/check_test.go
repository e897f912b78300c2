package mart

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestWindowsBetween(t *testing.T) {
	for _, c := range []struct {
		from, to, want int64
	}{
		{20240301000000, 20240301000000, 0},
		{20240301000000, 20240301001500, 1},
		{20240229234500, 20240301010000, 5}, // across a leap day
		{20240301010000, 20240301000000, 0}, // the mart ahead: no lag
		{0, 20240301000000, 0},              // no progress row yet
	} {
		if got := WindowsBetween(c.from, c.to); got != c.want {
			t.Errorf("WindowsBetween(%d, %d) = %d, want %d", c.from, c.to, got, c.want)
		}
	}
}

func TestCompare(t *testing.T) {
	tb := Table{Name: "country_daily", DateColumn: "event_date", IntMeasures: []string{"events"}, FloatMeasures: []string{"avg_tone"}}
	gold := newSummary()
	var rows []map[string]any
	_ = json.Unmarshal([]byte(`[{"events": 3, "avg_tone": 0.1}, {"events": 4, "avg_tone": 0.2}, {"events": 1, "avg_tone": null}]`), &rows)
	for _, r := range rows {
		if err := gold.Add(tb, r); err != nil {
			t.Fatal(err)
		}
	}
	d := Day{"country_daily", "2024-03-01"}
	mart := Summary{Rows: 3, Ints: map[string]int64{"events": 8}, Floats: map[string]float64{"avg_tone": 0.30000000000000004}}
	if m := compare(d, gold, mart, tb); len(m) != 0 {
		t.Fatalf("equal sums (up to rounding) disagree: %v", m)
	}
	mart.Ints["events"], mart.Floats["avg_tone"], mart.Rows = 9, 0.31, 2
	m := compare(d, gold, mart, tb)
	if len(m) != 3 || !strings.Contains(strings.Join(m, "\n"), "3 rows in gold, 2 in the mart") {
		t.Fatalf("three disagreements, got %v", m)
	}
	if err := gold.Add(tb, map[string]any{"events": "3"}); err == nil {
		t.Fatal("a string measure was summed")
	}
}

func TestCheckerNames(t *testing.T) {
	for _, tb := range []Table{
		{Name: "country_daily; DROP TABLE x", DateColumn: "event_date"},
		{Name: "country_daily", DateColumn: "event_date", IntMeasures: []string{"events)"}},
	} {
		if _, err := NewChecker(nil, "sqlite", "", []Table{tb}); err == nil {
			t.Errorf("%+v accepted", tb)
		}
	}
	if _, err := NewChecker(nil, "pgx", "mart", []Table{{Name: "a", DateColumn: "d"}, {Name: "a", DateColumn: "d"}}); err == nil {
		t.Error("a table listed twice accepted")
	}
}

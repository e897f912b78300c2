package contract

import (
	"testing"
	"time"
)

func TestWindowIDs(t *testing.T) {
	for _, c := range []struct {
		id   int64
		ok   bool
		want string
	}{
		{20230702153000, true, "20230702153000"},
		{20230702153912, true, "20230702153000"}, // inside the window
		{20240229234500, true, "20240229234500"},
		{20230229000000, false, ""},
		{20231399999999, false, ""},
		{19691231234500, false, ""},
		{99991231234500, true, "99991231234500"},
	} {
		w, ok := FromID(c.id)
		if ok != c.ok || (ok && w.String() != c.want) {
			t.Errorf("FromID(%d) = %v %v, want %s %v", c.id, w, ok, c.want, c.ok)
		}
		if ok && w.ID() != mustInt(c.want) {
			t.Errorf("ID() = %d", w.ID())
		}
	}
	w, err := ParseID("20230702153000")
	if err != nil || w.Time() != time.Date(2023, 7, 2, 15, 30, 0, 0, time.UTC) || w.Date() != "2023-07-02" || w.Add(2).String() != "20230702160000" {
		t.Fatalf("ParseID: %v %v", w, err)
	}
	if FromTime(w.Time().Add(14*time.Minute)) != w {
		t.Fatal("FromTime")
	}
	for id, ok := range map[string]bool{"20230702153000": true, "20230702153100": false, "2023070215300": false, "20231302000000": false} {
		if err := Valid(id); (err == nil) != ok {
			t.Errorf("Valid(%s) = %v", id, err)
		}
	}
}

func mustInt(s string) int64 {
	var n int64
	for _, c := range s {
		n = n*10 + int64(c-'0')
	}
	return n
}

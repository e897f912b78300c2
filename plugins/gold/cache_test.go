package gold

import (
	"context"
	"fmt"
	"math/rand"
	"testing"
)

// TestDayCacheSameAsTables: gold with the day cache (large, and so small
// that days are evicted) computes the same rows as gold reading every day
// from its tables, window after window, with late events of older days and
// events that move a country's top events; and a mart replica that applies
// each window's updates (replace_day, or the upserts and deletes of a
// cached day) equals gold's rows after every window.
func TestDayCacheSameAsTables(t *testing.T) {
	ctx := context.Background()
	open := func(bytes int64) *Gold {
		g, err := Open(ctx, Config{Lake: t.TempDir(), CacheBytes: bytes})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	plain, cached, tiny := open(0), open(64<<20), open(4<<10)
	type replica map[string]map[string]map[string]any // table|date → key → row
	replicas := []replica{{}, {}}
	apply := func(rp replica, res *Result) (diffDays int) {
		for _, u := range res.Updates {
			day := u.Table + "|" + u.Date
			key := plain.tables[u.Table].def.Key
			if !u.Diff {
				rp[day] = map[string]map[string]any{}
				for _, r := range u.Rows {
					rp[day][rowKey(r, key)] = r
				}
				continue
			}
			diffDays++
			if rp[day] == nil {
				t.Fatalf("window %d: a diff of %s, never replaced before", res.Window, day)
			}
			for _, r := range u.Changed {
				rp[day][rowKey(r, key)] = r
			}
			for _, r := range u.Deleted {
				if _, ok := rp[day][rowKey(r, key)]; !ok {
					t.Errorf("window %d: %s: delete of a key the replica lacks: %v", res.Window, day, r)
				}
				delete(rp[day], rowKey(r, key))
			}
		}
		return diffDays
	}
	rnd := rand.New(rand.NewSource(7))
	countries := []string{"FR", "US", "UK", "", "GM"}
	id := int64(1)
	diffs := 0
	for i := 0; i < 30; i++ {
		w := int64(20230702000000) + int64(i/4)*10000 + int64(i%4)*1500
		var evs, mens []map[string]any
		for n := 0; n < 1+rnd.Intn(8); n++ {
			day := int64(20230702)
			if rnd.Intn(3) == 0 {
				day = 20230624 + int64(rnd.Intn(7)) // a late event
			}
			evs = append(evs, event(id, day, w, countries[rnd.Intn(len(countries))], float64(rnd.Intn(21)-10), rnd.Float64()*20-10,
				int64(1+rnd.Intn(4)), int64(rnd.Intn(50))))
			mens = append(mens, mention(id, w, []string{"complete", "no_gkg", "expired"}[rnd.Intn(3)],
				fmt.Sprintf("s%d.com", rnd.Intn(4)), rnd.Float64(), "T1;T2"))
			id++
		}
		var results []*Result
		for _, g := range []*Gold{plain, cached, tiny} {
			win := g.NewWindow(w)
			for _, e := range evs {
				win.AddEvent(getterOf(e))
			}
			for _, m := range mens {
				win.AddMention(getterOf(m))
			}
			res, err := g.Apply(ctx, win)
			if err != nil {
				t.Fatal(err)
			}
			results = append(results, res)
		}
		want := fmt.Sprint(results[0].Updates)
		for j, res := range results[1:] {
			for k := range res.Updates {
				if results[0].Updates[k].Diff {
					t.Fatalf("window %d: gold without a cache sent a diff", w)
				}
			}
			got := ""
			stripped := make([]DayUpdate, len(res.Updates))
			for k, u := range res.Updates {
				stripped[k] = DayUpdate{Table: u.Table, Date: u.Date, Rows: u.Rows}
			}
			got = fmt.Sprint(stripped)
			if got != want {
				t.Fatalf("window %d, cache %d: rows differ from gold without a cache", w, j)
			}
			diffs += apply(replicas[j], res)
			for _, u := range res.Updates {
				rp := replicas[j][u.Table+"|"+u.Date]
				if len(rp) != len(u.Rows) {
					t.Fatalf("window %d: %s %s: replica %d rows, gold %d", w, u.Table, u.Date, len(rp), len(u.Rows))
				}
				for _, r := range u.Rows {
					if o := rp[rowKey(r, plain.tables[u.Table].def.Key)]; o == nil || !sameRow(o, r) {
						t.Fatalf("window %d: %s %s: replica %v, gold %v", w, u.Table, u.Date, o, r)
					}
				}
			}
		}
	}
	if diffs == 0 {
		t.Error("no day was sent as a diff")
	}
	if tiny.cache.size > tiny.cache.max {
		t.Errorf("the tiny cache holds %d bytes, bound %d", tiny.cache.size, tiny.cache.max)
	}
	if len(cached.cache.days) == 0 {
		t.Error("the cache holds no day")
	}
	t.Logf("%d diff days; cache: %d days, %d bytes; tiny cache: %d days", diffs, len(cached.cache.days), cached.cache.size, len(tiny.cache.days))
}

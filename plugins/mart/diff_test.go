package mart_test

import (
	"encoding/json"
	"math/rand"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"
)

// diffMessages is window w as gold sends a day it sent before: per table and
// day, an upsert per row new or changed against prev and a delete per key
// gone; the progress message carries each day's summary (rows, sums).
func diffMessages(w int64, prev gold, next map[string]map[string][]row) service.MessageBatch {
	ws := strconv.FormatInt(w, 10)
	var out service.MessageBatch
	msg := func(content []byte, op, table, date string) {
		m := service.NewMessage(content)
		m.MetaSetMut("gold_op", op)
		if table != "" {
			m.MetaSetMut("gold_table", table)
			m.MetaSetMut("gold_date", date)
		}
		m.MetaSetMut("gold_window", ws)
		out = append(out, m)
	}
	var days []map[string]any
	rows := 0
	for _, tb := range goldTables {
		for d, rs := range next[tb.name] {
			keyOf := func(r row) string {
				var k []string
				for _, c := range tb.key {
					js, _ := json.Marshal(r[c])
					k = append(k, string(js))
				}
				return strings.Join(k, "|")
			}
			old := map[string]string{}
			for _, r := range prev[tb.name][d] {
				js, _ := json.Marshal(r)
				old[keyOf(r)] = string(js)
			}
			ints, floats := map[string]int64{}, map[string]float64{}
			for _, r := range rs {
				js, _ := json.Marshal(r)
				k := keyOf(r)
				if o, ok := old[k]; !ok || o != string(js) {
					msg(js, "upsert", tb.name, d)
					rows++
				}
				delete(old, k)
				for c, v := range r {
					switch x := v.(type) {
					case int64:
						ints[c] += x
					case float64:
						floats[c] += x
					}
				}
			}
			for _, r := range prev[tb.name][d] {
				if _, gone := old[keyOf(r)]; gone {
					key := map[string]any{}
					for _, c := range tb.key {
						key[c] = r[c]
					}
					js, _ := json.Marshal(key)
					msg(js, "delete", tb.name, d)
					rows++
				}
			}
			days = append(days, map[string]any{"table": tb.name, "date": d, "rows": len(rs), "ints": ints, "floats": floats})
		}
	}
	js, _ := json.Marshal(map[string]any{"window": w, "window_time": "", "rows": rows, "days": days})
	msg(js, "progress", "", "")
	return out
}

// nextDay changes some of a day's rows: the first one's measures, the last
// one gone, new keys from a fresh day; the others unchanged.
func nextDay(r *rand.Rand, table, date string, prev []row) []row {
	fresh := makeDay(r, table, date)
	var out []row
	seen := map[string]bool{}
	for i, p := range prev {
		if i == len(prev)-1 && len(prev) > 1 {
			continue // gone
		}
		q := row{}
		for k, v := range p {
			q[k] = v
		}
		if i == 0 {
			for _, c := range []string{"events", "mentions"} {
				if n, ok := q[c].(int64); ok {
					q[c] = n + 1
				}
			}
		}
		out = append(out, q)
	}
	for _, tb := range goldTables {
		if tb.name != table {
			continue
		}
		kf := func(x row) string {
			var k []string
			for _, c := range tb.key {
				js, _ := json.Marshal(x[c])
				k = append(k, string(js))
			}
			return strings.Join(k, "|")
		}
		for _, p := range prev {
			seen[kf(p)] = true
		}
		for _, f := range fresh {
			if !seen[kf(f)] {
				out = append(out, f)
				seen[kf(f)] = true
			}
		}
	}
	return out
}

// exerciseDiff: after windows of whole days, windows that send only the rows
// changed (upsert) and the keys gone (delete) leave the mart equal to the
// model, checked in sync by gdelt_mart_check against the progress summaries;
// a replay of a diff window changes nothing.
func exerciseDiff(t *testing.T, driver, dsn string, r reader) {
	batches := makeBatches(3, start, 3)
	ms := newMartStream(t, driver, dsn, 2)
	g := gold{}
	for _, b := range batches {
		if err := ms.write(t, b); err != nil {
			t.Fatal(err)
		}
		g.apply(b)
	}
	rnd := rand.New(rand.NewSource(4))
	w := batches[len(batches)-1].window
	for i := 0; i < 4; i++ {
		wt, _ := time.Parse("20060102150405", strconv.FormatInt(w, 10))
		w, _ = strconv.ParseInt(wt.Add(15*time.Minute).Format("20060102150405"), 10, 64)
		next := map[string]map[string][]row{}
		for tb, days := range g {
			next[tb] = map[string][]row{}
			for d, rows := range days {
				if rnd.Intn(2) == 0 {
					next[tb][d] = nextDay(rnd, tb, d, rows)
				}
			}
		}
		msgs := diffMessages(w, g, next)
		ctx := t.Context()
		if err := ms.send(ctx, msgs); err != nil {
			t.Fatalf("diff window %d: %v", w, err)
		}
		g.apply(batch{window: w, days: next})
		r.assertEquals(t, g, w)
		before := r.dump()
		if err := ms.send(ctx, diffMessages(w, gold{}, next)); err != nil {
			t.Fatalf("replay of diff window %d: %v", w, err)
		}
		if after := r.dump(); len(after) != len(before) {
			t.Fatalf("a replayed diff window changed the mart")
		}
		r.assertEquals(t, g, w)
	}
	audit := ms.auditRows(t)
	n := 0
	for _, a := range audit {
		if a["mart_checked"] == true {
			n++
			if a["mart_in_sync"] != true {
				t.Errorf("MART_COMPLETE %v", a)
			}
		}
	}
	if n < len(batches)+4 {
		t.Errorf("%d checked windows, want %d", n, len(batches)+4)
	}
}

func TestMartDiffSQLite(t *testing.T) {
	file := filepath.Join(t.TempDir(), "mart.sqlite")
	exerciseDiff(t, "sqlite", sqliteDSN(file), sqliteReader(t, file))
}

func TestMartDiffPostgres(t *testing.T) {
	pg := startPostgres(t)
	exerciseDiff(t, "pgx", pg.dsn(), pgReader(pg))
}

package join

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
)

// Test rows built by hand: every column present, nil unless set.

var testBase = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// wid is the id of the i-th window after testBase.
func wid(i int) int64 {
	t := testBase.Add(time.Duration(i) * 15 * time.Minute)
	v, _ := strconv.ParseInt(t.Format("20060102150405"), 10, 64)
	return v
}

func blank(t *schema.Table) map[string]any {
	m := make(map[string]any, len(t.Columns))
	for _, c := range t.Columns {
		m[c.Name] = nil
	}
	return m
}

func ev(id int64, win int) map[string]any {
	m := blank(schema.Events)
	m["global_event_id"] = id
	m["date_added"] = wid(win)
	m["actor1_name"] = fmt.Sprintf("ACTOR %d", id)
	m["avg_tone"] = float64(id) / 3
	m["num_mentions"] = int64(-id)
	m["event_code"] = "0" + strconv.FormatInt(id%100, 10)
	return m
}

func mn(id int64, win int, mtype int64, url string) map[string]any {
	m := blank(schema.Mentions)
	m["global_event_id"] = id
	m["event_time_date"] = wid(win)
	m["mention_time_date"] = wid(win)
	m["mention_type"] = mtype
	if url != "" {
		m["mention_identifier"] = url
	}
	m["mention_doc_tone"] = -1.25
	return m
}

func gk(win int, url, recordID string) map[string]any {
	m := blank(schema.GKG)
	m["gkg_record_id"] = recordID
	m["date"] = wid(win)
	m["source_collection_identifier"] = int64(1)
	m["document_identifier"] = url
	m["v2_tone"] = "1.5,2,0.5,2.5,20,0,300"
	return m
}

// input is one row for the Joiner.
type input struct {
	table string
	win   int // window index in the test's own numbering (for ordering checks)
	row   map[string]any
}

func newTest(t testing.TB, retention, slack int) *Joiner {
	t.Helper()
	cfg := DefaultConfig()
	cfg.EventRetentionWindows, cfg.GKGWindowSlack = retention, slack
	j, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func mustAdd(t testing.TB, j *Joiner, in ...input) {
	t.Helper()
	for _, x := range in {
		if err := j.Add(x.table, x.row); err != nil {
			t.Fatalf("Add(%s): %v", x.table, err)
		}
	}
}

// canon renders a silver row as one comparable string: every column of
// Columns, in order, with its Go type (floats exact).
func canon(row map[string]any, cols []schema.Column) string {
	var b strings.Builder
	for _, c := range cols {
		v, ok := row[c.Name]
		if !ok {
			fmt.Fprintf(&b, "%s:MISSING|", c.Name)
			continue
		}
		b.WriteString(c.Name)
		b.WriteByte('=')
		b.WriteString(canonValue(v))
		b.WriteByte('|')
	}
	if len(row) != len(cols) {
		fmt.Fprintf(&b, "EXTRA:%d", len(row)-len(cols))
	}
	return b.String()
}

func canonValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case int64:
		return "i" + strconv.FormatInt(x, 10)
	case float64:
		return "f" + strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return strconv.Quote(x)
	}
	return fmt.Sprintf("?%T(%v)", v, v)
}

// feed adds the inputs, draining after each batch (sizes from batch; nil =
// one Drain at the end), and flushes. It returns every row and window record.
func feed(t testing.TB, j *Joiner, ins []input, batch func() int) ([]map[string]any, []WindowStats) {
	t.Helper()
	var rows []map[string]any
	var wins []WindowStats
	for i := 0; i < len(ins); {
		n := len(ins) - i
		if batch != nil {
			n = min(n, batch())
		}
		mustAdd(t, j, ins[i:i+n]...)
		i += n
		r, w := j.Drain()
		rows = append(rows, r...)
		wins = append(wins, w...)
	}
	r, w := j.Flush()
	return append(rows, r...), append(wins, w...)
}

// interleave merges the per-table sequences in a random order that keeps each
// table's own order.
func interleave(r *rand.Rand, tables ...[]input) []input {
	var out []input
	pos := make([]int, len(tables))
	for {
		var live []int
		for k, tb := range tables {
			if pos[k] < len(tb) {
				live = append(live, k)
			}
		}
		if len(live) == 0 {
			return out
		}
		k := live[r.IntN(len(live))]
		n := min(1+r.IntN(40), len(tables[k])-pos[k])
		out = append(out, tables[k][pos[k]:pos[k]+n]...)
		pos[k] += n
	}
}

// byTable splits inputs by table, keeping their order.
func byTable(ins []input) (events, mentions, gkg []input) {
	for _, x := range ins {
		switch x.table {
		case "export":
			events = append(events, x)
		case "mentions":
			mentions = append(mentions, x)
		default:
			gkg = append(gkg, x)
		}
	}
	return
}

// windowsOf strips the clock fields so records can be compared across runs.
func windowsOf(ws []WindowStats) []WindowStats {
	out := slices.Clone(ws)
	for i := range out {
		out[i].FirstArrival, out[i].Completed = time.Time{}, time.Time{}
	}
	return out
}

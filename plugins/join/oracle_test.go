package join

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"

	"github.com/gdeltflow/gdeltflow/tests/duckdbtest"
)

// The DuckDB oracle: tests/duckdb/join_oracle.mjs computes the expected silver
// rows from the same raw files in plain SQL; its header states the SQL:
//
//	ev = mentions JOIN events ON global_event_id
//	       AND win(date_added) <= win(mention_time_date) <= win(date_added) + R
//	gk = mentions JOIN gkg ON mention_type = 1 AND document_identifier = mention_identifier
//	       AND |win(gkg.date) - win(mention_time_date)| <= S
//	     QUALIFY row_number() OVER (PARTITION BY mention
//	               ORDER BY |gkg window - mention window|, gkg window, gkg file order) = 1
//	SELECT mention.*, ev.* AS event_*, gk.* AS gkg_*,
//	       CASE WHEN no ev THEN 'expired' WHEN no gk THEN 'no_gkg' ELSE 'complete' END AS join_status,
//	       window id of the mention AS window
//	FROM mentions LEFT JOIN ev LEFT JOIN gk ORDER BY mention window, global_event_id, mention file order
//
// win() is the 15-minute window index of a YYYYMMDDHHMMSS id. The Joiner must
// produce the same rows, column for column (floats bit for bit), in the same
// order, whatever the arrival order across tables and the batch boundaries.

const (
	oracleWindows   = 12
	oracleRetention = 5 // windows: small, so that many mentions of events 6+ windows back expire
)

var oracleStart = time.Date(2023, 7, 3, 6, 0, 0, 0, time.UTC)

// oracleData is the generated test set, raw and decoded.
type oracleData struct {
	dir        string
	inputs     []input         // window by window: export, mentions, gkg (each table in window order)
	export     map[int64]int64 // first sighting's window by id
	reexported map[int64]bool
	nGKG       map[int64]int // GKG rows per window id
	nEvents    map[int64]int
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

type lines [][]string

func splitTSV(b []byte) lines {
	var out lines
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if l != "" {
			out = append(out, strings.Split(l, "\t"))
		}
	}
	return out
}

func (ls lines) bytes() []byte {
	var b bytes.Buffer
	for _, f := range ls {
		b.WriteString(strings.Join(f, "\t"))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// makeOracleData generates the windows, adds the cases the generator does
// not make, writes the raw files to a temp dir and decodes every row.
func makeOracleData(t *testing.T) *oracleData {
	t.Helper()
	cfg := gdeltgen.Small(oracleStart, oracleWindows, 17)
	cfg.Events, cfg.Mentions, cfg.GKG = 150, 380, 100
	cfg.Reexports = 6 // re-exported events, within and past the retention: first-sighting semantics
	var ex, mt, gk []lines
	var ids []string
	if err := gdeltgen.Generate(cfg, func(w gdeltgen.Window) error {
		ids = append(ids, gdeltgen.WindowID(w.Time))
		ex = append(ex, splitTSV(w.Export))
		mt = append(mt, splitTSV(w.Mentions))
		gk = append(gk, splitTSV(w.GKG))
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// GKG rows of mentioned web documents, by window: the cases of several
	// candidates within ±1 window.
	gkgRow := func(i int, url string) int {
		for k, f := range gk[i] {
			if f[4] == url {
				return k
			}
		}
		return -1
	}
	webURLs := func(i int) []string { // type-1 mention URLs of window i with a GKG row in window i
		var out []string
		seen := map[string]bool{}
		for _, f := range mt[i] {
			if f[3] == "1" && !seen[f[5]] && gkgRow(i, f[5]) >= 0 {
				seen[f[5]] = true
				out = append(out, f[5])
			}
		}
		return out
	}
	retarget := func(f []string, i int, tag string) []string {
		g := slices.Clone(f)
		g[0] = ids[i] + "-" + tag
		g[1] = ids[i]
		return g
	}
	for n, url := range webURLs(2)[:3] { // also in the next window: the same window wins
		k := gkgRow(2, url)
		gk[3] = append(gk[3], retarget(gk[2][k], 3, "A"+strconv.Itoa(n)))
	}
	for n, url := range webURLs(3)[:3] { // moved to the next window, copied to the previous: tie, the earlier wins
		k := gkgRow(3, url)
		row := gk[3][k]
		gk[3] = slices.Delete(gk[3], k, k+1)
		gk[4] = append(gk[4], retarget(row, 4, "B"+strconv.Itoa(n)))
		gk[2] = append(gk[2], retarget(row, 2, "B"+strconv.Itoa(n)))
	}
	for n, url := range webURLs(4)[:3] { // twice in the same window: the first received wins
		k := gkgRow(4, url)
		gk[4] = append(gk[4], retarget(gk[4][k], 4, "C"+strconv.Itoa(n)))
	}
	for _, url := range webURLs(5)[:3] { // moved two windows on: out of reach
		k := gkgRow(5, url)
		row := gk[5][k]
		gk[5] = slices.Delete(gk[5], k, k+1)
		gk[7] = append(gk[7], retarget(row, 7, "D"))
	}
	// Web mentions turned into citations: no GKG join although the URL has a record.
	for _, url := range webURLs(6)[:3] {
		for _, f := range mt[6] {
			if f[5] == url && f[3] == "1" {
				f[3] = "2"
				break
			}
		}
	}
	// Mentions of an event first seen in a later window: expired.
	for n := 0; n < 3; n++ {
		mt[7][10*n][0] = ex[8+n][0][0]
	}
	// A web mention without an identifier.
	for _, f := range mt[8] {
		if f[3] == "1" {
			f[5] = ""
			break
		}
	}

	d := &oracleData{dir: t.TempDir(), export: map[int64]int64{}, reexported: map[int64]bool{}, nGKG: map[int64]int{}, nEvents: map[int64]int{}}
	decoders := map[string]*gdelt.Decoder{
		"export": gdelt.NewDecoder(schema.Events, false), "mentions": gdelt.NewDecoder(schema.Mentions, false),
		"gkg": gdelt.NewDecoder(schema.GKG, false),
	}
	for i, id := range ids {
		wid, _ := strconv.ParseInt(id, 10, 64)
		for _, tf := range []struct {
			table, suffix string
			rows          lines
		}{{"export", ".export.CSV", ex[i]}, {"mentions", ".mentions.CSV", mt[i]}, {"gkg", ".gkg.csv", gk[i]}} {
			raw := tf.rows.bytes()
			if err := os.WriteFile(filepath.Join(d.dir, id+tf.suffix), raw, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, line := range bytes.Split(bytes.TrimSuffix(raw, []byte("\n")), []byte("\n")) {
				row, err := decoders[tf.table].Decode(line)
				if err != nil {
					t.Fatalf("%s%s: %v", id, tf.suffix, err)
				}
				d.inputs = append(d.inputs, input{table: tf.table, win: i, row: row})
				switch tf.table {
				case "export":
					id := row["global_event_id"].(int64)
					if _, seen := d.export[id]; seen {
						d.reexported[id] = true // the first sighting counts
					} else {
						d.export[id] = row["date_added"].(int64)
					}
					d.nEvents[wid]++
				case "gkg":
					d.nGKG[row["date"].(int64)]++
				}
			}
		}
	}
	return d
}

// order is one way to present the inputs to the Joiner.
type order struct {
	name   string
	inputs []input
	batch  func() int // nil: one Drain at the end
}

func oracleOrders(d *oracleData) []order {
	e, m, g := byTable(d.inputs)
	perWindow := func(tables ...[]input) []input {
		var out []input
		for w := 0; w < oracleWindows; w++ {
			for _, tb := range tables {
				for _, x := range tb {
					if x.win == w {
						out = append(out, x)
					}
				}
			}
		}
		return out
	}
	orders := []order{
		{name: "events-first", inputs: slices.Concat(e, m, g)},
		{name: "gkg-first", inputs: slices.Concat(g, m, e)},
		{name: "by-window", inputs: perWindow(e, m, g)},
		{name: "by-window-reversed", inputs: perWindow(g, m, e)},
		{name: "gkg-last", inputs: slices.Concat(perWindow(e, m), g)},
		{name: "mentions-last", inputs: slices.Concat(perWindow(e, g), m)},
	}
	for seed := uint64(1); seed <= 3; seed++ {
		r := rand.New(rand.NewPCG(seed, 99))
		orders = append(orders, order{name: fmt.Sprintf("interleaved-%d", seed), inputs: interleave(r, e, m, g)})
	}
	for seed := uint64(4); seed <= 7; seed++ {
		r := rand.New(rand.NewPCG(seed, 99))
		in := interleave(r, e, m, g)
		orders = append(orders, order{
			name: fmt.Sprintf("batches-%d", seed), inputs: in,
			batch: func() int { return 1 + r.IntN(300) },
		})
	}
	// Drain after every row.
	orders = append(orders, order{name: "row-by-row", inputs: perWindow(m, e, g), batch: func() int { return 1 }})
	return orders
}

type oracleRun struct {
	name  string
	rows  []string
	wins  []WindowStats
	stats Stats
}

func runOrders(t *testing.T, d *oracleData, retention, slack int, orders []order) []oracleRun {
	t.Helper()
	cols := Columns(false)
	var runs []oracleRun
	for _, o := range orders {
		if len(o.inputs) != len(d.inputs) {
			t.Fatalf("%s: %d inputs, want %d", o.name, len(o.inputs), len(d.inputs))
		}
		j := newTest(t, retention, slack)
		rows, wins := feed(t, j, o.inputs, o.batch)
		run := oracleRun{name: o.name, wins: windowsOf(wins), stats: j.Stats()}
		for _, r := range rows {
			run.rows = append(run.rows, canon(r, cols))
		}
		if run.stats.Late != (TableCounts{}) {
			t.Errorf("%s: late rows %+v with every table in window order", o.name, run.stats.Late)
		}
		runs = append(runs, run)
	}
	return runs
}

// TestJoinDeterminism feeds the generated windows in many arrival orders and
// batchings: every run must emit the same rows in the same order and the same
// window records. (TestJoinOracle checks them against DuckDB.)
func TestJoinDeterminism(t *testing.T) {
	d := makeOracleData(t)
	runs := runOrders(t, d, oracleRetention, 1, oracleOrders(d))
	ref := runs[0]
	for _, r := range runs[1:] {
		if !slices.Equal(r.rows, ref.rows) {
			t.Errorf("%s: rows differ from %s: %s", r.name, ref.name, firstDiff(r.rows, ref.rows))
		}
		if !slices.Equal(r.wins, ref.wins) {
			t.Errorf("%s: window records differ from %s:\n%+v\n%+v", r.name, ref.name, r.wins, ref.wins)
		}
		if r.stats.StateEvents != ref.stats.StateEvents || r.stats.EventsEvicted != ref.stats.EventsEvicted {
			t.Errorf("%s: state differs: %+v vs %+v", r.name, r.stats, ref.stats)
		}
	}
	s := ref.stats
	t.Logf("%d orders agree: %d rows (complete %d, no_gkg %d, expired %d), %d window records, %d events evicted",
		len(runs), len(ref.rows), s.Complete, s.NoGKG, s.Expired, len(ref.wins), s.EventsEvicted)
}

func firstDiff(a, b []string) string {
	if len(a) != len(b) {
		return fmt.Sprintf("%d rows vs %d", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			return fmt.Sprintf("row %d:\n  %s", i, diffColumns(a[i], b[i]))
		}
	}
	return ""
}

// diffColumns lists the columns where two canonical rows differ.
func diffColumns(a, b string) string {
	fa, fb := strings.Split(a, "|"), strings.Split(b, "|")
	var out []string
	for i := range min(len(fa), len(fb)) {
		if fa[i] != fb[i] {
			out = append(out, fa[i]+" vs "+fb[i])
		}
	}
	if len(fa) != len(fb) {
		out = append(out, fmt.Sprintf("%d vs %d fields", len(fa), len(fb)))
	}
	if len(out) > 8 {
		out = append(out[:8], "...")
	}
	return strings.Join(out, "\n  ")
}

// duckRows runs join_oracle.mjs and returns its rows, typed like the Joiner's.
func duckRows(t *testing.T, dir string, retention, slack int) []map[string]any {
	t.Helper()
	kinds := map[string]schema.Kind{}
	for _, c := range Columns(false) {
		kinds[c.Name] = c.Kind
	}
	var rows []map[string]any
	for _, raw := range duckdbtest.Run(t, "join_oracle.mjs", "", dir, strconv.Itoa(retention), strconv.Itoa(slack)) {
		var err error
		row := make(map[string]any, len(raw))
		for k, v := range raw {
			row[k] = v
			n, ok := v.(json.Number)
			if !ok {
				continue
			}
			switch kinds[k] {
			case schema.Int64:
				row[k], err = strconv.ParseInt(n.String(), 10, 64)
			case schema.Float64:
				row[k], err = strconv.ParseFloat(n.String(), 64)
			default:
				err = fmt.Errorf("number in a %v column", kinds[k])
			}
			if err != nil {
				t.Fatalf("row %d, %s: %v", len(rows)+1, k, err)
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// TestJoinOracle compares the Joiner's output in every arrival order with
// DuckDB's join of the same raw files: with the test's retention and the
// default slack (every order, and the data must exercise every case), then
// with other retentions and slacks (a few orders).
func TestJoinOracle(t *testing.T) {
	d := makeOracleData(t)
	orders := oracleOrders(d)
	for _, c := range []struct {
		retention, slack int
		orders           []order
	}{
		{oracleRetention, 1, orders},
		{8, 2, []order{orders[0], orders[2], orders[len(orders)-2]}},
		{0, 0, []order{orders[1], orders[3], orders[len(orders)-3]}},
	} {
		t.Run(fmt.Sprintf("retention=%d,slack=%d", c.retention, c.slack), func(t *testing.T) {
			oracleCompare(t, d, c.retention, c.slack, c.orders, c.retention == oracleRetention && c.slack == 1)
		})
	}
}

func oracleCompare(t *testing.T, d *oracleData, retention, slack int, orders []order, coverage bool) {
	expected := duckRows(t, d.dir, retention, slack)
	cols := Columns(false)
	want := make([]string, len(expected))
	for i, r := range expected {
		want[i] = canon(r, cols)
	}
	nMentions := 0
	for _, x := range d.inputs {
		if x.table == "mentions" {
			nMentions++
		}
	}
	if len(want) != nMentions {
		t.Fatalf("DuckDB gave %d rows for %d mentions", len(want), nMentions)
	}
	if coverage {
		checkCoverage(t, d, expected, int64(retention))
	}

	// Per-window records from DuckDB's rows and the raw files.
	wantWins := map[int64]*WindowStats{}
	for id, n := range d.nEvents {
		wantWins[id] = &WindowStats{Window: id, Events: n}
	}
	for _, r := range expected {
		w := wantWins[r[ColumnWindow].(int64)]
		w.Mentions++
		switch r[ColumnJoinState] {
		case StatusComplete:
			w.Complete++
		case StatusNoGKG:
			w.NoGKG++
		default:
			w.Expired++
		}
	}
	for id, n := range d.nGKG {
		if wantWins[id] == nil {
			wantWins[id] = &WindowStats{Window: id}
		}
		wantWins[id].GKG = n
	}

	for _, run := range runOrders(t, d, retention, slack, orders) {
		if !slices.Equal(run.rows, want) {
			// As a multiset first: that is the guarantee; then the order.
			if diff := multisetDiff(run.rows, want); diff != "" {
				t.Errorf("%s: rows differ from DuckDB's: %s", run.name, diff)
			} else {
				t.Errorf("%s: same rows as DuckDB, different order: %s", run.name, firstDiff(run.rows, want))
			}
			continue
		}
		if len(run.wins) != len(wantWins) {
			t.Errorf("%s: %d window records, want %d", run.name, len(run.wins), len(wantWins))
		}
		for _, w := range run.wins {
			x := wantWins[w.Window]
			if x == nil {
				t.Errorf("%s: unexpected window record %+v", run.name, w)
				continue
			}
			x.JoinRate = w.JoinRate
			if w != *x || (x.Mentions > 0 && w.JoinRate != float64(x.Complete)/float64(x.Mentions)) {
				t.Errorf("%s: window record %+v, want %+v", run.name, w, *x)
			}
		}
	}
	st := map[string]int{}
	for _, r := range expected {
		st[r[ColumnJoinState].(string)]++
	}
	t.Logf("%d orders × %d rows × %d columns agree with DuckDB: complete %d, no_gkg %d, expired %d",
		len(orders), len(want), len(cols), st[StatusComplete], st[StatusNoGKG], st[StatusExpired])
}

func multisetDiff(got, want []string) string {
	count := map[string]int{}
	for _, r := range want {
		count[r]++
	}
	for _, r := range got {
		count[r]--
	}
	var extra, missing []string
	for r, n := range count {
		for ; n > 0; n-- {
			missing = append(missing, r)
		}
		for ; n < 0; n++ {
			extra = append(extra, r)
		}
	}
	if len(extra) == 0 && len(missing) == 0 {
		return ""
	}
	slices.Sort(extra)
	slices.Sort(missing)
	msg := fmt.Sprintf("%d rows only in ours, %d only in DuckDB's", len(extra), len(missing))
	if len(extra) > 0 && len(missing) > 0 {
		// Pair them by mention (the leading mention columns) to show the columns at fault.
		msg += "\n  first pair:\n  " + diffColumns(extra[0], missing[0])
	}
	return msg
}

// checkCoverage makes sure the data exercises every case the semantics name.
func checkCoverage(t *testing.T, d *oracleData, rows []map[string]any, retention int64) {
	t.Helper()
	idx := func(v any) int64 { i, _ := windowIndex(v.(int64)); return i }
	c := map[string]int{}
	for _, r := range rows {
		w := idx(r[ColumnWindow])
		c[r[ColumnJoinState].(string)]++
		if r["gkg_date"] != nil {
			c[fmt.Sprintf("gkg%+d", idx(r["gkg_date"])-w)]++
			if r[ColumnJoinState] == StatusExpired {
				c["expired with gkg"]++
			}
		}
		if r["event_date_added"] != nil {
			if idx(r["event_date_added"]) == w-retention {
				c["event at the retention limit"]++
			}
		} else if added, ok := d.export[r["global_event_id"].(int64)]; ok {
			switch age := w - idx(added); {
			case age > retention:
				c["expired: older than the retention"]++
			case age < 0:
				c["expired: event of a later window"]++
			default:
				t.Errorf("event %v of window %d not joined to a mention of window %d", r["global_event_id"], added, r[ColumnWindow])
			}
		} else {
			c["expired: never seen"]++
		}
		if d.reexported[r["global_event_id"].(int64)] {
			if r["event_date_added"] != nil {
				c["re-exported event, joined by its first sighting"]++
			} else if idx(d.export[r["global_event_id"].(int64)]) < w-retention {
				c["re-exported event, first sighting past the retention"]++
			}
		}
		if r["mention_type"] == int64(1) && r["gkg_date"] == nil {
			c["web mention without gkg"]++
		}
		if r["mention_type"] != int64(1) && r["mention_identifier"] != nil && strings.HasPrefix(r["mention_identifier"].(string), "http") {
			c["citation of a web URL"]++
		}
		if s, _ := r["gkg_gkg_record_id"].(string); strings.Contains(s, "-B") {
			c["gkg tie, earlier window"]++
		}
	}
	for _, k := range []string{StatusComplete, StatusNoGKG, StatusExpired, "gkg-1", "gkg+0", "gkg+1", "expired with gkg",
		"event at the retention limit", "expired: older than the retention", "expired: event of a later window",
		"expired: never seen", "web mention without gkg", "citation of a web URL", "gkg tie, earlier window",
		"re-exported event, joined by its first sighting", "re-exported event, first sighting past the retention"} {
		if c[k] == 0 {
			t.Errorf("the test data has no case of %q", k)
		}
	}
	t.Logf("cases: %v", c)
}

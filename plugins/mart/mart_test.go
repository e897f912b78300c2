package mart_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/redpanda-data/benthos/v4/public/components/io"
	_ "github.com/redpanda-data/benthos/v4/public/components/pure"
	"github.com/redpanda-data/benthos/v4/public/service"
	_ "github.com/redpanda-data/connect/v4/public/components/prometheus"
	_ "github.com/redpanda-data/connect/v4/public/components/sql/base"
	_ "modernc.org/sqlite"

	_ "github.com/gdeltflow/gdeltflow/plugins/mart"
	"github.com/gdeltflow/gdeltflow/resources"
)

func TestMain(m *testing.M) {
	ts, err := resources.Templates()
	if err != nil {
		panic(err)
	}
	if err := service.RegisterTemplateYAML(ts["gdelt_mart.yaml"]); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// The gold tables as the contract states them (column, kind), written here
// independently of the template.
var goldTables = []struct {
	name string
	key  []string
	cols [][2]string
}{
	{"country_daily", []string{"event_date", "country_fips"}, [][2]string{
		{"event_date", "date"}, {"country_fips", "text"}, {"country_iso3", "text"}, {"country_name", "text"},
		{"events", "int"}, {"num_mentions", "int"}, {"num_sources", "int"}, {"num_articles", "int"},
		{"avg_goldstein", "float"}, {"avg_tone", "float"}, {"quad1_events", "int"}, {"quad2_events", "int"},
		{"quad3_events", "int"}, {"quad4_events", "int"}, {"anomalous_events", "int"}, {"risk_score", "float"}}},
	{"country_daily_category", []string{"event_date", "country_fips", "cameo_root"}, [][2]string{
		{"event_date", "date"}, {"country_fips", "text"}, {"country_iso3", "text"}, {"cameo_root", "text"},
		{"root_label", "text"}, {"quad_class", "int"}, {"events", "int"}, {"avg_goldstein", "float"}, {"avg_tone", "float"}}},
	{"actor_network_daily", []string{"event_date", "actor1_country", "actor2_country"}, [][2]string{
		{"event_date", "date"}, {"actor1_country", "text"}, {"actor1_country_name", "text"}, {"actor2_country", "text"},
		{"actor2_country_name", "text"}, {"events", "int"}, {"articles", "int"}, {"avg_tone", "float"}, {"avg_goldstein", "float"}}},
	{"top_events_daily", []string{"event_date", "country_fips", "kind"}, [][2]string{
		{"event_date", "date"}, {"country_fips", "text"}, {"country_iso3", "text"}, {"kind", "text"},
		{"global_event_id", "int"}, {"description", "text"}, {"goldstein", "float"}, {"avg_tone", "float"},
		{"num_articles", "int"}, {"source_url", "text"}, {"themes", "json"}, {"persons", "json"}, {"organizations", "json"}}},
	{"source_daily", []string{"mention_date", "source_name"}, [][2]string{
		{"mention_date", "date"}, {"source_name", "text"}, {"mentions", "int"}, {"avg_doc_tone", "float"},
		{"rows_complete", "int"}, {"rows_no_gkg", "int"}, {"rows_expired", "int"}, {"join_rate", "float"}}},
}

type row = map[string]any

// gold is the model: what gold holds, table → date → rows (full totals).
type gold map[string]map[string][]row

// batch is one window's gold output: for each (table, date) it touched, the
// day's rows.
type batch struct {
	window int64
	days   map[string]map[string][]row
}

var countries = [][3]string{{"US", "USA", "United States"}, {"FR", "FRA", "France"}, {"UK", "GBR", "United Kingdom"},
	{"IN", "IND", "India"}, {"", "", ""}}
var actors = [][2]string{{"USA", "United States"}, {"FRA", "France"}, {"GBR", "United Kingdom"}, {"IND", "India"}, {"CHN", "China"}}

// makeDay builds one table's rows for a day, from r: different every call.
func makeDay(r *rand.Rand, table, date string) []row {
	var rows []row
	switch table {
	case "country_daily":
		for _, c := range countries[:1+r.Intn(len(countries))] {
			ev := int64(1 + r.Intn(50))
			q := [4]int64{}
			for i := int64(0); i < ev; i++ {
				q[r.Intn(4)]++
			}
			gs, tone := float64(r.Intn(200)-100)/10, r.Float64()*20-10
			rows = append(rows, row{"event_date": date, "country_fips": c[0], "country_iso3": nullIf(c[1]), "country_name": nullIf(c[2]),
				"events": ev, "num_mentions": ev * 3, "num_sources": ev * 2, "num_articles": ev * 4,
				"avg_goldstein": gs, "avg_tone": tone, "quad1_events": q[0], "quad2_events": q[1], "quad3_events": q[2], "quad4_events": q[3],
				"anomalous_events": int64(r.Intn(int(ev) + 1)), "risk_score": -0.5*gs - 0.3*tone + 0.2*math.Log(float64(ev))})
		}
	case "country_daily_category":
		for _, c := range countries[:1+r.Intn(len(countries))] {
			for _, root := range []string{"01", "04", "14", "19", "20"}[:1+r.Intn(5)] {
				qc, _ := strconv.Atoi(root)
				rows = append(rows, row{"event_date": date, "country_fips": c[0], "country_iso3": nullIf(c[1]), "cameo_root": root,
					"root_label": "ROOT " + root, "quad_class": int64(1 + (qc-1)/5), "events": int64(1 + r.Intn(9)),
					"avg_goldstein": float64(r.Intn(200)-100) / 10, "avg_tone": r.Float64()*10 - 5})
			}
		}
	case "actor_network_daily":
		for i, a := range actors {
			for _, b := range actors[i+1:] {
				if r.Intn(3) == 0 {
					continue
				}
				rows = append(rows, row{"event_date": date, "actor1_country": a[0], "actor1_country_name": a[1], "actor2_country": b[0],
					"actor2_country_name": b[1], "events": int64(1 + r.Intn(20)), "articles": int64(r.Intn(40)),
					"avg_tone": r.Float64()*10 - 5, "avg_goldstein": float64(r.Intn(200)-100) / 10})
			}
		}
	case "top_events_daily":
		for _, c := range countries[:1+r.Intn(len(countries))] {
			for _, kind := range []string{"most_severe", "most_covered", "most_unusual"} {
				themes := []any{"PROTEST", "TAX_FNCACT_POLICE", "O'Brien theme"}[:r.Intn(4)]
				rows = append(rows, row{"event_date": date, "country_fips": c[0], "country_iso3": nullIf(c[1]), "kind": kind,
					"global_event_id": int64(1_100_000_000 + r.Intn(1_000_000)),
					"description":     fmt.Sprintf("%s protesters demonstrate against the government in %s's capital", c[2], c[2]),
					"goldstein":       float64(r.Intn(200)-100) / 10, "avg_tone": r.Float64()*10 - 5, "num_articles": int64(r.Intn(30)),
					"source_url": "https://example.com/news/" + strconv.Itoa(r.Intn(1000)), "themes": themes,
					"persons": []any{"joe biden"}, "organizations": nil})
			}
		}
	case "source_daily":
		for _, s := range []string{"bbc.co.uk", "lemonde.fr", "nytimes.com", "thehindu.com"}[:1+r.Intn(4)] {
			c, n, e := int64(r.Intn(10)), int64(r.Intn(10)), int64(r.Intn(10))
			m := c + n + e + 1
			rows = append(rows, row{"mention_date": date, "source_name": s, "mentions": m, "avg_doc_tone": r.Float64()*10 - 5,
				"rows_complete": c, "rows_no_gkg": n, "rows_expired": e, "join_rate": float64(c) / float64(m)})
		}
	}
	return rows
}

func nullIf(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// makeBatches makes n windows from start; each touches two to four days,
// some of them days before its window (late updates of older days).
func makeBatches(seed int64, start time.Time, n int) []batch {
	r := rand.New(rand.NewSource(seed))
	var out []batch
	for i := 0; i < n; i++ {
		wt := start.Add(time.Duration(i) * 15 * time.Minute)
		w, _ := strconv.ParseInt(wt.Format("20060102150405"), 10, 64)
		b := batch{window: w, days: map[string]map[string][]row{}}
		for _, t := range goldTables {
			b.days[t.name] = map[string][]row{}
			for k := 0; k < 2+r.Intn(3); k++ {
				d := wt.AddDate(0, 0, -r.Intn(9)).Format("2006-01-02")
				b.days[t.name][d] = makeDay(r, t.name, d)
			}
		}
		out = append(out, b)
	}
	return out
}

func (g gold) apply(b batch) {
	for t, days := range b.days {
		if g[t] == nil {
			g[t] = map[string][]row{}
		}
		for d, rows := range days {
			g[t][d] = rows
		}
	}
}

// messages is the batch as the gold stage emits it (the contract).
func (b batch) messages() service.MessageBatch {
	var out service.MessageBatch
	w := strconv.FormatInt(b.window, 10)
	rows := 0
	for _, t := range goldTables {
		dates := make([]string, 0, len(b.days[t.name]))
		for d := range b.days[t.name] {
			dates = append(dates, d)
		}
		sort.Strings(dates)
		for _, d := range dates {
			m := service.NewMessage(nil)
			m.MetaSetMut("gold_op", "replace_day")
			m.MetaSetMut("gold_table", t.name)
			m.MetaSetMut("gold_date", d)
			m.MetaSetMut("gold_window", w)
			out = append(out, m)
			for _, r := range b.days[t.name][d] {
				js, _ := json.Marshal(r)
				m := service.NewMessage(js)
				m.MetaSetMut("gold_op", "row")
				m.MetaSetMut("gold_table", t.name)
				m.MetaSetMut("gold_date", d)
				m.MetaSetMut("gold_window", w)
				out = append(out, m)
				rows++
			}
		}
	}
	wt, _ := time.Parse("20060102150405", w)
	js, _ := json.Marshal(map[string]any{"window": b.window, "window_time": wt.Format(time.RFC3339), "rows": rows})
	m := service.NewMessage(js)
	m.MetaSetMut("gold_op", "progress")
	m.MetaSetMut("gold_window", w)
	out = append(out, m)
	// Metadata from upstream that sql_raw would order the batch by, were it
	// kept (the gold stage reading Kafka): the mart must keep the batch's order.
	for i, m := range out {
		m.MetaSetMut("kafka_partition", strconv.Itoa((len(out)-i)%3))
	}
	return out
}

// expected returns a table's rows in the model as text cells, ordered by key.
func (g gold) expected(table string) [][]string {
	for _, t := range goldTables {
		if t.name != table {
			continue
		}
		var out [][]string
		for _, rows := range g[table] {
			for _, r := range rows {
				var cells []string
				for _, c := range t.cols {
					cells = append(cells, cell(r[c[0]]))
				}
				out = append(out, cells)
			}
		}
		var keys []int
		for _, k := range t.key {
			for i, c := range t.cols {
				if c[0] == k {
					keys = append(keys, i)
				}
			}
		}
		sortRows(out, keys)
		return out
	}
	panic(table)
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		js, _ := json.Marshal(x)
		return string(js)
	}
}

func sortRows(rows [][]string, keys []int) {
	sort.Slice(rows, func(i, j int) bool {
		for _, k := range keys {
			if rows[i][k] != rows[j][k] {
				return rows[i][k] < rows[j][k]
			}
		}
		return false
	})
}

// selectAll is the query that reads a table back in the model's column order.
func selectAll(prefix, table string) string {
	for _, t := range goldTables {
		if t.name == table {
			var cols []string
			for _, c := range t.cols {
				cols = append(cols, c[0])
			}
			return "SELECT " + strings.Join(cols, ", ") + " FROM " + prefix + table + " ORDER BY " + strings.Join(t.key, ", ")
		}
	}
	panic(table)
}

// sameCells compares rows read by a client with expected ones: numbers within
// a relative 1e-12 (clients print floats their own way), JSON by value.
func sameCells(t *testing.T, what string, got, want [][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d\ngot  %v\nwant %v", what, len(got), len(want), head(got), head(want))
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("%s row %d: %d cells, want %d: %v vs %v", what, i, len(got[i]), len(want[i]), got[i], want[i])
		}
		for j := range want[i] {
			if !sameCell(got[i][j], want[i][j]) {
				t.Fatalf("%s row %d cell %d: %q, want %q\ngot  %v\nwant %v", what, i, j, got[i][j], want[i][j], got[i], want[i])
			}
		}
	}
}

func head(rows [][]string) [][]string {
	if len(rows) > 5 {
		return rows[:5]
	}
	return rows
}

func sameCell(a, b string) bool {
	if a == b {
		return true
	}
	fa, err1 := strconv.ParseFloat(a, 64)
	fb, err2 := strconv.ParseFloat(b, 64)
	if err1 == nil && err2 == nil {
		return math.Abs(fa-fb) <= 1e-12*math.Max(1, math.Max(math.Abs(fa), math.Abs(fb)))
	}
	var ja, jb any
	if json.Unmarshal([]byte(a), &ja) == nil && json.Unmarshal([]byte(b), &jb) == nil {
		return reflect.DeepEqual(ja, jb)
	}
	return false
}

// martStream is a stream with the gdelt_mart output fed by the test; its
// MART_COMPLETE rows go to a file.
type martStream struct {
	send  service.MessageBatchHandlerFunc
	audit string
	stop  func()
}

func newMartStream(t *testing.T, driver, dsn string, maxRetries int, opts ...func(*service.StreamBuilder) error) *martStream {
	t.Helper()
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	sb := service.NewStreamBuilder()
	for _, o := range opts {
		if err := o(sb); err != nil {
			t.Fatal(err)
		}
	}
	if err := sb.SetLoggerYAML("level: " + envOr("MART_TEST_LOG", "error")); err != nil {
		t.Fatal(err)
	}
	if err := sb.AddResourcesYAML(fmt.Sprintf(`
output_resources:
  - label: audit
    file:
      path: %q
      codec: lines
`, audit)); err != nil {
		t.Fatal(err)
	}
	send, err := sb.AddBatchProducerFunc()
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.AddOutputYAML(fmt.Sprintf(`
gdelt_mart:
  driver: %s
  dsn: %q
  audit: audit
  max_retries: %d
  backoff_max_interval: 1s
`, driver, dsn, maxRetries)); err != nil {
		t.Fatal(err)
	}
	st, err := sb.Build()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	var once sync.Once
	ms := &martStream{send: send, audit: audit, stop: func() {
		once.Do(func() {
			sctx, scancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer scancel()
			if err := st.Stop(sctx); err != nil {
				t.Errorf("stopping the stream: %v", err)
			}
			cancel()
			<-done
		})
	}}
	t.Cleanup(ms.stop)
	return ms
}

func envOr(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}

func (ms *martStream) write(t *testing.T, b batch) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return ms.send(ctx, b.messages())
}

// auditRows reads the MART_COMPLETE rows written so far.
func (ms *martStream) auditRows(t *testing.T) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(ms.audit)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("audit line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// reader reads the mart with an independent client: psql or sqlite3.
type reader struct {
	prefix string
	query  func(string) [][]string
}

func pgReader(pg *postgres) reader {
	return reader{"mart.", func(q string) [][]string { return pg.psql(q) }}
}

func sqliteReader(t *testing.T, file string) reader {
	return reader{"", func(q string) [][]string { return sqlite3(t, file, q) }}
}

func (r reader) dump() map[string][][]string {
	out := map[string][][]string{}
	for _, t := range goldTables {
		out[t.name] = r.query(selectAll(r.prefix, t.name))
	}
	out["progress"] = r.query("SELECT stage, last_window FROM " + r.prefix + "progress")
	return out
}

func (r reader) assertEquals(t *testing.T, g gold, lastWindow int64) {
	t.Helper()
	for _, tb := range goldTables {
		sameCells(t, tb.name, r.query(selectAll(r.prefix, tb.name)), g.expected(tb.name))
	}
	sameCells(t, "progress", r.query("SELECT stage, last_window FROM "+r.prefix+"progress"), [][]string{{"mart", strconv.FormatInt(lastWindow, 10)}})
}

var start = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

// exercise runs the scenario both databases share: windows applied in order,
// read back and compared with the model; a replay and an older window change
// nothing; a batch with a duplicate key fails whole; the check notices a
// mart that was changed behind its back.
func exercise(t *testing.T, driver, dsn string, r reader) {
	batches := makeBatches(1, start, 6)
	ms := newMartStream(t, driver, dsn, 2)
	g := gold{}
	for _, b := range batches[:5] {
		if err := ms.write(t, b); err != nil {
			t.Fatalf("window %d: %v", b.window, err)
		}
		g.apply(b)
	}
	r.assertEquals(t, g, batches[4].window)
	audit := ms.auditRows(t)
	if len(audit) != 5 {
		t.Fatalf("%d MART_COMPLETE rows, want 5: %v", len(audit), audit)
	}
	for i, a := range audit {
		if a["status"] != "MART_COMPLETE" || a["window"] != float64(batches[i].window) || a["mart_in_sync"] != true || a["mart_checked"] != true {
			t.Fatalf("audit row %d: %v", i, a)
		}
	}

	// A replay of the newest window and of an older one change nothing.
	before := r.dump()
	for _, b := range []batch{batches[4], batches[1]} {
		if err := ms.write(t, b); err != nil {
			t.Fatalf("replay of window %d: %v", b.window, err)
		}
	}
	if after := r.dump(); !reflect.DeepEqual(before, after) {
		t.Fatalf("a replay changed the mart")
	}
	audit = ms.auditRows(t)
	if a := audit[5]; a["mart_in_sync"] != true || a["mart_checked"] != true {
		t.Fatalf("replay of the newest window: %v", a)
	}
	if a := audit[6]; a["mart_checked"] != false || a["mart_last_window"] != float64(batches[4].window) {
		t.Fatalf("replay of an older window: %v", a)
	}

	// A batch with a duplicate key fails whole: nothing of it is applied
	// (its other tables and days neither); the same batch without the
	// duplicate then goes through.
	good := batches[5]
	bad := batch{window: good.window, days: map[string]map[string][]row{}}
	for tb, days := range good.days {
		bad.days[tb] = map[string][]row{}
		for d, rows := range days {
			bad.days[tb][d] = rows
		}
	}
	dupDay := ""
	for d, rows := range good.days["source_daily"] {
		if dupDay == "" || d > dupDay {
			dupDay = d
		}
		_ = rows
	}
	bad.days["source_daily"][dupDay] = append(append([]row{}, good.days["source_daily"][dupDay]...), good.days["source_daily"][dupDay][0])
	if err := ms.write(t, bad); err == nil {
		t.Fatal("a batch with a duplicate key was accepted")
	}
	if after := r.dump(); !reflect.DeepEqual(before, after) {
		t.Fatalf("a failed batch changed the mart")
	}
	if err := ms.write(t, good); err != nil {
		t.Fatal(err)
	}
	g.apply(good)
	r.assertEquals(t, g, good.window)

	// The check compares: a mart changed behind its back disagrees with gold.
	r.query("UPDATE " + r.prefix + "country_daily SET events = events + 1 WHERE event_date = (SELECT max(event_date) FROM " + r.prefix + "country_daily)")
	tampered := batch{window: good.window, days: map[string]map[string][]row{"country_daily": {}}}
	for d, rows := range g["country_daily"] {
		tampered.days["country_daily"][d] = rows
	}
	if err := ms.write(t, tampered); err != nil {
		t.Fatal(err)
	}
	audit = ms.auditRows(t)
	last := audit[len(audit)-1]
	if last["mart_in_sync"] != false || !strings.Contains(fmt.Sprint(last["mart_mismatches"]), "sum(events)") {
		t.Fatalf("the check missed a changed mart: %v", last)
	}
}

func TestMartPostgres(t *testing.T) {
	pg := startPostgres(t)
	exercise(t, "pgx", pg.dsn(), pgReader(pg))
	// The DDL is idempotent: applying it again changes nothing and fails nothing.
	ddl, _ := resources.MartDDL("pgx")
	pg.psql(ddl)
}

func sqliteDSN(file string) string {
	return "file:" + file + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
}

func TestMartSQLite(t *testing.T) {
	file := filepath.Join(t.TempDir(), "mart.sqlite")
	// A plain DSN: the template adds the busy timeout.
	exercise(t, "sqlite", "file:"+file, sqliteReader(t, file))
	ddl, _ := resources.MartDDL("sqlite")
	sqlite3(t, file, ddl)
}

// TestMartPostgresKilled kills PostgreSQL (-9) twice while windows stream in
// and restarts it: the output retries, and the mart ends with every window
// applied once, equal to the model, in sync by the check and its metrics.
func TestMartPostgresKilled(t *testing.T) {
	pg := startPostgres(t)
	// Every committed change of the progress row is logged by a trigger (in
	// the same transaction: a rolled-back batch logs nothing), so the log
	// shows how many times each window was applied.
	ddl, _ := resources.MartDDL("pgx")
	pg.psql(ddl)
	pg.psql(`CREATE TABLE public.progress_log (last_window bigint NOT NULL);
CREATE FUNCTION public.log_progress() RETURNS trigger AS $$
BEGIN INSERT INTO public.progress_log VALUES (NEW.last_window); RETURN NEW; END $$ LANGUAGE plpgsql;
CREATE TRIGGER progress_log AFTER INSERT OR UPDATE ON mart.progress FOR EACH ROW EXECUTE FUNCTION public.log_progress();`)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux) // 127.0.0.1, a free port
	defer srv.Close()
	ms := newMartStream(t, "pgx", pg.dsn(), 0, func(sb *service.StreamBuilder) error {
		sb.SetHTTPMux(mux)
		return sb.SetMetricsYAML("prometheus: {}")
	})
	batches := makeBatches(2, start, 24)
	// The windows after a kill point carry a big day, so that their
	// transaction is long enough to be killed in its middle.
	kills := map[int]bool{6: true, 15: true}
	for i := range kills {
		b := batches[i+1]
		var rows []row
		for k := 0; k < 5000; k++ {
			rows = append(rows, row{"mention_date": "2024-02-20", "source_name": fmt.Sprintf("source-%04d.example", k), "mentions": int64(1 + k%7),
				"avg_doc_tone": float64(k%11) - 5, "rows_complete": int64(k % 2), "rows_no_gkg": int64(0), "rows_expired": int64(0), "join_rate": float64(k%2) / float64(1+k%7)})
		}
		b.days["source_daily"]["2024-02-20"] = rows
	}
	sent := make(chan int, len(batches))
	errs := make(chan error, 1)
	go func() {
		for i, b := range batches {
			if err := ms.write(t, b); err != nil {
				errs <- fmt.Errorf("window %d: %w", b.window, err)
				return
			}
			sent <- i
		}
		errs <- nil
	}()
	midTransaction := 0
	for n := 0; n < len(batches); n++ {
		select {
		case i := <-sent:
			if kills[i] {
				// Kill while the next window's transaction is open, if it
				// is seen in time (else between two transactions).
				for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
					if open := pg.psql("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND xact_start IS NOT NULL AND pid <> pg_backend_pid() AND query LIKE 'INSERT INTO mart.source_daily%'"); open[0][0] != "0" {
						midTransaction++
						break
					}
				}
				pg.kill()
				time.Sleep(1500 * time.Millisecond) // writes fail meanwhile and are retried
				pg.start()
			}
		case err := <-errs:
			t.Fatal(err)
		case <-time.After(3 * time.Minute):
			t.Fatalf("stuck after %d windows", n)
		}
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d of %d kills hit an open transaction", midTransaction, len(kills))
	g := gold{}
	for _, b := range batches {
		g.apply(b)
	}
	pgReader(pg).assertEquals(t, g, batches[len(batches)-1].window)
	var applied, want [][]string
	applied = pg.psql("SELECT last_window, count(*) FROM public.progress_log GROUP BY last_window ORDER BY last_window")
	for _, b := range batches {
		want = append(want, []string{strconv.FormatInt(b.window, 10), "1"})
	}
	sameCells(t, "windows applied (window, times)", applied, want)

	seen := map[int64]bool{}
	audit := ms.auditRows(t)
	for _, a := range audit {
		if a["mart_checked"] == true && a["mart_in_sync"] != true {
			t.Fatalf("an audit row out of sync: %v", a)
		}
		seen[int64(a["window"].(float64))] = true
	}
	for _, b := range batches {
		if !seen[b.window] {
			t.Fatalf("no MART_COMPLETE row for window %d", b.window)
		}
	}
	metrics := scrape(t, srv.URL+"/metrics")
	for name, want := range map[string]string{"gdelt_mart_in_sync": "1", "gdelt_mart_lag_windows": "0"} {
		if metrics[name] != want {
			t.Errorf("%s = %q, want %s", name, metrics[name], want)
		}
	}
	if _, ok := metrics["gdelt_mart_lag_seconds"]; !ok {
		t.Errorf("no gdelt_mart_lag_seconds")
	}
}

// scrape reads the Prometheus text exposition: series name (labels dropped)
// → value.
func scrape(t *testing.T, url string) map[string]string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	out := map[string]string{}
	for _, l := range strings.Split(b.String(), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		name := f[0]
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name = name[:i]
		}
		out[name] = f[len(f)-1]
	}
	return out
}

// TestMartViews feeds the same windows to PostgreSQL and to SQLite, and
// reads each view from both with their own clients: they agree with each
// other and with the views computed here from the model.
func TestMartViews(t *testing.T) {
	pg := startPostgres(t)
	file := filepath.Join(t.TempDir(), "mart.sqlite")
	batches := makeBatches(3, start, 8)
	// A day with 150 actor pairs: top_actor_pairs keeps 100.
	var pairs []row
	for i := 0; i < 15; i++ {
		for j := 0; j < 10; j++ {
			pairs = append(pairs, row{"event_date": "2024-02-25", "actor1_country": fmt.Sprintf("A%02d", i), "actor1_country_name": nil,
				"actor2_country": fmt.Sprintf("B%02d", j), "actor2_country_name": nil, "events": int64(1 + (i*7+j*3)%9),
				"articles": int64((i + j) % 4), "avg_tone": 1.5, "avg_goldstein": -2.0})
		}
	}
	batches[7].days["actor_network_daily"]["2024-02-25"] = pairs
	g := gold{}
	for _, b := range batches {
		g.apply(b)
	}
	readers := []reader{pgReader(pg), sqliteReader(t, file)}
	for i, ms := range []*martStream{newMartStream(t, "pgx", pg.dsn(), 2), newMartStream(t, "sqlite", sqliteDSN(file), 2)} {
		for _, b := range batches {
			if err := ms.write(t, b); err != nil {
				t.Fatalf("window %d: %v", b.window, err)
			}
		}
		readers[i].assertEquals(t, g, batches[len(batches)-1].window)
	}

	views := map[string]struct {
		query string
		want  [][]string
	}{
		"weekday_share": {"SELECT country_fips, weekday, events, share FROM %sweekday_share ORDER BY country_fips, weekday", oracleWeekdayShare(g)},
		"country_rolling_7d": {"SELECT event_date, country_fips, events_7d, days_with_events FROM %scountry_rolling_7d ORDER BY event_date, country_fips",
			oracleRolling(g)},
		"top_actor_pairs": {"SELECT event_date, rank, actor1_country, actor2_country, events FROM %stop_actor_pairs ORDER BY event_date, rank",
			oracleTopPairs(g)},
	}
	for name, v := range views {
		for _, r := range readers {
			sameCells(t, name+" ("+strings.TrimSuffix(r.prefix, ".")+")", r.query(fmt.Sprintf(v.query, r.prefix)), v.want)
		}
	}
	// The README's example queries answer on both, the same (PostgreSQL
	// with mart on the search path).
	for _, q := range readmeQueries(t) {
		lite := readers[1].query(q)
		if len(lite) == 0 {
			t.Fatalf("README query %q: no rows", q)
		}
		sameCells(t, "README query "+q, pg.psql(q, "PGOPTIONS=-c search_path=mart"), lite)
	}
	if n := len(oracleTopPairs(g)); n < 100 {
		t.Fatalf("only %d top pairs: the cut at 100 is not exercised", n)
	}
}

func days(g gold, table string) []string {
	var out []string
	for d, rows := range g[table] {
		if len(rows) > 0 {
			out = append(out, d)
		}
	}
	sort.Strings(out)
	return out
}

func oracleWeekdayShare(g gold) [][]string {
	ds := days(g, "country_daily")
	last, _ := time.Parse("2006-01-02", ds[len(ds)-1])
	type key struct {
		fips    string
		weekday int
	}
	events := map[key]int64{}
	total := map[string]int64{}
	for d, rows := range g["country_daily"] {
		day, _ := time.Parse("2006-01-02", d)
		if !day.After(last.AddDate(0, 0, -28)) {
			continue
		}
		for _, r := range rows {
			k := key{r["country_fips"].(string), int(day.Weekday())}
			events[k] += r["events"].(int64)
			total[k.fips] += r["events"].(int64)
		}
	}
	var out [][]string
	for k, e := range events {
		out = append(out, []string{k.fips, strconv.Itoa(k.weekday), strconv.FormatInt(e, 10), cell(float64(e) / float64(total[k.fips]))})
	}
	sortRows(out, []int{0, 1})
	return out
}

func oracleRolling(g gold) [][]string {
	byKey := map[[2]string]int64{}
	for d, rows := range g["country_daily"] {
		for _, r := range rows {
			byKey[[2]string{d, r["country_fips"].(string)}] = r["events"].(int64)
		}
	}
	var out [][]string
	for k := range byKey {
		day, _ := time.Parse("2006-01-02", k[0])
		var sum, n int64
		for i := 0; i < 7; i++ {
			if e, ok := byKey[[2]string{day.AddDate(0, 0, -i).Format("2006-01-02"), k[1]}]; ok {
				sum += e
				n++
			}
		}
		out = append(out, []string{k[0], k[1], strconv.FormatInt(sum, 10), strconv.FormatInt(n, 10)})
	}
	sortRows(out, []int{0, 1})
	return out
}

func oracleTopPairs(g gold) [][]string {
	var out [][]string
	for _, d := range days(g, "actor_network_daily") {
		rows := append([]row{}, g["actor_network_daily"][d]...)
		sort.Slice(rows, func(i, j int) bool {
			a, b := rows[i], rows[j]
			if a["events"].(int64) != b["events"].(int64) {
				return a["events"].(int64) > b["events"].(int64)
			}
			if a["articles"].(int64) != b["articles"].(int64) {
				return a["articles"].(int64) > b["articles"].(int64)
			}
			if a["actor1_country"] != b["actor1_country"] {
				return a["actor1_country"].(string) < b["actor1_country"].(string)
			}
			return a["actor2_country"].(string) < b["actor2_country"].(string)
		})
		for i, r := range rows {
			if i == 100 {
				break
			}
			out = append(out, []string{d, strconv.Itoa(i + 1), r["actor1_country"].(string), r["actor2_country"].(string), cell(r["events"])})
		}
	}
	return out
}

// readmeQueries are the example queries of the README's mart section.
func readmeQueries(t *testing.T) []string {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile(`sqlite3 -header -column out/mart.sqlite "([^"]*)"`).FindAllStringSubmatch(string(b), -1) {
		out = append(out, m[1])
	}
	if len(out) < 3 {
		t.Fatalf("the README has %d example queries of the mart, want 3 or more", len(out))
	}
	return out
}

// TestMartCheckUnreadable: a mart the check cannot read (here: no tables)
// gives a MART_COMPLETE row with the error after three tries, not a failed
// batch (the gold rows must not travel on to the audit output).
func TestMartCheckUnreadable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "empty.sqlite")
	sb := service.NewStreamBuilder()
	if err := sb.SetLoggerYAML("level: " + envOr("MART_TEST_LOG", "off")); err != nil {
		t.Fatal(err)
	}
	send, err := sb.AddBatchProducerFunc()
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.AddProcessorYAML(fmt.Sprintf(`
gdelt_mart_check:
  driver: sqlite
  dsn: %q
  tables:
    - name: country_daily
      date_column: event_date
      int_measures: [events]
`, "file:"+file)); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []string
	if err := sb.AddConsumerFunc(func(_ context.Context, m *service.Message) error {
		b, err := m.AsBytes()
		mu.Lock()
		got = append(got, string(b))
		mu.Unlock()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	st, err := sb.Build()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go func() { _ = st.Run(ctx) }()
	defer func() { _ = st.Stop(context.Background()) }()
	b := batch{window: 20240301001500, days: map[string]map[string][]row{"country_daily": {"2024-03-01": {{"events": int64(3)}}}}}
	if err := send(ctx, b.messages()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("%d messages out, want the one MART_COMPLETE row: %v", len(got), got)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(got[0]), &r); err != nil {
		t.Fatal(err)
	}
	if r["status"] != "MART_COMPLETE" || r["window"] != float64(b.window) || r["mart_in_sync"] != nil || r["mart_checked"] != false ||
		!strings.Contains(fmt.Sprint(r["mart_error"]), "progress") {
		t.Fatalf("row %v", r)
	}
}

// TestMartSQLiteFolderLater: the SQLite file's folder does not exist when
// the stream starts (sql_raw's init_statement fails then, once): the first
// batch waits in gdelt_mart_init, which applies the DDL once the folder is
// there, and every window lands, in sync.
func TestMartSQLiteFolderLater(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "later")
	file := filepath.Join(dir, "mart.sqlite")
	ms := newMartStream(t, "sqlite", sqliteDSN(file), 0)
	batches := makeBatches(3, start, 3)
	errs := make(chan error, 1)
	go func() { errs <- ms.write(t, batches[0]) }()
	select {
	case err := <-errs:
		t.Fatalf("the first window was written (%v) before its folder existed", err)
	case <-time.After(1500 * time.Millisecond):
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := <-errs; err != nil {
		t.Fatalf("window %d: %v", batches[0].window, err)
	}
	g := gold{}
	g.apply(batches[0])
	for _, b := range batches[1:] {
		if err := ms.write(t, b); err != nil {
			t.Fatalf("window %d: %v", b.window, err)
		}
		g.apply(b)
	}
	sqliteReader(t, file).assertEquals(t, g, batches[2].window)
	for i, a := range ms.auditRows(t) {
		if a["mart_in_sync"] != true || a["mart_checked"] != true {
			t.Errorf("audit row %d: %v", i, a)
		}
	}
}

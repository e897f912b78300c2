package gold

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"strconv"
	"testing"
	"unsafe"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/delta"
	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
	"github.com/gdeltflow/gdeltflow/plugins/join"
)

func event(id, sqlDate, window int64, fips string, goldstein, tone float64, quad int64, articles int64) map[string]any {
	return map[string]any{
		"global_event_id": id, "sql_date": sqlDate, "date_added": window, "action_geo_country_code": fips,
		"actor1_name": "POLICE", "actor1_country_code": "USA", "actor2_country_code": "GBR", "event_code": "040",
		"event_root_code": "04", "quad_class": quad, "goldstein_scale": goldstein, "avg_tone": tone,
		"num_mentions": int64(2), "num_sources": int64(1), "num_articles": articles, "source_url": "https://example.com/a",
		"action_geo_full_name": "Paris, France",
	}
}

func mention(id, window int64, status, source string, tone float64, themes string) map[string]any {
	return map[string]any{"global_event_id": id, "window": window, "join_status": status, "mention_source_name": source,
		"mention_doc_tone": tone, "gkg_themes": themes, "gkg_persons": nil, "gkg_organizations": "un;un"}
}

func getterOf(m map[string]any) Getter { return func(c string) any { return m[c] } }

func versions(g *Gold) map[string]int64 {
	v := map[string]int64{}
	for name, tb := range g.tables {
		v[name] = tb.t.Version()
	}
	return v
}

func findRow(t *testing.T, res *Result, table, date string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	for _, u := range res.Updates {
		if u.Table != table || u.Date != date {
			continue
		}
		for _, r := range u.Rows {
			if match(r) {
				return r
			}
		}
	}
	t.Fatalf("no %s row of %s matches in %+v", table, date, res.Updates)
	return nil
}

// TestApplyRecomputesWholeDays: a later window with an event of an older day
// gives that day's full totals; a replay of a window changes nothing; a
// window interrupted after its first commit is finished without doubling.
func TestApplyRecomputesWholeDays(t *testing.T) {
	ctx := context.Background()
	lake := t.TempDir()
	g, err := Open(ctx, Config{Lake: lake})
	if err != nil {
		t.Fatal(err)
	}
	const w1, w2, w3 = 20230702150000, 20230702151500, 20230702153000
	win := g.NewWindow(w1)
	win.AddEvent(getterOf(event(1, 20230702, w1, "FR", -5, -2, 4, 3)))
	win.AddEvent(getterOf(event(2, 20230702, w1, "FR", 1, 2, 1, 1)))
	win.AddMention(getterOf(mention(1, w1, "complete", "a.com", -2, "B;A;")))
	win.AddMention(getterOf(mention(1, w1, "complete", "a.com", -4, "B;C")))
	win.AddMention(getterOf(mention(2, w1, "no_gkg", "b.com", 1, "")))
	res, err := g.Apply(ctx, win)
	if err != nil {
		t.Fatal(err)
	}
	if res.Done || res.Commits != 7 {
		t.Fatalf("window 1: %+v", res)
	}
	cd := findRow(t, res, TableCountryDaily, "2023-07-02", func(r map[string]any) bool { return r["country_fips"] == "FR" })
	if cd["events"] != int64(2) || cd["avg_goldstein"] != -2.0 || cd["quad4_events"] != int64(1) || cd["country_iso3"] != "FRA" {
		t.Errorf("country_daily: %v", cd)
	}
	if want := -0.5*-2.0 - 0.3*0 + 0.2*math.Log(2); math.Abs(cd["risk_score"].(float64)-want) > 1e-12 {
		t.Errorf("risk_score %v, want %v", cd["risk_score"], want)
	}
	top := findRow(t, res, TableTopEventsDaily, "2023-07-02", func(r map[string]any) bool { return r["kind"] == KindMostSevere })
	if top["global_event_id"] != int64(1) || top["description"] != "POLICE Consult, not specified below United Kingdom in Paris, France" {
		t.Errorf("most_severe: %v", top)
	}
	if th, _ := json.Marshal(top["themes"]); string(th) != `["B","A","C"]` {
		t.Errorf("themes %s, want B (2) then A, C", th)
	}
	if org, _ := json.Marshal(top["organizations"]); string(org) != `["un"]` {
		t.Errorf("organizations %s", org)
	}
	sd := findRow(t, res, TableSourceDaily, "2023-07-02", func(r map[string]any) bool { return r["source_name"] == "a.com" })
	if sd["mentions"] != int64(2) || sd["avg_doc_tone"] != -3.0 || sd["join_rate"] != 1.0 {
		t.Errorf("source_daily: %v", sd)
	}

	// Window 2 brings an event of 2023-06-30 and one more of 2023-07-02.
	win = g.NewWindow(w2)
	win.AddEvent(getterOf(event(3, 20230630, w2, "FR", 3, 0, 2, 10)))
	win.AddEvent(getterOf(event(4, 20230702, w2, "FR", 10, 4, 1, 1)))
	res, err = g.Apply(ctx, win)
	if err != nil {
		t.Fatal(err)
	}
	cd = findRow(t, res, TableCountryDaily, "2023-07-02", func(r map[string]any) bool { return r["country_fips"] == "FR" })
	if cd["events"] != int64(3) || cd["num_articles"] != int64(5) {
		t.Errorf("2023-07-02 after window 2 is not the whole day: %v", cd)
	}
	old := findRow(t, res, TableCountryDaily, "2023-06-30", func(r map[string]any) bool { return true })
	if old["events"] != int64(1) {
		t.Errorf("2023-06-30: %v", old)
	}

	// A replay of window 2: nothing.
	before := versions(g)
	if res, err = g.Apply(ctx, g.NewWindow(w2)); err != nil || !res.Done {
		t.Fatalf("replay: %+v, %v", res, err)
	}
	// Window 3 interrupted after its events_enriched commit, then applied
	// again in a fresh process: finished, its event counted once.
	ev5 := event(5, 20230702, w3, "FR", 0, 0, 1, 1)
	e := NewEvent(getterOf(ev5), w3, g.books)
	if _, err := g.tables[TableEventsEnriched].ap.Append(ctx, []delta.Row{{Values: e.Row(), AppID: DefaultAppID, Version: w3}}); err != nil {
		t.Fatal(err)
	}
	g2, err := Open(ctx, Config{Lake: lake})
	if err != nil {
		t.Fatal(err)
	}
	if c := g2.Committed(); c != w2 {
		t.Fatalf("committed %d, want %d", c, w2)
	}
	win = g2.NewWindow(w3)
	win.AddEvent(getterOf(ev5))
	res, err = g2.Apply(ctx, win)
	if err != nil {
		t.Fatal(err)
	}
	if res.Commits != 6 {
		t.Errorf("window 3 made %d commits, want 6 (events_enriched had it)", res.Commits)
	}
	cd = findRow(t, res, TableCountryDaily, "2023-07-02", func(r map[string]any) bool { return r["country_fips"] == "FR" })
	if cd["events"] != int64(4) {
		t.Errorf("after the interrupted window: %v", cd)
	}
	for name, v := range versions(g2) {
		if v <= before[name] {
			t.Errorf("%s did not move past version %d", name, before[name])
		}
	}
}

// TestProcessorMartBatch: the processor passes the silver messages on and,
// on SILVER_COMPLETE, emits the mart batch (replace_day, rows, progress
// last); the same window again emits the same batch (replay_mart), or
// nothing with replay_mart off.
// newProc is a gdelt_gold processor of the given YAML.
func newProc(t *testing.T, yaml string) *gdeltGoldProc {
	t.Helper()
	pc, err := gdeltGoldSpec().ParseYAML(yaml, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := newGDELTGoldFromParsed(pc, service.MockResources())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// windowBatch is one window's silver output as gdelt_join emits it: a
// mention, its event, and the SILVER_COMPLETE row.
func windowBatch(w int64) service.MessageBatch {
	ws := strconv.FormatInt(w, 10)
	msg := func(table string, row map[string]any) *service.Message {
		m := service.NewMessage(nil)
		m.SetStructuredMut(row)
		m.MetaSetMut(contract.MetaSilverTable, table)
		m.MetaSetMut(contract.MetaSilverWindow, ws)
		return m
	}
	return service.MessageBatch{
		msg(join.SilverEventsDetailed, mention(1, w, "complete", "a.com", 1, "T")),
		msg(join.SilverEvents, event(1, 20230701, w, "FR", 1, 1, 1, 1)),
		msg(join.AuditWindows, map[string]any{"status": join.StatusSilverComplete, "shard": "0", "shards": int64(1)}),
	}
}

func TestProcessorMartBatch(t *testing.T) {
	p := newProc(t, "lake: "+t.TempDir())
	const w = 20230702150000
	batch := windowBatch(w)
	out, err := p.ProcessBatch(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 || len(out[0]) != 3 || len(out[2]) != 1 {
		t.Fatalf("got %d batches", len(out))
	}
	mart := out[1]
	// The window's GOLD_COMPLETE row for audit/windows, routed like silver's audit rows.
	audit := out[2][0]
	if tb, _ := audit.MetaGet(contract.MetaSilverTable); tb != join.AuditWindows {
		t.Errorf("the audit row's silver_table %q", tb)
	}
	if app, _ := audit.MetaGet(contract.MetaSilverTxnApp); app != DefaultAppID {
		t.Errorf("the audit row's silver_txn_app %q", app)
	}
	if win, _ := audit.MetaGet(contract.MetaSilverWindow); win != "20230702150000" {
		t.Errorf("the audit row's silver_window %q", win)
	}
	av, _ := audit.AsStructured()
	ar := av.(map[string]any)
	perTable := int64(0)
	for _, tb := range GoldTables() {
		perTable += ar["gold_"+tb+"_rows"].(int64)
	}
	if ar["status"] != join.StatusGoldComplete || ar["window"] != int64(w) || ar["shard"] != "gold" || ar["gold_days"] != int64(2) ||
		ar["gold_rows"] != perTable || ar["gold_country_daily_rows"] != int64(1) {
		t.Errorf("GOLD_COMPLETE row %v", ar)
	}
	last := mart[len(mart)-1]
	if op, _ := last.MetaGet(MetaOp); op != OpProgress {
		t.Fatalf("the last message is %q, want progress", op)
	}
	var prog map[string]any
	b, _ := last.AsBytes()
	if err := json.Unmarshal(b, &prog); err != nil || prog["window_time"] != "2023-07-02T15:00:00Z" || prog["window"] != float64(w) {
		t.Errorf("progress %s (%v)", b, err)
	}
	rows, days := 0, map[string]bool{}
	for _, m := range mart[:len(mart)-1] {
		op, _ := m.MetaGet(MetaOp)
		table, _ := m.MetaGet(MetaTable)
		date, _ := m.MetaGet(MetaDate)
		if win, _ := m.MetaGet(MetaWindow); win != "20230702150000" {
			t.Errorf("gold_window %q", win)
		}
		switch op {
		case OpReplaceDay:
			days[table+" "+date] = true
		case OpRow:
			if !days[table+" "+date] {
				t.Errorf("a %s row of %s before its replace_day", table, date)
			}
			rows++
		default:
			t.Errorf("op %q", op)
		}
	}
	if !days["country_daily 2023-07-01"] || !days["source_daily 2023-07-02"] || float64(rows) != prog["rows"] || int64(rows) != ar["gold_rows"] {
		t.Errorf("days %v, rows %d, progress %v, audit %v", days, rows, prog, ar)
	}
	// The window again (a replay after a restart): the same batch, read
	// from the gold tables; with replay_mart off, nothing.
	out, err = p.ProcessBatch(context.Background(), batch)
	if err != nil || len(out) != 3 {
		t.Fatalf("a replayed window: %d batches, %v", len(out), err)
	}
	if a, b := batchText(t, mart), batchText(t, out[1]); a != b {
		t.Errorf("the replayed window's mart batch differs:\n%s\n%s", a, b)
	}
	p = newProc(t, "lake: "+t.TempDir()+"\nreplay_mart: false")
	for i, want := range []int{3, 1} {
		if out, err = p.ProcessBatch(context.Background(), batch); err != nil || len(out) != want {
			t.Fatalf("replay_mart off, pass %d: %d batches, %v", i, len(out), err)
		}
	}
}

// TestProcessorDisabled: with enabled: false the batch passes through as it
// came and the lake gets no gold table.
func TestProcessorDisabled(t *testing.T) {
	lake := t.TempDir()
	p := newProc(t, "lake: "+lake+"\nenabled: false")
	m := service.NewMessage(nil)
	m.SetStructuredMut(map[string]any{"status": join.StatusSilverComplete, "shard": "0", "shards": int64(1)})
	m.MetaSetMut(contract.MetaSilverTable, join.AuditWindows)
	m.MetaSetMut(contract.MetaSilverWindow, "20230702150000")
	out, err := p.ProcessBatch(context.Background(), service.MessageBatch{m})
	if err != nil || len(out) != 1 || len(out[0]) != 1 || out[0][0] != m {
		t.Fatalf("got %d batches, %v", len(out), err)
	}
	if entries, _ := os.ReadDir(lake); len(entries) != 0 {
		t.Errorf("the lake holds %d entries, want none", len(entries))
	}
}

// batchText is a mart batch as text: each message's op, table, date and
// content, with the content's JSON keys sorted.
func batchText(t *testing.T, b service.MessageBatch) string {
	var s string
	for _, m := range b {
		op, _ := m.MetaGet(MetaOp)
		table, _ := m.MetaGet(MetaTable)
		date, _ := m.MetaGet(MetaDate)
		raw, _ := m.AsBytes()
		var v any
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Fatal(err)
			}
		}
		c, _ := json.Marshal(v)
		s += op + " " + table + " " + date + " " + string(c) + "\n"
	}
	return s
}

// TestDayCache: a day recomputed from the cache (the window's own events
// taken as written) holds the same events as one read whole by a gold opened
// afresh, its events own their strings, and a day whose files were removed
// behind gold's back is read again.
func TestDayCache(t *testing.T) {
	ctx := context.Background()
	lake := t.TempDir()
	g, err := Open(ctx, Config{Lake: lake, CacheBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	const day = "2023-07-02"
	key := dayKey{date: day}
	for i, w := range []int64{20230702150000, 20230702151500, 20230702153000} {
		win := g.NewWindow(w)
		win.AddEvent(getterOf(event(int64(10+i), 20230702, w, "FR", float64(i), 1, 1, 2)))
		win.AddEvent(getterOf(event(int64(20+i), 20230702, w, "DE", -float64(i), 2, 2, 1)))
		win.AddMention(getterOf(mention(int64(10+i), w, "complete", "a.com", -2, "B;A;")))
		win.AddMention(getterOf(mention(int64(20+i), w, "no_gkg", "b.com", 1, "")))
		if _, err := g.Apply(ctx, win); err != nil {
			t.Fatal(err)
		}
		if d := g.cache.days[key]; d == nil || len(d.events) != 2*(i+1) || len(d.files) != i+1 {
			t.Fatalf("window %d: cached day %+v, want %d events from %d files", w, d, 2*(i+1), i+1)
		}
	}
	// The cached events own their strings: the rows' (arenas) are not kept.
	for _, e := range g.cache.days[key].events {
		if e.Actor1Name != "POLICE" || unsafe.StringData(e.Actor1Name) == unsafe.StringData(event(0, 0, 0, "", 0, 0, 0, 0)["actor1_name"].(string)) {
			t.Fatalf("cached event %d: actor1_name %q shares the row's bytes", e.ID, e.Actor1Name)
		}
	}
	ids := func(evs []Event) string {
		b, _ := json.Marshal(DayRows(day, append([]Event(nil), evs...), g.books))
		return string(b)
	}
	fresh, err := Open(ctx, Config{Lake: lake})
	if err != nil {
		t.Fatal(err)
	}
	whole, err := fresh.readEvents(ctx, day)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := ids(g.cache.days[key].events), ids(whole); a != b {
		t.Fatalf("cached day:\n%s\nread whole:\n%s", a, b)
	}

	// Another writer empties the partition: the next window reads the day
	// again (its own event only), and replaces it whole in the mart.
	tb := fresh.tables[TableEventsEnriched]
	if _, err := tb.ap.ReplacePartitions(ctx, nil, []map[string]any{{tb.def.Partition: day}}, delta.Txn{AppID: "other", Version: 1}); err != nil {
		t.Fatal(err)
	}
	if err := g.tables[TableEventsEnriched].t.Update(ctx); err != nil {
		t.Fatal(err)
	}
	const w4 = 20230702154500
	win := g.NewWindow(w4)
	win.AddEvent(getterOf(event(40, 20230702, w4, "FR", 3, 1, 1, 2)))
	res, err := g.Apply(ctx, win)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(g.cache.days[key].events); n != 1 {
		t.Fatalf("%d events cached after the partition was emptied, want 1", n)
	}
	r := findRow(t, res, TableCountryDaily, day, func(r map[string]any) bool { return r["country_fips"] == "FR" })
	if r["events"] != int64(1) {
		t.Errorf("country_daily FR after the partition was emptied: %v", r)
	}
	for _, u := range res.Updates {
		if u.Date == day && u.Table != TableSourceDaily && u.Diff {
			t.Errorf("%s %s sent as a diff after the day was read again", u.Table, u.Date)
		}
	}
}

// TestProcessorSkipsAuditedReplay: after a restart, a window gold has
// committed is sent to the mart again (replay_mart) unless the audit table
// shows its GOLD_COMPLETE and MART_COMPLETE rows (their txns), which a
// restart of the offline default finds for the windows it reads again.
func TestProcessorSkipsAuditedReplay(t *testing.T) {
	ctx := context.Background()
	lake := t.TempDir()
	const w = 20230702150000
	proc := func() *gdeltGoldProc { return newProc(t, "lake: "+lake) }
	batch := func() service.MessageBatch { return windowBatch(w) }
	if out, err := proc().ProcessBatch(ctx, batch()); err != nil || len(out) != 3 {
		t.Fatalf("first pass: %d batches, %v", len(out), err)
	}
	// The audit table with the txns of the rows written so far.
	st, err := storage.Open(lake+"/audit/windows", storage.S3Config{})
	if err != nil {
		t.Fatal(err)
	}
	tb, err := delta.OpenTable(ctx, st, delta.TableConfig{})
	if err != nil {
		t.Fatal(err)
	}
	sc := schema.StructType{Fields: []schema.StructField{schema.NewField("window", schema.LongType, true)}}
	js, _ := sc.JSON()
	if err := tb.Create(ctx, delta.Metadata{SchemaString: js, PartitionColumns: []string{}}, delta.Protocol{}); err != nil {
		t.Fatal(err)
	}
	ap, err := delta.NewAppender(tb, delta.AppendConfig{Schema: sc})
	if err != nil {
		t.Fatal(err)
	}
	commit := func(app string) {
		if _, err := ap.ReplacePartitions(ctx, nil, nil, delta.Txn{AppID: app, Version: w}); err != nil {
			t.Fatal(err)
		}
	}
	// Gold's row only (the mart's transaction did not happen): sent again.
	commit("gdeltflow-gold")
	if out, err := proc().ProcessBatch(ctx, batch()); err != nil || len(out) != 3 {
		t.Fatalf("without the mart's row: %d batches, %v", len(out), err)
	}
	// Both rows: only the window's own messages pass on.
	commit("gdeltflow-mart")
	if out, err := proc().ProcessBatch(ctx, batch()); err != nil || len(out) != 1 || len(out[0]) != 3 {
		t.Fatalf("with both rows: %d batches, %v", len(out), err)
	}
}

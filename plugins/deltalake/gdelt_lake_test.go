package deltalake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/delta"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
	"github.com/gdeltflow/gdeltflow/plugins/internal/deltatest"
	"github.com/gdeltflow/gdeltflow/resources"
)

var registerGDELTLakeOnce sync.Once

// registerGDELTLake registers the real gdelt_lake template
// (resources/templates/gdelt_lake.yaml), as cmd/benthos does.
func registerGDELTLake(t *testing.T) {
	t.Helper()
	var err error
	registerGDELTLakeOnce.Do(func() {
		var ts map[string]string
		if ts, err = resources.Templates(); err == nil {
			err = service.RegisterTemplateYAML(ts["gdelt_lake.yaml"])
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestGDELTLakeRejectsOnlyRefusedRows: feed batches of several rows go
// through gdelt_decode and the gdelt_lake template to bronze/events; a third
// of the rows do not fit the table. The rejects resource receives exactly
// those rows, each once with its own refusal, and the table exactly the
// others; a replay of the same batches by a new stream adds nothing.
func TestGDELTLakeRejectsOnlyRefusedRows(t *testing.T) {
	registerGDELTLake(t)
	lines := bytes.SplitAfter(pqtExportTSV(t), []byte("\n"))[:36]
	tsv := bytes.Join(lines, nil)
	lake := t.TempDir()
	// Lines 2, 5, 8, ... carry a date that is not a number: the table refuses them.
	refused := func(line int) bool { return line%3 == 2 }
	var wantIDs, wantDead []string
	for i, l := range lines {
		id, _, _ := strings.Cut(string(l), "\t")
		if refused(i + 1) {
			wantDead = append(wantDead, strconv.Itoa(i+1))
		} else {
			wantIDs = append(wantIDs, id)
		}
	}
	sort.Strings(wantIDs)
	sort.Strings(wantDead)

	run := func() []string {
		t.Helper()
		dead := filepath.Join(t.TempDir(), "dead.jsonl")
		sb := service.NewStreamBuilder()
		if err := sb.SetLoggerYAML("level: warn"); err != nil {
			t.Fatal(err)
		}
		if err := sb.AddProcessorYAML("gdelt_decode: { form: map }"); err != nil {
			t.Fatal(err)
		}
		if err := sb.AddProcessorYAML(`mapping: 'root = if @gdelt_line.number() % 3 == 2 { this.merge({"sql_date": "not a number"}) } else { this }'`); err != nil {
			t.Fatal(err)
		}
		if err := sb.AddOutputYAML(fmt.Sprintf(`
gdelt_lake:
  lake: %s
  bronze: gdelt_feed
  rejects: dead
  batch_period: 20ms
`, lake)); err != nil {
			t.Fatal(err)
		}
		if err := sb.AddResourcesYAML(fmt.Sprintf(`
output_resources:
  - label: dead
    file: { path: %s, codec: lines }
    processors:
      - mapping: 'root = {"line": @gdelt_line, "error": @fallback_error}'
`, dead)); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// Four feed batches of 9 rows, each with 3 refused rows: a commit each
		// (versions 1 to 4; version 0 creates the table).
		produceThrough(ctx, t, sb, feedBatches("export", tsv, 9))
		b, err := os.ReadFile(dead)
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var d struct{ Line, Error string }
			if err := json.Unmarshal([]byte(l), &d); err != nil {
				t.Fatalf("dead letter %q: %v", l, err)
			}
			if !strings.HasPrefix(d.Error, RejectedPrefix) || !strings.Contains(d.Error, "sql_date") {
				t.Errorf("line %s rejected with %q, want its sql_date refused", d.Line, d.Error)
			}
			got = append(got, d.Line)
		}
		sort.Strings(got)
		return got
	}
	check := func(what string, wantVersion int64, wantDead []string) {
		t.Helper()
		if got := run(); fmt.Sprint(got) != fmt.Sprint(wantDead) {
			t.Fatalf("%s: %d rejects, lines %v; want the %d refused, lines %v", what, len(got), got, len(wantDead), wantDead)
		}
		table := filepath.Join(lake, "bronze", "events")
		s, err := delta.Load(context.Background(), deltatest.Local(t, table))
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := s.NumRecords(); n != int64(len(wantIDs)) || s.Version != wantVersion {
			t.Fatalf("%s: version %d with %d rows, want version %d with %d", what, s.Version, n, wantVersion, len(wantIDs))
		}
		deltatest.RequireDuck(t)
		res := deltatest.Duck(t, "SELECT string_agg(global_event_id::VARCHAR, ' ' ORDER BY global_event_id::VARCHAR) AS ids FROM read_parquet("+
			deltatest.Quote(filepath.Join(table, "window_date=*", "*.parquet"))+")")
		if got := res[0]["ids"]; got != strings.Join(wantIDs, " ") {
			t.Fatalf("%s: DuckDB reads ids %v, want %v", what, got, strings.Join(wantIDs, " "))
		}
	}
	check("first run", 4, wantDead)
	// Exactly once: a new stream given the same batches skips them all. The
	// refused rows are below the txn versions too: dead-lettered by the first
	// run, they are not again (the appender remembers refusals only within a
	// process).
	check("replay", 4, nil)
}

// TestGDELTLakeRoutesEveryKind: two generated windows go through
// gdelt_decode and gdelt_join (pass_through, as in local.yaml), and what they
// emit, with two rows of no table, through the gdelt_lake template (silver
// and bronze) to real tables in a temporary folder. Each table holds exactly
// the rows whose metadata names it (counted from the messages themselves,
// not from the router), markers are dropped, and the rejects file holds the
// failed row (stage decode) and the rows of no table (stage table, reason
// unknown_table, with an error: the default case's processors ran).
func TestGDELTLakeRoutesEveryKind(t *testing.T) {
	registerGDELTLake(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// The feed's batches: per window its three files, then its marker.
	var feed []service.MessageBatch
	var windows []string
	cfg := gdeltgen.Config{Seed: 11, Start: time.Date(2023, 7, 2, 15, 0, 0, 0, time.UTC), Windows: 2,
		Events: 60, Mentions: 150, GKG: 40, GKGRowBytes: 1000}
	marker := func(kind, window string) service.MessageBatch {
		m := service.NewMessage(nil)
		m.MetaSetMut(contract.MetaMarker, kind)
		m.MetaSetMut(contract.MetaStream, "english")
		if window != "" {
			m.MetaSetMut(contract.MetaWindow, window)
		}
		return service.MessageBatch{m}
	}
	if err := gdeltgen.Generate(cfg, func(w gdeltgen.Window) error {
		id := gdeltgen.WindowID(w.Time)
		windows = append(windows, id)
		for _, f := range []struct {
			table string
			tsv   []byte
		}{{"export", w.Export}, {"mentions", w.Mentions}, {"gkg", w.GKG}} {
			var b service.MessageBatch
			lines := bytes.Split(bytes.TrimSuffix(f.tsv, []byte("\n")), []byte("\n"))
			if f.table == "mentions" && len(windows) == 1 {
				lines = append(lines, []byte("1\t2\t3")) // decode refuses it: field_count
			}
			for i, l := range lines {
				m := service.NewMessage(append([]byte(nil), l...))
				for k, v := range map[string]string{contract.MetaTable: f.table, contract.MetaWindow: id, contract.MetaStream: "english",
					contract.MetaFile: id + "." + f.table + ".CSV.zip", contract.MetaLine: strconv.Itoa(i + 1)} {
					m.MetaSetMut(k, v)
				}
				b = append(b, m)
			}
			feed = append(feed, b)
		}
		feed = append(feed, marker(contract.MarkerWindowEnd, id))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	feed = append(feed, marker(contract.MarkerEnd, ""))

	// Stage one: decode and join, as local.yaml's pipeline.
	var mu sync.Mutex
	var emitted []service.MessageBatch
	{
		sb := service.NewStreamBuilder()
		if err := sb.SetLoggerYAML("level: warn"); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"gdelt_decode: { form: row }", "gdelt_join: { pass_through: true }"} {
			if err := sb.AddProcessorYAML(p); err != nil {
				t.Fatal(err)
			}
		}
		if err := sb.AddBatchConsumerFunc(func(_ context.Context, b service.MessageBatch) error {
			mu.Lock()
			emitted = append(emitted, b)
			mu.Unlock()
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		produceThrough(ctx, t, sb, feed)
	}

	// Two rows of no table, and what each table should hold: the spec of
	// gdelt_lake's routing, restated on the messages' metadata.
	unknown := service.NewMessage([]byte(`{"x":1}`))
	unknown.MetaSetMut(contract.MetaTable, "bogus")
	emitted = append(emitted, service.MessageBatch{unknown, service.NewMessage([]byte(`{"y":2}`))})
	// gdelt_gold's mart batch (gold_op): to the mart output, even one that
	// also carries a table's metadata.
	var martBatch service.MessageBatch
	for i, op := range []string{"upsert", "delete", "progress", "upsert"} {
		m := service.NewMessage([]byte(fmt.Sprintf(`{"mart":%d}`, i)))
		m.MetaSetMut("gold_op", op)
		if op == "progress" {
			m.MetaSetMut(contract.MetaSilverTable, "audit_windows")
		}
		if i == 3 {
			m.MetaSetMut(contract.MetaTable, "mentions")
		}
		martBatch = append(martBatch, m)
	}
	emitted = append(emitted, martBatch)
	// A marker as ingest puts it in every partition on the Kafka path: with
	// its table. Dropped, not written as a mentions row.
	kafkaMarker := marker(contract.MarkerWindowEnd, windows[0])
	kafkaMarker[0].MetaSetMut(contract.MetaTable, "mentions")
	emitted = append(emitted, kafkaMarker)
	want := map[string]int64{}
	var markers, failed, noTable, mart int
	for _, b := range emitted {
		for _, m := range b {
			table, isFeed := m.MetaGet(contract.MetaTable)
			silver, isSilver := m.MetaGet(contract.MetaSilverTable)
			_, isMarker := m.MetaGet(contract.MetaMarker)
			_, isMart := m.MetaGet("gold_op")
			switch {
			case isMart:
				mart++
			case isMarker:
				markers++
			case m.GetError() != nil:
				failed++
			case isFeed && (table == "export" || table == "mentions" || table == "gkg"):
				want[map[string]string{"export": "bronze/events", "mentions": "bronze/mentions", "gkg": "bronze/gkg"}[table]]++
			case isSilver && (silver == "events_detailed" || silver == "events" || silver == "audit_windows"):
				want[map[string]string{"events_detailed": "silver/events_detailed", "events": "silver/events", "audit_windows": "audit/windows"}[silver]]++
			default:
				noTable++
			}
		}
	}
	if len(want) != 6 || markers != 4 || failed != 1 || noTable != 2 || mart != 4 {
		t.Fatalf("stage one emitted rows for %d tables %v, %d markers, %d failed, %d of no table, %d for the mart: want all 6 tables, 4, 1, 2, 4", len(want), want, markers, failed, noTable, mart)
	}

	t.Logf("rows per table: %v; %d markers, %d failed, %d of no table", want, markers, failed, noTable)

	// Stage two: the template writes them.
	lake := t.TempDir()
	dead := filepath.Join(t.TempDir(), "rejects.jsonl")
	martFile := filepath.Join(t.TempDir(), "mart.jsonl")
	{
		sb := service.NewStreamBuilder()
		if err := sb.SetLoggerYAML("level: warn"); err != nil {
			t.Fatal(err)
		}
		if err := sb.AddOutputYAML(fmt.Sprintf(`
gdelt_lake:
  lake: %s
  bronze: gdelt_feed
  silver: true
  rejects: dead
  batch_period: 20ms
  mart:
    file: { path: %s, codec: lines }
`, lake, martFile)); err != nil {
			t.Fatal(err)
		}
		if err := sb.AddResourcesYAML(fmt.Sprintf(`
output_resources:
  - label: dead
    file: { path: %s, codec: lines }
    processors:
      - gdelt_reject: {}
`, dead)); err != nil {
			t.Fatal(err)
		}
		produceThrough(ctx, t, sb, emitted)
	}

	for table, n := range want {
		s, err := delta.Load(ctx, deltatest.Local(t, filepath.Join(lake, table)))
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		if got, _ := s.NumRecords(); got != n {
			t.Errorf("%s holds %d rows, want %d", table, got, n)
		}
	}
	b, err := os.ReadFile(dead)
	if err != nil {
		t.Fatal(err)
	}
	var stages []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r struct{ Stage, Reason, Error, Table string }
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("reject %q: %v", l, err)
		}
		stages = append(stages, r.Stage+"/"+r.Reason)
		if r.Reason == "unknown_table" && !strings.Contains(r.Error, "no table for this row") {
			t.Errorf("the unknown-table reject's error is %q", r.Error)
		}
	}
	sort.Strings(stages)
	if got := strings.Join(stages, " "); got != "decode/field_count table/unknown_table table/unknown_table" {
		t.Errorf("rejects %s; want the failed row and the two rows of no table", got)
	}
	if b, err := os.ReadFile(martFile); err != nil || string(b) != "{\"mart\":0}\n{\"mart\":1}\n{\"mart\":2}\n{\"mart\":3}\n" {
		t.Errorf("the mart output got %q (%v); want the four gold_op messages", b, err)
	}
}

// produceThrough builds sb with a producer, runs it, produces batches one after
// the other (each acknowledged before the next) and stops it.
func produceThrough(ctx context.Context, t *testing.T, sb *service.StreamBuilder, batches []service.MessageBatch) {
	t.Helper()
	produce, err := sb.AddBatchProducerFunc()
	if err != nil {
		t.Fatal(err)
	}
	st, err := sb.Build()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	for _, b := range batches {
		if err := produce(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	<-done
}

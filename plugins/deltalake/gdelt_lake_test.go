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
		produce, err := sb.AddBatchProducerFunc()
		if err != nil {
			t.Fatal(err)
		}
		st, err := sb.Build()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- st.Run(ctx) }()
		// Four feed batches of 9 rows, each with 3 refused rows: a commit each
		// (versions 1 to 4; version 0 creates the table).
		for _, b := range feedBatches("export", tsv, 9) {
			if err := produce(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		<-done
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

package deploy

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
)

const root = ".."

// MartTables are the mart's tables (schema mart: one per gold table, and progress).
var MartTables = []string{"country_daily", "country_daily_category", "actor_network_daily", "top_events_daily", "source_daily", "progress"}

func knownNames(t *testing.T) (map[string]bool, map[string]string) {
	t.Helper()
	code, err := CodeMetrics(root)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := LoadRules(root)
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for n := range code {
		known[n] = true
	}
	for _, n := range EngineMetrics {
		known[n] = true
	}
	for _, r := range rules {
		if r.Record != "" {
			known[r.Record] = true
		}
	}
	return known, code
}

// metricNames parses a PromQL expression and returns the metric names it selects.
func metricNames(t *testing.T, where, expr string) []string {
	t.Helper()
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		t.Errorf("%s: %q does not parse: %v", where, expr, err)
		return nil
	}
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			names = append(names, vs.Name)
		}
		return nil
	})
	return names
}

func TestCodeMetricsAreFound(t *testing.T) {
	code, err := CodeMetrics(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"gdelt_join_rows", "gdelt_decode_rows", "gdelt_gold_window", "gdelt_mart_in_sync", "gdelt_mart_lag_windows", "gdelt_feed_file_errors", "delta_lake_commit_latency_sum", "gdelt_rejects_recorded", "gdelt_kafka_route_dead_letters", "gdelt_lookup_misses"} {
		if code[n] == "" {
			t.Errorf("CodeMetrics misses %s (found %d names)", n, len(code))
		}
	}
	if code["gdelt_join_window_join_rate"] != "gauge" || code["gdelt_join_rows"] != "counter" {
		t.Errorf("kinds: %q %q", code["gdelt_join_window_join_rate"], code["gdelt_join_rows"])
	}
}

func TestRulesUseEmittedNames(t *testing.T) {
	known, _ := knownNames(t)
	rules, err := LoadRules(root)
	if err != nil {
		t.Fatal(err)
	}
	alerts := 0
	for _, r := range rules {
		where := r.File + " " + r.Record + r.Alert
		for _, n := range metricNames(t, where, r.Expr) {
			if !known[n] {
				t.Errorf("%s uses %s, which no plugin, engine or recording rule emits", where, n)
			}
		}
		if r.Alert != "" {
			alerts++
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("%s: severity %q", where, s)
			}
			if r.Annotations["summary"] == "" || !strings.Contains(r.Annotations["description"], "Check first") {
				t.Errorf("%s: needs a summary and a description saying what to check first", where)
			}
		}
	}
	if alerts < 9 {
		t.Errorf("%d alerts, want the 9 of issue 13", alerts)
	}
}

func TestDashboards(t *testing.T) {
	known, _ := knownNames(t)
	ds, err := LoadDashboards(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 3 {
		t.Fatalf("%d dashboards, want data trust, throughput, global events", len(ds))
	}
	sources, err := ProvisionedDatasources(root)
	if err != nil {
		t.Fatal(err)
	}
	if sources["prometheus"] != TypePrometheus || sources["gdeltflow-mart"] != TypePostgres {
		t.Fatalf("provisioned datasources: %v", sources)
	}
	panelTypes := map[string]bool{"stat": true, "table": true, "timeseries": true, "geomap": true, "bargauge": true}
	mart := map[string]bool{}
	for _, m := range MartTables {
		mart[m] = true
	}
	reMart := regexp.MustCompile(`\bmart\.([a-z_]+)`)
	uids := map[string]bool{}
	for name, d := range ds {
		if d.UID == "" || uids[d.UID] || d.Title == "" || d.SchemaVersion < 36 || len(d.Panels) == 0 {
			t.Errorf("%s: uid %q (unique), title %q, schemaVersion %d, %d panels", name, d.UID, d.Title, d.SchemaVersion, len(d.Panels))
		}
		uids[d.UID] = true
		ids := map[int]bool{}
		for _, p := range d.Panels {
			where := name + ": " + p.Title
			if ids[p.ID] || p.Title == "" || p.Description == "" || !panelTypes[p.Type] {
				t.Errorf("%s: id %d (unique), type %q, description required", where, p.ID, p.Type)
			}
			ids[p.ID] = true
			if g := p.GridPos; g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 || g.Y < 0 {
				t.Errorf("%s: gridPos %+v off the 24-column grid", where, g)
			}
			if typ, ok := sources[p.Datasource.UID]; !ok || typ != p.Datasource.Type {
				t.Errorf("%s: datasource %+v is not provisioned", where, p.Datasource)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: no query", where)
			}
			refs := map[string]bool{}
			for _, q := range p.Targets {
				if refs[q.RefID] || q.RefID == "" || q.Datasource != p.Datasource {
					t.Errorf("%s %s: refId unique, datasource the panel's", where, q.RefID)
				}
				refs[q.RefID] = true
				switch p.Datasource.Type {
				case TypePrometheus:
					if q.Expr == "" || q.RawSQL != "" {
						t.Errorf("%s %s: a Prometheus target has expr only", where, q.RefID)
					}
					for _, n := range metricNames(t, where, q.Expr) {
						if !known[n] {
							t.Errorf("%s %s: %s is emitted by no plugin, engine or recording rule", where, q.RefID, n)
						}
					}
				case TypePostgres:
					if q.RawSQL == "" || q.Expr != "" || (q.Format != "table" && q.Format != "time_series") {
						t.Errorf("%s %s: a SQL target has rawSql and format table|time_series", where, q.RefID)
					}
					for _, m := range reMart.FindAllStringSubmatch(q.RawSQL, -1) {
						if !mart[m[1]] {
							t.Errorf("%s %s: mart.%s is not a mart table", where, q.RefID, m[1])
						}
					}
					if strings.Contains(q.RawSQL, "$__") {
						t.Errorf("%s %s: Grafana macros would not run on the mart as is", where, q.RefID)
					}
				}
			}
		}
	}
}

func TestPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (apt-get install prometheus)")
	}
	dir := filepath.Join("prometheus")
	configs, _ := filepath.Glob(filepath.Join(dir, "prometheus*.yml"))
	if len(configs) < 2 {
		t.Fatalf("Prometheus configs: %v", configs)
	}
	rules, _ := filepath.Glob(filepath.Join(dir, "rules", "*.yml"))
	runs := [][]string{{"test", "rules", "tests/alerts_test.yml"}, {"check", "rules"}}
	for _, r := range rules {
		runs[1] = append(runs[1], filepath.Join("rules", filepath.Base(r)))
	}
	for _, c := range configs {
		runs = append(runs, []string{"check", "config", "--syntax-only", filepath.Base(c)})
	}
	for _, args := range runs {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if amtool, err := exec.LookPath("amtool"); err == nil {
		if out, err := exec.Command(amtool, "check-config", "alertmanager/alertmanager.yml").CombinedOutput(); err != nil {
			t.Errorf("amtool check-config: %v\n%s", err, out)
		}
	}
}

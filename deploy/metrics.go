package deploy

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// EngineMetrics are the names the engine and its exporter emit, not our
// plugins: Benthos' component metrics, Connect's redpanda input lag, the
// Prometheus exporter's process and Go metrics (add_process_metrics,
// add_go_metrics in every pipeline), and Prometheus' own up.
var EngineMetrics = []string{
	"up",
	"input_received", "input_latency_ns", "input_connection_up", "input_connection_lost", "input_connection_failed",
	"output_sent", "output_batch_sent", "output_error", "output_latency_ns", "output_rejected",
	"output_connection_up", "output_connection_lost", "output_connection_failed",
	"processor_received", "processor_sent", "processor_error", "processor_batch_received", "processor_batch_sent", "processor_latency_ns",
	"redpanda_lag",
	"process_resident_memory_bytes", "process_cpu_seconds_total", "process_start_time_seconds", "process_open_fds",
	"go_memstats_heap_inuse_bytes", "go_memstats_heap_alloc_bytes", "go_gc_duration_seconds", "go_gc_duration_seconds_count",
	"go_gc_gomemlimit_bytes", "go_gc_gogc_percent", "go_goroutines",
}

var (
	reNewLiteral = regexp.MustCompile(`New(?:Counter|Gauge|Timer)\("([a-z0-9_]+)"`)
	reNewIdent   = regexp.MustCompile(`New(?:Counter|Gauge|Timer)\(([A-Za-z_][A-Za-z0-9_]*)[,)]`)
	reConst      = regexp.MustCompile(`(?m)^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:string\s*)?=\s*"([a-z0-9_]+)"`)
)

// CodeMetrics reads the metric names the plugins register (NewCounter,
// NewGauge, NewTimer with a literal, or a constant of the same package) from
// plugins/**/*.go, tests excluded. A timer also exposes <name>_sum and <name>_count.
func CodeMetrics(root string) (map[string]string, error) {
	out := map[string]string{} // name -> kind
	byDir := map[string][]string{}
	err := filepath.WalkDir(filepath.Join(root, "plugins"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		byDir[filepath.Dir(p)] = append(byDir[filepath.Dir(p)], string(b))
		return nil
	})
	if err != nil {
		return nil, err
	}
	add := func(call, name string) {
		kind := "counter"
		switch {
		case strings.Contains(call, "NewGauge"):
			kind = "gauge"
		case strings.Contains(call, "NewTimer"):
			kind = "timer"
			out[name+"_sum"], out[name+"_count"] = kind, kind
		}
		out[name] = kind
	}
	for _, srcs := range byDir {
		consts := map[string]string{}
		for _, s := range srcs {
			for _, m := range reConst.FindAllStringSubmatch(s, -1) {
				consts[m[1]] = m[2]
			}
		}
		for _, s := range srcs {
			for _, m := range reNewLiteral.FindAllStringSubmatch(s, -1) {
				add(m[0], m[1])
			}
			for _, m := range reNewIdent.FindAllStringSubmatch(s, -1) {
				if v, ok := consts[m[1]]; ok {
					add(m[0], v)
				}
			}
		}
	}
	return out, nil
}

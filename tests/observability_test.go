package tests

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/deploy"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
	"github.com/prometheus/prometheus/promql/parser"
)

// TestObservabilityOnRealPrometheus runs the embedded default (pipelines/local.yaml)
// following a mirror whose windows are published while it runs, scraped by a real
// Prometheus with deploy/prometheus's rules and alerting to a real Alertmanager
// with deploy/alertmanager's routing. It asserts through Prometheus' HTTP API that
// every Prometheus query of every dashboard and every recording rule returns data
// (those with no data that read Kafka's consumer lag, absent from this
// process, are listed and left out), that gdeltflow:health is 1, and that two faults reach the
// webhook receiver: a file with a wrong md5 (GdeltflowFeedFileErrors) and the
// pipeline stopped (GdeltflowPipelineDown, then resolved after a restart).
//
// The copies of the configs differ from deploy/ only in addresses, in 1 s scrape
// and evaluation intervals, in `for: 5s` and in Alertmanager's 1 s grouping.
func TestObservabilityOnRealPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus, Alertmanager and the pipeline")
	}
	promBin, err1 := exec.LookPath("prometheus")
	amBin, err2 := exec.LookPath("prometheus-alertmanager")
	if err2 != nil {
		amBin, err2 = exec.LookPath("alertmanager")
	}
	if err1 != nil || err2 != nil {
		t.Skip("prometheus / prometheus-alertmanager not installed (apt-get install prometheus prometheus-alertmanager)")
	}
	root := repoRoot(t)
	bin := benthosBin(t)
	tmp := t.TempDir()
	began := time.Now()
	deadline := began.Add(4 * time.Minute)
	defer func() { t.Logf("%v after the binary was built", time.Since(began).Round(time.Second)) }()

	// The mirror: 29 small windows, the 28th the current quarter hour; the first 23
	// are there from the start (a follow run rereads the join's retention + 2
	// windows before its checkpoint: SILVER_RETENTION=16 keeps that inside the
	// mirror), the next 5 are published while the pipeline follows, the last one
	// (15 minutes ahead, within the feed's future slack) with a wrong md5.
	const backfilled, live = 23, 5
	now := time.Now().UTC().Truncate(gdeltgen.WindowDuration)
	first := now.Add(-(backfilled + live - 1) * gdeltgen.WindowDuration)
	staging := filepath.Join(tmp, "staging")
	m, err := gdeltgen.NewMirror(staging, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := gdeltgen.Generate(gdeltgen.Small(first, backfilled+live+1, 7), m.AddWindow); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 0; i < backfilled+live+1; i++ {
		ids = append(ids, gdeltgen.WindowID(first.Add(time.Duration(i)*gdeltgen.WindowDuration)))
	}
	mirror := filepath.Join(tmp, "mirror")
	publish := func(upTo int, corruptGKG string) {
		t.Helper()
		publishWindows(t, staging, mirror, ids[upTo], corruptGKG)
	}
	publish(backfilled-1, "")

	out := filepath.Join(tmp, "out")
	ports := freePorts(t, 3)
	pipeAddr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	promAddr := fmt.Sprintf("127.0.0.1:%d", ports[1])
	amAddr := fmt.Sprintf("127.0.0.1:%d", ports[2])
	env := []string{"GDELT_BASE_URL=" + mirror, "GDELT_OUT=" + out, "HTTP_ENABLED=true", "HTTP_ADDRESS=" + pipeAddr,
		"GDELT_POLL_INTERVAL=1s", "SILVER_RETENTION=16"}

	// A backfill of the first windows, then a follow run that stays up.
	runLocal(t, env...)
	pipe := startProcess(t, filepath.Join(tmp, "pipeline-1.log"), root, append(env, "GDELT_MODE=follow"), bin, "-c", "pipelines/local.yaml")

	// The webhook receiver.
	hook := newWebhook()
	srv := httptest.NewServer(hook)
	t.Cleanup(srv.Close)

	// Alertmanager and Prometheus with copies of deploy/'s configs.
	amConf := readRewrite(t, filepath.Join(root, "deploy/alertmanager/alertmanager.yml"),
		"http://127.0.0.1:9094", srv.URL, "group_wait: 30s", "group_wait: 1s", "group_wait: 10s", "group_wait: 1s",
		"group_interval: 5m", "group_interval: 1s")
	writeFile(t, filepath.Join(tmp, "alertmanager.yml"), amConf)
	startProcess(t, filepath.Join(tmp, "alertmanager.log"), tmp, nil, amBin,
		"--config.file="+filepath.Join(tmp, "alertmanager.yml"), "--storage.path="+filepath.Join(tmp, "am-data"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=")
	rules := filepath.Join(tmp, "rules")
	files, _ := filepath.Glob(filepath.Join(root, "deploy/prometheus/rules/*.yml"))
	if len(files) < 2 {
		t.Fatalf("rules: %v", files)
	}
	reFor := regexp.MustCompile(`(?m)^(\s+for:) \S+$`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(rules, filepath.Base(f)), reFor.ReplaceAllString(string(b), "$1 5s"))
	}
	promConf := readRewrite(t, filepath.Join(root, "deploy/prometheus/prometheus-local.yml"),
		"127.0.0.1:4195", pipeAddr, "127.0.0.1:9093", amAddr, "scrape_interval: 15s", "scrape_interval: 1s",
		"evaluation_interval: 15s", "evaluation_interval: 1s", "rules/*.yml", filepath.Join(rules, "*.yml"))
	writeFile(t, filepath.Join(tmp, "prometheus.yml"), promConf)
	startProcess(t, filepath.Join(tmp, "prometheus.log"), tmp, nil, promBin,
		"--config.file="+filepath.Join(tmp, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(tmp, "prom-data"),
		"--web.listen-address="+promAddr)
	prom := &promAPI{t: t, base: "http://" + promAddr}

	// Publish the next windows while the pipeline follows.
	waitFor(t, deadline, "the pipeline scraped", func() bool { return prom.value(`up{job="local"}`) == 1 })
	waitFor(t, deadline, "/ready of the pipeline to answer 200", func() bool {
		resp, err := http.Get("http://" + pipeAddr + "/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	last := backfilled + live - 1
	for i := backfilled; i <= last; i++ {
		publish(i, "")
		win, _ := gdeltgen.ParseWindowID(ids[i])
		waitFor(t, deadline, "window "+ids[i]+" read", func() bool {
			return prom.value(`gdelt_feed_checkpoint_window{job="local"}`) >= float64(win.Unix())
		})
	}
	silverLast, _ := gdeltgen.ParseWindowID(ids[last-1])
	waitFor(t, deadline, "silver emitted "+ids[last-1], func() bool {
		return prom.value(`gdelt_join_emitted_window{job="local"}`) >= float64(silverLast.Unix())
	})
	time.Sleep(3 * time.Second) // a few evaluations of the rules after the last window

	// Every dashboard query (Prometheus) and every recording rule returns data.
	absent := map[string]bool{"redpanda_lag": true} // the embedded default reads no Kafka; its mart (SQLite) is checked
	needsAbsent := func(expr string) string {
		e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		var hit string
		parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok && absent[vs.Name] {
				hit = vs.Name
			}
			return nil
		})
		return hit
	}
	rs, err := deploy.LoadRules(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs { // a recording rule that reads an absent name may have nothing either
		if r.Record != "" && needsAbsent(r.Expr) != "" {
			absent[r.Record] = true
		}
	}
	dashboards, err := deploy.LoadDashboards(root)
	if err != nil {
		t.Fatal(err)
	}
	checked, skipped := 0, []string{}
	for _, q := range deploy.Queries(dashboards) {
		if q.Datasource.Type != deploy.TypePrometheus {
			continue
		}
		if res := prom.query(q.Expr); len(res) > 0 {
			checked++
		} else if n := needsAbsent(q.Expr); n != "" {
			skipped = append(skipped, fmt.Sprintf("%s / %s (%s)", q.Dashboard, q.Panel, n))
		} else {
			t.Errorf("%s / %s %s: no data for %s", q.Dashboard, q.Panel, q.RefID, q.Expr)
		}
	}
	for _, r := range rs {
		if r.Record == "" {
			continue
		}
		if res := prom.query(r.Record); len(res) > 0 {
			checked++
		} else if n := needsAbsent(r.Expr); n != "" {
			skipped = append(skipped, fmt.Sprintf("rule %s (%s)", r.Record, n))
		} else {
			t.Errorf("recording rule %s: no data", r.Record)
		}
	}
	t.Logf("%d queries returned data; left out (Kafka lag): %s", checked, strings.Join(skipped, "; "))
	if h := prom.value("gdeltflow:health"); h != 1 {
		t.Errorf("gdeltflow:health = %v, want 1; checks: %v", h, prom.query("gdeltflow:health_check"))
	}
	jr := prom.value(`gdeltflow:join_rate:1h{job="local"}`)
	t.Logf("join rate over the run: %.3f; per window: %.3f", jr, prom.value(`gdeltflow:join_rate:window{job="local"}`))

	// Fault 1: a GKG file whose listed md5 is wrong (no file error before it).
	if v := prom.value("sum(gdeltflow:feed_file_errors:increase1h) or vector(0)"); v != 0 {
		t.Errorf("%v feed file errors before the fault", v)
	}
	publish(last+1, ids[last+1])
	t.Logf("%v: queries checked", time.Since(began).Round(time.Second))
	hook.waitAlert(t, deadline, "GdeltflowFeedFileErrors", "firing", "/warning")

	// Fault 2: the pipeline stops; it fires, then resolves once it runs again.
	pipe.stop()
	hook.waitAlert(t, deadline, "GdeltflowPipelineDown", "firing", "/critical")
	if h := prom.value("gdeltflow:health"); h != 0 {
		t.Errorf("gdeltflow:health = %v with the pipeline down, want 0", h)
	}
	startProcess(t, filepath.Join(tmp, "pipeline-2.log"), root, append(env, "GDELT_MODE=follow"), bin, "-c", "pipelines/local.yaml")
	hook.waitAlert(t, deadline, "GdeltflowPipelineDown", "resolved", "/critical")
}

// publishWindows copies the staging mirror's files of windows up to last into
// mirror and writes its lists (the master list up to last, lastupdate.txt with
// last's files) atomically; corruptGKG's GKG line gets a wrong md5.
func publishWindows(t *testing.T, staging, mirror, last, corruptGKG string) {
	t.Helper()
	if err := os.MkdirAll(mirror, 0o755); err != nil {
		t.Fatal(err)
	}
	master, err := os.ReadFile(filepath.Join(staging, "masterfilelist.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var list, latest []string
	for _, line := range strings.Split(strings.TrimSpace(string(master)), "\n") {
		f := strings.Fields(line)
		name := f[2][strings.LastIndexByte(f[2], '/')+1:]
		if name[:14] > last {
			continue
		}
		b, err := os.ReadFile(filepath.Join(staging, name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(mirror, name), string(b))
		if name[:14] == corruptGKG && strings.Contains(name, ".gkg.") {
			line = f[0] + " 0123456789abcdef0123456789abcdef " + f[2]
		}
		list = append(list, line)
		if name[:14] == last {
			latest = append(latest, line)
		}
	}
	writeFile(t, filepath.Join(mirror, "masterfilelist.txt"), strings.Join(list, "\n")+"\n")
	writeFile(t, filepath.Join(mirror, "lastupdate.txt"), strings.Join(latest, "\n")+"\n")
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func readRewrite(t *testing.T, path string, oldNew ...string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i < len(oldNew); i += 2 {
		if !strings.Contains(s, oldNew[i]) {
			t.Fatalf("%s has no %q to rewrite", path, oldNew[i])
		}
		s = strings.ReplaceAll(s, oldNew[i], oldNew[i+1])
	}
	return s
}

// process is a server the test started; stop ends it (SIGTERM, then SIGKILL).
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
	once sync.Once
}

func startProcess(t *testing.T, logPath, dir string, env []string, bin string, args ...string) *process {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); logf.Close(); close(p.done) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			t.Logf("%s (tail):\n%s", filepath.Base(logPath), b)
		}
	})
	return p
}

func (p *process) stop() {
	p.once.Do(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
	})
}

func waitFor(t *testing.T, deadline time.Time, what string, ok func() bool) {
	t.Helper()
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

type promAPI struct {
	t    *testing.T
	base string
}

type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// query runs an instant query; a connection error (Prometheus starting) is no data.
func (p *promAPI) query(q string) []promSample {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/api/v1/query?query="+url.QueryEscape(q), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string       `json:"resultType"`
			Result     []promSample `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" {
		p.t.Errorf("query %s: %v %s", q, err, r.Error)
		return nil
	}
	return r.Data.Result
}

// value is the first sample's value, or -1 when there is none.
func (p *promAPI) value(q string) float64 {
	res := p.query(q)
	if len(res) == 0 {
		return -1
	}
	var v float64
	fmt.Sscan(fmt.Sprint(res[0].Value[1]), &v)
	return v
}

// webhook records Alertmanager's notifications: path, status, alert names.
type webhook struct {
	mu   sync.Mutex
	seen []string // "path status alertname"
}

func newWebhook() *webhook { return &webhook{} }

func (w *webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	var msg struct {
		Alerts []struct {
			Status string            `json:"status"`
			Labels map[string]string `json:"labels"`
		} `json:"alerts"`
	}
	b, _ := io.ReadAll(bufio.NewReader(r.Body))
	if err := json.Unmarshal(b, &msg); err == nil {
		w.mu.Lock()
		for _, a := range msg.Alerts {
			w.seen = append(w.seen, r.URL.Path+" "+a.Status+" "+a.Labels["alertname"])
		}
		w.mu.Unlock()
	}
	rw.WriteHeader(http.StatusOK)
}

func (w *webhook) waitAlert(t *testing.T, deadline time.Time, name, status, path string) {
	t.Helper()
	want := path + " " + status + " " + name
	waitFor(t, deadline, want+" at the webhook", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, s := range w.seen {
			if s == want {
				return true
			}
		}
		return false
	})
	t.Logf("webhook got %s", want)
}

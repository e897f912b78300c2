package tests

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gdeltflow/gdeltflow/plugins/join"
	"github.com/gdeltflow/gdeltflow/tests/miniotest"
)

// The stack rehearsal (issue 14): deploy/stack.yml, loaded with compose-go,
// run on loopback. Every service of the gdeltflow image (discovered by its
// image, so a stage added to the stack is run too) runs as the command the
// stack gives it (its entrypoint, or the image's, and its command; the
// /usr/local/bin tools built from cmd/), with the stack's environment, one
// process per task slot ({{.Task.Slot}} = 1..replicas), its configs copied
// from the repository files the stack names to temporary files, its secrets
// written to temporary files, and its volumes as temporary folders; the
// container paths in its environment and arguments are rewritten to those.
// Besides paths, only values that name a host are rewritten: a stack service
// name with a port (kafka-1:9092, http://minio:9000, postgres:5432) becomes
// the loopback server standing in for it (cmd/kafka-dev's three kfake
// brokers, MinIO, PostgreSQL only if a stage names it), and a listen address
// 0.0.0.0:<port> becomes 127.0.0.1 on a free port per task (two replicas on
// one host). The secrets' values are the loopback servers' credentials,
// matched through the stack: MinIO's root user is the secret its
// MINIO_ROOT_USER_FILE names, and so on.
//
// One override, the feed: the stack's ingest follows the live GDELT feed
// (GDELT_MODE=follow and the pipeline's default base URL), which never ends
// and is not loopback. The rehearsal runs it in backfill mode over a
// generated mirror (GDELT_MODE=backfill, GDELT_BASE_URL=<mirror>), so that it
// ends and its end markers close the last windows in silver.
//
// Order: Swarm starts everything at once and the stages retry until their
// servers answer; here the servers start first, then the one-shot jobs
// (topics, bucket) run to completion, then every stage task starts at once.
// The stages' health checks are run as the stack states them (the probe of
// /ready, its port mapped) until they pass (not the feed's: its backfill may
// end first). At the end every stage task must
// stop by SIGTERM within its stop grace period (Swarm's default 10 s) and
// exit 0; bronze is checked by DuckDB against the mirror and silver by
// DuckDB against the SQL join (the Kafka tests' compare functions), every
// window SILVER_COMPLETE from both shards; gold by DuckDB against the gold SQL
// over that silver (tests/duckdb/gold_oracle.mjs), the mart, read with psql
// from the loopback PostgreSQL, against gold row for row, and every window
// with one GOLD_COMPLETE and one MART_COMPLETE row, the mart in sync.
//
// The mart's DSN is a secret (a stage's *_DSN_FILE names it): its value is
// the DSN of the loopback PostgreSQL with the user and database the stack's
// postgres service creates (POSTGRES_USER, POSTGRES_DB) and its password
// secret, as deploy/README.md tells the operator to write it.
func TestStackRehearsal(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole stack on loopback")
	}
	requireDuckDB(t)
	r := loadRehearsal(t)
	roles := r.roles()
	for _, want := range []string{"ingest.yaml", "bronze.yaml", "silver.yaml", "gold.yaml"} {
		if len(roles[want]) != 1 {
			t.Fatalf("the stack runs %s in services %v, want exactly one service", want, roles[want])
		}
	}
	ingestSvc, bronzeSvc, silverSvc, goldSvc := roles["ingest.yaml"][0], roles["bronze.yaml"][0], roles["silver.yaml"][0], roles["gold.yaml"][0]
	if _, err := exec.LookPath("psql"); err != nil {
		t.Skip("gold's mart is read with psql, which is not installed")
	}
	if n := r.replicas(bronzeSvc); n != 2 {
		t.Fatalf("bronze: %d replicas with BRONZE_REPLICAS=2", n)
	}
	if n := r.replicas(silverSvc); n != 2 {
		t.Fatalf("silver: %d replicas with SILVER_SHARDS=2", n)
	}

	// The servers the gdeltflow services name, on loopback.
	names := r.namedHosts()
	t.Logf("hosts the gdeltflow services name: %v", names)
	var srv *miniotest.Server
	var mart *martPG
	for _, h := range names {
		s := r.p.Services[h]
		switch {
		case strings.HasPrefix(s.Image, "apache/kafka:"):
			if r.kafka == nil {
				r.kafka = startKafkaDevSpec(t, "") // no topics: the stack's topics job creates them
			}
		case strings.HasPrefix(s.Image, "minio/minio:"):
			if slices.Contains(s.Command, "--address") {
				t.Fatalf("%s: the stack sets MinIO's --address; map its port here", h)
			}
			srv = miniotest.Start(t)
			r.hosts[h+":9000"] = srv.Endpoint // MinIO's default API port
			r.secrets[r.secretOf(s, "MINIO_ROOT_USER_FILE")] = srv.AccessKey
			r.secrets[r.secretOf(s, "MINIO_ROOT_PASSWORD_FILE")] = srv.SecretKey
		case strings.HasPrefix(s.Image, "postgres:"):
			password := randomToken()
			r.hosts[h+":5432"] = startPostgres(t, r.env(s, "POSTGRES_USER"), r.env(s, "POSTGRES_DB"), password)
			r.secrets[r.secretOf(s, "POSTGRES_PASSWORD_FILE")] = password
			mart = &martPG{addr: r.hosts[h+":5432"], user: r.env(s, "POSTGRES_USER"), password: password, db: r.env(s, "POSTGRES_DB")}
			for _, sec := range r.dsnSecrets() {
				r.secrets[sec] = mart.dsn()
			}
		default:
			t.Fatalf("a gdeltflow service names %s (image %s): the rehearsal has no loopback stand-in for it", h, s.Image)
		}
	}
	if r.kafka != nil {
		r.mapKafka()
	}
	if srv == nil || r.kafka == nil || mart == nil {
		t.Fatalf("the stages name no MinIO, no Kafka or no PostgreSQL: hosts %v", names)
	}

	mirror, windows := genMirror(t, 6, 61)
	want := mirrorCounts(t, mirror)
	r.feedOverride = map[string]string{"GDELT_MODE": "backfill", "GDELT_BASE_URL": mirror}
	start := time.Now()

	// The one-shot jobs, to completion.
	for _, name := range r.ours {
		if isStackJob(r.p.Services[name]) {
			for _, task := range r.tasks(name) {
				task.start()
				task.p.Wait(2 * time.Minute)
				t.Logf("job %s: %s", task.p.name, strings.TrimSpace(tail(task.p.log.String(), 300)))
			}
		}
	}

	// Every stage task at once.
	var running []*stackTask
	var feed []*stackTask
	for _, name := range r.ours {
		if isStackJob(r.p.Services[name]) {
			continue
		}
		for _, task := range r.tasks(name) {
			task.start()
			if task.feed {
				t.Logf("%s: the stack's follow mode never ends; run as a backfill of the mirror (%v)", task.p.name, r.feedOverride)
				feed = append(feed, task)
			} else {
				running = append(running, task)
			}
		}
	}
	pipes := func() []*pipeline {
		var out []*pipeline
		for _, task := range append(slices.Clip(running), feed...) {
			out = append(out, task.p)
		}
		return out
	}
	healthy := time.Now().Add(90 * time.Second) // the stack's start_period is 60 s
	for _, task := range running {
		task.waitHealthy(healthy)
	}
	t.Logf("%d stage tasks healthy after %s", len(running), time.Since(start).Round(time.Millisecond))
	for _, task := range feed {
		task.p.Wait(2 * time.Minute) // the backfill ends by itself, exit 0
	}
	t.Logf("the feed's backfill (%d windows) ended after %s", len(windows), time.Since(start).Round(time.Millisecond))

	bucket := r.env(r.p.Services[bronzeSvc], "S3_BUCKET")
	waitRows(t, srv, bucket, want, 2*time.Minute, pipes()...)
	t.Logf("bronze holds the mirror's %v rows after %s", want, time.Since(start).Round(time.Millisecond))
	members := r.waitBronzeMembers(bronzeSvc, 45*time.Second)
	t.Logf("bronze's consumer group, partitions per static member: %v", members)

	var apps []string
	shards := r.replicas(silverSvc)
	for i := 0; i < shards; i++ {
		apps = append(apps, fmt.Sprintf("silver-%d-of-%d", i, shards))
	}
	last := windows[len(windows)-1]
	waitSilver(t, srv, bucket, apps, last, 2*time.Minute, pipes()...)
	t.Logf("silver: every shard (%v) committed window %s after %s", apps, last, time.Since(start).Round(time.Millisecond))
	waitGoldAndMart(t, srv, bucket, last, 3*time.Minute, pipes()...)
	t.Logf("%s: gold and the mart committed window %s after %s", goldSvc, last, time.Since(start).Round(time.Millisecond))
	for _, task := range running {
		if task.exited() {
			t.Errorf("%s exited while the stack ran: %v\n%s", task.p.name, task.p.err, tail(task.p.log.String(), 3000))
		}
	}
	for _, task := range running {
		task.stop()
	}

	checkBronzeExact(t, srv, bucket, mirror)
	got := checkSilverExact(t, srv, bucket, mirror, last)
	// audit_mismatch counts a window whose SILVER_COMPLETE rows are not one
	// per shard (shards_reported <> shards): with it at 0, every window is
	// complete from both shards.
	if got.AuditWindows != int64(len(windows)) || got.AuditMismatch != 0 {
		t.Errorf("audit/windows: %d windows SILVER_COMPLETE (mismatches %d), want all %d from each of %d shards",
			got.AuditWindows, got.AuditMismatch, len(windows), shards)
	}
	lake := downloadPrefixes(t, srv, bucket, "silver/", "gold/", "audit/")
	compareGold(t, lake)
	martRows := compareMartWith(t, lake, func(table string) []map[string]any { return mart.rows(t, "SELECT * FROM mart."+table) })
	if w := mart.lastWindow(t); strconv.FormatInt(w, 10) != last {
		t.Errorf("mart.progress: last window %d, want %s", w, last)
	}
	checkStackLifecycle(t, lake, windows, shards)
	for _, name := range r.ours {
		if role := r.pipelineOf(name); role != "" && !slices.Contains([]string{"ingest.yaml", "bronze.yaml", "silver.yaml", "gold.yaml"}, role) {
			t.Logf("note: stage %s (%s) ran healthy and stopped cleanly; this test holds no oracle for its output yet", name, role)
		}
	}
	if t.Failed() {
		for _, task := range append(running, feed...) {
			t.Logf("--- %s:\n%s", task.p.name, tail(task.p.log.String(), 3000))
		}
	}
	t.Logf("the stack on loopback: %d windows → %s → bronze %v → silver %d rows (complete %d, no_gkg %d, expired %d), %d events, %d windows audited → gold and the mart %v, in %s",
		len(windows), ingestSvc, want, got.DetailedRows, got.ByStatus["complete"], got.ByStatus["no_gkg"], got.ByStatus["expired"],
		got.EventsRows, got.AuditWindows, martRows, time.Since(start).Round(time.Millisecond))
}

// rehearsal is deploy/stack.yml as loaded, and what stands in for Swarm.
type rehearsal struct {
	t            *testing.T
	p            *types.Project
	root, tmp    string
	work         string            // the image's WORKDIR: its pipelines/ and resources/
	entrypoint   []string          // the image's ENTRYPOINT (deploy/Dockerfile)
	bins         map[string]string // a path in the image (/usr/local/bin/x) → the binary built from cmd/x
	ours         []string          // the services of the gdeltflow image, sorted
	hosts        map[string]string // "service:port" → "127.0.0.1:port"
	secrets      map[string]string // secret name → value
	kafka        *kafkaDev
	ports        map[int]bool      // the ports given to tasks so far
	feedOverride map[string]string // the environment that turns the live feed into a backfill of the mirror
}

// The image the stack's gdeltflow services run, as loaded here.
const rehearsalImage = "rehearsal/gdeltflow:rehearsal"

// loadRehearsal loads the stack as deploy.sh would deploy it (two bronze
// replicas, two silver shards), finds the gdeltflow services and builds the
// image's tools they run.
func loadRehearsal(t *testing.T) *rehearsal {
	t.Helper()
	root := repoRoot(t)
	stack := filepath.Join(root, "deploy", "stack.yml")
	b, err := os.ReadFile(stack)
	if err != nil {
		t.Fatal(err)
	}
	img := strings.SplitN(rehearsalImage, ":", 2)
	env := []string{"GDELTFLOW_IMAGE=" + img[0], "GDELTFLOW_VERSION=" + img[1], "BRONZE_REPLICAS=2", "SILVER_SHARDS=2"}
	// The config names' content hashes (deploy.sh computes them) only name the configs.
	for _, m := range regexp.MustCompile(`\$\{(CFG_[A-Z0-9_]+):\?`).FindAllStringSubmatch(string(b), -1) {
		env = append(env, m[1]+"=rehearsal")
	}
	opts, err := cli.NewProjectOptions([]string{stack}, cli.WithWorkingDirectory(filepath.Dir(stack)),
		cli.WithName("gdeltflow"), cli.WithEnv(env))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("compose-go loading %s: %v", stack, err)
	}
	r := &rehearsal{t: t, p: p, root: root, tmp: t.TempDir(), bins: map[string]string{},
		hosts: map[string]string{}, secrets: map[string]string{}, ports: map[int]bool{}}
	for name, s := range p.Services {
		if s.Image == rehearsalImage {
			r.ours = append(r.ours, name)
		}
	}
	slices.Sort(r.ours)
	if len(r.ours) == 0 {
		t.Fatalf("no service of the image %s in the stack", rehearsalImage)
	}
	r.entrypoint = dockerfileEntrypoint(t, filepath.Join(root, "deploy", "Dockerfile"))

	// The image's WORKDIR holds its pipelines and resources (deploy/Dockerfile).
	r.work = filepath.Join(r.tmp, "workdir")
	for _, dir := range []string{"pipelines", "resources"} {
		if err := os.MkdirAll(r.work, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(root, dir), filepath.Join(r.work, dir)); err != nil {
			t.Fatal(err)
		}
	}

	// The tools the services run, built from cmd/ in one go build.
	tools := map[string]bool{}
	for _, name := range r.ours {
		s := p.Services[name]
		tools[r.argv(s)[0]] = true
		if hc := s.HealthCheck; hc != nil && len(hc.Test) > 1 && hc.Test[0] == "CMD" {
			tools[hc.Test[1]] = true
		}
	}
	binDir := filepath.Join(r.tmp, "bin")
	args := []string{"build", "-o", binDir + "/"}
	for path := range tools {
		if filepath.Dir(path) != "/usr/local/bin" {
			t.Fatalf("a gdeltflow service runs %s: the image's tools are in /usr/local/bin", path)
		}
		pkg := "./cmd/" + filepath.Base(path)
		if _, err := os.Stat(filepath.Join(root, pkg)); err != nil {
			t.Fatalf("a gdeltflow service runs %s, which no cmd/ folder builds", path)
		}
		args = append(args, pkg)
		r.bins[path] = filepath.Join(binDir, filepath.Base(path))
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return r
}

// dockerfileEntrypoint is the exec-form ENTRYPOINT of the final stage.
func dockerfileEntrypoint(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ep []string
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "ENTRYPOINT "); ok {
			ep = nil
			if err := json.Unmarshal([]byte(rest), &ep); err != nil {
				t.Fatalf("%s: ENTRYPOINT %s: %v", path, rest, err)
			}
		}
	}
	if len(ep) == 0 {
		t.Fatalf("%s: no exec-form ENTRYPOINT", path)
	}
	return ep
}

// argv is what a service's container runs: its entrypoint (or the image's)
// and its command.
func (r *rehearsal) argv(s types.ServiceConfig) []string {
	ep := []string(s.Entrypoint)
	if len(ep) == 0 {
		ep = r.entrypoint
	}
	return append(slices.Clone(ep), s.Command...)
}

func (r *rehearsal) env(s types.ServiceConfig, k string) string {
	if v, ok := s.Environment[k]; ok && v != nil {
		return *v
	}
	return ""
}

func isStackJob(s types.ServiceConfig) bool {
	return s.Deploy != nil && strings.HasSuffix(s.Deploy.Mode, "-job")
}

func (r *rehearsal) replicas(name string) int {
	s := r.p.Services[name]
	if s.Deploy != nil && s.Deploy.Replicas != nil && !strings.HasPrefix(s.Deploy.Mode, "global") {
		return *s.Deploy.Replicas
	}
	return 1 // global: one node here
}

// pipelineOf is the repository file behind a service's -c config ("" when
// it runs no pipeline).
func (r *rehearsal) pipelineOf(name string) string {
	s := r.p.Services[name]
	argv := r.argv(s)
	for i, a := range argv[:len(argv)-1] {
		if a == "-c" {
			for _, c := range s.Configs {
				if c.Target == argv[i+1] {
					return filepath.Base(r.p.Configs[c.Source].File)
				}
			}
		}
	}
	return ""
}

// roles maps each pipeline file to the services running it.
func (r *rehearsal) roles() map[string][]string {
	out := map[string][]string{}
	for _, name := range r.ours {
		if f := r.pipelineOf(name); f != "" {
			out[f] = append(out[f], name)
		}
	}
	return out
}

// hostRef matches "<name>:<port>" where name is another service of the stack.
func (r *rehearsal) hostRef() *regexp.Regexp {
	var names []string
	for name := range r.p.Services {
		if !slices.Contains(r.ours, name) {
			names = append(names, regexp.QuoteMeta(name))
		}
	}
	slices.SortFunc(names, func(a, b string) int { return len(b) - len(a) })
	return regexp.MustCompile(`\b(` + strings.Join(names, "|") + `):(\d+)\b`)
}

// namedHosts lists the server services whose names the gdeltflow services'
// environments and commands use as hosts, and PostgreSQL when a service
// reads a DSN secret.
func (r *rehearsal) namedHosts() []string {
	re := r.hostRef()
	seen := map[string]bool{}
	for _, name := range r.ours {
		s := r.p.Services[name]
		vals := r.argv(s)
		for _, v := range s.Environment {
			if v != nil {
				vals = append(vals, *v)
			}
		}
		for _, v := range vals {
			for _, m := range re.FindAllStringSubmatch(v, -1) {
				seen[m[1]] = true
			}
		}
	}
	if len(r.dsnSecrets()) > 0 {
		for name, s := range r.p.Services {
			if strings.HasPrefix(s.Image, "postgres:") {
				seen[name] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// dsnSecrets are the secrets the gdeltflow services read a database DSN
// from: those their *_DSN_FILE variables name.
func (r *rehearsal) dsnSecrets() []string {
	seen := map[string]bool{}
	for _, name := range r.ours {
		s := r.p.Services[name]
		for k := range s.Environment {
			if strings.HasSuffix(k, "_DSN_FILE") {
				seen[r.secretOf(s, k)] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// waitGoldAndMart polls audit/windows until gold's and the mart's txns
// (appIds gdeltflow-gold and gdeltflow-mart: their GOLD_COMPLETE and
// MART_COMPLETE rows) reach the window.
func waitGoldAndMart(t *testing.T, srv *miniotest.Server, bucket, through string, timeout time.Duration, running ...*pipeline) {
	t.Helper()
	w, err := strconv.ParseInt(through, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for deadline := time.Now().Add(timeout); ; {
		if snap, err := s3Snapshot(t, srv, bucket, "audit/windows"); err == nil {
			for _, app := range []string{"gold", "mart"} {
				got[app] = snap.Txns["gdeltflow-"+app].Version
			}
		}
		if got["gold"] >= w && got["mart"] >= w {
			return
		}
		if time.Now().After(deadline) {
			var logs string
			for _, p := range running {
				logs += "\n--- " + p.name + "\n" + tail(p.log.String(), 3000)
			}
			t.Fatalf("audit/windows txns after %s: %v, want gold and mart at %s%s", timeout, got, through, logs)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// checkStackLifecycle: every window has one SILVER_COMPLETE row per shard,
// one GOLD_COMPLETE and one MART_COMPLETE row, the mart checked and in sync,
// having applied at most the rows gold wrote (for a day gold holds in its
// cache the mart gets only the rows that changed).
func checkStackLifecycle(t *testing.T, lake string, windows []string, shards int) {
	t.Helper()
	type life struct{ silver, gold, mart int }
	byWindow := map[string]*life{}
	rows := map[string]map[string]int64{}
	for _, r := range auditRows(t, lake, "") {
		w := fmt.Sprint(r["window"])
		if byWindow[w] == nil {
			byWindow[w], rows[w] = &life{}, map[string]int64{}
		}
		switch r["status"] {
		case join.StatusSilverComplete:
			byWindow[w].silver++
		case join.StatusGoldComplete:
			byWindow[w].gold++
			rows[w]["gold"] = asInt(r["gold_rows"])
		case join.StatusMartComplete:
			byWindow[w].mart++
			rows[w]["mart"] = asInt(r["mart_rows"])
			if !martCheckOK(r) {
				t.Errorf("window %s: MART_COMPLETE row %v", w, r)
			}
			if w == windows[len(windows)-1] && r["mart_checked"] != true {
				t.Errorf("window %s, the last: MART_COMPLETE row %v; want the mart compared with gold", w, r)
			}
		}
	}
	for _, w := range windows {
		l := byWindow[w]
		if l == nil || l.silver != shards || l.gold != 1 || l.mart != 1 || rows[w]["gold"] <= 0 || rows[w]["mart"] <= 0 || rows[w]["mart"] > rows[w]["gold"] {
			t.Errorf("window %s: lifecycle %+v, rows %v; want %d SILVER_COMPLETE, one GOLD_COMPLETE and one MART_COMPLETE with at most gold's rows",
				w, l, rows[w], shards)
		}
	}
}

// asInt reads a count as the audit reader gives it (a number of any width,
// or its text); -1 when it is none.
func asInt(v any) int64 {
	n, err := strconv.ParseFloat(fmt.Sprint(v), 64)
	if err != nil {
		return -1
	}
	return int64(n)
}

// mapKafka maps the stack's brokers, by the listener each advertises, onto
// kafka-dev's three, in order.
func (r *rehearsal) mapKafka() {
	var kafkas []string
	for name, s := range r.p.Services {
		if strings.HasPrefix(s.Image, "apache/kafka:") {
			kafkas = append(kafkas, name)
		}
	}
	slices.Sort(kafkas)
	brokers := strings.Split(r.kafka.Brokers, ",")
	for i, name := range kafkas {
		adv := r.env(r.p.Services[name], "KAFKA_ADVERTISED_LISTENERS")
		m := regexp.MustCompile(`PLAINTEXT://([^,]+)`).FindStringSubmatch(adv)
		if m == nil {
			r.t.Fatalf("%s advertises no PLAINTEXT listener: %q", name, adv)
		}
		r.hosts[m[1]] = brokers[i%len(brokers)]
	}
}

// secretOf is the secret a server's *_FILE variable reads.
func (r *rehearsal) secretOf(s types.ServiceConfig, fileVar string) string {
	path := r.env(s, fileVar)
	for _, sec := range s.Secrets {
		if secretTarget(sec) == path {
			return sec.Source
		}
	}
	r.t.Fatalf("%s: %s=%q is no secret it mounts", s.Name, fileVar, path)
	return ""
}

func secretTarget(sec types.ServiceSecretConfig) string {
	target := sec.Target
	if target == "" {
		target = sec.Source
	}
	if !strings.HasPrefix(target, "/") {
		target = "/run/secrets/" + target
	}
	return target
}

// stackTask is one task of a service: its process, as the stack defines it.
type stackTask struct {
	r      *rehearsal
	svc    string
	slot   int
	argv   []string
	env    []string
	dir    string
	health []string // the health check's command, rewritten; nil without one
	grace  time.Duration
	feed   bool // the feed, turned into a backfill of the mirror
	p      *pipeline
}

// tasks prepares a service's tasks, slots 1..replicas.
func (r *rehearsal) tasks(name string) []*stackTask {
	var out []*stackTask
	for slot := 1; slot <= r.replicas(name); slot++ {
		out = append(out, r.task(name, slot))
	}
	return out
}

func (r *rehearsal) task(name string, slot int) *stackTask {
	t := r.t
	s := r.p.Services[name]
	dir := filepath.Join(r.tmp, fmt.Sprintf("%s.%d", name, slot))
	task := &stackTask{r: r, svc: name, slot: slot, dir: dir, grace: 10 * time.Second}
	if s.StopGracePeriod != nil {
		task.grace = time.Duration(*s.StopGracePeriod)
	}

	// The container's files: configs, secrets, volumes.
	mounts := map[string]string{}
	put := func(kind, source, target string, content []byte, mode os.FileMode) {
		host := filepath.Join(dir, kind, source)
		if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(host, content, mode); err != nil {
			t.Fatal(err)
		}
		mounts[target] = host
	}
	for _, c := range s.Configs {
		target := c.Target
		if target == "" {
			target = "/" + c.Source
		}
		b, err := os.ReadFile(r.p.Configs[c.Source].File)
		if err != nil {
			t.Fatalf("%s: config %s: %v", name, c.Source, err)
		}
		put("configs", c.Source, target, b, 0o440)
	}
	for _, sec := range s.Secrets {
		v, ok := r.secrets[sec.Source]
		if !ok {
			t.Fatalf("%s mounts secret %s, which no loopback server gives a value", name, sec.Source)
		}
		put("secrets", sec.Source, secretTarget(sec), []byte(v), 0o400)
	}
	for _, v := range s.Volumes {
		if v.Type != types.VolumeTypeVolume {
			t.Fatalf("%s: %s mount %s: only named volumes are rehearsed (a bind mount ties a service to one node's files)", name, v.Type, v.Target)
		}
		host := filepath.Join(dir, "volumes", v.Source)
		if err := os.MkdirAll(host, 0o755); err != nil {
			t.Fatal(err)
		}
		mounts[v.Target] = host
	}
	targets := slices.Sorted(maps.Keys(mounts))
	slices.SortFunc(targets, func(a, b string) int { return len(b) - len(a) })
	path := func(v string) string {
		for _, target := range targets {
			if v == target || strings.HasPrefix(v, target+"/") {
				return mounts[target] + v[len(target):]
			}
		}
		return v
	}

	// Hosts: the stack's servers → loopback; listen addresses → free ports.
	re := r.hostRef()
	host := func(v string) string {
		return re.ReplaceAllStringFunc(v, func(ref string) string {
			lo, ok := r.hosts[ref]
			if !ok {
				t.Fatalf("%s: %q names %s, which no loopback server stands in for", name, v, ref)
			}
			return lo
		})
	}
	ports := map[string]string{} // container port → loopback address
	listen := regexp.MustCompile(`^0\.0\.0\.0:(\d+)$`)

	task.env = []string{"PATH=" + filepath.Join(r.tmp, "bin"), "HOME=" + dir, "HOSTNAME=" + fmt.Sprintf("%s.%d", name, slot)}
	env := map[string]string{}
	for k, v := range s.Environment {
		if v == nil {
			continue
		}
		val := strings.ReplaceAll(*v, "{{.Task.Slot}}", strconv.Itoa(slot))
		if strings.Contains(val, "{{") {
			t.Fatalf("%s: %s=%s: a Swarm template the rehearsal does not stand in for", name, k, val)
		}
		if m := listen.FindStringSubmatch(val); m != nil {
			ports[m[1]] = fmt.Sprintf("127.0.0.1:%d", r.freePort())
			val = ports[m[1]]
		}
		env[k] = path(host(val))
	}
	if env["GDELT_MODE"] == "follow" {
		task.feed = true
		for k, v := range r.feedOverride {
			env[k] = v
		}
	}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		task.env = append(task.env, k+"="+env[k])
	}
	for i, a := range r.argv(s) {
		if i == 0 {
			a = r.bins[a]
		}
		task.argv = append(task.argv, path(host(a)))
	}
	if hc := s.HealthCheck; hc != nil && !hc.Disable && len(hc.Test) > 1 && hc.Test[0] == "CMD" {
		task.health = []string{r.bins[hc.Test[1]]}
		loop := regexp.MustCompile(`127\.0\.0\.1:(\d+)`)
		for _, a := range hc.Test[2:] {
			task.health = append(task.health, loop.ReplaceAllStringFunc(a, func(addr string) string {
				lo, ok := ports[strings.TrimPrefix(addr, "127.0.0.1:")]
				if !ok {
					t.Fatalf("%s: the health check probes %s, which the service does not listen on", name, addr)
				}
				return lo
			}))
		}
	}
	return task
}

// freePort is a free port not given to another task yet (a port just
// closed can be handed out again).
func (r *rehearsal) freePort() int {
	for {
		if p := freePorts(r.t, 1)[0]; !r.ports[p] {
			r.ports[p] = true
			return p
		}
	}
}

func (task *stackTask) start() {
	t := task.r.t
	name := fmt.Sprintf("%s.%d", task.svc, task.slot)
	p := &pipeline{t: t, name: name, log: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(task.argv[0], task.argv[1:]...)
	p.cmd.Dir = task.r.work
	p.cmd.Env = task.env
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.Kill)
	task.p = p
}

func (task *stackTask) exited() bool {
	select {
	case <-task.p.exited:
		return true
	default:
		return false
	}
}

// waitHealthy runs the service's health check until it passes, by deadline.
func (task *stackTask) waitHealthy(deadline time.Time) {
	t := task.r.t
	if task.health == nil {
		t.Logf("%s has no health check", task.p.name)
		return
	}
	for {
		out, err := exec.Command(task.health[0], task.health[1:]...).CombinedOutput()
		if err == nil {
			return
		}
		if task.exited() {
			t.Fatalf("%s exited before its health check passed: %v\n%s", task.p.name, task.p.err, tail(task.p.log.String(), 3000))
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: health check %v still failing: %s\n%s", task.p.name, task.health, out, tail(task.p.log.String(), 3000))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// stop is Swarm's: SIGTERM, then SIGKILL after the stop grace period; a
// task must be gone within it, with exit status 0.
func (task *stackTask) stop() {
	t := task.r.t
	if task.exited() {
		return
	}
	_ = task.p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-task.p.exited:
		if task.p.err != nil {
			t.Errorf("%s: SIGTERM ended it with %v\n%s", task.p.name, task.p.err, tail(task.p.log.String(), 2000))
		}
	case <-time.After(task.grace):
		t.Errorf("%s did not stop within its stop grace period %s (Swarm would SIGKILL it)", task.p.name, task.grace)
		task.p.Kill()
	}
}

// waitBronzeMembers waits until every bronze task holds partitions of the
// group, under its static instance id, and returns partitions per id.
func (r *rehearsal) waitBronzeMembers(svc string, timeout time.Duration) map[string]int {
	t := r.t
	group := r.env(r.p.Services[svc], "BRONZE_GROUP")
	if group == "" {
		b, err := os.ReadFile(filepath.Join(r.root, "pipelines", r.pipelineOf(svc)))
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`\$\{BRONZE_GROUP:([^}]+)\}`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("%s: no BRONZE_GROUP default", r.pipelineOf(svc))
		}
		group = string(m[1])
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(r.kafka.Brokers, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	n := r.replicas(svc)
	var got map[string]int
	for deadline := time.Now().Add(timeout); ; {
		got = map[string]int{}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		groups, err := adm.DescribeGroups(ctx, group)
		cancel()
		if err == nil {
			for _, m := range groups[group].Members {
				if c, ok := m.Assigned.AsConsumer(); ok && m.InstanceID != nil {
					for _, tp := range c.Topics {
						got[*m.InstanceID] += len(tp.Partitions)
					}
				}
			}
		}
		held := 0
		for slot := 1; slot <= n; slot++ {
			if got[fmt.Sprintf("%s-%d", svc, slot)] > 0 {
				held++
			}
		}
		if held == n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s after %s: partitions per instance id %v (err %v), want each of the %d %s tasks (instance ids %s-<slot>) holding some",
				group, timeout, got, err, n, svc, svc)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func randomToken() string {
	b := make([]byte, 16)
	for i := range b {
		b[i] = byte(rand.IntN(256))
	}
	return hex.EncodeToString(b)
}

// startPostgres runs a PostgreSQL server on 127.0.0.1 (a free port, data in
// a temporary folder, stopped by the test) with a role and a database owned
// by it, password-checked over TCP; it returns its address.
func startPostgres(t *testing.T, user, db, password string) string {
	t.Helper()
	initdb, err := exec.LookPath("initdb")
	if err != nil {
		bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
		if len(bins) == 0 {
			if os.Getenv("CI") == "true" {
				t.Fatal("PostgreSQL (initdb) not installed")
			}
			t.Skip("a stage needs PostgreSQL, which is not installed")
		}
		initdb = bins[len(bins)-1]
	}
	if real, err := filepath.EvalSymlinks(initdb); err == nil {
		initdb = real // /usr/local/bin links initdb and pg_ctl only; psql is beside the real one
	}
	bin := filepath.Dir(initdb)
	dir, err := os.MkdirTemp("", "gdeltflow-pg-")
	if err != nil {
		t.Fatal(err)
	}
	asPostgres := func(args ...string) *exec.Cmd {
		if os.Getuid() == 0 { // initdb and postgres refuse root
			return exec.Command("runuser", append([]string{"-u", "postgres", "--"}, args...)...)
		}
		return exec.Command(args[0], args[1:]...)
	}
	if os.Getuid() == 0 {
		if out, err := exec.Command("chown", "postgres", dir).CombinedOutput(); err != nil {
			t.Fatalf("chown %s: %v %s", dir, err, out)
		}
	}
	data := filepath.Join(dir, "data")
	port := freePorts(t, 1)[0]
	if out, err := asPostgres(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth-local=trust",
		"--auth-host=scram-sha-256").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	if out, err := asPostgres(filepath.Join(bin, "pg_ctl"), "-D", data, "-l", filepath.Join(dir, "log"), "-t", "30", "-w", "-o",
		fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s", port, dir), "start").CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl start: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		_ = asPostgres(filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "fast", "-t", "20", "-w", "stop").Run()
		os.RemoveAll(dir)
	})
	for _, sql := range []string{
		fmt.Sprintf("CREATE ROLE %q LOGIN PASSWORD '%s'", user, password),
		fmt.Sprintf("CREATE DATABASE %q OWNER %q", db, user),
	} {
		if out, err := asPostgres(filepath.Join(bin, "psql"), "-h", dir, "-p", strconv.Itoa(port), "-U", "postgres",
			"-v", "ON_ERROR_STOP=1", "-c", sql).CombinedOutput(); err != nil {
			t.Fatalf("psql %s: %v\n%s", sql, err, out)
		}
	}
	return fmt.Sprintf("127.0.0.1:%d", port)
}

package deploy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"
)

const stackFile = "stack.yml"

// binaryEnv are the variables cmd/benthos itself reads (not a pipeline): the
// Go runtime's memory settings and the silver slot rule (cmd/benthos/slot.go).
var binaryEnv = map[string]bool{"GOMEMLIMIT": true, "GOGC": true, "SILVER_SLOT": true, "GDELT_PARTITIONS_DOCS": true}

// hashes computes the config hashes as deploy.sh does: CFG_<X> from the file
// deploy.sh names, the first 12 hex digits of its sha256.
func hashes(t *testing.T) map[string]string {
	t.Helper()
	script, err := os.ReadFile("deploy.sh")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^(CFG_[A-Z_]+)=\$\(hash_of "\$(root|here)/([^"]+)"\)$`)
	out := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(string(script), -1) {
		path := m[3]
		if m[2] == "root" {
			path = filepath.Join("..", path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("deploy.sh hashes %s: %v", path, err)
		}
		sum := sha256.Sum256(b)
		out[m[1]] = hex.EncodeToString(sum[:])[:12]
		out[m[1]+"#file"] = path
	}
	if len(out) == 0 {
		t.Fatal("deploy.sh computes no CFG_ hash")
	}
	return out
}

func stackEnv(t *testing.T, extra ...string) []string {
	env := []string{"GDELTFLOW_VERSION=1.2.3"}
	for k, v := range hashes(t) {
		if !strings.Contains(k, "#") {
			env = append(env, k+"="+v)
		}
	}
	return append(env, extra...)
}

func load(t *testing.T, extra ...string) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{stackFile},
		cli.WithWorkingDirectory("."), cli.WithName("gdeltflow"), cli.WithEnv(stackEnv(t, extra...)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("compose-go loading %s: %v", stackFile, err)
	}
	return p
}

// The gdeltflow stages: services running a pipeline of pipelines/ (-c <config target>).
func stages(p *types.Project) map[string]types.ServiceConfig {
	out := map[string]types.ServiceConfig{}
	for name, s := range p.Services {
		if len(s.Command) == 2 && s.Command[0] == "-c" {
			out[name] = s
		}
	}
	return out
}

func isJob(s types.ServiceConfig) bool {
	return s.Deploy != nil && strings.HasSuffix(s.Deploy.Mode, "-job")
}

func TestStackLoads(t *testing.T) {
	p := load(t)
	for _, want := range []string{"kafka-1", "kafka-2", "kafka-3", "minio", "postgres", "prometheus", "alertmanager", "grafana",
		"topics", "bucket", "ingest", "bronze", "silver", "gold"} {
		if _, ok := p.Services[want]; !ok {
			t.Errorf("service %s missing", want)
		}
	}
	if got := slices.Sorted(mapKeys(stages(p))); !slices.Equal(got, []string{"bronze", "gold", "ingest", "silver"}) {
		t.Errorf("stages = %v", got)
	}
}

func mapKeys[M ~map[string]V, V any](m M) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// Every config is a file of the repository, named by the hash deploy.sh gives it.
func TestConfigsAreRepoFilesNamedByHash(t *testing.T) {
	h := hashes(t)
	raw := rawStack(t)
	p := load(t)
	used := map[string]bool{}
	for _, s := range p.Services {
		for _, c := range s.Configs {
			if _, ok := p.Configs[c.Source]; !ok {
				t.Errorf("service %s uses config %s, not declared", s.Name, c.Source)
			}
			used[c.Source] = true
		}
	}
	for name, c := range p.Configs {
		if !used[name] {
			t.Errorf("config %s is used by no service", name)
		}
		rc := raw.Configs[name]
		m := regexp.MustCompile(`\$\{(CFG_[A-Z_]+):\?`).FindStringSubmatch(rc.Name)
		if m == nil {
			t.Errorf("config %s: name %q carries no required CFG_ hash variable", name, rc.Name)
			continue
		}
		file := filepath.Clean(rc.File)
		if h[m[1]+"#file"] != file {
			t.Errorf("config %s: the stack reads %s, deploy.sh hashes %s into %s", name, file, h[m[1]+"#file"], m[1])
		}
		if !strings.HasSuffix(c.Name, "_"+h[m[1]]) {
			t.Errorf("config %s: name %s, want the hash %s of %s", name, c.Name, h[m[1]], file)
		}
		if st, err := os.Stat(file); err != nil || st.IsDir() {
			t.Errorf("config %s: file %s: %v", name, file, err)
		}
		if !strings.HasPrefix(file, "../pipelines/") && !strings.HasPrefix(file, "../resources/") &&
			!strings.HasPrefix(file, "prometheus/") && !strings.HasPrefix(file, "grafana/") && !strings.HasPrefix(file, "alertmanager/") {
			t.Errorf("config %s: %s is outside pipelines/, resources/ and deploy/'s monitoring folders (prometheus/, alertmanager/, grafana/)", name, file)
		}
	}
}

type rawConfig struct {
	Name string `yaml:"name"`
	File string `yaml:"file"`
}

type rawSecret struct {
	Name     string `yaml:"name"`
	External bool   `yaml:"external"`
}

type rawFile struct {
	Configs map[string]rawConfig `yaml:"configs"`
	Secrets map[string]rawSecret `yaml:"secrets"`
}

func rawStack(t *testing.T) rawFile {
	t.Helper()
	b, err := os.ReadFile(stackFile)
	if err != nil {
		t.Fatal(err)
	}
	var f rawFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// Every secret is external and created by deploy.sh under the same name; a
// service mounts the secrets its *_FILE variables name, and credentials are
// never values in an environment.
func TestSecrets(t *testing.T) {
	p := load(t)
	raw := rawStack(t)
	script, _ := os.ReadFile("deploy.sh")
	created := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^ensure_secret (\w+) "(\$\{\w+:-\w+\})"$`).FindAllStringSubmatch(string(script), -1) {
		created[m[1]] = m[2]
	}
	for name, s := range raw.Secrets {
		if !s.External {
			t.Errorf("secret %s: not external (its value would come from a file next to the stack)", name)
		}
		if created[name] != s.Name {
			t.Errorf("secret %s: the stack names it %q, deploy.sh creates %q", name, s.Name, created[name])
		}
	}
	if len(created) != len(raw.Secrets) {
		t.Errorf("deploy.sh creates %v, the stack declares %v", created, raw.Secrets)
	}
	credential := regexp.MustCompile(`(?i)(secret|password|passwd|token|access_key|root_user|credential)`)
	for _, s := range p.Services {
		mounted := map[string]bool{}
		for _, sec := range s.Secrets {
			if _, ok := p.Secrets[sec.Source]; !ok {
				t.Errorf("service %s: secret %s not declared", s.Name, sec.Source)
			}
			target := sec.Target
			if target == "" {
				target = sec.Source
			}
			if !strings.HasPrefix(target, "/") {
				target = "/run/secrets/" + target
			}
			mounted[target] = true
		}
		for k, v := range s.Environment {
			val := ""
			if v != nil {
				val = *v
			}
			if strings.HasSuffix(k, "_FILE") {
				if !mounted[val] {
					t.Errorf("service %s: %s=%s is not a secret it mounts", s.Name, k, val)
				}
				continue
			}
			if credential.MatchString(k) {
				t.Errorf("service %s: %s is a credential in the environment; use %s_FILE and a secret", s.Name, k, k)
			}
		}
	}
}

var pipelineVar = regexp.MustCompile(`\$\{([A-Z][A-Z0-9_]*)(:[^}]*)?\}`)

// pipelineVars: every variable the YAML reads, and whether it has a default.
func pipelineVars(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, m := range pipelineVar.FindAllStringSubmatch(line, -1) {
			out[m[1]] = out[m[1]] || m[2] != ""
		}
	}
	return out
}

// pipelineOf is the repository file behind a stage's -c config.
func pipelineOf(t *testing.T, p *types.Project, s types.ServiceConfig) string {
	t.Helper()
	for _, c := range s.Configs {
		if c.Target == s.Command[1] {
			return filepath.Clean(rawStack(t).Configs[c.Source].File)
		}
	}
	t.Fatalf("stage %s: no config mounted at %s", s.Name, s.Command[1])
	return ""
}

// A stage's environment sets only what its pipeline (or the binary) reads,
// and everything the pipeline reads without a default.
func TestStageEnvironmentMatchesPipelines(t *testing.T) {
	p := load(t)
	for name, s := range stages(p) {
		path := pipelineOf(t, p, s)
		vars := pipelineVars(t, path)
		if len(vars) == 0 {
			t.Fatalf("%s: no variables found in %s", name, path)
		}
		for k := range s.Environment {
			base := strings.TrimSuffix(k, "_FILE")
			if _, read := vars[base]; !read && !binaryEnv[k] {
				t.Errorf("stage %s sets %s, which %s does not read", name, k, path)
			}
		}
		for v, hasDefault := range vars {
			_, set := s.Environment[v]
			_, setFile := s.Environment[v+"_FILE"]
			if !hasDefault && !set && !setFile {
				t.Errorf("stage %s: %s reads %s without a default and the stack does not set it", name, path, v)
			}
		}
		// Served on all interfaces (Prometheus scrapes the tasks) and on the port the health check probes.
		if env(s, "HTTP_ENABLED") != "true" || env(s, "HTTP_ADDRESS") != "0.0.0.0:4195" {
			t.Errorf("stage %s: HTTP_ENABLED=%q HTTP_ADDRESS=%q; want true, 0.0.0.0:4195", name, env(s, "HTTP_ENABLED"), env(s, "HTTP_ADDRESS"))
		}
	}
}

func env(s types.ServiceConfig, k string) string {
	if v, ok := s.Environment[k]; ok && v != nil {
		return *v
	}
	return ""
}

// The partition counts the stages are told are the topics' (resources/topics.yaml).
func TestPartitionCountsMatchTopics(t *testing.T) {
	b, err := os.ReadFile("../resources/topics.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Defaults struct {
			Partitions int `yaml:"partitions"`
		} `yaml:"defaults"`
		Topics []struct {
			Name       string `yaml:"name"`
			Partitions int    `yaml:"partitions"`
		} `yaml:"topics"`
	}
	if err := yaml.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, tp := range spec.Topics {
		count[tp.Name] = tp.Partitions
		if count[tp.Name] == 0 {
			count[tp.Name] = spec.Defaults.Partitions
		}
	}
	p := load(t)
	want := map[string]int{
		"GDELT_PARTITIONS_EVENTS": count["gdelt.events"],
		"GDELT_PARTITIONS_DOCS":   count["gdelt.mentions"],
		"GDELT_PARTITIONS_DLQ":    count["gdelt.dlq"],
	}
	if count["gdelt.mentions"] != count["gdelt.gkg"] {
		t.Fatalf("topics.yaml: mentions and gkg must have one partition count: %v", count)
	}
	for _, s := range stages(p) {
		for k, n := range want {
			if v := env(s, k); v != "" && v != strconv.Itoa(n) {
				t.Errorf("stage %s: %s=%s, topics.yaml says %d", s.Name, k, v, n)
			}
		}
	}
	if env(p.Services["ingest"], "GDELT_PARTITIONS_DOCS") == "" {
		t.Error("ingest must be told the partition counts")
	}
}

// The silver shards: one task per shard, SILVER_SHARDS from the same variable
// as the replicas, the slot from Swarm, at most one shard per partition.
func TestSilverShardsFollowTheReplicas(t *testing.T) {
	for _, n := range []string{"", "1", "3", "6"} {
		var extra []string
		want := 2
		if n != "" {
			extra = []string{"SILVER_SHARDS=" + n}
			want, _ = strconv.Atoi(n)
		}
		s := load(t, extra...).Services["silver"]
		if s.Deploy.Replicas == nil || *s.Deploy.Replicas != want || env(s, "SILVER_SHARDS") != strconv.Itoa(want) {
			t.Errorf("SILVER_SHARDS=%q: replicas %v, env %q; want %d both", n, s.Deploy.Replicas, env(s, "SILVER_SHARDS"), want)
		}
		if env(s, "SILVER_SLOT") != "{{.Task.Slot}}" {
			t.Errorf("silver: SILVER_SLOT=%q", env(s, "SILVER_SLOT"))
		}
	}
	b := load(t).Services["bronze"]
	if env(b, "BRONZE_INSTANCE_ID") != "bronze-{{.Task.Slot}}" {
		t.Errorf("bronze: BRONZE_INSTANCE_ID=%q, want static membership per slot", env(b, "BRONZE_INSTANCE_ID"))
	}
	if r := load(t).Services["ingest"].Deploy.Replicas; r == nil || *r != 1 {
		t.Errorf("ingest replicas %v, want 1 (window order)", r)
	}
	if r := load(t).Services["gold"].Deploy.Replicas; r == nil || *r != 1 {
		t.Errorf("gold replicas %v, want 1 (windows in order, one writer of gold and the mart)", r)
	}
}

// Health checks, restart and update policies, limits and placement on every
// service; stop-first where two copies must never run.
func TestDeployPolicies(t *testing.T) {
	p := load(t)
	stopFirst := map[string]bool{"ingest": true, "bronze": true, "silver": true, "gold": true, "kafka-1": true, "kafka-2": true, "kafka-3": true}
	for name, s := range p.Services {
		d := s.Deploy
		if d == nil {
			t.Errorf("%s: no deploy section", name)
			continue
		}
		if d.RestartPolicy == nil || d.RestartPolicy.Condition == "" {
			t.Errorf("%s: no restart policy", name)
		}
		if d.Resources.Limits == nil || d.Resources.Limits.MemoryBytes == 0 || d.Resources.Limits.NanoCPUs == 0 {
			t.Errorf("%s: no memory and cpu limits", name)
		}
		if len(d.Placement.Constraints) == 0 {
			t.Errorf("%s: no placement constraint", name)
		}
		if isJob(s) {
			if d.RestartPolicy == nil || d.RestartPolicy.Condition != "on-failure" {
				t.Errorf("job %s: restart on-failure so it retries until its server answers", name)
			}
			continue
		}
		if s.HealthCheck == nil || len(s.HealthCheck.Test) < 2 || s.HealthCheck.Disable {
			t.Errorf("%s: no health check", name)
		}
		if d.UpdateConfig == nil || d.UpdateConfig.Order == "" {
			t.Errorf("%s: no update_config with an order", name)
		} else if stopFirst[name] && d.UpdateConfig.Order != "stop-first" {
			t.Errorf("%s: update order %s, want stop-first", name, d.UpdateConfig.Order)
		}
	}
	for name, s := range stages(p) {
		hc := strings.Join(s.HealthCheck.Test, " ")
		if hc != "CMD /usr/local/bin/probe http://127.0.0.1:4195/ready" {
			t.Errorf("stage %s: health check %q, want the probe of /ready", name, hc)
		}
		if !slices.Contains(s.Deploy.Placement.Constraints, "node.role == worker") {
			t.Errorf("stage %s: not placed on workers: %v", name, s.Deploy.Placement.Constraints)
		}
		lim := s.Deploy.Resources.Limits.MemoryBytes
		if gm := env(s, "GOMEMLIMIT"); gm == "" {
			t.Errorf("stage %s: GOMEMLIMIT unset", name)
		} else if n, err := strconv.ParseInt(strings.TrimSuffix(gm, "MiB"), 10, 64); err != nil || float64(lim) < 1.2*float64(n<<20) {
			t.Errorf("stage %s: memory limit %d, GOMEMLIMIT %s: give the container ~1.25 times the heap limit", name, lim, gm)
		}
	}
}

// Every image is pinned to a version (no latest, no bare name); ours to GDELTFLOW_VERSION.
func TestImagesPinned(t *testing.T) {
	p := load(t)
	tag := regexp.MustCompile(`^[a-z0-9./_-]+:([A-Za-z0-9._-]*[0-9][A-Za-z0-9._-]*)$`)
	for name, s := range p.Services {
		m := tag.FindStringSubmatch(s.Image)
		if m == nil || strings.Contains(m[1], "latest") {
			t.Errorf("%s: image %q is not pinned to a version", name, s.Image)
		}
		if strings.HasPrefix(s.Image, "gdeltflow/gdeltflow:") && m != nil && m[1] != "1.2.3" {
			t.Errorf("%s: image %s does not follow GDELTFLOW_VERSION", name, s.Image)
		}
	}
}

// The Kafka brokers: three KRaft nodes voting for each other, one cluster id.
func TestKafkaQuorum(t *testing.T) {
	p := load(t)
	var voters []string
	ids := map[string]bool{}
	for i := 1; i <= 3; i++ {
		s := p.Services[fmt.Sprintf("kafka-%d", i)]
		if env(s, "KAFKA_NODE_ID") != strconv.Itoa(i) || env(s, "KAFKA_PROCESS_ROLES") != "broker,controller" {
			t.Errorf("kafka-%d: node id %q roles %q", i, env(s, "KAFKA_NODE_ID"), env(s, "KAFKA_PROCESS_ROLES"))
		}
		voters = append(voters, fmt.Sprintf("%d@kafka-%d:9093", i, i))
		ids[env(s, "CLUSTER_ID")] = true
		if q := env(s, "KAFKA_CONTROLLER_QUORUM_VOTERS"); q != strings.Join([]string{"1@kafka-1:9093", "2@kafka-2:9093", "3@kafka-3:9093"}, ",") {
			t.Errorf("kafka-%d: voters %q", i, q)
		}
	}
	if len(ids) != 1 || len(slices.Collect(mapKeys(ids))[0]) != 22 {
		t.Errorf("cluster ids %v: want one, 22 base64 characters", ids)
	}
	for name, s := range stages(p) {
		if _, reads := pipelineVars(t, pipelineOf(t, p, s))["KAFKA_BROKERS"]; !reads {
			continue // gold: from the lake
		}
		if env(s, "KAFKA_BROKERS") != "kafka-1:9092,kafka-2:9092,kafka-3:9092" {
			t.Errorf("stage %s: KAFKA_BROKERS=%q", name, env(s, "KAFKA_BROKERS"))
		}
	}
}

// benthos lint accepts every stage's pipeline with the environment the stack gives it.
func TestStagesLint(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "benthos")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/benthos").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	p := load(t)
	for name, s := range stages(p) {
		envv := []string{"PATH=" + os.Getenv("PATH")}
		for k, v := range s.Environment {
			val := strings.ReplaceAll(*v, "{{.Task.Slot}}", "1")
			if strings.HasSuffix(k, "_FILE") { // the secret, as a file
				f := filepath.Join(dir, name+"-"+k)
				os.WriteFile(f, []byte("lint-value\n"), 0o400)
				val = f
			}
			envv = append(envv, k+"="+val)
		}
		sort.Strings(envv)
		cmd := exec.Command(bin, "lint", pipelineOf(t, p, s))
		cmd.Env = envv
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Errorf("stage %s: benthos lint %s: %v\n%s", name, pipelineOf(t, p, s), err, out.String())
		}
	}
}

// docker stack config (the swarm schema, without an engine) accepts the stack
// with deploy.sh's variables and refuses it without them.
func TestDockerStackConfig(t *testing.T) {
	tool(t, "docker", "the docker client; no engine needed")
	cmd := exec.Command("docker", "stack", "config", "-c", stackFile)
	cmd.Env = append(os.Environ(), stackEnv(t)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("docker stack config: %v\n%s", err, out)
	}
	for _, want := range []string{"mode: replicated-job", "BRONZE_INSTANCE_ID: bronze-{{.Task.Slot}}", "order: stop-first"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("docker stack config output lacks %q", want)
		}
	}
	cmd = exec.Command("docker", "stack", "config", "-c", stackFile)
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "CFG_") && !strings.HasPrefix(e, "GDELTFLOW_VERSION=") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	cmd.Env = append(cmd.Env, "GDELTFLOW_VERSION=1")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "run deploy/deploy.sh") {
		t.Errorf("without the hashes: %v %s; want a refusal naming deploy.sh", err, out)
	}
}

// The Prometheus config scrapes every stage's tasks on the port of its
// HTTP_ADDRESS, and promtool accepts it.
func TestPrometheusConfig(t *testing.T) {
	b, err := os.ReadFile("prometheus/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	var conf struct {
		ScrapeConfigs []struct {
			JobName string `yaml:"job_name"`
			DNS     []struct {
				Names []string `yaml:"names"`
				Port  int      `yaml:"port"`
			} `yaml:"dns_sd_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(b, &conf); err != nil {
		t.Fatal(err)
	}
	scraped := map[string]int{}
	for _, sc := range conf.ScrapeConfigs {
		for _, d := range sc.DNS {
			for _, n := range d.Names {
				scraped[strings.TrimPrefix(n, "tasks.")] = d.Port
			}
		}
	}
	for name, s := range stages(load(t)) {
		port, _ := strconv.Atoi(env(s, "HTTP_ADDRESS")[strings.LastIndex(env(s, "HTTP_ADDRESS"), ":")+1:])
		if scraped[name] != port {
			t.Errorf("stage %s serves /metrics on %d; prometheus.yml scrapes tasks.%s on %d", name, port, name, scraped[name])
		}
	}
	promtool := tool(t, "promtool", "apt-get install prometheus")
	if out, err := exec.Command(promtool, "check", "config", "prometheus/prometheus.yml").CombinedOutput(); err != nil {
		t.Errorf("promtool check config: %v\n%s", err, out)
	}
}

func TestDeployScriptShellcheck(t *testing.T) {
	sc := tool(t, "shellcheck", "apt-get install shellcheck")
	for _, script := range []string{"deploy.sh", "build.sh"} {
		if out, err := exec.Command(sc, script).CombinedOutput(); err != nil {
			t.Errorf("shellcheck %s: %v\n%s", script, err, out)
		}
	}
}

// tool finds a checker: without it a test skips, except in CI (.ci/run installs it).
func tool(t *testing.T, name, how string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not installed (%s): .ci/run must install it", name, how)
		}
		t.Skipf("%s not installed (%s)", name, how)
	}
	return p
}

// The mart: gold reads its DSN from a secret; Grafana's mart datasource names
// the PostgreSQL service, its user and database, and reads the password from
// a secret Grafana mounts.
func TestMartWiring(t *testing.T) {
	p := load(t)
	gold, pg, grafana := p.Services["gold"], p.Services["postgres"], p.Services["grafana"]
	if v := env(gold, "MART_DSN_FILE"); !strings.HasPrefix(v, "/run/secrets/") {
		t.Errorf("gold: MART_DSN_FILE=%q, want a secret's file", v)
	}
	if _, set := gold.Environment["MART_DSN"]; set {
		t.Error("gold: MART_DSN in the environment (it holds the password); use MART_DSN_FILE")
	}
	b, err := os.ReadFile("grafana/provisioning/datasources/mart.yml")
	if err != nil {
		t.Fatal(err)
	}
	var ds struct {
		Datasources []struct {
			URL            string            `yaml:"url"`
			User           string            `yaml:"user"`
			JSONData       map[string]any    `yaml:"jsonData"`
			SecureJSONData map[string]string `yaml:"secureJsonData"`
		} `yaml:"datasources"`
	}
	if err := yaml.Unmarshal(b, &ds); err != nil || len(ds.Datasources) != 1 {
		t.Fatalf("mart.yml: %v, %d datasources", err, len(ds.Datasources))
	}
	d := ds.Datasources[0]
	// Grafana expands $__file{path} and then ${VAR} from its environment.
	expand := func(v string) string {
		return os.Expand(v, func(k string) string { return env(grafana, k) })
	}
	if got := expand(d.URL); got != "postgres:5432" {
		t.Errorf("mart datasource url %q (grafana's environment), want postgres:5432", got)
	}
	if got := expand(d.User); got != env(pg, "POSTGRES_USER") {
		t.Errorf("mart datasource user %q, PostgreSQL's POSTGRES_USER %q", got, env(pg, "POSTGRES_USER"))
	}
	if got := expand(fmt.Sprint(d.JSONData["database"])); got != env(pg, "POSTGRES_DB") {
		t.Errorf("mart datasource database %q, PostgreSQL's POSTGRES_DB %q", got, env(pg, "POSTGRES_DB"))
	}
	m := regexp.MustCompile(`^\$__file\{(/run/secrets/[^}]+)\}$`).FindStringSubmatch(d.SecureJSONData["password"])
	if m == nil {
		t.Fatalf("mart datasource password %q: want $__file{/run/secrets/...}", d.SecureJSONData["password"])
	}
	var pgSecret string
	for _, sec := range pg.Secrets {
		if "/run/secrets/"+sec.Source == env(pg, "POSTGRES_PASSWORD_FILE") || sec.Target == env(pg, "POSTGRES_PASSWORD_FILE") {
			pgSecret = sec.Source
		}
	}
	mounted := false
	for _, sec := range grafana.Secrets {
		target := sec.Target
		if target == "" {
			target = sec.Source
		}
		if !strings.HasPrefix(target, "/") {
			target = "/run/secrets/" + target
		}
		if target == m[1] && sec.Source == pgSecret {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("grafana does not mount PostgreSQL's password secret %q at %s", pgSecret, m[1])
	}
}

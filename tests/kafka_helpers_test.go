package tests

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/gdeltflow/gdeltflow/plugins/delta"
	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
	"github.com/gdeltflow/gdeltflow/tests/miniotest"
)

var (
	kafkaDevOnce sync.Once
	kafkaDevPath string
	kafkaDevErr  error
)

// kafkaDevBin builds cmd/kafka-dev once per test binary.
func kafkaDevBin(t testing.TB) string {
	kafkaDevOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gdeltflow-kafka-dev-")
		if err != nil {
			kafkaDevErr = err
			return
		}
		kafkaDevPath = filepath.Join(dir, "kafka-dev")
		cmd := exec.Command("go", "build", "-o", kafkaDevPath, "./cmd/kafka-dev")
		cmd.Dir = repoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			kafkaDevErr = fmt.Errorf("%v: %s", err, out)
		}
	})
	if kafkaDevErr != nil {
		t.Fatalf("building cmd/kafka-dev: %v", kafkaDevErr)
	}
	return kafkaDevPath
}

func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// kafkaDev is a running cmd/kafka-dev: three kfake brokers on loopback with
// the project's topics, persisted in a folder so that it survives a restart.
type kafkaDev struct {
	t       testing.TB
	ports   []int
	data    string
	spec    string // the topic spec applied at start; "" creates no topic
	Brokers string
	cmd     *exec.Cmd
	done    chan struct{}
}

func startKafkaDev(t testing.TB) *kafkaDev {
	t.Helper()
	return startKafkaDevSpec(t, filepath.Join(repoRoot(t), "resources", "topics.yaml"))
}

// startKafkaDevSpec is startKafkaDev with another topic spec ("" for none:
// the topics are left to a client, e.g. the stack's topics job).
func startKafkaDevSpec(t testing.TB, spec string) *kafkaDev {
	t.Helper()
	k := &kafkaDev{t: t, ports: freePorts(t, 3), data: t.TempDir(), spec: spec}
	k.Start()
	t.Cleanup(k.Stop)
	return k
}

// Start runs the brokers (again) on the same ports and data.
func (k *kafkaDev) Start() {
	k.t.Helper()
	bf := filepath.Join(k.data, "brokers.txt")
	os.Remove(bf)
	ports := fmt.Sprintf("%d,%d,%d", k.ports[0], k.ports[1], k.ports[2])
	k.cmd = exec.Command(kafkaDevBin(k.t), "-data", filepath.Join(k.data, "kfake"), "-ports", ports,
		"-spec", k.spec, "-brokers-file", bf)
	logf, err := os.OpenFile(filepath.Join(k.data, "kafka-dev.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		k.t.Fatal(err)
	}
	k.cmd.Stdout, k.cmd.Stderr = logf, logf
	if err := k.cmd.Start(); err != nil {
		k.t.Fatal(err)
	}
	logf.Close()
	k.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(k.cmd, k.done)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(bf); err == nil && strings.HasPrefix(string(b), "brokers=") {
			k.Brokers = strings.TrimSpace(strings.TrimPrefix(string(b), "brokers="))
			return
		}
		select {
		case <-k.done:
			log, _ := os.ReadFile(filepath.Join(k.data, "kafka-dev.log"))
			k.t.Fatalf("kafka-dev exited: %s", log)
		default:
		}
		if time.Now().After(deadline) {
			k.t.Fatal("kafka-dev not ready after 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Kill stops the brokers with SIGKILL.
func (k *kafkaDev) Kill() {
	if k.cmd != nil && k.cmd.Process != nil {
		_ = k.cmd.Process.Kill()
		<-k.done
	}
}

// Stop stops the brokers cleanly (SIGKILL after 10 s).
func (k *kafkaDev) Stop() {
	if k.cmd == nil || k.cmd.Process == nil {
		return
	}
	select {
	case <-k.done:
		return
	default:
	}
	_ = k.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-k.done:
	case <-time.After(10 * time.Second):
		k.Kill()
	}
}

// pipeline is a benthos process running one of pipelines/*.yaml.
type pipeline struct {
	t      testing.TB
	name   string
	cmd    *exec.Cmd
	log    *syncBuffer
	exited chan struct{}
	err    error
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startPipeline(t testing.TB, file string, env ...string) *pipeline {
	t.Helper()
	p := &pipeline{t: t, name: file, log: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(benthosBin(t), "-c", file)
	p.cmd.Dir = repoRoot(t)
	p.cmd.Env = append(append(os.Environ(), "HTTP_ENABLED=false", "LOG_LEVEL=warn"), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.Kill)
	return p
}

// Kill sends SIGKILL (no shutdown, no flush) and waits.
func (p *pipeline) Kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// Stop sends SIGTERM and waits for a clean exit.
func (p *pipeline) Stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		p.t.Errorf("%s did not stop within 30 s", p.name)
		p.Kill()
	}
}

// Wait waits for the process to end by itself, successfully.
func (p *pipeline) Wait(timeout time.Duration) {
	p.t.Helper()
	select {
	case <-p.exited:
		if p.err != nil {
			p.t.Fatalf("%s: %v\n%s", p.name, p.err, tail(p.log.String(), 4000))
		}
	case <-time.After(timeout):
		p.t.Fatalf("%s still running after %s\n%s", p.name, timeout, tail(p.log.String(), 4000))
	}
}

// genMirror writes n generated windows as a mirror and returns it with the
// unzipped source files of each table (for DuckDB's comparison).
func genMirror(t testing.TB, n int, seed int64) (dir string, windows []string) {
	t.Helper()
	return genMirrorWith(t, n, seed, nil)
}

// genMirrorWith is genMirror with the generator's config adjusted by adjust
// (e.g. re-exports).
func genMirrorWith(t testing.TB, n int, seed int64, adjust func(*gdeltgen.Config)) (dir string, windows []string) {
	t.Helper()
	dir = t.TempDir()
	m, err := gdeltgen.NewMirror(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	cfg := gdeltgen.Small(time.Date(2023, 7, 2, 15, 45, 0, 0, time.UTC), n, seed)
	if adjust != nil {
		adjust(&cfg)
	}
	err = gdeltgen.Generate(cfg, func(w gdeltgen.Window) error {
		windows = append(windows, gdeltgen.WindowID(w.Time))
		return m.AddWindow(w)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, windows
}

// setLastUpdate makes window the newest in the mirror's lastupdate.txt, as
// GDELT does every 15 minutes.
func setLastUpdate(t testing.TB, mirror, window string) {
	t.Helper()
	master, err := os.ReadFile(filepath.Join(mirror, "masterfilelist.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(master), "\n") {
		if strings.Contains(l, "/"+window+".") {
			lines = append(lines, l)
		}
	}
	tmp := filepath.Join(mirror, ".lastupdate.tmp")
	if err := os.WriteFile(tmp, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(mirror, "lastupdate.txt")); err != nil {
		t.Fatal(err)
	}
}

// s3Env is the environment that points bronze.yaml at a MinIO server.
func s3Env(srv *miniotest.Server, bucket string) []string {
	return []string{"S3_ENDPOINT=http://" + srv.Endpoint, "S3_BUCKET=" + bucket,
		"S3_ACCESS_KEY_ID=" + srv.AccessKey, "S3_SECRET_ACCESS_KEY=" + srv.SecretKey}
}

// s3Rows returns the rows of each bronze table on MinIO from the Delta log's
// stats (our reader: for polling; the final check is DuckDB's).
func s3Rows(t testing.TB, srv *miniotest.Server, bucket string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for table, name := range bronzeTables {
		if s, err := s3Snapshot(t, srv, bucket, "bronze/"+name); err == nil {
			out[table], _ = s.NumRecords()
		}
	}
	return out
}

// s3Snapshot loads the Delta table at s3://bucket/table on srv (our reader).
func s3Snapshot(t testing.TB, srv *miniotest.Server, bucket, table string) (*delta.Snapshot, error) {
	t.Helper()
	st, err := storage.NewS3("s3://"+bucket+"/"+table, storage.S3Config{Endpoint: srv.Endpoint,
		AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return delta.Load(ctx, st)
}

// downloadPrefixes copies the bucket's objects under the prefixes into a
// new local folder, keeping their keys as paths, for DuckDB to read.
func downloadPrefixes(t *testing.T, srv *miniotest.Server, bucket string, prefixes ...string) string {
	t.Helper()
	ctx := context.Background()
	c := srv.Client(t)
	local := t.TempDir()
	for _, prefix := range prefixes {
		for obj := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
			if obj.Err != nil {
				t.Fatal(obj.Err)
			}
			if err := c.FGetObject(ctx, bucket, obj.Key, filepath.Join(local, filepath.FromSlash(obj.Key)), minio.GetObjectOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return local
}

// waitRows polls until every bronze table holds want rows (or more: the
// DuckDB check that follows tells duplicates apart).
func waitRows(t testing.TB, srv *miniotest.Server, bucket string, want map[string]int, timeout time.Duration, running ...*pipeline) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := s3Rows(t, srv, bucket)
		done := true
		for table, n := range want {
			if got[table] < int64(n) {
				done = false
			}
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			var logs string
			for _, p := range running {
				logs += "\n--- " + p.name + "\n" + tail(p.log.String(), 3000)
			}
			t.Fatalf("bronze tables hold %v after %s, want %v%s", got, timeout, want, logs)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// checkBronzeExact downloads the bucket's bronze tables and has DuckDB
// compare each with the mirror's rows: every row exactly once.
func checkBronzeExact(t *testing.T, srv *miniotest.Server, bucket, mirror string) {
	t.Helper()
	local := downloadPrefixes(t, srv, bucket, "bronze/")
	src := t.TempDir()
	for table, name := range bronzeTables {
		got := compareDelta(t, filepath.Join(local, "bronze", name), table, unzipTable(t, mirror, table, src))
		t.Logf("s3://%s/bronze/%s: %+v", bucket, name, got)
		if got.Missing != 0 || got.Extra != 0 || got.DeltaRows != got.SourceRows || got.PartitionErrors != 0 {
			t.Errorf("s3://%s/bronze/%s: %+v, want every source row exactly once", bucket, name, got)
		}
	}
}

// mirrorCounts counts the rows of each table in a mirror.
func mirrorCounts(t testing.TB, mirror string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for table := range bronzeTables {
		for _, f := range unzipTable(t.(*testing.T), mirror, table, t.TempDir()) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out[table] += strings.Count(string(b), "\n")
		}
	}
	return out
}

func getenv(k string) string { return os.Getenv(k) }

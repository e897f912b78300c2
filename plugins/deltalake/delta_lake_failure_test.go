package deltalake

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/delta"
	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
	"github.com/gdeltflow/gdeltflow/plugins/internal/deltatest"
	"github.com/gdeltflow/gdeltflow/plugins/runstate"
)

// logRecorder is a slog handler that keeps "LEVEL message" lines.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *logRecorder) WithGroup(string) slog.Handler            { return r }
func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, rec.Level.String()+" "+rec.Message)
	return nil
}

// matching returns the lines that start with level and contain every part.
func (r *logRecorder) matching(level string, parts ...string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
next:
	for _, l := range r.lines {
		if !strings.HasPrefix(l, level+" ") {
			continue
		}
		for _, p := range parts {
			if !strings.Contains(l, p) {
				continue next
			}
		}
		out = append(out, l)
	}
	return out
}

func (r *logRecorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}

// dlStream builds a stream from yaml, logging into a recorder.
func dlStream(t *testing.T, yaml string) (*service.Stream, *logRecorder) {
	t.Helper()
	rec := &logRecorder{}
	sb := service.NewStreamBuilder()
	sb.SetLogger(slog.New(rec))
	if err := sb.SetYAML(yaml); err != nil {
		t.Fatal(err)
	}
	st, err := sb.Build()
	if err != nil {
		t.Fatal(err)
	}
	return st, rec
}

// runJob runs yaml as a job with the given give-up time, as the binary does:
// a failure stops the stream. It returns the run's failure (nil: none) and
// how long the stream ran.
func runJob(t *testing.T, yaml string, giveUp time.Duration) (*runstate.Failure, *logRecorder, time.Duration) {
	t.Helper()
	runstate.Reset()
	t.Cleanup(runstate.Reset)
	runstate.StartJob(giveUp)
	st, rec := dlStream(t, yaml)
	// The engine waits 3/4 of the stop's timeout for messages in flight (here
	// stuck before the output that failed), then stops the rest.
	runstate.SetShutdown(func() { go func() { _ = st.StopWithin(4 * time.Second) }() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	if err := st.Run(ctx); err != nil && ctx.Err() != nil {
		t.Fatalf("the job did not stop in 2 minutes: %v\n%s", err, rec)
	}
	return runstate.Failed(), rec, time.Since(start)
}

// dlYAML is a stream of n generated rows into a delta_lake output with the
// given extra output fields (indented for the output object).
func dlYAML(n int, path, extra string) string {
	return fmt.Sprintf(`
input:
  generate:
    count: %d
    interval: ""
    mapping: |
      root.id = counter()
      meta src = "gen"
      meta pos = counter().string()
output:
  delta_lake:
    path: %s
    schema:
      - { name: id, type: long, nullable: false }
    progress: custom
    app_id: '${! @src }'
    version: '${! @pos }'
%s
`, n, path, extra)
}

// TestDeltaLakeJobFailsOnDamagedTable: in a job, a table whose log does not
// parse fails the run at once (no give-up wait), naming the table, the cause
// and the remedy; the table is left as it was.
func TestDeltaLakeJobFailsOnDamagedTable(t *testing.T) {
	table := filepath.Join(t.TempDir(), "events")
	commit0 := filepath.Join(table, "_delta_log", "00000000000000000000.json")
	if err := os.MkdirAll(filepath.Dir(commit0), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(commit0, []byte("this is not JSON\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, rec, took := runJob(t, dlYAML(5, table, ""), time.Hour)
	if f == nil {
		t.Fatalf("no failure after %s\n%s", took, rec)
	}
	if f.Component != "delta_lake "+table || !strings.Contains(f.Cause, "damaged table log") ||
		!strings.Contains(f.Cause, "00000000000000000000.json") || !strings.Contains(f.Remedy, "delta-table history "+table) {
		t.Errorf("failure %q", f.Error())
	}
	if strings.ContainsAny(f.Error(), "\n\r") {
		t.Errorf("the failure is not one line: %q", f.Error())
	}
	if b, _ := os.ReadFile(commit0); string(b) != "this is not JSON\n" {
		t.Errorf("the damaged commit was changed: %q", b)
	}
	t.Logf("failed after %s: %s", took.Round(time.Millisecond), f.Error())
}

// TestDeltaLakeJobFailsOnUnusablePath: a table path under a regular file (as
// when GDELT_OUT/bronze is a file) fails a job at once.
func TestDeltaLakeJobFailsOnUnusablePath(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bronze"), []byte("a file, not a folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{filepath.Join(dir, "bronze", "events"), filepath.Join(dir, "bronze")} {
		f, rec, took := runJob(t, dlYAML(5, table, ""), time.Hour)
		if f == nil {
			t.Fatalf("%s: no failure after %s\n%s", table, took, rec)
		}
		if f.Component != "delta_lake "+table || !strings.Contains(f.Cause, "not a directory") || !strings.Contains(f.Remedy, "a file is where the table's folder must be") {
			t.Errorf("%s: failure %q", table, f.Error())
		}
		t.Logf("failed after %s: %s", took.Round(time.Millisecond), f.Error())
	}
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestDeltaLakeJobGivesUpOnStorageDown: storage that is down is retried
// until the job's give-up time, then fails the run; the failure is logged
// once when it starts, not at every retry.
func TestDeltaLakeJobGivesUpOnStorageDown(t *testing.T) {
	extra := fmt.Sprintf(`    s3:
      endpoint: http://%s
      access_key_id: test
      secret_access_key: test-secret`, closedPort(t))
	f, rec, took := runJob(t, dlYAML(5, "s3://lake/bronze/events", extra), 3*time.Second)
	if f == nil {
		t.Fatalf("no failure after %s\n%s", took, rec)
	}
	if f.Component != "delta_lake s3://lake/bronze/events" || !strings.HasPrefix(f.Cause, "failing for ") ||
		!strings.Contains(f.Cause, "connection refused") || !strings.Contains(f.Remedy, "S3 endpoint") {
		t.Errorf("failure %q", f.Error())
	}
	if strings.Contains(f.Error(), "test-secret") {
		t.Errorf("the secret is in the failure: %s", f.Error())
	}
	if took < 3*time.Second {
		t.Errorf("gave up after %s, before the give-up time", took)
	}
	if w := rec.matching("WARN", "opening the table"); len(w) != 1 || !strings.Contains(w[0], "connection refused") || !strings.Contains(w[0], "gives up after 3s") {
		t.Errorf("warnings about opening the table: %q, want one\n%s", w, rec)
	}
	if e := rec.matching("ERROR", "Failed to connect"); len(e) > 1 {
		t.Errorf("the engine logged every attempt: %q", e)
	}
	t.Logf("failed after %s: %s", took.Round(time.Millisecond), f.Error())
}

// TestDeltaLakeServiceRetriesAndRecovers: outside a job nothing gives up; a
// damaged table is retried, logged when the failure starts and then once per
// interval with how long it has lasted, and once it is mended the rows land.
func TestDeltaLakeServiceRetriesAndRecovers(t *testing.T) {
	runstate.Reset()
	defer runstate.Reset()
	defer func(d time.Duration) { failureLogInterval = d }(failureLogInterval)
	failureLogInterval = 2 * time.Second

	table := filepath.Join(t.TempDir(), "events")
	commit0 := filepath.Join(table, "_delta_log", "00000000000000000000.json")
	if err := os.MkdirAll(filepath.Dir(commit0), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(commit0, []byte("garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, rec := dlStream(t, dlYAML(5, table, ""))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	time.Sleep(5 * time.Second)
	if f := runstate.Failed(); f != nil {
		t.Fatalf("a service failed the run: %s", f.Error())
	}
	first := rec.matching("WARN", "opening the table failed", "damaged table log", "retrying")
	again := rec.matching("WARN", "opening the table still failing after")
	if len(first) != 1 || len(again) < 1 || len(again) > 3 {
		t.Fatalf("warnings: %d at the start, %d later; want 1, then one per 2 s\n%s", len(first), len(again), rec)
	}
	if e := rec.matching("ERROR", "Failed to connect"); len(e) > 0 {
		t.Errorf("the engine logged the attempts: %q", e)
	}
	// Mend the table: the next attempt creates it and the rows land.
	if err := os.RemoveAll(filepath.Join(table, "_delta_log")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("stream: %v\n%s", err, rec)
		}
	case <-ctx.Done():
		t.Fatalf("the stream did not finish after the table was mended\n%s", rec)
	}
	if len(rec.matching("INFO", "recovered after")) != 1 {
		t.Errorf("no recovery line\n%s", rec)
	}
	s, err := delta.Load(context.Background(), deltatest.Local(t, table))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := s.NumRecords(); n != 5 {
		t.Errorf("%d rows, want 5", n)
	}
}

// TestDeltaLakeRetryForeverGivesUpInAJob: with commit_attempts 0 a failed
// write is retried in place; in a job a permanent failure (a file where a
// partition folder must go) still fails the run at once.
func TestDeltaLakeRetryForeverGivesUpInAJob(t *testing.T) {
	table := filepath.Join(t.TempDir(), "events")
	if err := os.MkdirAll(table, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(table, "part=x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	extra := `    commit_attempts: 0
    partition_by:
      - { column: part, value: "x" }`
	f, rec, took := runJob(t, dlYAML(5, table, extra), time.Hour)
	if f == nil {
		t.Fatalf("no failure after %s\n%s", took, rec)
	}
	if !strings.Contains(f.Cause, "not a directory") || !strings.Contains(f.Cause, "part=x") {
		t.Errorf("failure %q", f.Error())
	}
	t.Logf("failed after %s: %s", took.Round(time.Millisecond), f.Error())
}

// TestDeltaLakeRetryForeverGivesUpOnS3Down: with commit_attempts 0, MinIO
// stopped after the table opened: the writes are retried in place until the
// job's give-up time, then the run fails.
func TestDeltaLakeRetryForeverGivesUpOnS3Down(t *testing.T) {
	srv := deltatest.MinIO(t)
	extra := fmt.Sprintf(`    commit_attempts: 0
    s3:
      endpoint: http://%s
      access_key_id: %s
      secret_access_key: %s`, srv.Endpoint, srv.AccessKey, srv.SecretKey)
	// The first row opens the table; the second comes after MinIO stopped.
	yaml := strings.Replace(dlYAML(2, "s3://delta/retry-forever", extra), `interval: ""`, `interval: 3s`, 1)
	runstate.Reset()
	t.Cleanup(runstate.Reset)
	go func() {
		for runstate.Failed() == nil {
			if s, err := delta.Load(context.Background(), deltatest.S3(t, srv, "retry-forever", nil)); err == nil && s.Version >= 1 {
				srv.Stop()
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	f, rec, took := runJob(t, yaml, 4*time.Second)
	if f == nil {
		t.Fatalf("no failure after %s\n%s", took, rec)
	}
	if !strings.HasPrefix(f.Cause, "failing for ") || !strings.Contains(f.Cause, "connection refused") || !strings.Contains(f.Remedy, "S3 endpoint") {
		t.Errorf("failure %q", f.Error())
	}
	if w := rec.matching("WARN", "writing 1 rows failed"); len(w) != 1 {
		t.Errorf("warnings about the write: %q, want one\n%s", w, rec)
	}
	t.Logf("failed after %s: %s", took.Round(time.Millisecond), f.Error())
}

// TestDeltaLakeProgressAndRepair: each commit is logged at info on one line
// with its windows; rows flagged gdelt_repair get their own appId per
// window, versioned by line, beside the main appId.
func TestDeltaLakeProgressAndRepair(t *testing.T) {
	runstate.Reset()
	defer runstate.Reset()
	table := filepath.Join(t.TempDir(), "mentions")
	yaml := fmt.Sprintf(`
input:
  generate:
    count: 6
    interval: ""
    mapping: |
      let n = counter()
      root.id = $n
      meta gdelt_stream = "english"
      meta gdelt_table = "mentions"
      meta gdelt_window = if $n <= 2 { "20230702150000" } else if $n <= 4 { "20230702151500" } else { "20230702144500" }
      meta gdelt_line = ($n %% 2 + 1).string()
      meta gdelt_repair = if $n > 4 { "true" } else { deleted() }
output:
  delta_lake:
    path: %s
    schema:
      - { name: id, type: long, nullable: false }
    progress: gdelt_feed
    batching: { count: 6 }
`, table)
	st, rec := dlStream(t, yaml)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := st.Run(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := delta.Load(ctx, deltatest.Local(t, table))
	if err != nil {
		t.Fatal(err)
	}
	w151500 := time.Date(2023, 7, 2, 15, 15, 0, 0, time.UTC).Unix() / 900 * 1_000_000_000
	want := map[string]int64{
		"gdeltflow-gdelt-english-mentions":                       w151500 + 2,
		"gdeltflow-gdelt-english-mentions-repair-20230702144500": 2,
	}
	if len(s.Txns) != len(want) {
		t.Errorf("txns %v, want %v", s.Txns, want)
	}
	for app, v := range want {
		if s.Txns[app].Version != v {
			t.Errorf("txn %s: %+v, want version %d", app, s.Txns[app], v)
		}
	}
	if n, _ := s.NumRecords(); n != 6 {
		t.Errorf("%d rows, want 6", n)
	}
	lines := rec.matching("INFO", "committed version 1 of "+table+": 6 rows, 1 files, ")
	if len(lines) != 1 || !strings.Contains(lines[0], " ms; windows 20230702144500..20230702151500 (3), repair") {
		t.Errorf("commit log lines %q\n%s", lines, rec)
	}
}

// TestDeltaLakePathChecks: a blank path, one with surrounding whitespace and
// the root are refused by lint and at parse.
func TestDeltaLakePathChecks(t *testing.T) {
	for _, p := range []string{`" "`, `" ./out/bronze/events"`, `"./out/bronze/events "`, `"/"`, `"file:///"`} {
		sb := service.NewStreamBuilder()
		err := sb.SetYAML(fmt.Sprintf("input: { generate: { count: 1, mapping: 'root.id = 1' } }\noutput: { delta_lake: { path: %s, schema: [ { name: id, type: long } ], progress: none } }", p))
		if err == nil || !strings.Contains(err.Error(), "path") {
			t.Errorf("path %s: lint error %v", p, err)
		}
	}
	for p, want := range map[string]string{"": "blank", "  ": "blank", " x": "whitespace", "x\t": "whitespace", "/": "root", "file:///": "root", "/./": "root"} {
		if err := checkTablePath(p); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("checkTablePath(%q) = %v, want %q", p, err, want)
		}
	}
	for _, p := range []string{"./out/bronze/events", "/data/events", "s3://lake/bronze/events", "file:///data/t"} {
		if err := checkTablePath(p); err != nil {
			t.Errorf("checkTablePath(%q) = %v", p, err)
		}
	}
}

// TestDeltaLakeProgressGDELTKafka: rows that ingest put into Kafka are keyed by
// topic partition and feed position, so a window ingest sent twice (new
// offsets, the same lines) is skipped the second time.
func TestDeltaLakeProgressGDELTKafka(t *testing.T) {
	runstate.Reset()
	defer runstate.Reset()
	table := filepath.Join(t.TempDir(), "mentions")
	// Offsets 0-3: window 15:00 lines 1-2, window 15:15 lines 1-2; offsets
	// 4-7: the same four rows sent again; offset 8: window 15:15 line 3.
	yaml := fmt.Sprintf(`
input:
  generate:
    count: 9
    interval: ""
    mapping: |
      let n = counter() - 1
      let k = if $n < 8 { $n %% 4 } else { 4 }
      root.id = $k
      meta kafka_topic = "gdelt.mentions"
      meta kafka_partition = "3"
      meta kafka_offset = $n.string()
      meta gdelt_window = if $k < 2 { "20230702150000" } else { "20230702151500" }
      meta gdelt_line = ($k %% 2 + 1 + if $k == 4 { 2 } else { 0 }).string()
output:
  delta_lake:
    path: %s
    schema:
      - { name: id, type: long, nullable: false }
    progress: gdelt_kafka
    batching: { count: 6, period: 100ms }
`, table)
	st, _ := dlStream(t, yaml)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := st.Run(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := delta.Load(ctx, deltatest.Local(t, table))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := s.NumRecords(); n != 5 {
		t.Errorf("%d rows, want the 5 distinct lines once each", n)
	}
	w151500 := time.Date(2023, 7, 2, 15, 15, 0, 0, time.UTC).Unix() / 900 * 1_000_000_000
	if got := s.Txns["gdeltflow-gdelt.mentions-3-lines"].Version; got != w151500+3 {
		t.Errorf("txn %v, want version %d", s.Txns, w151500+3)
	}
}

// TestDeltaLakeWarnsOfACorruptCheckpoint: a table whose checkpoint cannot be
// read still opens (the snapshot comes from the JSON log), and the output
// says so at warn, once, naming the checkpoint.
func TestDeltaLakeWarnsOfACorruptCheckpoint(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := deltatest.Local(t, dir)
	tbl, _ := delta.OpenTable(ctx, st, delta.TableConfig{})
	js, _ := schema.StructType{Fields: []schema.StructField{
		schema.NewField("id", schema.LongType, true), schema.NewField("day", schema.StringType, true)}}.JSON()
	meta := delta.Metadata{ID: "test", Format: delta.Format{Provider: "parquet"}, SchemaString: js, PartitionColumns: []string{"day"}}
	if err := tbl.Create(ctx, meta, delta.Protocol{}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 12; i++ {
		add := delta.Add{Path: fmt.Sprintf("day=2024-01-01/part-%05d.parquet", i), Size: 100, DataChange: true,
			Stats: `{"numRecords":2,"minValues":{"id":1},"maxValues":{"id":2},"nullCount":{"id":0}}`}
		if _, err := tbl.Commit(ctx, delta.Commit{Adds: []delta.Add{add}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(delta.CheckpointPath(10))), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}

	runstate.Reset()
	defer runstate.Reset()
	st2, rec := dlStream(t, fmt.Sprintf(`
input:
  generate: { count: 1, interval: "", mapping: 'root = {"id": 1, "day": "2024-01-01"}' }
output:
  delta_lake:
    path: %s
    schema: [ { name: id, type: long }, { name: day, type: string } ]
    partition_by: [ { column: day } ]
    progress: none
`, dir))
	if err := st2.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if w := rec.matching("WARN", dir, "checkpoint of version 10", "not usable"); len(w) != 1 {
		t.Errorf("warnings logged: %q\n%s", w, rec)
	}
}

// TestDeltaLakeBackOffEndsTheOpenRetries: the backoff field drives the
// retries of opening the table; with a max_elapsed_time the output stops
// retrying by itself and hands the error to the engine, which retries the
// connection its own way (and logs it). Mended, the table then opens.
func TestDeltaLakeBackOffEndsTheOpenRetries(t *testing.T) {
	runstate.Reset()
	defer runstate.Reset()
	table := filepath.Join(t.TempDir(), "events")
	commit0 := filepath.Join(table, "_delta_log", "00000000000000000000.json")
	if err := os.MkdirAll(filepath.Dir(commit0), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(commit0, []byte("garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, rec := dlStream(t, dlYAML(5, table, "    backoff: { initial_interval: 20ms, max_interval: 20ms, max_elapsed_time: 200ms }"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for len(rec.matching("ERROR", "Failed to connect", "damaged table log")) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the engine never saw the open fail: the retries did not end\n%s", rec)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := os.RemoveAll(filepath.Join(table, "_delta_log")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("stream: %v\n%s", err, rec)
		}
	case <-ctx.Done():
		t.Fatalf("the stream did not finish after the table was mended\n%s", rec)
	}
	s, err := delta.Load(context.Background(), deltatest.Local(t, table))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := s.NumRecords(); n != 5 {
		t.Errorf("%d rows, want 5", n)
	}
}

package tests

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
	"github.com/gdeltflow/gdeltflow/tests/miniotest"
)

// TestLocalMinIOPipeline runs the embedded default with its tables on a real
// MinIO server (GDELT_LAKE=s3://lake: the only difference from the local
// run), copies the tables out of the bucket and has DuckDB compare the
// bronze tables with the mirror's rows and the silver tables with the SQL
// join.
func TestLocalMinIOPipeline(t *testing.T) {
	requireDuckDB(t)
	srv := miniotest.Start(t)
	srv.Bucket(t, "lake")
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, benthosBin(t), "-c", "pipelines/local.yaml")
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "GDELT_OUT="+out, "GDELT_LAKE=s3://lake", "LOG_LEVEL=warn", "S3_ENDPOINT=http://"+srv.Endpoint,
		"S3_ACCESS_KEY_ID="+srv.AccessKey, "S3_SECRET_ACCESS_KEY="+srv.SecretKey)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GDELT_LAKE=s3://lake benthos -c pipelines/local.yaml: %v\n%s", err, b)
	} else if strings.Contains(string(b), srv.SecretKey) {
		t.Fatal("the secret key appears in the log")
	}
	if _, err := os.Stat(filepath.Join(out, "bronze")); err == nil {
		t.Error("tables were written locally as well")
	}

	local := downloadPrefixes(t, srv, "lake", "bronze/", "silver/", "audit/", "gold/")
	want := mirrorRows(t)
	src := t.TempDir()
	mirror := filepath.Join(repoRoot(t), "resources", "mirror")
	for table, name := range bronzeTables {
		c := compareDelta(t, filepath.Join(local, "bronze", name), table, unzipTable(t, mirror, table, src))
		t.Logf("s3://lake/bronze/%s: %+v", name, c)
		if c.DeltaRows != want[table] || c.Missing != 0 || c.Extra != 0 || c.PartitionErrors != 0 {
			t.Errorf("s3://lake/bronze/%s: %+v, want exactly the %d source rows", name, c, want[table])
		}
	}
	got := compareSilver(t, rawDir(t, mirror), local, 192, "")
	t.Logf("s3://lake/silver: %+v", got)
	if !got.exact() || got.DetailedRows != int64(want["mentions"]) {
		t.Errorf("silver on MinIO differs from the SQL join: %+v", got)
	}
	// Gold on MinIO, the SQLite mart in GDELT_OUT equal to it, and the audit's lifecycle.
	compareMart(t, local, filepath.Join(out, "mart.sqlite"))
	checkLifecycle(t, local)
}

// TestMinIOOutage stops MinIO for several seconds while the pipeline writes
// to it, then starts it again: the pipeline stalls, retries with backoff and
// finishes with every row exactly once.
func TestMinIOOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("an outage of several seconds")
	}
	requireDuckDB(t)
	srv := miniotest.Start(t)
	srv.Bucket(t, "lake")
	mirror := t.TempDir()
	m, err := gdeltgen.NewMirror(mirror, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := gdeltgen.Generate(gdeltgen.Small(time.Date(2023, 7, 2, 15, 45, 0, 0, time.UTC), 20, 5), m.AddWindow); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, benthosBin(t), "-c", "pipelines/local.yaml")
	cmd.Dir = repoRoot(t)
	var logBuf strings.Builder
	cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
	outDir := t.TempDir()
	cmd.Env = append(os.Environ(), "GDELT_OUT="+outDir, "GDELT_LAKE=s3://lake", "LOG_LEVEL=warn", "S3_ENDPOINT=http://"+srv.Endpoint,
		"S3_ACCESS_KEY_ID="+srv.AccessKey, "S3_SECRET_ACCESS_KEY="+srv.SecretKey, "GDELT_BASE_URL="+mirror,
		"GDELT_BATCH_ROWS=25", "DELTA_BATCH_ROWS=25", "GDELTFLOW_TEST_DELTA_COMMIT_DELAY=20ms")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// The outage starts once the pipeline is writing (its first bronze
	// commit is there), not after a fixed time a loaded machine may not meet.
	mc := srv.Client(t)
	for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		_, err := mc.StatObject(ctx, "lake", "bronze/events/_delta_log/00000000000000000001.json", minio.StatObjectOptions{})
		if err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the pipeline ended before its first commit (%v)\n%s", err, tail(logBuf.String(), 3000))
		default:
		}
		if time.Since(start) > time.Minute {
			t.Fatalf("no bronze commit after a minute\n%s", tail(logBuf.String(), 3000))
		}
	}
	srv.Stop()
	// Longer than minio-go's own retries of a request (10, 0.2 s doubling
	// to 1 s: ~8 s), which absorb a shorter outage without an error the
	// pipeline would log: a 6 s outage passed unseen on a loaded machine.
	select {
	case err := <-done:
		t.Fatalf("the pipeline ended during the outage (%v): it should stall\n%s", err, tail(logBuf.String(), 3000))
	case <-time.After(12 * time.Second):
	}
	srv.Restart(t)
	if err := <-done; err != nil {
		t.Fatalf("pipeline: %v\n%s", err, logBuf.String())
	}
	if !strings.Contains(logBuf.String(), "connection refused") {
		t.Errorf("the log does not show the outage:\n%s", logBuf.String())
	}

	c := srv.Client(t)
	local := t.TempDir()
	for obj := range c.ListObjects(ctx, "lake", minio.ListObjectsOptions{Prefix: "bronze/", Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		if err := c.FGetObject(ctx, "lake", obj.Key, filepath.Join(local, filepath.FromSlash(obj.Key)), minio.GetObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	src := t.TempDir()
	for table, name := range bronzeTables {
		c := compareDelta(t, filepath.Join(local, "bronze", name), table, unzipTable(t, mirror, table, src))
		t.Logf("s3://lake/bronze/%s after the outage: %+v", name, c)
		if c.Missing != 0 || c.Extra != 0 || c.DeltaRows != c.SourceRows || c.PartitionErrors != 0 {
			rejects, _ := os.ReadFile(filepath.Join(outDir, "rejects.jsonl"))
			t.Errorf("s3://lake/bronze/%s: %+v, want every source row exactly once\nrejects: %s\nlog: %s", name, c, tail(string(rejects), 2000), tail(logBuf.String(), 6000))
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

package tests

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/gdeltflow/gdeltflow/tests/miniotest"
)

// TestLocalMinIOPipeline runs pipelines/local_minio.yaml against a real MinIO
// server, copies the three bronze tables out of the bucket and has DuckDB
// compare them with the mirror's rows.
func TestLocalMinIOPipeline(t *testing.T) {
	srv := miniotest.Start(t)
	srv.Bucket(t, "lake")
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, benthosBin(t), "-c", "pipelines/local_minio.yaml")
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "GDELT_OUT="+out, "LOG_LEVEL=warn", "S3_ENDPOINT=http://"+srv.Endpoint,
		"S3_ACCESS_KEY_ID="+srv.AccessKey, "S3_SECRET_ACCESS_KEY="+srv.SecretKey)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("benthos -c pipelines/local_minio.yaml: %v\n%s", err, b)
	} else if strings.Contains(string(b), srv.SecretKey) {
		t.Fatal("the secret key appears in the log")
	}

	// Download the bucket's tables with a plain S3 client.
	c := srv.Client(t)
	local := t.TempDir()
	var objects int
	for obj := range c.ListObjects(ctx, "lake", minio.ListObjectsOptions{Prefix: "bronze/", Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		r, err := c.GetObject(ctx, "lake", obj.Key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(local, filepath.FromSlash(obj.Key))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(f, r); err != nil {
			t.Fatal(err)
		}
		f.Close()
		r.Close()
		objects++
	}
	if objects == 0 {
		t.Fatal("nothing in the bucket")
	}
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
}

package tests

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/delta"
	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
	"github.com/gdeltflow/gdeltflow/tests/miniotest"
)

// TestMinIOScriptPrintsUsableSettings: `tests/minio.sh start` prints lines a
// shell can eval, with a full http:// endpoint (without the scheme the S3
// clients speak HTTPS to MinIO and retry for ever); with exactly those
// settings a table can be created in the bucket the script made.
func TestMinIOScriptPrintsUsableSettings(t *testing.T) {
	if miniotest.Binary() == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("MinIO server not installed (bash tests/minio.sh install)")
		}
		t.Skip("MinIO server not installed (bash tests/minio.sh install)")
	}
	dir := t.TempDir()
	script := filepath.Join(repoRoot(t), "tests", "minio.sh")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	t.Cleanup(func() { _ = exec.Command("bash", script, "stop", dir).Run() })
	out, err := exec.CommandContext(ctx, "bash", script, "start", dir, "lake").Output()
	if err != nil {
		t.Fatalf("minio.sh start: %v\n%s", err, out)
	}
	// The shell's view of the output: eval it and print the settings.
	shell := exec.CommandContext(ctx, "bash", "-c", `eval "$MINIO_OUT" && printf '%s\n' "$S3_ENDPOINT" "$S3_ACCESS_KEY_ID" "$S3_SECRET_ACCESS_KEY" "$AWS_ENDPOINT_URL" "$AWS_ACCESS_KEY_ID"`)
	shell.Env = append(os.Environ(), "MINIO_OUT="+string(out))
	vals, err := shell.Output()
	if err != nil {
		t.Fatalf("eval of the output failed: %v\n%s", err, out)
	}
	v := strings.Split(strings.TrimSpace(string(vals)), "\n")
	if len(v) != 5 || !strings.HasPrefix(v[0], "http://127.0.0.1:") || v[1] == "" || v[2] == "" || v[3] != v[0] || v[4] != v[1] {
		t.Fatalf("settings after eval: %q\noutput:\n%s", v, out)
	}
	if !strings.HasPrefix(string(out), "# MinIO on "+v[0]) {
		t.Errorf("the first line does not name the endpoint:\n%s", out)
	}
	st, err := storage.Open("s3://lake/script-check", storage.S3Config{Endpoint: v[0], AccessKeyID: v[1], SecretAccessKey: v[2], PathStyle: true, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := delta.OpenTable(ctx, st, delta.TableConfig{})
	if err != nil {
		t.Fatalf("opening a table with the printed settings: %v", err)
	}
	meta := delta.Metadata{SchemaString: `{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}}]}`}
	if err := tbl.Create(ctx, meta, delta.Protocol{}); err != nil {
		t.Fatalf("creating a table with the printed settings: %v", err)
	}
}

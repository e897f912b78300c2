package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/delta"
	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
	"github.com/gdeltflow/gdeltflow/tests/miniotest"
)

// The commands on a table in MinIO (skipped when the MinIO server is not
// installed: bash tests/minio.sh install).
func TestS3EndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("MinIO tests skipped in -short mode")
	}
	srv := miniotest.Start(t)
	srv.Bucket(t, "lake")
	ctx := context.Background()
	const loc = "s3://lake/gdelt/events"
	st, err := storage.Open(loc, storage.S3Config{
		Endpoint: srv.Endpoint, Region: "us-east-1", PathStyle: true,
		AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := delta.OpenTable(ctx, st, delta.TableConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := tbl.Create(ctx, testMeta(), delta.Protocol{}); err != nil {
		t.Fatal(err)
	}
	add := testAdd("2024-01-01", "part-0.parquet", 5)
	if err := st.Write(ctx, delta.DecodePath(add.Path), bytes.NewReader(make([]byte, 100)), 100); err != nil {
		t.Fatal(err)
	}
	if _, err := tbl.Commit(ctx, delta.Commit{Adds: []delta.Add{add}, Txns: []delta.Txn{{AppID: "gdelt-events", Version: 42}}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Write(ctx, "day=2024-01-01/part-orphan.parquet", strings.NewReader("orphan"), 6); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)

	// Endpoint from the environment (a URL, so http), credentials too.
	env := map[string]string{
		"DELTA_S3_ENDPOINT":     "http://" + srv.Endpoint,
		"AWS_ACCESS_KEY_ID":     srv.AccessKey,
		"AWS_SECRET_ACCESS_KEY": srv.SecretKey,
	}
	check := func(args []string, re string) {
		t.Helper()
		code, out, errOut := runCmd(t, env, args...)
		if code != 0 || !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("%q: code %d, no match for %s in:\n%s%s", args, code, re, out, errOut)
		}
		if strings.Contains(out+errOut, srv.SecretKey) {
			t.Errorf("%q printed the secret key", args)
		}
	}
	check([]string{"count", loc}, `(?m)^rows\s+5$`)
	check([]string{"history", loc}, `(?m)^1\s+\S+\s+WRITE\s+\+5\s+\+1 -0\s+\+100\s+gdelt-events=42\s`)
	check([]string{"txn", loc}, `(?m)^gdelt-events\s+42\s`)
	check([]string{"files", loc}, `(?m)^day=2024-01-01/part-0\.parquet\s+day=2024-01-01\s+100\s+5\s`)
	check([]string{"schema", loc}, `(?m)^partitioned by\s+day$`)

	// The pipelines' names alone (S3_ENDPOINT as tests/minio.sh prints it,
	// S3_* credentials) reach the same table; the AWS_* pair is wrong here.
	pipelineEnv := map[string]string{
		"S3_ENDPOINT":           "http://" + srv.Endpoint,
		"S3_ACCESS_KEY_ID":      srv.AccessKey,
		"S3_SECRET_ACCESS_KEY":  srv.SecretKey,
		"AWS_ACCESS_KEY_ID":     "wrong",
		"AWS_SECRET_ACCESS_KEY": "wrong",
	}
	if code, out, errOut := runCmd(t, pipelineEnv, "count", loc); code != 0 || !regexp.MustCompile(`(?m)^rows\s+5$`).MatchString(out) {
		t.Errorf("count with S3_* names: code %d\n%s%s", code, out, errOut)
	}

	// The endpoint as a flag (host:port with -s3-insecure) overrides the environment.
	env["DELTA_S3_ENDPOINT"] = "127.0.0.1:1"
	check([]string{"vacuum", "-s3-endpoint", srv.Endpoint, "-s3-insecure", "-retention", "0s", loc}, `(?m)^orphan\s+day=2024-01-01/part-orphan\.parquet\s+6\s`)
	check([]string{"-s3-insecure", "vacuum", "-retention", "0s", "-execute", "-force", loc, "-s3-endpoint", srv.Endpoint}, `deleted 1 file \(1 orphan, 0 expired tombstones\), 6 bytes`)
	check([]string{"checkpoint", "-s3-endpoint", "http://" + srv.Endpoint, loc}, `wrote checkpoint of version 1`)

	files, err := st.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Path)
	}
	got := strings.Join(names, " ")
	if strings.Contains(got, "part-orphan") || !strings.Contains(got, "day=2024-01-01/part-0.parquet") ||
		!strings.Contains(got, "_delta_log/00000000000000000001.checkpoint.parquet") {
		t.Errorf("objects after vacuum and checkpoint: %s", got)
	}
}

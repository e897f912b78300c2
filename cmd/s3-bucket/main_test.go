package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/secretenv"
	"github.com/gdeltflow/gdeltflow/tests/miniotest"
)

func envOf(vars map[string]string) *secretenv.Env {
	return &secretenv.Env{
		LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		ReadFile:  os.ReadFile,
	}
}

// Against a real MinIO: creates a bucket once, finds it the second time;
// credentials read from secret files; wrong credentials fail at once.
func TestBucketOnMinIO(t *testing.T) {
	srv := miniotest.Start(t)
	dir := t.TempDir()
	idFile, keyFile := filepath.Join(dir, "id"), filepath.Join(dir, "key")
	os.WriteFile(idFile, []byte(srv.AccessKey+"\n"), 0o400)
	os.WriteFile(keyFile, []byte(srv.SecretKey+"\n"), 0o400)
	env := map[string]string{
		"S3_ENDPOINT":               "http://" + srv.Endpoint,
		"S3_ACCESS_KEY_ID_FILE":     idFile,
		"S3_SECRET_ACCESS_KEY_FILE": keyFile,
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"lake", "other"}, &out, &errb, envOf(env)); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if out.String() != "lake created\nother created\n" {
		t.Errorf("first run: %q", out.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"lake"}, &out, &errb, envOf(env)); code != 0 || out.String() != "lake exists\n" {
		t.Errorf("second run: exit %d %q %s", code, out.String(), errb.String())
	}
	ok, err := srv.Client(t).BucketExists(context.Background(), "other")
	if err != nil || !ok {
		t.Errorf("bucket other on the server: %v %v", ok, err)
	}
	bad := map[string]string{"S3_ENDPOINT": "http://" + srv.Endpoint, "S3_ACCESS_KEY_ID": srv.AccessKey, "S3_SECRET_ACCESS_KEY": "wrong-secret"}
	start := time.Now()
	errb.Reset()
	if code := run(context.Background(), []string{"lake2"}, &out, &errb, envOf(bad)); code != 1 || time.Since(start) > 10*time.Second {
		t.Errorf("wrong secret: exit %d after %v: %s", code, time.Since(start), errb.String())
	}
}

// An endpoint that does not answer is waited for, up to -wait.
func TestBucketWaitsForTheEndpoint(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var out, errb bytes.Buffer
	start := time.Now()
	code := run(context.Background(), []string{"-wait", "1500ms", "lake"}, &out, &errb,
		envOf(map[string]string{"S3_ENDPOINT": "http://" + addr, "S3_ACCESS_KEY_ID": "a", "S3_SECRET_ACCESS_KEY": "b"}))
	if code != 1 || time.Since(start) < time.Second || !strings.Contains(errb.String(), "retrying") || !strings.Contains(errb.String(), "gave up waiting") {
		t.Errorf("exit %d after %v: %s", code, time.Since(start), errb.String())
	}
	errb.Reset()
	if code := run(context.Background(), []string{"lake"}, &out, &errb,
		envOf(map[string]string{"S3_ENDPOINT": "http://" + addr, "S3_ACCESS_KEY_ID_FILE": "/nonexistent/secret"})); code != 1 || !strings.Contains(errb.String(), "S3_ACCESS_KEY_ID_FILE") {
		t.Errorf("unreadable secret: exit %d %s", code, errb.String())
	}
}

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestRunBadUsage(t *testing.T) {
	dir := golden(t, "simple_table")
	for _, args := range [][]string{
		{},
		{"frobnicate", dir},
		{"count"},
		{"count", dir, dir},
		{"count", "-bogus", dir},
		{"history", "-n", "-1", dir},
		{"history", "-n", "many", dir},
		{"files", "-version", "-2", dir},
		{"vacuum", "-retention", "a week", dir},
		{"vacuum", "-retention", "-1h", dir},
		{"version", "extra"},
		{"-s3-region"},
		{"count", ""},
	} {
		code, out, errOut := runCmd(t, nil, args...)
		if code != 2 {
			t.Errorf("%q: exit code %d, want 2", args, code)
		}
		if out != "" || !strings.Contains(errOut, "Usage: delta-table <command>") || !strings.HasPrefix(errOut, "delta-table: ") {
			t.Errorf("%q: stdout %q, stderr %q", args, out, errOut)
		}
	}
}

func TestRunMissingTable(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-table")
	for _, cmd := range []string{"history", "schema", "files", "txn", "count", "checkpoint", "vacuum"} {
		code, out, errOut := runCmd(t, nil, cmd, missing)
		if code != 1 {
			t.Errorf("%s: exit code %d, want 1", cmd, code)
		}
		want := "delta-table " + cmd + " " + missing + ": no Delta table here"
		if out != "" || !strings.HasPrefix(errOut, want) || strings.Contains(errOut, "Usage:") {
			t.Errorf("%s: stdout %q, stderr %q, want %q...", cmd, out, errOut, want)
		}
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("a command created the missing table's folder: %v", err)
	}
	// A version past the end is an error too.
	code, _, errOut := runCmd(t, nil, "count", "-version", "99", golden(t, "simple_table"))
	if code != 1 || !strings.Contains(errOut, "latest version is 4") {
		t.Errorf("-version 99: code %d, %s", code, errOut)
	}
}

func TestRunFlagsAnywhere(t *testing.T) {
	dir := golden(t, "data-skipping-basic-stats-all-types")
	for _, args := range [][]string{
		{"count", dir},
		{"-s3-region", "eu-west-1", "count", dir},
		{"count", "-s3-insecure", dir},
		{"count", dir, "-s3-endpoint", "http://127.0.0.1:1"},
		{"-s3-insecure", "count", "-version", "0", dir, "-s3-region=eu-west-1"},
		{"count", "--", dir},
	} {
		code, out, errOut := runCmd(t, nil, args...)
		if code != 0 || !regexp.MustCompile(`(?m)^rows\s+1$`).MatchString(out) {
			t.Errorf("%q: code %d\n%s%s", args, code, out, errOut)
		}
	}
	code, out, _ := runCmd(t, nil, "count", dir, "-json")
	if code != 0 || strings.TrimSpace(out) != `{"version":0,"rows":1,"files":1,"bytes":2738}` {
		t.Errorf("count <dir> -json: %d %q", code, out)
	}
}

func TestRunHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"count", "-help"}} {
		code, out, errOut := runCmd(t, nil, args...)
		if code != 0 || !strings.Contains(out, "Usage: delta-table") || errOut != "" {
			t.Errorf("%q: code %d, stderr %q", args, code, errOut)
		}
	}
	for _, arg := range []string{"version", "-version", "--version"} {
		code, out, _ := runCmd(t, nil, arg)
		if code != 0 || !strings.HasPrefix(out, "delta-table "+Version) {
			t.Errorf("%s: %d %q", arg, code, out)
		}
	}
}

func TestS3Config(t *testing.T) {
	env := map[string]string{
		"DELTA_S3_ENDPOINT":     "http://minio:9000",
		"AWS_ENDPOINT_URL":      "https://ignored:443",
		"AWS_REGION":            "eu-central-1",
		"AWS_ACCESS_KEY_ID":     "AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY": "s3cr3t-do-not-print",
		"AWS_SESSION_TOKEN":     "tok",
	}
	getenv := func(k string) string { return env[k] }
	parse := func(args ...string) globalFlags {
		t.Helper()
		g := envGlobalFlags(getenv)
		if _, _, _, _, err := parseCommandLine(args, &g); err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		return g
	}
	g := parse("count", "s3://b/t")
	c := g.s3Config(getenv)
	if c.Endpoint != "http://minio:9000" || c.Region != "eu-central-1" || !c.Secure || !c.PathStyle ||
		c.AccessKeyID != "AKIDEXAMPLE" || c.SecretAccessKey != "s3cr3t-do-not-print" || c.SessionToken != "tok" {
		t.Errorf("from env: %+v", c)
	}
	g = parse("-s3-endpoint", "localhost:9000", "count", "s3://b/t", "-s3-region", "us-west-2", "-s3-insecure")
	c = g.s3Config(getenv)
	if c.Endpoint != "localhost:9000" || c.Region != "us-west-2" || c.Secure {
		t.Errorf("from flags: %+v", c)
	}
	delete(env, "DELTA_S3_ENDPOINT")
	if c := parse("count", "s3://b/t").s3Config(getenv); c.Endpoint != "https://ignored:443" {
		t.Errorf("AWS_ENDPOINT_URL: %+v", c)
	}
	delete(env, "AWS_ENDPOINT_URL")
	delete(env, "AWS_REGION")
	if c := parse("count", "s3://b/t").s3Config(getenv); c.Endpoint != "" || c.PathStyle || c.Region != "us-east-1" {
		t.Errorf("AWS defaults: %+v", c)
	}

	// The pipelines' names: S3_ENDPOINT as -s3-endpoint, the S3_* key pair
	// before the AWS_* one (never one key of each), S3_REGION.
	env["S3_ENDPOINT"] = "http://127.0.0.1:9000"
	env["S3_REGION"] = "ap-south-1"
	env["AWS_REGION"] = "eu-central-1"
	env["S3_ACCESS_KEY_ID"] = "minio-user"
	env["S3_SECRET_ACCESS_KEY"] = "minio-secret"
	c = parse("count", "s3://b/t").s3Config(getenv)
	if c.Endpoint != "http://127.0.0.1:9000" || c.Region != "ap-south-1" || !c.PathStyle ||
		c.AccessKeyID != "minio-user" || c.SecretAccessKey != "minio-secret" || c.SessionToken != "" {
		t.Errorf("S3_* names: %+v", c)
	}
	if c := parse("-s3-endpoint", "http://other:9000", "count", "s3://b/t").s3Config(getenv); c.Endpoint != "http://other:9000" {
		t.Errorf("the flag does not override S3_ENDPOINT: %+v", c)
	}
	env["DELTA_S3_ENDPOINT"] = "http://delta-only:9000"
	if c := parse("count", "s3://b/t").s3Config(getenv); c.Endpoint != "http://delta-only:9000" {
		t.Errorf("DELTA_S3_ENDPOINT does not come first: %+v", c)
	}
	delete(env, "S3_ACCESS_KEY_ID")
	if c := parse("count", "s3://b/t").s3Config(getenv); c.AccessKeyID != "AKIDEXAMPLE" || c.SecretAccessKey != "s3cr3t-do-not-print" {
		t.Errorf("without S3_ACCESS_KEY_ID the AWS_* pair must be used whole: %+v", c)
	}
}

// An unreachable S3 endpoint fails with exit code 1, naming the table, and
// never prints the credentials.
func TestRunS3Unreachable(t *testing.T) {
	if testing.Short() {
		t.Skip("retries take a few seconds")
	}
	env := map[string]string{"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s3cr3t-do-not-print"}
	start := time.Now()
	code, out, errOut := runCmd(t, env, "count", "-s3-endpoint", "http://127.0.0.1:1", "s3://bucket/tables/events")
	if code != 1 || out != "" || !strings.HasPrefix(errOut, "delta-table count s3://bucket/tables/events: ") {
		t.Errorf("code %d, stdout %q, stderr %q", code, out, errOut)
	}
	if strings.Contains(errOut, "s3cr3t") || strings.Contains(errOut, "AKIDEXAMPLE") {
		t.Errorf("credentials in the error: %s", errOut)
	}
	t.Logf("failed in %s: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(errOut))
}

// The built command, run as a process.
func TestProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go not found: %v", err)
	}
	table := golden(t, "data-skipping-basic-stats-all-types")
	bin := filepath.Join(t.TempDir(), "delta-table")
	build := exec.Command(goBin, "build", "-o", bin, "-ldflags", "-X main.Version=9.9.9-test", ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	runBin := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, out.String(), errOut.String()
	}

	code, out, errOut := runBin("count", table)
	want := "rows     1\nfiles    1\nbytes    2738 (2.7 KiB)\nversion  0\n"
	if code != 0 || out != want || errOut != "" {
		t.Errorf("count: exit %d\nstdout %q\nwant   %q\nstderr %q", code, out, want, errOut)
	}
	if code, out, _ := runBin("version"); code != 0 || !strings.HasPrefix(out, "delta-table 9.9.9-test") {
		t.Errorf("version: exit %d, %q", code, out)
	}
	if code, _, errOut := runBin("count", filepath.Join(t.TempDir(), "nothing")); code != 1 || !strings.Contains(errOut, "no Delta table here") {
		t.Errorf("missing table: exit %d, %q", code, errOut)
	}
	if code, _, errOut := runBin("count"); code != 2 || !strings.Contains(errOut, "Usage:") {
		t.Errorf("bad usage: exit %d, %q", code, errOut)
	}
}

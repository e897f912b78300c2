package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

const specPath = "../../resources/topics.yaml"

func cluster(t *testing.T) string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(3))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return strings.Join(c.ListenAddrs(), ",")
}

func runCmd(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut, func(k string) string { return env[k] })
	return code, out.String(), errOut.String()
}

func TestApplyThenDescribe(t *testing.T) {
	brokers := cluster(t)

	code, out, errOut := runCmd(t, nil, "apply", "-brokers", brokers, "-spec", specPath)
	if code != 0 || strings.Count(out, ": created\n") != 4 {
		t.Fatalf("apply: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	// Brokers from the environment; the second apply changes nothing.
	env := map[string]string{"KAFKA_BROKERS": brokers}
	code, out, errOut = runCmd(t, env, "apply", "-spec", specPath)
	want := "gdelt.events: unchanged\ngdelt.mentions: unchanged\ngdelt.gkg: unchanged\ngdelt.dlq: unchanged\n"
	if code != 0 || out != want {
		t.Fatalf("second apply: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}

	code, out, errOut = runCmd(t, env, "describe")
	want = `gdelt.dlq partitions=3 replication_factor=3 compression.type=zstd max.message.bytes=2097152 min.insync.replicas=2 retention.ms=2592000000
gdelt.events partitions=6 replication_factor=3 compression.type=zstd max.message.bytes=2097152 min.insync.replicas=2 retention.ms=604800000
gdelt.gkg partitions=6 replication_factor=3 compression.type=zstd max.message.bytes=2097152 min.insync.replicas=2 retention.ms=604800000
gdelt.mentions partitions=6 replication_factor=3 compression.type=zstd max.message.bytes=2097152 min.insync.replicas=2 retention.ms=604800000
`
	if code != 0 || out != want {
		t.Fatalf("describe: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}

	code, out, _ = runCmd(t, env, "describe", "-json", "gdelt.dlq")
	var got describedTopic
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil {
		t.Fatalf("describe -json: exit %d, %v: %s", code, err, out)
	}
	if got.Topic != "gdelt.dlq" || got.Partitions != 3 || got.ReplicationFactor != 3 || got.Configs["retention.ms"] != "2592000000" {
		t.Fatalf("describe -json: %+v", got)
	}

	if code, _, errOut = runCmd(t, env, "describe", "nope"); code != 1 || !strings.Contains(errOut, "topic nope") {
		t.Fatalf("describe of a missing topic: exit %d, stderr %s", code, errOut)
	}
}

func TestApplyFailureExitsOne(t *testing.T) {
	brokers := cluster(t)
	spec := filepath.Join(t.TempDir(), "topics.yaml")
	if err := os.WriteFile(spec, []byte("defaults: {partitions: 1, replication_factor: 5}\ntopics: [{name: x}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(t, nil, "apply", "-brokers", brokers, "-spec", spec)
	if code != 1 || !strings.Contains(out, "x: failed") || !strings.Contains(errOut, "topic x: creating") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "Usage: kafka-topics"},
		{[]string{"bogus"}, 2, `unknown command "bogus"`},
		{[]string{"apply"}, 2, "no brokers"},
		{[]string{"apply", "-brokers", "127.0.0.1:1", "extra"}, 2, "unexpected arguments"},
		{[]string{"apply", "-brokers", "127.0.0.1:1", "-spec", "/nonexistent.yaml"}, 1, "reading topic spec"},
	} {
		code, _, errOut := runCmd(t, nil, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
	if code, out, _ := runCmd(t, nil, "help"); code != 0 || !strings.Contains(out, "SASL and TLS are not supported") {
		t.Errorf("help: exit %d:\n%s", code, out)
	}
}

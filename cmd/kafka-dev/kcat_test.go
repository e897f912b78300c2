package main

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// kcat (librdkafka) is a client independent of franz-go: if it can list,
// consume and produce against kafka-dev, the broker speaks Kafka to more
// than the client it was written with. Debian package: kcat.

// kcatPath returns kcat's path, or skips the test when kcat is missing
// (fails it under CI=true, where the CI script installs it).
func kcatPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("kcat")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("kcat not installed (apt-get install -y kcat): %v", err)
		}
		t.Skipf("kcat not installed (apt-get install -y kcat): %v", err)
	}
	return p
}

// kcat runs kcat with args (and stdin), bounded in time, and returns stdout.
func kcat(t *testing.T, ctx context.Context, path, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kcat %s: %v\nstderr:\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

func TestKcatListsTopics(t *testing.T) {
	path := kcatPath(t)
	ctx := testContext(t, time.Minute)
	d := startDev(t, t.TempDir(), "0")

	out := kcat(t, ctx, path, "", "-b", d.brokers[0], "-L", "-m", "10")
	if !strings.Contains(out, " 3 brokers:") {
		t.Errorf("kcat -L does not list 3 brokers:\n%s", out)
	}
	got := map[string]int{}
	for _, m := range regexp.MustCompile(`topic "([^"]+)" with (\d+) partitions:`).FindAllStringSubmatch(out, -1) {
		got[m[1]], _ = strconv.Atoi(m[2])
	}
	want := map[string]int{"gdelt.events": 6, "gdelt.mentions": 6, "gdelt.gkg": 6, "gdelt.dlq": 3}
	for name, parts := range want {
		if got[name] != parts {
			t.Errorf("kcat -L: topic %s has %d partitions, want %d", name, got[name], parts)
		}
	}
	for _, m := range regexp.MustCompile(`replicas: ([0-9,]+),`).FindAllStringSubmatch(out, -1) {
		if n := len(strings.Split(m[1], ",")); n != 3 {
			t.Errorf("kcat -L: a partition has %d replicas (%s), want 3", n, m[1])
		}
	}
	if t.Failed() {
		t.Logf("kcat -L output:\n%s", out)
	}
	d.stop()
}

func TestKcatConsumesAndProduces(t *testing.T) {
	path := kcatPath(t)
	ctx := testContext(t, time.Minute)
	d := startDev(t, t.TempDir(), "0")

	// franz-go produces (zstd, as the topic config asks), kcat consumes.
	producer := newClient(t, d.brokers, kgo.ProducerBatchCompression(kgo.ZstdCompression()))
	recs := []*kgo.Record{
		{Topic: "gdelt.events", Key: []byte("1160000001"), Value: []byte(`{"GLOBALEVENTID":1160000001}`),
			Headers: []kgo.RecordHeader{{Key: "table", Value: []byte("events")}, {Key: "window", Value: []byte("20230702154500")}}},
		{Topic: "gdelt.events", Key: []byte("1160000002"), Value: []byte(`{"GLOBALEVENTID":1160000002}`),
			Headers: []kgo.RecordHeader{{Key: "table", Value: []byte("events")}}},
		{Topic: "gdelt.events", Key: []byte("1160000003"), Value: []byte(`{"GLOBALEVENTID":1160000003}`)},
	}
	if err := producer.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	out := kcat(t, ctx, path, "", "-b", d.brokers[0], "-C", "-t", "gdelt.events", "-o", "beginning", "-e", "-q", "-f", `%k %h %s\n`)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	slices.Sort(lines) // partitions come back in no particular order
	want := []string{
		`1160000001 table=events,window=20230702154500 {"GLOBALEVENTID":1160000001}`,
		`1160000002 table=events {"GLOBALEVENTID":1160000002}`,
		`1160000003  {"GLOBALEVENTID":1160000003}`,
	}
	if !slices.Equal(lines, want) {
		t.Errorf("kcat -C read:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}

	// kcat produces (zstd, key and header), franz-go consumes.
	kcat(t, ctx, path, "https://example.com/a.html|bad row\n",
		"-b", d.brokers[0], "-P", "-t", "gdelt.dlq", "-K", "|", "-H", "reason=decode", "-z", "zstd")
	got := readAll(t, ctx, d.brokers, "gdelt.dlq")
	if len(got) != 1 {
		t.Fatalf("gdelt.dlq has %d records, want 1", len(got))
	}
	r := got[0]
	if string(r.Key) != "https://example.com/a.html" || string(r.Value) != "bad row" ||
		len(r.Headers) != 1 || r.Headers[0].Key != "reason" || string(r.Headers[0].Value) != "decode" {
		t.Errorf("record produced by kcat: key %q value %q headers %v", r.Key, r.Value, r.Headers)
	}
	d.stop()
}

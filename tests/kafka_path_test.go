package tests

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/tests/miniotest"
)

// requireKcat skips without kcat, except in CI.
func requireKcat(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("kcat")
	if err == nil {
		return p
	}
	if strings.EqualFold(getenv("CI"), "true") {
		t.Fatal("kcat is required in CI (apt-get install kcat)")
	}
	t.Skip("kcat not installed")
	return ""
}

// kcatRead reads a whole topic with kcat, one line per record: key TAB headers TAB value.
func kcatRead(t *testing.T, brokers, topic string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, requireKcat(t), "-b", brokers, "-C", "-t", topic, "-o", "beginning", "-e", "-q",
		"-f", "%k\t%h\t%s\n").CombinedOutput()
	if err != nil {
		t.Fatalf("kcat %s: %v\n%s", topic, err, out)
	}
	s := strings.TrimSuffix(string(out), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// TestKafkaPathEndToEnd: generated windows → ingest.yaml → the topics → an
// independent client (kcat) sees every row with its key and headers →
// bronze.yaml → Delta on MinIO, where DuckDB finds every row exactly once.
func TestKafkaPathEndToEnd(t *testing.T) {
	requireDuckDB(t)
	requireKcat(t)
	srv := miniotest.Start(t)
	srv.Bucket(t, "lake")
	k := startKafkaDev(t)
	mirror, windows := genMirror(t, 6, 11)
	want := mirrorCounts(t, mirror)

	startPipeline(t, "pipelines/ingest.yaml", "KAFKA_BROKERS="+k.Brokers, "GDELT_BASE_URL="+mirror,
		"GDELT_MODE=backfill", "INGEST_STATE="+t.TempDir()).Wait(2 * time.Minute)

	for table, topic := range map[string]string{"export": "gdelt.events", "mentions": "gdelt.mentions", "gkg": "gdelt.gkg"} {
		recs := kcatRead(t, k.Brokers, topic)
		if len(recs) != want[table] {
			t.Fatalf("kcat reads %d records in %s, the mirror has %d rows", len(recs), topic, want[table])
		}
		keyField := map[string]int{"export": 0, "mentions": 5, "gkg": 4}[table] // GLOBALEVENTID, MentionIdentifier, DocumentIdentifier
		for _, r := range recs {
			parts := strings.SplitN(r, "\t", 3)
			key, headers, fields := parts[0], parts[1], strings.Split(parts[2], "\t")
			if !strings.Contains(headers, "gdelt_table="+table) || !strings.Contains(headers, "gdelt_window=") ||
				!strings.Contains(headers, "gdelt_line=") || !strings.Contains(headers, "gdelt_stream=english") {
				t.Fatalf("%s record without its gdelt_* headers: %q", topic, headers)
			}
			if key != fields[keyField] {
				t.Fatalf("%s key %q, want field %d of the row, %q", topic, key, keyField+1, fields[keyField])
			}
		}
	}
	t.Logf("kcat read %v records with keys and gdelt_* headers over %d windows", want, len(windows))

	bronze := startPipeline(t, "pipelines/bronze.yaml", append(s3Env(srv, "lake"), "KAFKA_BROKERS="+k.Brokers,
		"BRONZE_GROUP=e2e", "DELTA_BATCH_PERIOD=500ms")...)
	waitRows(t, srv, "lake", want, 2*time.Minute, bronze)
	bronze.Stop()
	checkBronzeExact(t, srv, "lake", mirror)
	if dlq := kcatRead(t, k.Brokers, "gdelt.dlq"); len(dlq) != 0 {
		t.Errorf("%d dead letters, want none: %v", len(dlq), dlq[0])
	}
}

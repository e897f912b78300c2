package tests

import (
	"context"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gdeltflow/gdeltflow/tests/miniotest"
)

// TestBronzeDeadLettersOnlyRefusedRows: bronze.yaml reads a partition whose
// records come in multi-record batches; every third record lacks its
// gdelt_line header, so bronze/events refuses it (no progress key). gdelt.dlq
// receives exactly those records, once each, with reason delta_rejected, and
// the table exactly the others, once each; the group's offsets pass them all.
func TestBronzeDeadLettersOnlyRefusedRows(t *testing.T) {
	requireKcat(t)
	srv := miniotest.Start(t)
	srv.Bucket(t, "lake")
	k := startKafkaDev(t)
	mirror, windows := genMirror(t, 1, 5)
	files := unzipTable(t, mirror, "export", t.TempDir())
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) > 60 {
		lines = lines[:60]
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(k.Brokers, ",")...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	var wantDead []string
	wantRows := 0
	for i, l := range lines {
		id, _, _ := strings.Cut(l, "\t")
		h := []kgo.RecordHeader{{Key: "gdelt_table", Value: []byte("export")}, {Key: "gdelt_stream", Value: []byte("english")},
			{Key: "gdelt_window", Value: []byte(windows[0])}}
		if i%3 == 1 {
			wantDead = append(wantDead, id)
		} else {
			h = append(h, kgo.RecordHeader{Key: "gdelt_line", Value: []byte(strconv.Itoa(i + 1))})
			wantRows++
		}
		recs = append(recs, &kgo.Record{Topic: "gdelt.events", Partition: 0, Key: []byte(id), Value: []byte(l), Headers: h})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	bronze := startPipeline(t, "pipelines/bronze.yaml", append(s3Env(srv, "lake"), "KAFKA_BROKERS="+k.Brokers,
		"BRONZE_GROUP=rejects", "DELTA_BATCH_PERIOD=200ms")...)
	waitRows(t, srv, "lake", map[string]int{"export": wantRows}, 2*time.Minute, bronze)
	for deadline := time.Now().Add(30 * time.Second); groupLag(t, k.Brokers, "rejects", int64(len(recs))) > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("bronze's group still lags after 30 s:\n%s", tail(bronze.log.String(), 3000))
		}
		time.Sleep(300 * time.Millisecond)
	}
	bronze.Stop()

	s, err := s3Snapshot(t, srv, "lake", "bronze/events")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := s.NumRecords(); n != int64(wantRows) {
		t.Errorf("bronze/events holds %d rows, want the %d accepted", n, wantRows)
	}
	var gotDead []string
	for _, r := range kcatRead(t, k.Brokers, "gdelt.dlq") {
		parts := strings.SplitN(r, "\t", 4)
		if !strings.Contains(parts[2], "gdelt_error_reason=delta_rejected") || !strings.Contains(parts[2], "no gdelt_line metadata") {
			t.Errorf("dead letter %s with headers %q, want delta_rejected for its missing gdelt_line", parts[1], parts[2])
		}
		gotDead = append(gotDead, parts[1])
	}
	sort.Strings(gotDead)
	sort.Strings(wantDead)
	if strings.Join(gotDead, " ") != strings.Join(wantDead, " ") {
		t.Fatalf("gdelt.dlq holds %d records %v, want the %d refused %v", len(gotDead), gotDead, len(wantDead), wantDead)
	}
}

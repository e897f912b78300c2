package tests

import (
	"context"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

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

// kcatRead reads a whole topic with kcat, one line per record: partition TAB key TAB headers TAB value.
func kcatRead(t *testing.T, brokers, topic string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, requireKcat(t), "-b", brokers, "-C", "-t", topic, "-o", "beginning", "-e", "-q",
		"-f", "%p\t%k\t%h\t%s\n").CombinedOutput()
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
// independent client (kcat) sees every row with its key and headers, the
// mentions and GKG record of one document in the same partition number, and
// in every partition one window_end marker per window after the window's
// rows, and one end marker → bronze.yaml → Delta on MinIO, where DuckDB
// finds every row exactly once (no marker), and the group's offsets pass
// the markers too.
func TestKafkaPathEndToEnd(t *testing.T) {
	requireDuckDB(t)
	requireKcat(t)
	srv := miniotest.Start(t)
	srv.Bucket(t, "lake")
	k := startKafkaDev(t)
	mirror, windows := genMirror(t, 6, 11)
	want := mirrorCounts(t, mirror)

	ingestMirror(t, k, mirror)

	const partitions = 6                           // resources/topics.yaml
	docPartition := map[string]map[string]string{} // table → document URL → partition
	for table, topic := range map[string]string{"export": "gdelt.events", "mentions": "gdelt.mentions", "gkg": "gdelt.gkg"} {
		recs := kcatRead(t, k.Brokers, topic)
		keyField := map[string]int{"export": 0, "mentions": 5, "gkg": 4}[table] // GLOBALEVENTID, MentionIdentifier, DocumentIdentifier
		rows := 0
		windowEnds, ends := map[string]int{}, map[string]int{} // per partition
		docPartition[table] = map[string]string{}
		for _, r := range recs {
			parts := strings.SplitN(r, "\t", 4)
			part, key, headers, value := parts[0], parts[1], parts[2], parts[3]
			if strings.Contains(headers, "gdelt_marker=") {
				if value != "" || key != "" || !strings.Contains(headers, "gdelt_table="+table) || !strings.Contains(headers, "gdelt_stream=english") {
					t.Fatalf("%s marker record %q: want an empty key and value, gdelt_table=%s and gdelt_stream", topic, r, table)
				}
				switch {
				case strings.Contains(headers, "gdelt_marker=window_end") && strings.Contains(headers, "gdelt_window="):
					windowEnds[part]++
				case strings.Contains(headers, "gdelt_marker=end"):
					ends[part]++
				default:
					t.Fatalf("%s: unknown marker %q", topic, headers)
				}
				continue
			}
			rows++
			fields := strings.Split(value, "\t")
			if !strings.Contains(headers, "gdelt_table="+table) || !strings.Contains(headers, "gdelt_window=") ||
				!strings.Contains(headers, "gdelt_line=") || !strings.Contains(headers, "gdelt_stream=english") {
				t.Fatalf("%s record without its gdelt_* headers: %q", topic, headers)
			}
			if key != fields[keyField] {
				t.Fatalf("%s key %q, want field %d of the row, %q", topic, key, keyField+1, fields[keyField])
			}
			docPartition[table][key] = part
		}
		if rows != want[table] {
			t.Fatalf("kcat reads %d rows in %s, the mirror has %d", rows, topic, want[table])
		}
		for p := 0; p < partitions; p++ {
			ps := strconv.Itoa(p)
			if windowEnds[ps] != len(windows) || ends[ps] != 1 {
				t.Errorf("%s partition %d: %d window_end and %d end markers, want %d and 1", topic, p, windowEnds[ps], ends[ps], len(windows))
			}
		}
	}
	shared := 0
	for url, p := range docPartition["mentions"] {
		if q, ok := docPartition["gkg"][url]; ok {
			shared++
			if p != q {
				t.Errorf("document %s: mentions in partition %s, GKG in %s: not co-partitioned", url, p, q)
			}
		}
	}
	if shared == 0 {
		t.Error("no document has both mentions and a GKG record: co-partitioning untested")
	}
	reg, lag := topicOrder(t, k.Brokers)
	if len(reg) > 0 {
		t.Errorf("records out of window order or after their window's marker: %v (up to %v windows)", reg, lag)
	}
	t.Logf("kcat read %v rows with keys and gdelt_* headers over %d windows, a window_end marker per window and an end marker in every partition; %d documents co-partitioned",
		want, len(windows), shared)

	bronze := startPipeline(t, "pipelines/bronze.yaml", append(s3Env(srv, "lake"), "KAFKA_BROKERS="+k.Brokers,
		"BRONZE_GROUP=e2e")...)
	waitRows(t, srv, "lake", want, 2*time.Minute, bronze)
	// The group's offsets pass the markers too: nothing is left to read.
	records, _ := topicTotals(t, k.Brokers)
	for deadline := time.Now().Add(30 * time.Second); ; {
		lag := groupLag(t, k.Brokers, "e2e", records)
		if lag == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bronze's group still lags %d of %d records (rows and markers) after 30 s", lag, records)
		}
		time.Sleep(300 * time.Millisecond)
	}
	bronze.Stop()
	checkBronzeExact(t, srv, "lake", mirror)
	if dlq := kcatRead(t, k.Brokers, "gdelt.dlq"); len(dlq) != 0 {
		t.Errorf("%d dead letters, want none: %v", len(dlq), dlq[0])
	}
}

// followIngest starts ingest.yaml following the mirror's lastupdate.txt, and
// a goroutine that publishes one more window every interval, like GDELT.
// It returns when every window is published.
func followIngest(t *testing.T, k *kafkaDev, mirror string, windows []string, every time.Duration) (*pipeline, <-chan struct{}) {
	t.Helper()
	setLastUpdate(t, mirror, windows[0])
	ingest := startPipeline(t, "pipelines/ingest.yaml", "KAFKA_BROKERS="+k.Brokers, "GDELT_BASE_URL="+mirror,
		"GDELT_MODE=follow", "GDELT_POLL_INTERVAL=100ms", "INGEST_STATE="+t.TempDir())
	// A follow run without a checkpoint starts at the newest window listed:
	// the next window is published once ingest has begun writing the first,
	// or a slow start (a loaded machine) would begin one window later.
	for deadline := time.Now().Add(60 * time.Second); endOffsetsSum(t, k.Brokers) == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("ingest wrote nothing of window %s in 60 s", windows[0])
		}
	}
	published := make(chan struct{})
	go func() {
		defer close(published)
		for _, w := range windows[1:] {
			time.Sleep(every)
			setLastUpdate(t, mirror, w)
		}
	}()
	return ingest, published
}

// TestBronzeCrashWhileIngesting kills bronze.yaml with SIGKILL 20 times at
// random points while ingest.yaml keeps producing, restarting it each time;
// then lets it catch up: every row is in the Delta tables exactly once.
func TestBronzeCrashWhileIngesting(t *testing.T) {
	if testing.Short() {
		t.Skip("20 kill -9 trials")
	}
	requireDuckDB(t)
	srv := miniotest.Start(t)
	srv.Bucket(t, "lake")
	k := startKafkaDev(t)
	mirror, windows := genMirror(t, 40, 12)
	want := mirrorCounts(t, mirror)
	_, published := followIngest(t, k, mirror, windows, 550*time.Millisecond)

	env := append(s3Env(srv, "lake"), "KAFKA_BROKERS="+k.Brokers, "BRONZE_GROUP=crash", "BRONZE_INSTANCE_ID=bronze-1",
		"BRONZE_SESSION_TIMEOUT=10s", "BRONZE_YIELD_BYTES=32KiB")
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 3))
	t.Logf("kill times drawn with seed %d", seed)
	for trial := 0; trial < 20; trial++ {
		b := startPipeline(t, "pipelines/bronze.yaml", env...)
		time.Sleep(time.Duration(300+rng.IntN(1500)) * time.Millisecond)
		b.Kill()
		if trial%5 == 4 {
			t.Logf("after %d kills: %v rows in Delta", trial+1, s3Rows(t, srv, "lake"))
		}
	}
	<-published
	final := startPipeline(t, "pipelines/bronze.yaml", env...)
	waitRows(t, srv, "lake", want, 3*time.Minute, final)
	final.Stop()
	checkBronzeExact(t, srv, "lake", mirror)
}

// TestBronzeTwoReplicas runs two bronze replicas in one consumer group: they
// share the partitions and the tables are exact. Then, while ingest keeps
// producing, one replica dies (SIGKILL); the other takes its partitions over
// and the tables are still exact.
func TestBronzeTwoReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("a session timeout of failover")
	}
	requireDuckDB(t)
	srv := miniotest.Start(t)
	srv.Bucket(t, "lake")
	k := startKafkaDev(t)
	mirror, windows := genMirror(t, 24, 13)
	want := mirrorCounts(t, mirror)
	half := windows[:12]
	_, published := followIngest(t, k, mirror, half, 200*time.Millisecond)
	<-published

	env := append(s3Env(srv, "lake"), "KAFKA_BROKERS="+k.Brokers, "BRONZE_GROUP=scale", "BRONZE_SESSION_TIMEOUT=6s")
	a := startPipeline(t, "pipelines/bronze.yaml", append(env, "BRONZE_APP_ID_PREFIX=gdeltflow-bronze-")...)
	b := startPipeline(t, "pipelines/bronze.yaml", append(env, "BRONZE_APP_ID_PREFIX=gdeltflow-bronze-")...)

	// Both replicas commit: the txn appIds (one per topic partition) in the
	// tables' logs are written by two processes.
	halfWant := map[string]int{}
	for table, n := range want {
		halfWant[table] = n * 12 / 24
	}
	waitRows(t, srv, "lake", halfWant, 2*time.Minute, a, b)
	// The second replica's join triggers a rebalance: wait (bounded) until
	// both replicas hold partitions.
	var members map[string]int
	for deadline := time.Now().Add(45 * time.Second); ; {
		members = groupAssignments(t, k.Brokers, "scale")
		if len(members) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d members with partitions after 45 s, want both replicas: %v", len(members), members)
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("group scale: %v", members)

	// The second half arrives while replica a dies.
	for _, w := range windows[12:] {
		setLastUpdate(t, mirror, w)
		time.Sleep(150 * time.Millisecond)
		if w == windows[15] {
			a.Kill()
			t.Logf("replica a killed at window %s; rows so far %v", w, s3Rows(t, srv, "lake"))
		}
	}
	waitRows(t, srv, "lake", want, 3*time.Minute, b)
	b.Stop()
	checkBronzeExact(t, srv, "lake", mirror)
}

// TestBrokerDownThirtySeconds kills the Kafka brokers for 30 s while ingest
// and bronze run: both stall, then resume when the brokers are back (same
// data, same ports), and nothing is lost or written twice.
func TestBrokerDownThirtySeconds(t *testing.T) {
	if testing.Short() {
		t.Skip("a 30 s outage")
	}
	requireDuckDB(t)
	srv := miniotest.Start(t)
	srv.Bucket(t, "lake")
	k := startKafkaDev(t)
	mirror, windows := genMirror(t, 30, 14)
	want := mirrorCounts(t, mirror)
	ingest, published := followIngest(t, k, mirror, windows, 500*time.Millisecond)
	bronze := startPipeline(t, "pipelines/bronze.yaml", append(s3Env(srv, "lake"), "KAFKA_BROKERS="+k.Brokers,
		"BRONZE_GROUP=outage", "BRONZE_INSTANCE_ID=bronze-1", "BRONZE_YIELD_BYTES=64KiB")...)

	time.Sleep(4 * time.Second)
	before := s3Rows(t, srv, "lake")
	k.Kill()
	t.Logf("brokers killed; Delta holds %v", before)
	time.Sleep(30 * time.Second)
	during := s3Rows(t, srv, "lake")
	k.Start()
	t.Logf("brokers back after 30 s; Delta held %v at the end of the outage", during)
	<-published
	waitRows(t, srv, "lake", want, 3*time.Minute, ingest, bronze)
	bronze.Stop()
	ingest.Stop()
	checkBronzeExact(t, srv, "lake", mirror)
}

// groupAssignments returns, per member of a consumer group, how many
// partitions it holds (asked of the group coordinator with kadm).
func groupAssignments(t *testing.T, brokers, group string) map[string]int {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	groups, err := kadm.NewClient(cl).DescribeGroups(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, m := range groups[group].Members {
		if c, ok := m.Assigned.AsConsumer(); ok {
			for _, tp := range c.Topics {
				out[m.MemberID] += len(tp.Partitions)
			}
		}
	}
	return out
}

// TestIngestCrash kills ingest with SIGKILL at random points while it writes a
// mirror to the topics, and restarts it each time: a window whose rows Kafka
// had acknowledged before the checkpoint moved is sent again, at new offsets.
// Bronze keys rows by topic partition and feed position (progress:
// gdelt_kafka) and silver by feed position, so both tables end exact, every
// row once, by DuckDB (bronze against the mirror, silver against the SQL
// join).
func TestIngestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 trials")
	}
	requireDuckDB(t)
	srv := miniotest.Start(t)
	srv.Bucket(t, "lake")
	k := startKafkaDev(t)
	mirror, windows := genMirror(t, 60, 31)
	want := mirrorCounts(t, mirror)
	state := t.TempDir()
	env := []string{"KAFKA_BROKERS=" + k.Brokers, "GDELT_BASE_URL=" + mirror, "GDELT_MODE=backfill", "INGEST_STATE=" + state,
		"GDELT_BATCH_ROWS=40"}
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 5))
	t.Logf("kill times drawn with seed %d", seed)
	kills := 0
	for {
		p := startPipeline(t, "pipelines/ingest.yaml", env...)
		select {
		case <-p.exited:
			if p.err != nil {
				t.Fatalf("ingest: %v\n%s", p.err, tail(p.log.String(), 3000))
			}
		case <-time.After(time.Duration(20+rng.IntN(180)) * time.Millisecond):
			p.Kill()
			kills++
			if kills < 40 {
				continue
			}
			startPipeline(t, "pipelines/ingest.yaml", env...).Wait(2 * time.Minute)
		}
		break
	}
	records, _ := topicTotals(t, k.Brokers)
	rows := int64(want["export"] + want["mentions"] + want["gkg"])
	t.Logf("%d kills; the topics hold %d records for %d rows (the excess: markers and rows sent again)", kills, records, rows)
	if kills == 0 {
		t.Fatal("ingest finished before the first kill: nothing tested")
	}

	bronze := startPipeline(t, "pipelines/bronze.yaml", append(s3Env(srv, "lake"), "KAFKA_BROKERS="+k.Brokers,
		"BRONZE_GROUP=ingest-crash")...)
	silver := startPipeline(t, "pipelines/silver.yaml", append(s3Env(srv, "lake"), "KAFKA_BROKERS="+k.Brokers)...)
	waitRows(t, srv, "lake", want, 3*time.Minute, bronze)
	waitSilver(t, srv, "lake", []string{"silver-0-of-1"}, windows[len(windows)-1], 3*time.Minute, silver)
	bronze.Stop()
	silver.Stop()
	checkBronzeExact(t, srv, "lake", mirror)
	got := checkSilverExact(t, srv, "lake", mirror, windows[len(windows)-1])
	t.Logf("silver after %d ingest kills: %+v", kills, got)
	if !got.exact() {
		t.Errorf("silver differs from the SQL join after ingest re-sent windows: %+v", got)
	}
}

// endOffsetsSum is the records in the table topics so far (0 while they are
// being created or are empty).
func endOffsetsSum(tb testing.TB, brokers string) int64 {
	adm, closeFn := admin(tb, brokers)
	defer closeFn()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ends, err := adm.ListEndOffsets(ctx, "gdelt.events", "gdelt.mentions", "gdelt.gkg")
	if err != nil {
		return 0
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			n += o.Offset
		}
	})
	return n
}

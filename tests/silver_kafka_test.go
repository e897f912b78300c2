package tests

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gdeltflow/gdeltflow/plugins/delta"
	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
	"github.com/gdeltflow/gdeltflow/tests/miniotest"
)

// silverTables are the Delta tables silver.yaml writes, under the bucket.
var silverTables = []string{"silver/events_detailed", "silver/events", "audit/windows"}

// silverTxns returns, per table of silverTables, the txn version of the
// appId gdeltflow-<app> (0 when the table or the txn does not exist yet).
func silverTxns(t testing.TB, srv *miniotest.Server, bucket, app string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, table := range silverTables {
		out[table] = 0
		if snap, err := s3Snapshot(t, srv, bucket, table); err == nil {
			out[table] = snap.Txns["gdeltflow-"+app].Version
		}
	}
	return out
}

// silverReached tells whether the window-versioned tables' txn of app is at
// window or past it. (silver/events is written as events arrive, versioned by
// source position under an appId per partition; its rows are checked by the
// SQL oracle.)
func silverReached(txns map[string]int64, window int64) bool {
	for _, table := range []string{"silver/events_detailed", "audit/windows"} {
		if txns[table] < window {
			return false
		}
	}
	return true
}

// waitSilver polls until the txn of every app (a replica's silver_txn_app)
// reaches the through-window in every silver table.
func waitSilver(t testing.TB, srv *miniotest.Server, bucket string, apps []string, through string, timeout time.Duration, running ...*pipeline) {
	t.Helper()
	w, err := strconv.ParseInt(through, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(timeout)
	for {
		done := true
		got := map[string]map[string]int64{}
		for _, app := range apps {
			got[app] = silverTxns(t, srv, bucket, app)
			if !silverReached(got[app], w) {
				done = false
			}
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			var logs string
			for _, p := range running {
				logs += "\n--- " + p.name + "\n" + tail(p.log.String(), 3000)
			}
			t.Fatalf("silver txns in s3://%s after %s: %v, want every one at %s%s", bucket, timeout, got, through, logs)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// checkSilverExact downloads the bucket's silver and audit tables and has
// DuckDB compare them with the SQL join of the mirror's raw files
// (tests/duckdb/silver_compare.mjs), through the given window.
func checkSilverExact(t *testing.T, srv *miniotest.Server, bucket, mirror, through string) silverResult {
	t.Helper()
	local := downloadPrefixes(t, srv, bucket, "silver/", "audit/")
	raw := rawDir(t, mirror)
	got := compareSilver(t, raw, local, 192, through)
	t.Logf("s3://%s silver through %s: %+v", bucket, through, got)
	if !got.exact() {
		t.Errorf("s3://%s silver through %s: %+v, want every joined row, event and audit count exactly once", bucket, through, got)
		// SILVER_KEEP_DIR=<dir> keeps what DuckDB compared, to look into.
		if keep := getenv("SILVER_KEEP_DIR"); keep != "" {
			dir := filepath.Join(keep, fmt.Sprintf("%s-%s-%d", t.Name(), bucket, time.Now().UnixNano()))
			if err := errors.Join(os.CopyFS(filepath.Join(dir, "out"), os.DirFS(local)), os.CopyFS(filepath.Join(dir, "raw"), os.DirFS(raw))); err != nil {
				t.Logf("keeping the tables: %v", err)
			} else {
				t.Logf("the downloaded tables and raw files are kept in %s", dir)
			}
		}
	}
	return got
}

// ingestMirror writes a whole mirror to the topics (ingest.yaml, backfill).
func ingestMirror(t *testing.T, k *kafkaDev, mirror string) {
	t.Helper()
	startPipeline(t, "pipelines/ingest.yaml", "KAFKA_BROKERS="+k.Brokers, "GDELT_BASE_URL="+mirror,
		"GDELT_MODE=backfill", "INGEST_STATE="+t.TempDir()).Wait(2 * time.Minute)
}

// partitionLog is what one partition of a table topic holds, as read back.
type partitionLog struct {
	Rows       int // records without a gdelt_marker header
	WindowEnds int // window_end markers
	Ends       int // end markers
	// Out of order: rows or markers of an older window than a record
	// before them, and rows of a window whose window_end marker came before.
	Regressions, AfterMarker int
	MaxLag                   int64 // the largest regression, in windows
}

// topicPartition names a partition of a topic.
type topicPartition struct {
	topic string
	part  int32
}

// readTopics reads the three table topics whole and describes each
// partition: rows, markers, and whether rows and markers are in window
// order (silver's completion relies on it).
func readTopics(t *testing.T, brokers string) map[topicPartition]*partitionLog {
	t.Helper()
	topics := []string{"gdelt.events", "gdelt.mentions", "gdelt.gkg"}
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...), kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topics...)
	if err != nil {
		t.Fatal(err)
	}
	remaining := 0
	out := map[topicPartition]*partitionLog{}
	ends.Each(func(o kadm.ListedOffset) {
		remaining += int(o.Offset)
		out[topicPartition{o.Topic, o.Partition}] = &partitionLog{}
	})
	newest, ended := map[topicPartition]time.Time{}, map[topicPartition]time.Time{}
	for remaining > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("reading the topics: %v (%d records left)", err, remaining)
		}
		fs.EachRecord(func(r *kgo.Record) {
			remaining--
			var w time.Time
			marker := ""
			for _, h := range r.Headers {
				switch h.Key {
				case "gdelt_window":
					w, _ = time.Parse("20060102150405", string(h.Value))
				case "gdelt_marker":
					marker = string(h.Value)
				}
			}
			k := topicPartition{r.Topic, r.Partition}
			pl := out[k]
			switch marker {
			case "end":
				pl.Ends++
				return // no window: it ends the stream so far
			case "window_end":
				pl.WindowEnds++
				if w.After(ended[k]) {
					ended[k] = w
				}
			case "":
				pl.Rows++
				if !w.After(ended[k]) && !ended[k].IsZero() {
					pl.AfterMarker++
				}
			}
			if w.Before(newest[k]) {
				pl.Regressions++
				pl.MaxLag = max(pl.MaxLag, int64(newest[k].Sub(w)/(15*time.Minute)))
			} else {
				newest[k] = w
			}
		})
	}
	return out
}

// topicOrder counts, per topic, the records out of window order within
// their partition (see readTopics), and the largest lag, in windows.
func topicOrder(t *testing.T, brokers string) (regressions map[string]int, maxLag map[string]int64) {
	t.Helper()
	regressions, maxLag = map[string]int{}, map[string]int64{}
	for k, pl := range readTopics(t, brokers) {
		if n := pl.Regressions + pl.AfterMarker; n > 0 {
			regressions[k.topic] += n
			maxLag[k.topic] = max(maxLag[k.topic], pl.MaxLag)
		}
	}
	return regressions, maxLag
}

// explainOrder, after a failed check, tells when the topics were not in
// window order within their partitions, which silver's completion assumes.
func explainOrder(t *testing.T, reg map[string]int, lag map[string]int64) {
	t.Helper()
	if t.Failed() && len(reg) > 0 {
		t.Logf("note: the topics as ingested were not in window order within their partitions (%v records behind a newer window, up to %v windows): "+
			"silver emits a window once every partition has moved past it, so such records reach the join after their window was emitted", reg, lag)
	}
}

// silverThrough is the newest window a finite stream lets silver emit: all
// of them, since ingest's window markers close each window in every
// partition and the backfill's end markers close the last ones. (Before the
// markers, a window waited for a row two windows later in every partition,
// so the last two windows of a finite stream were never emitted.)
func silverThrough(windows []string) string { return windows[len(windows)-1] }

// TestSilverKafkaCrash kills silver.yaml with SIGKILL 20 times at random
// points, restarting it each time (it resumes each partition at the point
// gdelt_topics stored, rebuilds the join's state from there and skips the
// windows its Delta txn holds), then lets it catch up: DuckDB finds
// the SQL join's rows exactly once, and the same figures as an uninterrupted
// run into another bucket.
func TestSilverKafkaCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("20 kill -9 trials")
	}
	requireDuckDB(t)
	srv := miniotest.Start(t)
	srv.Bucket(t, "lake")
	srv.Bucket(t, "reference")
	k := startKafkaDev(t)
	// The windows reach the topics in four parts, five kills after each, so
	// that restarts find a stored resume point and new windows after it.
	mirror, windows := genMirror(t, 32, 31)
	through := silverThrough(windows)
	ingestState := t.TempDir()
	ingestPart := func(to string) {
		env := []string{"KAFKA_BROKERS=" + k.Brokers, "GDELT_BASE_URL=" + mirror, "GDELT_MODE=backfill", "INGEST_STATE=" + ingestState}
		if to != "" {
			env = append(env, "GDELT_TO="+to)
		}
		startPipeline(t, "pipelines/ingest.yaml", env...).Wait(2 * time.Minute)
	}
	apps := []string{"silver-0-of-1"}

	// Commits are slowed so that a full run takes longer than most lives
	// and kills land between a window's data files and its commit.
	env := append(s3Env(srv, "lake"), "KAFKA_BROKERS="+k.Brokers, "SILVER_STATE="+t.TempDir(), "LOG_LEVEL=info")
	slow := append(slices.Clip(env), "GDELTFLOW_TEST_DELTA_COMMIT_DELAY=300ms")
	// Restarts after the first stored resume point read from it (gdelt_topics
	// logs it), not from the start of the topics.
	resumed, restored := 0, 0
	count := func(p *pipeline) {
		if strings.Contains(p.log.String(), "gdelt_topics: resuming from the point stored at window") {
			resumed++
			if strings.Contains(p.log.String(), "the join restored its events from its snapshots") {
				restored++
			}
		}
	}
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 5))
	t.Logf("kill times drawn with seed %d; through-window %s of %d windows", seed, through, len(windows))
	throughID, _ := strconv.ParseInt(through, 10, 64)
	var progress []int64 // the events_detailed txn after each kill
	midway := 0          // kills that landed before silver had caught up
	for trial := 0; trial < 20; trial++ {
		if trial%5 == 0 {
			to := ""
			if part := trial / 5; part < 3 {
				to = windows[8*part+7]
			}
			ingestPart(to)
		}
		p := startPipeline(t, "pipelines/silver.yaml", slow...)
		time.Sleep(time.Duration(300+rng.IntN(2501)) * time.Millisecond)
		p.Kill()
		count(p)
		txns := silverTxns(t, srv, "lake", apps[0])
		if !silverReached(txns, throughID) {
			midway++
		}
		progress = append(progress, txns["silver/events_detailed"]%1_000_000) // HHMMSS
		if trial%5 == 4 {
			t.Logf("after %d kills: txns %v", trial+1, txns)
		}
	}
	t.Logf("events_detailed txn (HHMMSS) after each kill: %v; %d of 20 kills landed before the through-window was committed", progress, midway)
	reg, lag := topicOrder(t, k.Brokers)
	if len(reg) > 0 {
		t.Errorf("ingest.yaml left partitions out of window order: %v records behind a newer window or after their window's marker (up to %v windows); silver relies on that order", reg, lag)
	}
	t.Logf("records older than a record before them in their partition: %v (max lag in windows %v)", reg, lag)
	final := startPipeline(t, "pipelines/silver.yaml", env...)
	waitSilver(t, srv, "lake", apps, through, 2*time.Minute, final)
	final.Stop()
	count(final)
	t.Logf("%d of 21 starts resumed from a stored point, %d of them with the join's events restored from its snapshots", resumed, restored)
	if resumed < 10 || restored < resumed*3/4 {
		t.Errorf("%d of 21 starts resumed from a stored resume point, %d restored the join's events: want most", resumed, restored)
	}
	t.Logf("orphan data files left by the kills (uploaded, never committed): %v", silverOrphans(t, srv, "lake"))

	// The reference: one uninterrupted run into another bucket.
	refStart := time.Now()
	ref := startPipeline(t, "pipelines/silver.yaml", append(s3Env(srv, "reference"), "KAFKA_BROKERS="+k.Brokers, "SILVER_STATE="+t.TempDir())...)
	waitSilver(t, srv, "reference", apps, through, 2*time.Minute, ref)
	t.Logf("the uninterrupted reference reached %s in %s", through, time.Since(refStart).Round(time.Millisecond))
	ref.Stop()

	crashed := checkSilverExact(t, srv, "lake", mirror, through)
	reference := checkSilverExact(t, srv, "reference", mirror, through)
	if t.Failed() {
		t.Logf("--- the final run's log:\n%s\n--- the reference's log:\n%s", tail(final.log.String(), 4000), tail(ref.log.String(), 4000))
	}
	explainOrder(t, reg, lag)
	t.Logf("after 20 kills: %d detailed rows (complete %d, no_gkg %d, expired %d), %d events, %d audited windows",
		crashed.DetailedRows, crashed.ByStatus["complete"], crashed.ByStatus["no_gkg"], crashed.ByStatus["expired"], crashed.EventsRows, crashed.AuditWindows)
	if crashed.DetailedRows != reference.DetailedRows || !maps.Equal(crashed.ByStatus, reference.ByStatus) || crashed.EventsRows != reference.EventsRows {
		t.Errorf("after 20 kills %+v, uninterrupted %+v: want the same rows", crashed, reference)
	}
}

// silverOrphans counts, per silver table, the Parquet files in the bucket
// that the table's log does not reference.
func silverOrphans(t testing.TB, srv *miniotest.Server, bucket string) map[string]int {
	t.Helper()
	ctx := context.Background()
	c := srv.Client(t)
	out := map[string]int{}
	for _, table := range silverTables {
		st, err := storage.NewS3("s3://"+bucket+"/"+table, storage.S3Config{Endpoint: srv.Endpoint,
			AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey, PathStyle: true})
		if err != nil {
			t.Fatal(err)
		}
		lctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		snap, err := delta.Load(lctx, st)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		live := map[string]bool{}
		for _, f := range snap.Files {
			if p, err := url.PathUnescape(f.Path); err == nil {
				live[p] = true
			}
			live[f.Path] = true
		}
		for obj := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: table + "/", Recursive: true}) {
			if obj.Err != nil {
				t.Fatal(obj.Err)
			}
			rel := strings.TrimPrefix(obj.Key, table+"/")
			if strings.HasSuffix(rel, ".parquet") && !strings.HasPrefix(rel, "_delta_log/") && !live[rel] {
				out[table]++
			}
		}
	}
	return out
}

// TestSilverKafkaTwoReplicas runs silver.yaml as two replicas writing to the
// same tables, each with half of the mentions and GKG partitions and every
// events partition; replica 1 is killed (SIGKILL) once on the way and
// restarted. Every join is in the tables once, and the shards' audit records
// add up per window.
func TestSilverKafkaTwoReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("two replicas and a restart")
	}
	requireDuckDB(t)
	srv := miniotest.Start(t)
	srv.Bucket(t, "lake")
	k := startKafkaDev(t)
	mirror, windows := genMirror(t, 12, 32)
	through := silverThrough(windows)
	ingestMirror(t, k, mirror)
	reg, lag := topicOrder(t, k.Brokers)
	if len(reg) > 0 {
		t.Errorf("ingest.yaml left partitions out of window order: %v records behind a newer window or after their window's marker (up to %v windows); silver relies on that order", reg, lag)
	}
	t.Logf("records older than a record before them in their partition: %v (max lag in windows %v)", reg, lag)

	// Commits are slowed a little so that the replicas' commits to the same
	// tables interleave and the kill lands on the way.
	env := append(s3Env(srv, "lake"), "KAFKA_BROKERS="+k.Brokers, "SILVER_EVENT_PARTITIONS=0-5", "SILVER_SHARDS=2",
		"GDELTFLOW_TEST_DELTA_COMMIT_DELAY=100ms")
	replica := func(i int) *pipeline {
		return startPipeline(t, "pipelines/silver.yaml", append(slices.Clip(env), fmt.Sprintf("SILVER_SHARD=%d", i),
			map[int]string{0: "SILVER_PARTITIONS=0-2", 1: "SILVER_PARTITIONS=3-5"}[i])...)
	}
	start := time.Now()
	r0, r1 := replica(0), replica(1)

	// Replica 1 dies once it has committed a window, and comes back.
	mid, _ := strconv.ParseInt(windows[0], 10, 64)
	for deadline := time.Now().Add(time.Minute); ; {
		if txns := silverTxns(t, srv, "lake", "silver-1-of-2"); txns["silver/events_detailed"] >= mid {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica 1 committed no window in a minute\n%s", tail(r1.log.String(), 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	r1.Kill()
	killed := r1
	at := silverTxns(t, srv, "lake", "silver-1-of-2")
	t.Logf("replica 1 killed after %s: its txns %v, replica 0's %v", time.Since(start).Round(time.Millisecond),
		at, silverTxns(t, srv, "lake", "silver-0-of-2"))
	if throughID, _ := strconv.ParseInt(through, 10, 64); silverReached(at, throughID) {
		t.Logf("note: replica 1 had already committed %s when killed: its restart only re-reads", through)
	}
	r1 = replica(1)

	waitSilver(t, srv, "lake", []string{"silver-0-of-2", "silver-1-of-2"}, through, 2*time.Minute, r0, r1)
	t.Logf("both shards reached %s after %s", through, time.Since(start).Round(time.Millisecond))
	r0.Stop()
	r1.Stop()
	got := checkSilverExact(t, srv, "lake", mirror, through)
	if t.Failed() {
		for name, p := range map[string]*pipeline{"replica 0": r0, "replica 1 (killed)": killed, "replica 1 (restarted)": r1} {
			t.Logf("--- %s log:\n%s", name, tail(p.log.String(), 4000))
		}
	}
	explainOrder(t, reg, lag)
	t.Logf("two replicas: %d detailed rows (complete %d, no_gkg %d, expired %d), %d events, %d audited windows",
		got.DetailedRows, got.ByStatus["complete"], got.ByStatus["no_gkg"], got.ByStatus["expired"], got.EventsRows, got.AuditWindows)
}

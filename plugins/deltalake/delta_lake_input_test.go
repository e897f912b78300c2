package deltalake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/delta"
	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
	gschema "github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
	"github.com/gdeltflow/gdeltflow/plugins/internal/deltatest"
	"github.com/gdeltflow/gdeltflow/plugins/runstate"
	_ "github.com/gdeltflow/gdeltflow/plugins/state"
)

// collector runs a stream of the given input (and resources) and keeps what
// it emits; the stream ends with its input, or when stop says so.
type collector struct {
	mu   sync.Mutex
	msgs []*service.Message
}

func (c *collector) all() []*service.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*service.Message(nil), c.msgs...)
}

// buildInput builds a stream of input (YAML under `input:`) with resources
// that collects what it emits; nack, when set, fails the batches it says.
func buildInput(input, resources string, c *collector, nack func(service.MessageBatch) bool) (*service.Stream, error) {
	sb := service.NewStreamBuilder()
	if err := sb.AddInputYAML(input); err != nil {
		return nil, err
	}
	if resources != "" {
		if err := sb.AddResourcesYAML(resources); err != nil {
			return nil, err
		}
	}
	if err := sb.SetLoggerYAML("level: warn"); err != nil {
		return nil, err
	}
	if err := sb.AddBatchConsumerFunc(func(_ context.Context, b service.MessageBatch) error {
		if nack != nil && nack(b) {
			return fmt.Errorf("refused")
		}
		c.mu.Lock()
		c.msgs = append(c.msgs, b...)
		c.mu.Unlock()
		return nil
	}); err != nil {
		return nil, err
	}
	return sb.Build()
}

func readAll(t *testing.T, input string) []*service.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var c collector
	st, err := buildInput(input, "", &c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Run(ctx); err != nil {
		t.Fatal(err)
	}
	return c.all()
}

// duckType is the DuckDB type of a Delta primitive.
func duckType(t string) string {
	switch t {
	case "long":
		return "BIGINT"
	case "integer":
		return "INTEGER"
	case "short":
		return "SMALLINT"
	case "byte":
		return "TINYINT"
	case "float":
		return "FLOAT"
	case "double":
		return "DOUBLE"
	case "boolean":
		return "BOOLEAN"
	case "date":
		return "DATE"
	case "timestamp", "timestamp_ntz":
		return "TIMESTAMP"
	case "string":
		return "VARCHAR"
	case "binary":
		return "BLOB"
	}
	return strings.ToUpper(t) // decimal(p,s)
}

// duckExpr turns a column into what comparable gives for our value.
func duckExpr(expr string, t schema.DataType) string {
	switch p := t.Primitive; {
	case p == "date", p == "binary", strings.HasPrefix(p, "decimal"):
		return "CAST(" + expr + " AS VARCHAR)"
	case p == "timestamp", p == "timestamp_ntz":
		return "epoch_us(" + expr + ")"
	}
	return expr
}

// comparable turns a value read into the JSON the DuckDB query gives.
func comparable(v any) any {
	switch x := v.(type) {
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case int8:
		return int64(x)
	case float32:
		return float64(x)
	case json.Number:
		return x.String()
	case []byte:
		var b strings.Builder
		for _, c := range x {
			if c >= 0x20 && c < 0x7f && c != '\\' {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, `\x%02X`, c)
			}
		}
		return b.String()
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 {
			return x.Format(time.DateOnly)
		}
		return x.UnixMicro()
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = comparable(x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = comparable(e)
		}
		return out
	}
	return v
}

// duckRows is DuckDB's read of a table (independent of our code: it replays
// the JSON log in SQL, takes the partition values from it and reads the live
// files with read_parquet), one canonical JSON string per row.
func duckRows(t *testing.T, dir string, s schema.StructType, parts []string) []string {
	t.Helper()
	log := deltatest.Quote(dir + "/_delta_log/*.json")
	files := deltatest.Duck(t, `CREATE TEMP TABLE dlog AS
    SELECT CAST(regexp_extract(filename, '(\d{20})\.json$', 1) AS BIGINT) AS version, json
    FROM read_ndjson_objects(`+log+`, filename = true);
  WITH adds AS (SELECT version, json->>'$.add.path' AS path, CAST(json->'$.add.partitionValues' AS VARCHAR) AS pv FROM dlog WHERE (json->'$.add') IS NOT NULL),
       removes AS (SELECT version, json->>'$.remove.path' AS path FROM dlog WHERE (json->'$.remove') IS NOT NULL),
       last_add AS (SELECT path, arg_max(pv, version) AS pv, max(version) AS v FROM adds GROUP BY path),
       last_remove AS (SELECT path, max(version) AS v FROM removes GROUP BY path)
  SELECT a.path, a.pv FROM last_add a LEFT JOIN last_remove r USING (path) WHERE r.v IS NULL OR r.v < a.v ORDER BY a.path`)
	var selects []string
	for _, f := range files {
		var pv map[string]*string
		if f["pv"] != nil {
			if err := json.Unmarshal([]byte(f["pv"].(string)), &pv); err != nil {
				t.Fatal(err)
			}
		}
		path := filepath.Join(dir, strings.ReplaceAll(decodeURI(f["path"].(string)), "/", string(filepath.Separator)))
		var cols []string
		for _, fld := range s.Fields {
			expr := `"` + fld.Name + `"`
			if contains(parts, fld.Name) {
				lit := "NULL"
				if v := pv[fld.Name]; v != nil && (*v != "" || fld.Type.Primitive == "string") {
					lit = deltatest.Quote(*v)
				}
				expr = "CAST(" + lit + " AS " + duckType(fld.Type.Primitive) + ")"
			}
			cols = append(cols, duckExpr(expr, fld.Type)+` AS "`+fld.Name+`"`)
		}
		selects = append(selects, "SELECT "+strings.Join(cols, ", ")+" FROM read_parquet("+deltatest.Quote(path)+", hive_partitioning = false)")
	}
	if len(selects) == 0 {
		return nil
	}
	var out []string
	for _, r := range deltatest.Duck(t, strings.Join(selects, "\nUNION ALL\n")) {
		b, _ := json.Marshal(r)
		out = append(out, string(b))
	}
	sort.Strings(out)
	return out
}

func decodeURI(p string) string { return delta.DecodePath(p) }

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// ourRows canonicalises the rows the input emitted (map form).
func ourRows(t *testing.T, msgs []*service.Message) []string {
	t.Helper()
	var out []string
	for _, m := range msgs {
		v, err := m.AsStructured()
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(comparable(v))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	sort.Strings(out)
	return out
}

// TestDeltaLakeInputGoldenTables: every golden table of Spark and delta-rs
// (checkpoints, tombstones, partition values of every type, nulls) read by
// the input in snapshot mode equals DuckDB's read of its live files, row for
// row, and every row carries its version, file and partition values.
func TestDeltaLakeInputGoldenTables(t *testing.T) {
	deltatest.RequireDuck(t)
	// (The golden table "checkpoint" has a log only: its files are read in
	// TestDeltaLakeInputSnapshotFailures.)
	for _, name := range []string{"data-reader-partition-values", "data-skipping-basic-stats-all-types",
		"delta-2.2.0-partitioned-types", "simple_table", "simple_table_with_checkpoint"} {
		t.Run(name, func(t *testing.T) {
			dir := deltatest.Golden(t, name)
			snap, err := delta.Load(context.Background(), deltatest.Local(t, dir))
			if err != nil {
				t.Fatal(err)
			}
			s, err := schema.Parse(snap.Metadata.SchemaString)
			if err != nil {
				t.Fatal(err)
			}
			msgs := readAll(t, fmt.Sprintf("delta_lake:\n  path: %s\n  batch_rows: 3\n", dir))
			ours := ourRows(t, msgs)
			duck := duckRows(t, dir, s, snap.Metadata.PartitionColumns)
			if len(ours) == 0 || !reflect.DeepEqual(ours, duck) {
				t.Fatalf("%d rows read, DuckDB %d\nours: %v\nduck: %v", len(ours), len(duck), head(ours), head(duck))
			}
			files := map[string]bool{}
			for _, m := range msgs {
				v, _ := m.MetaGet(MetaDeltaVersion)
				f, _ := m.MetaGet(MetaDeltaFile)
				if v != fmt.Sprint(snap.Version) || snap.Files[f] == nil {
					t.Fatalf("metadata version %s file %s; the table is at %d", v, f, snap.Version)
				}
				files[f] = true
				for _, pc := range snap.Metadata.PartitionColumns {
					got, ok := m.MetaGet(pc)
					want := snap.Files[f].PartitionValues[pc]
					if ok != (want != nil) || (ok && got != *want) {
						t.Fatalf("partition %s: metadata %q (%v), the log %v", pc, got, ok, want)
					}
				}
			}
			t.Logf("%d rows from %d files at version %d", len(ours), len(files), snap.Version)
		})
	}
}

func head(l []string) []string {
	if len(l) > 5 {
		return l[:5]
	}
	return l
}

// testTable creates a local table partitioned by day and returns its
// appender.
func testTable(t *testing.T, dir string) *delta.Appender {
	t.Helper()
	ctx := context.Background()
	tbl, err := delta.OpenTable(ctx, deltatest.Local(t, dir), delta.TableConfig{CheckpointInterval: 3})
	if err != nil {
		t.Fatal(err)
	}
	s := schema.StructType{Fields: []schema.StructField{
		schema.NewField("id", schema.LongType, false), schema.NewField("name", schema.StringType, true),
		schema.NewField("day", schema.DateType, true),
	}}
	js, _ := s.JSON()
	if err := tbl.Create(ctx, delta.Metadata{SchemaString: js, PartitionColumns: []string{"day"}}, delta.Protocol{}); err != nil {
		t.Fatal(err)
	}
	ap, err := delta.NewAppender(tbl, delta.AppendConfig{Schema: s, PartitionColumns: []string{"day"}})
	if err != nil {
		t.Fatal(err)
	}
	return ap
}

// appendRows commits ids [from, to) spread over three days, with a txn.
func appendRows(t *testing.T, ap *delta.Appender, from, to int) int64 {
	t.Helper()
	var rows []delta.Row
	for i := from; i < to; i++ {
		rows = append(rows, delta.Row{Values: map[string]any{"id": int64(i), "name": fmt.Sprint("n", i),
			"day": fmt.Sprintf("2024-01-0%d", 1+i%3)}, AppID: "writer", Version: int64(i)})
	}
	res, err := ap.Append(context.Background(), rows)
	if err != nil {
		t.Fatal(err)
	}
	return res.Version
}

func ids(t *testing.T, msgs []*service.Message) []int64 {
	t.Helper()
	var out []int64
	for _, m := range msgs {
		if _, ok := m.MetaGet(MetaDeltaMarker); ok {
			continue
		}
		v, err := m.AsStructured()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v.(map[string]any)["id"].(int64))
	}
	return out
}

// TestDeltaLakeInputFollowResume: follow mode reads the snapshot, then the
// commits appended while it runs, in version order, each commit ended by its
// marker (with the writer's txn); stopped and restarted with the progress in
// an atomic_file cache, it goes on after the last acknowledged version: every
// id exactly once over the two runs, none lost.
func TestDeltaLakeInputFollowResume(t *testing.T) {
	dir := t.TempDir()
	table := filepath.Join(dir, "t")
	ap := testTable(t, table)
	appendRows(t, ap, 0, 30)
	input := fmt.Sprintf(`delta_lake:
  path: %s
  mode: follow
  poll_interval: 20ms
  batch_rows: 4
  commit_markers: true
  checkpoint_cache: progress
`, table)
	resources := fmt.Sprintf("cache_resources:\n  - label: progress\n    atomic_file: { directory: %s }\n", filepath.Join(dir, "state"))

	var nack func(service.MessageBatch) bool
	run := func(until func(*collector) bool, during func()) []*service.Message {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		var c collector
		st, err := buildInput(input, resources, &c, nack)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- st.Run(context.Background()) }()
		if during != nil {
			during()
		}
		for !until(&c) {
			select {
			case err := <-done:
				t.Fatalf("the stream ended: %v", err)
			case <-time.After(20 * time.Millisecond):
			case <-ctx.Done():
				var got []string
				for _, m := range c.all() {
					v, _ := m.MetaGet(MetaDeltaVersion)
					_, mk := m.MetaGet(MetaDeltaMarker)
					got = append(got, fmt.Sprint(v, mk))
				}
				t.Fatalf("timed out; got %v", got)
			}
		}
		time.Sleep(100 * time.Millisecond) // acks and the progress land
		if err := st.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		<-done
		return c.all()
	}
	markers := func(c *collector, n int) bool {
		k := 0
		for _, m := range c.all() {
			if _, ok := m.MetaGet(MetaDeltaMarker); ok {
				k++
			}
		}
		return k >= n
	}
	first := run(func(c *collector) bool { return markers(c, 3) }, func() {
		time.Sleep(200 * time.Millisecond)
		appendRows(t, ap, 30, 40)
		appendRows(t, ap, 40, 55)
	})
	var versions []string
	var lastTxn string
	for _, m := range first {
		if _, ok := m.MetaGet(MetaDeltaMarker); ok {
			v, _ := m.MetaGet(MetaDeltaVersion)
			versions = append(versions, v)
			lastTxn, _ = m.MetaGet(MetaDeltaTxns)
		}
	}
	if !reflect.DeepEqual(versions, []string{"1", "2", "3"}) || !strings.Contains(lastTxn, `"appId":"writer","version":54`) {
		t.Fatalf("markers of versions %v, the last one's txns %s", versions, lastTxn)
	}
	// While it is stopped, two more commits; the restart reads them only.
	appendRows(t, ap, 55, 60)
	appendRows(t, ap, 60, 70)
	second := run(func(c *collector) bool { return markers(c, 2) }, nil)
	got := append(ids(t, first), ids(t, second)...)
	sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
	for i := range got {
		if got[i] != int64(i) || len(got) != 70 {
			t.Fatalf("ids over the two runs: %v (want 0..69 once each)", got)
		}
	}
	if n := len(ids(t, second)); n != 15 {
		t.Fatalf("the restart read %d rows, want the 15 committed while stopped", n)
	}

	// A version whose rows were only partly acknowledged is not stored: the
	// batches of version 6 are refused (the engine sends them again and
	// again) until the stream stops; later batches may pass meanwhile. After
	// a restart, 6 and 7 are read whole.
	appendRows(t, ap, 70, 80)
	appendRows(t, ap, 80, 85)
	nack = func(b service.MessageBatch) bool {
		for _, m := range b {
			if v, _ := m.MetaGet(MetaDeltaVersion); v == "6" {
				if _, marker := m.MetaGet(MetaDeltaMarker); !marker {
					return true
				}
			}
		}
		return false
	}
	stopAt := time.Now().Add(time.Second)
	third := run(func(*collector) bool { return time.Now().After(stopAt) }, nil)
	for _, id := range ids(t, third) {
		if id < 80 {
			t.Fatalf("with version 6 refused, its row %d was delivered", id)
		}
	}
	nack = nil
	fourth := run(func(c *collector) bool { return markers(c, 2) }, nil)
	got = ids(t, fourth)
	sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
	for i := range got {
		if got[i] != int64(70+i) || len(got) != 15 {
			t.Fatalf("after the restart: ids %v, want 70..84", got)
		}
	}
}

// TestDeltaLakeInputPartitionFilterAndRowForm: partition_filter prunes files
// unread, the projection keeps its order, and form: row carries a
// schema.Row whose values are typed (the date partition as a time).
func TestDeltaLakeInputPartitionFilterAndRowForm(t *testing.T) {
	table := filepath.Join(t.TempDir(), "t")
	ap := testTable(t, table)
	appendRows(t, ap, 0, 30)
	appendRows(t, ap, 30, 60)
	// A file of the pruned day is damaged: the read succeeds only if the
	// filter skips it unread.
	snap, err := delta.Load(context.Background(), deltatest.Local(t, table))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range snap.SortedFiles() {
		if *a.PartitionValues["day"] == "2024-01-01" {
			if err := os.WriteFile(filepath.Join(table, delta.DecodePath(a.Path)), []byte("damaged"), 0o644); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	runstate.Reset()
	defer runstate.Reset()
	msgs := readAll(t, fmt.Sprintf(`delta_lake:
  path: %s
  partition_filter: 'this.day >= "2024-01-02"'
  columns: [ day, id ]
  form: row
`, table))
	files := map[string]bool{}
	for _, m := range msgs {
		f, _ := m.MetaGet(MetaDeltaFile)
		files[f] = true
		rv, ok := m.MetaGetMut(contract.MetaRow)
		if !ok {
			t.Fatal("no row in metadata")
		}
		row := rv.(*gschema.Row)
		if !reflect.DeepEqual(row.Layout.Names, []string{"day", "id"}) {
			t.Fatalf("layout %v", row.Layout.Names)
		}
		day, _ := m.MetaGet("day")
		id := row.Values[1].(int64)
		if day == "2024-01-01" || row.Values[0].(time.Time).Format(time.DateOnly) != day || fmt.Sprintf("2024-01-0%d", 1+id%3) != day {
			t.Fatalf("row %v in partition %s", row.Values, day)
		}
	}
	// 2 commits × 3 days = 6 files; the filter keeps 4.
	if len(msgs) != 40 || len(files) != 4 || runstate.Failed() != nil {
		t.Fatalf("%d rows from %d files (failure %v), want 40 from 4", len(msgs), len(files), runstate.Failed())
	}
}

// TestDeltaLakeInputLintRules: the rules across fields are lint errors, and
// the same configs fail at run time with the same words.
func TestDeltaLakeInputLintRules(t *testing.T) {
	for _, c := range []struct{ name, conf, want string }{
		{"plain", "mode: follow", ""},
		{"a key without a cache", "checkpoint_key: k", "checkpoint_key is the key in checkpoint_cache: set checkpoint_cache too"},
		{"a column twice", "columns: [ a, b, a ]", "a column is named twice in columns"},
		{"no rows per batch", "batch_rows: 0", "batch_rows must be at least 1"},
		{"a bad version", "version: -2", "version must be -1 (the newest) or a table version"},
		{"a blank path", "", "path is blank"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := "path: /tmp/lint-only\n"
			if c.name == "a blank path" {
				path = "path: ' '\n"
			}
			conf := "delta_lake:\n  " + strings.ReplaceAll(path+c.conf, "\n", "\n  ") + "\n"
			sb := service.NewStreamBuilder()
			err := sb.AddInputYAML(conf)
			var lints service.LintError
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("lint: %v", err)
			case c.want != "" && (!errors.As(err, &lints) || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("lint: %v, want %q", err, c.want)
			}
			if c.want == "" || c.name == "a blank path" {
				return
			}
			// The run-time check, without the linter.
			pc, err := deltaLakeInputSpec().ParseYAML(strings.TrimPrefix(strings.ReplaceAll(conf, "\n  ", "\n"), "delta_lake:\n"), nil)
			if err == nil {
				_, err = dliConfFromParsed(pc)
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("run time: %v, want %q", err, c.want)
			}
		})
	}
}

// TestDeltaLakeInputS3: on MinIO, a table written by the Appender is read
// in follow mode with its snapshot (the data files read in ranged blocks,
// storage.S3.Open); MinIO is then stopped for a while (the polls fail and
// are retried with the backoff) and started again, and a commit appended
// after it is read: every row exactly once.
func TestDeltaLakeInputS3(t *testing.T) {
	srv := deltatest.MinIO(t)
	ctx := context.Background()
	st := deltatest.S3(t, srv, "t", nil)
	tbl, err := delta.OpenTable(ctx, st, delta.TableConfig{})
	if err != nil {
		t.Fatal(err)
	}
	s := schema.StructType{Fields: []schema.StructField{
		schema.NewField("id", schema.LongType, false), schema.NewField("name", schema.StringType, true),
		schema.NewField("day", schema.DateType, true),
	}}
	js, _ := s.JSON()
	if err := tbl.Create(ctx, delta.Metadata{SchemaString: js, PartitionColumns: []string{"day"}}, delta.Protocol{}); err != nil {
		t.Fatal(err)
	}
	ap, err := delta.NewAppender(tbl, delta.AppendConfig{Schema: s, PartitionColumns: []string{"day"}})
	if err != nil {
		t.Fatal(err)
	}
	appendRows(t, ap, 0, 2000)
	var c collector
	stream, err := buildInput(fmt.Sprintf(`delta_lake:
  path: s3://%s/t
  s3: { endpoint: http://%s, access_key_id: %s, secret_access_key: %s }
  mode: follow
  poll_interval: 50ms
  batch_rows: 500
  backoff: { initial_interval: 100ms, max_interval: 400ms }
`, deltatest.MinIOBucket, srv.Endpoint, srv.AccessKey, srv.SecretKey), "", &c, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- stream.Run(context.Background()) }()
	deadline := time.Now().Add(30 * time.Second)
	appended := false
	for len(c.all()) < 2500 && time.Now().Before(deadline) {
		if !appended && len(c.all()) == 2000 {
			srv.Stop()
			time.Sleep(1500 * time.Millisecond)
			srv.Restart(t)
			appendRows(t, ap, 2000, 2500)
			appended = true
		}
		time.Sleep(20 * time.Millisecond)
	}
	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := stream.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	<-done
	got := ids(t, c.all())
	sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
	if len(got) != 2500 {
		t.Fatalf("read %d rows, want 2500", len(got))
	}
	for i, id := range got {
		if id != int64(i) {
			t.Fatalf("ids: %v...", got[:i+1])
		}
	}
}

// TestDeltaLakeInputSnapshotFailures: a snapshot run is a job. A table
// that does not exist, a data file the log lists but storage lacks (Spark's
// golden "checkpoint" table has a log only) and a corrupt data file each
// fail the run at once, naming the table or the file and the remedy, and the
// input ends.
func TestDeltaLakeInputSnapshotFailures(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt")
	ap := testTable(t, corrupt)
	appendRows(t, ap, 0, 3)
	snap, err := delta.Load(context.Background(), deltatest.Local(t, corrupt))
	if err != nil {
		t.Fatal(err)
	}
	victim := snap.SortedFiles()[1]
	if err := os.WriteFile(filepath.Join(corrupt, delta.DecodePath(victim.Path)), []byte("not parquet at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, path, want string }{
		{"missing table", filepath.Join(dir, "nothing"), "no Delta table there (no commit in _delta_log); check the path"},
		{"missing file", deltatest.Golden(t, "checkpoint"), "opening data file 15: unreadable data file: 15: the log lists it, the storage does not have it"},
		{"corrupt file", corrupt, "unreadable data file: " + delta.DecodePath(victim.Path) + ": parquet reader"},
	} {
		t.Run(c.name, func(t *testing.T) {
			runstate.Reset()
			defer runstate.Reset()
			readAll(t, fmt.Sprintf("delta_lake:\n  path: %s\n", c.path))
			f := runstate.Failed()
			if f == nil || !strings.HasPrefix(f.Component, "delta_lake input ") || !strings.Contains(f.Error(), c.want) {
				t.Fatalf("failure %v, want one containing %q", f, c.want)
			}
			t.Log(f.Error())
		})
	}
}

// TestDeltaLakeInputMemoryBounded: a table of one 25 MB data file (1 KiB of
// incompressible text a row, row groups of 1 MiB) read through a stream:
// the live heap grows by a few row groups at most, not by the file.
func TestDeltaLakeInputMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("memory measurement")
	}
	ctx := context.Background()
	table := filepath.Join(t.TempDir(), "big")
	tbl, err := delta.OpenTable(ctx, deltatest.Local(t, table), delta.TableConfig{})
	if err != nil {
		t.Fatal(err)
	}
	s := schema.StructType{Fields: []schema.StructField{schema.NewField("id", schema.LongType, false), schema.NewField("text", schema.StringType, true)}}
	js, _ := s.JSON()
	if err := tbl.Create(ctx, delta.Metadata{SchemaString: js}, delta.Protocol{}); err != nil {
		t.Fatal(err)
	}
	const rows, rowGroup = 24 << 10, 1 << 20
	cfg := delta.AppendConfig{Schema: s}
	cfg.DataFile.RowGroupBytes = rowGroup
	ap, err := delta.NewAppender(tbl, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewSource(1))
	buf := make([]byte, 1024)
	{
		var batch []delta.Row // freed before the heap is measured
		for i := 0; i < rows; i++ {
			for j := range buf {
				buf[j] = 'a' + byte(rnd.Intn(26))
			}
			batch = append(batch, delta.Row{Values: map[string]any{"id": int64(i), "text": string(buf)}})
		}
		if _, err := ap.Append(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	live := func() int64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc)
	}
	base := live()
	var peak, n int64
	sb := service.NewStreamBuilder()
	if err := sb.AddInputYAML(fmt.Sprintf("delta_lake:\n  path: %s\n  batch_rows: 64\n", table)); err != nil {
		t.Fatal(err)
	}
	_ = sb.SetLoggerYAML("level: warn")
	if err := sb.AddBatchConsumerFunc(func(_ context.Context, b service.MessageBatch) error {
		for _, m := range b {
			v, _ := m.AsStructured()
			if len(v.(map[string]any)["text"].(string)) != 1024 {
				return fmt.Errorf("a short row")
			}
		}
		if n += int64(len(b)); n%(64*16) == 0 {
			peak = max(peak, live())
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	stream, err := sb.Build()
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := stream.Run(runCtx); err != nil {
		t.Fatal(err)
	}
	grew := peak - base
	snap, err := delta.Load(ctx, deltatest.Local(t, table))
	if err != nil || len(snap.Files) != 1 {
		t.Fatalf("%d data files (%v), want one", len(snap.Files), err)
	}
	t.Logf("%d rows of a %d-byte data file read; the live heap grew by %d bytes at most", n, snap.SortedFiles()[0].Size, grew)
	if n != rows || grew > 6*rowGroup {
		t.Fatalf("read %d rows of %d; the heap grew by %d bytes: more than a few row groups", n, rows, grew)
	}
}

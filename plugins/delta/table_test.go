package delta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
	"github.com/gdeltflow/gdeltflow/plugins/internal/deltatest"
)

// dtConcurrentWriters has `writers` Tables (each with its own snapshot, as
// separate processes would) commit `each` appends to one table at once, each
// with a txn of its own appId and increasing versions. The log must end up
// gapless, with every add exactly once and every txn at its last version.
func dtConcurrentWriters(t *testing.T, base storage.Storage, writers, each int) {
	ctx := context.Background()
	st := &dtRaceCounter{Storage: base}
	setup, err := OpenTable(ctx, st, TableConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := setup.Create(ctx, dtMeta(), Protocol{}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	versions := make([][]int64, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			tbl, err := OpenTable(ctx, st, TableConfig{EngineInfo: fmt.Sprintf("test-writer-%d", w)})
			if err != nil {
				errs <- err
				return
			}
			for i := 0; i < each; i++ {
				a := dtAdd(i)
				a.Path = fmt.Sprintf("writer-%d/commit-%03d.parquet", w, i)
				v, err := tbl.Commit(ctx, Commit{
					Adds: []Add{a},
					Txns: []Txn{{AppID: fmt.Sprintf("writer-%d", w), Version: int64(i)}},
				})
				if err != nil {
					errs <- fmt.Errorf("writer %d commit %d: %w", w, i, err)
					return
				}
				versions[w] = append(versions[w], v)
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	total := writers * each
	seen := map[int64]int{}
	for w, vs := range versions {
		for i, v := range vs {
			if prev, dup := seen[v]; dup {
				t.Fatalf("version %d returned to writers %d and %d", v, prev, w)
			}
			seen[v] = w
			if i > 0 && v <= vs[i-1] {
				t.Errorf("writer %d: versions not increasing: %v", w, vs)
			}
		}
	}
	// The log: versions 1..total, each a commit of one writer's add and txn.
	files, err := st.List(ctx, LogDir+"/")
	if err != nil {
		t.Fatal(err)
	}
	listing := parseLogListing(files)
	if listing.maxCommit != int64(total) || len(listing.commits) != total+1 {
		t.Fatalf("log has %d commits up to %d, want 0..%d", len(listing.commits), listing.maxCommit, total)
	}
	adds := map[string]int{}
	for v := int64(1); v <= int64(total); v++ {
		actions, err := readCommit(ctx, st, v)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range actions {
			if a.Add != nil {
				adds[a.Add.Path]++
			}
		}
	}
	for w := 0; w < writers; w++ {
		for i := 0; i < each; i++ {
			if n := adds[fmt.Sprintf("writer-%d/commit-%03d.parquet", w, i)]; n != 1 {
				t.Errorf("writer %d add %d committed %d times", w, i, n)
			}
		}
	}
	s, err := Load(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != int64(total) || len(s.Files) != total || len(s.Txns) != writers {
		t.Errorf("final snapshot: version %d, %d files, %d txns", s.Version, len(s.Files), len(s.Txns))
	}
	for w := 0; w < writers; w++ {
		if tx := s.Txns[fmt.Sprintf("writer-%d", w)]; tx.Version != int64(each-1) {
			t.Errorf("writer %d txn at %d", w, tx.Version)
		}
	}
	if !dtSameFiles(dtReplayJSON(t, st), s) {
		t.Error("Load (through checkpoints) differs from the JSON replay")
	}
	if st.lost.Load() == 0 {
		t.Error("no writer ever lost a race: the test did not exercise conflicts")
	}
	t.Logf("%d writers x %d commits: versions 1..%d, gapless, %d lost races retried; final load from checkpoint %d",
		writers, each, s.Version, st.lost.Load(), s.CheckpointVersion)
}

// dtRaceCounter counts the commits that lost the race for their version.
type dtRaceCounter struct {
	storage.Storage
	lost atomic.Int64
}

func (c *dtRaceCounter) PutIfAbsent(ctx context.Context, p string, data []byte) error {
	err := c.Storage.PutIfAbsent(ctx, p, data)
	if errors.Is(err, storage.ErrExist) {
		c.lost.Add(1)
	}
	return err
}

func TestConcurrentWritersLocal(t *testing.T) {
	dtConcurrentWriters(t, deltatest.Local(t, t.TempDir()), 4, 50)
}

func TestTxnConflict(t *testing.T) {
	ctx := context.Background()
	st := deltatest.Local(t, t.TempDir())
	a, _ := OpenTable(ctx, st, TableConfig{})
	if err := a.Create(ctx, dtMeta(), Protocol{}); err != nil {
		t.Fatal(err)
	}
	b, _ := OpenTable(ctx, st, TableConfig{}) // a second writer, at version 0
	if _, err := a.Commit(ctx, Commit{Adds: []Add{dtAdd(1)}, Txns: []Txn{{AppID: "p0", Version: 10}}}); err != nil {
		t.Fatal(err)
	}
	// Replays are refused by the writer that knows (snapshot) ...
	for _, v := range []int64{10, 9} {
		_, err := a.Commit(ctx, Commit{Adds: []Add{dtAdd(2)}, Txns: []Txn{{AppID: "p0", Version: v}}})
		if !errors.Is(err, ErrTxnConflict) {
			t.Fatalf("replayed txn version %d: %v, want ErrTxnConflict", v, err)
		}
	}
	// ... and by one that learns it from the winning commit.
	_, err := b.Commit(ctx, Commit{Adds: []Add{dtAdd(3)}, Txns: []Txn{{AppID: "other", Version: 1}, {AppID: "p0", Version: 10}}})
	if !errors.Is(err, ErrTxnConflict) {
		t.Fatalf("stale writer replaying txn: %v, want ErrTxnConflict", err)
	}
	if !strings.Contains(err.Error(), "p0") {
		t.Errorf("error does not name the appId: %v", err)
	}
	if v := b.Version(); v != 1 {
		t.Errorf("stale writer is at %d after reading the winner, want 1", v)
	}
	if tx, ok := b.Txn("p0"); !ok || tx.Version != 10 {
		t.Errorf("Txn(p0) = %v %v", tx, ok)
	}
	// Nothing was committed by the refused attempts.
	s, _ := Load(ctx, st)
	if s.Version != 1 {
		t.Errorf("version %d after refused commits, want 1", s.Version)
	}
	// The next txn version goes through from either writer.
	if v, err := b.Commit(ctx, Commit{Adds: []Add{dtAdd(4)}, Txns: []Txn{{AppID: "p0", Version: 11}}}); err != nil || v != 2 {
		t.Fatalf("next txn version: %d, %v", v, err)
	}
	// Two txns for one appId in a commit are refused.
	if _, err := a.Commit(ctx, Commit{Txns: []Txn{{AppID: "x", Version: 1}, {AppID: "x", Version: 2}}}); err == nil {
		t.Error("two txns for one appId accepted")
	}
}

func TestCreate(t *testing.T) {
	ctx := context.Background()
	st := deltatest.Local(t, t.TempDir())
	tbl, _ := OpenTable(ctx, st, TableConfig{EngineInfo: "gdeltflow-test"})
	if _, err := tbl.Commit(ctx, Commit{Adds: []Add{dtAdd(0)}}); !errors.Is(err, ErrNoTable) {
		t.Errorf("Commit before Create: %v, want ErrNoTable", err)
	}
	meta := dtMeta()
	meta.Configuration = map[string]string{"delta.appendOnly": "true"}
	if err := tbl.Create(ctx, meta, Protocol{}); err != nil {
		t.Fatal(err)
	}
	s := tbl.Snapshot()
	if s.Version != 0 || s.Metadata.ID == "" || s.Metadata.CreatedTime == 0 || s.Protocol.MinWriterVersion != 2 {
		t.Fatalf("after Create: %+v %+v", s.Metadata, s.Protocol)
	}
	data, _ := st.Read(ctx, CommitPath(0))
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], `{"commitInfo":`) || !strings.Contains(lines[0], `"CREATE TABLE"`) ||
		!strings.HasPrefix(lines[1], `{"protocol":{"minReaderVersion":1,"minWriterVersion":2}}`) || !strings.HasPrefix(lines[2], `{"metaData":`) {
		t.Errorf("version 0:\n%s", data)
	}
	// Create again (same or reformatted schema): fine, nothing written.
	other, _ := OpenTable(ctx, st, TableConfig{})
	same := dtMeta()
	same.SchemaString = strings.ReplaceAll(same.SchemaString, ",", " , ")
	if err := other.Create(ctx, same, Protocol{}); err != nil {
		t.Errorf("Create of an existing table with the same schema: %v", err)
	}
	// A concurrent creator that lost the race for version 0 compares too.
	late := &Table{st: st, snap: NewSnapshot(), cfg: TableConfig{MaxCommitAttempts: 1}}
	if err := late.Create(ctx, dtMeta(), Protocol{}); err != nil {
		t.Errorf("late Create: %v", err)
	}
	diff := dtMeta()
	diff.PartitionColumns = nil
	if err := other.Create(ctx, diff, Protocol{}); !errors.Is(err, ErrMetadataMismatch) {
		t.Errorf("Create with other partitioning: %v, want ErrMetadataMismatch", err)
	}
	diff = dtMeta()
	diff.SchemaString = strings.Replace(diff.SchemaString, `"long"`, `"integer"`, 1)
	if err := other.Create(ctx, diff, Protocol{}); !errors.Is(err, ErrMetadataMismatch) {
		t.Errorf("Create with another schema: %v, want ErrMetadataMismatch", err)
	}
	// Append-only: a data-changing remove is refused, an append is not.
	v, err := tbl.Commit(ctx, Commit{Adds: []Add{dtAdd(1)}})
	if err != nil || v != 1 {
		t.Fatalf("append: %d %v", v, err)
	}
	var live *Add
	for _, a := range tbl.Snapshot().Files {
		live = a
	}
	if _, err := tbl.Commit(ctx, Commit{Removes: []Remove{RemoveOf(live, 0, true)}}); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("remove on an append-only table: %v", err)
	}
	// commitInfo of a write.
	data, _ = st.Read(ctx, CommitPath(1))
	actions, _ := ParseCommit(data)
	ci := actions[0].CommitInfo
	if ci["operation"] != "WRITE" || ci["engineInfo"] != "gdeltflow-test" || ci["isBlindAppend"] != true || ci["readVersion"].(interface{ String() string }).String() != "0" {
		t.Errorf("commitInfo %v", ci)
	}
	if m := ci["operationMetrics"].(map[string]any); m["numFiles"] != "1" || m["numOutputRows"] != "2" {
		t.Errorf("operationMetrics %v", m)
	}
	// Operation parameters are stored as strings, as Spark expects.
	v, err = tbl.Commit(ctx, Commit{Adds: []Add{dtAdd(2)}, Operation: "STREAMING UPDATE",
		OperationParameters: map[string]any{"outputMode": "Append", "epochId": 7, "partitions": []int{1, 2}}})
	if err != nil {
		t.Fatal(err)
	}
	data, _ = st.Read(ctx, CommitPath(v))
	if !strings.Contains(string(data), `"operationParameters":{"epochId":"7","outputMode":"Append","partitions":"[1,2]"}`) {
		t.Errorf("operationParameters not strings: %s", data)
	}
}

func TestRemoveAndConflicts(t *testing.T) {
	ctx := context.Background()
	st := deltatest.Local(t, t.TempDir())
	a, _ := OpenTable(ctx, st, TableConfig{})
	if err := a.Create(ctx, dtMeta(), Protocol{}); err != nil {
		t.Fatal(err)
	}
	f1, f2 := dtAdd(1), dtAdd(2)
	if _, err := a.Commit(ctx, Commit{Adds: []Add{f1, f2}}); err != nil {
		t.Fatal(err)
	}
	b, _ := OpenTable(ctx, st, TableConfig{})
	// a compacts f1+f2 into f3 (no data change).
	f3 := dtAdd(3)
	f3.DataChange = false
	if _, err := a.Commit(ctx, Commit{
		Adds:      []Add{f3},
		Removes:   []Remove{RemoveOf(&f1, 0, false), RemoveOf(&f2, 0, false)},
		Operation: "OPTIMIZE",
	}); err != nil {
		t.Fatal(err)
	}
	// b, stale, deletes f1: conflicts (a removed it concurrently).
	_, err := b.Commit(ctx, Commit{Removes: []Remove{RemoveOf(&f1, 0, true)}, Operation: "DELETE"})
	if !errors.Is(err, ErrConcurrentModification) {
		t.Errorf("concurrent delete: %v, want ErrConcurrentModification", err)
	}
	s := a.Snapshot()
	if len(s.Files) != 1 || len(s.Tombstones) != 2 {
		t.Errorf("after compaction: %d files, %d tombstones", len(s.Files), len(s.Tombstones))
	}
	r := s.Tombstones[DecodePath(f1.Path)]
	if r == nil || !r.ExtendedFileMetadata || r.Size != f1.Size || r.DeletionTimestamp == 0 || *r.PartitionValues["day"] != *f1.PartitionValues["day"] {
		t.Errorf("tombstone %+v", r)
	}
	// A schema change by another writer makes a stale append fail.
	c, _ := OpenTable(ctx, st, TableConfig{})
	newMeta := dtMeta()
	newMeta.SchemaString = strings.Replace(newMeta.SchemaString, `]}`, `,{"name":"extra","type":"string","nullable":true,"metadata":{}}]}`, 1)
	if _, err := a.Commit(ctx, Commit{Metadata: &newMeta, Operation: "ADD COLUMNS"}); err != nil {
		t.Fatal(err)
	}
	if a.Snapshot().Metadata.ID != c.Snapshot().Metadata.ID {
		t.Error("the table id changed with the schema")
	}
	if _, err := c.Commit(ctx, Commit{Adds: []Add{dtAdd(5)}}); !errors.Is(err, ErrConcurrentModification) {
		t.Errorf("append after a concurrent schema change: %v, want ErrConcurrentModification", err)
	}
	// Reloaded, it appends fine.
	if err := c.Update(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Commit(ctx, Commit{Adds: []Add{dtAdd(6)}}); err != nil {
		t.Errorf("append after Update: %v", err)
	}
}

func TestProtocolSupport(t *testing.T) {
	meta := dtMeta()
	ok := []Protocol{{1, 2, nil, nil}, {1, 1, nil, nil}, {3, 7, []string{}, []string{"appendOnly"}}, {1, 4, nil, nil}}
	for _, p := range ok {
		if err := checkWritable(&p, &meta); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
	}
	bad := []Protocol{{3, 7, []string{"deletionVectors"}, []string{"deletionVectors"}}, {1, 7, nil, []string{"domainMetadata"}}, {4, 8, nil, nil}}
	for _, p := range bad {
		if err := checkWritable(&p, &meta); !errors.Is(err, ErrUnsupportedProtocol) {
			t.Errorf("%+v accepted: %v", p, err)
		}
	}
	cm := dtMeta()
	cm.Configuration = map[string]string{"delta.columnMapping.mode": "name"}
	if err := checkWritable(&Protocol{2, 5, nil, nil}, &cm); !errors.Is(err, ErrUnsupportedProtocol) {
		t.Errorf("column mapping accepted: %v", err)
	}
	if err := checkWritable(&Protocol{2, 5, nil, nil}, &meta); err != nil {
		t.Errorf("(2, 5) without column mapping refused: %v", err)
	}
	cdf := dtMeta()
	cdf.Configuration = map[string]string{"delta.enableChangeDataFeed": "true"}
	if err := checkWritable(&Protocol{1, 4, nil, nil}, &cdf); !errors.Is(err, ErrUnsupportedProtocol) {
		t.Errorf("change data feed accepted: %v", err)
	}
	ctx := context.Background()
	tbl, _ := OpenTable(ctx, deltatest.Local(t, t.TempDir()), TableConfig{})
	if err := tbl.Create(ctx, dtMeta(), Protocol{3, 7, []string{"deletionVectors"}, []string{"deletionVectors"}}); !errors.Is(err, ErrUnsupportedProtocol) {
		t.Errorf("Create with deletion vectors: %v", err)
	}
}

func TestParseInterval(t *testing.T) {
	for s, want := range map[string]string{
		"interval 1 week": "168h0m0s", "interval 7 days": "168h0m0s", "interval 2 hours": "2h0m0s",
		"30 minutes": "30m0s", "INTERVAL 1 DAY 12 HOURS": "36h0m0s", "interval 0 seconds": "0s",
	} {
		d, ok := ParseInterval(s)
		if !ok || d.String() != want {
			t.Errorf("ParseInterval(%q) = %s %v, want %s", s, d, ok, want)
		}
	}
	for _, s := range []string{"", "interval", "1 month", "interval x days", "interval -1 days"} {
		if _, ok := ParseInterval(s); ok {
			t.Errorf("ParseInterval(%q) accepted", s)
		}
	}
}

func TestProtocolCheckRead(t *testing.T) {
	ok := []Protocol{{1, 2, nil, nil}, {2, 5, nil, nil}, {3, 7, []string{"deletionVectors", "columnMapping", "timestampNtz"}, nil}}
	for _, p := range ok {
		if err := p.CheckRead(); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
	}
	bad := []Protocol{{3, 7, []string{"deletionVectors", "v2Checkpoint"}, nil}, {3, 7, []string{"catalogManaged"}, nil}, {4, 7, nil, nil}}
	for _, p := range bad {
		if err := p.CheckRead(); !errors.Is(err, ErrUnsupportedProtocol) {
			t.Errorf("%+v accepted: %v", p, err)
		}
	}
	if err := (&Protocol{3, 7, []string{"v2Checkpoint"}, nil}).CheckRead(); err == nil || !strings.Contains(err.Error(), `reader feature "v2Checkpoint"`) {
		t.Errorf("the feature is not named: %v", err)
	}
	// Rows less the deletion vector's cardinality; unknown without one.
	a := Add{Stats: `{"numRecords":100}`, DeletionVector: json.RawMessage(`{"storageType":"u","pathOrInlineDv":"x","sizeInBytes":4,"cardinality":7}`)}
	if n, ok := a.Rows(); !ok || n != 93 || !a.HasDeletionVector() {
		t.Errorf("rows %d %v, want 93", n, ok)
	}
	a.DeletionVector = json.RawMessage(`{"storageType":"u","pathOrInlineDv":"x"}`)
	if _, ok := a.Rows(); ok {
		t.Error("a deletion vector without cardinality gave a row count")
	}
	a.DeletionVector = nil
	if n, ok := a.Rows(); !ok || n != 100 {
		t.Errorf("without a vector: %d %v", n, ok)
	}
}

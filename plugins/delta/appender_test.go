package delta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/gdeltflow/gdeltflow/plugins/delta/datafile"
	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
	"github.com/gdeltflow/gdeltflow/plugins/internal/deltatest"
)

var wrSchema = schema.StructType{Fields: []schema.StructField{
	{Name: "id", Type: schema.DataType{Primitive: "long"}, Nullable: false},
	{Name: "name", Type: schema.DataType{Primitive: "string"}, Nullable: true},
	{Name: "score", Type: schema.DataType{Primitive: "double"}, Nullable: true},
	{Name: "day", Type: schema.DataType{Primitive: "date"}, Nullable: true},
}}

// faultyStorage fails commits (put-if-absent) while failing is set.
type faultyStorage struct {
	storage.Storage
	failing atomic.Bool
}

func (f *faultyStorage) PutIfAbsent(ctx context.Context, p string, data []byte) error {
	if f.failing.Load() {
		return errors.New("injected: storage down")
	}
	return f.Storage.PutIfAbsent(ctx, p, data)
}

func (f *faultyStorage) Write(ctx context.Context, p string, r io.Reader, size int64) error {
	if f.failing.Load() {
		return errors.New("injected: storage down")
	}
	return f.Storage.Write(ctx, p, r, size)
}

func wrTable(t *testing.T, st storage.Storage) *Table {
	t.Helper()
	ctx := context.Background()
	tb, err := OpenTable(ctx, st, TableConfig{})
	if err != nil {
		t.Fatal(err)
	}
	js, err := wrSchema.JSON()
	if err != nil {
		t.Fatal(err)
	}
	meta := Metadata{ID: "test", Format: Format{Provider: "parquet"}, SchemaString: js, PartitionColumns: []string{"day"}}
	if err := tb.Create(ctx, meta, Protocol{MinReaderVersion: 1, MinWriterVersion: 2}); err != nil {
		t.Fatal(err)
	}
	return tb
}

func wrAppender(t *testing.T, tb *Table, cfg AppendConfig) *Appender {
	t.Helper()
	cfg.Schema, cfg.PartitionColumns = wrSchema, []string{"day"}
	if cfg.CommitBackOff == nil {
		cfg.CommitBackOff = func() backoff.BackOff { return backoff.NewConstantBackOff(time.Millisecond) }
	}
	w, err := NewAppender(tb, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func wrRows(app string, from, to int64) []Row {
	var rows []Row
	for v := from; v <= to; v++ {
		rows = append(rows, Row{AppID: app, Version: v, Values: map[string]any{
			"id": v, "name": fmt.Sprintf("%s-%d", app, v), "score": float64(v) / 2, "day": fmt.Sprintf("2023-07-%02d", 1+v%3)}})
	}
	return rows
}

// liveRows counts the rows of the live files from their stats, and checks
// that no id of an app is in two files... by reading the stats' min/max is not
// enough, so tests that need ids use DuckDB; here the count suffices.
func liveRows(t *testing.T, st storage.Storage) int64 {
	t.Helper()
	s, err := Load(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	n, ok := s.NumRecords()
	if !ok {
		t.Fatal("a live file has no stats")
	}
	return n
}

func TestAppenderExactlyOnce(t *testing.T) {
	ctx := context.Background()
	st, _ := storage.NewLocal(t.TempDir())
	w := wrAppender(t, wrTable(t, st), AppendConfig{})
	res, err := w.Append(ctx, wrRows("a", 1, 100))
	if err != nil || res.Written != 100 || res.Skipped != 0 || res.Version != 1 {
		t.Fatalf("first write: %+v %v", res, err)
	}
	if len(res.Files) != 3 {
		t.Fatalf("%d files, want one per partition (3)", len(res.Files))
	}
	// A replay of rows 51..150: 51..100 are skipped, 101..150 written.
	res, err = w.Append(ctx, wrRows("a", 51, 150))
	if err != nil || res.Written != 50 || res.Skipped != 50 {
		t.Fatalf("replay: %+v %v", res, err)
	}
	// A full replay adds nothing and commits nothing.
	res, err = w.Append(ctx, wrRows("a", 1, 150))
	if err != nil || res.Written != 0 || res.Skipped != 150 || res.Version != -1 {
		t.Fatalf("full replay: %+v %v", res, err)
	}
	// A new writer (a restart) knows the progress from the log.
	tb2, err := OpenTable(ctx, st, TableConfig{})
	if err != nil {
		t.Fatal(err)
	}
	w2 := wrAppender(t, tb2, AppendConfig{})
	if txn, ok := tb2.Txn("a"); !ok || txn.Version != 150 {
		t.Fatalf("txn after restart: %+v %v", txn, ok)
	}
	if res, err := w2.Append(ctx, wrRows("a", 140, 160)); err != nil || res.Written != 10 || res.Skipped != 11 {
		t.Fatalf("after restart: %+v %v", res, err)
	}
	if n := liveRows(t, st); n != 160 {
		t.Fatalf("%d rows in the table, want 160", n)
	}
}

func TestAppenderMisfitFailsAlone(t *testing.T) {
	ctx := context.Background()
	st, _ := storage.NewLocal(t.TempDir())
	w := wrAppender(t, wrTable(t, st), AppendConfig{})
	rows := wrRows("a", 1, 10)
	rows[3].Values["score"] = "not a number"
	rows[6].Values["id"] = nil // not nullable
	rows[8].Values["day"] = 42 // bad partition value
	res, err := w.Append(ctx, rows)
	if err != nil {
		t.Fatal(err)
	}
	if res.Written != 7 || len(res.Failed) != 3 {
		t.Fatalf("%+v", res)
	}
	for i, want := range map[int]string{3: "column score", 6: "column id", 8: "partition column day"} {
		if e := res.Failed[i]; e == nil || !strings.Contains(e.Error(), want) {
			t.Errorf("row %d: %v, want an error about %q", i, e, want)
		}
	}
	// Retried alone, a bad row fails again: it is not passed off as a
	// duplicate although the txn is past it.
	res, err = w.Append(ctx, rows[3:4])
	if err != nil || len(res.Failed) != 1 || res.Skipped != 0 {
		t.Fatalf("retry of a bad row: %+v %v", res, err)
	}
	if n := liveRows(t, st); n != 7 {
		t.Fatalf("%d rows, want 7", n)
	}
}

func TestAppenderStorageDownThenUp(t *testing.T) {
	ctx := context.Background()
	local, _ := storage.NewLocal(t.TempDir())
	st := &faultyStorage{Storage: local}
	w := wrAppender(t, wrTable(t, st), AppendConfig{CommitAttempts: 2})
	st.failing.Store(true)
	if _, err := w.Append(ctx, wrRows("a", 1, 20)); err == nil {
		t.Fatal("a write with the storage down succeeded")
	}
	// The batch after the failed one must not commit first: it would put the
	// txn past rows that are not in the table.
	st.failing.Store(false)
	if _, err := w.Append(ctx, wrRows("a", 21, 40)); !errors.Is(err, ErrOutOfOrder) {
		t.Fatalf("a later batch committed before the failed one was retried: %v", err)
	}
	if res, err := w.Append(ctx, wrRows("a", 1, 20)); err != nil || res.Written != 20 {
		t.Fatalf("retry: %+v %v", res, err)
	}
	if res, err := w.Append(ctx, wrRows("a", 21, 40)); err != nil || res.Written != 20 {
		t.Fatalf("later batch: %+v %v", res, err)
	}
	if n := liveRows(t, st); n != 40 {
		t.Fatalf("%d rows, want 40", n)
	}
	// Nothing but committed files is left: the failed attempt's files were removed.
	s, _ := Load(ctx, st)
	plan, err := PlanVacuum(ctx, st, s, 0, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Orphans) != 0 {
		t.Fatalf("orphans left: %v", plan.Orphans)
	}
}

// TestAppenderOrderWithConcurrentBatches: with several batches of one source
// partition in flight, commits land in version order whatever order the
// writes reach the commit in.
func TestAppenderOrderWithConcurrentBatches(t *testing.T) {
	ctx := context.Background()
	st, _ := storage.NewLocal(t.TempDir())
	tb := wrTable(t, st)
	release := make(chan struct{})
	var first atomic.Bool
	w := wrAppender(t, tb, AppendConfig{BeforeCommit: func() {
		// The first batch to reach its commit is held back a while.
		if first.CompareAndSwap(false, true) {
			<-release
		}
	}})
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for b := 0; b < 8; b++ {
		wg.Add(1)
		go func(b int) {
			defer wg.Done()
			_, errs[b] = w.Append(ctx, wrRows("a", int64(b*10+1), int64(b*10+10)))
		}(b)
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	for b, err := range errs {
		if err != nil {
			t.Fatalf("batch %d: %v", b, err)
		}
	}
	// Versions 2.. carry txn versions 10, 20, ... in order.
	var got []int64
	for v := int64(1); v <= tb.Version(); v++ {
		data, err := st.Read(ctx, CommitPath(v))
		if err != nil {
			t.Fatal(err)
		}
		acts, _ := ParseCommit(data)
		for _, a := range acts {
			if a.Txn != nil {
				got = append(got, a.Txn.Version)
			}
		}
	}
	if !sort.SliceIsSorted(got, func(i, j int) bool { return got[i] < got[j] }) || len(got) != 8 {
		t.Fatalf("txn versions in commit order: %v", got)
	}
	if n := liveRows(t, st); n != 80 {
		t.Fatalf("%d rows, want 80", n)
	}
}

// TestAppendersConcurrent: four writers (four processes' worth: separate Table
// instances) on one table. Each writes its own source partition in 50
// commits; then all four replay the same rows at once.
func TestAppendersConcurrent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, _ := storage.NewLocal(dir)
	wrTable(t, st)
	writers := make([]*Appender, 4)
	for i := range writers {
		tb, err := OpenTable(ctx, st, TableConfig{})
		if err != nil {
			t.Fatal(err)
		}
		writers[i] = wrAppender(t, tb, AppendConfig{})
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i, w := range writers {
		wg.Add(1)
		go func(i int, w *Appender) {
			defer wg.Done()
			app := fmt.Sprintf("w%d", i)
			for c := int64(0); c < 50; c++ {
				if _, err := w.Append(ctx, wrRows(app, c*4+1, c*4+4)); err != nil {
					errs <- err
					return
				}
			}
		}(i, w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s, err := Load(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != 200 {
		t.Fatalf("version %d, want 200 (create + 4 x 50)", s.Version)
	}
	for v := int64(0); v <= 200; v++ {
		if _, err := st.Read(ctx, CommitPath(v)); err != nil {
			t.Fatalf("version %d: %v", v, err)
		}
	}
	if n := liveRows(t, st); n != 800 {
		t.Fatalf("%d rows, want 800", n)
	}

	// The same 40 rows of one source partition, written by all four at once,
	// in 10 batches each: every row lands once, whoever wins.
	var conflicts atomic.Int64
	for i, w := range writers {
		wg.Add(1)
		go func(i int, w *Appender) {
			defer wg.Done()
			for c := int64(0); c < 10; c++ {
				res, err := w.Append(ctx, wrRows("shared", c*4+1, c*4+4))
				if err != nil {
					t.Errorf("writer %d: %v", i, err)
					return
				}
				conflicts.Add(int64(res.Conflicts))
			}
		}(i, w)
	}
	wg.Wait()
	if n := liveRows(t, st); n != 840 {
		t.Fatalf("%d rows, want 840: a shared row was lost or duplicated", n)
	}
	t.Logf("shared rows: %d commits redone after a txn conflict", conflicts.Load())
}

func TestPartitionValues(t *testing.T) {
	for _, c := range []struct {
		typ  string
		v    any
		want string
		null bool
		bad  bool
	}{
		{"string", "a/b=c", "a/b=c", false, false},
		{"date", "2023-07-02", "2023-07-02", false, false},
		{"date", "2023-7-2", "", false, true},
		{"long", int64(-5), "-5", false, false},
		{"long", "x", "", false, true},
		{"string", nil, "", true, false},
		{"timestamp", time.Date(2023, 7, 2, 15, 30, 0, 0, time.UTC), "2023-07-02 15:30:00.000000", false, false},
	} {
		got, null, err := partitionString(schema.DataType{Primitive: c.typ}, c.v)
		if (err != nil) != c.bad || got != c.want || null != c.null {
			t.Errorf("%s %v: %q %v %v", c.typ, c.v, got, null, err)
		}
	}
	if got := hiveEscape("a/b=c:d"); got != "a%2Fb%3Dc%3Ad" {
		t.Errorf("escape: %s", got)
	}
}

// TestAppenderMemoryBoundedByRowGroup: the heap the writer needs beyond the
// batch it is given (which the caller holds anyway) stays near the row-group
// size when the batch grows tenfold: files are streamed to storage, never
// built in memory.
func TestAppenderMemoryBoundedByRowGroup(t *testing.T) {
	if testing.Short() {
		t.Skip("memory measurement")
	}
	defer debug.SetGCPercent(debug.SetGCPercent(5)) // keep garbage out of the heap figure
	overhead := func(n int64) uint64 {
		st, _ := storage.NewLocal(t.TempDir())
		w := wrAppender(t, wrTable(t, st), AppendConfig{DataFile: datafile.Config{RowGroupBytes: 1 << 20}})
		rows := wrRows("m", 1, n)
		runtime.GC()
		base := deltatest.LiveHeap()
		stop := deltatest.PeakHeap()
		if _, err := w.Append(context.Background(), rows); err != nil {
			t.Fatal(err)
		}
		peak := stop()
		runtime.KeepAlive(rows)
		if peak < base {
			return 0
		}
		return peak - base
	}
	small, large := overhead(20_000), overhead(200_000)
	t.Logf("writer heap beyond the batch: %.1f MB for 20k rows, %.1f MB for 200k rows (row groups of 1 MiB)", float64(small)/1e6, float64(large)/1e6)
	if large > 3*small+16<<20 {
		t.Fatalf("the writer's memory grows with the batch: %d vs %d bytes", large, small)
	}
}

// TestAppenderNoCommitOverAHole: a batch that failed (rows 21-40) must hold back
// any commit whose rows reach above it, even one that starts below it (a
// retried earlier batch merged with newer rows): its txn would pass over rows
// 21-40, which would then be skipped as duplicates. Found by a MinIO outage.
func TestAppenderNoCommitOverAHole(t *testing.T) {
	ctx := context.Background()
	local, _ := storage.NewLocal(t.TempDir())
	st := &faultyStorage{Storage: local}
	w := wrAppender(t, wrTable(t, st), AppendConfig{CommitAttempts: 1})
	st.failing.Store(true)
	if _, err := w.Append(ctx, wrRows("a", 1, 20)); err == nil {
		t.Fatal("a write with the storage down succeeded")
	}
	st.failing.Store(false)
	if _, err := w.Append(ctx, wrRows("a", 21, 40)); !errors.Is(err, ErrOutOfOrder) {
		t.Fatalf("rows 21-40 committed before 1-20: %v", err)
	}
	// The retry of 1-20 comes back merged with newer rows 41-60.
	merged := append(wrRows("a", 1, 20), wrRows("a", 41, 60)...)
	if _, err := w.Append(ctx, merged); !errors.Is(err, ErrOutOfOrder) {
		t.Fatalf("1-20 + 41-60 committed over the missing 21-40: %v", err)
	}
	// In order, everything lands.
	if res, err := w.Append(ctx, wrRows("a", 1, 20)); err != nil || res.Written != 20 {
		t.Fatalf("1-20: %+v %v", res, err)
	}
	if res, err := w.Append(ctx, wrRows("a", 21, 60)); err != nil || res.Written != 40 {
		t.Fatalf("21-60: %+v %v", res, err)
	}
	if n := liveRows(t, st); n != 60 {
		t.Fatalf("%d rows, want 60", n)
	}
}

// TestAppendersOverlappingRanges: two writers (a Kafka partition's old and new
// owner during a rebalance) write overlapping offsets. The later commit must
// see that its lowest offsets are already in the table and re-filter, even
// though its highest offset is above the other's.
func TestAppendersOverlappingRanges(t *testing.T) {
	ctx := context.Background()
	st, _ := storage.NewLocal(t.TempDir())
	wrTable(t, st)
	open := func() *Appender {
		tb, err := OpenTable(ctx, st, TableConfig{})
		if err != nil {
			t.Fatal(err)
		}
		return wrAppender(t, tb, AppendConfig{})
	}
	oldOwner, newOwner := open(), open() // both see the table before either commits
	if res, err := newOwner.Append(ctx, wrRows("p", 100, 150)); err != nil || res.Written != 51 {
		t.Fatalf("new owner: %+v %v", res, err)
	}
	res, err := oldOwner.Append(ctx, wrRows("p", 100, 200))
	if err != nil || res.Written != 50 || res.Skipped != 51 || res.Conflicts != 1 {
		t.Fatalf("old owner: %+v %v (want 50 written, 51 skipped after one conflict)", res, err)
	}
	if n := liveRows(t, st); n != 101 {
		t.Fatalf("%d rows, want 101: offsets 100-150 written twice", n)
	}
}

// TestAppenderOrderedRows appends the same rows in both forms, by name
// (Values) to one table and in column order (Data, Partition) to another:
// the same partitions and files' rows and stats; a misfit and a bad
// partition value fail alone with the same errors.
func TestAppenderOrderedRows(t *testing.T) {
	ctx := context.Background()
	byName := wrRows("a", 1, 30)
	byName[4].Values["score"] = "not a number"
	byName[7].Values["id"] = nil
	byName[9].Values["day"] = 42
	ordered := make([]Row, len(byName))
	for i, r := range byName {
		ordered[i] = Row{AppID: r.AppID, Version: r.Version,
			Data:      []any{r.Values["id"], r.Values["name"], r.Values["score"]},
			Partition: []any{r.Values["day"]}}
	}
	var results []*AppendResult
	var tables []*Table
	for _, rows := range [][]Row{byName, ordered} {
		st, _ := storage.NewLocal(t.TempDir())
		tb := wrTable(t, st)
		w := wrAppender(t, tb, AppendConfig{})
		if got := w.DataSchema(); len(got.Fields) != 3 || got.Fields[2].Name != "score" {
			t.Fatalf("data schema %v, want id, name, score", got)
		}
		res, err := w.Append(ctx, rows)
		if err != nil {
			t.Fatal(err)
		}
		results, tables = append(results, res), append(tables, tb)
	}
	if results[0].Written != 27 || results[1].Written != 27 || len(results[1].Failed) != 3 {
		t.Fatalf("by name %+v, ordered %+v", results[0], results[1])
	}
	for i, e := range results[0].Failed {
		if o := results[1].Failed[i]; o == nil || o.Error() != e.Error() {
			t.Errorf("row %d: by name %v, ordered %v", i, e, o)
		}
	}
	stats := func(tb *Table) map[string]string {
		out := map[string]string{}
		for _, a := range tb.Snapshot().SortedFiles() {
			var st map[string]any
			if err := json.Unmarshal([]byte(a.Stats), &st); err != nil {
				t.Fatal(err)
			}
			out[*a.PartitionValues["day"]] = fmt.Sprint(st["numRecords"], st["minValues"], st["maxValues"], st["nullCount"])
		}
		return out
	}
	a, b := stats(tables[0]), stats(tables[1])
	if len(a) != 3 || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("by name %v\nordered %v", a, b)
	}
}

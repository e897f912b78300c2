package delta

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
	"github.com/gdeltflow/gdeltflow/plugins/internal/deltatest"
)

func TestVacuum(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := deltatest.Local(t, dir)
	tbl, _ := OpenTable(ctx, st, TableConfig{})
	if err := tbl.Create(ctx, dtMeta(), Protocol{}); err != nil {
		t.Fatal(err)
	}
	write := func(p string, age time.Duration) {
		if err := st.Write(ctx, p, strings.NewReader("parquet bytes"), -1); err != nil {
			t.Fatal(err)
		}
		when := time.Now().Add(-age)
		if err := os.Chtimes(filepath.Join(dir, filepath.FromSlash(p)), when, when); err != nil {
			t.Fatal(err)
		}
	}
	week := 7 * 24 * time.Hour
	now := time.Now()
	// live: committed long ago; oldGone: removed 8 days ago; newGone: removed
	// an hour ago; orphan: written 8 days ago, never committed; inflight:
	// written a minute ago, not committed yet.
	live, oldGone, newGone := dtAdd(0), dtAdd(1), dtAdd(2)
	for _, a := range []Add{live, oldGone, newGone} {
		write(DecodePath(a.Path), 30*24*time.Hour)
	}
	write("day=2024-01-01/orphan.parquet", 8*24*time.Hour)
	write("day=2024-01-01/inflight.parquet", time.Minute)
	write("day=2024-01-02/"+storage.LocalTempPrefix+"crashed.parquet-123", 8*24*time.Hour)
	write("_change_data/cdc.parquet", 30*24*time.Hour)
	write(".hidden/x.parquet", 30*24*time.Hour)
	// A live file named by an absolute URI into the table (Spark may write those).
	write("abs/inside.parquet", 30*24*time.Hour)
	absolute := Add{Path: "file:" + filepath.ToSlash(dir) + "/abs/inside.parquet", Size: 13, DataChange: true}
	if _, err := tbl.Commit(ctx, Commit{Adds: []Add{live, oldGone, newGone, absolute}}); err != nil {
		t.Fatal(err)
	}
	if _, err := tbl.Commit(ctx, Commit{Removes: []Remove{
		RemoveOf(&oldGone, now.Add(-8*24*time.Hour).UnixMilli(), true),
		RemoveOf(&newGone, now.Add(-time.Hour).UnixMilli(), true),
	}}); err != nil {
		t.Fatal(err)
	}
	// Old log files are never candidates.
	for _, p := range []string{CommitPath(0), CommitPath(1)} {
		when := now.Add(-30 * 24 * time.Hour)
		_ = os.Chtimes(filepath.Join(dir, filepath.FromSlash(p)), when, when)
	}

	plan, err := PlanVacuum(ctx, st, tbl.Snapshot(), week, now)
	if err != nil {
		t.Fatal(err)
	}
	names := func(fs []storage.FileInfo) string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Path)
		}
		sort.Strings(out)
		return strings.Join(out, " ")
	}
	if got, want := names(plan.Orphans), "day=2024-01-01/orphan.parquet day=2024-01-02/.tmp-crashed.parquet-123"; got != want {
		t.Errorf("orphans: %s, want %s", got, want)
	}
	if got, want := names(plan.ExpiredTombstones), DecodePath(oldGone.Path); got != want {
		t.Errorf("expired tombstones: %s, want %s", got, want)
	}
	// PlanVacuum deletes nothing.
	if _, err := st.Read(ctx, "day=2024-01-01/orphan.parquet"); err != nil {
		t.Errorf("the plan deleted a file: %v", err)
	}
	if plan.Bytes() != 3*int64(len("parquet bytes")) {
		t.Errorf("plan bytes %d", plan.Bytes())
	}
	if err := ExecuteVacuum(ctx, st, plan); err != nil {
		t.Fatal(err)
	}
	for _, f := range plan.Files() {
		if _, err := st.Read(ctx, f.Path); !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("%s not deleted: %v", f.Path, err)
		}
	}
	for _, p := range []string{DecodePath(live.Path), DecodePath(newGone.Path), "day=2024-01-01/inflight.parquet", "_change_data/cdc.parquet", ".hidden/x.parquet", "abs/inside.parquet", CommitPath(0)} {
		if _, err := st.Read(ctx, p); err != nil {
			t.Errorf("%s deleted: %v", p, err)
		}
	}
	// A second plan finds nothing; zero retention takes the recent tombstone
	// and the in-flight file too (which is why retention matters).
	plan, _ = PlanVacuum(ctx, st, tbl.Snapshot(), week, now)
	if len(plan.Files()) != 0 {
		t.Errorf("second plan: %v", plan.Files())
	}
	plan, _ = PlanVacuum(ctx, st, tbl.Snapshot(), 0, now.Add(time.Second))
	if got := names(plan.Files()); got != "day=2024-01-01/inflight.parquet "+DecodePath(newGone.Path) && got != DecodePath(newGone.Path)+" day=2024-01-01/inflight.parquet" {
		t.Errorf("zero retention plan: %s", got)
	}
}

// TestVacuumGolden: the Spark table data-skipping-basic-stats-all-types
// holds a data file its log never references; vacuum finds just that one.
func TestVacuumGolden(t *testing.T) {
	ctx := context.Background()
	st := deltatest.Local(t, deltatest.Golden(t, "data-skipping-basic-stats-all-types"))
	s, err := Load(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := PlanVacuum(ctx, st, s, 7*24*time.Hour, time.Now().Add(1000*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Orphans) != 1 || plan.Orphans[0].Path != "part-00000-087fe319-d261-41b4-91b4-0e8412e60b9e-c000.snappy.parquet" || len(plan.ExpiredTombstones) != 0 {
		t.Errorf("plan %+v", plan)
	}
}

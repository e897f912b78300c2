package delta

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
	"github.com/gdeltflow/gdeltflow/plugins/internal/deltatest"
)

// Commits whose outcome is unknown: the storage fails while (or after) the
// commit file is put. The data files such a commit references must never be
// deleted, and its rows must land exactly once whatever the retries do.

// commitFault is what a faultyCommits storage does to a commit put.
type commitFault int

const (
	// lostReply: the commit file is written, then the call fails (a timeout
	// after the store wrote it, a reply lost on the way back).
	lostReply commitFault = iota + 1
	// lostReplyExists: the file is written, and the call reports that it
	// exists (the store's own retry met the file its first try wrote).
	lostReplyExists
	// refused: the call fails and nothing is written.
	refused
)

// faultyCommits injects commit faults: the next puts of commit files (not
// checkpoints) get the queued faults, one each, then behave.
type faultyCommits struct {
	storage.Storage
	mu     sync.Mutex
	faults []commitFault
	hit    int
}

var commitFileRE = regexp.MustCompile(`^_delta_log/\d{20}\.json$`)

func (f *faultyCommits) arm(faults ...commitFault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, faults...)
}

func (f *faultyCommits) PutIfAbsent(ctx context.Context, p string, data []byte) error {
	f.mu.Lock()
	var fault commitFault
	if commitFileRE.MatchString(p) && len(f.faults) > 0 {
		fault, f.faults = f.faults[0], f.faults[1:]
		f.hit++
	}
	f.mu.Unlock()
	switch fault {
	case lostReply:
		if err := f.Storage.PutIfAbsent(ctx, p, data); err != nil {
			return err
		}
		return fmt.Errorf("putting %s: injected: the reply was lost", p)
	case lostReplyExists:
		if err := f.Storage.PutIfAbsent(ctx, p, data); err != nil {
			return err
		}
		return fmt.Errorf("putting %s (retried by the client): %w", p, storage.ErrExist)
	case refused:
		return fmt.Errorf("putting %s: injected: connection reset", p)
	}
	return f.Storage.PutIfAbsent(ctx, p, data)
}

// dtCheckTable checks that every file the table references exists and that
// the live rows are exactly ids 1..want, each once: DuckDB reads the data
// files (copied out of the storage, which also proves they exist).
func dtCheckTable(t *testing.T, st storage.Storage, want int64) *Snapshot {
	t.Helper()
	ctx := context.Background()
	s, err := Load(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var files []string
	for i, a := range s.SortedFiles() {
		data, err := st.Read(ctx, DecodePath(a.Path))
		if err != nil {
			t.Fatalf("the table references %s, which cannot be read: %v", a.Path, err)
		}
		p := filepath.Join(dir, fmt.Sprintf("f%d.parquet", i))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, deltatest.Quote(p))
	}
	if len(files) == 0 {
		t.Fatal("the table has no live file")
	}
	rows := deltatest.Duck(t, "SELECT count(*) n, count(DISTINCT id) d, min(id) lo, max(id) hi FROM read_parquet(["+strings.Join(files, ",")+"])")
	n, d, lo, hi := deltatest.Int(t, rows[0]["n"]), deltatest.Int(t, rows[0]["d"]), deltatest.Int(t, rows[0]["lo"]), deltatest.Int(t, rows[0]["hi"])
	if n != want || d != want || lo != 1 || hi != want {
		t.Fatalf("DuckDB reads %d rows, %d distinct ids %d..%d; want ids 1..%d once each", n, d, lo, hi, want)
	}
	return s
}

// dtOrphans lists the data files no commit references (all of them, whatever
// their age).
func dtOrphans(t *testing.T, st storage.Storage) []storage.FileInfo {
	t.Helper()
	ctx := context.Background()
	s, err := Load(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := PlanVacuum(ctx, st, s, 0, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return plan.Orphans
}

// dtCommitOutcomes runs the scenarios against a storage made by newStorage
// (one fresh table per call).
func dtCommitOutcomes(t *testing.T, newStorage func(t *testing.T) storage.Storage) {
	ctx := context.Background()

	// The reply of the first commit attempt is lost; the writer's own retry
	// (the same logical commit) finds it landed. Before the fix, the retry
	// took its own commit for another writer's (ErrTxnConflict) and deleted
	// the data files it references.
	for _, fault := range []commitFault{lostReply, lostReplyExists} {
		t.Run(fmt.Sprintf("fault %d retried in place", fault), func(t *testing.T) {
			st := &faultyCommits{Storage: newStorage(t)}
			w := wrAppender(t, wrTable(t, st), AppendConfig{CommitAttempts: 3})
			st.arm(fault)
			res, err := w.Append(ctx, wrRows("a", 1, 30))
			if err != nil || res.Version != 1 || res.Written != 30 || st.hit != 1 {
				t.Fatalf("write: %+v %v (faults hit %d)", res, err, st.hit)
			}
			if res, err := w.Append(ctx, wrRows("a", 31, 60)); err != nil || res.Version != 2 {
				t.Fatalf("next write: %+v %v", res, err)
			}
			dtCheckTable(t, st, 60)
			if o := dtOrphans(t, st); len(o) != 0 {
				t.Errorf("orphans: %v", o)
			}
		})
	}

	// No retry in place: the write fails with an unknown outcome, its files
	// are kept; the batch retried (a new logical commit) finds its rows
	// committed and drops only its own new files.
	t.Run("lost reply, batch retried", func(t *testing.T) {
		st := &faultyCommits{Storage: newStorage(t)}
		w := wrAppender(t, wrTable(t, st), AppendConfig{CommitAttempts: 1})
		st.arm(lostReply)
		_, err := w.Append(ctx, wrRows("a", 1, 30))
		if !errors.Is(err, ErrOutcomeUnknown) || !strings.Contains(err.Error(), "data files are kept") {
			t.Fatalf("write with a lost reply: %v, want an unknown outcome", err)
		}
		res, err := w.Append(ctx, wrRows("a", 1, 30))
		if err != nil || res.Skipped != 30 || res.Written != 0 || res.Conflicts != 1 {
			t.Fatalf("retry: %+v %v, want the 30 rows found committed", res, err)
		}
		if res, err := w.Append(ctx, wrRows("a", 31, 60)); err != nil || res.Written != 30 {
			t.Fatalf("next write: %+v %v", res, err)
		}
		dtCheckTable(t, st, 60)
		if o := dtOrphans(t, st); len(o) != 0 {
			t.Errorf("orphans: %v (the retry's own files must be deleted: no commit has them)", o)
		}
	})

	// A put that failed without landing cannot be told from a lost reply:
	// the files are kept as orphans, which vacuum removes without touching
	// the data.
	t.Run("refused, files kept for vacuum", func(t *testing.T) {
		st := &faultyCommits{Storage: newStorage(t)}
		w := wrAppender(t, wrTable(t, st), AppendConfig{CommitAttempts: 2})
		st.arm(refused, refused)
		if _, err := w.Append(ctx, wrRows("a", 1, 30)); !errors.Is(err, ErrOutcomeUnknown) {
			t.Fatalf("write with refused commits: %v", err)
		}
		if res, err := w.Append(ctx, wrRows("a", 1, 30)); err != nil || res.Written != 30 || res.Version != 1 {
			t.Fatalf("retry: %+v %v", res, err)
		}
		orphans := dtOrphans(t, st)
		if len(orphans) != 3 { // one file per day partition
			t.Fatalf("orphans %v, want the first attempt's 3 files", orphans)
		}
		s, _ := Load(ctx, st)
		plan, err := PlanVacuum(ctx, st, s, 0, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if err := ExecuteVacuum(ctx, st, plan); err != nil {
			t.Fatal(err)
		}
		dtCheckTable(t, st, 30)
		if o := dtOrphans(t, st); len(o) != 0 {
			t.Errorf("orphans after vacuum: %v", o)
		}
	})

	// Lost replies on every attempt of several batches, and a second writer
	// on the same table in between: still every row once.
	t.Run("lost replies among two writers", func(t *testing.T) {
		base := newStorage(t)
		st := &faultyCommits{Storage: base}
		w := wrAppender(t, wrTable(t, st), AppendConfig{CommitAttempts: 2})
		other, err := OpenTable(ctx, base, TableConfig{})
		if err != nil {
			t.Fatal(err)
		}
		w2 := wrAppender(t, other, AppendConfig{})
		for b := int64(0); b < 4; b++ {
			st.arm(lostReply, lostReply)
			lo := b*20 + 1
			res, err := w.Append(ctx, wrRows("a", lo, lo+9))
			if err != nil {
				// Both attempts' replies were lost: the engine retries the batch.
				if res, err = w.Append(ctx, wrRows("a", lo, lo+9)); err != nil {
					t.Fatalf("batch %d retried: %+v %v", b, res, err)
				}
			}
			if res, err := w2.Append(ctx, wrRows("b", lo+10, lo+19)); err != nil || res.Written != 10 {
				t.Fatalf("other writer, batch %d: %+v %v", b, res, err)
			}
		}
		dtCheckTable(t, st, 80)
	})
}

func TestCommitOutcomeUnknownLocal(t *testing.T) {
	dtCommitOutcomes(t, func(t *testing.T) storage.Storage { return deltatest.Local(t, t.TempDir()) })
}

func TestCommitOutcomeUnknownS3(t *testing.T) {
	srv := deltatest.MinIO(t)
	n := 0
	dtCommitOutcomes(t, func(t *testing.T) storage.Storage {
		n++
		return deltatest.S3(t, srv, fmt.Sprintf("outcome/%d", n), nil)
	})
}

// TestCommitRecognisesItsLandedAttempt: after an attempt with a lost reply,
// another commit through the same Table reads it as a winner, so the
// snapshot moves past it; a retry with the same TxnID still gets its
// version, where a new TxnID gets a conflict.
func TestCommitRecognisesItsLandedAttempt(t *testing.T) {
	ctx := context.Background()
	st := &faultyCommits{Storage: deltatest.Local(t, t.TempDir())}
	tbl, _ := OpenTable(ctx, st, TableConfig{})
	if err := tbl.Create(ctx, dtMeta(), Protocol{}); err != nil {
		t.Fatal(err)
	}
	ours := Commit{Adds: []Add{dtAdd(1)}, Txns: []Txn{{AppID: "a", Version: 10}}, TxnID: "ours-1"}
	st.arm(lostReply)
	if _, err := tbl.Commit(ctx, ours); !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("lost reply: %v", err)
	}
	if v, err := tbl.Commit(ctx, Commit{Adds: []Add{dtAdd(2)}, Txns: []Txn{{AppID: "b", Version: 1}}}); err != nil || v != 2 {
		t.Fatalf("other commit: %d %v, want version 2 (after ours at 1)", v, err)
	}
	if v, err := tbl.Commit(ctx, ours); err != nil || v != 1 {
		t.Fatalf("retry with the same TxnID: %d %v, want version 1", v, err)
	}
	again := ours
	again.TxnID = "ours-2"
	if _, err := tbl.Commit(ctx, again); !errors.Is(err, ErrTxnConflict) {
		t.Fatalf("retry with another TxnID: %v, want a txn conflict", err)
	}
	// A fresh Table (a restart) knows nothing of the attempt: the txn decides.
	fresh, _ := OpenTable(ctx, st, TableConfig{})
	if _, err := fresh.Commit(ctx, ours); !errors.Is(err, ErrTxnConflict) {
		t.Fatalf("a fresh table: %v, want a txn conflict", err)
	}
	if s, _ := Load(ctx, st); s.Version != 2 || len(s.Files) != 2 {
		t.Fatalf("version %d with %d files, want 2 with 2", s.Version, len(s.Files))
	}
}

package delta

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/internal/deltatest"
)

// Tables on S3: a private MinIO server (tests/miniotest); the tests skip
// when the server is not installed (`bash tests/minio.sh install`), and fail
// then under CI=true.

func TestS3ConcurrentWriters(t *testing.T) {
	srv := deltatest.MinIO(t)
	dtConcurrentWriters(t, deltatest.S3(t, srv, "concurrent", nil), 4, 50)
}

func TestS3Checkpoint(t *testing.T) {
	srv := deltatest.MinIO(t)
	st := deltatest.S3(t, srv, "checkpointed", nil)
	ctx := context.Background()
	tbl, err := OpenTable(ctx, st, TableConfig{CheckpointInterval: 10})
	if err != nil {
		t.Fatal(err)
	}
	dtWriteHistory(t, tbl, 13)
	if err := tbl.CheckpointError(); err != nil {
		t.Fatal(err)
	}
	lc, err := readLastCheckpoint(ctx, st)
	if err != nil || lc.Version != 10 {
		t.Fatalf("_last_checkpoint %+v %v", lc, err)
	}
	s, err := Load(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != 13 || s.CheckpointVersion != 10 || !dtSameFiles(dtReplayJSON(t, st), s) {
		t.Errorf("S3 load: version %d from checkpoint %d", s.Version, s.CheckpointVersion)
	}
	// Vacuum over S3: an uncommitted file is an orphan.
	if err := st.Write(ctx, "day=2024-01-01/orphan.parquet", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	plan, err := PlanVacuum(ctx, st, s, time.Hour, time.Now().Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var orphans []string
	for _, f := range plan.Orphans {
		orphans = append(orphans, f.Path)
	}
	// The history's adds name files that were never written: only the orphan exists.
	if fmt.Sprint(orphans) != "[day=2024-01-01/orphan.parquet]" {
		t.Errorf("orphans on S3: %v", orphans)
	}
}

func TestS3Unreachable(t *testing.T) {
	srv := deltatest.MinIO(t)
	st := deltatest.S3(t, srv, "dead", nil)
	ctx := context.Background()
	tbl, err := OpenTable(ctx, st, TableConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := tbl.Create(ctx, dtMeta(), Protocol{}); err != nil {
		t.Fatal(err)
	}
	srv.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	check := func(what string, err error, took time.Duration) {
		t.Helper()
		if err == nil {
			t.Errorf("%s on a stopped MinIO succeeded", what)
			return
		}
		msg := err.Error()
		if strings.Contains(msg, srv.SecretKey) || strings.Contains(msg, srv.AccessKey) {
			t.Errorf("%s: credentials in the error: %s", what, msg)
		}
		if !strings.Contains(msg, "s3://delta/dead") || !strings.Contains(msg, "connection refused") {
			t.Errorf("%s: unclear error: %s", what, msg)
		}
		if took > 20*time.Second {
			t.Errorf("%s took %s to fail", what, took)
		}
		t.Logf("%s failed after %s: %s", what, took.Round(time.Millisecond), msg)
	}
	start := time.Now()
	_, err = st.Read(ctx, CommitPath(0))
	check("Read", err, time.Since(start))
	start = time.Now()
	_, err = tbl.Commit(ctx, Commit{Adds: []Add{dtAdd(1)}})
	check("Commit", err, time.Since(start))
	start = time.Now()
	_, err = st.List(ctx, LogDir+"/")
	check("List", err, time.Since(start))

	// A caller's deadline bounds it further.
	short, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	start = time.Now()
	if _, err := Load(short, st); err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("Load with a 300 ms deadline: %v after %s", err, time.Since(start))
	}
}

// TestLoadMissingTable: a table folder that does not exist loads as a table
// with no commit yet.
func TestLoadMissingTable(t *testing.T) {
	st := deltatest.Local(t, filepath.Join(t.TempDir(), "nope"))
	s, err := Load(context.Background(), st)
	if err != nil || s.Version != -1 {
		t.Fatalf("Load of a missing table: %v %v", s, err)
	}
}

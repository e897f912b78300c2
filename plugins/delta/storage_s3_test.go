package delta

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/tests/miniotest"
)

// S3 tests run against a private MinIO server (tests/miniotest); they skip
// when the server is not installed (`bash tests/minio.sh install`), and fail
// then under CI=true.

func dtS3(t *testing.T, srv *miniotest.Server, table string, mod func(*S3Config)) Storage {
	t.Helper()
	c := S3Config{
		Endpoint:        srv.Endpoint,
		Region:          "us-east-1",
		AccessKeyID:     srv.AccessKey,
		SecretAccessKey: srv.SecretKey,
		PathStyle:       true,
	}
	if mod != nil {
		mod(&c)
	}
	st, err := Open("s3://delta/"+table, c)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func dtMinIO(t *testing.T) *miniotest.Server {
	t.Helper()
	if testing.Short() {
		t.Skip("MinIO tests skipped in -short mode")
	}
	srv := miniotest.Start(t)
	srv.Bucket(t, "delta")
	return srv
}

func TestS3Storage(t *testing.T) {
	srv := dtMinIO(t)
	st := dtS3(t, srv, "tables/contract", nil)
	if st.Location() != "s3://delta/tables/contract" {
		t.Errorf("Location %s", st.Location())
	}
	dtStorageContract(t, st)

	// Tables side by side under one bucket do not see each other's files.
	other := dtS3(t, srv, "tables/contract-2", func(c *S3Config) { c.Endpoint = "http://" + srv.Endpoint })
	if files, err := other.List(context.Background(), ""); err != nil || len(files) != 0 {
		t.Errorf("List of a neighbouring prefix: %v %v", files, err)
	}
}

func TestS3PutIfAbsentRace(t *testing.T) {
	srv := dtMinIO(t)
	st := dtS3(t, srv, "race", nil)
	for round := 0; round < 10; round++ {
		dtPutRace(t, st, 8, CommitPath(int64(round)))
	}
}

func TestS3LargeWriteUnknownSize(t *testing.T) {
	srv := dtMinIO(t)
	st := dtS3(t, srv, "large", func(c *S3Config) { c.PartSize = 5 << 20 })
	ctx := context.Background()
	const size = 23<<20 + 12345 // five parts, the last one short
	data := make([]byte, size)
	rand.New(rand.NewSource(1)).Read(data)
	// An io.Reader that is not a *bytes.Reader, so the size is truly unknown.
	r := io.MultiReader(bytes.NewReader(data[:size/2]), bytes.NewReader(data[size/2:]))
	start := time.Now()
	if err := st.Write(ctx, "part-00000-large.parquet", r, -1); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	got, err := st.Read(ctx, "part-00000-large.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("read back %d bytes that differ from the %d written", len(got), len(data))
	}
	files, _ := st.List(ctx, "")
	if len(files) != 1 || files[0].Size != size {
		t.Errorf("List: %+v", files)
	}
	// A failing reader leaves nothing behind (the multipart upload is not completed).
	bad := io.MultiReader(bytes.NewReader(data[:6<<20]), readerFunc(func([]byte) (int, error) { return 0, errors.New("source broke") }))
	if err := st.Write(ctx, "part-00001-broken.parquet", bad, -1); err == nil {
		t.Error("Write from a failing reader succeeded")
	}
	if _, err := st.Read(ctx, "part-00001-broken.parquet"); !errors.Is(err, ErrNotExist) {
		t.Errorf("a failed Write is visible: %v", err)
	}
	t.Logf("wrote %d MiB with unknown size in %s", size>>20, elapsed)
}

func TestS3ConcurrentWriters(t *testing.T) {
	srv := dtMinIO(t)
	dtConcurrentWriters(t, dtS3(t, srv, "concurrent", nil), 4, 50)
}

func TestS3Checkpoint(t *testing.T) {
	srv := dtMinIO(t)
	st := dtS3(t, srv, "checkpointed", nil)
	ctx := context.Background()
	tbl, err := OpenTable(ctx, st, TableOptions{CheckpointInterval: 10})
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
	srv := dtMinIO(t)
	st := dtS3(t, srv, "dead", nil)
	ctx := context.Background()
	tbl, err := OpenTable(ctx, st, TableOptions{})
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

func TestS3CredentialsNotInErrors(t *testing.T) {
	srv := dtMinIO(t)
	const secret = "not-the-secret-0123456789"
	st := dtS3(t, srv, "creds", func(c *S3Config) { c.SecretAccessKey = secret })
	_, err := st.Read(context.Background(), CommitPath(0))
	if err == nil {
		t.Fatal("read with a wrong secret succeeded")
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), srv.AccessKey) {
		t.Errorf("credentials in the error: %v", err)
	}
	if errors.Is(err, ErrNotExist) {
		t.Errorf("an auth failure must not look like a missing file: %v", err)
	}
	t.Logf("wrong secret: %v", err)
}

package storage_test

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

	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
	"github.com/gdeltflow/gdeltflow/plugins/internal/deltatest"
)

// S3 tests run against a private MinIO server (tests/miniotest); they skip
// when the server is not installed (`bash tests/minio.sh install`), and fail
// then under CI=true.

func TestS3Storage(t *testing.T) {
	srv := deltatest.MinIO(t)
	st := deltatest.S3(t, srv, "tables/contract", nil)
	if st.Location() != "s3://delta/tables/contract" {
		t.Errorf("Location %s", st.Location())
	}
	checkContract(t, st)

	// Tables side by side under one bucket do not see each other's files.
	other := deltatest.S3(t, srv, "tables/contract-2", func(c *storage.S3Config) { c.Endpoint = "http://" + srv.Endpoint })
	if files, err := other.List(context.Background(), ""); err != nil || len(files) != 0 {
		t.Errorf("List of a neighbouring prefix: %v %v", files, err)
	}
}

func TestS3PutIfAbsentRace(t *testing.T) {
	srv := deltatest.MinIO(t)
	st := deltatest.S3(t, srv, "race", nil)
	for round := 0; round < 10; round++ {
		putRace(t, st, 8, commitPath(round))
	}
}

func TestS3LargeWriteUnknownSize(t *testing.T) {
	srv := deltatest.MinIO(t)
	st := deltatest.S3(t, srv, "large", func(c *storage.S3Config) { c.PartSize = 5 << 20 })
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
	if _, err := st.Read(ctx, "part-00001-broken.parquet"); !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("a failed Write is visible: %v", err)
	}
	t.Logf("wrote %d MiB with unknown size in %s", size>>20, elapsed)
}

// Files of unknown size that fit in a part (most data files) are read first
// and put whole; the edges: empty, one byte short of a part, exactly a part,
// one byte more; a reader that fails before its end leaves nothing.
func TestS3SmallWriteUnknownSize(t *testing.T) {
	srv := deltatest.MinIO(t)
	const part = 5 << 20
	st := deltatest.S3(t, srv, "small", func(c *storage.S3Config) { c.PartSize = part })
	ctx := context.Background()
	data := make([]byte, part+1)
	rand.New(rand.NewSource(2)).Read(data)
	for i, n := range []int{0, 1, 100 << 10, part - 1, part, part + 1} {
		name := fmt.Sprintf("part-%05d-small.parquet", i)
		r := io.MultiReader(bytes.NewReader(data[:n/2]), bytes.NewReader(data[n/2:n]))
		if err := st.Write(ctx, name, r, -1); err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		got, err := st.Read(ctx, name)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if !bytes.Equal(got, data[:n]) {
			t.Fatalf("%d bytes written, %d read back that differ", n, len(got))
		}
	}
	bad := io.MultiReader(bytes.NewReader(data[:1000]), readerFunc(func([]byte) (int, error) { return 0, errors.New("source broke") }))
	err := st.Write(ctx, "part-00009-broken.parquet", bad, -1)
	if err == nil || !strings.Contains(err.Error(), "source broke") || !strings.Contains(err.Error(), "part-00009-broken.parquet") {
		t.Errorf("Write from a failing reader: %v", err)
	}
	if _, err := st.Read(ctx, "part-00009-broken.parquet"); !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("a failed Write is visible: %v", err)
	}
}

func TestS3CredentialsNotInErrors(t *testing.T) {
	srv := deltatest.MinIO(t)
	const secret = "not-the-secret-0123456789"
	st := deltatest.S3(t, srv, "creds", func(c *storage.S3Config) { c.SecretAccessKey = secret })
	_, err := st.Read(context.Background(), commitPath(0))
	if err == nil {
		t.Fatal("read with a wrong secret succeeded")
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), srv.AccessKey) {
		t.Errorf("credentials in the error: %v", err)
	}
	if errors.Is(err, storage.ErrNotExist) {
		t.Errorf("an auth failure must not look like a missing file: %v", err)
	}
	t.Logf("wrong secret: %v", err)
}

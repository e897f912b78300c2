package storage_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand"
	"testing"

	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
	"github.com/gdeltflow/gdeltflow/plugins/internal/deltatest"
)

// checkOpenFile writes 3.5 MiB and reads it back with OpenFile at random
// offsets and lengths (across S3's 1 MiB blocks, more blocks than the cache
// keeps), up to the end (io.EOF with the bytes there are); a missing file is
// ErrNotExist.
func checkOpenFile(t *testing.T, st storage.Storage) {
	ctx := context.Background()
	data := make([]byte, 3<<20+1<<19)
	rnd := rand.New(rand.NewSource(7))
	rnd.Read(data)
	if err := st.Write(ctx, "part-0.parquet", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	f, err := storage.OpenFile(ctx, st, "part-0.parquet")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Size() != int64(len(data)) {
		t.Fatalf("size %d, want %d", f.Size(), len(data))
	}
	for i := 0; i < 200; i++ {
		off := rnd.Int63n(int64(len(data)))
		buf := make([]byte, rnd.Intn(3<<20))
		n, err := f.ReadAt(buf, off)
		end := min(off+int64(len(buf)), int64(len(data)))
		if int64(n) != end-off || !bytes.Equal(buf[:n], data[off:end]) {
			t.Fatalf("ReadAt(%d bytes at %d): %d bytes, %v; not the file's", len(buf), off, n, err)
		}
		if short := end < off+int64(len(buf)); short != errors.Is(err, io.EOF) || (!short && err != nil) {
			t.Fatalf("ReadAt(%d bytes at %d) to the end %v: %v", len(buf), off, short, err)
		}
	}
	if _, err := storage.OpenFile(ctx, st, "missing.parquet"); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("a missing file: %v", err)
	}
}

func TestOpenFileLocal(t *testing.T) { checkOpenFile(t, deltatest.Local(t, t.TempDir())) }

func TestOpenFileS3(t *testing.T) {
	checkOpenFile(t, deltatest.S3(t, deltatest.MinIO(t), "files", nil))
}

package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
	"github.com/gdeltflow/gdeltflow/plugins/internal/deltatest"
)

// checkContract checks the behaviour every Storage must have.
func checkContract(t *testing.T, st storage.Storage) {
	ctx := context.Background()
	if _, err := st.Read(ctx, "missing/file"); !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("Read of a missing file: %v, want storage.ErrNotExist", err)
	}
	files, err := st.List(ctx, "")
	if err != nil || len(files) != 0 {
		t.Fatalf("List of an empty table: %v, %v", files, err)
	}
	if err := st.PutIfAbsent(ctx, "_delta_log/00000000000000000000.json", []byte("one\n")); err != nil {
		t.Fatal(err)
	}
	if err := st.PutIfAbsent(ctx, "_delta_log/00000000000000000000.json", []byte("two\n")); !errors.Is(err, storage.ErrExist) {
		t.Fatalf("second PutIfAbsent: %v, want storage.ErrExist", err)
	}
	data, err := st.Read(ctx, "_delta_log/00000000000000000000.json")
	if err != nil || string(data) != "one\n" {
		t.Fatalf("Read: %q, %v", data, err)
	}
	for _, p := range []string{"b/x.parquet", "a=1/y.parquet", "a=1/z z.parquet", "a.parquet", "_delta_log/00000000000000000001.json"} {
		if err := st.Write(ctx, p, strings.NewReader("data of "+p), -1); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Write(ctx, "b/x.parquet", strings.NewReader("v2"), 2); err != nil {
		t.Fatal(err)
	}
	if data, _ := st.Read(ctx, "b/x.parquet"); string(data) != "v2" {
		t.Errorf("Write did not replace: %q", data)
	}
	if err := st.Write(ctx, "short.parquet", strings.NewReader("abc"), 10); err == nil {
		t.Error("Write with a short reader succeeded")
	}
	if _, err := st.Read(ctx, "short.parquet"); !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("failed Write left a file: %v", err)
	}
	files, err = st.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range files {
		paths = append(paths, f.Path)
		if f.Size <= 0 || f.ModTime.IsZero() {
			t.Errorf("file info %+v", f)
		}
	}
	want := "_delta_log/00000000000000000000.json _delta_log/00000000000000000001.json a.parquet a=1/y.parquet a=1/z z.parquet b/x.parquet"
	if got := strings.Join(paths, " "); got != want {
		t.Errorf("List:\n got %s\nwant %s", got, want)
	}
	files, _ = st.List(ctx, "a=1/")
	if len(files) != 2 || files[0].Path != "a=1/y.parquet" {
		t.Errorf("List(a=1/) = %v", files)
	}
	files, _ = st.List(ctx, "a")
	if len(files) != 3 {
		t.Errorf("List(a) = %v", files)
	}
	files, err = storage.ListAfter(ctx, st, "_delta_log/", "_delta_log/00000000000000000000")
	if err != nil || len(files) != 2 {
		t.Errorf("storage.ListAfter = %v, %v", files, err)
	}
	files, _ = storage.ListAfter(ctx, st, "_delta_log/", "_delta_log/00000000000000000000.json")
	if len(files) != 1 || files[0].Path != "_delta_log/00000000000000000001.json" {
		t.Errorf("storage.ListAfter = %v", files)
	}
	if err := st.Delete(ctx, "a=1/y.parquet"); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, "a=1/y.parquet"); err != nil {
		t.Errorf("Delete of a missing file: %v", err)
	}
	if _, err := st.Read(ctx, "a=1/y.parquet"); !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("Read after Delete: %v", err)
	}
	for _, bad := range []string{"", "/abs", "../up", "a/../b", "a//b"} {
		if _, err := st.Read(ctx, bad); err == nil || errors.Is(err, storage.ErrNotExist) {
			t.Errorf("Read(%q) = %v, want an invalid path error", bad, err)
		}
	}
}

// putRace has n goroutines put the same path at once: exactly one wins.
func putRace(t *testing.T, st storage.Storage, n int, path string) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			errs[i] = st.PutIfAbsent(ctx, path, []byte(fmt.Sprintf("writer %d\n", i)))
		}(i)
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("writers %d and %d both won %s", winner, i, path)
			}
			winner = i
		case !errors.Is(err, storage.ErrExist):
			t.Fatalf("writer %d: %v, want storage.ErrExist", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no writer won %s", path)
	}
	data, err := st.Read(ctx, path)
	if err != nil || string(data) != fmt.Sprintf("writer %d\n", winner) {
		t.Fatalf("content %q, %v; winner %d", data, err, winner)
	}
}

func TestLocalStorage(t *testing.T) {
	dir := t.TempDir()
	st := deltatest.Local(t, dir)
	checkContract(t, st)
	// No temporary file is left behind.
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), storage.LocalTempPrefix) {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
	if st.Location() != dir {
		t.Errorf("Location %s", st.Location())
	}
}

func TestLocalPutIfAbsentRace(t *testing.T) {
	st := deltatest.Local(t, t.TempDir())
	for round := 0; round < 20; round++ {
		putRace(t, st, 8, commitPath(round))
	}
}

func TestLocalListMissingRoot(t *testing.T) {
	st := deltatest.Local(t, filepath.Join(t.TempDir(), "nope"))
	files, err := st.List(context.Background(), "_delta_log/")
	if err != nil || len(files) != 0 {
		t.Fatalf("%v %v", files, err)
	}
}

func TestLocalWriteHonoursContext(t *testing.T) {
	st := deltatest.Local(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	r := io.MultiReader(bytes.NewReader(make([]byte, 1<<20)), readerFunc(func(p []byte) (int, error) {
		cancel()
		return 0, nil
	}), bytes.NewReader(make([]byte, 1<<20)))
	if err := st.Write(ctx, "x.parquet", r, -1); !errors.Is(err, context.Canceled) {
		t.Errorf("Write after cancel: %v", err)
	}
	if _, err := st.Read(context.Background(), "x.parquet"); !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("cancelled Write left a file: %v", err)
	}
}

// commitPath is a commit file's path (the kernel's delta.CommitPath).
func commitPath(version int) string { return fmt.Sprintf("_delta_log/%020d.json", version) }

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func TestOpenLocation(t *testing.T) {
	dir := t.TempDir()
	for _, loc := range []string{dir, "file://" + dir} {
		st, err := storage.Open(loc, storage.S3Config{})
		if err != nil || st.Location() != dir {
			t.Errorf("Open(%s) = %v, %v", loc, st, err)
		}
	}
	st, err := storage.Open("s3://bucket/some/table/", storage.S3Config{Endpoint: "127.0.0.1:1", AccessKeyID: "k", SecretAccessKey: "s"})
	if err != nil || st.Location() != "s3://bucket/some/table" {
		t.Errorf("Open(s3) = %v, %v", st, err)
	}
	if _, err := storage.Open("gs://bucket/t", storage.S3Config{}); err == nil {
		t.Error("gs:// accepted")
	}
	if _, err := storage.Open("s3:///t", storage.S3Config{}); err == nil {
		t.Error("s3 without bucket accepted")
	}
}

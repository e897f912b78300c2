package delta

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
	"github.com/gdeltflow/gdeltflow/plugins/internal/deltatest"
)

// TestPartitionValueReadOnly: the partition types a writer of Spark's
// golden tables uses and this package never writes read typed as the data
// file reader types them; a malformed one fails, naming the type.
func TestPartitionValueReadOnly(t *testing.T) {
	str := func(s string) *string { return &s }
	for _, c := range []struct {
		typ  string
		in   string
		want any
	}{
		{"double", "1.5", 1.5},
		{"double", "-Infinity", math.Inf(-1)},
		{"float", "1.0", float32(1)},
		{"decimal(5,2)", "-3.1", json.Number("-3.10")},
		{"decimal(1,0)", "1", json.Number("1")},
		{"timestamp_ntz", "2021-09-08 11:11:11", time.Date(2021, 9, 8, 11, 11, 11, 0, time.UTC)},
	} {
		got, err := PartitionValue(schema.DataType{Primitive: c.typ}, str(c.in))
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %q: %#v, %v; want %#v", c.typ, c.in, got, err, c.want)
		}
	}
	if _, err := PartitionValue(schema.DataType{Primitive: "decimal(5,2)"}, str("1.2.3")); err == nil || !strings.Contains(err.Error(), "is not a decimal(5,2)") {
		t.Errorf("a malformed decimal: %v", err)
	}
}

// TestChangeOf: a commit's actions sorted for a reader: files added with
// dataChange are new rows, those without (a compaction) are counted apart,
// removes, txns and a new schema are kept.
func TestChangeOf(t *testing.T) {
	meta := &Metadata{ID: "x", SchemaString: `{"type":"struct","fields":[]}`}
	c := ChangeOf(7, []Action{
		{Add: &Add{Path: "a", DataChange: true}}, {Add: &Add{Path: "b"}},
		{Remove: &Remove{Path: "c", DataChange: true}}, {Txn: &Txn{AppID: "w", Version: 3}},
		{MetaData: meta}, {CommitInfo: CommitInfo{"operation": "WRITE"}},
	})
	if c.Version != 7 || len(c.Adds) != 1 || c.Adds[0].Path != "a" || c.Rearranged != 1 || len(c.Removes) != 1 ||
		!reflect.DeepEqual(c.Txns, []Txn{{AppID: "w", Version: 3}}) || c.Metadata != meta || c.Protocol != nil {
		t.Fatalf("%+v", c)
	}
	st := deltatest.Local(t, deltatest.Golden(t, "simple_table"))
	if _, err := ReadChange(context.Background(), st, 99); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("a commit not written yet: %v", err)
	}
	ch, err := ReadChange(context.Background(), st, 4)
	if err != nil || len(ch.Adds) == 0 || len(ch.Removes) == 0 {
		t.Fatalf("simple_table version 4 (an overwrite): %+v, %v", ch, err)
	}
}

// TestScanProjection: a Scan of delta-rs' partitioned table gives the
// columns asked for, in that order, the partition column typed from the log;
// an unknown column is refused naming the table's.
func TestScanProjection(t *testing.T) {
	ctx := context.Background()
	st := deltatest.Local(t, deltatest.Golden(t, "delta-2.2.0-partitioned-types"))
	snap, err := Load(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := NewScan(snap.Metadata, []string{"c3", "c1"})
	if err != nil {
		t.Fatal(err)
	}
	var got [][]any
	for _, a := range snap.SortedFiles() {
		fr, err := sc.Open(ctx, st, a)
		if err != nil {
			t.Fatal(err)
		}
		for {
			row, err := fr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, row)
		}
		fr.Close()
	}
	want := [][]any{{int32(5), int32(4)}, {int32(6), int32(5)}, {int32(4), int32(6)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rows %v, want %v", got, want)
	}
	if _, err := NewScan(snap.Metadata, []string{"c9"}); err == nil || !strings.Contains(err.Error(), `column "c9" is not in the table (its columns: c1, c2, c3)`) {
		t.Fatalf("an unknown column: %v", err)
	}
}

// failingStorage fails every ranged read of its files.
type failingStorage struct {
	storage.Storage
}

func (f failingStorage) Open(ctx context.Context, p string) (storage.File, error) {
	file, err := f.Storage.(storage.Opener).Open(ctx, p)
	if err != nil {
		return nil, err
	}
	return failingFile{file}, nil
}

type failingFile struct{ storage.File }

func (failingFile) ReadAt([]byte, int64) (int, error) { return 0, errors.New("connection reset") }

// TestScanErrors: bytes that are not a data file of the table are
// ErrDataFile naming the file (no retry mends them); a storage that fails
// while the file is read is not, so the caller retries.
func TestScanErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := deltatest.Golden(t, "delta-2.2.0-partitioned-types")
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	st := deltatest.Local(t, dir)
	snap, err := Load(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := NewScan(snap.Metadata, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := snap.SortedFiles()[0]
	if _, err := sc.Open(ctx, failingStorage{st}, a); err == nil || errors.Is(err, ErrDataFile) || IsPermanent(err) || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("a failing storage: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, DecodePath(a.Path)), []byte("PAR1 not really"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Open(ctx, st, a); !errors.Is(err, ErrDataFile) || !IsPermanent(err) || !strings.Contains(err.Error(), DecodePath(a.Path)) {
		t.Fatalf("a damaged file: %v", err)
	}
	if err := os.Remove(filepath.Join(dir, DecodePath(a.Path))); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Open(ctx, st, a); !errors.Is(err, ErrDataFile) || !strings.Contains(err.Error(), "the log lists it, the storage does not have it") {
		t.Fatalf("a missing file: %v", err)
	}
	dv := *a
	dv.DeletionVector = json.RawMessage(`{"storageType":"u","pathOrInlineDv":"x","sizeInBytes":1,"cardinality":1}`)
	if _, err := sc.Open(ctx, st, &dv); !errors.Is(err, ErrUnsupportedProtocol) {
		t.Fatalf("a deletion vector: %v", err)
	}
}

package delta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
	"github.com/gdeltflow/gdeltflow/plugins/internal/deltatest"
)

// dtWriteHistory commits n versions after Create: appends with stats and
// txns, a null partition value, and a remove every 7th version.
func dtWriteHistory(t *testing.T, tbl *Table, n int) {
	ctx := context.Background()
	if err := tbl.Create(ctx, dtMeta(), Protocol{}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		c := Commit{Adds: []Add{dtAdd(i)}, Txns: []Txn{{AppID: fmt.Sprintf("src-%d", i%3), Version: int64(i)}}}
		if i == 5 {
			c.Adds[0].PartitionValues = map[string]*string{"day": nil}
			c.Adds[0].Path = "day=__HIVE_DEFAULT_PARTITION__/part-null.parquet"
		}
		if i%7 == 0 {
			for _, a := range tbl.Snapshot().SortedFiles()[:1] {
				c.Removes = append(c.Removes, RemoveOf(a, 0, true))
			}
		}
		v, err := tbl.Commit(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if v != int64(i) {
			t.Fatalf("commit %d got version %d", i, v)
		}
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := deltatest.Local(t, dir)
	var reported []int64
	tbl, err := OpenTable(ctx, st, TableConfig{CheckpointInterval: 10, OnCheckpoint: func(v int64, err error) {
		if err != nil {
			t.Errorf("checkpoint %d: %v", v, err)
		}
		reported = append(reported, v)
	}})
	if err != nil {
		t.Fatal(err)
	}
	dtWriteHistory(t, tbl, 25)
	if fmt.Sprint(reported) != "[10 20]" {
		t.Errorf("checkpoints at %v, want [10 20]", reported)
	}
	files, _ := st.List(ctx, LogDir+"/")
	var cps []string
	for _, f := range files {
		if strings.Contains(f.Path, ".checkpoint.") {
			cps = append(cps, f.Path)
		}
	}
	if fmt.Sprint(cps) != "["+CheckpointPath(10)+" "+CheckpointPath(20)+"]" {
		t.Errorf("checkpoint files %v", cps)
	}
	lc, err := readLastCheckpoint(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := st.Read(ctx, LastCheckpointPath)
	var lcFields map[string]any
	_ = json.Unmarshal(raw, &lcFields)
	if lc.Version != 20 || lc.Size == 0 || lcFields["version"] == nil || lcFields["size"] == nil {
		t.Errorf("_last_checkpoint = %s", raw)
	}

	s, err := Load(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	ref := dtReplayJSON(t, st)
	if s.CheckpointVersion != 20 || s.Version != 25 {
		t.Errorf("loaded version %d from checkpoint %d", s.Version, s.CheckpointVersion)
	}
	if !dtSameFiles(ref, s) || len(s.Tombstones) == 0 || len(s.Txns) != 3 {
		t.Errorf("Load through the checkpoint differs from the JSON replay: %d/%d files, %d/%d tombstones, txns %v / %v",
			len(s.Files), len(ref.Files), len(s.Tombstones), len(ref.Tombstones), s.Txns, ref.Txns)
	}
	if !reflect.DeepEqual(s.Metadata, ref.Metadata) || !reflect.DeepEqual(s.Protocol, ref.Protocol) {
		t.Errorf("metadata %+v %+v / %+v %+v", s.Metadata, s.Protocol, ref.Metadata, ref.Protocol)
	}
	// The checkpoint alone gives the state at 20.
	at20, err := LoadVersion(ctx, st, 20)
	if err != nil {
		t.Fatal(err)
	}
	if at20.CheckpointVersion != 20 || !dtSameFiles(dtReplayJSONUpTo(t, st, 20), at20) {
		t.Error("checkpoint 20 differs from the JSON replay up to 20")
	}
	nullFile := at20.Files["day=__HIVE_DEFAULT_PARTITION__/part-null.parquet"]
	if nullFile == nil || nullFile.PartitionValues["day"] != nil {
		t.Errorf("null partition value not kept through the checkpoint: %+v", nullFile)
	}
	if n, ok := at20.NumRecords(); !ok || n != int64(2*len(at20.Files)) {
		t.Errorf("NumRecords from the checkpoint: %d %v", n, ok)
	}

	// DuckDB reads our checkpoint as Spark's: one row per action.
	cp := filepath.Join(dir, filepath.FromSlash(CheckpointPath(20)))
	rows := deltatest.Duck(t, `SELECT
  count(*) FILTER (WHERE add IS NOT NULL) adds,
  count(*) FILTER (WHERE remove IS NOT NULL) removes,
  count(*) FILTER (WHERE txn IS NOT NULL) txns,
  count(*) FILTER (WHERE protocol IS NOT NULL) protocols,
  count(*) FILTER (WHERE "metaData" IS NOT NULL) metas,
  count(*) FILTER (WHERE add.partitionValues['day'] IS NULL AND add IS NOT NULL) nullparts,
  sum(CAST(json_extract(add.stats, '$.numRecords') AS BIGINT)) numrecords,
  max(protocol.minWriterVersion) writer,
  count(*) rowcount
FROM read_parquet(`+deltatest.Quote(cp)+`)`)
	r := rows[0]
	if deltatest.Int(t, r["adds"]) != int64(len(at20.Files)) || deltatest.Int(t, r["removes"]) != int64(len(at20.Tombstones)) ||
		deltatest.Int(t, r["txns"]) != 3 || deltatest.Int(t, r["protocols"]) != 1 || deltatest.Int(t, r["metas"]) != 1 ||
		deltatest.Int(t, r["nullparts"]) != 1 || deltatest.Int(t, r["numrecords"]) != int64(2*len(at20.Files)) || deltatest.Int(t, r["writer"]) != 2 ||
		deltatest.Int(t, r["rowcount"]) != lc.Size {
		t.Errorf("DuckDB sees %v; snapshot at 20 has %d files, %d tombstones; _last_checkpoint size %d", r, len(at20.Files), len(at20.Tombstones), lc.Size)
	}
	desc := deltatest.Duck(t, `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(`+deltatest.Quote(cp)+`))`)
	types := map[string]string{}
	for _, d := range desc {
		types[d["column_name"].(string)] = d["column_type"].(string)
	}
	for col, want := range map[string]string{
		"add":      "partitionValues MAP(VARCHAR, VARCHAR)",
		"metaData": "partitionColumns VARCHAR[]",
		"txn":      "appId VARCHAR",
		"protocol": "minReaderVersion INTEGER",
		"remove":   "deletionTimestamp BIGINT",
	} {
		if !strings.Contains(types[col], want) {
			t.Errorf("column %s is %s, want it to contain %s", col, types[col], want)
		}
	}
	t.Logf("checkpoint 20: %d rows (%d adds, %d removes), %d bytes; DuckDB agrees", lc.Size, len(at20.Files), len(at20.Tombstones), lc.SizeInBytes)
}

func TestCheckpointHints(t *testing.T) {
	ctx := context.Background()
	st := deltatest.Local(t, t.TempDir())
	tbl, _ := OpenTable(ctx, st, TableConfig{CheckpointInterval: 10})
	dtWriteHistory(t, tbl, 23)
	ref := dtReplayJSON(t, st)

	// A stale _last_checkpoint (pointing at 10) still finds checkpoint 20.
	stale, _ := json.Marshal(lastCheckpoint{Version: 10, Size: 1})
	if err := st.Write(ctx, LastCheckpointPath, bytes.NewReader(stale), -1); err != nil {
		t.Fatal(err)
	}
	if s, err := Load(ctx, st); err != nil || s.CheckpointVersion != 20 || !dtSameFiles(ref, s) {
		t.Errorf("stale _last_checkpoint: %v, checkpoint %d", err, s.CheckpointVersion)
	}
	// A torn _last_checkpoint is ignored.
	if err := st.Write(ctx, LastCheckpointPath, strings.NewReader(`{"vers`), -1); err != nil {
		t.Fatal(err)
	}
	if s, err := Load(ctx, st); err != nil || s.CheckpointVersion != 20 || !dtSameFiles(ref, s) {
		t.Errorf("torn _last_checkpoint: %v", err)
	}
	// A corrupt newest checkpoint falls back to the older one.
	if err := st.Write(ctx, CheckpointPath(20), strings.NewReader("PAR1 garbage"), -1); err != nil {
		t.Fatal(err)
	}
	if s, err := Load(ctx, st); err != nil || s.CheckpointVersion != 10 || !dtSameFiles(ref, s) {
		t.Errorf("corrupt checkpoint 20: %v (from %d)", err, s.CheckpointVersion)
	}
	// _last_checkpoint pointing at a checkpoint that is gone: full listing.
	_ = st.Delete(ctx, CheckpointPath(20))
	gone, _ := json.Marshal(lastCheckpoint{Version: 20, Size: 1})
	_ = st.Write(ctx, LastCheckpointPath, bytes.NewReader(gone), -1)
	if s, err := Load(ctx, st); err != nil || s.CheckpointVersion != 10 || !dtSameFiles(ref, s) {
		t.Errorf("missing checkpoint 20: %v", err)
	}
}

// TestMultiPartCheckpoint splits a checkpoint into parts named as Spark
// names them (N.checkpoint.o.p.parquet); an incomplete set is ignored.
func TestMultiPartCheckpoint(t *testing.T) {
	ctx := context.Background()
	st := deltatest.Local(t, t.TempDir())
	tbl, _ := OpenTable(ctx, st, TableConfig{CheckpointInterval: -1})
	dtWriteHistory(t, tbl, 12)
	ref := dtReplayJSON(t, st)
	at10 := dtReplayJSONUpTo(t, st, 10)
	rows := checkpointRows(at10, time.Now())
	parts := [][]ckptRow{rows[:len(rows)/2], rows[len(rows)/2:]}
	for i, part := range parts {
		var buf bytes.Buffer
		w := parquet.NewGenericWriter[ckptRow](&buf)
		if _, err := w.Write(part); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		p := fmt.Sprintf("%s/%020d.checkpoint.%010d.%010d.parquet", LogDir, 10, i+1, len(parts))
		if err := st.Write(ctx, p, &buf, -1); err != nil {
			t.Fatal(err)
		}
	}
	last, _ := json.Marshal(map[string]any{"version": 10, "size": len(rows), "parts": 2})
	_ = st.Write(ctx, LastCheckpointPath, bytes.NewReader(last), -1)
	s, err := Load(ctx, st)
	if err != nil || s.CheckpointVersion != 10 || !dtSameFiles(ref, s) {
		t.Fatalf("multi-part checkpoint: %v (from %d)", err, s.CheckpointVersion)
	}
	// Without part 2 the checkpoint is incomplete: replay from JSON.
	_ = st.Delete(ctx, fmt.Sprintf("%s/%020d.checkpoint.%010d.%010d.parquet", LogDir, 10, 2, 2))
	s, err = Load(ctx, st)
	if err != nil || s.CheckpointVersion != -1 || !dtSameFiles(ref, s) {
		t.Fatalf("incomplete multi-part checkpoint: %v (from %d)", err, s.CheckpointVersion)
	}
}

func TestCheckpointTombstoneExpiry(t *testing.T) {
	ctx := context.Background()
	st := deltatest.Local(t, t.TempDir())
	tbl, _ := OpenTable(ctx, st, TableConfig{CheckpointInterval: -1})
	meta := dtMeta()
	meta.Configuration = map[string]string{ConfDeletedFileRetention: "interval 1 hours"}
	if err := tbl.Create(ctx, meta, Protocol{}); err != nil {
		t.Fatal(err)
	}
	old, fresh := dtAdd(1), dtAdd(2)
	if _, err := tbl.Commit(ctx, Commit{Adds: []Add{old, fresh}}); err != nil {
		t.Fatal(err)
	}
	twoHoursAgo := time.Now().Add(-2 * time.Hour).UnixMilli()
	if _, err := tbl.Commit(ctx, Commit{Removes: []Remove{RemoveOf(&old, twoHoursAgo, true), RemoveOf(&fresh, 0, true)}}); err != nil {
		t.Fatal(err)
	}
	if err := WriteCheckpoint(ctx, st, tbl.Snapshot()); err != nil {
		t.Fatal(err)
	}
	s, err := Load(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Tombstones) != 1 || s.Tombstones[DecodePath(fresh.Path)] == nil {
		t.Errorf("tombstones after the checkpoint: %v (the expired one must be dropped)", dtKeys(s.Tombstones))
	}
}

// dtFailingWrites fails Write for paths containing a marker.
type dtFailingWrites struct {
	storage.Storage
	marker string
}

func (f dtFailingWrites) Write(ctx context.Context, p string, r io.Reader, size int64) error {
	if strings.Contains(p, f.marker) {
		return errors.New("injected write failure")
	}
	return f.Storage.Write(ctx, p, r, size)
}

func TestCheckpointFailureKeepsTheCommit(t *testing.T) {
	ctx := context.Background()
	st := dtFailingWrites{deltatest.Local(t, t.TempDir()), ".checkpoint."}
	var got error
	tbl, _ := OpenTable(ctx, st, TableConfig{CheckpointInterval: 2, OnCheckpoint: func(v int64, err error) { got = err }})
	if err := tbl.Create(ctx, dtMeta(), Protocol{}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		if _, err := tbl.Commit(ctx, Commit{Adds: []Add{dtAdd(i)}}); err != nil {
			t.Fatalf("commit %d: %v", i, err)
		}
	}
	if got == nil || tbl.CheckpointError() == nil || !strings.Contains(got.Error(), "injected") {
		t.Errorf("checkpoint failure not reported: %v", got)
	}
	if s, err := Load(ctx, st); err != nil || s.Version != 2 {
		t.Errorf("after a failed checkpoint: %v", err)
	}
}

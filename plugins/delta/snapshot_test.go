package delta

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
	"github.com/gdeltflow/gdeltflow/plugins/internal/deltatest"
)

// Helpers of the transaction-log tests (prefix dt). The golden tables and
// the DuckDB oracle (tests/duckdb/query.mjs) come from deltatest: without
// them the tests skip, except under CI=true, where they fail.

// dtReplayJSON replays every JSON commit of a table, ignoring checkpoints:
// the reference a checkpoint-based load must agree with.
func dtReplayJSON(tb testing.TB, st storage.Storage) *Snapshot {
	tb.Helper()
	ctx := context.Background()
	s := NewSnapshot()
	for v := int64(0); ; v++ {
		data, err := st.Read(ctx, CommitPath(v))
		if err != nil {
			break
		}
		actions, err := ParseCommit(data)
		if err != nil {
			tb.Fatal(err)
		}
		if err := s.Apply(v, actions); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

// dtDuckLogCounts replays the JSON log in DuckDB: the latest version, the
// live files, the tombstones, the txn actions and the live numRecords.
func dtDuckLogCounts(tb testing.TB, dir string) (version, live, tombstones, txns, numRecords int64) {
	tb.Helper()
	glob := filepath.Join(dir, "_delta_log", "*.json")
	rows := deltatest.Duck(tb, `
WITH a AS (
  SELECT CAST(regexp_extract(filename, '(\d{20})\.json$', 1) AS BIGINT) v, row_number() OVER () rn, json
  FROM read_ndjson_objects(`+deltatest.Quote(glob)+`, filename=true)
), f AS (
  SELECT v, rn, COALESCE(json->>'$.add.path', json->>'$.remove.path') path,
    CASE WHEN (json->'$.add') IS NOT NULL THEN 'add' ELSE 'remove' END kind,
    CAST(json_extract((json->>'$.add.stats'), '$.numRecords') AS BIGINT) nrec
  FROM a WHERE (json->'$.add') IS NOT NULL OR (json->'$.remove') IS NOT NULL
), last AS (
  SELECT path, arg_max(kind, v*1000000+rn) k, arg_max(nrec, v*1000000+rn) nrec FROM f GROUP BY path
)
SELECT (SELECT max(v) FROM a) maxversion,
  (SELECT count(*) FROM last WHERE k='add') live,
  (SELECT count(*) FROM last WHERE k='remove') tombstones,
  (SELECT count(*) FROM a WHERE (json->'$.txn') IS NOT NULL) txns,
  (SELECT sum(nrec) FROM last WHERE k='add') numrecords`)
	r := rows[0]
	return deltatest.Int(tb, r["maxversion"]), deltatest.Int(tb, r["live"]), deltatest.Int(tb, r["tombstones"]), deltatest.Int(tb, r["txns"]), deltatest.Int(tb, r["numrecords"])
}

// TestGoldenTables replays every reference table and checks the numbers
// against what delta-rs asserts and what DuckDB counts in the JSON log.
func TestGoldenTables(t *testing.T) {
	cases := []struct {
		name                 string
		version, live, tombs int64
		checkpoint           int64 // the checkpoint Load must start from, -1 none
		numRecords           int64 // -1: no stats
		partitionCols, txns  int
	}{
		{name: "simple_table", version: 4, live: 5, tombs: 31, checkpoint: -1, numRecords: -1},
		{name: "simple_table_with_checkpoint", version: 10, live: 11, tombs: 0, checkpoint: 10, numRecords: -1},
		{name: "checkpoint", version: 14, live: 1, tombs: 14, checkpoint: 10, numRecords: -1},
		{name: "data-reader-partition-values", version: 0, live: 3, tombs: 0, checkpoint: -1, numRecords: -1, partitionCols: 12},
		{name: "data-skipping-basic-stats-all-types", version: 0, live: 1, tombs: 0, checkpoint: -1, numRecords: 1},
		{name: "delta-2.2.0-partitioned-types", version: 0, live: 3, tombs: 0, checkpoint: -1, numRecords: 3, partitionCols: 2},
	}
	entries, _ := os.ReadDir(deltatest.GoldenDir(t))
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	if len(dirs) != len(cases) {
		t.Errorf("golden tables %v: every one must have a case here", dirs)
	}
	ctx := context.Background()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := deltatest.Golden(t, c.name)
			st := deltatest.Local(t, dir)
			s, err := Load(ctx, st)
			if err != nil {
				t.Fatal(err)
			}
			if s.Version != c.version || int64(len(s.Files)) != c.live || int64(len(s.Tombstones)) != c.tombs {
				t.Fatalf("version %d, %d live files, %d tombstones; want %d, %d, %d",
					s.Version, len(s.Files), len(s.Tombstones), c.version, c.live, c.tombs)
			}
			if s.CheckpointVersion != c.checkpoint {
				t.Errorf("loaded from checkpoint %d, want %d", s.CheckpointVersion, c.checkpoint)
			}
			if len(s.Txns) != c.txns {
				t.Errorf("%d txns, want %d", len(s.Txns), c.txns)
			}
			if s.Protocol == nil || s.Protocol.MinReaderVersion != 1 || s.Protocol.MinWriterVersion != 2 {
				t.Errorf("protocol %+v", s.Protocol)
			}
			if s.Metadata == nil || s.Metadata.Format.Provider != "parquet" || len(s.Metadata.PartitionColumns) != c.partitionCols {
				t.Errorf("metadata %+v", s.Metadata)
			}
			n, ok := s.NumRecords()
			if c.numRecords < 0 && ok || c.numRecords >= 0 && (!ok || n != c.numRecords) {
				t.Errorf("NumRecords = %d, %v; want %d", n, ok, c.numRecords)
			}
			// Every live file exists under its decoded path, with its size.
			for p, a := range s.Files {
				fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p)))
				if c.name == "checkpoint" {
					continue // its adds name files "1".."15" that were never written
				}
				if err != nil {
					t.Errorf("live file %s: %v", p, err)
				} else if fi.Size() != a.Size {
					t.Errorf("live file %s: %d bytes, log says %d", p, fi.Size(), a.Size)
				}
			}
			// The JSON-only replay agrees with the checkpoint-based load.
			if ref := dtReplayJSON(t, st); !dtSameFiles(ref, s) {
				t.Errorf("load through the checkpoint differs from the JSON replay")
			}
			// DuckDB's reading of the JSON log agrees.
			v, live, tombs, txns, nrec := dtDuckLogCounts(t, dir)
			if v != s.Version || live != int64(len(s.Files)) || tombs != int64(len(s.Tombstones)) || txns != int64(len(s.Txns)) {
				t.Errorf("DuckDB: version %d, %d live, %d tombstones, %d txns", v, live, tombs, txns)
			}
			if c.numRecords >= 0 && nrec != c.numRecords {
				t.Errorf("DuckDB numRecords %d", nrec)
			}
			t.Logf("%s: version %d, %d live files, %d tombstones, %d txns, numRecords %d (ok %v), checkpoint %d",
				c.name, s.Version, len(s.Files), len(s.Tombstones), len(s.Txns), n, ok, s.CheckpointVersion)
		})
	}
}

// dtSameFiles compares live files and tombstones (paths, sizes, partition
// values, stats), ignoring dataChange, which checkpoints reset.
func dtSameFiles(a, b *Snapshot) bool {
	if a.Version != b.Version || len(a.Files) != len(b.Files) || len(a.Tombstones) != len(b.Tombstones) || len(a.Txns) != len(b.Txns) {
		return false
	}
	for p, x := range a.Files {
		y, ok := b.Files[p]
		if !ok || x.Path != y.Path || x.Size != y.Size || x.ModificationTime != y.ModificationTime || x.Stats != y.Stats || !dtSamePV(x.PartitionValues, y.PartitionValues) {
			return false
		}
	}
	for p, x := range a.Tombstones {
		y, ok := b.Tombstones[p]
		if !ok || x.DeletionTimestamp != y.DeletionTimestamp {
			return false
		}
	}
	for id, x := range a.Txns {
		if b.Txns[id] != x {
			return false
		}
	}
	return a.Metadata.ID == b.Metadata.ID && a.Metadata.SchemaString == b.Metadata.SchemaString
}

func dtSamePV(a, b map[string]*string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, x := range a {
		y, ok := b[k]
		if !ok || (x == nil) != (y == nil) || x != nil && *x != *y {
			return false
		}
	}
	return true
}

func TestGoldenPartitionValuesAndStats(t *testing.T) {
	ctx := context.Background()
	s, err := Load(ctx, deltatest.Local(t, deltatest.Golden(t, "data-reader-partition-values")))
	if err != nil {
		t.Fatal(err)
	}
	nullFile := "as_int=__HIVE_DEFAULT_PARTITION__/as_long=__HIVE_DEFAULT_PARTITION__/as_byte=__HIVE_DEFAULT_PARTITION__/as_short=__HIVE_DEFAULT_PARTITION__/as_boolean=__HIVE_DEFAULT_PARTITION__/as_float=__HIVE_DEFAULT_PARTITION__/as_double=__HIVE_DEFAULT_PARTITION__/as_string=__HIVE_DEFAULT_PARTITION__/as_string_lit_null=__HIVE_DEFAULT_PARTITION__/as_date=__HIVE_DEFAULT_PARTITION__/as_timestamp=__HIVE_DEFAULT_PARTITION__/as_big_decimal=__HIVE_DEFAULT_PARTITION__/part-00001-9ee474eb-385b-43cf-9acb-0fbed63e011c.c000.snappy.parquet"
	a := s.Files[nullFile]
	if a == nil {
		t.Fatalf("null-partition file missing; files: %v", dtKeys(s.Files))
	}
	if len(a.PartitionValues) != 12 {
		t.Errorf("%d partition values", len(a.PartitionValues))
	}
	for k, v := range a.PartitionValues {
		if v != nil {
			t.Errorf("partition %s = %q, want null", k, *v)
		}
	}
	// The path with %20 and %253A decodes to the folder on disk.
	decoded := "as_int=0/as_long=0/as_byte=0/as_short=0/as_boolean=true/as_float=0.0/as_double=0.0/as_string=0/as_string_lit_null=null/as_date=2021-09-08/as_timestamp=2021-09-08 11%3A11%3A11/as_big_decimal=0/part-00000-b9dc86ae-0134-4363-bd87-19cfb3403e9a.c000.snappy.parquet"
	b := s.Files[decoded]
	if b == nil {
		t.Fatalf("decoded path missing; files: %v", dtKeys(s.Files))
	}
	if *b.PartitionValues["as_timestamp"] != "2021-09-08 11:11:11" || *b.PartitionValues["as_string_lit_null"] != "null" {
		t.Errorf("partition values %v", b.PartitionValues)
	}

	s, err = Load(ctx, deltatest.Local(t, deltatest.Golden(t, "data-skipping-basic-stats-all-types")))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range s.Files {
		var stats struct {
			NumRecords int64          `json:"numRecords"`
			MinValues  map[string]any `json:"minValues"`
			NullCount  map[string]any `json:"nullCount"`
		}
		if err := json.Unmarshal([]byte(f.Stats), &stats); err != nil {
			t.Fatal(err)
		}
		if stats.NumRecords != 1 || stats.MinValues["as_timestamp"] != "2000-01-01T00:00:00.000-08:00" || len(stats.NullCount) != 10 {
			t.Errorf("stats %s", f.Stats)
		}
	}
}

func dtKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestLoadVersion(t *testing.T) {
	ctx := context.Background()
	st := deltatest.Local(t, deltatest.Golden(t, "simple_table"))
	for v := int64(0); v <= 4; v++ {
		s, err := LoadVersion(ctx, st, v)
		if err != nil {
			t.Fatal(err)
		}
		ref := dtReplayJSONUpTo(t, st, v)
		if !dtSameFiles(ref, s) {
			t.Errorf("version %d differs from the JSON replay", v)
		}
		t.Logf("simple_table@%d: %d live, %d tombstones", v, len(s.Files), len(s.Tombstones))
	}
	if _, err := LoadVersion(ctx, st, 5); err == nil {
		t.Error("version 5 of simple_table loaded (only .tmp/ has it)")
	}
	// Older than the checkpoint: replayed from JSON; at and after it: from it.
	st = deltatest.Local(t, deltatest.Golden(t, "checkpoint"))
	for _, v := range []int64{3, 9, 10, 12} {
		s, err := LoadVersion(ctx, st, v)
		if err != nil {
			t.Fatal(err)
		}
		if s.Version != v || !dtSameFiles(dtReplayJSONUpTo(t, st, v), s) {
			t.Errorf("checkpoint table at %d: %d files", v, len(s.Files))
		}
		wantCP := int64(-1)
		if v >= 10 {
			wantCP = 10
		}
		if s.CheckpointVersion != wantCP {
			t.Errorf("checkpoint table at %d loaded from checkpoint %d", v, s.CheckpointVersion)
		}
	}
}

func dtReplayJSONUpTo(tb testing.TB, st storage.Storage, version int64) *Snapshot {
	tb.Helper()
	s := NewSnapshot()
	for v := int64(0); v <= version; v++ {
		actions, err := readCommit(context.Background(), st, v)
		if err != nil {
			tb.Fatal(err)
		}
		if err := s.Apply(v, actions); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

func TestApplyRules(t *testing.T) {
	s := NewSnapshot()
	if err := s.Apply(1, nil); err == nil {
		t.Error("gap accepted")
	}
	if err := s.Apply(0, []Action{{Add: &Add{Path: "a"}}}); err == nil {
		t.Error("version 0 without protocol and metaData accepted")
	}
	if s.Version != -1 || len(s.Files) != 0 {
		t.Error("failed Apply changed the snapshot")
	}
	meta := &Metadata{ID: "x", SchemaString: `{"type":"struct","fields":[]}`}
	v0 := []Action{{Protocol: &Protocol{1, 2, nil, nil}}, {MetaData: meta}, {Add: &Add{Path: "a%20b", Size: 1}}, {Txn: &Txn{AppID: "p", Version: 5}}}
	if err := s.Apply(0, v0); err != nil {
		t.Fatal(err)
	}
	if s.Files["a b"] == nil {
		t.Errorf("files %v", dtKeys(s.Files))
	}
	if err := s.Apply(1, []Action{{Remove: &Remove{Path: "a b", DeletionTimestamp: 7}}, {Add: &Add{Path: "c"}}, {Txn: &Txn{AppID: "p", Version: 3}}}); err != nil {
		t.Fatal(err)
	}
	if len(s.Files) != 1 || s.Tombstones["a b"] == nil || s.Txns["p"].Version != 3 {
		t.Errorf("after v1: files %v tombstones %v txns %v", dtKeys(s.Files), dtKeys(s.Tombstones), s.Txns)
	}
	// Re-adding a removed file revives it.
	if err := s.Apply(2, []Action{{Add: &Add{Path: "a b"}}}); err != nil {
		t.Fatal(err)
	}
	if s.Files["a b"] == nil || s.Tombstones["a b"] != nil {
		t.Error("re-add did not revive the file")
	}
}

func TestUpdateSeesOtherWriters(t *testing.T) {
	ctx := context.Background()
	st := deltatest.Local(t, t.TempDir())
	s, err := Load(ctx, st)
	if err != nil || s.Version != -1 {
		t.Fatalf("empty table: %v, %v", s, err)
	}
	tbl, err := OpenTable(ctx, st, TableConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := tbl.Create(ctx, dtMeta(), Protocol{}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := tbl.Commit(ctx, Commit{Adds: []Add{dtAdd(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Update(ctx, st); err != nil {
		t.Fatal(err)
	}
	if s.Version != 3 || len(s.Files) != 3 {
		t.Errorf("after Update: version %d, %d files", s.Version, len(s.Files))
	}
}

func dtMeta() Metadata {
	return Metadata{
		SchemaString:     `{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},{"name":"day","type":"string","nullable":true,"metadata":{}}]}`,
		PartitionColumns: []string{"day"},
	}
}

func dtAdd(i int) Add {
	day := time.Date(2024, 1, 1+i%3, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
	return Add{
		Path:            EncodePath("day=" + day + "/part-" + strings.Repeat("0", 3) + time.Now().Format("150405.000000000") + "-" + txnUUID() + ".parquet"),
		PartitionValues: map[string]*string{"day": &day},
		Size:            100 + int64(i),
		DataChange:      true,
		Stats:           `{"numRecords":2,"minValues":{"id":1},"maxValues":{"id":2},"nullCount":{"id":0}}`,
	}
}

// TestCorruptCheckpointWarning: a checkpoint that cannot be read is skipped
// (the JSON log gives the same snapshot) and the snapshot says so (the
// delta_lake output logs it: see plugins/deltalake).
func TestCorruptCheckpointWarning(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := deltatest.Local(t, dir)
	tbl, _ := OpenTable(ctx, st, TableConfig{})
	if err := tbl.Create(ctx, dtMeta(), Protocol{}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 12; i++ {
		if _, err := tbl.Commit(ctx, Commit{Adds: []Add{dtAdd(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if s, err := Load(ctx, st); err != nil || s.CheckpointVersion != 10 || len(s.Warnings) != 0 {
		t.Fatalf("before: %v, checkpoint %d, warnings %q", err, s.CheckpointVersion, s.Warnings)
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(CheckpointPath(10))), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != 12 || len(s.Files) != 12 || s.CheckpointVersion != -1 {
		t.Errorf("version %d, %d files, checkpoint %d; want 12, 12, none", s.Version, len(s.Files), s.CheckpointVersion)
	}
	if len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "checkpoint of version 10 ("+CheckpointPath(10)+") is not usable") ||
		!strings.Contains(s.Warnings[0], "read the JSON log from version 0 instead") {
		t.Errorf("warnings %q", s.Warnings)
	}

}

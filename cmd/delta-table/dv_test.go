package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gdeltflow/gdeltflow/plugins/delta"
)

// dvTable writes, by hand, the log of a table with deletion vectors (no
// golden table has one): version 1 adds two files of 2,111 and 240 rows (the
// bundled mirror's export rows), version 2 deletes 60 and 40 of their rows
// with deletion vectors, as Spark's DELETE does: each file is removed and
// added again with its vector. The table holds 2,251 rows.
func dvTable(t *testing.T, readerFeatures ...string) string {
	t.Helper()
	dir := t.TempDir()
	if len(readerFeatures) == 0 {
		readerFeatures = []string{"deletionVectors"}
	}
	day := "2023-07-02"
	add := func(name string, rows int64, dv string) delta.Add {
		a := delta.Add{
			Path: "window_date=" + day + "/" + name, PartitionValues: map[string]*string{"window_date": &day},
			Size: 1000 + rows, ModificationTime: 1700000000000, DataChange: true,
			Stats: fmt.Sprintf(`{"numRecords":%d}`, rows),
		}
		if dv != "" {
			a.DeletionVector = json.RawMessage(dv)
		}
		return a
	}
	a, b := add("part-a.parquet", 2111, ""), add("part-b.parquet", 240, "")
	aDV := add("part-a.parquet", 2111, `{"storageType":"u","pathOrInlineDv":"ab^-aqEH.-t@S}K{vb[*k^","offset":1,"sizeInBytes":36,"cardinality":60}`)
	bDV := add("part-b.parquet", 240, `{"storageType":"i","pathOrInlineDv":"wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L","sizeInBytes":40,"cardinality":40}`)
	schema := `{"type":"struct","fields":[{"name":"global_event_id","type":"long","nullable":true,"metadata":{}},{"name":"window_date","type":"date","nullable":true,"metadata":{}}]}`
	commits := [][]delta.Action{
		{
			{CommitInfo: delta.CommitInfo{"timestamp": 1700000000000, "operation": "CREATE TABLE"}},
			{Protocol: &delta.Protocol{MinReaderVersion: 3, MinWriterVersion: 7, ReaderFeatures: readerFeatures, WriterFeatures: []string{"deletionVectors"}}},
			{MetaData: &delta.Metadata{ID: "dv-test", Format: delta.Format{Provider: "parquet"}, SchemaString: schema,
				PartitionColumns: []string{"window_date"}, Configuration: map[string]string{"delta.enableDeletionVectors": "true"}}},
		},
		{{CommitInfo: delta.CommitInfo{"timestamp": 1700000001000, "operation": "WRITE"}}, {Add: &a}, {Add: &b}},
		{
			{CommitInfo: delta.CommitInfo{"timestamp": 1700000002000, "operation": "DELETE"}},
			{Remove: &delta.Remove{Path: a.Path, DeletionTimestamp: 1700000002000, DataChange: true}},
			{Remove: &delta.Remove{Path: b.Path, DeletionTimestamp: 1700000002000, DataChange: true}},
			{Add: &aDV}, {Add: &bDV},
		},
	}
	if err := os.MkdirAll(filepath.Join(dir, delta.LogDir), 0o755); err != nil {
		t.Fatal(err)
	}
	for v, actions := range commits {
		data, err := delta.EncodeCommit(actions)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(delta.CommitPath(int64(v)))), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestDeletionVectors: count, files and history subtract the rows deletion
// vectors delete (2,351 in the files, 2,251 in the table).
func TestDeletionVectors(t *testing.T) {
	dir := dvTable(t)
	code, out, errOut := runCmd(t, nil, "count", dir)
	if code != 0 || !regexp.MustCompile(`(?m)^rows\s+2251 \(2351 in the files less 100 deleted by deletion vectors in 2 files\)$`).MatchString(out) {
		t.Errorf("count: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCmd(t, nil, "count", "-json", dir)
	if r := decodeLines(t, out); code != 0 || len(r) != 1 || r[0]["rows"] != json.Number("2251") ||
		r[0]["deletedRows"] != json.Number("100") || r[0]["filesWithDeletionVectors"] != json.Number("2") {
		t.Errorf("count -json: exit %d %s", code, out)
	}
	// The version before the DELETE has no vectors.
	if code, out, _ := runCmd(t, nil, "count", "-version", "1", dir); code != 0 || !regexp.MustCompile(`(?m)^rows\s+2351$`).MatchString(out) {
		t.Errorf("count -version 1: exit %d\n%s", code, out)
	}

	code, out, errOut = runCmd(t, nil, "files", dir)
	if code != 0 || !strings.Contains(out, "DELETED (DV)") ||
		!regexp.MustCompile(`(?m)^window_date=2023-07-02/part-a\.parquet\s+window_date=2023-07-02\s+3111\s+2111\s+60\s`).MatchString(out) ||
		!strings.Contains(out, "2351 records less 100 deleted by deletion vectors in 2 files: 2251 live rows; version 2") {
		t.Errorf("files: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCmd(t, nil, "files", "-json", dir)
	recs := decodeLines(t, out)
	if code != 0 || len(recs) != 2 || recs[0]["deletionVector"] != true || recs[0]["numRecords"] != json.Number("2111") ||
		recs[0]["deletedRecords"] != json.Number("60") || recs[0]["rows"] != json.Number("2051") || recs[1]["rows"] != json.Number("200") {
		t.Errorf("files -json: exit %d %s", code, out)
	}

	code, out, _ = runCmd(t, nil, "history", dir)
	if code != 0 || !regexp.MustCompile(`(?m)^2\s+\S+\s+DELETE\s+\+0 -100\s+\+2 -2\s`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^1\s+\S+\s+WRITE\s+\+2351\s`).MatchString(out) {
		t.Errorf("history: exit %d\n%s", code, out)
	}

	// The snapshot's own count agrees.
	s, err := delta.Load(context.Background(), openLocal(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := s.NumRecords(); !ok || n != 2251 {
		t.Errorf("Snapshot.NumRecords = %d, %v; want 2251", n, ok)
	}
}

// TestUnreadableReaderFeatures: a table that needs a reader feature this
// tool cannot honour is refused for anything that reports its rows or
// files, with the feature named; its schema and history can still be shown.
func TestUnreadableReaderFeatures(t *testing.T) {
	dir := dvTable(t, "deletionVectors", "v2Checkpoint")
	for _, cmd := range []string{"count", "files"} {
		code, out, errOut := runCmd(t, nil, cmd, dir)
		if code != 1 || out != "" || !strings.Contains(errOut, `reader feature "v2Checkpoint"`) ||
			!strings.Contains(errOut, "delta-table cannot tell this table's rows and files") {
			t.Errorf("%s: exit %d\nstdout %q\nstderr %q", cmd, code, out, errOut)
		}
	}
	for _, cmd := range []string{"schema", "history", "txn"} {
		if code, _, errOut := runCmd(t, nil, cmd, dir); code != 0 {
			t.Errorf("%s: exit %d: %s", cmd, code, errOut)
		}
	}
	// Vacuum and checkpoint write: they need the writer's support too.
	for _, cmd := range []string{"vacuum", "checkpoint"} {
		if code, _, errOut := runCmd(t, nil, cmd, dir); code != 1 || !strings.Contains(errOut, "unsupported table protocol") {
			t.Errorf("%s: exit %d: %s", cmd, code, errOut)
		}
	}
}

// TestCorruptCheckpointWarns: a checkpoint that cannot be read is skipped
// for the JSON log (the numbers stay right), and every command that loads
// the table says so on stderr, naming the checkpoint.
func TestCorruptCheckpointWarns(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openLocal(t, dir)
	tbl, err := delta.OpenTable(ctx, st, delta.TableConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := tbl.Create(ctx, testMeta(), delta.Protocol{}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 11; i++ {
		if _, err := tbl.Commit(ctx, delta.Commit{Adds: []delta.Add{testAdd("2024-01-01", fmt.Sprintf("part-%d.parquet", i), i)}}); err != nil {
			t.Fatal(err)
		}
	}
	cp := filepath.Join(dir, filepath.FromSlash(delta.CheckpointPath(10)))
	if err := os.WriteFile(cp, []byte("PAR1 not really parquet"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(t, nil, "count", dir)
	if code != 0 || !regexp.MustCompile(`(?m)^rows\s+66$`).MatchString(out) {
		t.Errorf("count: exit %d\n%s%s", code, out, errOut)
	}
	warn := nonEmptyLines(errOut)
	if len(warn) != 1 || !strings.HasPrefix(warn[0], "delta-table: warning: "+dir+": the checkpoint of version 10 (_delta_log/00000000000000000010.checkpoint.parquet) is not usable: ") ||
		!strings.HasSuffix(warn[0], "; read the JSON log from version 0 instead") {
		t.Errorf("warnings: %q", warn)
	}
	// Writing a new checkpoint is the remedy: the warning goes away.
	if code, _, errOut := runCmd(t, nil, "checkpoint", dir); code != 0 || !strings.Contains(errOut, "not usable") {
		t.Errorf("checkpoint: exit %d: %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, nil, "files", dir); code != 0 || errOut != "" {
		t.Errorf("after a new checkpoint: exit %d: %q", code, errOut)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/delta"
)

// decodeLines parses JSON lines into maps (numbers as json.Number).
func decodeLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range nonEmptyLines(s) {
		d := json.NewDecoder(strings.NewReader(l))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			t.Fatalf("not JSON: %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestHistorySimpleTable(t *testing.T) {
	ctx := context.Background()
	st := openLocal(t, golden(t, "simple_table"))

	var buf bytes.Buffer
	if err := cmdHistory(ctx, &buf, st, historyOptions{}); err != nil {
		t.Fatal(err)
	}
	lines := nonEmptyLines(buf.String())
	if len(lines) != 6 || !strings.HasPrefix(lines[0], "VERSION") {
		t.Fatalf("want a header and 5 versions, got:\n%s", buf.String())
	}
	wantOps := []string{"DELETE", "UPDATE", "WRITE", "MERGE", "WRITE"}
	for i, l := range lines[1:] {
		f := strings.Fields(l)
		if f[0] != fmt.Sprint(4-i) || f[2] != wantOps[i] {
			t.Errorf("line %d: want version %d %s, got %q", i+1, 4-i, wantOps[i], l)
		}
		if !strings.HasPrefix(f[1], "2020-04-27T06:23:") || !strings.HasSuffix(f[1], "Z") {
			t.Errorf("line %d: timestamp %q, want 2020-04-27T06:23:..Z (UTC)", i+1, f[1])
		}
	}
	// Version 4 (DELETE) adds 1 file and removes 2.
	if !strings.Contains(lines[1], "+1 -2") {
		t.Errorf("version 4 should show files +1 -2: %q", lines[1])
	}

	buf.Reset()
	if err := cmdHistory(ctx, &buf, st, historyOptions{N: 2, JSON: true}); err != nil {
		t.Fatal(err)
	}
	recs := decodeLines(t, buf.String())
	if len(recs) != 2 {
		t.Fatalf("-n 2: want 2 lines, got %d:\n%s", len(recs), buf.String())
	}
	if recs[0]["version"] != json.Number("4") || recs[0]["operation"] != "DELETE" ||
		recs[0]["timestamp"] != "2020-04-27T06:23:46.537Z" || recs[0]["removedFiles"] != json.Number("2") {
		t.Errorf("version 4: %v", recs[0])
	}
	if recs[1]["version"] != json.Number("3") || recs[1]["operation"] != "UPDATE" {
		t.Errorf("version 3: %v", recs[1])
	}
}

func TestHistoryMetricsAndEngine(t *testing.T) {
	st := openLocal(t, golden(t, "delta-2.2.0-partitioned-types"))
	var buf bytes.Buffer
	if err := cmdHistory(context.Background(), &buf, st, historyOptions{JSON: true}); err != nil {
		t.Fatal(err)
	}
	recs := decodeLines(t, buf.String())
	if len(recs) != 1 {
		t.Fatalf("want 1 version, got %s", buf.String())
	}
	r := recs[0]
	if r["addedRows"] != json.Number("3") || r["addedFiles"] != json.Number("3") || r["addedBytes"] != json.Number("1356") ||
		r["engineInfo"] != "Apache-Spark/3.3.1 Delta-Lake/2.2.0" {
		t.Errorf("summary: %v", r)
	}
	if m, _ := r["operationMetrics"].(map[string]any); m["numOutputRows"] != "3" {
		t.Errorf("operationMetrics: %v", r["operationMetrics"])
	}
}

// After log cleanup, versions older than the oldest JSON are not listed,
// and the table still loads from its checkpoint.
func TestHistoryAfterLogCleanup(t *testing.T) {
	dir := copyTable(t, "checkpoint")
	for v := int64(0); v < 10; v++ {
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(delta.CommitPath(v)))); err != nil {
			t.Fatal(err)
		}
	}
	st := openLocal(t, dir)
	var buf bytes.Buffer
	if err := cmdHistory(context.Background(), &buf, st, historyOptions{N: 0, JSON: true}); err != nil {
		t.Fatal(err)
	}
	recs := decodeLines(t, buf.String())
	var got []string
	for _, r := range recs {
		got = append(got, fmt.Sprint(r["version"]))
	}
	if strings.Join(got, ",") != "14,13,12,11,10" {
		t.Errorf("versions: %v", got)
	}
	buf.Reset()
	if err := cmdCount(context.Background(), &buf, st, viewOptions{Version: -1}); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^version\s+14$`).MatchString(buf.String()) {
		t.Errorf("count:\n%s", buf.String())
	}
}

func TestFilesSimpleTable(t *testing.T) {
	ctx := context.Background()
	st := openLocal(t, golden(t, "simple_table"))
	var buf bytes.Buffer
	if err := cmdFiles(ctx, &buf, st, viewOptions{Version: -1}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	var files int
	for _, l := range nonEmptyLines(out) {
		if strings.HasPrefix(l, "part-") {
			files++
			if !strings.Contains(l, "2020-04-27T06:23:") {
				t.Errorf("no UTC modification time: %q", l)
			}
		}
	}
	if files != 5 {
		t.Errorf("want 5 live files, got %d:\n%s", files, out)
	}
	if !strings.Contains(out, "total: 5 files, 1811 bytes") || !strings.Contains(out, "version 4") {
		t.Errorf("totals:\n%s", out)
	}

	buf.Reset()
	if err := cmdFiles(ctx, &buf, st, viewOptions{Version: -1, JSON: true}); err != nil {
		t.Fatal(err)
	}
	recs := decodeLines(t, buf.String())
	if len(recs) != 5 {
		t.Fatalf("JSON: want 5 lines, got %d", len(recs))
	}
	for _, r := range recs {
		if p, _ := r["path"].(string); !strings.HasPrefix(p, "part-") || r["size"] == nil {
			t.Errorf("file: %v", r)
		}
	}

	// Time travel: version 0 had 6 files.
	buf.Reset()
	if err := cmdFiles(ctx, &buf, st, viewOptions{Version: 0, JSON: true}); err != nil {
		t.Fatal(err)
	}
	if n := len(decodeLines(t, buf.String())); n != 6 {
		t.Errorf("version 0: want 6 files, got %d", n)
	}
}

func TestFilesPartitioned(t *testing.T) {
	st := openLocal(t, golden(t, "delta-2.2.0-partitioned-types"))
	var buf bytes.Buffer
	if err := cmdFiles(context.Background(), &buf, st, viewOptions{Version: -1}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"PARTITION", "c1=4, c2=c", "c1=6, c2=a", "total: 3 files, 1356 bytes", "3 records"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

func TestCount(t *testing.T) {
	ctx := context.Background()
	var buf bytes.Buffer
	st := openLocal(t, golden(t, "data-skipping-basic-stats-all-types"))
	if err := cmdCount(ctx, &buf, st, viewOptions{Version: -1}); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^rows\s+1$`).MatchString(buf.String()) ||
		!regexp.MustCompile(`(?m)^files\s+1$`).MatchString(buf.String()) {
		t.Errorf("count:\n%s", buf.String())
	}
	buf.Reset()
	if err := cmdCount(ctx, &buf, st, viewOptions{Version: 0, JSON: true}); err != nil {
		t.Fatal(err)
	}
	if r := decodeLines(t, buf.String()); len(r) != 1 || r[0]["rows"] != json.Number("1") || r[0]["version"] != json.Number("0") {
		t.Errorf("count -json: %s", buf.String())
	}

	// simple_table's files have no stats: the count is unknown.
	buf.Reset()
	if err := cmdCount(ctx, &buf, openLocal(t, golden(t, "simple_table")), viewOptions{Version: -1}); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^rows\s+unknown`).MatchString(buf.String()) {
		t.Errorf("count without stats:\n%s", buf.String())
	}
}

func TestSchemaPartitioned(t *testing.T) {
	ctx := context.Background()
	st := openLocal(t, golden(t, "delta-2.2.0-partitioned-types"))
	var buf bytes.Buffer
	if err := cmdSchema(ctx, &buf, st, viewOptions{Version: -1}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !regexp.MustCompile(`(?m)^partitioned by\s+c1, c2$`).MatchString(out) {
		t.Errorf("no partition columns:\n%s", out)
	}
	for _, re := range []string{`(?m)^c1\s+integer\s+true\s+yes$`, `(?m)^c2\s+string\s+true\s+yes$`, `(?m)^c3\s+integer\s+true\s*$`,
		`(?m)^protocol\s+reader 1, writer 2$`, `(?m)^configuration: \(none\)$`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("no match for %s in:\n%s", re, out)
		}
	}

	buf.Reset()
	if err := cmdSchema(ctx, &buf, st, viewOptions{Version: -1, JSON: true}); err != nil {
		t.Fatal(err)
	}
	var rep schemaReport
	if err := json.Unmarshal(buf.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if strings.Join(rep.PartitionColumns, ",") != "c1,c2" || len(rep.Columns) != 3 || !rep.Columns[0].Partition ||
		rep.Protocol.MinWriterVersion != 2 || rep.ID != "aff5cb91-8cd9-4195-aef9-446908507302" {
		t.Errorf("schema -json: %+v", rep)
	}
}

func TestSchemaNestedAndConfiguration(t *testing.T) {
	st := openLocal(t, golden(t, "data-reader-partition-values"))
	var buf bytes.Buffer
	if err := cmdSchema(context.Background(), &buf, st, viewOptions{Version: -1}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, re := range []string{`(?m)^as_nested_struct\.ac\.acb\s+long\s+true`, `(?m)^as_list_of_records\s+array<struct<val:integer>>\s+true`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("no match for %s in:\n%s", re, out)
		}
	}

	// A table of ours with configuration.
	dir := t.TempDir()
	tst := openLocal(t, dir)
	tbl, err := delta.OpenTable(context.Background(), tst, delta.TableConfig{})
	if err != nil {
		t.Fatal(err)
	}
	meta := testMeta()
	meta.Configuration = map[string]string{"delta.appendOnly": "true", "delta.checkpointInterval": "50"}
	if err := tbl.Create(context.Background(), meta, delta.Protocol{}); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := cmdSchema(context.Background(), &buf, tst, viewOptions{Version: -1}); err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{`(?m)^configuration:$`, `(?m)^  delta\.appendOnly\s+= true$`, `(?m)^  delta\.checkpointInterval\s+= 50$`} {
		if !regexp.MustCompile(re).MatchString(buf.String()) {
			t.Errorf("no match for %s in:\n%s", re, buf.String())
		}
	}
}

func testMeta() delta.Metadata {
	return delta.Metadata{
		SchemaString:     `{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},{"name":"day","type":"string","nullable":true,"metadata":{}}]}`,
		PartitionColumns: []string{"day"},
	}
}

func testAdd(day, name string, rows int) delta.Add {
	return delta.Add{
		Path:             delta.EncodePath("day=" + day + "/" + name),
		PartitionValues:  map[string]*string{"day": &day},
		Size:             100,
		ModificationTime: time.Now().UnixMilli(),
		DataChange:       true,
		Stats:            fmt.Sprintf(`{"numRecords":%d}`, rows),
	}
}

// txnTable creates a table in a temporary folder with two commits carrying
// application transactions.
func txnTable(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	tbl, err := delta.OpenTable(ctx, openLocal(t, dir), delta.TableConfig{EngineInfo: "delta-table-test/1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := tbl.Create(ctx, testMeta(), delta.Protocol{}); err != nil {
		t.Fatal(err)
	}
	if _, err := tbl.Commit(ctx, delta.Commit{
		Adds: []delta.Add{testAdd("2024-01-01", "part-0.parquet", 3)},
		Txns: []delta.Txn{{AppID: "zeta-writer", Version: 7, LastUpdated: 1700000000000}, {AppID: "alpha-writer", Version: 1}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := tbl.Commit(ctx, delta.Commit{
		Adds: []delta.Add{testAdd("2024-01-02", "part-1.parquet", 4)},
		Txns: []delta.Txn{{AppID: "alpha-writer", Version: 2, LastUpdated: 1700000123456}},
	}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestTxn(t *testing.T) {
	ctx := context.Background()
	dir := txnTable(t)
	st := openLocal(t, dir)

	var buf bytes.Buffer
	if err := cmdTxn(ctx, &buf, st, viewOptions{Version: -1}); err != nil {
		t.Fatal(err)
	}
	lines := nonEmptyLines(buf.String())
	if len(lines) != 3 {
		t.Fatalf("want a header and 2 apps:\n%s", buf.String())
	}
	if !regexp.MustCompile(`^alpha-writer\s+2\s+2023-11-14T22:15:23\.456Z$`).MatchString(lines[1]) ||
		!regexp.MustCompile(`^zeta-writer\s+7\s+2023-11-14T22:13:20\.000Z$`).MatchString(lines[2]) {
		t.Errorf("txn:\n%s", buf.String())
	}

	buf.Reset()
	if err := cmdTxn(ctx, &buf, st, viewOptions{Version: 1, JSON: true}); err != nil {
		t.Fatal(err)
	}
	recs := decodeLines(t, buf.String())
	if len(recs) != 2 || recs[0]["appId"] != "alpha-writer" || recs[0]["version"] != json.Number("1") ||
		recs[1]["appId"] != "zeta-writer" || recs[1]["lastUpdated"] != "2023-11-14T22:13:20.000Z" || recs[1]["lastUpdatedMs"] != json.Number("1700000000000") {
		t.Errorf("txn -json -version 1: %s", buf.String())
	}

	// history shows the txns set by each commit, and our engineInfo.
	buf.Reset()
	if err := cmdHistory(ctx, &buf, st, historyOptions{N: 1, JSON: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"txns":[{"appId":"alpha-writer","version":2,"lastUpdated":"2023-11-14T22:15:23.456Z","lastUpdatedMs":1700000123456}]`) {
		t.Errorf("history -json txns: %s", buf.String())
	}
	buf.Reset()
	if err := cmdHistory(ctx, &buf, st, historyOptions{}); err != nil {
		t.Fatal(err)
	}
	lines = nonEmptyLines(buf.String())
	if len(lines) != 4 || !strings.Contains(lines[1], "alpha-writer=2") || !strings.Contains(lines[2], "alpha-writer=1,zeta-writer=7") ||
		!strings.Contains(lines[1], "delta-table-test/1") || !strings.Contains(lines[3], "CREATE TABLE") {
		t.Errorf("history:\n%s", buf.String())
	}
	if !regexp.MustCompile(`^2\s+\S+\s+WRITE\s+\+4\s+\+1 -0\s+\+100\s`).MatchString(lines[1]) {
		t.Errorf("history of version 2: %q", lines[1])
	}

	// No txns.
	buf.Reset()
	if err := cmdTxn(ctx, &buf, openLocal(t, golden(t, "simple_table")), viewOptions{Version: -1}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "no application transactions") {
		t.Errorf("txn of a table without txns: %q", buf.String())
	}
}

func TestCheckpoint(t *testing.T) {
	ctx := context.Background()
	dir := copyTable(t, "simple_table")
	st := openLocal(t, dir)
	var buf bytes.Buffer
	if err := cmdCheckpoint(ctx, &buf, nil, st); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "wrote checkpoint of version 4: _delta_log/00000000000000000004.checkpoint.parquet") {
		t.Errorf("output: %q", buf.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "_delta_log", "00000000000000000004.checkpoint.parquet")); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "_delta_log", "_last_checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	var lc struct{ Version int64 }
	if err := json.Unmarshal(data, &lc); err != nil || lc.Version != 4 {
		t.Fatalf("_last_checkpoint: %s (%v)", data, err)
	}
	// The table reads back from the checkpoint with the same files.
	s, err := delta.Load(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if s.CheckpointVersion != 4 || s.Version != 4 || len(s.Files) != 5 {
		t.Errorf("after checkpoint: version %d, checkpoint %d, %d files", s.Version, s.CheckpointVersion, len(s.Files))
	}
}

func TestVacuum(t *testing.T) {
	ctx := context.Background()
	dir := copyTable(t, "simple_table")
	st := openLocal(t, dir)
	before, err := delta.Load(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	// An old orphan (a crashed writer's file), and a recent one that the
	// retention protects (a writer that has not committed yet).
	oldOrphan := filepath.Join(dir, "part-99999-orphan-old.snappy.parquet")
	newOrphan := filepath.Join(dir, "part-99998-orphan-new.snappy.parquet")
	for _, p := range []string{oldOrphan, newOrphan} {
		if err := os.WriteFile(p, []byte("PAR1 not really PAR1"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-30 * 24 * time.Hour)
	if err := os.Chtimes(oldOrphan, old, old); err != nil {
		t.Fatal(err)
	}

	logBefore := logEntries(t, dir)

	// Dry run: listed, not deleted.
	var buf bytes.Buffer
	if err := cmdVacuum(ctx, &buf, st, vacuumOptions{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !regexp.MustCompile(`(?m)^orphan\s+part-99999-orphan-old\.snappy\.parquet\s+20\s`).MatchString(out) {
		t.Errorf("dry run does not list the old orphan:\n%s", out)
	}
	if strings.Contains(out, "orphan-new") {
		t.Errorf("dry run lists the recent orphan:\n%s", out)
	}
	if !strings.Contains(out, "would delete 32 files (1 orphan, 31 expired tombstones)") || !strings.Contains(out, "dry run") {
		t.Errorf("dry run summary:\n%s", out)
	}
	if _, err := os.Stat(oldOrphan); err != nil {
		t.Fatalf("dry run deleted the orphan: %v", err)
	}

	// JSON dry run.
	buf.Reset()
	if err := cmdVacuum(ctx, &buf, st, vacuumOptions{JSON: true}); err != nil {
		t.Fatal(err)
	}
	recs := decodeLines(t, buf.String())
	if len(recs) != 32 || recs[0]["kind"] != "orphan" || recs[0]["deleted"] != false || recs[1]["kind"] != "tombstone" || recs[1]["deletionTimestamp"] == nil {
		t.Errorf("vacuum -json: %d lines, first %v", len(recs), recs[0])
	}

	// Execute.
	buf.Reset()
	if err := cmdVacuum(ctx, &buf, st, vacuumOptions{Execute: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "deleted 32 files (1 orphan, 31 expired tombstones)") {
		t.Errorf("execute output:\n%s", buf.String())
	}
	if _, err := os.Stat(oldOrphan); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the old orphan is still there: %v", err)
	}
	if _, err := os.Stat(newOrphan); err != nil {
		t.Errorf("the recent orphan was deleted: %v", err)
	}
	for p := range before.Files {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p))); err != nil {
			t.Errorf("live file deleted: %v", err)
		}
	}
	if got := logEntries(t, dir); got != logBefore {
		t.Errorf("the log was touched: %s, was %s", got, logBefore)
	}

	// Nothing left to do; the table is intact.
	buf.Reset()
	if err := cmdVacuum(ctx, &buf, st, vacuumOptions{Execute: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "nothing to delete") {
		t.Errorf("second vacuum:\n%s", buf.String())
	}
	after, err := delta.Load(ctx, st)
	if err != nil || len(after.Files) != 5 {
		t.Fatalf("table after vacuum: %v", err)
	}
}

// logEntries names the entries of the table's _delta_log.
func logEntries(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "_delta_log"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return strings.Join(names, ",")
}

func TestVacuumRetention(t *testing.T) {
	dir := copyTable(t, "simple_table")
	orphan := filepath.Join(dir, "part-orphan-2h.parquet")
	if err := os.WriteFile(orphan, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(orphan, old, old); err != nil {
		t.Fatal(err)
	}
	// The default retention (168h) protects it.
	code, out, _ := runCmd(t, nil, "vacuum", dir)
	if code != 0 || strings.Contains(out, "part-orphan-2h") {
		t.Errorf("default retention: code %d\n%s", code, out)
	}
	// A dry run with a shorter retention lists it, with a warning.
	code, out, errOut := runCmd(t, nil, "vacuum", "-retention", "1h", dir)
	if code != 0 || !strings.Contains(out, "part-orphan-2h") || !strings.Contains(errOut, "warning") {
		t.Errorf("dry run -retention 1h: code %d\n%s\n%s", code, out, errOut)
	}
	// Executing it needs -force.
	code, _, errOut = runCmd(t, nil, "vacuum", "-retention", "1h", "-execute", dir)
	if code != 1 || !strings.Contains(errOut, "-force") {
		t.Errorf("-execute without -force: code %d, %s", code, errOut)
	}
	if _, err := os.Stat(orphan); err != nil {
		t.Fatal("deleted without -force")
	}
	code, _, errOut = runCmd(t, nil, "vacuum", "-retention", "1h", "-execute", "-force", dir)
	if code != 0 {
		t.Fatalf("-force: code %d, %s", code, errOut)
	}
	if _, err := os.Stat(orphan); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("not deleted with -force: %v", err)
	}
}

package delta

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseEncodeCommitRoundTrip(t *testing.T) {
	in := `{"commitInfo":{"timestamp":1587968626537,"operation":"DELETE","readVersion":3}}
{"protocol":{"minReaderVersion":1,"minWriterVersion":2}}
{"metaData":{"id":"5fba94ed","format":{"provider":"parquet","options":{}},"schemaString":"{\"type\":\"struct\",\"fields\":[]}","partitionColumns":["p"],"configuration":{"delta.appendOnly":"true"},"createdTime":1587968585495}}
{"txn":{"appId":"kafka-0","version":42,"lastUpdated":1}}
{"remove":{"path":"a.parquet","deletionTimestamp":1587968626536,"dataChange":true}}
{"add":{"path":"p=x/b.parquet","partitionValues":{"p":"x","q":null},"size":262,"modificationTime":1587968626000,"dataChange":true,"stats":"{\"numRecords\":3}","tags":{"k":"v"}}}
{"cdc":{"path":"_change_data/c.parquet","partitionValues":{},"size":1,"dataChange":false}}
{"domainMetadata":{"domain":"x","configuration":"{}","removed":false}}
`
	actions, err := ParseCommit([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(actions) != 8 {
		t.Fatalf("got %d actions, want 8", len(actions))
	}
	if ts := actions[0].CommitInfo["timestamp"]; ts.(json.Number).String() != "1587968626537" {
		t.Errorf("commitInfo timestamp %v", ts)
	}
	add := actions[5].Add
	if add == nil || add.PartitionValues["q"] != nil || *add.PartitionValues["p"] != "x" || add.Stats != `{"numRecords":3}` {
		t.Fatalf("add: %+v", add)
	}
	if _, ok := add.PartitionValues["q"]; !ok {
		t.Error("null partition value lost")
	}
	if actions[6].Other["cdc"] == nil || actions[7].Other["domainMetadata"] == nil {
		t.Errorf("unknown actions dropped: %+v %+v", actions[6], actions[7])
	}
	out, err := EncodeCommit(actions)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseCommit(out)
	if err != nil {
		t.Fatal(err)
	}
	out2, _ := EncodeCommit(again)
	if string(out) != string(out2) {
		t.Errorf("not stable:\n%s\n%s", out, out2)
	}
	// Every line is one JSON object with one key, and null partitions stay null.
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != 8 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(l), &m); err != nil || len(m) != 1 {
			t.Errorf("line %q: %v", l, err)
		}
	}
	if !strings.Contains(lines[5], `"q":null`) {
		t.Errorf("null partition value not written as null: %s", lines[5])
	}
}

func TestEncodeRequiredFields(t *testing.T) {
	out, err := EncodeCommit([]Action{
		{MetaData: &Metadata{ID: "x", SchemaString: "{}"}},
		{Add: &Add{Path: "f", Size: 1}},
		{Remove: &Remove{Path: "g", ExtendedFileMetadata: true}},
		{Txn: &Txn{AppID: "a", Version: 0}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{
		`"format":{"provider":"","options":{}}`, `"partitionColumns":[]`, `"configuration":{}`,
		`"partitionValues":{}`, `{"remove":{"path":"g","dataChange":false,"extendedFileMetadata":true,"partitionValues":{}}}`,
		`{"txn":{"appId":"a","version":0}}`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %s in\n%s", want, s)
		}
	}
	if strings.Contains(s, "createdTime") || strings.Contains(s, `"stats"`) || strings.Contains(s, `"tags"`) {
		t.Errorf("optional fields written empty:\n%s", s)
	}
	if _, err := EncodeCommit([]Action{{}}); err == nil {
		t.Error("empty action encoded")
	}
	if _, err := EncodeCommit([]Action{{Add: &Add{Path: "a"}, Txn: &Txn{AppID: "x"}}}); err == nil {
		t.Error("action with two kinds encoded")
	}
}

func TestParseCommitErrorsNameTheLine(t *testing.T) {
	_, err := ParseCommit([]byte("{\"add\":{\"path\":\"a\",\"partitionValues\":{},\"size\":1,\"modificationTime\":1,\"dataChange\":true}}\n\n{\"add\":{\"path\":\"b\",\"size\":\"x\"}}\n"))
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("error %v, want one naming line 3", err)
	}
	_, err = ParseCommit([]byte("{\"txn\":{\"version\":1}}\n"))
	if err == nil || !strings.Contains(err.Error(), "line 1") || !strings.Contains(err.Error(), "appId") {
		t.Fatalf("error %v", err)
	}
	_, err = ParseCommit([]byte("not json\n"))
	if err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("error %v", err)
	}
}

func TestCommitPath(t *testing.T) {
	if got := CommitPath(12); got != "_delta_log/00000000000000000012.json" {
		t.Error(got)
	}
	if got := CheckpointPath(20); got != "_delta_log/00000000000000000020.checkpoint.parquet" {
		t.Error(got)
	}
}

func TestPathEncoding(t *testing.T) {
	// The golden table data-reader-partition-values: the log holds the URI.
	raw := "as_timestamp=2021-09-08%2011%253A11%253A11/part-00000.c000.snappy.parquet"
	want := "as_timestamp=2021-09-08 11%3A11%3A11/part-00000.c000.snappy.parquet"
	if got := DecodePath(raw); got != want {
		t.Errorf("DecodePath = %q", got)
	}
	if got := EncodePath(want); got != raw {
		t.Errorf("EncodePath = %q", got)
	}
	for _, p := range []string{"part-00000-abc.zstd.parquet", "date=2024-01-01/x.parquet", "a b/ü:%/c", "100%"} {
		if got := DecodePath(EncodePath(p)); got != p {
			t.Errorf("round trip of %q gives %q", p, got)
		}
	}
	if EncodePath("part-1_a.b.parquet") != "part-1_a.b.parquet" {
		t.Error("plain names must not change")
	}
}

package gdelt

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
)

// The partitions Kafka's own client gives these keys: murmur2 values from
// Kafka's UtilsTest.testMurmur2 (the Java reference), sign bit cleared,
// modulo the partition count.
func TestKeyPartitionMatchesKafka(t *testing.T) {
	for _, c := range []struct {
		key  string
		hash int32 // Utils.murmur2 in Kafka's Java client
	}{
		{"21", -973932308},
		{"foobar", -790332482},
		{"a-little-bit-long-string", -985981536},
		{"a-little-bit-longer-string", -1486304829},
		{"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
		{"abc", 479470107},
	} {
		for _, n := range []int32{1, 3, 6, 7, 64} {
			want := int32(int64(uint32(c.hash)&0x7fffffff) % int64(n))
			if got := KeyPartition([]byte(c.key), n); got != want {
				t.Errorf("KeyPartition(%q, %d) = %d, want %d", c.key, n, got, want)
			}
		}
	}
	if KeyPartition(nil, 6) != KeyPartition([]byte{}, 6) {
		t.Error("a nil key and an empty key land apart")
	}
}

func TestRowKey(t *testing.T) {
	mention := "1104567890\t20230702153000\t20230702160000\t1\texample.com\thttps://example.com/a\t3\t-1"
	gkg := "20230702153000-7\t20230702153000\t1\texample.com\thttps://example.com/a\tcounts"
	for _, c := range []struct {
		table int
		line  string
		want  string
	}{
		{0, "881990833\t20181024\t201810", "881990833"},
		{0, "881990833", "881990833"},
		{1, mention, "https://example.com/a"},
		{1, "1104567890\t20230702153000\t20230702160000\t1\texample.com\thttps://example.com/last", "https://example.com/last"},
		{1, "1104567890\t20230702153000", ""}, // too short: the empty key, as the old mapping's .or("")
		{2, gkg, "https://example.com/a"},
		{2, "20230702153000-7\t20230702153000\t1\texample.com\t\tcounts", ""},
	} {
		if got := string(RowKey(c.table, []byte(c.line))); got != c.want {
			t.Errorf("RowKey(%d, %q) = %q, want %q", c.table, c.line, got, c.want)
		}
	}
}

func newRoute(t *testing.T, yaml string) *gdeltKafkaRoute {
	t.Helper()
	pc, err := gdeltKafkaRouteSpec().ParseYAML(yaml, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := newGDELTKafkaRouteFromParsed(pc, service.MockResources())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func meta(m *service.Message, k string) string {
	v, _ := m.MetaGet(k)
	return v
}

func TestKafkaRouteRows(t *testing.T) {
	p := newRoute(t, "partitions: { export: 5, mentions: 6, gkg: 6, dlq: 2 }")
	ctx := context.Background()
	url := "https://example.com/a"
	for _, c := range []struct {
		table, line, topic, key string
		parts                   int32
	}{
		{"export", "881990833\t20181024\t201810", "gdelt.events", "881990833", 5},
		{"mentions", "1104567890\t20230702153000\t20230702160000\t1\texample.com\t" + url + "\t3", "gdelt.mentions", url, 6},
		{"gkg", "20230702153000-7\t20230702153000\t1\texample.com\t" + url + "\tcounts", "gdelt.gkg", url, 6},
	} {
		out, err := p.Process(ctx, newMsg(c.line, "gdelt_table", c.table, "gdelt_window", "20230702153000"))
		if err != nil || len(out) != 1 {
			t.Fatalf("%s: %d messages, %v", c.table, len(out), err)
		}
		m := out[0]
		want := fmt.Sprint(KeyPartition([]byte(c.key), c.parts))
		if meta(m, contract.MetaTopic) != c.topic || meta(m, contract.MetaKey) != c.key || meta(m, contract.MetaPartition) != want {
			t.Errorf("%s row: topic %q key %q partition %q, want %q %q %q", c.table,
				meta(m, contract.MetaTopic), meta(m, contract.MetaKey), meta(m, contract.MetaPartition), c.topic, c.key, want)
		}
		if b, _ := m.AsBytes(); string(b) != c.line || meta(m, "gdelt_window") != "20230702153000" {
			t.Errorf("%s row changed: %q, window %q", c.table, b, meta(m, "gdelt_window"))
		}
	}

	// The row the feed cut for length, and one of no known table: dead letters.
	cut := newMsg("1104567890\t2023\t2023\t1\tx\t"+url, "gdelt_table", "mentions", "gdelt_error_reason", ReasonLineTooLong)
	cut.SetError(errors.New("gdelt_feed: line too long"))
	odd := newMsg("a\tb", "gdelt_table", "gkg2")
	for _, m := range []*service.Message{cut, odd} {
		out, err := p.Process(ctx, m)
		if err != nil || len(out) != 1 {
			t.Fatalf("%d messages, %v", len(out), err)
		}
		if meta(out[0], contract.MetaTopic) != "gdelt.dlq" || meta(out[0], contract.MetaError) == "" {
			t.Errorf("dead letter: topic %q error %q", meta(out[0], contract.MetaTopic), meta(out[0], contract.MetaError))
		}
	}
	if meta(cut, contract.MetaKey) != url || meta(cut, contract.MetaPartition) != fmt.Sprint(KeyPartition([]byte(url), 2)) ||
		meta(cut, "gdelt_error_reason") != ReasonLineTooLong || meta(cut, contract.MetaErrorStage) != contract.StageFeed || !strings.Contains(meta(cut, contract.MetaError), "line too long") {
		t.Errorf("cut row: key %q partition %q reason %q error %q", meta(cut, contract.MetaKey), meta(cut, contract.MetaPartition),
			meta(cut, "gdelt_error_reason"), meta(cut, contract.MetaError))
	}
	if meta(odd, "gdelt_error_reason") != ReasonUnknownTable || !strings.Contains(meta(odd, contract.MetaError), `"gkg2"`) {
		t.Errorf("unknown table: reason %q error %q", meta(odd, "gdelt_error_reason"), meta(odd, contract.MetaError))
	}
}

// A marker becomes one record per partition of each table topic, each with
// the marker's headers and its topic's table; nothing goes to the DLQ.
func TestKafkaRouteMarkers(t *testing.T) {
	p := newRoute(t, "topics: { export: ev }\npartitions: { export: 2, mentions: 3, gkg: 3 }")
	for _, c := range []struct{ kind, window string }{{contract.MarkerWindowEnd, "20230702153000"}, {contract.MarkerEnd, ""}} {
		in := service.NewMessage(nil)
		in.MetaSetMut(contract.MetaMarker, c.kind)
		in.MetaSetMut(contract.MetaStream, "english")
		if c.window != "" {
			in.MetaSetMut(contract.MetaWindow, c.window)
		}
		out, err := p.Process(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range out {
			if b, _ := m.AsBytes(); len(b) != 0 {
				t.Errorf("marker record with content %q", b)
			}
			w, hasW := m.MetaGet(contract.MetaWindow)
			if meta(m, contract.MetaMarker) != c.kind || meta(m, "gdelt_stream") != "english" || w != c.window || hasW != (c.window != "") || meta(m, contract.MetaKey) != "" {
				t.Errorf("%s marker record: marker %q stream %q window %q key %q", c.kind, meta(m, contract.MetaMarker), meta(m, "gdelt_stream"), w, meta(m, contract.MetaKey))
			}
			got = append(got, meta(m, contract.MetaTopic)+"/"+meta(m, contract.MetaPartition)+"/"+meta(m, "gdelt_table"))
		}
		want := "ev/0/export ev/1/export gdelt.mentions/0/mentions gdelt.mentions/1/mentions gdelt.mentions/2/mentions gdelt.gkg/0/gkg gdelt.gkg/1/gkg gdelt.gkg/2/gkg"
		if strings.Join(got, " ") != want {
			t.Errorf("%s marker went to\n%s\nwant\n%s", c.kind, strings.Join(got, " "), want)
		}
	}
}

func TestKafkaRouteConfig(t *testing.T) {
	linter := service.GlobalEnvironment().NewComponentConfigLinter()
	for _, c := range []struct {
		yaml string
		lint string // "" for none
	}{
		{"gdelt_kafka_route: {}", ""},
		{"gdelt_kafka_route: { partitions: { mentions: 12, gkg: 12 } }", ""},
		{"gdelt_kafka_route: { partitions: { mentions: 12 } }", "must be equal"},
		{"gdelt_kafka_route: { partitions: { export: 0 } }", "at least 1"},
	} {
		lints, err := linter.LintProcessorYAML([]byte(c.yaml))
		if err != nil {
			t.Fatal(err)
		}
		var msgs []string
		for _, l := range lints {
			msgs = append(msgs, l.What)
		}
		got := strings.Join(msgs, "; ")
		if (c.lint == "") != (got == "") || !strings.Contains(got, c.lint) {
			t.Errorf("lint %s: %q, want %q", c.yaml, got, c.lint)
		}
	}
	// The constructor refuses what lint flags, for configs that skip lint.
	pc, err := gdeltKafkaRouteSpec().ParseYAML("partitions: { gkg: 3 }", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newGDELTKafkaRouteFromParsed(pc, service.MockResources()); err == nil || !strings.Contains(err.Error(), "must be equal") {
		t.Errorf("mentions 6, gkg 3: %v, want a refusal", err)
	}
}

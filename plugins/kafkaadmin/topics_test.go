package kafkaadmin

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

const defaultSpecPath = "../../resources/topics.yaml"

// newCluster starts an in-process 3-broker kfake cluster on 127.0.0.1 and
// returns an admin client for it; both are closed when the test ends.
func newCluster(t *testing.T) *kadm.Client {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(3))
	if err != nil {
		t.Fatalf("starting kfake: %v", err)
	}
	t.Cleanup(c.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatalf("kgo client: %v", err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func loadDefaultSpec(t *testing.T) Spec {
	t.Helper()
	spec, err := LoadSpec(defaultSpecPath)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func mustApply(t *testing.T, ctx context.Context, adm *kadm.Client, spec Spec) Report {
	t.Helper()
	r, err := Apply(ctx, adm, spec)
	if err != nil {
		t.Fatalf("Apply: %v\n%s", err, r)
	}
	return r
}

func describeOne(t *testing.T, ctx context.Context, adm *kadm.Client, name string) TopicState {
	t.Helper()
	sts, err := Describe(ctx, adm, name)
	if err != nil {
		t.Fatalf("Describe %s: %v", name, err)
	}
	if len(sts) != 1 || sts[0].Name != name {
		t.Fatalf("Describe %s: got %+v", name, sts)
	}
	return sts[0]
}

// setTopic returns a copy of spec with the named topic changed by fn.
func setTopic(t *testing.T, spec Spec, name string, fn func(*TopicSpec)) Spec {
	t.Helper()
	out := spec
	out.Topics = make([]TopicSpec, len(spec.Topics))
	found := false
	for i, ts := range spec.Topics {
		ts.Config = maps.Clone(ts.Config)
		if ts.Name == name {
			fn(&ts)
			found = true
		}
		out.Topics[i] = ts
	}
	if !found {
		t.Fatalf("no topic %s in spec", name)
	}
	return out
}

func TestLoadSpecDefault(t *testing.T) {
	spec := loadDefaultSpec(t)
	topics, err := spec.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Topic{
		"gdelt.events":   {Partitions: 6, ReplicationFactor: 3, Config: map[string]string{"retention.ms": "604800000", "min.insync.replicas": "2", "compression.type": "zstd", "max.message.bytes": "2097152"}},
		"gdelt.mentions": {Partitions: 6, ReplicationFactor: 3, Config: map[string]string{"retention.ms": "604800000", "min.insync.replicas": "2", "compression.type": "zstd", "max.message.bytes": "2097152"}},
		"gdelt.gkg":      {Partitions: 6, ReplicationFactor: 3, Config: map[string]string{"retention.ms": "604800000", "min.insync.replicas": "2", "compression.type": "zstd", "max.message.bytes": "2097152"}},
		"gdelt.dlq":      {Partitions: 3, ReplicationFactor: 3, Config: map[string]string{"retention.ms": "2592000000", "min.insync.replicas": "2", "compression.type": "zstd", "max.message.bytes": "2097152"}},
	}
	if len(topics) != len(want) {
		t.Fatalf("got %d topics, want %d: %+v", len(topics), len(want), topics)
	}
	for _, got := range topics {
		w, ok := want[got.Name]
		if !ok {
			t.Errorf("unexpected topic %s", got.Name)
			continue
		}
		if got.Partitions != w.Partitions || got.ReplicationFactor != w.ReplicationFactor || !maps.Equal(got.Config, w.Config) {
			t.Errorf("%s: got %+v, want %+v", got.Name, got, w)
		}
	}
	// mentions and gkg are joined on the document URL: co-partitioned.
	if topics[1].Partitions != topics[2].Partitions {
		t.Errorf("gdelt.mentions and gdelt.gkg must have the same partition count")
	}
}

func TestParseSpecErrors(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"empty":             {"", "empty spec"},
		"no topics":         {"defaults: {partitions: 1}\n", "no topics"},
		"unknown field":     {"defaults: {partitions: 1, replication: 3}\ntopics: [{name: a}]\n", "replication not found"},
		"duplicate":         {"defaults: {partitions: 1, replication_factor: 1}\ntopics: [{name: a}, {name: a}]\n", "topic a: listed twice"},
		"no name":           {"defaults: {partitions: 1, replication_factor: 1}\ntopics: [{partitions: 2}]\n", "topic #1: no name"},
		"no partitions":     {"defaults: {replication_factor: 1}\ntopics: [{name: a}]\n", "topic a: partitions must be at least 1"},
		"no replication":    {"defaults: {partitions: 1}\ntopics: [{name: a}]\n", "topic a: replication_factor must be at least 1"},
		"negative override": {"defaults: {partitions: 1, replication_factor: 1}\ntopics: [{name: a, partitions: -2}]\n", "topic a: partitions must be at least 1"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseSpec([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestParseSpecUnquotedNumbers(t *testing.T) {
	// YAML numbers in config are read as their text, so quoting is optional.
	spec, err := ParseSpec([]byte("defaults: {partitions: 2, replication_factor: 1, config: {retention.ms: 604800000}}\ntopics: [{name: a}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := spec.Defaults.Config["retention.ms"]; got != "604800000" {
		t.Fatalf("retention.ms = %q", got)
	}
}

func TestApplyCreatesFromNothing(t *testing.T) {
	ctx, adm := testContext(t), newCluster(t)
	spec := loadDefaultSpec(t)

	r := mustApply(t, ctx, adm, spec)
	if !r.Changed() {
		t.Fatalf("first apply changed nothing:\n%s", r)
	}
	topics, _ := spec.Resolve()
	for _, want := range topics {
		tr, ok := r.Topic(want.Name)
		if !ok || tr.Action != Created || len(tr.Warnings) > 0 {
			t.Errorf("%s: report %+v, want created without warnings", want.Name, tr)
		}
		st := describeOne(t, ctx, adm, want.Name)
		if st.Partitions != want.Partitions || st.ReplicationFactor != want.ReplicationFactor {
			t.Errorf("%s: %d partitions, replication factor %d; want %d, %d",
				want.Name, st.Partitions, st.ReplicationFactor, want.Partitions, want.ReplicationFactor)
		}
		if !maps.Equal(st.Overrides, want.Config) {
			t.Errorf("%s: overrides %v, want %v", want.Name, st.Overrides, want.Config)
		}
	}
	if !strings.Contains(r.String(), "gdelt.dlq: created") {
		t.Errorf("report text:\n%s", r)
	}
}

func TestApplyTwiceIsNoop(t *testing.T) {
	ctx, adm := testContext(t), newCluster(t)
	spec := loadDefaultSpec(t)
	mustApply(t, ctx, adm, spec)

	r := mustApply(t, ctx, adm, spec)
	if r.Changed() || len(r.Warnings()) > 0 {
		t.Fatalf("second apply is not a no-op:\n%s", r)
	}
	for _, tr := range r.Topics {
		if tr.Action != Unchanged || len(tr.Changes) > 0 {
			t.Errorf("%s: %+v", tr.Topic, tr)
		}
	}
	want := "gdelt.events: unchanged\ngdelt.mentions: unchanged\ngdelt.gkg: unchanged\ngdelt.dlq: unchanged\n"
	if r.String() != want {
		t.Errorf("report text:\n%s\nwant:\n%s", r, want)
	}
}

func TestApplyIncreasesPartitions(t *testing.T) {
	ctx, adm := testContext(t), newCluster(t)
	spec := loadDefaultSpec(t)
	mustApply(t, ctx, adm, spec)

	more := setTopic(t, spec, "gdelt.events", func(ts *TopicSpec) { ts.Partitions = 12 })
	r := mustApply(t, ctx, adm, more)
	tr, _ := r.Topic("gdelt.events")
	if tr.Action != Altered || len(tr.Changes) != 1 || tr.Changes[0] != "partitions: 6 -> 12" {
		t.Fatalf("report:\n%s", r)
	}
	for _, other := range []string{"gdelt.mentions", "gdelt.gkg", "gdelt.dlq"} {
		if tr, _ := r.Topic(other); tr.Action != Unchanged {
			t.Errorf("%s: %s", other, tr.Action)
		}
	}
	if st := describeOne(t, ctx, adm, "gdelt.events"); st.Partitions != 12 {
		t.Fatalf("gdelt.events has %d partitions, want 12", st.Partitions)
	}
	if r := mustApply(t, ctx, adm, more); r.Changed() {
		t.Fatalf("apply after growing is not a no-op:\n%s", r)
	}
}

func TestApplyAltersChangedRetention(t *testing.T) {
	ctx, adm := testContext(t), newCluster(t)
	spec := loadDefaultSpec(t)
	mustApply(t, ctx, adm, spec)

	longer := setTopic(t, spec, "gdelt.mentions", func(ts *TopicSpec) {
		ts.Config = map[string]string{"retention.ms": "1209600000"}
	})
	r := mustApply(t, ctx, adm, longer)
	tr, _ := r.Topic("gdelt.mentions")
	if tr.Action != Altered || len(tr.Changes) != 1 || tr.Changes[0] != "retention.ms: 604800000 -> 1209600000" {
		t.Fatalf("report:\n%s", r)
	}
	st := describeOne(t, ctx, adm, "gdelt.mentions")
	if st.Overrides["retention.ms"] != "1209600000" {
		t.Fatalf("retention.ms = %q", st.Overrides["retention.ms"])
	}
	// The other overrides were left as they were: the alter is incremental.
	if st.Overrides["compression.type"] != "zstd" || st.Overrides["min.insync.replicas"] != "2" {
		t.Fatalf("incremental alter lost other overrides: %v", st.Overrides)
	}
	if r := mustApply(t, ctx, adm, longer); r.Changed() {
		t.Fatalf("apply after altering is not a no-op:\n%s", r)
	}
}

func TestApplyFewerPartitionsWarns(t *testing.T) {
	ctx, adm := testContext(t), newCluster(t)
	spec := loadDefaultSpec(t)
	mustApply(t, ctx, adm, spec)

	fewer := setTopic(t, spec, "gdelt.gkg", func(ts *TopicSpec) { ts.Partitions = 3 })
	r := mustApply(t, ctx, adm, fewer)
	tr, _ := r.Topic("gdelt.gkg")
	if tr.Action != Unchanged || len(tr.Warnings) != 1 || !strings.Contains(tr.Warnings[0], "never decreased") {
		t.Fatalf("report:\n%s", r)
	}
	if r.Changed() {
		t.Fatalf("apply with fewer partitions changed something:\n%s", r)
	}
	if st := describeOne(t, ctx, adm, "gdelt.gkg"); st.Partitions != 6 {
		t.Fatalf("gdelt.gkg has %d partitions, want 6", st.Partitions)
	}
}

func TestApplyReplicationFactorDifferenceWarns(t *testing.T) {
	ctx, adm := testContext(t), newCluster(t)
	spec := loadDefaultSpec(t)
	mustApply(t, ctx, adm, spec)

	one := setTopic(t, spec, "gdelt.dlq", func(ts *TopicSpec) { ts.ReplicationFactor = 1 })
	r := mustApply(t, ctx, adm, one)
	tr, _ := r.Topic("gdelt.dlq")
	if tr.Action != Unchanged || len(tr.Warnings) != 1 || !strings.Contains(tr.Warnings[0], "replication factor 1, topic has 3") {
		t.Fatalf("report:\n%s", r)
	}
}

func TestApplyPinsInheritedConfigAndWarnsOnExtraOverride(t *testing.T) {
	ctx, adm := testContext(t), newCluster(t)
	// Made by hand: no compression or retention overrides, but one the spec
	// does not know.
	if _, err := adm.CreateTopic(ctx, 6, 3, map[string]*string{"segment.ms": kadm.StringPtr("3600000")}, "gdelt.events"); err != nil {
		t.Fatal(err)
	}
	spec := Spec{
		Defaults: TopicDefaults{Partitions: 6, ReplicationFactor: 3},
		Topics:   []TopicSpec{{Name: "gdelt.events", Config: map[string]string{"compression.type": "zstd", "retention.ms": "604800000"}}},
	}
	r := mustApply(t, ctx, adm, spec)
	tr, _ := r.Topic("gdelt.events")
	wantChanges := []string{"compression.type: inherited producer -> zstd", "retention.ms: inherited 604800000 -> 604800000"}
	if tr.Action != Altered || strings.Join(tr.Changes, "|") != strings.Join(wantChanges, "|") {
		t.Fatalf("report:\n%s", r)
	}
	if len(tr.Warnings) != 1 || !strings.Contains(tr.Warnings[0], "segment.ms=3600000 is set on the topic but not in the spec") {
		t.Fatalf("warnings: %q", tr.Warnings)
	}
	st := describeOne(t, ctx, adm, "gdelt.events")
	if st.Overrides["segment.ms"] != "3600000" || st.Overrides["compression.type"] != "zstd" {
		t.Fatalf("overrides: %v", st.Overrides)
	}
	r = mustApply(t, ctx, adm, spec)
	if r.Changed() {
		t.Fatalf("second apply changed something:\n%s", r)
	}
}

func TestApplyErrorNamesTopicAndGoesOn(t *testing.T) {
	ctx, adm := testContext(t), newCluster(t)
	spec := Spec{
		Defaults: TopicDefaults{Partitions: 2, ReplicationFactor: 3},
		Topics:   []TopicSpec{{Name: "too.replicated", ReplicationFactor: 5}, {Name: "fine"}},
	}
	r, err := Apply(ctx, adm, spec)
	if err == nil || !strings.Contains(err.Error(), "topic too.replicated: creating (2 partitions, replication factor 5)") {
		t.Fatalf("error %v", err)
	}
	if tr, _ := r.Topic("too.replicated"); tr.Action != Failed {
		t.Errorf("too.replicated: %s", tr.Action)
	}
	if tr, _ := r.Topic("fine"); tr.Action != Created {
		t.Errorf("fine: %s", tr.Action)
	}
	if !strings.Contains(r.String(), "too.replicated: failed: creating") {
		t.Errorf("report text:\n%s", r)
	}
}

func TestDescribeUnknownTopic(t *testing.T) {
	ctx, adm := testContext(t), newCluster(t)
	_, err := Describe(ctx, adm, "nope")
	if err == nil || !strings.Contains(err.Error(), "topic nope") {
		t.Fatalf("error %v", err)
	}
}

func TestDescribeAll(t *testing.T) {
	ctx, adm := testContext(t), newCluster(t)
	mustApply(t, ctx, adm, loadDefaultSpec(t))
	sts, err := Describe(ctx, adm)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, st := range sts {
		names = append(names, st.Name)
	}
	if got := strings.Join(names, ","); got != "gdelt.dlq,gdelt.events,gdelt.gkg,gdelt.mentions" {
		t.Fatalf("topics %s", got)
	}
}

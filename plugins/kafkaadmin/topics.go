// Package kafkaadmin declares gdeltflow's Kafka topics in a YAML spec
// (resources/topics.yaml) and applies it to a cluster idempotently: missing
// topics are created, partition counts grow, topic configs are pinned to the
// spec. It never deletes a topic, never shrinks one, and never touches a
// replication factor (Kafka cannot change either in place): those drifts are
// reported as warnings.
//
// It is plain Go on franz-go's kadm, shared by the kafka-topics command and
// the kafka-dev broker.
//
// Files: topics.go (the spec, the plan and its application).
package kafkaadmin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"gopkg.in/yaml.v3"
)

// Spec is the topic spec file: defaults, then one entry per topic. A topic's
// zero partitions or replication factor take the default; its config is
// merged over the default config key by key.
type Spec struct {
	Defaults TopicDefaults `yaml:"defaults"`
	Topics   []TopicSpec   `yaml:"topics"`
}

// TopicDefaults applies to every topic of a Spec unless the topic says
// otherwise.
type TopicDefaults struct {
	Partitions        int32             `yaml:"partitions"`
	ReplicationFactor int16             `yaml:"replication_factor"`
	Config            map[string]string `yaml:"config"`
}

// TopicSpec is one topic of a Spec.
type TopicSpec struct {
	Name              string            `yaml:"name"`
	Partitions        int32             `yaml:"partitions"`
	ReplicationFactor int16             `yaml:"replication_factor"`
	Config            map[string]string `yaml:"config"`
}

// Topic is a topic of a Spec with the defaults applied: what the cluster
// should have.
type Topic struct {
	Name              string
	Partitions        int32
	ReplicationFactor int16
	Config            map[string]string
}

// LoadSpec reads and validates a topic spec file. Unknown keys are errors so
// that a misspelt setting does not silently fall back to a default.
func LoadSpec(path string) (Spec, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Spec{}, fmt.Errorf("reading topic spec: %w", err)
	}
	spec, err := ParseSpec(raw)
	if err != nil {
		return Spec{}, fmt.Errorf("topic spec %s: %w", path, err)
	}
	return spec, nil
}

// ParseSpec decodes and validates a topic spec from YAML.
func ParseSpec(raw []byte) (Spec, error) {
	var spec Spec
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&spec); err != nil {
		if errors.Is(err, io.EOF) {
			return Spec{}, errors.New("empty spec")
		}
		return Spec{}, err
	}
	if _, err := spec.Resolve(); err != nil {
		return Spec{}, err
	}
	return spec, nil
}

// Resolve applies the defaults to every topic and validates the result:
// names present and unique, at least one partition and one replica.
func (s Spec) Resolve() ([]Topic, error) {
	if len(s.Topics) == 0 {
		return nil, errors.New("no topics")
	}
	seen := make(map[string]bool, len(s.Topics))
	out := make([]Topic, 0, len(s.Topics))
	var errs []error
	for i, ts := range s.Topics {
		t := Topic{
			Name:              strings.TrimSpace(ts.Name),
			Partitions:        cmpOr(ts.Partitions, s.Defaults.Partitions),
			ReplicationFactor: cmpOr(ts.ReplicationFactor, s.Defaults.ReplicationFactor),
			Config:            make(map[string]string, len(s.Defaults.Config)+len(ts.Config)),
		}
		maps.Copy(t.Config, s.Defaults.Config)
		maps.Copy(t.Config, ts.Config)
		switch {
		case t.Name == "":
			errs = append(errs, fmt.Errorf("topic #%d: no name", i+1))
			continue
		case seen[t.Name]:
			errs = append(errs, fmt.Errorf("topic %s: listed twice", t.Name))
			continue
		}
		seen[t.Name] = true
		if t.Partitions < 1 {
			errs = append(errs, fmt.Errorf("topic %s: partitions must be at least 1 (set it or defaults.partitions)", t.Name))
		}
		if t.ReplicationFactor < 1 {
			errs = append(errs, fmt.Errorf("topic %s: replication_factor must be at least 1 (set it or defaults.replication_factor)", t.Name))
		}
		for k := range t.Config {
			if strings.TrimSpace(k) == "" {
				errs = append(errs, fmt.Errorf("topic %s: empty config name", t.Name))
			}
		}
		out = append(out, t)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// Names returns the topic names of the spec in spec order.
func (s Spec) Names() []string {
	names := make([]string, 0, len(s.Topics))
	for _, t := range s.Topics {
		names = append(names, strings.TrimSpace(t.Name))
	}
	return names
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Action is what Apply did to a topic.
type Action string

// The actions of a TopicReport.
const (
	Created   Action = "created"
	Altered   Action = "altered"
	Unchanged Action = "unchanged"
	Failed    Action = "failed"
)

// TopicReport is what Apply did to one topic, what it changed, and the
// drifts it could not or would not repair.
type TopicReport struct {
	Topic    string
	Action   Action
	Changes  []string
	Warnings []string
	Err      error
}

// Report is the outcome of Apply, one entry per topic of the spec in spec
// order.
type Report struct {
	Topics []TopicReport
}

// Changed reports whether Apply changed anything on the cluster.
func (r Report) Changed() bool {
	for _, t := range r.Topics {
		if t.Action == Created || t.Action == Altered {
			return true
		}
	}
	return false
}

// Warnings returns every warning, each prefixed with its topic.
func (r Report) Warnings() []string {
	var ws []string
	for _, t := range r.Topics {
		for _, w := range t.Warnings {
			ws = append(ws, t.Topic+": "+w)
		}
	}
	return ws
}

// Topic returns the report of the named topic.
func (r Report) Topic(name string) (TopicReport, bool) {
	for _, t := range r.Topics {
		if t.Topic == name {
			return t, true
		}
	}
	return TopicReport{}, false
}

// String renders the report, one line per topic then one per change and
// warning:
//
//	gdelt.events: created (6 partitions, replication factor 3)
//	gdelt.dlq: altered
//	  retention.ms: 604800000 -> 2592000000
//	  warning: spec asks for 2 partitions, topic has 3; partitions are never decreased
func (r Report) String() string {
	var b strings.Builder
	for _, t := range r.Topics {
		fmt.Fprintf(&b, "%s: %s", t.Topic, t.Action)
		if t.Err != nil {
			fmt.Fprintf(&b, ": %v", t.Err)
		}
		b.WriteByte('\n')
		for _, c := range t.Changes {
			fmt.Fprintf(&b, "  %s\n", c)
		}
		for _, w := range t.Warnings {
			fmt.Fprintf(&b, "  warning: %s\n", w)
		}
	}
	return b.String()
}

// TopicState is a topic as the cluster has it.
type TopicState struct {
	Name              string
	Partitions        int32
	ReplicationFactor int16
	// Overrides are the configs set on the topic itself (Kafka's
	// DYNAMIC_TOPIC_CONFIG): what differs from the broker's defaults.
	Overrides map[string]string
	// Configs are all configs the broker reports for the topic, whatever
	// their source.
	Configs map[string]kadm.Config
}

// ErrUnknownTopic is returned by Describe for a named topic that does not
// exist.
var ErrUnknownTopic = kerr.UnknownTopicOrPartition

// Describe returns the state of the named topics, or of every non-internal
// topic when no names are given, sorted by name. A named topic that does not
// exist is an error wrapping ErrUnknownTopic.
func Describe(ctx context.Context, adm *kadm.Client, names ...string) ([]TopicState, error) {
	states, missing, err := describe(ctx, adm, names)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, name := range missing {
		errs = append(errs, fmt.Errorf("topic %s: %w", name, ErrUnknownTopic))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := slices.Collect(maps.Values(states))
	slices.SortFunc(out, func(a, b TopicState) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// describe loads metadata and configs of the named topics (all when none are
// named). Topics that do not exist are returned in missing, sorted.
func describe(ctx context.Context, adm *kadm.Client, names []string) (map[string]TopicState, []string, error) {
	details, err := adm.ListTopics(uncached(ctx), names...)
	if err != nil {
		return nil, nil, fmt.Errorf("listing topics: %w", err)
	}
	states := make(map[string]TopicState, len(details))
	var (
		missing []string
		errs    []error
	)
	for _, name := range details.Names() {
		d := details[name]
		if d.Err != nil {
			if errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
				missing = append(missing, name)
				continue
			}
			errs = append(errs, fmt.Errorf("topic %s: loading metadata: %w", name, d.Err))
			continue
		}
		st := TopicState{Name: name, Partitions: int32(len(d.Partitions))}
		for _, p := range d.Partitions {
			st.ReplicationFactor = max(st.ReplicationFactor, int16(len(p.Replicas)))
		}
		states[name] = st
	}
	// A name the broker left out of its answer entirely is as missing as
	// one it answered UNKNOWN_TOPIC_OR_PARTITION for.
	for _, name := range names {
		if _, ok := details[name]; !ok && !slices.Contains(missing, name) {
			missing = append(missing, name)
		}
	}
	slices.Sort(missing)
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	if len(states) == 0 {
		return states, missing, nil
	}

	present := slices.Sorted(maps.Keys(states))
	rcs, err := adm.DescribeTopicConfigs(ctx, present...)
	if err != nil {
		return nil, nil, fmt.Errorf("describing configs of %s: %w", strings.Join(present, ", "), err)
	}
	answered := make(map[string]bool, len(rcs))
	for _, rc := range rcs {
		st, ok := states[rc.Name]
		if !ok {
			continue
		}
		answered[rc.Name] = true
		if rc.Err != nil {
			errs = append(errs, fmt.Errorf("topic %s: describing configs: %w%s", rc.Name, rc.Err, errMessage(rc.ErrMessage)))
			continue
		}
		st.Configs = make(map[string]kadm.Config, len(rc.Configs))
		st.Overrides = make(map[string]string)
		for _, c := range rc.Configs {
			st.Configs[c.Key] = c
			if c.Source == kmsg.ConfigSourceDynamicTopicConfig {
				st.Overrides[c.Key] = c.MaybeValue()
			}
		}
		states[rc.Name] = st
	}
	for _, name := range present {
		if !answered[name] {
			errs = append(errs, fmt.Errorf("topic %s: no configs in the DescribeConfigs answer", name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	return states, missing, nil
}

// uncached makes kadm's metadata calls ask a broker rather than answer from
// the kgo client's metadata cache, which keeps a topic's partitions (or its
// absence) for MetadataMinAge (5 s by default) and is not refreshed by kadm's
// own CreateTopics or CreatePartitions. Asking for authorized operations is
// kadm's documented way around that cache (Kafka 2.3+ also fills them in; we
// ignore them).
func uncached(ctx context.Context) context.Context { return kadm.WithAuthorizedOps(ctx) }

func errMessage(m string) string {
	if m == "" {
		return ""
	}
	return " (" + m + ")"
}

// readyTimeout bounds the wait for created or grown topics to show leaders
// when the caller's context has no deadline.
const readyTimeout = 30 * time.Second

// Apply makes the cluster's topics match the spec, idempotently:
//
//   - a missing topic is created with the spec's partitions, replication
//     factor and configs;
//   - an existing topic with fewer partitions than the spec gets more; one
//     with more keeps them (a warning: Kafka cannot remove partitions, and
//     adding them moves keys between partitions);
//   - every config of the spec is set on the topic (incremental alter) unless
//     the topic already has that value set on itself; configs set on the topic
//     but absent from the spec are left alone (a warning);
//   - a replication factor that differs is only reported (a warning: changing
//     it needs a partition reassignment).
//
// Apply never deletes a topic. Running it twice changes nothing the second
// time: every topic's report says Unchanged. It returns once the topics it
// created or grew have a leader for every partition in the metadata.
//
// A failure on one topic does not stop the others: the error joins one error
// per failed topic, each naming it, and the report marks those topics Failed.
func Apply(ctx context.Context, adm *kadm.Client, spec Spec) (Report, error) {
	topics, err := spec.Resolve()
	if err != nil {
		return Report{}, fmt.Errorf("topic spec: %w", err)
	}
	names := make([]string, len(topics))
	reports := make(map[string]*TopicReport, len(topics))
	for i, t := range topics {
		names[i] = t.Name
		reports[t.Name] = &TopicReport{Topic: t.Name, Action: Unchanged}
	}
	fail := func(name string, err error) {
		r := reports[name]
		r.Action, r.Err = Failed, err
	}

	states, missing, err := describe(ctx, adm, names)
	if err != nil {
		return Report{}, err
	}

	var waitFor []string
	for _, t := range topics {
		if !slices.Contains(missing, t.Name) {
			continue
		}
		created, err := createTopic(ctx, adm, t)
		switch {
		case err != nil:
			fail(t.Name, err)
		case created:
			r := reports[t.Name]
			r.Action = Created
			r.Changes = append(r.Changes, fmt.Sprintf("%d partitions, replication factor %d, config %s",
				t.Partitions, t.ReplicationFactor, formatConfig(t.Config)))
			waitFor = append(waitFor, t.Name)
		default:
			// Someone created it between our listing and our create:
			// reconcile it like any existing topic.
			more, _, err := describe(ctx, adm, []string{t.Name})
			if err != nil {
				fail(t.Name, err)
				continue
			}
			maps.Copy(states, more)
		}
	}

	for _, t := range topics {
		st, ok := states[t.Name]
		if !ok || reports[t.Name].Action == Failed {
			continue
		}
		grown, err := reconcile(ctx, adm, t, st, reports[t.Name])
		if err != nil {
			fail(t.Name, err)
			continue
		}
		if grown {
			waitFor = append(waitFor, t.Name)
		}
	}

	if len(waitFor) > 0 {
		if err := waitReady(ctx, adm, topicsByName(topics, waitFor)); err != nil {
			for _, name := range waitFor {
				if r := reports[name]; r.Err == nil {
					r.Err = err
				}
			}
		}
	}

	var (
		report Report
		errs   []error
	)
	for _, t := range topics {
		r := reports[t.Name]
		report.Topics = append(report.Topics, *r)
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("topic %s: %w", t.Name, r.Err))
		}
	}
	return report, errors.Join(errs...)
}

// createTopic creates t; created is false (and err nil) when the topic
// already exists.
func createTopic(ctx context.Context, adm *kadm.Client, t Topic) (created bool, err error) {
	configs := make(map[string]*string, len(t.Config))
	for k, v := range t.Config {
		configs[k] = kadm.StringPtr(v)
	}
	resps, err := adm.CreateTopics(ctx, t.Partitions, t.ReplicationFactor, configs, t.Name)
	if err != nil {
		return false, fmt.Errorf("creating: %w", err)
	}
	resp, ok := resps[t.Name]
	if !ok {
		return false, errors.New("creating: the broker did not answer for the topic")
	}
	if errors.Is(resp.Err, kerr.TopicAlreadyExists) {
		return false, nil
	}
	if resp.Err != nil {
		return false, fmt.Errorf("creating (%d partitions, replication factor %d): %w%s",
			t.Partitions, t.ReplicationFactor, resp.Err, errMessage(resp.ErrMessage))
	}
	return true, nil
}

// reconcile brings an existing topic to its spec and records what it did in
// r. grown reports whether partitions were added.
func reconcile(ctx context.Context, adm *kadm.Client, t Topic, st TopicState, r *TopicReport) (grown bool, err error) {
	switch {
	case t.Partitions > st.Partitions:
		resps, err := adm.UpdatePartitions(ctx, int(t.Partitions), t.Name)
		if err != nil {
			return false, fmt.Errorf("increasing partitions %d -> %d: %w", st.Partitions, t.Partitions, err)
		}
		if resp, err := resps.On(t.Name, nil); err != nil {
			return false, fmt.Errorf("increasing partitions %d -> %d: no answer for the topic: %w", st.Partitions, t.Partitions, err)
		} else if resp.Err != nil {
			return false, fmt.Errorf("increasing partitions %d -> %d: %w%s", st.Partitions, t.Partitions, resp.Err, errMessage(resp.ErrMessage))
		}
		r.Action = Altered
		r.Changes = append(r.Changes, fmt.Sprintf("partitions: %d -> %d", st.Partitions, t.Partitions))
		grown = true
	case t.Partitions < st.Partitions:
		r.Warnings = append(r.Warnings, fmt.Sprintf(
			"spec asks for %d partitions, topic has %d; partitions are never decreased (recreate the topic to shrink it)",
			t.Partitions, st.Partitions))
	}

	if t.ReplicationFactor != st.ReplicationFactor {
		r.Warnings = append(r.Warnings, fmt.Sprintf(
			"spec asks for replication factor %d, topic has %d; it cannot be changed in place (reassign partitions)",
			t.ReplicationFactor, st.ReplicationFactor))
	}

	var alters []kadm.AlterConfig
	var changes []string
	for _, k := range slices.Sorted(maps.Keys(t.Config)) {
		want := t.Config[k]
		if have, ok := st.Overrides[k]; ok {
			if have == want {
				continue
			}
			changes = append(changes, fmt.Sprintf("%s: %s -> %s", k, have, want))
		} else {
			from := "unset"
			if c, ok := st.Configs[k]; ok && c.Value != nil {
				from = "inherited " + *c.Value
			}
			changes = append(changes, fmt.Sprintf("%s: %s -> %s", k, from, want))
		}
		alters = append(alters, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: kadm.StringPtr(want)})
	}
	for _, k := range slices.Sorted(maps.Keys(st.Overrides)) {
		if _, ok := t.Config[k]; !ok {
			r.Warnings = append(r.Warnings, fmt.Sprintf("config %s=%s is set on the topic but not in the spec; left as is", k, st.Overrides[k]))
		}
	}
	if len(alters) > 0 {
		resps, err := adm.AlterTopicConfigs(ctx, alters, t.Name)
		if err != nil {
			return grown, fmt.Errorf("altering configs (%s): %w", strings.Join(changes, ", "), err)
		}
		if resp, err := resps.On(t.Name, nil); err != nil {
			return grown, fmt.Errorf("altering configs: no answer for the topic: %w", err)
		} else if resp.Err != nil {
			return grown, fmt.Errorf("altering configs (%s): %w%s", strings.Join(changes, ", "), resp.Err, errMessage(resp.ErrMessage))
		}
		r.Action = Altered
		r.Changes = append(r.Changes, changes...)
	}
	return grown, nil
}

// waitReady polls the metadata until every topic has its spec's partition
// count with a leader for each partition. Brokers propagate metadata after
// they answer CreateTopics / CreatePartitions, so a producer started right
// after Apply could otherwise see the topic missing or short of partitions.
func waitReady(ctx context.Context, adm *kadm.Client, topics []Topic) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, readyTimeout)
		defer cancel()
	}
	names := make([]string, len(topics))
	for i, t := range topics {
		names[i] = t.Name
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var lastWhy string
	for {
		details, err := adm.ListTopics(uncached(ctx), names...)
		if err != nil {
			lastWhy = err.Error()
		} else if lastWhy = notReady(details, topics); lastWhy == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for leaders: %s: %w", lastWhy, ctx.Err())
		case <-tick.C:
		}
	}
}

// notReady says why the metadata does not yet show topics ready, or "".
func notReady(details kadm.TopicDetails, topics []Topic) string {
	for _, t := range topics {
		d, ok := details[t.Name]
		switch {
		case !ok:
			return t.Name + " not in metadata"
		case d.Err != nil:
			return fmt.Sprintf("%s: %v", t.Name, d.Err)
		case int32(len(d.Partitions)) < t.Partitions:
			return fmt.Sprintf("%s has %d of %d partitions", t.Name, len(d.Partitions), t.Partitions)
		}
		for _, p := range d.Partitions {
			if p.Err != nil || p.Leader < 0 {
				return fmt.Sprintf("%s partition %d has no leader", t.Name, p.Partition)
			}
		}
	}
	return ""
}

func topicsByName(topics []Topic, names []string) []Topic {
	var out []Topic
	for _, t := range topics {
		if slices.Contains(names, t.Name) {
			out = append(out, t)
		}
	}
	return out
}

// formatConfig renders a config map as sorted k=v pairs.
func formatConfig(cfg map[string]string) string {
	if len(cfg) == 0 {
		return "(none)"
	}
	parts := make([]string, 0, len(cfg))
	for _, k := range slices.Sorted(maps.Keys(cfg)) {
		parts = append(parts, k+"="+cfg[k])
	}
	return strings.Join(parts, " ")
}

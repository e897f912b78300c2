package gdelt

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
)

const (
	gkrFieldTopics     = "topics"
	gkrFieldPartitions = "partitions"
	gkrFieldDLQ        = "dlq"
)

// Defaults: resources/topics.yaml.
const (
	defaultTablePartitions = 6
	defaultDLQPartitions   = 3
)

func gdeltKafkaRouteSpec() *service.ConfigSpec {
	topic := func(name, def, what string) *service.ConfigField {
		return service.NewStringField(name).Description("The topic of " + what + ".").Default(def)
	}
	parts := func(name string, def int, what string) *service.ConfigField {
		return service.NewIntField(name).
			Description("How many partitions " + what + " has. Must equal the topic's real partition count: the key's partition is computed from it, and a partition beyond it never receives a window marker.").
			Default(def)
	}
	return service.NewConfigSpec().
		Beta().
		Categories("Integration").
		Summary("Routes `gdelt_feed` rows and window markers to the Kafka topics of their tables, with explicit partitions, so that every partition learns when a window is over.").
		Description(`
Sets, for a `+"`redpanda`"+` (or `+"`kafka_franz`"+`) output with `+"`partitioner: manual`"+`, the metadata
`+"`gdelt_topic`"+`, `+"`gdelt_key`"+` and `+"`gdelt_partition`"+`:

- a **row** (metadata `+"`gdelt_table`"+`) goes to its table's topic, keyed by GLOBALEVENTID (export), MentionIdentifier
  (mentions) or DocumentIdentifier (gkg), in the partition Kafka's default partitioner gives that key (murmur2, as the
  Java client and franz-go compute it). Mentions and GKG records of one document so land in the same partition number
  of their topics;
- a **window marker** of `+"`gdelt_feed`"+` (`+"`window_markers: true`"+`: metadata `+"`gdelt_marker`"+` `+"`window_end`"+` or `+"`end`"+`) becomes one
  record with no content in **every partition of every table topic**, with metadata `+"`gdelt_marker`"+`, `+"`gdelt_window`"+`
  (window_end), `+"`gdelt_stream`"+` and `+"`gdelt_table`"+` (the topic's table) and an empty key. A partition that received no row of a
  window (a missing GKG file, a quiet partition, the end of a backfill) still tells `+"`gdelt_join`"+` that the window is
  over; `+"`bronze.yaml`"+` drops markers;
- a message with an error (a row the feed cut for length), or whose `+"`gdelt_table`"+` is none of the three, goes to the
  dead-letter topic, keyed as its table's rows, with the error in `+"`gdelt_error`"+` (and `+"`gdelt_error_stage: feed`"+` for
  the feed's errors).

A marker lands after every row of its window in each partition only if the output keeps order: one pipeline thread,
`+"`max_in_flight: 1`"+`, and an idempotent producer (which retries in order).

### Metrics
`+"`gdelt_kafka_route_markers`"+` (label `+"`marker`"+`): feed markers copied to every partition;
`+"`gdelt_kafka_route_dead_letters`"+` (label `+"`table`"+`): messages sent to the dead-letter topic.`).
		Fields(
			service.NewObjectField(gkrFieldTopics,
				topic(schema.ExportTable, "gdelt.events", "the events (export rows)"),
				topic(schema.MentionsTable, "gdelt.mentions", "the mentions"),
				topic(schema.GKGTable, "gdelt.gkg", "the GKG records"),
				topic(gkrFieldDLQ, "gdelt.dlq", "the dead letters"),
			).Description("The topics, per table, and the dead-letter topic."),
			service.NewObjectField(gkrFieldPartitions,
				parts(schema.ExportTable, defaultTablePartitions, "the events topic"),
				parts(schema.MentionsTable, defaultTablePartitions, "the mentions topic (the same as gkg: they are co-partitioned by document URL)"),
				parts(schema.GKGTable, defaultTablePartitions, "the GKG topic (the same as mentions)"),
				parts(gkrFieldDLQ, defaultDLQPartitions, "the dead-letter topic"),
			).Description("The partition counts of the topics, as `resources/topics.yaml` declares them (`kafka-topics apply` creates them so). They must equal the topics' real counts."),
		).
		LintRule(`root = match {
  this.partitions.mentions.or(6) != this.partitions.gkg.or(6) => "partitions.mentions and partitions.gkg must be equal: the mentions and the GKG record of one document must share a partition number"
  [this.partitions.export.or(6), this.partitions.mentions.or(6), this.partitions.gkg.or(6), this.partitions.dlq.or(3)].any(n -> n < 1) => "every partition count must be at least 1"
}`).
		Example("Ingest: the feed to the topics", "", `
input:
  gdelt_feed:
    window_markers: true
pipeline:
  threads: 1
  processors:
    - gdelt_kafka_route: {}
output:
  redpanda:
    seed_brokers: [ 127.0.0.1:9092 ]
    topic: ${! @gdelt_topic }
    key: ${! @gdelt_key }
    partitioner: manual
    partition: ${! @gdelt_partition }
    metadata:
      include_patterns: [ '^gdelt_(table|window|file|line|stream|marker|error|error_reason|error_stage)$' ]
    idempotent_write: true
    max_in_flight: 1
`)
}

func init() {
	err := service.RegisterProcessor("gdelt_kafka_route", gdeltKafkaRouteSpec(),
		func(pc *service.ParsedConfig, mgr *service.Resources) (service.Processor, error) {
			return newGDELTKafkaRouteFromParsed(pc, mgr)
		})
	if err != nil {
		panic(err)
	}
}

type gdeltKafkaRoute struct {
	route           KafkaRoute
	placements      []Placement // of a marker
	mMarkers, mDead *service.MetricCounter
}

func newGDELTKafkaRouteFromParsed(pc *service.ParsedConfig, mgr *service.Resources) (*gdeltKafkaRoute, error) {
	var r KafkaRoute
	tn, pn := pc.Namespace(gkrFieldTopics), pc.Namespace(gkrFieldPartitions)
	for t, tab := range schema.Tables() {
		var err error
		if r.Topics[t], err = tn.FieldString(tab.Name); err != nil {
			return nil, err
		}
		n, err := pn.FieldInt(tab.Name)
		if err != nil {
			return nil, err
		}
		r.Partitions[t] = int32(n)
	}
	var err error
	if r.DLQ, err = tn.FieldString(gkrFieldDLQ); err != nil {
		return nil, err
	}
	n, err := pn.FieldInt(gkrFieldDLQ)
	if err != nil {
		return nil, err
	}
	r.DLQPartitions = int32(n)
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("gdelt_kafka_route: %w", err)
	}
	m := mgr.Metrics()
	return &gdeltKafkaRoute{
		route:      r,
		placements: r.Marker(),
		mMarkers:   m.NewCounter("gdelt_kafka_route_markers", "marker"),
		mDead:      m.NewCounter("gdelt_kafka_route_dead_letters", "table"),
	}, nil
}

func (p *gdeltKafkaRoute) Process(_ context.Context, m *service.Message) (service.MessageBatch, error) {
	table, _ := m.MetaGet(contract.MetaTable)
	t := -1
	if tab, err := schema.ByName(table); err == nil {
		t = slices.Index(schema.Tables(), tab)
	}
	kind, isMarker := m.MetaGet(contract.MetaMarker)
	switch {
	case m.GetError() != nil:
		// Ingest decodes nothing: an error here is the feed's.
		if _, ok := m.MetaGet(contract.MetaErrorStage); !ok {
			m.MetaSetMut(contract.MetaErrorStage, contract.StageFeed)
		}
		p.deadLetter(m, t, m.GetError().Error())
	case isMarker:
		return p.marker(m, kind), nil
	case t < 0:
		m.MetaSetMut(contract.MetaErrorReason, ReasonUnknownTable)
		p.deadLetter(m, t, fmt.Sprintf("gdelt_kafka_route: gdelt_table %q is not export, mentions or gkg: no topic for this row", table))
	default:
		raw, err := m.AsBytes()
		if err != nil {
			return nil, fmt.Errorf("gdelt_kafka_route: reading a %s row: %w", table, err)
		}
		key := RowKey(t, raw)
		p.set(m, p.route.Row(t, key), string(key))
	}
	return service.MessageBatch{m}, nil
}

// marker copies a feed marker into every partition of every table topic.
func (p *gdeltKafkaRoute) marker(m *service.Message, kind string) service.MessageBatch {
	window, hasWindow := m.MetaGet(contract.MetaWindow)
	stream, hasStream := m.MetaGet(contract.MetaStream)
	out := make(service.MessageBatch, len(p.placements))
	for i, pl := range p.placements {
		c := service.NewMessage(nil)
		c.MetaSetMut(contract.MetaMarker, kind)
		if hasWindow {
			c.MetaSetMut(contract.MetaWindow, window)
		}
		if hasStream {
			c.MetaSetMut(contract.MetaStream, stream)
		}
		c.MetaSetMut(contract.MetaTable, pl.Table)
		p.set(c, pl, "")
		out[i] = c
	}
	p.mMarkers.Incr(1, kind)
	return out
}

func (p *gdeltKafkaRoute) deadLetter(m *service.Message, t int, reason string) {
	var key []byte
	label := "unknown"
	if t >= 0 {
		label = schema.Tables()[t].Name
		if raw, err := m.AsBytes(); err == nil {
			key = RowKey(t, raw)
		}
	}
	m.MetaSetMut(contract.MetaError, reason)
	p.set(m, p.route.DeadLetter(key), string(key))
	p.mDead.Incr(1, label)
}

func (p *gdeltKafkaRoute) set(m *service.Message, pl Placement, key string) {
	m.MetaSetMut(contract.MetaTopic, pl.Topic)
	m.MetaSetMut(contract.MetaKey, key)
	m.MetaSetMut(contract.MetaPartition, strconv.Itoa(int(pl.Partition)))
}

func (p *gdeltKafkaRoute) Close(context.Context) error { return nil }

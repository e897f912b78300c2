package gdelt

import (
	"bytes"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
)

// KafkaRoute places the feed's rows and window markers on the Kafka topics
// of the three tables, with explicit partitions, so that one producer can
// put a window's marker in every partition after the window's rows:
//
//   - a row goes to its table's topic, keyed as the README says (events by
//     GLOBALEVENTID, mentions and GKG by the document URL), in the partition
//     Kafka's default partitioner would choose for that key (murmur2), so
//     that mentions and GKG records of one document stay in the same
//     partition number of their topics;
//   - a marker goes to every partition of every table topic: a partition
//     that gets no row of a window (a GKG file missing, a quiet partition)
//     still tells its readers that the window is over.
//
// Partition counts must be the topics' real counts: the hash depends on
// them, and a partition left out never receives a marker.
type KafkaRoute struct {
	Topics        [3]string // per table, in feed order: export, mentions, gkg
	Partitions    [3]int32
	DLQ           string
	DLQPartitions int32
}

// Placement is where one record goes.
type Placement struct {
	Topic     string
	Table     string // the table's name (export, mentions, gkg); empty for the dead letters
	Partition int32
}

// keyColumns are the TSV fields the topics are keyed by, per table.
var keyColumns = [3]int{
	schema.Events.Index("global_event_id"),
	schema.Mentions.Index("mention_identifier"),
	schema.GKG.Index("document_identifier"),
}

// murmur2 is franz-go's Kafka-compatible key partitioner (the Java client's
// default for keyed records); its topic state only serves records without a
// key, which never reach it here.
var murmur2 = kgo.StickyKeyPartitioner(nil).ForTopic("")

// Validate checks the topic names and partition counts.
func (r *KafkaRoute) Validate() error {
	for t, tab := range schema.Tables() {
		if r.Topics[t] == "" {
			return fmt.Errorf("no topic for table %s", tab.Name)
		}
		if r.Partitions[t] < 1 {
			return fmt.Errorf("partitions of table %s: %d, want at least 1", tab.Name, r.Partitions[t])
		}
	}
	if r.DLQ == "" {
		return fmt.Errorf("no dead-letter topic")
	}
	if r.DLQPartitions < 1 {
		return fmt.Errorf("partitions of the dead-letter topic: %d, want at least 1", r.DLQPartitions)
	}
	if r.Partitions[1] != r.Partitions[2] {
		return fmt.Errorf("mentions has %d partitions and gkg %d: they must be equal, so that the mentions and the GKG record of one document share a partition number", r.Partitions[1], r.Partitions[2])
	}
	return nil
}

// RowKey returns the key of a raw row of table t (0 export, 1 mentions,
// 2 gkg): its key field, or empty when the row is too short to have one.
func RowKey(t int, line []byte) []byte {
	for i := 0; i < keyColumns[t]; i++ {
		tab := bytes.IndexByte(line, '\t')
		if tab < 0 {
			return line[:0]
		}
		line = line[tab+1:]
	}
	if tab := bytes.IndexByte(line, '\t'); tab >= 0 {
		line = line[:tab]
	}
	return line
}

// KeyPartition is the partition of n that Kafka's default partitioner gives
// key: murmur2(key) with the sign bit cleared, modulo n. An empty key is
// hashed like any other (it is a key, not a missing one).
func KeyPartition(key []byte, n int32) int32 {
	if key == nil {
		key = []byte{}
	}
	return int32(murmur2.Partition(&kgo.Record{Key: key}, int(n)))
}

// Row places a row of table t with key.
func (r *KafkaRoute) Row(t int, key []byte) Placement {
	return Placement{Topic: r.Topics[t], Table: schema.Tables()[t].Name, Partition: KeyPartition(key, r.Partitions[t])}
}

// DeadLetter places a row that failed upstream.
func (r *KafkaRoute) DeadLetter(key []byte) Placement {
	return Placement{Topic: r.DLQ, Partition: KeyPartition(key, r.DLQPartitions)}
}

// Marker returns every partition of every table topic, in table then
// partition order: where a window marker is copied.
func (r *KafkaRoute) Marker() []Placement {
	var out []Placement
	for t, tab := range schema.Tables() {
		for p := int32(0); p < r.Partitions[t]; p++ {
			out = append(out, Placement{Topic: r.Topics[t], Table: tab.Name, Partition: p})
		}
	}
	return out
}

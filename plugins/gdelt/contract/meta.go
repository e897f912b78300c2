package contract

// Metadata of a row, as the feed emits it and ingest carries it into Kafka
// headers.
const (
	MetaTable  = "gdelt_table"  // export, mentions or gkg (the schema package's table names)
	MetaWindow = "gdelt_window" // the window id, YYYYMMDDHHMMSS
	MetaFile   = "gdelt_file"   // the zip's name
	MetaLine   = "gdelt_line"   // the row's 1-based line in its file
	MetaStream = "gdelt_stream" // english or translation
	// MetaRepair marks a row read again by the feed's repair mode from a
	// window the checkpoint passed long ago ("true").
	MetaRepair = "gdelt_repair"
	// MetaReplay marks a row of a window at or before the feed's checkpoint,
	// read again after a restart so a stateful consumer rebuilds its state
	// ("true"): its outputs were committed and its rejects recorded when it
	// was first read.
	MetaReplay = "gdelt_replay"
	// MetaRow holds a decoded row (a *schema.Row: values in column order),
	// set by gdelt_decode with `form: row` and by gdelt_join on what it
	// emits; the Delta writer and the join read it instead of a map.
	MetaRow = "gdelt_row"
)

// Window markers: messages with no row that close a window for a stateful
// consumer (gdelt_join). On the Kafka path ingest copies each into every
// partition of every table topic, with MetaTable set to the topic's table.
const (
	MetaMarker      = "gdelt_marker"
	MarkerWindowEnd = "window_end" // every row of MetaWindow came before it
	MarkerEnd       = "end"        // the data ends: the list has no later window
)

// Metadata of a row that failed, and the stages that fail rows.
const (
	MetaErrorReason = "gdelt_error_reason" // the stage's reason code (field_count, line_too_long, …)
	MetaErrorStage  = "gdelt_error_stage"  // one of the Stage constants
	MetaError       = "gdelt_error"        // the error text, as a Kafka header
)

// Stages that reject rows.
const (
	StageFeed   = "feed"   // the feed: a row over max_line_bytes
	StageDecode = "decode" // gdelt_decode
	StageJoin   = "join"   // gdelt_join could not use the row
	StageTable  = "table"  // a delta_lake table refused it
)

// Metadata set by ingest's routing (gdelt_kafka_route) for its producer.
const (
	MetaTopic     = "gdelt_topic"
	MetaKey       = "gdelt_key"
	MetaPartition = "gdelt_partition"
)

// Metadata the Kafka inputs (Connect's redpanda and kafka) set on a record.
const (
	KafkaTopic     = "kafka_topic"
	KafkaPartition = "kafka_partition"
	KafkaOffset    = "kafka_offset"
)

// Metadata of the silver join's output.
const (
	MetaSilverTable = "silver_table" // events_detailed, events or audit_windows
	// MetaSilverWindow is the window id a row belongs to: its partition and
	// its txn version.
	MetaSilverWindow = "silver_window"
	MetaSilverTxnApp = "silver_txn_app" // the txn appId of the row's table and shard
)

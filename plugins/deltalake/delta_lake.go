package deltalake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/delta"
	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
	gschema "github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
	"github.com/gdeltflow/gdeltflow/plugins/runstate"
)

const (
	dlFieldPath           = "path"
	dlFieldS3             = "s3"
	dlFieldS3Endpoint     = "endpoint"
	dlFieldS3Region       = "region"
	dlFieldS3AccessKey    = "access_key_id"
	dlFieldS3SecretKey    = "secret_access_key"
	dlFieldS3Token        = "session_token"
	dlFieldS3Secure       = "secure"
	dlFieldS3PathStyle    = "path_style"
	dlFieldGDELTTable     = "gdelt_table"
	dlFieldGKGNested      = "gkg_nested"
	dlFieldSchema         = "schema"
	dlFieldPartitionBy    = "partition_by"
	dlFieldPartColumn     = "column"
	dlFieldPartType       = "type"
	dlFieldPartValue      = "value"
	dlFieldProgress       = "progress"
	dlFieldAppID          = "app_id"
	dlFieldVersion        = "version"
	dlFieldAppIDPrefix    = "app_id_prefix"
	dlFieldTargetFileSize = "target_file_size"
	dlFieldRowGroupBytes  = "row_group_bytes"
	dlFieldCompression    = "compression"
	dlFieldCheckpoint     = "checkpoint_interval"
	dlFieldCommitAttempts = "commit_attempts"
	dlFieldBackOff        = "backoff"
	dlFieldTableName      = "table_name"
	dlFieldAddColumns     = "add_columns"
	dlFieldBatching       = "batching"
	dlFieldMaxInFlight    = "max_in_flight"
)

// gdeltLinesPerWindow spaces the txn versions of progress gdelt_feed: the
// window's index (15-minute windows since 1970) × 10⁹ + the line number, so
// a file may have up to a billion rows (a window index × 10⁹ is about 2×10¹⁵,
// above every version of the former scheme, unix seconds × 10⁶).
const gdeltLinesPerWindow = 1_000_000_000

// Progress key modes.
const (
	progressKafka      = "kafka"
	progressGDELTFeed  = "gdelt_feed"
	progressGDELTKafka = "gdelt_kafka"
	progressCustom     = "custom"
	progressNone       = "none"
)

// RejectedPrefix starts the error of a message that can never be written
// (it does not fit the schema, or lacks its progress key), as opposed to a
// batch that failed for a storage error and must be retried.
const RejectedPrefix = "delta_lake: rejected: "

// testCommitDelayEnv makes every commit wait after its data files are
// written: the crash tests use it to kill writers between upload and commit.
const testCommitDelayEnv = "GDELTFLOW_TEST_DELTA_COMMIT_DELAY"

func deltaLakeSpec() *service.ConfigSpec {
	return service.NewConfigSpec().
		Categories("Services").
		Summary("Appends messages to a Delta Lake table on S3/MinIO or local disk: Parquet data files and atomic commits, exactly-once through txn progress.").
		Description(`
Each batch (see `+"`batching`"+`) becomes one Delta commit: its rows are written as zstd Parquet files (data pages V1,
per-file statistics from the footer) under the table, then a commit adding them is put with put-if-absent
(S3 `+"`If-None-Match: *`"+`, local: a hard link), retried one version up when another writer won the race. The table is
created on first write (protocol 1/2, the schema, the partition columns, `+"`delta.parquet.compression.codec`"+`). A V1
checkpoint is written every `+"`checkpoint_interval`"+` commits. Any engine that reads Delta (Spark, delta-rs, Trino, DuckDB)
reads the table.

### Rows in column order
A message that carries a decoded row in the `+"`gdelt_row`"+` metadata (`+"`gdelt_decode`"+` with `+"`form: row`"+`) is written
from that row, not from its content, with no map built: each column's value is taken by position, the positions worked
out once per kind of row (for the GDELT tables of `+"`gdelt_table`"+` they are the row's own order). As with an object, a
column the row lacks is null (a non-nullable one rejects the row), a column the table lacks is ignored, and a partition
column without a `+"`value`"+` takes the row's value of that name. Messages without it are read as objects.

### Exactly-once
Every message has a progress key: a source partition (the txn `+"`appId`"+`) and a position in it (the txn `+"`version`"+`).
Each commit carries one `+"`txn`"+` per source partition with the highest version it holds, atomically with the files.
A message at or below the committed version of its partition is already in the table and is skipped (acknowledged,
counted in `+"`delta_lake_rows_duplicate`"+`): replays after a crash add nothing twice (the kafka-delta-ingest approach).
Commits of one source partition are made in version order even with `+"`max_in_flight`"+` > 1: a batch waits for the
earlier ones, and fails (to be retried) when an earlier one failed. Messages of one partition must reach the output in
order (the `+"`redpanda`"+` and `+"`gdelt_feed`"+` inputs deliver them so; keep `+"`pipeline.threads`"+` at 1 or order-preserving).

`+"`progress`"+` chooses the key: `+"`kafka`"+` (appId `+"`<topic>-<partition>`"+`, version the offset, from the `+"`kafka_topic`"+`,
`+"`kafka_partition`"+`, `+"`kafka_offset`"+` metadata of the `+"`redpanda`"+`/`+"`kafka`"+` inputs), `+"`gdelt_feed`"+` (appId
`+"`gdelt-<stream>-<table>`"+`, version the window's index (15-minute windows since 1970) × 10⁹ + the line number, from the `+"`gdelt_feed`"+` metadata;
a row with metadata `+"`gdelt_repair: \"true\"`"+`, read again by the feed's repair mode from a window the main appId has
passed, uses appId `+"`gdelt-<stream>-<table>-repair-<window>`"+` with the line number as version),
`+"`gdelt_kafka`"+` (rows that ingest put into Kafka: appId `+"`<topic>-<partition>-lines`"+`, version as `+"`gdelt_feed`"+`'s, from
the `+"`gdelt_window`"+` and `+"`gdelt_line`"+` headers; a window that ingest sent twice, after a crash between Kafka's
acknowledgement and its checkpoint, lands at new offsets with the same lines, and is skipped),
`+"`custom`"+` (`+"`app_id`"+` and `+"`version`"+` interpolations) or `+"`none`"+` (no txn: at-least-once).

### Failures
A message that does not fit the schema, or lacks its progress key, fails alone with an error that starts with
`+"`delta_lake: rejected: `"+` and names the column and the reason; the rest of the batch is committed. Route those to a
dead letter with a `+"`fallback`"+` output whose next step checks `+"`@fallback_error`"+` for that prefix and rejects anything else
(see the examples): a storage failure must be retried, not dead-lettered. Behind a `+"`fallback`"+`, batch with a `+"`broker`"+`
around it (pattern `+"`fan_out_fail_fast`"+`, see the examples), not with this output's `+"`batching`"+`: an output's batcher answers
each input batch it gathered with one error, so every message of an input batch that held a rejected one would reach
the dead letter, committed or not. A rejected message retried by the same process fails again; it is never passed off
as a duplicate. A commit that fails for a storage
error is attempted `+"`commit_attempts`"+` times, with the waits of `+"`backoff`"+` between them (as one logical commit: an attempt that
finds an earlier one landed takes it), then the batch is nacked and the engine retries it. Data files are deleted only when no commit can reference
them; after a storage error during the commit itself (its outcome unknown: it may have landed) they are kept, and if
the commit did not land the table tool's vacuum (`+"`delta-table vacuum`"+`) removes them as orphans.

A failure to open the table or to write a batch is logged at warn when it starts and then once a minute while it lasts,
with how long it has lasted; its end is logged at info. In a finite job (a backfill: the `+"`gdelt_feed`"+` input starts
one) a failure that lasts past the job's give-up time fails the run, and a permanent one fails it at once: a damaged
table (a log that does not parse or has a gap, a protocol or features this writer cannot honour, another schema or
partitioning), or a local path that cannot hold a table (not a directory, no permission, a read-only file system). The
binary then exits 2 with one line naming the table, the cause and the remedy. Outside a job every failure is retried.

### Logs
Each commit is logged at info on one line: the table, the version, rows written (and rows skipped as already
committed), files, bytes and milliseconds, and with `+"`progress: gdelt_feed`"+` the GDELT windows it covers.

### Metrics
`+"`delta_lake_commits`"+`, `+"`delta_lake_commit_errors`"+`, `+"`delta_lake_commit_conflicts`"+`, `+"`delta_lake_rows_written`"+`,
`+"`delta_lake_rows_duplicate`"+`, `+"`delta_lake_rows_rejected`"+`, `+"`delta_lake_files_written`"+`, `+"`delta_lake_bytes_written`"+`,
the gauge `+"`delta_lake_version`"+` and the timer `+"`delta_lake_commit_latency`"+`, all labelled `+"`table`"+` (the table's path).`).
		Fields(
			service.NewStringField(dlFieldPath).
				Description("The table's location: `s3://bucket/prefix/table` (see `s3`) or a local directory. A blank path, one with leading or trailing whitespace, and the filesystem root are refused.").
				Examples("s3://lake/bronze/events", "./out/bronze/events").
				LintRule(`root = if this.trim() == "" { "path is blank: name the table's folder or s3://bucket/prefix" } else if this.trim() != this { "path has leading or trailing whitespace: remove it" } else if ["/", "file:///", "file://"].contains(this) { "path is the filesystem root: name a folder for the table" }`),
			s3Field(),
			service.NewStringField(dlFieldGDELTTable).
				Description("Use the schema of a GDELT table, as `gdelt_decode` emits it: `export` (or `events`), `mentions` or `gkg`; or of what `gdelt_join` emits: `silver` (the joined rows of `silver/events_detailed`) or `audit_windows` (the lifecycle rows of `audit/windows`). Exactly one of `gdelt_table` and `schema` is set.").
				Default("").Examples("export", "gkg").
				LintRule(gdeltTableLintRule()),
			service.NewBoolField(dlFieldGKGNested).
				Description("With `gdelt_table: gkg`: the nested GKG columns as lists and structs (as `gdelt_decode` with `gkg_nested: true` emits them) instead of raw strings.").
				Default(false),
			service.NewAnyListField(dlFieldSchema).
				Description("A declared schema: a list of `{name, type, nullable}` with Delta type names (`string`, `long`, `integer`, `double`, `boolean`, `date`, `timestamp`, ...), or nested `{type: array, element: ...}`, `{type: struct, fields: [...]}`, `{type: map, key: ..., value: ...}`.").
				Optional().
				Example([]any{map[string]any{"name": "id", "type": "long", "nullable": false}, map[string]any{"name": "name", "type": "string"}}),
			service.NewObjectListField(dlFieldPartitionBy,
				service.NewStringField(dlFieldPartColumn).Description("The partition column's name; added to the schema when it is not a column already."),
				service.NewStringEnumField(dlFieldPartType, "string", "date", "long", "integer", "boolean").Description("The Delta type of `value`: a column of the schema with a `value` must have this type. A `date` is `YYYY-MM-DD` or `YYYYMMDD` (e.g. the first 8 digits of a GDELT window: one interpolation per message instead of three); the log holds `YYYY-MM-DD`.").Default("string"),
				service.NewInterpolatedStringField(dlFieldPartValue).Description("Its value for a message. Empty: the message's own field of that name (the column must then be in the schema).").Default(""),
			).Description("Partition columns, e.g. the GDELT window's date. Data files are written under `column=value/` folders and hold the other columns.").
				Default([]any{}).
				Example([]any{map[string]any{"column": "window_date", "type": "date", "value": `${! @gdelt_window.slice(0, 8) }`}}),
			service.NewStringEnumField(dlFieldProgress, progressKafka, progressGDELTKafka, progressGDELTFeed, progressCustom, progressNone).
				Description("Where the exactly-once progress key comes from (see the description).").
				Default(progressKafka),
			service.NewInterpolatedStringField(dlFieldAppID).Description("With `progress: custom`: the source partition of a message.").Default("").Advanced(),
			service.NewInterpolatedStringField(dlFieldVersion).Description("With `progress: custom`: the message's position in its source partition, an integer increasing along the partition.").Default("").Advanced(),
			service.NewStringField(dlFieldAppIDPrefix).
				Description("Prefixed to every appId: give each pipeline that writes one table from the same sources its own prefix.").
				Default("gdeltflow-").Advanced(),
			service.NewIntField(dlFieldTargetFileSize).Description("A data file is closed once it reaches about this many bytes.").Default(128<<20).Advanced(),
			service.NewIntField(dlFieldRowGroupBytes).Description("A Parquet row group is flushed at about this many bytes: the writer's memory per open file is bounded by it, whatever the batch size.").Default(64<<20).Advanced(),
			service.NewStringEnumField(dlFieldCompression, "zstd", "snappy", "gzip", "uncompressed").Description("The Parquet codec, recorded as `delta.parquet.compression.codec`.").Default("zstd").Advanced(),
			service.NewIntField(dlFieldCheckpoint).Description("A checkpoint after every this many commits; 0 or less: none.").Default(10).Advanced(),
			service.NewIntField(dlFieldCommitAttempts).Description("Attempts at a commit that fails for a storage error before the batch is nacked, with the waits of `backoff` between them. 0: the whole write (data files and commit) is retried with `backoff` until it succeeds, so the output never nacks a storage failure and batches land in order; for stateful pipelines (`gdelt_join`) whose input cannot replay a batch. In a job (a backfill) the retries end like any failure: at once for a permanent one, after the job's give-up time otherwise.").Default(3).Advanced(),
			service.NewBackOffField(dlFieldBackOff, true, delta.DefaultBackOff().(*backoff.ExponentialBackOff)).
				Description("The one retry policy of the output: the waits between attempts at opening the table, at a commit (`commit_attempts`), and at a whole write with `commit_attempts: 0`. The wait doubles from `initial_interval` up to `max_interval`. `max_elapsed_time` ends a run of retries: the open error goes to the engine (which retries it), the batch is nacked; 0 (the default) retries until the attempts are spent, the stream stops or a job gives up.").
				Advanced(),
			service.NewStringField(dlFieldTableName).Description("The table's name in its metadata.").Default("").Advanced(),
			service.NewBoolField(dlFieldAddColumns).Description("When the table exists with a schema the configured one extends only by nullable columns at the end (same columns, types and order first, same partitioning), add them in one commit (`ADD COLUMNS`, a new metaData) instead of refusing the table: its older files read the new columns as null. Every writer of the table must then have the new schema (a writer still on the old one has its commits refused). Off: any other schema is refused.").Default(false).Advanced(),
			service.NewOutputMaxInFlightField().Default(1),
			service.NewBatchPolicyField(dlFieldBatching),
		).
		LintRule(deltaLakeLintRule()).
		Example("GDELT events from the feed to a local table, partitioned by window date", "", `
output:
  delta_lake:
    path: ./out/bronze/events
    gdelt_table: export
    progress: gdelt_feed
    partition_by:
      - column: window_date
        type: date
        value: '${! @gdelt_window.slice(0, 8) }'
    batching:
      count: 10000
      period: 5s
`).
		Example("A Kafka topic to MinIO, exactly once", "", `
output:
  # The batches are made above the fallback, so that only the rejected rows
  # of a commit reach the dead letter (one output, no retries of its own).
  broker:
    pattern: fan_out_fail_fast
    batching:
      count: 50000
      period: 10s
    outputs:
      - fallback:
          - delta_lake:
              path: s3://lake/bronze/mentions
              s3:
                endpoint: http://127.0.0.1:9000
                access_key_id: ${MINIO_ACCESS_KEY}
                secret_access_key: ${MINIO_SECRET_KEY}
              gdelt_table: mentions
              progress: kafka
          - switch:
              cases:
                - check: '@fallback_error.or("").has_prefix("delta_lake: rejected: ")'
                  output:
                    file:
                      path: ./dlq/mentions.jsonl
                - output:
                    reject: '${! @fallback_error }'
`)
}

// partitionTypes are the Delta types a partition column may have: those
// whose values the protocol serialises into partition folders (see
// delta.PartitionValue).
var partitionTypes = []string{"string", "long", "integer", "short", "byte", "date", "timestamp", "boolean"}

// gdeltTableLintRule refuses a gdelt_table that the catalogue does not know.
func gdeltTableLintRule() string {
	names, _ := json.Marshal(TableNames)
	return fmt.Sprintf(`root = if this != "" && !%s.contains(this) { "gdelt_table %%q is unknown: want one of %s".format(this) }`,
		names, strings.Join(TableNames, ", "))
}

// deltaLakeLintRule holds the rules across fields, so that `benthos lint`
// reports them; deltaLakeConfFromParsed checks them again at run time (and,
// for gdelt_table, the partition columns, which only the catalogue knows):
// exactly one of gdelt_table and schema; app_id and version with progress:
// custom, and only then; a partition column of a declared schema of a type
// that has partition folders, and the type of its value when it has one; a
// partition column outside the schema with a value.
func deltaLakeLintRule() string {
	types, _ := json.Marshal(partitionTypes)
	return `
let has_table = this.gdelt_table.or("") != ""
let has_schema = this.schema.or([]).length() > 0
let custom = this.progress.or("` + progressKafka + `") == "` + progressCustom + `"
let declared = if $has_table { {} } else {
  this.schema.or([]).fold({}, f -> f.tally.merge({(f.value.name.or("").string()): if f.value.type.type() == "string" { f.value.type.trim() } else { f.value.type.type.or("complex").string() }}))
}
let partitionable = ` + string(types) + `
root = [
  if $has_table && $has_schema { "set one of gdelt_table and schema, not both" } else { null },
  if !$has_table && !$has_schema { "set gdelt_table or schema" } else { null },
  if $custom && (this.app_id.or("") == "" || this.version.or("") == "") { "progress: custom needs app_id and version" } else { null },
  if !$custom && (this.app_id.or("") != "" || this.version.or("") != "") { "app_id and version are only for progress: custom" } else { null },
].merge(this.partition_by.or([]).map_each(p -> if $has_table || !$has_schema { null } else if !$declared.exists(p.column.or("")) {
  if p.value.or("") == "" { "partition column %q is not in the schema: give it a value".format(p.column.or("")) } else { null }
} else if !$partitionable.contains($declared.get(p.column)) {
  "partition column %q has type %s: a partition column has one of the types %s".format(p.column, $declared.get(p.column), $partitionable.join(", "))
} else if p.value.or("") != "" && p.type.or("string") != $declared.get(p.column) {
  "partition column %q: its value's type is %s, the schema says %s".format(p.column, p.type.or("string"), $declared.get(p.column))
} else { null })).filter(e -> e != null)
`
}

type dlPartition struct {
	column string
	value  *service.InterpolatedString // nil: the message's own field
	typ    string
	last   *atomic.Pointer[[2]string] // a date's last YYYYMMDD value and its YYYY-MM-DD
}

type deltaLakeConf struct {
	retryForever bool                   // commit_attempts <= 0: a failed write is retried here until it succeeds
	backOff      func() backoff.BackOff // a fresh retry policy for each run of retries
	path         string
	s3           storage.S3Config
	schema       schema.StructType
	partitions   []dlPartition
	progress     string
	appID        *service.InterpolatedString
	version      *service.InterpolatedString
	prefix       string
	appender     delta.AppendConfig
	table        delta.TableConfig
	tableName    string
	compression  string
	addColumns   bool
}

func deltaLakeConfFromParsed(pc *service.ParsedConfig) (c deltaLakeConf, err error) {
	if c.path, err = pc.FieldString(dlFieldPath); err != nil {
		return
	}
	if err = checkTablePath(c.path); err != nil {
		return c, fmt.Errorf("%s %q: %w", dlFieldPath, c.path, err)
	}
	if c.s3, err = s3ConfFromParsed(pc); err != nil {
		return
	}

	gt, err := pc.FieldString(dlFieldGDELTTable)
	if err != nil {
		return
	}
	nested, err := pc.FieldBool(dlFieldGKGNested)
	if err != nil {
		return
	}
	var declared []*service.ParsedConfig
	if pc.Contains(dlFieldSchema) {
		if declared, err = pc.FieldAnyList(dlFieldSchema); err != nil {
			return
		}
	}
	switch {
	case gt != "" && len(declared) > 0:
		return c, errors.New("set one of gdelt_table and schema, not both")
	case gt != "":
		if c.schema, err = TableSchema(gt, nested); err != nil {
			return c, err
		}
	case len(declared) > 0:
		raw := make([]any, len(declared))
		for i, d := range declared {
			if raw[i], err = d.FieldAny(); err != nil {
				return c, err
			}
		}
		if c.schema, err = schema.ParseYAML(raw); err != nil {
			return c, fmt.Errorf("%s: %w", dlFieldSchema, err)
		}
	default:
		return c, errors.New("set gdelt_table or schema")
	}

	parts, err := pc.FieldObjectList(dlFieldPartitionBy)
	if err != nil {
		return
	}
	for _, p := range parts {
		var dp dlPartition
		if dp.column, err = p.FieldString(dlFieldPartColumn); err != nil {
			return
		}
		if dp.typ, err = p.FieldString(dlFieldPartType); err != nil {
			return
		}
		raw, _ := p.FieldString(dlFieldPartValue)
		if raw != "" {
			if dp.value, err = p.FieldInterpolatedString(dlFieldPartValue); err != nil {
				return
			}
		}
		f, exists := c.schema.Field(dp.column)
		switch {
		case !exists && dp.value == nil:
			return c, fmt.Errorf("partition column %q is not in the schema: give it a value", dp.column)
		case !exists:
			c.schema.Fields = append(c.schema.Fields, schema.StructField{Name: dp.column, Type: schema.DataType{Primitive: dp.typ}, Nullable: true})
		case !slices.Contains(partitionTypes, f.Type.String()):
			return c, fmt.Errorf("partition column %q has type %s: a partition column has one of the types %s", dp.column, f.Type, strings.Join(partitionTypes, ", "))
		case dp.value != nil && dp.typ != f.Type.String():
			return c, fmt.Errorf("partition column %q: its value's type is %s, the schema says %s", dp.column, dp.typ, f.Type)
		}
		dp.last = new(atomic.Pointer[[2]string])
		c.partitions = append(c.partitions, dp)
		c.appender.PartitionColumns = append(c.appender.PartitionColumns, dp.column)
	}
	c.appender.Schema = c.schema

	if c.progress, err = pc.FieldString(dlFieldProgress); err != nil {
		return
	}
	// Positional keys give each row its own version: a repeat within one
	// batch (a window ingest sent twice, read in one poll) is skipped too.
	c.appender.UniqueVersions = c.progress == progressKafka || c.progress == progressGDELTKafka || c.progress == progressGDELTFeed
	appID, _ := pc.FieldString(dlFieldAppID)
	version, _ := pc.FieldString(dlFieldVersion)
	switch {
	case c.progress == progressCustom && (appID == "" || version == ""):
		return c, errors.New("progress: custom needs app_id and version")
	case c.progress != progressCustom && (appID != "" || version != ""):
		return c, errors.New("app_id and version are only for progress: custom")
	case c.progress == progressCustom:
		if c.appID, err = pc.FieldInterpolatedString(dlFieldAppID); err != nil {
			return
		}
		if c.version, err = pc.FieldInterpolatedString(dlFieldVersion); err != nil {
			return
		}
	}
	if c.prefix, err = pc.FieldString(dlFieldAppIDPrefix); err != nil {
		return
	}
	tfs, err := pc.FieldInt(dlFieldTargetFileSize)
	if err != nil {
		return
	}
	c.appender.TargetFileSize = int64(tfs)
	rgb, err := pc.FieldInt(dlFieldRowGroupBytes)
	if err != nil {
		return
	}
	c.appender.DataFile.RowGroupBytes = int64(rgb)
	if c.compression, err = pc.FieldString(dlFieldCompression); err != nil {
		return
	}
	c.appender.DataFile.Compression = c.compression
	if c.table.CheckpointInterval, err = pc.FieldInt(dlFieldCheckpoint); err != nil {
		return
	}
	if c.table.CheckpointInterval <= 0 {
		c.table.CheckpointInterval = -1
	}
	if c.appender.CommitAttempts, err = pc.FieldInt(dlFieldCommitAttempts); err != nil {
		return
	}
	if c.appender.CommitAttempts <= 0 {
		c.retryForever = true
	}
	policy, err := pc.FieldBackOff(dlFieldBackOff)
	if err != nil {
		return
	}
	// Doubling without jitter, as delta.DefaultBackOff (the field sets the
	// intervals only).
	policy.Multiplier, policy.RandomizationFactor = 2, 0
	c.backOff = func() backoff.BackOff {
		b := *policy
		b.Reset()
		return &b
	}
	c.appender.CommitBackOff = c.backOff
	if c.tableName, err = pc.FieldString(dlFieldTableName); err != nil {
		return
	}
	if c.addColumns, err = pc.FieldBool(dlFieldAddColumns); err != nil {
		return
	}
	c.table.EngineInfo = "gdeltflow delta_lake"
	if d := os.Getenv(testCommitDelayEnv); d != "" {
		delay, err := time.ParseDuration(d)
		if err != nil {
			return c, fmt.Errorf("%s: %w", testCommitDelayEnv, err)
		}
		c.appender.BeforeCommit = func() { time.Sleep(delay) }
	}
	return c, nil
}

// checkTablePath refuses a path that is most likely a mistake, such as an
// unset variable in "${OUT} /bronze" or a blank one that would put tables at
// the filesystem root: blank, surrounded by whitespace, or the root itself.
func checkTablePath(p string) error {
	t := strings.TrimSpace(p)
	switch {
	case t == "":
		return errors.New("the path is blank: name the table's folder or s3://bucket/prefix")
	case t != p:
		return errors.New("the path has leading or trailing whitespace: remove it")
	}
	local := strings.TrimPrefix(p, "file://")
	if !strings.Contains(local, "://") && filepath.Clean(local) == string(filepath.Separator) {
		return errors.New("the path is the filesystem root: name a folder for the table")
	}
	return nil
}

type deltaLakeOutput struct {
	conf deltaLakeConf
	log  *service.Logger
	// component names the table in a run's failure ("delta_lake <path>").
	component string
	clock     *runstate.Clock
	warned    rateLimit // the failure warnings

	mCommits, mCommitErrors, mConflicts, mRows, mDup, mRejected, mFiles, mBytes *service.MetricCounter
	mVersion                                                                    *service.MetricGauge
	mLatency                                                                    *service.MetricTimer

	mu sync.Mutex
	w  *delta.Appender

	layouts sync.Map // *gschema.Layout → *rowMapping: where rows in column order go
}

func newDeltaLakeFromParsed(conf deltaLakeConf, mgr *service.Resources) *deltaLakeOutput {
	m := mgr.Metrics()
	component := "delta_lake " + conf.path
	return &deltaLakeOutput{
		conf: conf, log: mgr.Logger(), component: component, clock: runstate.NewClock(component),
		mCommits:      m.NewCounter("delta_lake_commits", "table"),
		mCommitErrors: m.NewCounter("delta_lake_commit_errors", "table"),
		mConflicts:    m.NewCounter("delta_lake_commit_conflicts", "table"),
		mRows:         m.NewCounter("delta_lake_rows_written", "table"),
		mDup:          m.NewCounter("delta_lake_rows_duplicate", "table"),
		mRejected:     m.NewCounter("delta_lake_rows_rejected", "table"),
		mFiles:        m.NewCounter("delta_lake_files_written", "table"),
		mBytes:        m.NewCounter("delta_lake_bytes_written", "table"),
		mVersion:      m.NewGauge("delta_lake_version", "table"),
		mLatency:      m.NewTimer("delta_lake_commit_latency", "table"),
	}
}

func init() {
	err := service.RegisterBatchOutput("delta_lake", deltaLakeSpec(),
		func(pc *service.ParsedConfig, mgr *service.Resources) (service.BatchOutput, service.BatchPolicy, int, error) {
			var bp service.BatchPolicy
			maxInFlight, err := pc.FieldMaxInFlight()
			if err != nil {
				return nil, bp, 0, err
			}
			if bp, err = pc.FieldBatchPolicy(dlFieldBatching); err != nil {
				return nil, bp, 0, err
			}
			conf, err := deltaLakeConfFromParsed(pc)
			if err != nil {
				return nil, bp, 0, err
			}
			return newDeltaLakeFromParsed(conf, mgr), bp, maxInFlight, nil
		})
	if err != nil {
		panic(err)
	}
}

// Connect opens the table, creating it when it does not exist. It retries
// failures itself, with the backoff policy, until the table opens, the
// stream stops or a job gives up (see failing): the engine would retry every
// second and log each attempt at error level.
func (d *deltaLakeOutput) Connect(ctx context.Context) error {
	d.mu.Lock()
	connected := d.w != nil
	d.mu.Unlock()
	if connected {
		return nil
	}
	if runstate.Failed() != nil {
		// The run failed (this table or another component gave up) and is
		// stopping: wait for the stop rather than retry and log again.
		<-ctx.Done()
		return ctx.Err()
	}
	w, err := backoff.RetryWithData(func() (*delta.Appender, error) {
		w, err := d.open(ctx)
		if err != nil && (ctx.Err() != nil || d.failing("opening the table", err)) {
			return nil, backoff.Permanent(err)
		}
		return w, err
	}, backoff.WithContext(d.conf.backOff(), ctx))
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.w = w
	d.mu.Unlock()
	d.ok()
	d.mVersion.Set(w.Table().Version(), d.conf.path)
	d.log.Infof("delta_lake: table %s at version %d", w.Table().Storage().Location(), w.Table().Version())
	return nil
}

// open opens (or creates) the table and returns its appender.
func (d *deltaLakeOutput) open(ctx context.Context) (*delta.Appender, error) {
	st, err := storage.Open(d.conf.path, d.conf.s3)
	if err != nil {
		return nil, err
	}
	if wc, ok := st.(storage.WritableChecker); ok {
		if err := wc.CheckWritable(ctx); err != nil {
			return nil, err
		}
	}
	t, err := delta.OpenTable(ctx, st, d.conf.table)
	if err != nil {
		return nil, fmt.Errorf("opening table %s: %w", st.Location(), err)
	}
	schemaJSON, err := d.conf.schema.JSON()
	if err != nil {
		return nil, err
	}
	// Create gives the table a random id.
	meta := delta.Metadata{
		Name: d.conf.tableName, Format: delta.Format{Provider: "parquet", Options: map[string]string{}},
		SchemaString: schemaJSON, PartitionColumns: d.conf.appender.PartitionColumns,
		Configuration: map[string]string{"delta.parquet.compression.codec": d.conf.compression},
		CreatedTime:   time.Now().UnixMilli(),
	}
	if d.conf.table.CheckpointInterval > 0 {
		meta.Configuration["delta.checkpointInterval"] = strconv.Itoa(d.conf.table.CheckpointInterval)
	}
	err = t.Create(ctx, meta, delta.Protocol{MinReaderVersion: 1, MinWriterVersion: 2})
	if errors.Is(err, delta.ErrMetadataMismatch) && d.conf.addColumns {
		var added []string
		if added, err = t.AddColumns(ctx, meta); err == nil && len(added) > 0 {
			d.log.Infof("delta_lake: %s: columns added: %s", st.Location(), strings.Join(added, ", "))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("creating table %s: %w", st.Location(), err)
	}
	for _, warning := range t.Snapshot().Warnings {
		d.log.Warnf("delta_lake: %s: %s", st.Location(), warning)
	}
	return delta.NewAppender(t, d.conf.appender)
}

// failureLogInterval is how often an ongoing failure is logged again.
var failureLogInterval = time.Minute

// failing records a failure of what (opening the table, writing a batch).
// In a job, a permanent failure, or one that has lasted the job's give-up
// time, fails the run: it returns true and the caller stops retrying.
// Otherwise it logs at warn, at the failure's start and then once per
// failureLogInterval (the engine may retry every second), and returns false.
func (d *deltaLakeOutput) failing(what string, err error) bool {
	remedy := d.remedy(err)
	isJob, giveUp := runstate.Job()
	if isJob && delta.IsPermanent(err) {
		runstate.Fail(d.component, err, remedy)
		return true
	}
	if d.clock.Failing(err, remedy) {
		return true
	}
	if !d.warned.due(time.Now(), failureLogInterval) {
		return false
	}
	msg := fmt.Sprintf("delta_lake: %s: %s failed: %v; retrying; %s", d.conf.path, what, err, remedy)
	if since := d.clock.Since(); since >= time.Second {
		msg = fmt.Sprintf("delta_lake: %s: %s still failing after %s: %v; retrying; %s", d.conf.path, what, since.Round(time.Second), err, remedy)
	}
	if isJob && giveUp > 0 {
		msg += fmt.Sprintf(" (this job gives up after %s)", giveUp)
	}
	d.log.Warn(msg)
	return false
}

// ok records a success: a failure, if any, is over.
func (d *deltaLakeOutput) ok() {
	since := d.clock.Since()
	d.clock.OK()
	if d.warned.reset() {
		d.log.Infof("delta_lake: %s: recovered after %s", d.conf.path, since.Round(time.Second))
	}
}

// remedy says what a person can do about err.
func (d *deltaLakeOutput) remedy(err error) string {
	local := !strings.Contains(d.conf.path, "://") || strings.HasPrefix(d.conf.path, "file://")
	elsewhere := "point the table's path elsewhere"
	if local {
		elsewhere += " (GDELT_OUT for the pipelines/*.yaml tables)"
	}
	switch {
	case errors.Is(err, delta.ErrCorruptLog):
		return "the table's log is damaged: look at it with `delta-table history " + d.conf.path + "`, then restore its _delta_log or move the table aside to start a new one"
	case errors.Is(err, delta.ErrUnsupportedProtocol):
		return "the table needs Delta features this writer cannot honour: " + elsewhere
	case errors.Is(err, delta.ErrMetadataMismatch):
		return "the table exists with another schema or partitioning: move it aside or " + elsewhere
	case errors.Is(err, storage.ErrNotADirectory), errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.EISDIR):
		return "a file is where the table's folder must be: move it, or " + elsewhere
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EROFS):
		return "make the table's folder writable for this process, or " + elsewhere
	case local:
		return "check the disk that holds the table (space, mount)"
	default:
		return "check that the S3 endpoint is up and reachable from here, and its credentials and bucket"
	}
}

// rateLimit says when a repeated event is due to be reported again.
type rateLimit struct {
	mu   sync.Mutex
	last time.Time // zero: nothing reported since the last reset
}

// due reports whether the event is to be reported now: the first time after
// a reset, then once per interval.
func (r *rateLimit) due(now time.Time, interval time.Duration) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.last.IsZero() && now.Sub(r.last) < interval {
		return false
	}
	r.last = now
	return true
}

// reset starts over; it reports whether anything was reported since the last reset.
func (r *rateLimit) reset() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	was := !r.last.IsZero()
	r.last = time.Time{}
	return was
}

// feedPosition is a row's position in the feed: its window's index × 10⁹
// plus its line, from the gdelt_window and gdelt_line metadata.
func (d *deltaLakeOutput) feedPosition(m *service.Message, meta func(string) (string, error)) (int64, error) {
	ws, err := meta(contract.MetaWindow)
	if err != nil {
		return 0, err
	}
	ls, err := meta(contract.MetaLine)
	if err != nil {
		return 0, err
	}
	w, err := contract.ParseID(ws)
	if err != nil {
		return 0, fmt.Errorf("progress %s: gdelt_window %q is not YYYYMMDDHHMMSS", d.conf.progress, ws)
	}
	line, err := strconv.ParseInt(ls, 10, 64)
	if err != nil || line < 0 || line >= gdeltLinesPerWindow {
		return 0, fmt.Errorf("progress %s: gdelt_line %q is not a line number below 10^9", d.conf.progress, ls)
	}
	return int64(w)*gdeltLinesPerWindow + line, nil
}

// progressKey returns the message's source partition and position.
func (d *deltaLakeOutput) progressKey(m *service.Message) (string, int64, error) {
	meta := func(k string) (string, error) {
		v, ok := m.MetaGet(k)
		if !ok || v == "" {
			return "", fmt.Errorf("progress %s: the message has no %s metadata", d.conf.progress, k)
		}
		return v, nil
	}
	switch d.conf.progress {
	case progressNone:
		return "", 0, nil
	case progressKafka:
		topic, err := meta(contract.KafkaTopic)
		if err != nil {
			return "", 0, err
		}
		part, err := meta(contract.KafkaPartition)
		if err != nil {
			return "", 0, err
		}
		off, err := meta(contract.KafkaOffset)
		if err != nil {
			return "", 0, err
		}
		v, err := strconv.ParseInt(off, 10, 64)
		if err != nil {
			return "", 0, fmt.Errorf("progress kafka: kafka_offset %q is not an integer", off)
		}
		return d.conf.prefix + topic + "-" + part, v, nil
	case progressGDELTKafka:
		topic, err := meta(contract.KafkaTopic)
		if err != nil {
			return "", 0, err
		}
		part, err := meta(contract.KafkaPartition)
		if err != nil {
			return "", 0, err
		}
		v, err := d.feedPosition(m, meta)
		if err != nil {
			return "", 0, err
		}
		return d.conf.prefix + topic + "-" + part + "-lines", v, nil
	case progressGDELTFeed:
		vals := make([]string, 4)
		for i, k := range []string{contract.MetaStream, contract.MetaTable, contract.MetaWindow, contract.MetaLine} {
			var err error
			if vals[i], err = meta(k); err != nil {
				return "", 0, err
			}
		}
		w, err := contract.ParseID(vals[2])
		if err != nil {
			return "", 0, fmt.Errorf("progress gdelt_feed: gdelt_window %q is not YYYYMMDDHHMMSS", vals[2])
		}
		line, err := strconv.ParseInt(vals[3], 10, 64)
		if err != nil || line < 0 || line >= gdeltLinesPerWindow {
			return "", 0, fmt.Errorf("progress gdelt_feed: gdelt_line %q is not a line number below 10^9", vals[3])
		}
		app := d.conf.prefix + "gdelt-" + vals[0] + "-" + vals[1]
		if r, _ := m.MetaGet(contract.MetaRepair); r == "true" {
			// The main appId is past this window: the file's repair has its own
			// progress, by line.
			return app + "-repair-" + vals[2], line, nil
		}
		return app, int64(w)*gdeltLinesPerWindow + line, nil
	default:
		app, err := d.conf.appID.TryString(m)
		if err != nil {
			return "", 0, fmt.Errorf("app_id: %w", err)
		}
		vs, err := d.conf.version.TryString(m)
		if err != nil {
			return "", 0, fmt.Errorf("version: %w", err)
		}
		v, err := strconv.ParseInt(strings.TrimSpace(vs), 10, 64)
		if err != nil {
			return "", 0, fmt.Errorf("version %q is not an integer", vs)
		}
		if app == "" {
			return "", 0, errors.New("app_id is empty")
		}
		return d.conf.prefix + app, v, nil
	}
}

// WriteBatch commits the batch as one Delta version.
func (d *deltaLakeOutput) WriteBatch(ctx context.Context, batch service.MessageBatch) error {
	d.mu.Lock()
	w := d.w
	d.mu.Unlock()
	if w == nil {
		return service.ErrNotConnected
	}
	var bErr *service.BatchError
	failMsg := func(i int, err error) {
		if bErr == nil {
			bErr = service.NewBatchError(batch, errors.New("delta_lake: some messages were not written"))
		}
		// The marker lets a fallback route these (and only these) to a dead
		// letter: a storage failure fails the whole batch without it.
		bErr.Failed(i, fmt.Errorf("%s%w", RejectedPrefix, err))
	}
	rows := make([]delta.Row, 0, len(batch))
	index := make([]int, 0, len(batch)) // rows[k] is batch[index[k]]
	var windows windowSpan
	for i, m := range batch {
		if rv, isRow := m.MetaGetMut(contract.MetaRow); isRow {
			// A row in column order (gdelt_decode's form: row): its values go
			// to the writer by position, no map is built.
			r, ok := rv.(*gschema.Row)
			if !ok || r == nil || r.Layout == nil {
				failMsg(i, fmt.Errorf("the %s metadata is %T, want a decoded row", contract.MetaRow, rv))
				continue
			}
			app, ver, err := d.progressKey(m)
			if err != nil {
				failMsg(i, err)
				continue
			}
			data, part, err := d.rowValues(w, m, r)
			if err != nil {
				failMsg(i, err)
				continue
			}
			rows = append(rows, delta.Row{Data: data, Partition: part, AppID: app, Version: ver})
			index = append(index, i)
			if d.conf.progress == progressGDELTFeed || d.conf.progress == progressGDELTKafka {
				windows.add(m)
			}
			continue
		}
		v, err := m.AsStructuredMut()
		if err != nil {
			failMsg(i, fmt.Errorf("the message is not structured data: %w", err))
			continue
		}
		obj, ok := v.(map[string]any)
		if !ok {
			failMsg(i, fmt.Errorf("want an object, got %T", v))
			continue
		}
		app, ver, err := d.progressKey(m)
		if err != nil {
			failMsg(i, err)
			continue
		}
		if err := d.setPartitions(m, obj); err != nil {
			failMsg(i, err)
			continue
		}
		rows = append(rows, delta.Row{Values: obj, AppID: app, Version: ver})
		index = append(index, i)
		if d.conf.progress == progressGDELTFeed || d.conf.progress == progressGDELTKafka {
			windows.add(m)
		}
	}

	table := d.conf.path
	what := fmt.Sprintf("writing %d rows", len(rows))
	// With commit_attempts 0 the write is retried here, in order, until it
	// succeeds, the stream stops or a job gives up; otherwise the batch is
	// nacked and the engine retries it.
	var start time.Time
	var last error // the last write's error: what a stop during a wait reports
	res, err := backoff.RetryWithData(func() (*delta.AppendResult, error) {
		start = time.Now()
		res, err := w.Append(ctx, rows)
		if err == nil {
			return res, nil
		}
		last = err
		if ctx.Err() != nil {
			return res, backoff.Permanent(err)
		}
		d.mCommitErrors.Incr(1, table)
		if d.failing(what, err) || !d.conf.retryForever {
			return res, backoff.Permanent(err)
		}
		return res, err
	}, backoff.WithContext(d.conf.backOff(), ctx))
	if err != nil && last != nil {
		err = last
	}
	if res != nil {
		d.mConflicts.Incr(int64(res.Conflicts), table)
	}
	if err != nil {
		return fmt.Errorf("delta_lake: writing %d rows to %s: %w", len(rows), table, err)
	}
	d.ok()
	for k, ferr := range res.Failed {
		failMsg(index[k], ferr)
	}
	d.mDup.Incr(int64(res.Skipped), table)
	d.mRejected.Incr(int64(len(res.Failed)), table)
	if res.Version >= 0 {
		took := time.Since(start)
		d.mLatency.Timing(took.Nanoseconds(), table)
		d.mCommits.Incr(1, table)
		d.mVersion.Set(res.Version, table)
		d.mRows.Incr(int64(res.Written), table)
		d.mFiles.Incr(int64(len(res.Files)), table)
		var size int64
		for _, a := range res.Files {
			size += a.Size
		}
		d.mBytes.Incr(size, table)
		// One line per commit: a long run shows it is alive, and where it is.
		skipped := ""
		if res.Skipped > 0 {
			skipped = fmt.Sprintf(" (%d already committed, skipped)", res.Skipped)
		}
		d.log.Infof("delta_lake: committed version %d of %s: %d rows%s, %d files, %d bytes, %d ms%s",
			res.Version, table, res.Written, skipped, len(res.Files), size, took.Milliseconds(), windows.String())
		if err := w.Table().CheckpointError(); err != nil {
			d.log.Warnf("delta_lake: checkpoint of %s failed (the commits stand): %v", table, err)
		}
	} else if res.Skipped > 0 {
		d.log.Debugf("delta_lake: %d rows already in %s skipped", res.Skipped, table)
	}
	if bErr != nil {
		return bErr
	}
	return nil
}

// windowSpan is the range of GDELT windows of a batch, for the commit's log line.
type windowSpan struct {
	first, last string // YYYYMMDDHHMMSS: strings sort as times
	seen        map[string]bool
	prev        string
	repair      bool
}

func (ws *windowSpan) add(m *service.Message) {
	w, _ := m.MetaGet(contract.MetaWindow)
	if w == "" {
		return
	}
	if r, _ := m.MetaGet(contract.MetaRepair); r == "true" {
		ws.repair = true
	}
	if w == ws.prev {
		return // rows come window after window: most are the previous one's
	}
	ws.prev = w
	if ws.seen == nil {
		ws.seen = map[string]bool{}
		ws.first, ws.last = w, w
	}
	ws.seen[w] = true
	ws.first, ws.last = min(ws.first, w), max(ws.last, w)
}

func (ws *windowSpan) String() string {
	var s string
	switch len(ws.seen) {
	case 0:
		return ""
	case 1:
		s = "; window " + ws.first
	default:
		s = fmt.Sprintf("; windows %s..%s (%d)", ws.first, ws.last, len(ws.seen))
	}
	if ws.repair {
		s += ", repair"
	}
	return s
}

func (d *deltaLakeOutput) setPartitions(m *service.Message, obj map[string]any) error {
	for _, p := range d.conf.partitions {
		if p.value == nil {
			continue
		}
		v, err := p.valueOf(m)
		if err != nil {
			return err
		}
		obj[p.column] = v
	}
	return nil
}

// valueOf is the partition's value for m, from its value interpolation.
func (p *dlPartition) valueOf(m *service.Message) (any, error) {
	s, err := p.value.TryString(m)
	if err != nil {
		return nil, fmt.Errorf("partition %s: %w", p.column, err)
	}
	switch p.typ {
	case "long", "integer":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("partition %s: %q is not an integer", p.column, s)
		}
		return n, nil
	case "boolean":
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("partition %s: %q is not a boolean", p.column, s)
		}
		return b, nil
	case "date":
		return p.isoDate(s), nil // the table checks it is a date
	}
	return s, nil
}

// isoDate turns a YYYYMMDD date into YYYY-MM-DD; anything else is returned
// as it is. Rows come window after window: the last conversion is kept.
func (p *dlPartition) isoDate(s string) string {
	if len(s) != 8 {
		return s
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return s
		}
	}
	if last := p.last.Load(); last != nil && last[0] == s {
		return last[1]
	}
	iso := s[:4] + "-" + s[4:6] + "-" + s[6:]
	p.last.Store(&[2]string{strings.Clone(s), iso})
	return iso
}

// rowMapping places the values of rows of one layout in the table: the
// position in the row of each data column (the schema's columns but the
// partition columns, in schema order) and of each partition column that
// takes the row's own value, -1 when the layout lacks it (null, as a
// missing key of a map). Columns of the layout that the table lacks are
// ignored, as a map's unknown keys are.
type rowMapping struct {
	data     []int
	identity bool // data[j] == j: the row's values are the data columns, in order
	part     []int
}

// mappingOf returns the mapping of layout l, computed once per layout.
func (d *deltaLakeOutput) mappingOf(w *delta.Appender, l *gschema.Layout) *rowMapping {
	if rm, ok := d.layouts.Load(l); ok {
		return rm.(*rowMapping)
	}
	ds := w.DataSchema()
	rm := &rowMapping{data: make([]int, len(ds.Fields)), identity: true, part: make([]int, len(d.conf.partitions))}
	for j, f := range ds.Fields {
		rm.data[j] = l.Index(f.Name)
		rm.identity = rm.identity && rm.data[j] == j
	}
	for k, p := range d.conf.partitions {
		rm.part[k] = -1
		if p.value == nil {
			rm.part[k] = l.Index(p.column)
		}
	}
	got, _ := d.layouts.LoadOrStore(l, rm)
	return got.(*rowMapping)
}

// rowValues returns a row's data values in the data files' column order and
// its partition values in partition order. With the catalogue's tables and
// the decoder's layouts the data values are the row's own slice, not a copy.
func (d *deltaLakeOutput) rowValues(w *delta.Appender, m *service.Message, r *gschema.Row) (data, part []any, err error) {
	rm := d.mappingOf(w, r.Layout)
	at := func(i int) any {
		if i < 0 || i >= len(r.Values) {
			return nil
		}
		return r.Values[i]
	}
	if rm.identity {
		data = r.Values
	} else {
		data = make([]any, len(rm.data))
		for j, i := range rm.data {
			data[j] = at(i)
		}
	}
	if len(d.conf.partitions) > 0 {
		part = make([]any, len(d.conf.partitions))
		for k := range d.conf.partitions {
			p := &d.conf.partitions[k]
			if p.value == nil {
				part[k] = at(rm.part[k])
				continue
			}
			if part[k], err = p.valueOf(m); err != nil {
				return nil, nil, err
			}
		}
	}
	return data, part, nil
}

// Close has nothing to flush: every batch is committed or failed in WriteBatch.
func (d *deltaLakeOutput) Close(context.Context) error { return nil }

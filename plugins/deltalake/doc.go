// Package deltalake is the Benthos components of the Delta library: the
// delta_lake output and input, and the table catalogue that says which Delta schema a
// gdelt_table name means. It depends on the library (plugins/delta and the
// packages under it), on the GDELT table definitions (plugins/gdelt/schema)
// and on the join's columns (plugins/join); the library depends on none of
// them.
//
// # The output
//
// Each batch becomes one Delta commit through delta.Appender. What the
// component adds to the library is what a stream needs:
//
//   - Progress keys: the txn appId and version of a message, from its
//     metadata (progress: kafka, gdelt_feed, gdelt_kafka), from interpolations
//     (custom), or none. Positional keys give each row its own version, so a
//     repeat within a batch is skipped too.
//   - Rejects: a message that does not fit the schema, or lacks its progress
//     key, fails alone with an error starting "delta_lake: rejected: " (a
//     fallback routes those, and only those, to a dead letter); a storage
//     failure fails the batch, to be retried.
//   - Failures: logged at warn when they start and once a minute while they
//     last; in a job (a backfill) a permanent one (delta.IsPermanent) fails
//     the run at once with its remedy, another one after the job's give-up
//     time (plugins/runstate). Outside a job every failure is retried.
//   - One retry policy: the backoff field (the engine's NewBackOffField,
//     1 s doubling to 30 s by default) spaces the attempts at opening the
//     table, at a commit (commit_attempts) and, with commit_attempts: 0, at
//     a whole write, which then never nacks and keeps batches in order.
//   - Config rules across fields are lint rules, so `benthos lint` reports
//     them, and are checked again when the output is built.
//   - Metrics (delta_lake_*, labelled by table) and one log line per commit.
//
// # The input
//
// The delta_lake input reads a table (ours or any engine's) through
// delta.Scan: the snapshot at a version, then (mode follow) each new
// commit's added files, version after version. What it adds to the library
// is what a stream needs: batches of at most batch_rows rows of one file,
// the row as a map or as a gdelt schema.Row (form: row), metadata (table,
// version, file, partition values), a Bloblang partition filter that skips
// files unread, commit markers, and progress by version in a cache resource:
// a version is stored once every batch of it, and of every earlier version,
// is acknowledged, so a restart continues after it (at-least-once per
// version). A snapshot run is a job (plugins/runstate): a missing table, a
// damaged log or data file fails it at once, storage down after
// give_up_after; follow retries with the backoff field and warns once a
// minute.
//
// # The catalogue
//
// TableSchema maps a gdelt_table to its schema: export (also called events),
// mentions and gkg as gdelt_decode emits them (the GKG flat or nested),
// silver and audit_windows as gdelt_join emits them.
//
// # Files
//
//   - delta_lake.go: the delta_lake output: its spec, lint rules, config,
//     registration, and the adapter over delta.Appender
//   - delta_lake_input.go: the delta_lake input: its spec, lint rule,
//     config, registration, reading and progress (tracker)
//   - s3_fields.go: the `s3` block (the input's; the same fields as the
//     output's)
//   - catalogue.go: the table catalogue (TableSchema, GDELTSchema,
//     AuditWindowsSchema)
package deltalake

// Package delta is a Delta Lake library, the protocol's kernel
// (delta-io/delta PROTOCOL.md) as an append-mostly writer needs it: the log's
// actions and their JSON, log replay into a snapshot, checkpoints, optimistic
// transactions with application transaction identifiers, an exactly-once
// appender of rows, and vacuum. It is plain Go: no Benthos, no GDELT, no join
// (the delta_lake output in plugins/deltalake wraps it), so each piece is
// tested alone against the reference tables Spark and delta-rs wrote, and
// the table tool (cmd/delta-table) is a small program.
//
// Beside it, by role: package schema is the Delta type system, package
// storage is where a table lives (put-if-absent is its one hard primitive),
// package datafile is the Parquet data file (writer, statistics, reader).
//
// # Reading: log replay
//
// A Snapshot is a table at one version: the newest protocol and metadata,
// the live files, the tombstones, and the newest txn of each application.
// Apply reconciles one commit's actions and does no I/O; Load follows
// _last_checkpoint to the newest usable checkpoint (V1, single-file or
// complete multi-part) and applies the JSON commits after it. A damaged log
// (a commit that does not parse, a gap, no protocol) is ErrCorruptLog; a
// checkpoint that cannot be read is skipped for an older one or the JSON log,
// and Snapshot.Warnings says so.
//
// # Reading rows: Scan and Change
//
// A reader of the table's rows takes its files from a Snapshot (every live
// file) or from one commit at a time (ReadChange: the files it added with
// dataChange, the files it removed, its txns, a new schema), and reads each
// with a Scan: the data columns from the Parquet file (datafile.Reader, one
// row group at a time, over storage.OpenFile's ranged reads), the partition
// columns from the add action (PartitionValue), in the order of the columns
// asked for. A file the log lists that is missing or unreadable is
// ErrDataFile, naming it; a storage failure is returned as it is, to be
// retried. CheckReadRows refuses tables whose rows cannot be read right from
// the files (column mapping); a file with a deletion vector is refused.
//
// # Writing: commits
//
// Table.Commit puts the next version with put-if-absent. A writer that loses
// the race reads the winning commits and checks them against its own: a txn
// of its application at or above its own is ErrTxnConflict (the data is in
// the table already), a changed schema, protocol or a concurrent removal is
// ErrConcurrentModification; blind appends by others never conflict, and the
// commit is retried one version up. Nothing is committed on a conflict. A
// storage failure during the put leaves the outcome unknown
// (ErrOutcomeUnknown): the data files are kept, and a retry with the same
// Commit.TxnID finds its own landed commit (commitInfo.txnId) rather than
// taking it for a conflict. A checkpoint follows every tenth version (the
// table's delta.checkpointInterval); its failure never fails the commit.
//
// # Exactly once: the Appender
//
// Rows carry a progress key (Row.AppID, Row.Version: a source partition and a
// position in it). Appender.Append skips the rows at or below their
// partition's committed txn, writes the others as data files, and commits
// them with one txn per partition holding the highest version written, in
// the same commit: a replay after a crash adds nothing twice (the
// kafka-delta-ingest approach). Commits of one partition are made in version
// order even with batches in flight concurrently (the order gate,
// ErrOutOfOrder), so a txn never passes rows that are not in the table. A row
// that does not fit the schema fails alone (AppendResult.Failed) and is
// never later passed off as a duplicate. Storage failures are retried
// AppendConfig.CommitAttempts times with the waits of a backoff policy
// (DefaultBackOff: 1 s doubling to 30 s), as one logical commit.
//
// # Replacing partitions
//
// Appender.ReplacePartitions rewrites whole partitions in one commit: the
// live files of the partitions named are removed and the new rows' files
// added, with one txn; a replay at or below the table's txn changes
// nothing, and the other partitions are untouched (gold recomputes a day
// and replaces it this way).
//
// # Errors
//
// The errors are values to test with errors.Is, and name what a person or a
// caller does next: IsPermanent tells those no retry mends (a damaged table,
// an unsupported protocol, another schema, a path that cannot hold a table)
// from storage that may come back; the output fails a job at once on them and
// names the remedy.
//
// # Files
//
//   - actions.go: the actions (protocol, metaData, add, remove, txn,
//     commitInfo) and their JSON, commit files, log paths, path encoding
//   - snapshot.go: log replay (Snapshot, Apply, Load, LoadVersion, Update)
//   - scan.go: reading rows (Scan, FileRows), commits as changes (Change,
//     ReadChange), CheckReadRows
//   - checkpoint.go: V1 checkpoints, read and written; table properties
//   - table.go: Table (Create, Commit with its conflict checks, the landed
//     attempts it recognises), protocol and feature checks
//   - appender.go: the exactly-once Appender (rows to data files and one commit)
//   - replace.go: ReplacePartitions (whole partitions in one commit)
//   - order.go: the order gate of the Appender's commits per source partition
//   - partition.go: partition values, written (Hive folders) and read back
//   - vacuum.go: vacuum planning and execution
//   - retry.go: the retry policy (DefaultBackOff)
//   - errors.go: the errors and IsPermanent
package delta

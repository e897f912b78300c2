// Package mart keeps the gold tables' copy in a SQL database (the mart:
// PostgreSQL, or SQLite for the embedded default) and checks it.
//
// # Writing, exactly once
//
// The writer is YAML, not Go: the gdelt_mart output template
// (resources/templates/gdelt_mart.yaml) wraps Connect's sql_raw, whose
// `queries` with `when` run every message of a batch in ONE transaction. Per
// silver window W the gold stage emits one batch: for each gold table and day
// it touched, a replace_day message (DELETE that day) then the day's rows
// (INSERT), and last a progress message (UPSERT progress: stage 'mart',
// last_window W). Each statement is guarded by "no progress row at or past
// W", so a replay, or a batch older than the mart, changes nothing, and a
// crash between two batches leaves the mart at a window boundary. A batch that
// breaks a key or a constraint fails whole. Since every day gold sends is its
// full total, the mart can be rebuilt from empty by replaying gold.
//
// The DDL is data (resources/mart/postgres.sql and sqlite.sql, embedded); the
// Bloblang function gdelt_mart_ddl hands it to the template, which makes it
// sql_raw's init_statement, and the gdelt_mart_init processor applies it
// before the first batch until it succeeds (init_statement runs once and
// only logs a failure: a database down at the start, a SQLite folder not
// made yet).
//
// # Reconciliation
//
// After the transaction commits, the gdelt_mart_check processor (second
// output of a sequential broker, so it sees the batch only once the mart has
// acknowledged it) compares per affected day the batch's row count and
// measure sums with the mart's, read in one read-only transaction together
// with the progress row. When the mart is already past W (a later batch
// committed first) it holds later totals and the check says so instead of
// comparing. The outcome is metrics (gdelt_mart_in_sync, lag in windows and
// seconds) and the window's MART_COMPLETE audit row.
//
// Files: check.go (the comparison, no Benthos types), gdelt_mart_check.go
// (the processor), gdelt_mart_ddl.go (the Bloblang function),
// gdelt_mart_init.go (the DDL before the first batch).
package mart

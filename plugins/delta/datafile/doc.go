// Package datafile is the Parquet data file of a Delta table: Writer writes
// one, Stats are its statistics for the add action, Reader reads one back.
//
// Writer takes rows as map[string]any (what decoders and Benthos messages
// hold) and shreds them straight into column pages: data pages V1, plain
// encoding but for flat string columns, which are dictionary encoded when
// their values repeat (dict.go), and int32/int64 columns,
// DELTA_BINARY_PACKED (ids, times, offsets: a few bits a value, so zstd
// gets a fraction of the bytes), definition and repetition levels from the
// Delta schema, columns in schema order, zstd by default (delta.parquet.compression.codec), a
// created_by Spark's reader accepts. A value that does not fit its column
// fails its row alone with a *ValueError naming the column; the file goes
// on. Its memory is one row group (Config.RowGroupBytes) plus the pages being
// filled, whatever the number of rows: pages are compressed as they fill and
// the row group is flushed to the io.Writer when full, so a file is
// streamed to storage, never built in memory.
//
// Stats come from the footer Close wrote, without a second pass over the
// data: numRecords, and min, max and null count per column as Spark writes
// them (strings cut to 32 characters, the max raised to stay a bound;
// nothing inside arrays and maps; a null count for arrays and maps
// themselves).
//
// Reader reads a file's rows typed per a Delta schema, finding columns by
// name: files of Spark, delta-rs and DuckDB as well as ours. Partition
// columns are not in data files (their values are in the add action: see
// delta.PartitionValue). It holds one row group's column readers at a time.
//
// # Files
//
//   - writer.go: Writer and Config: rows, pages, row groups, the footer
//   - shred.go: one row's values into the columns, with their levels
//   - convert.go: Go values to column values, and why one does not fit
//   - column.go: the column chunks and their footer bounds
//   - node.go: the Delta schema compiled to Parquet nodes and levels
//   - codec.go: the page codecs (pooled zstd encoders sized for pages)
//   - dict.go: the dictionaries of string columns (RLE_DICTIONARY pages)
//   - pool.go: the bounded pool of page and chunk buffers
//   - stats.go: Stats, from the footer, and their JSON
//   - reader.go: Reader
package datafile

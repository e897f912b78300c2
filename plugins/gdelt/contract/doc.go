// Package contract is what the GDELT feed promises every stage after it, in
// one place: the window that is the project's clock, the metadata keys a row
// carries from the feed through Kafka to the tables, the markers that close
// windows, and the names of the tables. The feed (gdelt_feed), the decoder,
// ingest's Kafka routing, the silver join and the Delta outputs all read and
// write these; none of them spells a key or parses a window id on its own.
//
// # Windows
//
// GDELT 2.0 publishes every 15 minutes; a window is named by its start,
// YYYYMMDDHHMMSS in UTC (20230702153000). Window is its index, the number of
// 15-minute windows since 1970-01-01: retentions, slacks and rewinds count
// windows, and window ids are not contiguous integers, so every comparison and
// step is done on indexes. FromID and ParseID read ids; ID and String write
// them.
//
// # Rows and their metadata
//
// The feed emits one message per row with MetaTable, MetaWindow, MetaFile,
// MetaLine and MetaStream; ingest carries them into Kafka as headers, so a
// row's (window, line) stays its position in the feed wherever it travels:
// exactly-once outputs and the join use it to recognise a row read twice.
// MetaMarker messages have no row. Tables are named after their files: the
// Events table is "export" (TableExport), as its files are
// <window>.export.CSV.zip; "events" is accepted for it everywhere a table
// name is read.
//
// Files: window.go (Window), meta.go (metadata keys, markers, tables, reject
// stages).
package contract

// Package gdelt reads the GDELT 2.0 feed and decodes its rows: the first two
// stages of every gdeltflow pipeline, and the Kafka routing between them.
//
// GDELT publishes, every 15 minutes, three tab-separated files: the Events
// table (named "export" after its files, <window>.export.CSV.zip), Mentions
// and the GKG, listed with their sizes and md5s in masterfilelist.txt and
// lastupdate.txt. The feed reads them in window order, verifies each file and
// streams its rows; the decoder types them after the BigQuery columns
// (package schema). What they promise the stages after them (the window, the
// metadata keys, the markers) is package contract.
//
// The cores are plain Go: they see no Benthos type (Source, Emitter, Logger
// and Observer are interfaces of this package), so each is testable alone.
// The components are thin adapters that register with the engine.
//
// Files:
//
//	Core (no Benthos types)
//	  feed.go            Feed: backfill, follow (catch-up, lookahead, the end of the data), the window loop
//	  feed_list.go       the lists: parsing lines (bad lines reported, not fatal), window plans, window ids
//	  feed_file.go       one file: size and md5 checks, the zip entry, splitting rows into chunks (arenas)
//	  feed_source.go     sources: a local directory or HTTP (bounded bodies, retries, same-host redirects)
//	  feed_progress.go   the checkpoint: a window is done when it and every earlier one are acknowledged
//	  feed_repair.go     mode repair: the incomplete files of the checkpoint read again
//	  feed_consumers.go  ConsumerNeeds: how many windows a stateful consumer needs rewound (asked at Connect) and read ahead
//	  decode.go, gkg.go  Decoder: a raw row → a typed row (values in column order, or a map); the nested GKG fields
//	  kafka_route.go     Kafka's default partitioner (murmur2) and the row keys that co-partition documents
//	Components (adapters)
//	  gdelt_feed.go         input gdelt_feed
//	  gdelt_decode.go       processor gdelt_decode (form: map or row)
//	  gdelt_fields.go       Bloblang method gdelt_fields: a row's named fields
//	  gdelt_reject.go       processor gdelt_reject: one bounded record per failed row
//	  gdelt_kafka_route.go  processor gdelt_kafka_route: topics, keys, partitions, markers to every partition
//	  gdelt_topics.go       input gdelt_topics: a redpanda input resumed at a stored point per partition (silver restarts)
//	Subpackages
//	  contract  the window, the metadata keys, the markers
//	  schema    the three tables' columns and types
//	  gdeltgen  generated windows and mirrors that join like the real feed (tests, benchmarks, cmd/gdelt-gen)
package gdelt

// Package gdeltgen generates realistic, deterministic GDELT 2.0 15-minute windows (the Events export, Mentions
// and GKG 2.1 files of each window, which join like the real feed) and writes them as a GDELT-style mirror
// directory: <window>.<table>.zip files plus masterfilelist.txt and lastupdate.txt, with faults on request.
// It is a real package, as franz-go ships its fake cluster kfake: cmd/gdelt-gen, the end-to-end tests and the
// benchmarks use it, and it imports nothing of the pipeline it feeds.
//
// # What the data models, and why
//
// Rows follow the layouts and quirks of the real files (see the shared gdelt-format.md notes): tab-separated,
// no header, LF line ends, UTF-8, 61 / 16 / 27 fields, nested GKG fields with the real separators and a long
// V2GCAM block. What makes them worth more than random rows is how they relate, each relation being one the
// feed, the decoder or the silver join must handle:
//
//   - Late mentions: 40-50% of a window's mention rows refer to events first exported 15 minutes to 6 weeks
//     earlier, most within a day; in the generated range they use the ids that window exported, before it
//     plausible older ids. So the join must keep events for its retention (48 h), and some mentions expire.
//   - Shared documents: one article reports several events (a window's events are grouped by the document
//     that reported them first), one (event, document) pair comes back in other sentences, and a few events
//     are widely covered. The export's NumMentions, NumArticles, NumSources and AvgTone count the window's own
//     mentions, as GDELT's do; late mentions do not change an old export row.
//   - GKG rows without mentions: about a third of a window's GKG rows are documents no event refers to; 4% of
//     the next window's mentioned documents are taken from them. The join must hold GKG rows without emitting
//     anything for them.
//   - GKG rows a window apart: of the new web documents, 5% have their GKG row in the next window and 1.5% none
//     at all, and the reused ones above had theirs in the previous window. This is why the join looks for a
//     mention's GKG row within ±1 window (its GKG slack) and why no_gkg exists. Citation-only and CORE
//     documents (MentionType 2 and 3, non-URL identifiers) never have one.
//   - Re-exports (Config.Reexports): copies of earlier export rows (same GLOBALEVENTID and columns, DATEADDED the
//     new window), half from the last 8 windows, half from up to 400 windows back, past a short retention. A
//     re-processed GDELT file can repeat an event, which is why the join keeps first sightings and remembers
//     ids longer than its retention. They come from a random stream of their own, so every other row is the
//     same with or without them.
//   - Faults (Mirror.CorruptMD5, Truncate, Remove; AddZip for real files): the list line no longer matches
//     the file, the zip is cut, or the file is a 404, for the feed's error paths.
//
// Volumes: Small is 60 export, 150 mentions and 40 GKG rows (~3 KB each) per window; Day is 96 windows of
// realistic volume (export ~1,300-2,300 rows, mentions ~3,000-6,100, GKG ~1,020-1,210 rows of ~12 KB: ~1.46 GB
// unzipped, ~0.41 GB zipped for the day) with a daily rhythm. Config.Translation writes the translingual stream
// (*.translation.* names, -T record ids, translation info).
//
// # Determinism
//
// The same Config writes the same bytes. Each window draws from one PCG stream seeded by (Seed, window index),
// in a fixed order (see generator.window), so a window depends on the earlier ones only through what they
// hand on (event ids, documents carried to the next window); Generate therefore always starts at Config.Start.
// The zips have fixed modification times and compression level. TestGoldenMirror pins the hashes of five
// small mirrors and TestBundledMirror the generated zips of resources/mirror: a change of any byte is a
// change of the data every test and benchmark rests on, to be made on purpose.
//
// # Vocabularies
//
// The code tables (CAMEO event codes with Goldstein scores, actors, places with FIPS codes, GKG themes, count
// types, GCAM keys, news domains) and the synthetic names and words are data files, resources/gdeltgen/*.tsv,
// embedded through package resources and read once per process. Their README says where each comes from
// (most were measured on real GDELT files); TestVocabularyCodeBooks checks the codes against GDELT's code
// books.
//
// # Files
//
//	doc.go        this overview
//	generate.go   Config, Window, Small, Day, Generate: the config, the generator's state and the window loop
//	documents.go  documents (web, citation-only, CORE), their titles, URLs and quotes
//	events.go     events: ids, actors, CAMEO codes and Goldstein scores, places; the export rows; re-exports
//	mentions.go   mentions: same-window and late ones, sentences and offsets; the mentions rows
//	gkg.go        GKG rows: counts, themes, locations, persons and organizations, tone, GCAM, images, quotes,
//	              names, amounts, extras; GCAM richness by document length
//	format.go     numbers as GDELT writes them
//	vocab.go      the vocabularies: table specs, the TSV reader and its checks, the GCAM key universe
//	mirror.go     the mirror writer: file names, zips, master and last-update lists, faults, the day load
package gdeltgen

package resources

import "embed"

// FS holds the data folders under resources/, by their paths there, so that a command or package that reads
// them needs no path at run time and works from any directory:
//
//	gdeltgen/  the generator's vocabularies (plugins/gdelt/gdeltgen): CAMEO event codes and actors, places, GKG
//	           themes, count types, GCAM keys, news domains, names and words, one TSV per table (see its README)
//
// It is read-only; open files as "gdeltgen/themes.tsv". The offline mirror (mirror/) and the Kafka topics spec
// (topics.yaml) are read from disk by the pipelines and commands that take their path, so they are not
// embedded: the mirror alone would add 4 MB to a binary.
//
//go:embed gdeltgen
var FS embed.FS

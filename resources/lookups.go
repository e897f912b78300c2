package resources

import (
	"embed"
	"io/fs"
)

// lookups holds the GDELT code books of resources/lookups (CAMEO events,
// roots, Goldstein scale, actor codes, FIPS countries, quad classes, geo
// types; see its README), read by plugins/lookups.
//
//go:embed lookups/*
var lookups embed.FS

// Lookups returns the GDELT code books, rooted at resources/lookups: open
// them by file name ("cameo_countries.tsv"). It is read-only.
func Lookups() fs.FS {
	// fs.Sub fails only on an invalid path, and "lookups" is a valid one.
	sub, _ := fs.Sub(lookups, "lookups")
	return sub
}

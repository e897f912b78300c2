// Package lookups is the GDELT code books as a library: what a CAMEO event
// code, root, actor country, type, known group, ethnic or religion code, a
// FIPS 10-4 geo country, a quad class or a geo type means. The gold tables
// label their rows with it, and YAML authors reach it through Bloblang
// methods (bloblang.go).
//
// The books are data, not code: TSV and JSON files under resources/lookups
// (see its README for each file's source and cleaning), embedded in the
// binary and loaded once, by Default, on first use.
//
// Codes stay strings: GDELT writes "010" (make a statement) and "10"
// (DEMAND), and a number would make them one. Every book has one row per
// code by construction: loading refuses a duplicate code, naming the file,
// the line and the code, so a join on a book can never fan a row out (the
// platform we replace loaded codes as numbers and duplicated keys, and did
// both). Actor countries are CAMEO codes (3 letters, "USA") and geo
// countries FIPS 10-4 codes (2 letters, "US"): two books, never mixed.
//
// A code a book does not have is not an error: a lookup says "not found"
// and the book's miss is counted (Misses), so a new code in the feed shows
// in a metric instead of stopping a pipeline. An empty code is not a miss:
// GDELT leaves a field empty when it has nothing to say, and writes geo type
// 0 when it matched no location; both are absent, not unknown.
//
// Files:
//
//	Core (no Benthos types)
//	  lookups.go  the books, their row types, the lookups, Default
//	  load.go     reading and checking the files (one row per code, formats, cross-book agreement)
//	  misses.go   Misses: per-book counts of unknown codes, and the sink that exports them
//	Components (adapters)
//	  bloblang.go               the Bloblang methods (cameo_event_label, fips_country, …)
//	  gdelt_lookup_metrics.go   processor gdelt_lookup_metrics: the misses as the engine's metric gdelt_lookup_misses
package lookups

import (
	"fmt"
	"io/fs"
	"strconv"
	"sync"

	"github.com/gdeltflow/gdeltflow/resources"
)

// Book names a code book. The name is the value of the codebook label of
// the gdelt_lookup_misses metric.
type Book string

// The code books, by what their codes are.
const (
	CAMEOEvents      Book = "cameo_events"       // CAMEO event code (any level: "04", "040", "0211") → description
	CAMEOEventRoots  Book = "cameo_event_roots"  // root code ("01"–"20") → label and GDELT's quad class
	CAMEOGoldstein   Book = "cameo_goldstein"    // CAMEO event code → Goldstein scale (-10 … +10)
	CAMEOCountries   Book = "cameo_countries"    // actor country (CAMEO, 3 letters: "USA", "WSB", "AFR") → name
	CAMEOActorTypes  Book = "cameo_actor_types"  // actor type ("GOV", "MIL") → label
	CAMEOKnownGroups Book = "cameo_known_groups" // known group ("UNO", "NAT") → label
	CAMEOEthnic      Book = "cameo_ethnic"       // ethnic code ("kur", and "KUR": case matters) → label
	CAMEOReligion    Book = "cameo_religion"     // religion code ("MOS", "CHR") → label
	FIPSCountries    Book = "fips_countries"     // geo country (FIPS 10-4, 2 letters: "US", "UK") → ISO-3, ISO-2, name, region
	QuadClasses      Book = "quad_classes"       // quad class (1–4) → label
	GeoTypes         Book = "geo_types"          // geo type (1–5) → label and description
)

// AllBooks lists every code book, in a fixed order.
func AllBooks() []Book {
	return []Book{CAMEOEvents, CAMEOEventRoots, CAMEOGoldstein, CAMEOCountries, CAMEOActorTypes,
		CAMEOKnownGroups, CAMEOEthnic, CAMEOReligion, FIPSCountries, QuadClasses, GeoTypes}
}

// File is the book's file name in resources/lookups.
func (b Book) File() string {
	if d, ok := bookDefs[b]; ok {
		return d.file
	}
	return ""
}

// EventRoot is a row of the CAMEO event roots book.
type EventRoot struct {
	Code           string // "01" … "20"
	Label          string // as GDELT writes it: "MAKE PUBLIC STATEMENT"
	QuadClass      int    // the QuadClass GDELT writes for this root: 01–05 → 1, 06–09 → 2, 10–14 → 3, 15–20 → 4
	QuadClassLabel string // "Verbal Cooperation", …
}

// GeoCountry is a row of the FIPS countries book.
type GeoCountry struct {
	FIPS   string // FIPS 10-4, as in Actor1Geo_CountryCode, ActionGeo_CountryCode: "UK"
	ISO3   string // ISO 3166-1 alpha-3: "GBR"
	ISO2   string // ISO 3166-1 alpha-2: "GB"
	Name   string // English name: "United Kingdom"
	Region string // "Europe", "Asia", "Middle East", …
}

// GeoType is a row of the geo types book.
type GeoType struct {
	Code        int    // 1 … 5
	Label       string // "COUNTRY", "USSTATE", "USCITY", "WORLDCITY", "WORLDSTATE"
	Description string // "match was at the country level", …
}

// NoLocationGeoType is the geo type GDELT writes when it matched no
// location (its other geo fields are then empty). The codebook does not
// define it: it is absent, not unknown, so it is not counted as a miss.
const NoLocationGeoType = 0

// Books is a loaded set of code books. Its lookups are safe for concurrent
// use; it never changes after loading.
type Books struct {
	labels       map[Book]map[string]string // the books whose rows are a code and a label
	roots        map[string]EventRoot
	goldstein    map[string]float64
	geoCountries map[string]GeoCountry
	geoTypes     map[string]GeoType
	misses       *Misses
}

var (
	defaultOnce  sync.Once
	defaultBooks *Books
	defaultErr   error
)

// Default returns the code books embedded in the binary
// (resources/lookups), loaded on the first call. Their misses are the
// process's: the gdelt_lookup_metrics processor exports them.
func Default() (*Books, error) {
	defaultOnce.Do(func() {
		defaultBooks, defaultErr = Load(resources.Lookups())
		if defaultErr != nil {
			defaultErr = fmt.Errorf("loading the GDELT code books embedded from resources/lookups: %w", defaultErr)
		}
	})
	return defaultBooks, defaultErr
}

// Load reads every code book from fsys, where each has its file name (see
// Book.File), and checks it: the header, one row per code, the format of
// codes and values, and that the roots agree with the events and quad
// classes books. An error names the file, the line and the reason; every
// book's first problem is reported. The books it returns count their misses
// in their own Misses.
func Load(fsys fs.FS) (*Books, error) {
	return load(fsys)
}

// Misses returns the books' counts of unknown codes.
func (b *Books) Misses() *Misses { return b.misses }

// Len is the number of codes in a book.
func (b *Books) Len(book Book) int {
	switch book {
	case CAMEOEventRoots:
		return len(b.roots)
	case CAMEOGoldstein:
		return len(b.goldstein)
	case FIPSCountries:
		return len(b.geoCountries)
	case GeoTypes:
		return len(b.geoTypes)
	}
	return len(b.labels[book])
}

// Codes returns a book's codes (in no particular order): for tests and
// tools that list a book.
func (b *Books) Codes(book Book) []string {
	var out []string
	switch book {
	case CAMEOEventRoots:
		for c := range b.roots {
			out = append(out, c)
		}
	case CAMEOGoldstein:
		for c := range b.goldstein {
			out = append(out, c)
		}
	case FIPSCountries:
		for c := range b.geoCountries {
			out = append(out, c)
		}
	case GeoTypes:
		for c := range b.geoTypes {
			out = append(out, c)
		}
	default:
		for c := range b.labels[book] {
			out = append(out, c)
		}
	}
	return out
}

// EventLabel is the description of a CAMEO event code of any level (the
// EventCode, EventBaseCode or EventRootCode of a row): "040" → "Consult, not
// specified below", "04" → "CONSULT".
func (b *Books) EventLabel(code string) (string, bool) { return b.label(CAMEOEvents, code) }

// EventRoot is a CAMEO root code's label and quad class: "04" → CONSULT, 1,
// Verbal Cooperation. Only root codes (two digits) are in this book.
func (b *Books) EventRoot(code string) (EventRoot, bool) {
	r, ok := b.roots[code]
	b.count(CAMEOEventRoots, code, ok)
	return r, ok
}

// Goldstein is the Goldstein scale GDELT gives a CAMEO event code: the
// value it writes in GoldsteinScale for an event of that code ("042" → 1.9).
func (b *Books) Goldstein(code string) (float64, bool) {
	g, ok := b.goldstein[code]
	b.count(CAMEOGoldstein, code, ok)
	return g, ok
}

// ActorCountry is the name of a CAMEO actor country code
// (Actor1CountryCode, Actor2CountryCode): "USA" → "United States". Some are
// regions ("AFR" Africa) or places ("WSB" West Bank).
func (b *Books) ActorCountry(code string) (string, bool) { return b.label(CAMEOCountries, code) }

// ActorType is the label of a CAMEO actor type code (Actor1Type1Code …):
// "GOV" → "Government".
func (b *Books) ActorType(code string) (string, bool) { return b.label(CAMEOActorTypes, code) }

// KnownGroup is the label of a CAMEO known group code (Actor1KnownGroupCode):
// "UNO" → "United Nations".
func (b *Books) KnownGroup(code string) (string, bool) { return b.label(CAMEOKnownGroups, code) }

// Ethnic is the label of a CAMEO ethnic code (Actor1EthnicCode); case
// matters, as in GDELT's file ("kur" and "KUR" are two rows).
func (b *Books) Ethnic(code string) (string, bool) { return b.label(CAMEOEthnic, code) }

// Religion is the label of a CAMEO religion code (Actor1Religion1Code …):
// "MOS" → "Muslim".
func (b *Books) Religion(code string) (string, bool) { return b.label(CAMEOReligion, code) }

// GeoCountry is the country of a FIPS 10-4 geo country code
// (Actor1Geo_CountryCode, Actor2Geo_CountryCode, ActionGeo_CountryCode, the
// GKG locations' country codes): "UK" → GBR, GB, United Kingdom.
func (b *Books) GeoCountry(fips string) (GeoCountry, bool) {
	c, ok := b.geoCountries[fips]
	b.count(FIPSCountries, fips, ok)
	return c, ok
}

// QuadClassLabel is the label of a quad class (QuadClass): 1 → "Verbal
// Cooperation".
func (b *Books) QuadClassLabel(n int) (string, bool) {
	return b.label(QuadClasses, strconv.Itoa(n))
}

// GeoType is a geo type's label and description (Actor1Geo_Type,
// ActionGeo_Type …): 4 → WORLDCITY. NoLocationGeoType (0) is not found and
// not counted as a miss.
func (b *Books) GeoType(n int) (GeoType, bool) {
	code := strconv.Itoa(n)
	t, ok := b.geoTypes[code]
	if n == NoLocationGeoType {
		code = ""
	}
	b.count(GeoTypes, code, ok)
	return t, ok
}

func (b *Books) label(book Book, code string) (string, bool) {
	l, ok := b.labels[book][code]
	b.count(book, code, ok)
	return l, ok
}

// count records a miss of a code that is not empty.
func (b *Books) count(book Book, code string, found bool) {
	if !found && code != "" {
		b.misses.record(book, code)
	}
}

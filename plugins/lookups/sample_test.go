package lookups

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
	"github.com/gdeltflow/gdeltflow/resources"
)

// The real files live in shared/testdata/gdelt beside the repository
// (GDELT_TESTDATA overrides). Without them the tests skip, except under CI.
const (
	realExportFile = "20191024143000.export.CSV"
	realGKGZip     = "20230702153000.gkg.csv.zip"
)

func realDataDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("GDELT_TESTDATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "testdata", "gdelt")
	}
	if _, err := os.Stat(filepath.Join(dir, realExportFile)); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("real GDELT test data missing under CI: %v", err)
		}
		tb.Skipf("real GDELT test data not found (%v); set GDELT_TESTDATA", err)
	}
	return dir
}

// unresolvedInSamples are the codes of the real samples that no code book
// has, and why: resources/lookups/README.md lists them. Anything else that
// does not resolve fails the test, and so does a code listed here that
// resolves or no longer occurs.
var unresolvedInSamples = map[Book]map[string]string{
	FIPSCountries: {
		"OS": "GDELT's 'Oceans (general)' (ADM1 OS00: North Sea, Black Sea): a body of water, in no country list, no ISO code",
		"RB": "GKG only: GDELT's geocoder gives the place 'Serb' the country code RB; the book has Serbia as RI",
	},
}

// TestRealExportCodesResolve looks up every code of every row of the real
// export file in its book: event, base and root codes, the Goldstein scale
// of the event code, actor countries, types, known groups, ethnic and
// religion codes, geo countries, geo types and quad classes. It also checks
// the books against what GDELT wrote in the same rows: the GoldsteinScale of
// each event is its code's value in the Goldstein book, and its QuadClass
// the quad class of its root.
func TestRealExportCodesResolve(t *testing.T) {
	dir := realDataDir(t)
	data, err := os.ReadFile(filepath.Join(dir, realExportFile))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load(resources.Lookups())
	if err != nil {
		t.Fatal(err)
	}
	col := func(name string) int {
		i := schema.Events.Index(name)
		if i < 0 {
			t.Fatalf("no export column %s", name)
		}
		return i
	}
	type check struct {
		book    Book
		columns []string
		look    func(code string) bool
	}
	str := func(fn func(string) bool) func(string) bool { return fn }
	num := func(fn func(int) bool) func(string) bool {
		return func(code string) bool {
			n, err := strconv.Atoi(code)
			if err != nil {
				t.Fatalf("not an integer code: %q", code)
			}
			return fn(n)
		}
	}
	checks := []check{
		{CAMEOEvents, []string{"event_code", "event_base_code", "event_root_code"}, str(func(c string) bool { _, ok := b.EventLabel(c); return ok })},
		{CAMEOEventRoots, []string{"event_root_code"}, str(func(c string) bool { _, ok := b.EventRoot(c); return ok })},
		{CAMEOGoldstein, []string{"event_code", "event_base_code"}, str(func(c string) bool { _, ok := b.Goldstein(c); return ok })},
		{CAMEOCountries, []string{"actor1_country_code", "actor2_country_code"}, str(func(c string) bool { _, ok := b.ActorCountry(c); return ok })},
		{CAMEOActorTypes, []string{"actor1_type1_code", "actor1_type2_code", "actor1_type3_code", "actor2_type1_code", "actor2_type2_code", "actor2_type3_code"},
			str(func(c string) bool { _, ok := b.ActorType(c); return ok })},
		{CAMEOKnownGroups, []string{"actor1_known_group_code", "actor2_known_group_code"}, str(func(c string) bool { _, ok := b.KnownGroup(c); return ok })},
		{CAMEOEthnic, []string{"actor1_ethnic_code", "actor2_ethnic_code"}, str(func(c string) bool { _, ok := b.Ethnic(c); return ok })},
		{CAMEOReligion, []string{"actor1_religion1_code", "actor1_religion2_code", "actor2_religion1_code", "actor2_religion2_code"},
			str(func(c string) bool { _, ok := b.Religion(c); return ok })},
		{FIPSCountries, []string{"actor1_geo_country_code", "actor2_geo_country_code", "action_geo_country_code"},
			str(func(c string) bool { _, ok := b.GeoCountry(c); return ok })},
		{GeoTypes, []string{"actor1_geo_type", "actor2_geo_type", "action_geo_type"}, num(func(n int) bool { _, ok := b.GeoType(n); return ok })},
		{QuadClasses, []string{"quad_class"}, num(func(n int) bool { _, ok := b.QuadClassLabel(n); return ok })},
	}

	lookups := map[Book]int{}
	distinct := map[Book]map[string]bool{}
	noLocation := 0
	rows := 0
	for line, raw := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		f := strings.Split(raw, "\t")
		if len(f) != len(schema.Events.Columns) {
			t.Fatalf("%s line %d: %d fields", realExportFile, line+1, len(f))
		}
		rows++
		for _, c := range checks {
			for _, name := range c.columns {
				code := f[col(name)]
				if code == "" {
					continue
				}
				if c.book == GeoTypes && code == "0" {
					noLocation++ // GDELT's "no location": absent, not unknown
				}
				c.look(code)
				lookups[c.book]++
				if distinct[c.book] == nil {
					distinct[c.book] = map[string]bool{}
				}
				distinct[c.book][code] = true
			}
		}

		// the books against GDELT's own values in the same row
		code, root := f[col("event_code")], f[col("event_root_code")]
		if g, ok := b.Goldstein(code); !ok || g != mustFloat(t, f[col("goldstein_scale")]) {
			t.Errorf("%s line %d: event code %s, GoldsteinScale %s, the book says %v", realExportFile, line+1, code, f[col("goldstein_scale")], g)
		}
		if r, _ := b.EventRoot(root); strconv.Itoa(r.QuadClass) != f[col("quad_class")] {
			t.Errorf("%s line %d: root %s, QuadClass %s, the book says %d", realExportFile, line+1, root, f[col("quad_class")], r.QuadClass)
		}
		if !strings.HasPrefix(code, root) {
			t.Errorf("%s line %d: event code %s is not under root %s", realExportFile, line+1, code, root)
		}
	}
	if rows != 2111 {
		t.Errorf("%d rows, want 2111", rows)
	}
	for _, c := range checks {
		t.Logf("%-18s %5d lookups, %3d distinct codes, unknown: %v", c.book, lookups[c.book], len(distinct[c.book]), b.Misses().Unknown(c.book))
	}
	t.Logf("geo type 0 (no location, absent): %d values", noLocation)
	if noLocation == 0 {
		t.Error("no geo type 0 in the sample: the absent case went untested")
	}
	// every book was exercised by the sample
	for _, c := range checks {
		if lookups[c.book] == 0 {
			t.Errorf("%s: no code of the sample was looked up", c.book)
		}
	}
	checkUnresolved(t, b, map[Book][]string{FIPSCountries: {"OS"}})
}

// TestRealGKGLocationsResolve looks up the country code (FIPS) and type of
// every location of the real GKG file (V1 and V2 locations).
func TestRealGKGLocationsResolve(t *testing.T) {
	dir := realDataDir(t)
	zr, err := zip.OpenReader(filepath.Join(dir, realGKGZip))
	if err != nil {
		t.Skipf("GKG sample: %v", err)
	}
	defer zr.Close()
	if len(zr.File) != 1 {
		t.Fatalf("%d entries in %s", len(zr.File), realGKGZip)
	}
	rc, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load(resources.Lookups())
	if err != nil {
		t.Fatal(err)
	}
	locations := 0
	for line, raw := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		f := strings.Split(string(raw), "\t")
		if len(f) != len(schema.GKG.Columns) {
			t.Fatalf("%s line %d: %d fields", realGKGZip, line+1, len(f))
		}
		for _, name := range []string{"locations", "v2_locations"} {
			for _, loc := range strings.Split(f[schema.GKG.Index(name)], ";") {
				if loc == "" {
					continue
				}
				p := strings.Split(loc, "#") // type#full name#country code#…
				if len(p) < 3 {
					t.Fatalf("%s line %d: location %q", realGKGZip, line+1, loc)
				}
				n, err := strconv.Atoi(p[0])
				if err != nil {
					t.Fatalf("%s line %d: location type %q", realGKGZip, line+1, p[0])
				}
				b.GeoType(n)
				b.GeoCountry(p[2])
				locations++
			}
		}
	}
	t.Logf("%d locations; unknown FIPS codes: %v, geo types: %v", locations, b.Misses().Unknown(FIPSCountries), b.Misses().Unknown(GeoTypes))
	if locations < 1000 {
		t.Errorf("only %d locations read: the column lookup is wrong", locations)
	}
	checkUnresolved(t, b, map[Book][]string{FIPSCountries: {"OS", "RB"}})
}

// checkUnresolved wants exactly the codes listed as missing in each book,
// each one documented in unresolvedInSamples.
func checkUnresolved(t *testing.T, b *Books, want map[Book][]string) {
	t.Helper()
	for _, book := range AllBooks() {
		var got []string
		for c := range b.Misses().Unknown(book) {
			got = append(got, c)
		}
		slices.Sort(got)
		if !slices.Equal(got, want[book]) {
			t.Errorf("%s: unresolved codes %v, want %v", book, got, want[book])
		}
		for _, c := range got {
			why, ok := unresolvedInSamples[book][c]
			if !ok {
				t.Errorf("%s: code %q does not resolve and is not documented", book, c)
				continue
			}
			t.Logf("unresolved, documented: %s %q ×%d: %s", book, c, b.Misses().Unknown(book)[c], why)
		}
	}
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return v
}

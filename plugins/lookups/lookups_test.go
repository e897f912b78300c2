package lookups

import (
	"errors"
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gdeltflow/gdeltflow/resources"
)

// embeddedCopy is the embedded books as a MapFS, with files replaced or
// appended to, for feeding the loader broken books.
func embeddedCopy(t *testing.T, edit func(m fstest.MapFS)) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	src := resources.Lookups()
	for _, b := range AllBooks() {
		data, err := fs.ReadFile(src, b.File())
		if err != nil {
			t.Fatal(err)
		}
		m[b.File()] = &fstest.MapFile{Data: data}
	}
	if edit != nil {
		edit(m)
	}
	return m
}

func appendTo(m fstest.MapFS, file, text string) {
	m[file] = &fstest.MapFile{Data: append(append([]byte{}, m[file].Data...), text...)}
}

func replaceIn(t *testing.T, m fstest.MapFS, file, old, new string) {
	t.Helper()
	s := string(m[file].Data)
	if strings.Count(s, old) != 1 {
		t.Fatalf("%s: %q occurs %d times, want once", file, old, strings.Count(s, old))
	}
	m[file] = &fstest.MapFile{Data: []byte(strings.Replace(s, old, new, 1))}
}

func lineCount(m fstest.MapFS, file string) int {
	return strings.Count(string(m[file].Data), "\n")
}

// lineOf is the number of the first line of a file that starts with prefix.
func lineOf(t *testing.T, m fstest.MapFS, file, prefix string) int {
	t.Helper()
	for i, l := range strings.Split(string(m[file].Data), "\n") {
		if strings.HasPrefix(l, prefix) {
			return i + 1
		}
	}
	t.Fatalf("%s: no line starts with %q", file, prefix)
	return 0
}

// TestEmbeddedBooks loads the books the binary carries: every book, with
// the rows the README lists, and codes as strings.
func TestEmbeddedBooks(t *testing.T) {
	b, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	want := map[Book]int{
		CAMEOEvents: 310, CAMEOEventRoots: 20, CAMEOGoldstein: 311, CAMEOCountries: 262, CAMEOActorTypes: 39,
		CAMEOKnownGroups: 115, CAMEOEthnic: 641, CAMEOReligion: 31, FIPSCountries: 249, QuadClasses: 4, GeoTypes: 5,
	}
	for _, book := range AllBooks() {
		if got := b.Len(book); got != want[book] {
			t.Errorf("%s (%s): %d codes, want %d", book, book.File(), got, want[book])
		}
		if len(b.Codes(book)) != want[book] {
			t.Errorf("%s: Codes gives %d codes", book, len(b.Codes(book)))
		}
	}

	// codes stay strings: "010" and "10" are two codes, "1" is none
	for code, label := range map[string]string{
		"01": "MAKE PUBLIC STATEMENT", "010": "Make statement, not specified below", "10": "DEMAND",
		"0211": "Appeal for economic cooperation", "044": `Meet at a "third" location`,
	} {
		if got, ok := b.EventLabel(code); !ok || got != label {
			t.Errorf("EventLabel(%q) = %q, %v; want %q", code, got, ok, label)
		}
	}
	if _, ok := b.EventLabel("1"); ok {
		t.Error(`EventLabel("1") found: a code lost its leading zero`)
	}
	if r, ok := b.EventRoot("09"); !ok || r != (EventRoot{"09", "INVESTIGATE", 2, "Material Cooperation"}) {
		t.Errorf("EventRoot(09) = %+v, %v: GDELT puts INVESTIGATE in Material Cooperation", r, ok)
	}
	if r, ok := b.EventRoot("14"); !ok || r.QuadClass != 3 || r.Label != "PROTEST" {
		t.Errorf("EventRoot(14) = %+v, %v", r, ok)
	}
	if g, ok := b.Goldstein("042"); !ok || g != 1.9 {
		t.Errorf("Goldstein(042) = %v, %v; GDELT writes 1.9", g, ok)
	}
	if g, ok := b.Goldstein("0874"); !ok || g != 10 {
		t.Errorf("Goldstein(0874) = %v, %v", g, ok)
	}
	if c, ok := b.GeoCountry("UK"); !ok || c != (GeoCountry{"UK", "GBR", "GB", "United Kingdom", "Europe"}) {
		t.Errorf("GeoCountry(UK) = %+v, %v", c, ok)
	}
	if n, ok := b.ActorCountry("SSD"); !ok || n != "South Sudan" {
		t.Errorf("ActorCountry(SSD) = %q, %v", n, ok)
	}
	// actor countries are CAMEO codes and geo countries FIPS codes: two books
	if _, ok := b.ActorCountry("UK"); ok {
		t.Error("ActorCountry(UK) found: UK is a FIPS code")
	}
	if _, ok := b.GeoCountry("USA"); ok {
		t.Error("GeoCountry(USA) found: USA is a CAMEO code")
	}
	// case matters in the ethnic book, as in GDELT's file
	if l, ok := b.Ethnic("kur"); !ok || l != "Kurd" {
		t.Errorf("Ethnic(kur) = %q, %v", l, ok)
	}
	if l, ok := b.Ethnic("KUR"); !ok || l != "Kurd" {
		t.Errorf("Ethnic(KUR) = %q, %v", l, ok)
	}
	if _, ok := b.Ethnic("Kur"); ok {
		t.Error("Ethnic(Kur) found")
	}
	for n, want := range map[int]string{1: "Verbal Cooperation", 2: "Material Cooperation", 3: "Verbal Conflict", 4: "Material Conflict"} {
		if l, ok := b.QuadClassLabel(n); !ok || l != want {
			t.Errorf("QuadClassLabel(%d) = %q, %v", n, l, ok)
		}
	}
	if g, ok := b.GeoType(4); !ok || g != (GeoType{4, "WORLDCITY", "match was to a city or landmark outside the US"}) {
		t.Errorf("GeoType(4) = %+v, %v", g, ok)
	}
	if l, ok := b.ActorType("GOV"); !ok || l != "Government" {
		t.Errorf("ActorType(GOV) = %q, %v", l, ok)
	}
	if l, ok := b.KnownGroup("NAT"); !ok || l != "North Atlantic Treaty Organization (NATO)" {
		t.Errorf("KnownGroup(NAT) = %q, %v", l, ok)
	}
	if l, ok := b.Religion("MOS"); !ok || l != "Muslim" {
		t.Errorf("Religion(MOS) = %q, %v", l, ok)
	}

	// every event code has a Goldstein scale
	before := b.Misses().Counts()[CAMEOGoldstein]
	for _, code := range b.Codes(CAMEOEvents) {
		if _, ok := b.Goldstein(code); !ok {
			t.Errorf("event code %s has no Goldstein scale", code)
		}
	}
	if n := b.Misses().Counts()[CAMEOGoldstein] - before; n != 0 {
		t.Errorf("%d Goldstein misses over the event codes", n)
	}
}

// TestMissesCounted: an unknown code is not found and counted in its book,
// never an error or a panic; an empty code and geo type 0 are absent, not
// unknown.
func TestMissesCounted(t *testing.T) {
	b, err := Load(resources.Lookups())
	if err != nil {
		t.Fatal(err)
	}
	lookups := []struct {
		book Book
		find func() bool
	}{
		{CAMEOEvents, func() bool { _, ok := b.EventLabel("999"); return ok }},
		{CAMEOEventRoots, func() bool { _, ok := b.EventRoot("040"); return ok }},
		{CAMEOGoldstein, func() bool { _, ok := b.Goldstein("1834"); return ok }},
		{CAMEOCountries, func() bool { _, ok := b.ActorCountry("XXX"); return ok }},
		{CAMEOActorTypes, func() bool { _, ok := b.ActorType("PTY"); return ok }},
		{CAMEOKnownGroups, func() bool { _, ok := b.KnownGroup("HAM"); return ok }},
		{CAMEOEthnic, func() bool { _, ok := b.Ethnic("Kur"); return ok }},
		{CAMEOReligion, func() bool { _, ok := b.Religion("MOSSHI"); return ok }},
		{FIPSCountries, func() bool { _, ok := b.GeoCountry("OS"); return ok }},
		{QuadClasses, func() bool { _, ok := b.QuadClassLabel(5); return ok }},
		{GeoTypes, func() bool { _, ok := b.GeoType(9); return ok }},
	}
	for i, l := range lookups {
		for range i + 1 {
			if l.find() {
				t.Errorf("%s: an unknown code was found", l.book)
			}
		}
	}
	counts := b.Misses().Counts()
	for i, l := range lookups {
		if counts[l.book] != uint64(i+1) {
			t.Errorf("%s: %d misses, want %d", l.book, counts[l.book], i+1)
		}
	}
	if got := b.Misses().Unknown(FIPSCountries); len(got) != 1 || got["OS"] != 9 {
		t.Errorf("unknown FIPS codes %v, want OS 9 times", got)
	}

	// absent, not unknown: nothing counted
	before := b.Misses().Counts()
	if _, ok := b.EventLabel(""); ok {
		t.Error("an empty code was found")
	}
	if _, ok := b.GeoCountry(""); ok {
		t.Error("an empty code was found")
	}
	if _, ok := b.GeoType(NoLocationGeoType); ok {
		t.Error("geo type 0 was found")
	}
	after := b.Misses().Counts()
	for book, n := range after {
		if n != before[book] {
			t.Errorf("%s: an absent code was counted (%d → %d)", book, before[book], n)
		}
	}
	if d, _ := Default(); d.Misses() == b.Misses() {
		t.Error("Load shares the process's misses")
	}
}

// TestDuplicateCodeRefused: one row per code by construction. A second
// row for a code fails the load, naming the file, the line and the code,
// in the TSV books and in the JSON one (where encoding/json alone would keep
// the last value silently).
func TestDuplicateCodeRefused(t *testing.T) {
	cases := []struct {
		name, file, code string
		edit             func(m fstest.MapFS) (line, first int)
	}{
		{"a CAMEO country twice", "cameo_countries.tsv", "USA", func(m fstest.MapFS) (int, int) {
			appendTo(m, "cameo_countries.tsv", "USA\tUnited States of America\n")
			return lineCount(m, "cameo_countries.tsv"), lineOf(t, m, "cameo_countries.tsv", "USA\t")
		}},
		{"an event code twice", "CAMEO.eventcodes.txt", "040", func(m fstest.MapFS) (int, int) {
			appendTo(m, "CAMEO.eventcodes.txt", "040\tConsult\n")
			return lineCount(m, "CAMEO.eventcodes.txt"), lineOf(t, m, "CAMEO.eventcodes.txt", "040\t")
		}},
		{"an ethnic code twice (same case)", "cameo_ethnic.tsv", "kur", func(m fstest.MapFS) (int, int) {
			appendTo(m, "cameo_ethnic.tsv", "kur\tKurdish\n")
			return lineCount(m, "cameo_ethnic.tsv"), lineOf(t, m, "cameo_ethnic.tsv", "kur\t")
		}},
		{"a Goldstein code twice", "CAMEO.goldsteinscale.txt", "042", func(m fstest.MapFS) (int, int) {
			appendTo(m, "CAMEO.goldsteinscale.txt", "042\t3.0\n")
			return lineCount(m, "CAMEO.goldsteinscale.txt"), lineOf(t, m, "CAMEO.goldsteinscale.txt", "042\t")
		}},
		{"a FIPS key twice in the JSON object", "fips_countries.json", "UK", func(m fstest.MapFS) (int, int) {
			// appended as the object's last key, after the original
			data := strings.TrimRight(string(m["fips_countries.json"].Data), "\n")
			data = strings.TrimSuffix(data, "}") + ",\n  \"UK\": {\"iso3\": \"GBR\", \"iso2\": \"GB\", \"name\": \"Britain\", \"full_name\": null, \"region\": \"Europe\"}\n}\n"
			m["fips_countries.json"] = &fstest.MapFile{Data: []byte(data)}
			return lineCount(m, "fips_countries.json") - 1, lineOf(t, m, "fips_countries.json", "  \"UK\"")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var line, first int
			m := embeddedCopy(t, func(m fstest.MapFS) { line, first = c.edit(m) })
			_, err := Load(m)
			if err == nil {
				t.Fatal("a duplicate code loaded")
			}
			t.Log(err)
			var be *BookError
			if !errors.As(err, &be) {
				t.Fatalf("error %v is not a *BookError", err)
			}
			if be.File != c.file || be.Line != line || be.Code != c.code {
				t.Errorf("error names %s line %d code %q, want %s line %d code %q", be.File, be.Line, be.Code, c.file, line, c.code)
			}
			msg := err.Error()
			for _, want := range []string{c.file, "line ", "duplicate code \"" + c.code + "\""} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
			if !strings.Contains(msg, "first on line "+strconv.Itoa(first)) {
				t.Errorf("error %q does not name the first row, line %d", msg, first)
			}
		})
	}
}

// TestBadBooksRefused: a book that is not what its readers assume fails the
// load with its file, line and reason; a problem in two books names both.
func TestBadBooksRefused(t *testing.T) {
	cases := []struct {
		name string
		edit func(m fstest.MapFS)
		want []string // in the error
	}{
		{"a wrong header", func(m fstest.MapFS) {
			replaceIn(t, m, "cameo_religion.tsv", "code\tlabel\n", "code\tname\n")
		}, []string{"cameo_religion.tsv, line 1: header"}},
		{"a missing field", func(m fstest.MapFS) { appendTo(m, "cameo_actor_types.tsv", "ZZZ\n") },
			[]string{"cameo_actor_types.tsv, line 41: 1 fields, want 2"}},
		{"an empty label", func(m fstest.MapFS) { appendTo(m, "cameo_actor_types.tsv", "ZZZ\t\n") },
			[]string{"cameo_actor_types.tsv, line 41: empty label"}},
		{"a padded label", func(m fstest.MapFS) { appendTo(m, "cameo_known_groups.tsv", "ZZZ\tZed \n") },
			[]string{"cameo_known_groups.tsv, line 117:", "leading or trailing spaces"}},
		{"a code that lost its leading zero", func(m fstest.MapFS) { appendTo(m, "CAMEO.eventcodes.txt", "4\tCONSULT\n") },
			[]string{"CAMEO.eventcodes.txt, line 312:", `code "4" is not a CAMEO event code`}},
		{"a lower-case country", func(m fstest.MapFS) { appendTo(m, "cameo_countries.tsv", "usa\tUS\n") },
			[]string{"cameo_countries.tsv, line 264:", `code "usa"`}},
		{"a blank line", func(m fstest.MapFS) { appendTo(m, "quad_classes.tsv", "\n4\tMaterial Conflict\n") },
			[]string{"quad_classes.tsv, line 6: empty line"}},
		{"invalid UTF-8", func(m fstest.MapFS) { appendTo(m, "cameo_countries.tsv", "ZZZ\tR\xe9union\n") },
			[]string{"cameo_countries.tsv, line 264: invalid UTF-8"}},
		{"a Goldstein scale out of range", func(m fstest.MapFS) {
			replaceIn(t, m, "CAMEO.goldsteinscale.txt", "\n042\t1.9\n", "\n042\t19\n")
		}, []string{"CAMEO.goldsteinscale.txt, line 73:", "code 042: Goldstein scale \"19\""}},
		{"a root whose label disagrees with the event codes", func(m fstest.MapFS) {
			replaceIn(t, m, "cameo_event_roots.tsv", "04\tCONSULT\t", "04\tConsult\t")
		}, []string{"cameo_event_roots.tsv, line 5: root 04: label \"Consult\", but CAMEO.eventcodes.txt says \"CONSULT\""}},
		{"a root in the wrong quad class label", func(m fstest.MapFS) {
			replaceIn(t, m, "cameo_event_roots.tsv", "14\tPROTEST\t3\tVerbal Conflict", "14\tPROTEST\t3\tMaterial Conflict")
		}, []string{"cameo_event_roots.tsv, line 15: root 14: quad_class_label \"Material Conflict\""}},
		{"a FIPS row with a bad ISO-3", func(m fstest.MapFS) {
			replaceIn(t, m, "fips_countries.json", `"iso3": "GBR"`, `"iso3": "GB"`)
		}, []string{"fips_countries.json, line ", `code UK: iso3 "GB"`}},
		{"a FIPS row with an unknown field", func(m fstest.MapFS) {
			replaceIn(t, m, "fips_countries.json", `"iso3": "GBR"`, `"iso_3": "GBR"`)
		}, []string{"fips_countries.json, line ", `code UK: json: unknown field "iso_3"`}},
		{"broken JSON", func(m fstest.MapFS) {
			replaceIn(t, m, "fips_countries.json", "\"region\": \"Europe\"\n  },\n  \"UP\"", "\"region\": \"Europe\"\n  \n  \"UP\"")
		}, []string{"fips_countries.json, line ", "invalid JSON"}},
		{"a missing book", func(m fstest.MapFS) { delete(m, "geo_types.tsv") },
			[]string{"code book geo_types.tsv: reading:"}},
		{"two broken books", func(m fstest.MapFS) {
			appendTo(m, "cameo_religion.tsv", "MOS\tIslam\n")
			appendTo(m, "geo_types.tsv", "5\tWORLDSTATE\tagain\n")
		}, []string{"cameo_religion.tsv, line 33: duplicate code \"MOS\"", "geo_types.tsv, line 7: duplicate code \"5\""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(embeddedCopy(t, c.edit))
			if err == nil {
				t.Fatal("loaded")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
	// the unedited copy loads: the failures above are the edits'
	if _, err := Load(embeddedCopy(t, nil)); err != nil {
		t.Fatal(err)
	}
	// a CRLF copy of a book is the same book
	crlf := embeddedCopy(t, func(m fstest.MapFS) {
		m["cameo_religion.tsv"] = &fstest.MapFile{Data: []byte(strings.ReplaceAll(string(m["cameo_religion.tsv"].Data), "\n", "\r\n"))}
	})
	b, err := Load(crlf)
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := b.Religion("MOS"); !ok || l != "Muslim" {
		t.Errorf("CRLF book: Religion(MOS) = %q, %v", l, ok)
	}
}

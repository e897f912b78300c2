package gdeltgen

import (
	"encoding/json"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gdeltflow/gdeltflow/resources"
)

// TestVocabularies reads every table from the embedded resources: a duplicate key, a bad header or value in
// any of them fails here (and would fail every Generate). The folder holds exactly the tables the generator
// reads, and the row counts are those the README lists.
func TestVocabularies(t *testing.T) {
	v, err := loadVocab()
	if err != nil {
		t.Fatal(err)
	}
	files, err := fs.Glob(resources.FS, vocabDir+"/*.tsv")
	if err != nil {
		t.Fatal(err)
	}
	var read []string
	for _, tab := range vocabTables {
		read = append(read, vocabDir+"/"+tab.file)
		if _, err := readVocabTable(resources.FS, tab); err != nil {
			t.Fatal(err)
		}
		if tab.key[0] != tab.columns[0] {
			t.Errorf("%s: the key does not start with the first column", tab.file)
		}
	}
	slices.Sort(read)
	if !slices.Equal(files, read) {
		t.Errorf("resources/%s holds %v; the generator reads %v", vocabDir, files, read)
	}
	for _, c := range []struct {
		name string
		n    int
		want int
	}{
		{"event codes", len(v.codes), 296}, {"actors", len(v.actors), 150}, {"places", len(v.geo), 260},
		{"themes", len(v.themes), 520}, {"count types", len(v.countTypes), 25}, {"news domains", len(v.domains), 240},
		{"translation languages", len(v.translations), 10}, {"GCAM keys", len(v.gcam), 2292 + 40},
		{"first names", len(v.firstNames), 60}, {"quote words", len(v.quoteWords), 166},
	} {
		if c.n != c.want {
			t.Errorf("%s: %d, want %d", c.name, c.n, c.want)
		}
	}
	// GCAM keys are unique once drawn too (the dictionaries' key numbers are a permutation)
	seen := make(map[string]bool, len(v.gcam))
	for _, k := range v.gcam {
		if seen[k.name] {
			t.Fatalf("GCAM key %s twice", k.name)
		}
		seen[k.name] = true
	}
}

// vocabCopy is the embedded folder as a MapFS, with file name's content replaced by edit's result.
func vocabCopy(t *testing.T, name string, edit func(string) string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(resources.FS, vocabDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(resources.FS, p)
		if err != nil {
			return err
		}
		if path.Base(p) == name {
			b = []byte(edit(string(b)))
		}
		m[p] = &fstest.MapFile{Data: b}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestVocabularyErrors: a broken table is refused with its file, line and reason.
func TestVocabularyErrors(t *testing.T) {
	lines := func(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }
	join := func(ls []string) string { return strings.Join(ls, "\n") + "\n" }
	cases := []struct {
		name, file string
		edit       func(string) string
		want       string
	}{
		{"duplicate actor", "actors.tsv", func(s string) string {
			ls := lines(s)
			return join(append(ls, ls[3]))
		}, `gdeltgen/actors.tsv line 152: duplicate key (code, name) "GBR | UNITED KINGDOM", first on line 4`},
		{"duplicate theme, another weight", "themes.tsv", func(s string) string {
			return s + "TAX_FNCACT\t3\n"
		}, `gdeltgen/themes.tsv line 522: duplicate key (theme) "TAX_FNCACT", first on line 2`},
		{"duplicate word in one list", "words.tsv", func(s string) string {
			return s + "noun\tcourt\n"
		}, `gdeltgen/words.tsv line 493: duplicate key (list, word) "noun | court", first on line 3`},
		{"duplicate place", "places.tsv", func(s string) string {
			ls := lines(s)
			f := strings.Split(ls[1], "\t")
			f[8] = "7" // another weight is still the same place
			return join(append(ls, strings.Join(f, "\t")))
		}, `gdeltgen/places.tsv line 262: duplicate key`},
		{"header", "count_types.tsv", func(s string) string {
			return strings.Replace(s, "count_type\tweight", "type\tweight", 1)
		}, `gdeltgen/count_types.tsv line 1: header "type\tweight", want "count_type\tweight"`},
		{"field count", "news_domains.tsv", func(s string) string {
			return strings.Replace(s, "reuters.com\n", "reuters.com\textra\n", 1)
		}, `gdeltgen/news_domains.tsv line 5: 2 fields, want 1 (domain)`},
		{"weight", "event_codes.tsv", func(s string) string {
			return strings.Replace(s, "\t0.0\t641\n", "\t0.0\t0\n", 1)
		}, `gdeltgen/event_codes.tsv line 2, column weight: "0" is not a positive integer`},
		{"goldstein", "event_codes.tsv", func(s string) string {
			return strings.Replace(s, "\t-0.1\t9\n", "\t-11\t9\n", 1)
		}, `gdeltgen/event_codes.tsv line 3, column goldstein: "-11" is not a number from -10 to 10`},
		{"event code", "event_codes.tsv", func(s string) string {
			return strings.Replace(s, "011\t", "01\t", 1)
		}, `gdeltgen/event_codes.tsv line 3, column code: "01" is not a CAMEO event code (3 or 4 digits)`},
		{"place type", "places.tsv", func(s string) string {
			return strings.Replace(s, "\n1\tIndia\t", "\n9\tIndia\t", 1)
		}, `gdeltgen/places.tsv line 3, column type: "9" is not a GDELT geo type (1-5)`},
		{"unknown kind", "names.tsv", func(s string) string {
			return strings.Replace(s, "first_name\tJames\n", "nickname\tJames\n", 1)
		}, `gdeltgen/names.tsv line 2, column kind: unknown kind "nickname"`},
		{"empty list", "non_web_sources.tsv", func(s string) string {
			var keep []string
			for _, l := range lines(s) {
				if !strings.HasPrefix(l, "core_journal\t") {
					keep = append(keep, l)
				}
			}
			return join(keep)
		}, `gdeltgen/non_web_sources.tsv: no rows of kind "core_journal"`},
		{"GCAM count", "gcam_dictionaries.tsv", func(s string) string {
			return strings.Replace(s, "c1\t0\t3\t", "c1\t0\t-3\t", 1)
		}, `gdeltgen/gcam_dictionaries.tsv line 2, column keys_d1: "-3" is not a count (an integer from 0)`},
		{"no final newline", "gcam_values.tsv", func(s string) string {
			return strings.TrimSuffix(s, "\n")
		}, `gdeltgen/gcam_values.tsv line 41: the file does not end with a newline`},
		{"CRLF", "themes.tsv", func(s string) string {
			return strings.ReplaceAll(s, "\n", "\r\n")
		}, `gdeltgen/themes.tsv line 1: header "theme\tweight\r"`},
	}
	for _, c := range cases {
		_, err := readVocab(vocabCopy(t, c.file, c.edit))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}
	// a missing table
	m := vocabCopy(t, "", nil)
	delete(m, vocabDir+"/themes.tsv")
	if _, err := readVocab(m); err == nil || !strings.Contains(err.Error(), "gdeltgen/themes.tsv") {
		t.Errorf("missing table: error %v", err)
	}
}

// lookupsDir is the GDELT code books in shared/testdata beside the repository (GDELT_TESTDATA overrides the
// gdelt folder). Without them the test skips, except under CI.
func lookupsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("GDELT_TESTDATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "..", "shared", "testdata", "gdelt")
	}
	dir = filepath.Join(dir, "lookups")
	if _, err := os.Stat(filepath.Join(dir, "cameo_event_roots.tsv")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("GDELT code books missing under CI: %v", err)
		}
		t.Skipf("GDELT code books not found (%v); set GDELT_TESTDATA", err)
	}
	return dir
}

// codeBook reads a lookup TSV (header code, label, ...) into code → row.
func codeBook(t *testing.T, dir, name string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]string{}
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")[1:] {
		f := strings.Split(l, "\t")
		m[f[0]] = f
	}
	return m
}

// TestVocabularyCodeBooks checks the generator's CAMEO and FIPS codes against the GDELT code books (the files
// issue 12 ships under resources/lookups/): every event code with its label and Goldstein score, GDELT's quad
// class of every root, every actor's country, known group, ethnic, religion and type codes, every place's
// FIPS country code.
func TestVocabularyCodeBooks(t *testing.T) {
	dir := lookupsDir(t)
	v, err := loadVocab()
	if err != nil {
		t.Fatal(err)
	}

	var goldstein map[string]struct {
		Value       float64 `json:"value"`
		Description string  `json:"description"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "cameo_goldstein.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &goldstein); err != nil {
		t.Fatal(err)
	}
	codes, err := readVocabTable(resources.FS, eventCodesTable)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range codes.rows {
		c := v.codes[i]
		g, ok := goldstein[c.code]
		if !ok {
			t.Errorf("event code %s is not in cameo_goldstein.json", c.code)
			continue
		}
		if g.Value != c.gold || strings.TrimSpace(g.Description) != codes.str(r, "label") {
			t.Errorf("event code %s: %v %q, code book %v %q", c.code, c.gold, codes.str(r, "label"), g.Value, g.Description)
		}
	}
	roots := codeBook(t, dir, "cameo_event_roots.tsv")
	if len(roots) != 20 {
		t.Fatalf("%d event roots in the code book", len(roots))
	}
	for root, f := range roots {
		if want, _ := strconv.Atoi(f[2]); quadClass(root) != want {
			t.Errorf("root %s: quad class %d, code book %d", root, quadClass(root), want)
		}
	}

	books := map[string]map[string][]string{
		"country_code":     codeBook(t, dir, "cameo_countries.tsv"),
		"known_group_code": codeBook(t, dir, "cameo_known_groups.tsv"),
		"ethnic_code":      codeBook(t, dir, "cameo_ethnic.tsv"),
		"religion1_code":   codeBook(t, dir, "cameo_religion.tsv"),
		"religion2_code":   codeBook(t, dir, "cameo_religion.tsv"),
		"type1_code":       codeBook(t, dir, "cameo_actor_types.tsv"),
		"type2_code":       codeBook(t, dir, "cameo_actor_types.tsv"),
		"type3_code":       codeBook(t, dir, "cameo_actor_types.tsv"),
	}
	actors, err := readVocabTable(resources.FS, actorsTable)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range actors.rows {
		for _, col := range []string{"country_code", "known_group_code", "ethnic_code", "religion1_code",
			"religion2_code", "type1_code", "type2_code", "type3_code"} {
			c := actors.str(r, col)
			if c == "" {
				continue
			}
			if _, ok := books[col][c]; !ok {
				t.Errorf("actors.tsv line %d: %s %q is not in the code book", r.line, col, c)
			}
		}
	}

	var fips map[string]struct {
		Name string `json:"name"`
	}
	b, err = os.ReadFile(filepath.Join(dir, "fips_countries.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &fips); err != nil {
		t.Fatal(err)
	}
	places, err := readVocabTable(resources.FS, placesTable)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range places.rows {
		cc := places.str(r, "country_code")
		if _, ok := fips[cc]; !ok {
			t.Errorf("places.tsv line %d: country %q is not a FIPS 10-4 code", r.line, cc)
		}
		if adm1 := places.str(r, "adm1_code"); !strings.HasPrefix(adm1, cc) {
			t.Errorf("places.tsv line %d: ADM1 %q is not in country %s", r.line, adm1, cc)
		}
	}
}

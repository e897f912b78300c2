package lookups

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// BookError is a problem in a code book file: which file, which line (0 when
// it is the whole file) and why. Code is the row's code when there is one.
type BookError struct {
	File   string
	Line   int
	Code   string
	Reason string
}

func (e *BookError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("code book %s: %s", e.File, e.Reason)
	}
	return fmt.Sprintf("code book %s, line %d: %s", e.File, e.Line, e.Reason)
}

// bookDef says how a book's file looks.
type bookDef struct {
	file   string
	header []string       // TSV books: the header line's fields
	code   *regexp.Regexp // what a code looks like
	what   string         // the code's form, for errors
}

var (
	cameoEventCode = regexp.MustCompile(`^[0-9]{2,4}$`)
	upper3         = regexp.MustCompile(`^[A-Z]{3}$`)
	upper2         = regexp.MustCompile(`^[A-Z]{2}$`)
)

var bookDefs = map[Book]bookDef{
	CAMEOEvents:      {"CAMEO.eventcodes.txt", []string{"CAMEOEVENTCODE", "EVENTDESCRIPTION"}, cameoEventCode, "CAMEO event code (2 to 4 digits)"},
	CAMEOEventRoots:  {"cameo_event_roots.tsv", []string{"code", "label", "quad_class", "quad_class_label"}, regexp.MustCompile(`^[0-9]{2}$`), "CAMEO root code (2 digits)"},
	CAMEOGoldstein:   {"CAMEO.goldsteinscale.txt", []string{"CAMEOEVENTCODE", "GOLDSTEINSCALE"}, cameoEventCode, "CAMEO event code (2 to 4 digits)"},
	CAMEOCountries:   {"cameo_countries.tsv", []string{"code", "label"}, upper3, "CAMEO country code (3 capital letters)"},
	CAMEOActorTypes:  {"cameo_actor_types.tsv", []string{"code", "label"}, upper3, "CAMEO type code (3 capital letters)"},
	CAMEOKnownGroups: {"cameo_known_groups.tsv", []string{"code", "label"}, upper3, "CAMEO known group code (3 capital letters)"},
	CAMEOEthnic:      {"cameo_ethnic.tsv", []string{"code", "label"}, regexp.MustCompile(`^[A-Za-z]{3}$`), "CAMEO ethnic code (3 letters)"},
	CAMEOReligion:    {"cameo_religion.tsv", []string{"code", "label"}, upper3, "CAMEO religion code (3 capital letters)"},
	FIPSCountries:    {"fips_countries.json", nil, upper2, "FIPS 10-4 country code (2 capital letters)"},
	QuadClasses:      {"quad_classes.tsv", []string{"code", "label"}, regexp.MustCompile(`^[1-4]$`), "quad class (1 to 4)"},
	GeoTypes:         {"geo_types.tsv", []string{"code", "label", "description"}, regexp.MustCompile(`^[0-9]$`), "geo type (one digit)"},
}

// row is a checked TSV row.
type row struct {
	line   int
	fields []string
}

func load(fsys fs.FS) (*Books, error) {
	b := &Books{labels: map[Book]map[string]string{}, misses: newMisses()}
	var errs []error
	for _, book := range []Book{CAMEOEvents, CAMEOCountries, CAMEOActorTypes, CAMEOKnownGroups, CAMEOEthnic, CAMEOReligion, QuadClasses} {
		rows, err := readTSV(fsys, bookDefs[book])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		m := make(map[string]string, len(rows))
		for _, r := range rows {
			m[r.fields[0]] = r.fields[1]
		}
		b.labels[book] = m
	}
	if err := b.loadGoldstein(fsys); err != nil {
		errs = append(errs, err)
	}
	if err := b.loadGeoTypes(fsys); err != nil {
		errs = append(errs, err)
	}
	if err := b.loadGeoCountries(fsys); err != nil {
		errs = append(errs, err)
	}
	if err := b.loadRoots(fsys); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return b, nil
}

// loadRoots reads the roots and checks them against the events and quad
// classes books: a root's label is its row in CAMEO.eventcodes.txt, and its
// quad class label the quad class's, so that two books never disagree.
func (b *Books) loadRoots(fsys fs.FS) error {
	def := bookDefs[CAMEOEventRoots]
	rows, err := readTSV(fsys, def)
	if err != nil {
		return err
	}
	b.roots = make(map[string]EventRoot, len(rows))
	for _, r := range rows {
		code, label, qc, qcLabel := r.fields[0], r.fields[1], r.fields[2], r.fields[3]
		bad := func(format string, a ...any) error {
			return &BookError{File: def.file, Line: r.line, Code: code, Reason: fmt.Sprintf("root %s: ", code) + fmt.Sprintf(format, a...)}
		}
		n, err := strconv.Atoi(qc)
		if err != nil || !bookDefs[QuadClasses].code.MatchString(qc) {
			return bad("quad_class %q is not a quad class (1 to 4)", qc)
		}
		if events := b.labels[CAMEOEvents]; events != nil {
			if want, ok := events[code]; !ok {
				return bad("not in %s", bookDefs[CAMEOEvents].file)
			} else if want != label {
				return bad("label %q, but %s says %q", label, bookDefs[CAMEOEvents].file, want)
			}
		}
		if quads := b.labels[QuadClasses]; quads != nil {
			if want := quads[qc]; want != qcLabel {
				return bad("quad_class_label %q, but %s says %q for %s", qcLabel, bookDefs[QuadClasses].file, want, qc)
			}
		}
		b.roots[code] = EventRoot{Code: code, Label: label, QuadClass: n, QuadClassLabel: qcLabel}
	}
	return nil
}

func (b *Books) loadGoldstein(fsys fs.FS) error {
	def := bookDefs[CAMEOGoldstein]
	rows, err := readTSV(fsys, def)
	if err != nil {
		return err
	}
	b.goldstein = make(map[string]float64, len(rows))
	for _, r := range rows {
		v, err := strconv.ParseFloat(r.fields[1], 64)
		if err != nil || math.IsNaN(v) || v < -10 || v > 10 {
			return &BookError{File: def.file, Line: r.line, Code: r.fields[0],
				Reason: fmt.Sprintf("code %s: Goldstein scale %q is not a number from -10 to 10", r.fields[0], r.fields[1])}
		}
		b.goldstein[r.fields[0]] = v
	}
	return nil
}

func (b *Books) loadGeoTypes(fsys fs.FS) error {
	rows, err := readTSV(fsys, bookDefs[GeoTypes])
	if err != nil {
		return err
	}
	b.geoTypes = make(map[string]GeoType, len(rows))
	for _, r := range rows {
		n, _ := strconv.Atoi(r.fields[0]) // one digit, checked by readTSV
		b.geoTypes[r.fields[0]] = GeoType{Code: n, Label: r.fields[1], Description: r.fields[2]}
	}
	return nil
}

// readTSV reads a book with a header line and tab-separated fields, none of
// them empty or padded, and refuses a second row for a code.
func readTSV(fsys fs.FS, def bookDef) ([]row, error) {
	data, err := fs.ReadFile(fsys, def.file)
	if err != nil {
		return nil, &BookError{File: def.file, Reason: fmt.Sprintf("reading: %v", err)}
	}
	text := strings.TrimSuffix(string(data), "\n")
	if text == "" {
		return nil, &BookError{File: def.file, Reason: "empty file"}
	}
	var rows []row
	first := map[string]int{}
	for i, l := range strings.Split(text, "\n") {
		n := i + 1
		// a CR before LF is a Windows copy of the same text, not a different label
		l = strings.TrimSuffix(l, "\r")
		bad := func(code, format string, a ...any) error {
			return &BookError{File: def.file, Line: n, Code: code, Reason: fmt.Sprintf(format, a...)}
		}
		if !utf8.ValidString(l) {
			return nil, bad("", "invalid UTF-8")
		}
		f := strings.Split(l, "\t")
		if i == 0 {
			if strings.Join(f, "\t") != strings.Join(def.header, "\t") {
				return nil, bad("", "header %q, want %q", strings.Join(f, "\\t"), strings.Join(def.header, "\\t"))
			}
			continue
		}
		if l == "" {
			return nil, bad("", "empty line")
		}
		if len(f) != len(def.header) {
			return nil, bad(f[0], "%d fields, want %d (%s)", len(f), len(def.header), strings.Join(def.header, ", "))
		}
		for j, v := range f {
			if v == "" {
				return nil, bad(f[0], "empty %s", def.header[j])
			}
			if strings.TrimSpace(v) != v {
				return nil, bad(f[0], "%s %q has leading or trailing spaces", def.header[j], v)
			}
		}
		code := f[0]
		if !def.code.MatchString(code) {
			return nil, bad(code, "code %q is not a %s", code, def.what)
		}
		if prev, dup := first[code]; dup {
			return nil, bad(code, "duplicate code %q (first on line %d): a book has one row per code", code, prev)
		}
		first[code] = n
		rows = append(rows, row{line: n, fields: f})
	}
	if len(rows) == 0 {
		return nil, &BookError{File: def.file, Reason: "no rows after the header"}
	}
	return rows, nil
}

// fipsRow is a value of fips_countries.json.
type fipsRow struct {
	ISO3     string  `json:"iso3"`
	ISO2     string  `json:"iso2"`
	Name     string  `json:"name"`
	FullName *string `json:"full_name"` // always null in the source; accepted, not used
	Region   string  `json:"region"`
}

// loadGeoCountries reads fips_countries.json, an object keyed by FIPS code.
// It reads the object key by key because encoding/json keeps the last of two
// equal keys silently, and a book has one row per code.
func (b *Books) loadGeoCountries(fsys fs.FS) error {
	def := bookDefs[FIPSCountries]
	data, err := fs.ReadFile(fsys, def.file)
	if err != nil {
		return &BookError{File: def.file, Reason: fmt.Sprintf("reading: %v", err)}
	}
	lineAt := func(off int64) int { return 1 + bytes.Count(data[:off], []byte{'\n'}) }
	dec := json.NewDecoder(bytes.NewReader(data))
	syntax := func(err error) error {
		var se *json.SyntaxError
		line := lineAt(dec.InputOffset())
		if errors.As(err, &se) {
			line = lineAt(se.Offset)
		}
		return &BookError{File: def.file, Line: line, Reason: fmt.Sprintf("invalid JSON: %v", err)}
	}
	if t, err := dec.Token(); err != nil {
		return syntax(err)
	} else if t != json.Delim('{') {
		return &BookError{File: def.file, Line: 1, Reason: "want a JSON object keyed by FIPS code"}
	}
	b.geoCountries = map[string]GeoCountry{}
	first := map[string]int{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return syntax(err)
		}
		code, _ := t.(string) // inside an object, a token here is always a key
		n := lineAt(dec.InputOffset())
		bad := func(format string, a ...any) error {
			return &BookError{File: def.file, Line: n, Code: code, Reason: fmt.Sprintf(format, a...)}
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return syntax(err)
		}
		if !def.code.MatchString(code) {
			return bad("code %q is not a %s", code, def.what)
		}
		if prev, dup := first[code]; dup {
			return bad("duplicate code %q (first on line %d): a book has one row per code", code, prev)
		}
		first[code] = n
		var r fipsRow
		strict := json.NewDecoder(bytes.NewReader(raw))
		strict.DisallowUnknownFields()
		if err := strict.Decode(&r); err != nil {
			return bad("code %s: %v", code, err)
		}
		switch {
		case !upper3.MatchString(r.ISO3):
			return bad("code %s: iso3 %q is not 3 capital letters", code, r.ISO3)
		case !upper2.MatchString(r.ISO2):
			return bad("code %s: iso2 %q is not 2 capital letters", code, r.ISO2)
		case r.Name == "" || strings.TrimSpace(r.Name) != r.Name:
			return bad("code %s: name %q is empty or padded", code, r.Name)
		}
		b.geoCountries[code] = GeoCountry{FIPS: code, ISO3: r.ISO3, ISO2: r.ISO2, Name: r.Name, Region: r.Region}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return syntax(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return &BookError{File: def.file, Line: lineAt(dec.InputOffset()), Reason: "data after the JSON object"}
	}
	if len(b.geoCountries) == 0 {
		return &BookError{File: def.file, Reason: "no rows"}
	}
	return nil
}

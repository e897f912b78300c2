package lookups

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/redpanda-data/benthos/v4/public/bloblang"
	"github.com/redpanda-data/benthos/v4/public/service"
)

var methodBooks = map[string]Book{
	"cameo_event_label": CAMEOEvents, "cameo_root": CAMEOEventRoots, "cameo_goldstein": CAMEOGoldstein,
	"cameo_country": CAMEOCountries, "cameo_actor_type": CAMEOActorTypes, "cameo_known_group": CAMEOKnownGroups,
	"cameo_ethnic": CAMEOEthnic, "cameo_religion": CAMEOReligion, "fips_country": FIPSCountries,
	"fips_to_iso3": FIPSCountries, "quad_class_label": QuadClasses, "geo_type": GeoTypes,
}

// TestBloblangMethodsDocumented: every method is in the global environment
// (what `benthos list bloblang-methods` and `benthos blobl` use) with a
// description naming its metric, and its documented examples give what they
// say, run as the engine runs a mapping on a message.
func TestBloblangMethodsDocumented(t *testing.T) {
	views := map[string]*bloblang.MethodView{}
	bloblang.GlobalEnvironment().WalkMethods(func(name string, v *bloblang.MethodView) { views[name] = v })
	if len(lookupMethods) != len(methodBooks) {
		t.Fatalf("%d methods registered by the package, %d tested", len(lookupMethods), len(methodBooks))
	}
	examples := 0
	for name, book := range methodBooks {
		v, ok := views[name]
		if !ok {
			t.Errorf("method %s is not registered", name)
			continue
		}
		d := v.TemplateData()
		if !strings.Contains(d.Description, "`gdelt_lookup_misses`") || !strings.Contains(d.Description, "`"+string(book)+"`") {
			t.Errorf("%s: the description does not name the metric and its codebook %s: %q", name, book, d.Description)
		}
		// the examples are the method's and its category's: the same ones, listed twice
		var exs []bloblang.TemplateExampleData
		seen := map[string]bool{}
		for _, c := range d.Categories {
			if c.Category != "GDELT" {
				t.Errorf("%s: category %q", name, c.Category)
			}
			for _, ex := range append(d.Examples, c.Examples...) {
				if !seen[ex.Mapping] {
					seen[ex.Mapping] = true
					exs = append(exs, ex)
				}
			}
		}
		if len(exs) == 0 {
			t.Errorf("%s: no example", name)
		}
		for _, ex := range exs {
			exe, err := bloblang.Parse(ex.Mapping)
			if err != nil {
				t.Errorf("%s: example %q: %v", name, ex.Mapping, err)
				continue
			}
			for _, io := range ex.Results {
				out, err := service.NewMessage([]byte(io[0])).BloblangQuery(exe)
				if err != nil {
					t.Errorf("%s: example %q on %s: %v", name, ex.Mapping, io[0], err)
					continue
				}
				got, err := out.AsBytes()
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != io[1] {
					t.Errorf("%s: example %q on %s gives %s, documented %s", name, ex.Mapping, io[0], got, io[1])
				}
				examples++
			}
		}
	}
	t.Logf("%d documented examples checked", examples)
}

// TestBloblangMethods calls every method on a known code, an unknown code,
// null, an empty string and a value of the wrong type: the value, null (and
// one miss of its book), null, null, an error.
func TestBloblangMethods(t *testing.T) {
	d, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	type tc struct {
		method string
		in     any
		want   any
		miss   bool // counted as a miss of the method's book
		err    string
	}
	cases := []tc{
		{"cameo_event_label", "010", "Make statement, not specified below", false, ""},
		{"cameo_event_label", "10", "DEMAND", false, ""},
		{"cameo_event_label", "1", nil, true, ""},
		{"cameo_event_label", 10, nil, false, "expected a code as a string"},
		{"cameo_event_label", []byte("0211"), "Appeal for economic cooperation", false, ""},
		{"cameo_root", "19", map[string]any{"code": "19", "label": "FIGHT", "quad_class": int64(4), "quad_class_label": "Material Conflict"}, false, ""},
		{"cameo_root", "190", nil, true, ""},
		{"cameo_goldstein", "1823", -10.0, false, ""},
		{"cameo_goldstein", "0", nil, true, ""},
		{"cameo_country", "WSB", "West Bank", false, ""},
		{"cameo_country", "GB", nil, true, ""},
		{"cameo_actor_type", "MIL", "Military", false, ""},
		{"cameo_actor_type", "mil", nil, true, ""},
		{"cameo_known_group", "HMS", "Hamas", false, ""},
		{"cameo_known_group", "HAM", nil, true, ""},
		{"cameo_ethnic", "ARB", "Arab", false, ""},
		{"cameo_ethnic", "xyz", nil, true, ""},
		{"cameo_religion", "CHR", "Christianity", false, ""},
		{"cameo_religion", "REL", nil, true, ""},
		{"fips_country", "GM", map[string]any{"fips": "GM", "iso3": "DEU", "iso2": "DE", "name": "Germany", "region": "Europe"}, false, ""},
		{"fips_country", "OS", nil, true, ""},
		{"fips_to_iso3", "RI", "SRB", false, ""},
		{"fips_to_iso3", "RB", nil, true, ""},
		{"fips_to_iso3", true, nil, false, "expected a code as a string"},
		{"quad_class_label", int64(2), "Material Cooperation", false, ""},
		{"quad_class_label", 3.0, "Verbal Conflict", false, ""},
		{"quad_class_label", "4", "Material Conflict", false, ""},
		{"quad_class_label", json.Number("1"), "Verbal Cooperation", false, ""},
		{"quad_class_label", int64(0), nil, true, ""},
		{"quad_class_label", 2.5, nil, false, "expected an integer code"},
		{"quad_class_label", "two", nil, false, "expected an integer code"},
		{"geo_type", int64(1), map[string]any{"code": int64(1), "label": "COUNTRY", "description": "match was at the country level"}, false, ""},
		{"geo_type", int64(0), nil, false, ""}, // no location: absent, not a miss
		{"geo_type", int64(6), nil, true, ""},
	}
	for name := range methodBooks {
		// null and the empty string are absent: null, never a miss
		cases = append(cases, tc{name, nil, nil, false, ""}, tc{name, "", nil, false, ""})
	}
	for _, c := range cases {
		exe, err := bloblang.Parse("root = this.v." + c.method + "()")
		if err != nil {
			t.Fatal(err)
		}
		before := d.Misses().Counts()
		got, err := exe.Query(map[string]any{"v": c.in})
		after := d.Misses().Counts()
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s(%#v): error %v, want one saying %q", c.method, c.in, err, c.err)
			} else {
				t.Logf("%s(%#v): %v", c.method, c.in, err)
			}
		} else if err != nil {
			t.Errorf("%s(%#v): %v", c.method, c.in, err)
		} else if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s(%#v) = %#v, want %#v", c.method, c.in, got, c.want)
		}
		for _, book := range AllBooks() {
			want := before[book]
			if c.miss && book == methodBooks[c.method] {
				want++
			}
			if after[book] != want {
				t.Errorf("%s(%#v): %s misses %d → %d, want %d", c.method, c.in, book, before[book], after[book], want)
			}
		}
	}
}

// TestBloblangEnrichment maps a row of decoded fields, of the types
// gdelt_decode gives them (codes strings, types and classes int64), as a
// YAML author would.
func TestBloblangEnrichment(t *testing.T) {
	exe, err := bloblang.Parse(`
root.action = this.event_code.cameo_event_label()
root.root = this.event_root_code.cameo_root().label
root.quad = this.quad_class.quad_class_label()
root.goldstein = this.event_code.cameo_goldstein()
root.actor1 = this.actor1_country_code.cameo_country()
root.actor2 = this.actor2_country_code.cameo_country()
root.where = this.action_geo_country_code.fips_country().name
root.where_iso3 = this.action_geo_country_code.fips_to_iso3()
root.precision = this.action_geo_type.geo_type().label
root.actor1_geo = this.actor1_geo_country_code.fips_country().name
`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := exe.Query(map[string]any{
		"event_code": "043", "event_root_code": "04", "quad_class": int64(1), "actor1_country_code": "RUS",
		"actor2_country_code": "AFR", "action_geo_country_code": "OS", "action_geo_type": int64(4),
		"actor1_geo_country_code": nil,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"action": "Host a visit", "root": "CONSULT", "quad": "Verbal Cooperation", "goldstein": 2.8,
		"actor1": "Russia", "actor2": "Africa", "where": nil, "where_iso3": nil, "precision": "WORLDCITY", "actor1_geo": nil,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("enriched\n%#v\nwant\n%#v", got, want)
	}
}

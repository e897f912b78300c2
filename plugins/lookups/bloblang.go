package lookups

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/redpanda-data/benthos/v4/public/bloblang"
)

// The Bloblang methods: one per code book (two for FIPS countries), called
// on the code, e.g. this.event_code.cameo_event_label(). Each returns null
// for a null or empty code, and for a code its book lacks (counted in
// gdelt_lookup_misses with the book as codebook); a value of the wrong type
// (a number where a code string is due) is an error, since "040" read as 40
// has lost what it meant.
var lookupMethods = []struct {
	name, book, description string
	lookup                  func(b *Books, v any) (any, error)
	examples                []methodExample
}{
	{
		name: "cameo_event_label", book: string(CAMEOEvents),
		description: "The description of a CAMEO event code of any level (an EventCode, EventBaseCode or EventRootCode), " +
			"as GDELT's CAMEO.eventcodes.txt gives it: root codes in capitals (`04` → `CONSULT`), finer codes in sentence case.",
		lookup: byString(func(b *Books, c string) (any, bool) { return b.EventLabel(c) }),
		examples: []methodExample{
			{"Label an event", `root.action = this.event_code.cameo_event_label()`, [][2]string{
				{`{"event_code":"0211"}`, `{"action":"Appeal for economic cooperation"}`},
				{`{"event_code":"04"}`, `{"action":"CONSULT"}`},
				{`{"event_code":"099"}`, `{"action":null}`},
				{`{"event_code":null}`, `{"action":null}`},
			}},
		},
	},
	{
		name: "cameo_root", book: string(CAMEOEventRoots),
		description: "A CAMEO root code (`01` … `20`, the EventRootCode) as an object: `code`, `label`, `quad_class` " +
			"(the QuadClass GDELT writes for events of that root: 01–05 → 1, 06–09 → 2, 10–14 → 3, 15–20 → 4) and " +
			"`quad_class_label`. Only root codes resolve: call it on `event_root_code`, not `event_code`.",
		lookup: byString(func(b *Books, c string) (any, bool) {
			r, ok := b.EventRoot(c)
			return map[string]any{"code": r.Code, "label": r.Label, "quad_class": int64(r.QuadClass), "quad_class_label": r.QuadClassLabel}, ok
		}),
		examples: []methodExample{
			{"A root with its quad class", `root.root = this.event_root_code.cameo_root()`, [][2]string{
				{`{"event_root_code":"14"}`, `{"root":{"code":"14","label":"PROTEST","quad_class":3,"quad_class_label":"Verbal Conflict"}}`},
				{`{"event_root_code":"140"}`, `{"root":null}`},
			}},
		},
	},
	{
		name: "cameo_goldstein", book: string(CAMEOGoldstein),
		description: "The Goldstein scale (-10 conflict … +10 cooperation) of a CAMEO event code, from GDELT's " +
			"CAMEO.goldsteinscale.txt: the value GDELT writes in GoldsteinScale for events of that code.",
		lookup: byString(func(b *Books, c string) (any, bool) { return b.Goldstein(c) }),
		examples: []methodExample{
			{"The Goldstein scale of an event code", `root.goldstein = this.event_code.cameo_goldstein()`, [][2]string{
				{`{"event_code":"042"}`, `{"goldstein":1.9}`},
				{`{"event_code":"190"}`, `{"goldstein":-10}`},
			}},
		},
	},
	{
		name: "cameo_country", book: string(CAMEOCountries),
		description: "The name of a CAMEO actor country code (3 letters: Actor1CountryCode, Actor2CountryCode). " +
			"Some codes are regions (`AFR` Africa) or places (`WSB` West Bank). Geo country codes are FIPS codes: use `fips_country`.",
		lookup: byString(func(b *Books, c string) (any, bool) { return b.ActorCountry(c) }),
		examples: []methodExample{
			{"Name an actor's country", `root.actor1_country = this.actor1_country_code.cameo_country()`, [][2]string{
				{`{"actor1_country_code":"USA"}`, `{"actor1_country":"United States"}`},
				{`{"actor1_country_code":"US"}`, `{"actor1_country":null}`},
			}},
		},
	},
	{
		name: "cameo_actor_type", book: string(CAMEOActorTypes),
		description: "The label of a CAMEO actor type code (Actor1Type1Code … Actor2Type3Code).",
		lookup:      byString(func(b *Books, c string) (any, bool) { return b.ActorType(c) }),
		examples: []methodExample{
			{"Label an actor type", `root.actor1_type = this.actor1_type1_code.cameo_actor_type()`, [][2]string{
				{`{"actor1_type1_code":"GOV"}`, `{"actor1_type":"Government"}`},
			}},
		},
	},
	{
		name: "cameo_known_group", book: string(CAMEOKnownGroups),
		description: "The label of a CAMEO known group code (Actor1KnownGroupCode, Actor2KnownGroupCode).",
		lookup:      byString(func(b *Books, c string) (any, bool) { return b.KnownGroup(c) }),
		examples: []methodExample{
			{"Label a known group", `root.actor1_group = this.actor1_known_group_code.cameo_known_group()`, [][2]string{
				{`{"actor1_known_group_code":"NAT"}`, `{"actor1_group":"North Atlantic Treaty Organization (NATO)"}`},
			}},
		},
	},
	{
		name: "cameo_ethnic", book: string(CAMEOEthnic),
		description: "The label of a CAMEO ethnic code (Actor1EthnicCode, Actor2EthnicCode). Case matters, as in GDELT's " +
			"file: most codes are lower case, and `ARB`, `KUR`, `PAL` are rows of their own.",
		lookup: byString(func(b *Books, c string) (any, bool) { return b.Ethnic(c) }),
		examples: []methodExample{
			{"Label an ethnic code", `root.actor1_ethnic = this.actor1_ethnic_code.cameo_ethnic()`, [][2]string{
				{`{"actor1_ethnic_code":"kur"}`, `{"actor1_ethnic":"Kurd"}`},
			}},
		},
	},
	{
		name: "cameo_religion", book: string(CAMEOReligion),
		description: "The label of a CAMEO religion code (Actor1Religion1Code … Actor2Religion2Code).",
		lookup:      byString(func(b *Books, c string) (any, bool) { return b.Religion(c) }),
		examples: []methodExample{
			{"Label a religion code", `root.actor1_religion = this.actor1_religion1_code.cameo_religion()`, [][2]string{
				{`{"actor1_religion1_code":"MOS"}`, `{"actor1_religion":"Muslim"}`},
			}},
		},
	},
	{
		name: "fips_country", book: string(FIPSCountries),
		description: "A FIPS 10-4 geo country code (2 letters: Actor1Geo_CountryCode, Actor2Geo_CountryCode, " +
			"ActionGeo_CountryCode, the GKG locations' country codes) as an object: `fips`, `iso3`, `iso2` (ISO 3166-1), " +
			"`name` (English) and `region`. Actor country codes are CAMEO codes: use `cameo_country`.",
		lookup: byString(func(b *Books, c string) (any, bool) {
			g, ok := b.GeoCountry(c)
			return map[string]any{"fips": g.FIPS, "iso3": g.ISO3, "iso2": g.ISO2, "name": g.Name, "region": g.Region}, ok
		}),
		examples: []methodExample{
			{"Where an event happened", `root.action_country = this.action_geo_country_code.fips_country()`, [][2]string{
				{`{"action_geo_country_code":"UK"}`, `{"action_country":{"fips":"UK","iso2":"GB","iso3":"GBR","name":"United Kingdom","region":"Europe"}}`},
				{`{"action_geo_country_code":"OS"}`, `{"action_country":null}`},
			}},
		},
	},
	{
		name: "fips_to_iso3", book: string(FIPSCountries),
		description: "The ISO 3166-1 alpha-3 code of a FIPS 10-4 geo country code: `fips_country().iso3` in one step " +
			"(and one miss, not an error, for an unknown code).",
		lookup: byString(func(b *Books, c string) (any, bool) {
			g, ok := b.GeoCountry(c)
			return g.ISO3, ok
		}),
		examples: []methodExample{
			{"FIPS to ISO-3", `root.country_iso3 = this.action_geo_country_code.fips_to_iso3()`, [][2]string{
				{`{"action_geo_country_code":"GM"}`, `{"country_iso3":"DEU"}`},
			}},
		},
	},
	{
		name: "quad_class_label", book: string(QuadClasses),
		description: "The label of a quad class (QuadClass, 1 … 4): Verbal Cooperation, Material Cooperation, " +
			"Verbal Conflict, Material Conflict. Takes an integer, or a string of one.",
		lookup: byInt(func(b *Books, n int) (any, bool) { return b.QuadClassLabel(n) }),
		examples: []methodExample{
			{"Label a quad class", `root.quad = this.quad_class.quad_class_label()`, [][2]string{
				{`{"quad_class":4}`, `{"quad":"Material Conflict"}`},
			}},
		},
	},
	{
		name: "geo_type", book: string(GeoTypes),
		description: "A geo type (Actor1Geo_Type, Actor2Geo_Type, ActionGeo_Type, 1 … 5) as an object: `code`, `label` " +
			"(COUNTRY, USSTATE, USCITY, WORLDCITY, WORLDSTATE) and `description`. 0, which GDELT writes when it matched " +
			"no location, gives null and is not counted as a miss. Takes an integer, or a string of one.",
		lookup: byInt(func(b *Books, n int) (any, bool) {
			t, ok := b.GeoType(n)
			return map[string]any{"code": int64(t.Code), "label": t.Label, "description": t.Description}, ok
		}),
		examples: []methodExample{
			{"How precise a location is", `root.action_geo = this.action_geo_type.geo_type()`, [][2]string{
				{`{"action_geo_type":4}`, `{"action_geo":{"code":4,"description":"match was to a city or landmark outside the US","label":"WORLDCITY"}}`},
				{`{"action_geo_type":0}`, `{"action_geo":null}`},
			}},
		},
	},
}

type methodExample struct {
	summary, mapping string
	inputOutputs     [][2]string
}

const missesNote = " Null for a null or empty value, and for a code the book lacks: that is counted in the metric " +
	"`gdelt_lookup_misses` (label `codebook`: `%s`; exported by a `gdelt_lookup_metrics` processor), never an error. " +
	"A value of the wrong type is an error."

func init() {
	for _, m := range lookupMethods {
		spec := bloblang.NewPluginSpec().
			Category("GDELT").
			Description(m.description + fmt.Sprintf(missesNote, m.book))
		for _, e := range m.examples {
			spec = spec.Example(e.summary, e.mapping, e.inputOutputs...)
		}
		name, lookup := m.name, m.lookup
		bloblang.MustRegisterMethodV2(name, spec, func(*bloblang.ParsedParams) (bloblang.Method, error) {
			// the books load when a mapping first uses a method, so that a
			// broken build fails at config parse time, not on a row
			b, err := Default()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			return func(v any) (any, error) {
				out, err := lookup(b, v)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", name, err)
				}
				return out, nil
			}, nil
		})
	}
}

// byString makes a lookup of a string-coded book.
func byString(fn func(b *Books, code string) (any, bool)) func(b *Books, v any) (any, error) {
	return func(b *Books, v any) (any, error) {
		var code string
		switch c := v.(type) {
		case nil:
			return nil, nil
		case string:
			code = c
		case []byte:
			code = string(c)
		default:
			return nil, fmt.Errorf("expected a code as a string, got %s %s: CAMEO and FIPS codes are strings (\"010\" and \"10\" are two codes), read code columns as strings", kindOf(v), bloblang.ValueToString(v))
		}
		if code == "" {
			return nil, nil
		}
		out, ok := fn(b, code)
		if !ok {
			return nil, nil
		}
		return out, nil
	}
}

// byInt makes a lookup of an integer-coded book (quad classes, geo types).
func byInt(fn func(b *Books, n int) (any, bool)) func(b *Books, v any) (any, error) {
	return func(b *Books, v any) (any, error) {
		var n int64
		switch c := v.(type) {
		case nil:
			return nil, nil
		case string:
			if c == "" {
				return nil, nil
			}
			i, err := strconv.ParseInt(c, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("expected an integer code, got string %q", c)
			}
			n = i
		case float64:
			if c != math.Trunc(c) || math.Abs(c) > 1<<53 {
				return nil, fmt.Errorf("expected an integer code, got %v", c)
			}
			n = int64(c)
		case json.Number:
			i, err := c.Int64()
			if err != nil {
				return nil, fmt.Errorf("expected an integer code, got %v", c)
			}
			n = i
		default:
			i, err := bloblang.ValueAsInt64(v)
			if err != nil {
				return nil, fmt.Errorf("expected an integer code, got %s %s", kindOf(v), bloblang.ValueToString(v))
			}
			n = i
		}
		out, ok := fn(b, int(n))
		if !ok {
			return nil, nil
		}
		return out, nil
	}
}

// kindOf names a Bloblang value's type as a mapping author knows it.
func kindOf(v any) string {
	switch v.(type) {
	case string, []byte:
		return "string"
	case bool:
		return "bool"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64, json.Number:
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

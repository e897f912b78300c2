package gdelt

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
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

func splitLines(data []byte) [][]byte {
	lines := bytes.Split(data, []byte{'\n'})
	if n := len(lines); n > 0 && len(lines[n-1]) == 0 {
		lines = lines[:n-1]
	}
	return lines
}

var (
	exportOnce  sync.Once
	exportLines [][]byte
	gkgOnce     sync.Once
	gkgLines    [][]byte
	gkgErr      error
)

func realExportLines(tb testing.TB) [][]byte {
	tb.Helper()
	dir := realDataDir(tb)
	exportOnce.Do(func() {
		data, err := os.ReadFile(filepath.Join(dir, realExportFile))
		if err != nil {
			tb.Fatal(err)
		}
		exportLines = splitLines(data)
	})
	return exportLines
}

func realGKGLines(tb testing.TB) [][]byte {
	tb.Helper()
	dir := realDataDir(tb)
	gkgOnce.Do(func() {
		var data []byte
		data, gkgErr = gdeltgen.UnzipFile(filepath.Join(dir, realGKGZip))
		gkgLines = splitLines(data)
	})
	if gkgErr != nil {
		tb.Fatal(gkgErr)
	}
	return gkgLines
}

// syntheticMentionLines builds n realistic Mentions rows (16 fields): ids near
// 1.1e9, 40% later mentions of older events, -1 char offsets, tones with 14
// decimals, an occasional translation info.
func syntheticMentionLines(n int) [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	sources := []string{"timescolonist.com", "belsat.eu", "straitstimes.com", "foxbusiness.com", "asiasentinel.com", "bbc.co.uk", "lemonde.fr"}
	out := make([][]byte, n)
	var b strings.Builder
	for i := range out {
		b.Reset()
		mention := "20230702153000"
		event := mention
		if r.IntN(10) < 4 {
			event = fmt.Sprintf("202307%02d%02d%02d00", 1+r.IntN(2), r.IntN(24), 15*r.IntN(4))
		}
		src := sources[r.IntN(len(sources))]
		off := func() int {
			if r.IntN(5) == 0 {
				return -1
			}
			return r.IntN(5000)
		}
		trans := ""
		if r.IntN(20) == 0 {
			trans = "srclc:fra;eng:GT-FRA 1.0"
		}
		fmt.Fprintf(&b, "%d\t%s\t%s\t1\t%s\thttps://www.%s/news/%d-%x.html\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.14f\t%s\t",
			1100000000+r.IntN(5000000), event, mention, src, src, r.IntN(1e8), r.Uint64(),
			1+r.IntN(40), off(), off(), off(), r.IntN(2), 10*(1+r.IntN(10)), 500+r.IntN(20000),
			r.Float64()*20-10, trans)
		out[i] = []byte(b.String())
	}
	return out
}

// checkRowShape checks that a decoded flat row holds every column with a value
// of the column's type or nil.
func checkRowShape(t *testing.T, table *schema.Table, row map[string]any, nested bool) {
	t.Helper()
	want := len(table.Columns)
	if nested {
		want += len(schema.GKGExtrasColumns)
	}
	if len(row) != want {
		t.Fatalf("row has %d keys, want %d", len(row), want)
	}
	for _, c := range table.Columns {
		v, ok := row[c.Name]
		if !ok {
			t.Fatalf("column %s missing", c.Name)
		}
		if v == nil {
			continue
		}
		var good bool
		switch {
		case nested && c.Nested != nil && c.Nested.Kind == schema.List:
			_, good = v.([]any)
		case nested && c.Nested != nil && c.Nested.Kind == schema.Struct:
			_, good = v.(map[string]any)
		case c.Kind == schema.Int64:
			_, good = v.(int64)
		case c.Kind == schema.Float64:
			_, good = v.(float64)
		default:
			_, good = v.(string)
		}
		if !good {
			t.Fatalf("column %s: %T %v does not fit kind %s", c.Name, v, v, c.Kind)
		}
	}
}

func TestDecodeRealExport(t *testing.T) {
	lines := realExportLines(t)
	if len(lines) != 2111 {
		t.Fatalf("%d lines, want 2111", len(lines))
	}
	d := NewDecoder(schema.Events, false)
	rows := make([]map[string]any, len(lines))
	for i, l := range lines {
		row, err := d.Decode(l)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		checkRowShape(t, schema.Events, row, false)
		rows[i] = row
	}

	// Spot checks, read off the raw text by hand (line numbers are 1-based).
	checks := []struct {
		line int
		want map[string]any
	}{
		{1, map[string]any{
			"global_event_id": int64(881990832), "sql_date": int64(20181024), "month_year": int64(201810),
			"year": int64(2018), "fraction_date": 2018.8055, "actor1_code": nil, "actor1_name": nil,
			"actor2_code": "AUS", "actor2_name": "VICTORIA", "actor2_country_code": "AUS", "actor2_type1_code": nil,
			"is_root_event": int64(0), "event_code": "139", "event_root_code": "13", "quad_class": int64(3),
			"goldstein_scale": -7.0, "num_mentions": int64(3), "num_sources": int64(1), "num_articles": int64(3),
			"avg_tone": 2.02774813233724, "actor1_geo_type": int64(0), "actor1_geo_full_name": nil,
			"actor1_geo_lat": nil, "actor1_geo_long": nil, "actor1_geo_feature_id": nil,
			"actor2_geo_type": int64(4), "actor2_geo_full_name": "Vancouver, British Columbia, Canada",
			"actor2_geo_country_code": "CA", "actor2_geo_adm1_code": "CA02", "actor2_geo_adm2_code": "12552",
			"actor2_geo_lat": 49.25, "actor2_geo_long": -123.133, "actor2_geo_feature_id": "-575268",
			"date_added": int64(20191024143000),
			"source_url": "https://www.timescolonist.com/entertainment/jeremy-dutcher-brings-ancestors-songs-to-life-1.23985964",
		}},
		{2, map[string]any{
			"actor2_code": "IGOEUREEC", "actor2_known_group_code": "EEC", "actor2_type1_code": "IGO",
			"event_code": "040", "event_base_code": "040", "event_root_code": "04", "goldstein_scale": 1.0,
			"avg_tone": 0.63492063492064, "action_geo_lat": 53.9, "action_geo_long": 27.5667,
			"action_geo_feature_id": "-1946324",
		}},
		{32, map[string]any{
			"sql_date": int64(20190924), "fraction_date": 2019.7233, "actor1_code": "COP", "actor1_name": "PRISON",
			"actor1_type1_code": "COP", "event_code": "0841", "event_base_code": "084", "event_root_code": "08",
			"quad_class": int64(2), "goldstein_scale": 7.0, "avg_tone": -2.33144297416509,
			"actor1_geo_full_name": "Simpang Renggam, Johor, Malaysia", "actor1_geo_lat": 1.825,
			"actor1_geo_long": 103.311,
		}},
		{46, map[string]any{
			"actor1_code": "CHL", "actor2_code": "BUS", "is_root_event": int64(1), "event_code": "013",
			"goldstein_scale": 0.4, "avg_tone": -0.56818181818181, "actor1_geo_type": int64(1),
			"actor1_geo_full_name": "Chile", "actor1_geo_adm1_code": "CI", "actor1_geo_adm2_code": nil,
			"actor1_geo_lat": -30.0, "actor1_geo_long": -71.0, "actor1_geo_feature_id": "CI",
			"action_geo_lat": -30.0, "action_geo_long": -71.0,
		}},
		{2111, map[string]any{
			"global_event_id": int64(881992942), "actor1_code": "zul", "actor1_name": "ZULU",
			"actor2_code": "LBN", "actor2_name": "TYRE", "event_code": "060", "goldstein_scale": 6.0,
			"avg_tone": 2.73224043715847, "actor1_geo_full_name": "Pretoria, Gauteng, South Africa",
			"actor1_geo_country_code": "SF", "actor1_geo_adm2_code": "77346", "actor1_geo_lat": -25.7069,
			"actor1_geo_long": 28.2294,
		}},
	}
	for _, c := range checks {
		row := rows[c.line-1]
		for k, want := range c.want {
			if got := row[k]; !reflect.DeepEqual(got, want) {
				t.Errorf("line %d, %s: got %#v, want %#v", c.line, k, got, want)
			}
		}
	}

	// Whole-file facts: event codes keep leading zeros, tones go negative.
	var zeroCodes, negTones int
	for _, row := range rows {
		if s, _ := row["event_code"].(string); strings.HasPrefix(s, "0") {
			zeroCodes++
		}
		if f, _ := row["avg_tone"].(float64); f < 0 {
			negTones++
		}
	}
	if zeroCodes == 0 || negTones != 1504 {
		t.Errorf("leading-zero event codes %d, negative tones %d (want > 0, 1504)", zeroCodes, negTones)
	}
}

func TestDecodeRealGKG(t *testing.T) {
	lines := realGKGLines(t)
	if len(lines) != 951 {
		t.Fatalf("%d lines, want 951", len(lines))
	}
	for _, nested := range []bool{false, true} {
		t.Run(fmt.Sprintf("nested=%v", nested), func(t *testing.T) {
			d := NewDecoder(schema.GKG, nested)
			var hooked sync.Map
			d.OnMalformed(func(col string, n int) {
				v, _ := hooked.LoadOrStore(col, new(int))
				*v.(*int) += n
			})
			rows := make([]map[string]any, len(lines))
			for i, l := range lines {
				row, err := d.Decode(l)
				if err != nil {
					t.Fatalf("line %d: %v", i+1, err)
				}
				checkRowShape(t, schema.GKG, row, nested)
				rows[i] = row
			}
			r := rows[0]
			for k, want := range map[string]any{
				"gkg_record_id": "20230702153000-0", "date": int64(20230702153000),
				"source_collection_identifier": int64(1), "source_common_name": "thewestmorlandgazette.co.uk",
				"sharing_image":    "https://www.thewestmorlandgazette.co.uk/resources/images/16953377/?type=og-image",
				"dates":            nil,
				"quotations":       nil,
				"translation_info": nil,
			} {
				if got := r[k]; !reflect.DeepEqual(got, want) {
					t.Errorf("row 1 %s: got %#v, want %#v", k, got, want)
				}
			}
			if !nested {
				if got := r["v2_tone"]; got != "-5.99078341013825,1.38248847926267,7.37327188940092,8.75576036866359,23.5023041474654,2.61136712749616,613" {
					t.Errorf("flat v2_tone %#v", got)
				}
				if m := d.Malformed(); len(m) != 0 {
					t.Errorf("flat decoding counted malformed blocks: %v", m)
				}
				return
			}
			checkNestedGKG(t, rows)
			wantBad := map[string]int{"locations": 1, "v2_locations": 1}
			if got := d.Malformed(); !reflect.DeepEqual(got, wantBad) {
				t.Errorf("Malformed() = %v, want %v", got, wantBad)
			}
			for col, n := range wantBad {
				if v, ok := hooked.Load(col); !ok || *v.(*int) != n {
					t.Errorf("hook count for %s: %v", col, v)
				}
			}
		})
	}
}

func checkNestedGKG(t *testing.T, rows []map[string]any) {
	t.Helper()
	r := rows[0]
	eq := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v, want %#v", what, got, want)
		}
	}
	eq("v2_tone", r["v2_tone"], map[string]any{
		"tone": -5.99078341013825, "positive_score": 1.38248847926267, "negative_score": 7.37327188940092,
		"polarity": 8.75576036866359, "activity_reference_density": 23.5023041474654,
		"self_group_reference_density": 2.61136712749616, "word_count": int64(613),
	})
	counts := r["counts"].([]any)
	eq("len(counts)", len(counts), 4)
	eq("counts[2]", counts[2], map[string]any{
		"count_type": "KILL", "count": int64(2), "object_type": nil, "location_type": int64(2),
		"location_full_name": "Kansas, United States", "location_country_code": "US",
		"location_adm1_code": "USKS", "location_lat": 38.5111, "location_long": -96.8005,
		"location_feature_id": "KS",
	})
	eq("v2_counts[3].char_offset", r["v2_counts"].([]any)[3].(map[string]any)["char_offset"], int64(1093))
	eq("v2_locations", r["v2_locations"], []any{map[string]any{
		"type": int64(2), "full_name": "Kansas, United States", "country_code": "US", "adm1_code": "USKS",
		"adm2_code": nil, "lat": 38.5111, "long": -96.8005, "feature_id": "KS", "char_offset": int64(625),
	}})
	eq("persons", r["persons"], []any{"richard worley", "brandon scott", "julio cortez", "lakell nelson"})
	eq("v2_persons[1]", r["v2_persons"].([]any)[1], map[string]any{"name": "Brandon Scott", "char_offset": int64(1321)})
	eq("v2_organizations[0]", r["v2_organizations"].([]any)[0],
		map[string]any{"name": "Baltimore Baltimore Police Department", "char_offset": int64(1221)})
	eq("v2_themes[0]", r["v2_themes"].([]any)[0], map[string]any{"theme": "LEADER", "char_offset": int64(1307)})
	eq("themes[0]", r["themes"].([]any)[0], "WOUND")
	gcam := r["gcam"].([]any)
	eq("gcam[0] (wc)", gcam[0], map[string]any{"key": "wc", "value": 613.0})
	eq("gcam[1]", gcam[1], map[string]any{"key": "c12.1", "value": 32.0})
	eq("all_names", len(r["all_names"].([]any)), 8)
	eq("all_names[7]", r["all_names"].([]any)[7], map[string]any{"name": "Brandon Scott", "char_offset": int64(1397)})
	amounts := r["amounts"].([]any)
	eq("len(amounts)", len(amounts), 10) // the trailing ';' adds no block
	eq("amounts[2]", amounts[2], map[string]any{"amount": 30000000.0, "object": "at a block party", "char_offset": int64(206)})
	eq("related_images", r["related_images"], []any{"https://content.assets.pressassociation.io/AP/2023/07/02/02e7075905b14efe80d38acbe715897f.jpg"})
	eq("social_video_embeds", r["social_video_embeds"], nil)
	eq("page_title", r["page_title"], "Hunt for suspects after shooting at street party leaves two dead")
	eq("page_precise_pub_timestamp", r["page_precise_pub_timestamp"], int64(20230702150100))
	eq("extras kept raw", r["extras"], "<PAGE_PRECISEPUBTIMESTAMP>20230702150100</PAGE_PRECISEPUBTIMESTAMP><PAGE_TITLE>Hunt for suspects after shooting at street party leaves two dead</PAGE_TITLE>")

	// Row 3: a quotation with an empty verb.
	eq("row 3 quotations", rows[2]["quotations"], []any{map[string]any{
		"offset": int64(538), "length": int64(33), "verb": nil, "quote": "I've NEVER seen scenes like that!"}})
	// Row 4: V2.1ENHANCEDDATES with '#' inside blocks.
	dates := rows[3]["dates"].([]any)
	eq("row 4 len(dates)", len(dates), 11)
	eq("row 4 dates[0]", dates[0], map[string]any{
		"resolution": int64(1), "month": int64(0), "day": int64(0), "year": int64(2004), "char_offset": int64(2054)})
	// Row 6: a numeric character reference in the title.
	eq("row 6 page_title", rows[5]["page_title"], "'We'll endeavour to bring Rag'n'Bone Man back to Inverness' – says gig promoter")
	// Row 845: one V1 and one V2 location block are malformed ("42#.5"); the rest stay.
	eq("row 845 locations", len(rows[844]["locations"].([]any)), 8)
	eq("row 845 v2_locations", len(rows[844]["v2_locations"].([]any)), 10)

	// Whole-file facts from awk over the raw file.
	var gcamBlocks, v2Themes, titles, pubTimes int
	for _, row := range rows {
		if g, ok := row["gcam"].([]any); ok {
			gcamBlocks += len(g)
		}
		if v, ok := row["v2_themes"].([]any); ok {
			v2Themes += len(v)
		}
		if row["page_title"] != nil {
			titles++
		}
		if row["page_precise_pub_timestamp"] != nil {
			pubTimes++
		}
	}
	eq("GCAM blocks in the file", gcamBlocks, 882621)
	eq("V2 themes in the file", v2Themes, 38851)
	eq("rows with a page title", titles, 951)
	eq("rows with a precise pub timestamp", pubTimes, 460)
}

// exportRow returns line 1 of the real export with field i (0-based) set to v.
func exportRowWith(t *testing.T, i int, v string) []byte {
	t.Helper()
	f := strings.Split(string(realExportLines(t)[0]), "\t")
	f[i] = v
	return []byte(strings.Join(f, "\t"))
}

func TestDecodeRejects(t *testing.T) {
	line1 := realExportLines(t)[0]
	d := NewDecoder(schema.Events, false)
	tone := schema.Events.Index("avg_tone")
	mentions := schema.Events.Index("num_mentions")
	name := schema.Events.Index("actor2_name")
	long := strings.Repeat("9", 100) + "x"
	cases := []struct {
		name, reason, column, text string
		line                       []byte
	}{
		{"empty line", ReasonFieldCount, "", "field_count: got 1 fields, want 61", nil},
		{"one field short", ReasonFieldCount, "", "field_count: got 60 fields, want 61",
			line1[:bytes.LastIndexByte(line1, '\t')]},
		{"one field more", ReasonFieldCount, "", "field_count: got 62 fields, want 61",
			append(append([]byte{}, line1...), "\textra"...)},
		{"lone CR", ReasonFieldCount, "", "field_count: got 1 fields, want 61", []byte("\r")},
		{"invalid UTF-8", ReasonInvalidUTF8, "actor2_name", "invalid_utf8: invalid UTF-8 at byte 58 (column actor2_name)",
			exportRowWith(t, name, "VIC\xffTORIA")},
		{"bad int", ReasonBadInt, "num_mentions", `bad_int: column num_mentions: not an integer: "3x"`,
			exportRowWith(t, mentions, "3x")},
		{"int overflow", ReasonBadInt, "num_mentions", `bad_int: column num_mentions: not an integer: "99999999999999999999"`,
			exportRowWith(t, mentions, "99999999999999999999")},
		{"bad float", ReasonBadFloat, "avg_tone", `bad_float: column avg_tone: not a finite number: "2.0.2"`,
			exportRowWith(t, tone, "2.0.2")},
		{"NaN", ReasonBadFloat, "avg_tone", `bad_float: column avg_tone: not a finite number: "NaN"`,
			exportRowWith(t, tone, "NaN")},
		{"float overflow", ReasonBadFloat, "avg_tone", `bad_float: column avg_tone: not a finite number: "1e999"`,
			exportRowWith(t, tone, "1e999")},
		{"long bad value is cut", ReasonBadInt, "num_mentions",
			`bad_int: column num_mentions: not an integer: "` + long[:64] + `"... (101 bytes)`,
			exportRowWith(t, mentions, long)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			row, err := d.Decode(c.line)
			if err == nil {
				t.Fatalf("decoded %v", row)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("%T %v is not a *DecodeError", err, err)
			}
			if de.Table != "export" || de.Reason != c.reason || de.Column != c.column || err.Error() != c.text {
				t.Errorf("got %+v %q, want reason %s column %q text %q", de, err.Error(), c.reason, c.column, c.text)
			}
			if r, rerr := d.DecodeRow(c.line); r != nil || rerr == nil || rerr.Error() != err.Error() {
				t.Errorf("DecodeRow: got %v %v, want Decode's error %v", r, rerr, err)
			}
		})
	}
}

func TestDecodeAccepts(t *testing.T) {
	line1 := realExportLines(t)[0]
	d := NewDecoder(schema.Events, false)
	want, err := d.Decode(line1)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("CRLF", func(t *testing.T) {
		got, err := d.Decode(append(append([]byte{}, line1...), '\r'))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("CRLF row differs: source_url %q", got["source_url"])
		}
	})
	t.Run("quotes are ordinary", func(t *testing.T) {
		got, err := d.Decode(exportRowWith(t, schema.Events.Index("actor2_name"), `"VICTORIA`))
		if err != nil || got["actor2_name"] != `"VICTORIA` {
			t.Fatalf("%v %#v", err, got["actor2_name"])
		}
	})
	t.Run("numbers", func(t *testing.T) {
		for in, want := range map[string]float64{"-4": -4, "39.828175": 39.828175, "+1.5": 1.5, "-0.0": 0,
			"1e3": 1000, ".5": 0.5, "5.": 5, "0.30000000000000004": 0.30000000000000004,
			"2.02774813233724": 2.02774813233724, "123456789012345678": 123456789012345678} {
			got, err := d.Decode(exportRowWith(t, schema.Events.Index("avg_tone"), in))
			if err != nil || got["avg_tone"] != want {
				t.Errorf("%q: %v %v, want %v", in, got["avg_tone"], err, want)
			}
		}
		for in, want := range map[string]int64{"007": 7, "-1": -1, "+3": 3, "9223372036854775807": math.MaxInt64,
			"-9223372036854775808": math.MinInt64} {
			got, err := d.Decode(exportRowWith(t, schema.Events.Index("num_mentions"), in))
			if err != nil || got["num_mentions"] != want {
				t.Errorf("%q: %v %v, want %v", in, got["num_mentions"], err, want)
			}
		}
		for _, in := range []string{"-", "+", ".", "1.2.3", "0x10", "1_000", " 1", "inf", "1e", "--1"} {
			if _, err := d.Decode(exportRowWith(t, schema.Events.Index("avg_tone"), in)); err == nil {
				t.Errorf("float %q accepted", in)
			}
		}
	})

	t.Run("GKG line over 1 MB", func(t *testing.T) {
		f := strings.Split(string(realGKGLines(t)[0]), "\t")
		gcam := schema.GKG.Index("gcam")
		var b strings.Builder
		b.WriteString(f[gcam])
		for i := 0; b.Len() < 1<<20+1000; i++ {
			fmt.Fprintf(&b, ",v%d.%d:%d.5", i%100, i, i)
		}
		f[gcam] = b.String()
		line := []byte(strings.Join(f, "\t"))
		if len(line) <= 1<<20 {
			t.Fatalf("line is %d bytes", len(line))
		}
		for _, nested := range []bool{false, true} {
			row, err := NewDecoder(schema.GKG, nested).Decode(line)
			if err != nil {
				t.Fatalf("nested=%v: %v", nested, err)
			}
			if nested {
				if n := len(row["gcam"].([]any)); n < 50000 {
					t.Errorf("only %d GCAM blocks", n)
				}
			} else if row["gcam"] != f[gcam] {
				t.Errorf("flat gcam differs")
			}
		}
	})
}

func TestDecodeMentions(t *testing.T) {
	d := NewDecoder(schema.Mentions, false)
	line := "1100000017\t20230701120000\t20230702153000\t1\tbbc.co.uk\thttps://www.bbc.co.uk/news/x-1\t3\t-1\t120\t-1\t1\t50\t4321\t-3.21428571428571\t\t"
	row, err := d.Decode([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	checkRowShape(t, schema.Mentions, row, false)
	want := map[string]any{
		"global_event_id": int64(1100000017), "event_time_date": int64(20230701120000),
		"mention_time_date": int64(20230702153000), "mention_type": int64(1), "mention_source_name": "bbc.co.uk",
		"mention_identifier": "https://www.bbc.co.uk/news/x-1", "sentence_id": int64(3),
		"actor1_char_offset": int64(-1), "actor2_char_offset": int64(120), "action_char_offset": int64(-1),
		"in_raw_text": int64(1), "confidence": int64(50), "mention_doc_len": int64(4321),
		"mention_doc_tone": -3.21428571428571, "mention_doc_translation_info": nil, "extras": nil,
	}
	if !reflect.DeepEqual(row, want) {
		t.Errorf("got %#v\nwant %#v", row, want)
	}
	if _, err := d.Decode([]byte(line + "\t")); err == nil || err.Error() != "field_count: got 17 fields, want 16" {
		t.Errorf("17 fields: %v", err)
	}
	for i, l := range syntheticMentionLines(500) {
		if _, err := d.Decode(l); err != nil {
			t.Fatalf("synthetic line %d: %v", i, err)
		}
	}
}

// TestDecodeGenerated decodes every row of generated windows (plugins/gdelt/gdeltgen,
// both streams) with zero rejects.
func TestDecodeGenerated(t *testing.T) {
	for _, translation := range []bool{false, true} {
		cfg := gdeltgen.Small(time.Date(2023, 7, 2, 15, 0, 0, 0, time.UTC), 2, 11)
		cfg.Translation = translation
		err := gdeltgen.Generate(cfg, func(w gdeltgen.Window) error {
			for _, c := range []struct {
				table  *schema.Table
				data   []byte
				nested bool
			}{
				{schema.Events, w.Export, false}, {schema.Mentions, w.Mentions, false},
				{schema.GKG, w.GKG, false}, {schema.GKG, w.GKG, true},
			} {
				d := NewDecoder(c.table, c.nested)
				lines := splitLines(c.data)
				if len(lines) == 0 {
					t.Errorf("window %s: no %s rows", gdeltgen.WindowID(w.Time), c.table.Name)
				}
				for i, l := range lines {
					row, err := d.Decode(l)
					if err != nil {
						t.Fatalf("window %s %s line %d: %v", gdeltgen.WindowID(w.Time), c.table.Name, i+1, err)
					}
					checkRowShape(t, c.table, row, c.nested)
				}
				// The generator copies the real data's one quirk: a location
				// block with one field too many, in both location columns.
				m := d.Malformed()
				if len(m) != 0 && (len(m) != 2 || m["locations"] == 0 || m["locations"] != m["v2_locations"]) {
					t.Errorf("window %s %s: malformed blocks %v", gdeltgen.WindowID(w.Time), c.table.Name, m)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestNestedGKGLenient feeds the nested parsers hand-made quirks.
func TestNestedGKGLenient(t *testing.T) {
	d := NewDecoder(schema.GKG, true)
	base := strings.Split(string(realGKGLines(t)[0]), "\t")
	decode := func(col, v string) (any, map[string]any) {
		t.Helper()
		f := append([]string{}, base...)
		f[schema.GKG.Index(col)] = v
		row, err := d.Decode([]byte(strings.Join(f, "\t")))
		if err != nil {
			t.Fatal(err)
		}
		return row[col], row
	}
	before := d.Malformed()
	cases := []struct {
		col, raw string
		want     any
		bad      int
	}{
		{"themes", "A;B;;C;", []any{"A", "B", "C"}, 0},
		{"v2_persons", "Smith, Jr.,12;Ann,7;NoOffset;Bob,x;", []any{
			map[string]any{"name": "Smith, Jr.", "char_offset": int64(12)},
			map[string]any{"name": "Ann", "char_offset": int64(7)}}, 2},
		{"amounts", "5,apples, pears and plums,40;1.5,kg,2;", []any{
			map[string]any{"amount": 5.0, "object": "apples, pears and plums", "char_offset": int64(40)},
			map[string]any{"amount": 1.5, "object": "kg", "char_offset": int64(2)}}, 0},
		{"quotations", "10|5|said|a # in a quote|and a pipe#30|4||second", []any{
			map[string]any{"offset": int64(10), "length": int64(5), "verb": "said", "quote": "a # in a quote|and a pipe"},
			map[string]any{"offset": int64(30), "length": int64(4), "verb": nil, "quote": "second"}}, 0},
		{"quotations", "x|5|said|q#30|4||ok", []any{
			map[string]any{"offset": int64(30), "length": int64(4), "verb": nil, "quote": "ok"}}, 1},
		{"gcam", "wc:10,c1.1:2,v10.1:0.25,broken,v2.1:", []any{
			map[string]any{"key": "wc", "value": 10.0}, map[string]any{"key": "c1.1", "value": 2.0},
			map[string]any{"key": "v10.1", "value": 0.25}, map[string]any{"key": "v2.1", "value": nil}}, 1},
		{"v2_tone", "1,2,3", nil, 1},
		{"v2_tone", "1,2,3,4,5,6,7.5", nil, 1}, // word count must be an integer
		{"dates", "1#0#0#2004#2054;4#7#2#2023", []any{map[string]any{
			"resolution": int64(1), "month": int64(0), "day": int64(0), "year": int64(2004), "char_offset": int64(2054)}}, 1},
		{"social_image_embeds", "https://a/1;https://b/2;", []any{"https://a/1", "https://b/2"}, 0},
		{"counts", ";;", []any{}, 0},
	}
	total := map[string]int{}
	for k, v := range before {
		total[k] = v
	}
	for _, c := range cases {
		got, _ := decode(c.col, c.raw)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %q: got %#v, want %#v", c.col, c.raw, got, c.want)
		}
		total[c.col] += c.bad
		for k, v := range total {
			if v == 0 {
				delete(total, k)
			}
		}
		if m := d.Malformed(); !reflect.DeepEqual(m, total) {
			t.Errorf("%s %q: malformed %v, want %v", c.col, c.raw, m, total)
		}
	}

	// Extras: no tags, an unclosed title, a bad timestamp.
	for _, c := range []struct {
		raw        string
		title, pub any
		bad        int
	}{
		{"<PAGE_AUTHORS>x</PAGE_AUTHORS>", nil, nil, 0},
		{"<PAGE_TITLE>AT&T &amp; more", nil, nil, 1},
		{"<PAGE_TITLE>AT&T &amp; more</PAGE_TITLE><PAGE_PRECISEPUBTIMESTAMP>2023x</PAGE_PRECISEPUBTIMESTAMP>", "AT&T & more", nil, 1},
	} {
		before := d.Malformed()["extras"]
		_, row := decode("extras", c.raw)
		if row["page_title"] != c.title || row["page_precise_pub_timestamp"] != c.pub || row["extras"] != c.raw {
			t.Errorf("extras %q: title %#v, pub %#v", c.raw, row["page_title"], row["page_precise_pub_timestamp"])
		}
		if got := d.Malformed()["extras"] - before; got != c.bad {
			t.Errorf("extras %q: %d malformed, want %d", c.raw, got, c.bad)
		}
	}
	// A rejected row counts no malformed blocks.
	before = d.Malformed()
	f := append([]string{}, base...)
	f[schema.GKG.Index("locations")] = "1#x"
	if _, err := d.Decode([]byte(strings.Join(f, "\t") + "\textra")); err == nil {
		t.Fatal("28 fields accepted")
	}
	if after := d.Malformed(); !reflect.DeepEqual(after, before) {
		t.Errorf("a rejected row changed the malformed counts: %v -> %v", before, after)
	}

	_, row := decode("extras", "")
	if v, ok := row["page_title"]; !ok || v != nil {
		t.Errorf("empty extras: page_title %#v present=%v", v, ok)
	}
}

// TestGKGExtrasNames keeps gkg.go's added keys in step with the schema.
func TestGKGExtrasNames(t *testing.T) {
	if schema.GKGExtrasColumns[0].Name != gkgExtrasColTitle || schema.GKGExtrasColumns[1].Name != gkgExtrasColPubTimestamp {
		t.Fatalf("schema.GKGExtrasColumns = %v", schema.GKGExtrasColumns)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(""), uint8(0))
	f.Add([]byte("1\t2\t3"), uint8(1))
	f.Add([]byte("a\xff\tb\r"), uint8(2))
	f.Add([]byte(syntheticMentionLines(1)[0]), uint8(1))
	for _, l := range tryRealLines() {
		f.Add(l, uint8(0))
	}
	decoders := []*Decoder{
		NewDecoder(schema.Events, false), NewDecoder(schema.Mentions, false),
		NewDecoder(schema.GKG, false), NewDecoder(schema.GKG, true),
	}
	f.Fuzz(func(t *testing.T, line []byte, which uint8) {
		d := decoders[int(which)%len(decoders)]
		row, err := d.Decode(line)
		if d.Table() == schema.GKG {
			// Nested parsing is lenient: it never changes whether a row fails.
			other := decoders[2+(int(which)+1)%2]
			if _, err2 := other.Decode(line); (err == nil) != (err2 == nil) {
				t.Fatalf("nested=%v: %v, nested=%v: %v", d.Nested(), err, other.Nested(), err2)
			}
		}
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("%T is not a *DecodeError", err)
			}
			switch de.Reason {
			case ReasonFieldCount, ReasonInvalidUTF8, ReasonBadInt, ReasonBadFloat:
			default:
				t.Fatalf("unknown reason %q", de.Reason)
			}
			return
		}
		want := len(d.Table().Columns)
		if d.Nested() {
			want += len(schema.GKGExtrasColumns)
		}
		if len(row) != want {
			t.Fatalf("%d keys, want %d", len(row), want)
		}
	})
}

// tryRealLines returns a few short real lines as fuzz seeds, or nil.
func tryRealLines() [][]byte {
	dir := os.Getenv("GDELT_TESTDATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "testdata", "gdelt")
	}
	data, err := os.ReadFile(filepath.Join(dir, realExportFile))
	if err != nil {
		return nil
	}
	lines := splitLines(data)
	out := [][]byte{lines[0], lines[45]}
	if gkg, err := gdeltgen.UnzipFile(filepath.Join(dir, realGKGZip)); err == nil {
		for _, l := range splitLines(gkg)[:3] {
			if len(l) < 20000 {
				out = append(out, l)
			}
		}
	}
	return out
}

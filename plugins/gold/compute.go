package gold

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/gdeltflow/gdeltflow/plugins/lookups"
)

// Getter reads a column of a silver row by name (nil for null or absent).
type Getter func(col string) any

// Event is a row of gold/events_enriched: an event at its first sighting,
// with what the gold tables need. A string "" is null (the decoder never
// gives an empty string), except CountryFIPS, where "" is the group of
// events without an action geo country. Missing counts are 0.
type Event struct {
	Date        string // YYYY-MM-DD: SQLDATE (DATEADDED's date when SQLDATE is null)
	ID          int64
	FirstWindow int64
	CountryFIPS string

	GeoFullName, Actor1Name, Actor1Country, Actor2Name, Actor2Country string
	EventCode, RootCode, SourceURL                                    string

	QuadClass               int64 // 0: null
	Goldstein, Tone         float64
	HasGoldstein, HasTone   bool
	NumMentions, NumSources int64
	NumArticles             int64
	Description             string
	Themes, Persons, Orgs   []string
}

func asString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case int:
		return int64(x), true
	case float64:
		return int64(x), true
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	}
	return 0, false
}

func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case float32:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// dateOf turns YYYYMMDD (or YYYYMMDDHHMMSS) into YYYY-MM-DD.
func dateOf(n int64) string {
	for n > 99999999 {
		n /= 1000000
	}
	s := strconv.FormatInt(n, 10)
	if len(s) != 8 {
		return ""
	}
	return s[0:4] + "-" + s[4:6] + "-" + s[6:8]
}

// NewEvent makes an event from a silver/events row (the export's columns)
// first seen in window w. Its themes come later (see Window).
func NewEvent(get Getter, w int64, b *lookups.Books) Event {
	e := Event{FirstWindow: w}
	e.ID, _ = asInt(get("global_event_id"))
	if d, ok := asInt(get("sql_date")); ok {
		e.Date = dateOf(d)
	}
	if e.Date == "" {
		if d, ok := asInt(get("date_added")); ok {
			e.Date = dateOf(d)
		} else {
			e.Date = dateOf(w)
		}
	}
	e.CountryFIPS = asString(get("action_geo_country_code"))
	e.GeoFullName = asString(get("action_geo_full_name"))
	e.Actor1Name = asString(get("actor1_name"))
	e.Actor1Country = asString(get("actor1_country_code"))
	e.Actor2Name = asString(get("actor2_name"))
	e.Actor2Country = asString(get("actor2_country_code"))
	e.EventCode = asString(get("event_code"))
	e.RootCode = asString(get("event_root_code"))
	e.SourceURL = asString(get("source_url"))
	e.QuadClass, _ = asInt(get("quad_class"))
	e.Goldstein, e.HasGoldstein = asFloat(get("goldstein_scale"))
	e.Tone, e.HasTone = asFloat(get("avg_tone"))
	e.NumMentions, _ = asInt(get("num_mentions"))
	e.NumSources, _ = asInt(get("num_sources"))
	e.NumArticles, _ = asInt(get("num_articles"))
	e.Description = describe(&e, b)
	return e
}

// describe tells the event in one line: "<actor1> <event label> <actor2> in
// <place>", an actor being its name or else its country's name; a part that
// is absent is left out.
func describe(e *Event, b *lookups.Books) string {
	actor := func(name, country string) string {
		if name != "" {
			return name
		}
		if country != "" {
			if n, ok := b.ActorCountry(country); ok {
				return n
			}
		}
		return ""
	}
	var parts []string
	for _, p := range []string{actor(e.Actor1Name, e.Actor1Country), label(b, e.EventCode), actor(e.Actor2Name, e.Actor2Country)} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	s := strings.Join(parts, " ")
	if e.GeoFullName != "" {
		s += " in " + e.GeoFullName
	}
	return s
}

func label(b *lookups.Books, code string) string {
	if code == "" {
		return ""
	}
	l, _ := b.EventLabel(code)
	return l
}

// Row is the event as a row of gold/events_enriched.
func (e *Event) Row() map[string]any {
	return map[string]any{
		ColEventDate: e.Date, "global_event_id": e.ID, "first_window": e.FirstWindow, "country_fips": e.CountryFIPS,
		"action_geo_full_name": null(e.GeoFullName), "actor1_name": null(e.Actor1Name), "actor1_country_code": null(e.Actor1Country),
		"actor2_name": null(e.Actor2Name), "actor2_country_code": null(e.Actor2Country), "event_code": null(e.EventCode),
		"event_root_code": null(e.RootCode), "quad_class": nullInt(e.QuadClass, e.QuadClass != 0),
		"goldstein": nullFloat(e.Goldstein, e.HasGoldstein), "avg_tone": nullFloat(e.Tone, e.HasTone),
		"num_mentions": e.NumMentions, "num_sources": e.NumSources, "num_articles": e.NumArticles,
		"source_url": null(e.SourceURL), "description": e.Description,
		"themes": list(e.Themes), "persons": list(e.Persons), "organizations": list(e.Orgs),
	}
}

// eventFromRow reads a gold/events_enriched row back (date: its partition).
func eventFromRow(date string, r map[string]any) Event {
	e := Event{Date: date}
	e.ID, _ = asInt(r["global_event_id"])
	e.FirstWindow, _ = asInt(r["first_window"])
	e.CountryFIPS = asString(r["country_fips"])
	e.GeoFullName = asString(r["action_geo_full_name"])
	e.Actor1Name = asString(r["actor1_name"])
	e.Actor1Country = asString(r["actor1_country_code"])
	e.Actor2Name = asString(r["actor2_name"])
	e.Actor2Country = asString(r["actor2_country_code"])
	e.EventCode = asString(r["event_code"])
	e.RootCode = asString(r["event_root_code"])
	e.SourceURL = asString(r["source_url"])
	e.QuadClass, _ = asInt(r["quad_class"])
	e.Goldstein, e.HasGoldstein = asFloat(r["goldstein"])
	e.Tone, e.HasTone = asFloat(r["avg_tone"])
	e.NumMentions, _ = asInt(r["num_mentions"])
	e.NumSources, _ = asInt(r["num_sources"])
	e.NumArticles, _ = asInt(r["num_articles"])
	e.Description = asString(r["description"])
	e.Themes, e.Persons, e.Orgs = strs(r["themes"]), strs(r["persons"]), strs(r["organizations"])
	return e
}

func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(n int64, ok bool) any {
	if !ok {
		return nil
	}
	return n
}

func nullFloat(f float64, ok bool) any {
	if !ok {
		return nil
	}
	return f
}

func list(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func strs(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// tags counts GKG themes, persons and organisations over an event's
// complete mentions: each occurrence in a mention's list counts once.
type tags struct {
	themes, persons, orgs map[string]int
}

func newTags() *tags {
	return &tags{themes: map[string]int{}, persons: map[string]int{}, orgs: map[string]int{}}
}

func (t *tags) add(get Getter) {
	count(t.themes, get("gkg_themes"))
	count(t.persons, get("gkg_persons"))
	count(t.orgs, get("gkg_organizations"))
}

// count adds a GKG list: the flat form "A;B;C" (empty items dropped) or the
// nested form, a list of strings.
func count(m map[string]int, v any) {
	switch x := v.(type) {
	case string:
		for _, s := range strings.Split(x, ";") {
			if s != "" {
				m[s]++
			}
		}
	case []any:
		for _, y := range x {
			if s, ok := y.(string); ok && s != "" {
				m[s]++
			}
		}
	}
}

// top is the n most counted keys, ties in byte order.
func top(m map[string]int, n int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	if len(keys) > n {
		keys = keys[:n]
	}
	return keys
}

// mean is a running mean over the values present.
type mean struct {
	sum float64
	n   int64
}

func (m *mean) add(v float64, ok bool) {
	if ok {
		m.sum += v
		m.n++
	}
}

func (m *mean) value() any {
	if m.n == 0 {
		return nil
	}
	return m.sum / float64(m.n)
}

// dist is the population mean and standard deviation of one measure over a
// day's events.
type dist struct{ mean, sd float64 }

func distOf(evs []Event, v func(*Event) (float64, bool)) dist {
	var sum float64
	var n int
	for i := range evs {
		if x, ok := v(&evs[i]); ok {
			sum += x
			n++
		}
	}
	if n == 0 {
		return dist{}
	}
	m := sum / float64(n)
	var ss float64
	for i := range evs {
		if x, ok := v(&evs[i]); ok {
			ss += (x - m) * (x - m)
		}
	}
	return dist{m, math.Sqrt(ss / float64(n))}
}

// z is the score of x; 0 when the day's values do not vary, and absent
// when x is.
func (d dist) z(x float64, ok bool) (float64, bool) {
	if !ok {
		return 0, false
	}
	if d.sd <= 1e-12*math.Max(1, math.Abs(d.mean)) {
		// The day does not vary (a stddev this small is the floating noise
		// of equal values).
		return 0, true
	}
	return (x - d.mean) / d.sd, true
}

func goldsteinOf(e *Event) (float64, bool) { return e.Goldstein, e.HasGoldstein }
func toneOf(e *Event) (float64, bool)      { return e.Tone, e.HasTone }

// zTolerance absorbs the floating noise of z-scores whose exact value is a
// tie: on a small day they often are (two events: |z| = 1 for both; one
// outlier among four equal values: |z| = 2 exactly), and the last bits
// then depend on the order of the sums.
const zTolerance = 1e-9

// unusual is max(|z_goldstein|, |z_tone|), an absent z counting 0, rounded
// to 9 decimals (so that exact ties stay ties).
func unusual(e *Event, g, t dist) float64 {
	zg, _ := g.z(e.Goldstein, e.HasGoldstein)
	zt, _ := t.z(e.Tone, e.HasTone)
	return math.Round(math.Max(math.Abs(zg), math.Abs(zt))/zTolerance) * zTolerance
}

// anomalous is |z| > 2 of Goldstein or of tone, by more than zTolerance.
func anomalous(e *Event, g, t dist) bool {
	zg, okg := g.z(e.Goldstein, e.HasGoldstein)
	zt, okt := t.z(e.Tone, e.HasTone)
	return (okg && math.Abs(zg) > 2+zTolerance) || (okt && math.Abs(zt) > 2+zTolerance)
}

// DayRows computes the four event gold tables of one event_date from all
// of that day's events (the whole events_enriched partition), each table's
// rows in key order.
//
// The events are taken in GLOBALEVENTID order, whatever order the files
// gave them in, so that the floating sums, and the rows, are the same bit
// for bit on every recomputation.
func DayRows(date string, evs []Event, b *lookups.Books) map[string][]map[string]any {
	sort.Slice(evs, func(i, j int) bool {
		if evs[i].ID != evs[j].ID {
			return evs[i].ID < evs[j].ID
		}
		return evs[i].FirstWindow < evs[j].FirstWindow
	})
	g, t := distOf(evs, goldsteinOf), distOf(evs, toneOf)
	out := map[string][]map[string]any{}

	iso3 := func(fips string) (any, any) {
		if fips == "" {
			return nil, nil
		}
		c, ok := b.GeoCountry(fips)
		if !ok {
			return nil, nil
		}
		return null(c.ISO3), null(c.Name)
	}

	// country_daily and top_events_daily: by action geo country.
	byCountry := map[string][]*Event{}
	for i := range evs {
		byCountry[evs[i].CountryFIPS] = append(byCountry[evs[i].CountryFIPS], &evs[i])
	}
	for _, fips := range sortedKeys(byCountry) {
		group := byCountry[fips]
		iso, name := iso3(fips)
		var gm, tm mean
		var mentions, sources, articles, anom int64
		var quads [5]int64
		for _, e := range group {
			gm.add(e.Goldstein, e.HasGoldstein)
			tm.add(e.Tone, e.HasTone)
			mentions += e.NumMentions
			sources += e.NumSources
			articles += e.NumArticles
			if e.QuadClass >= 1 && e.QuadClass <= 4 {
				quads[e.QuadClass]++
			}
			if anomalous(e, g, t) {
				anom++
			}
		}
		n := int64(len(group))
		var risk any
		if ag, at := gm.value(), tm.value(); ag != nil && at != nil {
			risk = -0.5*ag.(float64) - 0.3*at.(float64) + 0.2*math.Log(float64(n))
		}
		out[TableCountryDaily] = append(out[TableCountryDaily], map[string]any{
			ColEventDate: date, "country_fips": fips, "country_iso3": iso, "country_name": name,
			"events": n, "num_mentions": mentions, "num_sources": sources, "num_articles": articles,
			"avg_goldstein": gm.value(), "avg_tone": tm.value(),
			"quad1_events": quads[1], "quad2_events": quads[2], "quad3_events": quads[3], "quad4_events": quads[4],
			"anomalous_events": anom, "risk_score": risk,
		})

		pick := func(kind string, better func(a, b *Event) bool) {
			best := group[0]
			for _, e := range group[1:] {
				if better(e, best) || (!better(best, e) && e.ID < best.ID) {
					best = e
				}
			}
			out[TableTopEventsDaily] = append(out[TableTopEventsDaily], map[string]any{
				ColEventDate: date, "country_fips": fips, "country_iso3": iso, "kind": kind,
				"global_event_id": best.ID, "description": best.Description,
				"goldstein": nullFloat(best.Goldstein, best.HasGoldstein), "avg_tone": nullFloat(best.Tone, best.HasTone),
				"num_articles": best.NumArticles, "source_url": null(best.SourceURL),
				"themes": list(best.Themes), "persons": list(best.Persons), "organizations": list(best.Orgs),
			})
		}
		// Lowest Goldstein (absent last); most articles; largest |z|; ties:
		// the lowest GLOBALEVENTID.
		pick(KindMostSevere, func(a, b *Event) bool {
			if a.HasGoldstein != b.HasGoldstein {
				return a.HasGoldstein
			}
			return a.Goldstein < b.Goldstein
		})
		pick(KindMostCovered, func(a, b *Event) bool { return a.NumArticles > b.NumArticles })
		pick(KindMostUnusual, func(a, b *Event) bool { return unusual(a, g, t) > unusual(b, g, t) })
	}

	// country_daily_category: by country and CAMEO root.
	type catKey struct{ fips, root string }
	cats := map[catKey]*[2]mean{}
	catN := map[catKey]int64{}
	for i := range evs {
		e := &evs[i]
		k := catKey{e.CountryFIPS, e.RootCode}
		m := cats[k]
		if m == nil {
			m = &[2]mean{}
			cats[k] = m
		}
		m[0].add(e.Goldstein, e.HasGoldstein)
		m[1].add(e.Tone, e.HasTone)
		catN[k]++
	}
	catKeys := make([]catKey, 0, len(cats))
	for k := range cats {
		catKeys = append(catKeys, k)
	}
	sort.Slice(catKeys, func(i, j int) bool {
		if catKeys[i].fips != catKeys[j].fips {
			return catKeys[i].fips < catKeys[j].fips
		}
		return catKeys[i].root < catKeys[j].root
	})
	for _, k := range catKeys {
		iso, _ := iso3(k.fips)
		var rl, qc any
		if k.root != "" {
			if r, ok := b.EventRoot(k.root); ok {
				rl, qc = r.Label, int64(r.QuadClass)
			}
		}
		out[TableCountryDailyCategory] = append(out[TableCountryDailyCategory], map[string]any{
			ColEventDate: date, "country_fips": k.fips, "country_iso3": iso, "cameo_root": k.root,
			"root_label": rl, "quad_class": qc, "events": catN[k],
			"avg_goldstein": cats[k][0].value(), "avg_tone": cats[k][1].value(),
		})
	}

	// actor_network_daily: both actor countries present and different.
	type pair struct{ a1, a2 string }
	type agg struct {
		n, articles int64
		g, t        mean
	}
	pairs := map[pair]*agg{}
	for i := range evs {
		e := &evs[i]
		if e.Actor1Country == "" || e.Actor2Country == "" || e.Actor1Country == e.Actor2Country {
			continue
		}
		k := pair{e.Actor1Country, e.Actor2Country}
		a := pairs[k]
		if a == nil {
			a = &agg{}
			pairs[k] = a
		}
		a.n++
		a.articles += e.NumArticles
		a.g.add(e.Goldstein, e.HasGoldstein)
		a.t.add(e.Tone, e.HasTone)
	}
	pairKeys := make([]pair, 0, len(pairs))
	for k := range pairs {
		pairKeys = append(pairKeys, k)
	}
	sort.Slice(pairKeys, func(i, j int) bool {
		if pairKeys[i].a1 != pairKeys[j].a1 {
			return pairKeys[i].a1 < pairKeys[j].a1
		}
		return pairKeys[i].a2 < pairKeys[j].a2
	})
	cname := func(c string) any {
		n, ok := b.ActorCountry(c)
		if !ok {
			return nil
		}
		return n
	}
	for _, k := range pairKeys {
		a := pairs[k]
		out[TableActorNetworkDaily] = append(out[TableActorNetworkDaily], map[string]any{
			ColEventDate: date, "actor1_country": k.a1, "actor1_country_name": cname(k.a1),
			"actor2_country": k.a2, "actor2_country_name": cname(k.a2),
			"events": a.n, "articles": a.articles, "avg_tone": a.t.value(), "avg_goldstein": a.g.value(),
		})
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// SourcePartial is a row of gold/source_window: one source's mentions in
// one window.
type SourcePartial struct {
	Date                     string
	Window                   int64
	Source                   string
	Mentions                 int64
	ToneSum                  float64
	ToneCount                int64
	Complete, NoGKG, Expired int64
}

func (p *SourcePartial) add(get Getter) {
	p.Mentions++
	if t, ok := asFloat(get("mention_doc_tone")); ok {
		p.ToneSum += t
		p.ToneCount++
	}
	switch get("join_status") {
	case "complete":
		p.Complete++
	case "no_gkg":
		p.NoGKG++
	case "expired":
		p.Expired++
	}
}

// Row is the partial as a row of gold/source_window.
func (p *SourcePartial) Row() map[string]any {
	return map[string]any{
		ColMentionDate: p.Date, "window": p.Window, "source_name": p.Source, "mentions": p.Mentions,
		"doc_tone_sum": p.ToneSum, "doc_tone_count": p.ToneCount,
		"rows_complete": p.Complete, "rows_no_gkg": p.NoGKG, "rows_expired": p.Expired,
	}
}

func partialFromRow(date string, r map[string]any) SourcePartial {
	p := SourcePartial{Date: date, Source: asString(r["source_name"])}
	p.Window, _ = asInt(r["window"])
	p.Mentions, _ = asInt(r["mentions"])
	p.ToneSum, _ = asFloat(r["doc_tone_sum"])
	p.ToneCount, _ = asInt(r["doc_tone_count"])
	p.Complete, _ = asInt(r["rows_complete"])
	p.NoGKG, _ = asInt(r["rows_no_gkg"])
	p.Expired, _ = asInt(r["rows_expired"])
	return p
}

// SourceDayRows sums a mention date's partials per source: the
// source_daily rows of that date, in source order.
// The partials are summed in window order (the same bits every time).
func SourceDayRows(date string, parts []SourcePartial) []map[string]any {
	sort.Slice(parts, func(i, j int) bool {
		if parts[i].Window != parts[j].Window {
			return parts[i].Window < parts[j].Window
		}
		return parts[i].Source < parts[j].Source
	})
	sums := map[string]*SourcePartial{}
	for i := range parts {
		p := &parts[i]
		s := sums[p.Source]
		if s == nil {
			s = &SourcePartial{Source: p.Source}
			sums[p.Source] = s
		}
		s.Mentions += p.Mentions
		s.ToneSum += p.ToneSum
		s.ToneCount += p.ToneCount
		s.Complete += p.Complete
		s.NoGKG += p.NoGKG
		s.Expired += p.Expired
	}
	var out []map[string]any
	for _, src := range sortedKeys(sums) {
		s := sums[src]
		var tone any
		if s.ToneCount > 0 {
			tone = s.ToneSum / float64(s.ToneCount)
		}
		rate := 0.0
		if s.Mentions > 0 {
			rate = float64(s.Complete) / float64(s.Mentions)
		}
		out = append(out, map[string]any{
			ColMentionDate: date, "source_name": src, "mentions": s.Mentions, "avg_doc_tone": tone,
			"rows_complete": s.Complete, "rows_no_gkg": s.NoGKG, "rows_expired": s.Expired, "join_rate": rate,
		})
	}
	return out
}

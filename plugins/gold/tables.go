package gold

import (
	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
)

// The gold tables, by name (the table's folder under <lake>/gold/ and the
// gold_table of the mart batch).
const (
	TableCountryDaily         = "country_daily"
	TableCountryDailyCategory = "country_daily_category"
	TableActorNetworkDaily    = "actor_network_daily"
	TableTopEventsDaily       = "top_events_daily"
	TableSourceDaily          = "source_daily"

	// Gold's own tables: the state the gold tables are recomputed from.
	TableEventsEnriched = "events_enriched"
	TableSourceWindow   = "source_window"
)

// Partition columns.
const (
	ColEventDate   = "event_date"   // GDELT's SQLDATE of the event
	ColMentionDate = "mention_date" // the date of the mention's window
)

// Kinds of top_events_daily.
const (
	KindMostSevere  = "most_severe"  // lowest Goldstein
	KindMostCovered = "most_covered" // most articles
	KindMostUnusual = "most_unusual" // largest max(|z_goldstein|, |z_tone|)
)

// TopN is how many themes, persons and organisations an event keeps.
const TopN = 5

// Table is the shape of one table gold writes: its name, partition column
// and columns (the partition column among them), in order.
type Table struct {
	Name      string
	Partition string
	Columns   []schema.StructField
	// Key is the grain of a gold table (the partition column first): the
	// columns that name a row, the mart's primary key. Empty for gold's own.
	Key []string
}

// Schema is the table's Delta schema.
func (t Table) Schema() schema.StructType { return schema.StructType{Fields: t.Columns} }

func col(name string, t schema.DataType, nullable bool, doc string) schema.StructField {
	return schema.StructField{Name: name, Type: t, Nullable: nullable, Metadata: map[string]any{"comment": doc}}
}

var (
	str     = schema.StringType
	long    = schema.LongType
	double  = schema.DoubleType
	date    = schema.DateType
	strList = schema.ArrayOf(schema.StringType, false)
)

// Tables lists every table gold writes: its own two, then the five gold
// tables in the order they are committed.
func Tables() []Table {
	eventDate := col(ColEventDate, date, false, "the event's date: GDELT's SQLDATE")
	fips := col("country_fips", str, false, "ActionGeo_CountryCode (FIPS 10-4); '' when the event has no action geo country")
	iso3 := col("country_iso3", str, true, "ISO 3166-1 alpha-3 of country_fips (the FIPS code book); null when unknown or absent")
	return []Table{
		{TableEventsEnriched, ColEventDate, []schema.StructField{
			eventDate,
			col("global_event_id", long, false, "GLOBALEVENTID"),
			col("first_window", long, false, "the silver window of the event's first sighting (its DATEADDED)"),
			fips,
			col("action_geo_full_name", str, true, "ActionGeo_FullName"),
			col("actor1_name", str, true, "Actor1Name"),
			col("actor1_country_code", str, true, "Actor1CountryCode (CAMEO)"),
			col("actor2_name", str, true, "Actor2Name"),
			col("actor2_country_code", str, true, "Actor2CountryCode (CAMEO)"),
			col("event_code", str, true, "EventCode (CAMEO)"),
			col("event_root_code", str, true, "EventRootCode (CAMEO)"),
			col("quad_class", long, true, "QuadClass"),
			col("goldstein", double, true, "GoldsteinScale"),
			col("avg_tone", double, true, "AvgTone"),
			col("num_mentions", long, true, "NumMentions"),
			col("num_sources", long, true, "NumSources"),
			col("num_articles", long, true, "NumArticles"),
			col("source_url", str, true, "SOURCEURL"),
			col("description", str, false, "the event told in one line from the code books"),
			col("themes", strList, false, "top themes of its complete mentions' GKG records"),
			col("persons", strList, false, "top persons of its complete mentions' GKG records"),
			col("organizations", strList, false, "top organisations of its complete mentions' GKG records"),
		}, nil},
		{TableSourceWindow, ColMentionDate, []schema.StructField{
			col(ColMentionDate, date, false, "the date of the mentions' window"),
			col("window", long, false, "the silver window"),
			col("source_name", str, false, "MentionSourceName ('' when absent)"),
			col("mentions", long, false, "silver rows of the source in the window"),
			col("doc_tone_sum", double, false, "sum of MentionDocTone over them"),
			col("doc_tone_count", long, false, "how many had a MentionDocTone"),
			col("rows_complete", long, false, "rows with join_status complete"),
			col("rows_no_gkg", long, false, "rows with join_status no_gkg"),
			col("rows_expired", long, false, "rows with join_status expired"),
		}, nil},
		{TableCountryDaily, ColEventDate, []schema.StructField{
			eventDate, fips, iso3,
			col("country_name", str, true, "English name of country_fips (the FIPS code book)"),
			col("events", long, false, "events (distinct GLOBALEVENTIDs)"),
			col("num_mentions", long, false, "sum of NumMentions"),
			col("num_sources", long, false, "sum of NumSources"),
			col("num_articles", long, false, "sum of NumArticles"),
			col("avg_goldstein", double, true, "mean GoldsteinScale"),
			col("avg_tone", double, true, "mean AvgTone"),
			col("quad1_events", long, false, "events of QuadClass 1 (verbal cooperation)"),
			col("quad2_events", long, false, "events of QuadClass 2 (material cooperation)"),
			col("quad3_events", long, false, "events of QuadClass 3 (verbal conflict)"),
			col("quad4_events", long, false, "events of QuadClass 4 (material conflict)"),
			col("anomalous_events", long, false, "events with |z| > 2 of Goldstein or AvgTone against all events of the day"),
			col("risk_score", double, true, "-0.5*avg_goldstein - 0.3*avg_tone + 0.2*ln(events)"),
		}, []string{ColEventDate, "country_fips"}},
		{TableCountryDailyCategory, ColEventDate, []schema.StructField{
			eventDate, fips, iso3,
			col("cameo_root", str, false, "EventRootCode ('01'..'20'; '' when absent)"),
			col("root_label", str, true, "the root's label (CAMEO roots code book)"),
			col("quad_class", long, true, "the root's quad class (CAMEO roots code book)"),
			col("events", long, false, "events"),
			col("avg_goldstein", double, true, "mean GoldsteinScale"),
			col("avg_tone", double, true, "mean AvgTone"),
		}, []string{ColEventDate, "country_fips", "cameo_root"}},
		{TableActorNetworkDaily, ColEventDate, []schema.StructField{
			eventDate,
			col("actor1_country", str, false, "Actor1CountryCode (CAMEO)"),
			col("actor1_country_name", str, true, "its name (CAMEO countries code book)"),
			col("actor2_country", str, false, "Actor2CountryCode (CAMEO)"),
			col("actor2_country_name", str, true, "its name"),
			col("events", long, false, "events"),
			col("articles", long, false, "sum of NumArticles"),
			col("avg_tone", double, true, "mean AvgTone"),
			col("avg_goldstein", double, true, "mean GoldsteinScale"),
		}, []string{ColEventDate, "actor1_country", "actor2_country"}},
		{TableTopEventsDaily, ColEventDate, []schema.StructField{
			eventDate, fips, iso3,
			col("kind", str, false, "most_severe, most_covered or most_unusual"),
			col("global_event_id", long, false, "the event"),
			col("description", str, false, "the event in one line"),
			col("goldstein", double, true, "GoldsteinScale"),
			col("avg_tone", double, true, "AvgTone"),
			col("num_articles", long, true, "NumArticles"),
			col("source_url", str, true, "SOURCEURL"),
			col("themes", strList, false, "top 5 GKG themes of its complete mentions"),
			col("persons", strList, false, "top 5 GKG persons"),
			col("organizations", strList, false, "top 5 GKG organisations"),
		}, []string{ColEventDate, "country_fips", "kind"}},
		{TableSourceDaily, ColMentionDate, []schema.StructField{
			col(ColMentionDate, date, false, "the date of the mentions' windows"),
			col("source_name", str, false, "MentionSourceName ('' when absent)"),
			col("mentions", long, false, "silver rows"),
			col("avg_doc_tone", double, true, "mean MentionDocTone"),
			col("rows_complete", long, false, "rows with join_status complete"),
			col("rows_no_gkg", long, false, "rows with join_status no_gkg"),
			col("rows_expired", long, false, "rows with join_status expired"),
			col("join_rate", double, false, "rows_complete / mentions"),
		}, []string{ColMentionDate, "source_name"}},
	}
}

// GoldTables are the five gold tables' names, in commit order.
func GoldTables() []string {
	return []string{TableCountryDaily, TableCountryDailyCategory, TableActorNetworkDaily, TableTopEventsDaily, TableSourceDaily}
}

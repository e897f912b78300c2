// Package schema holds the GDELT 2.0 table schemas: column names, positions,
// types and the nesting of the GKG fields. It is the single source of truth
// that the decoder, the Delta writer and the join reuse.
//
// Column names are snake_case forms of the BigQuery column names of the
// gdelt-bq.gdeltv2 tables (GLOBALEVENTID → global_event_id).
package schema

import "fmt"

// Kind is the scalar type of a column or nested field.
type Kind int

const (
	String Kind = iota
	Int64
	Float64
	// List is a repeated value; Elem describes the element.
	List
	// Struct is an object; Fields describe its members.
	Struct
)

func (k Kind) String() string {
	switch k {
	case String:
		return "string"
	case Int64:
		return "int64"
	case Float64:
		return "float64"
	case List:
		return "list"
	case Struct:
		return "struct"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Field is a typed member of a nested value (or the element of a list).
type Field struct {
	Name   string
	Kind   Kind
	Elem   *Field  // for List
	Fields []Field // for Struct
}

// Nesting names the parser of a GKG nested column.
type Nesting int

const (
	Flat Nesting = iota
	Counts
	V2Counts
	Themes
	V2Themes
	Locations
	V2Locations
	Names // V1 persons / organizations: plain names
	V2Names
	Tone
	Dates
	GCAM
	Quotations
	Amounts
	SemicolonList // ';'-separated strings (related images, embeds)
	Extras
)

// Column is one tab-separated field of a raw GDELT row.
type Column struct {
	Pos      int    // 1-based position in the raw row
	Source   string // the BigQuery column name
	Codebook string // the codebook name, where it differs (GKG)
	Name     string // our snake_case name
	Kind     Kind   // the type of the flat value (String for every nested GKG field)
	Nesting  Nesting
	// Nested is the type the column takes when nested GKG parsing is on.
	Nested *Field
}

// Table is one GDELT file type.
type Table struct {
	Name    string // "export", "mentions", "gkg": as in the file names
	Columns []Column
}

// Index returns the 0-based index of the column named name, or -1.
func (t *Table) Index(name string) int {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return i
		}
	}
	return -1
}

// Table names as they appear in GDELT file names and in the gdelt_table metadata.
const (
	ExportTable   = "export"
	MentionsTable = "mentions"
	GKGTable      = "gkg"
)

// Tables lists the three tables in feed order.
func Tables() []*Table { return []*Table{Events, Mentions, GKG} }

// ByName returns a table by its file name part; "events" is accepted for the export.
func ByName(name string) (*Table, error) {
	switch name {
	case ExportTable, "events":
		return Events, nil
	case MentionsTable:
		return Mentions, nil
	case GKGTable:
		return GKG, nil
	}
	return nil, fmt.Errorf("unknown GDELT table %q (want export, mentions or gkg)", name)
}

func cols(defs ...Column) []Column {
	for i := range defs {
		defs[i].Pos = i + 1
	}
	return defs
}

func c(source, name string, k Kind) Column { return Column{Source: source, Name: name, Kind: k} }

func actor(n string) []Column {
	p := "Actor" + n
	q := "actor" + n + "_"
	return []Column{
		c(p+"Code", q+"code", String), c(p+"Name", q+"name", String),
		c(p+"CountryCode", q+"country_code", String), c(p+"KnownGroupCode", q+"known_group_code", String),
		c(p+"EthnicCode", q+"ethnic_code", String), c(p+"Religion1Code", q+"religion1_code", String),
		c(p+"Religion2Code", q+"religion2_code", String), c(p+"Type1Code", q+"type1_code", String),
		c(p+"Type2Code", q+"type2_code", String), c(p+"Type3Code", q+"type3_code", String),
	}
}

func geo(p, q string) []Column {
	return []Column{
		c(p+"_Type", q+"_type", Int64), c(p+"_FullName", q+"_full_name", String),
		c(p+"_CountryCode", q+"_country_code", String), c(p+"_ADM1Code", q+"_adm1_code", String),
		c(p+"_ADM2Code", q+"_adm2_code", String), c(p+"_Lat", q+"_lat", Float64),
		c(p+"_Long", q+"_long", Float64), c(p+"_FeatureID", q+"_feature_id", String),
	}
}

func join(parts ...[]Column) []Column {
	var out []Column
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Events is the Events export table: 61 columns.
var Events = &Table{Name: ExportTable, Columns: cols(join(
	[]Column{
		c("GLOBALEVENTID", "global_event_id", Int64), c("SQLDATE", "sql_date", Int64),
		c("MonthYear", "month_year", Int64), c("Year", "year", Int64), c("FractionDate", "fraction_date", Float64),
	},
	actor("1"), actor("2"),
	[]Column{
		c("IsRootEvent", "is_root_event", Int64), c("EventCode", "event_code", String),
		c("EventBaseCode", "event_base_code", String), c("EventRootCode", "event_root_code", String),
		c("QuadClass", "quad_class", Int64), c("GoldsteinScale", "goldstein_scale", Float64),
		c("NumMentions", "num_mentions", Int64), c("NumSources", "num_sources", Int64),
		c("NumArticles", "num_articles", Int64), c("AvgTone", "avg_tone", Float64),
	},
	geo("Actor1Geo", "actor1_geo"), geo("Actor2Geo", "actor2_geo"), geo("ActionGeo", "action_geo"),
	[]Column{c("DATEADDED", "date_added", Int64), c("SOURCEURL", "source_url", String)},
)...)}

// Mentions is the Mentions table: 16 columns.
var Mentions = &Table{Name: MentionsTable, Columns: cols(
	c("GLOBALEVENTID", "global_event_id", Int64), c("EventTimeDate", "event_time_date", Int64),
	c("MentionTimeDate", "mention_time_date", Int64), c("MentionType", "mention_type", Int64),
	c("MentionSourceName", "mention_source_name", String), c("MentionIdentifier", "mention_identifier", String),
	c("SentenceID", "sentence_id", Int64), c("Actor1CharOffset", "actor1_char_offset", Int64),
	c("Actor2CharOffset", "actor2_char_offset", Int64), c("ActionCharOffset", "action_char_offset", Int64),
	c("InRawText", "in_raw_text", Int64), c("Confidence", "confidence", Int64),
	c("MentionDocLen", "mention_doc_len", Int64), c("MentionDocTone", "mention_doc_tone", Float64),
	c("MentionDocTranslationInfo", "mention_doc_translation_info", String), c("Extras", "extras", String),
)}

func f(name string, k Kind) Field { return Field{Name: name, Kind: k} }

func listOf(fields ...Field) *Field {
	return &Field{Kind: List, Elem: &Field{Kind: Struct, Fields: fields}}
}

var stringList = &Field{Kind: List, Elem: &Field{Kind: String}}

var countFields = []Field{
	f("count_type", String), f("count", Int64), f("object_type", String), f("location_type", Int64),
	f("location_full_name", String), f("location_country_code", String), f("location_adm1_code", String),
	f("location_lat", Float64), f("location_long", Float64), f("location_feature_id", String),
}

var nameOffset = listOf(f("name", String), f("char_offset", Int64))

func g(codebook, source, name string, n Nesting, nested *Field) Column {
	return Column{Source: source, Codebook: codebook, Name: name, Kind: String, Nesting: n, Nested: nested}
}

func gi(codebook, source, name string) Column {
	return Column{Source: source, Codebook: codebook, Name: name, Kind: Int64}
}

// GKG is the Global Knowledge Graph 2.1 table: 27 columns. With nested parsing
// on, the columns with a Nesting other than Flat take the type in Nested.
var GKG = &Table{Name: GKGTable, Columns: cols(
	g("GKGRECORDID", "GKGRECORDID", "gkg_record_id", Flat, nil),
	gi("V2.1DATE", "DATE", "date"),
	gi("V2SOURCECOLLECTIONIDENTIFIER", "SourceCollectionIdentifier", "source_collection_identifier"),
	g("V2SOURCECOMMONNAME", "SourceCommonName", "source_common_name", Flat, nil),
	g("V2DOCUMENTIDENTIFIER", "DocumentIdentifier", "document_identifier", Flat, nil),
	g("V1COUNTS", "Counts", "counts", Counts, listOf(countFields...)),
	g("V2.1COUNTS", "V2Counts", "v2_counts", V2Counts, listOf(append(append([]Field{}, countFields...), f("char_offset", Int64))...)),
	g("V1THEMES", "Themes", "themes", Themes, stringList),
	g("V2ENHANCEDTHEMES", "V2Themes", "v2_themes", V2Themes, listOf(f("theme", String), f("char_offset", Int64))),
	g("V1LOCATIONS", "Locations", "locations", Locations, listOf(
		f("type", Int64), f("full_name", String), f("country_code", String), f("adm1_code", String),
		f("lat", Float64), f("long", Float64), f("feature_id", String))),
	g("V2ENHANCEDLOCATIONS", "V2Locations", "v2_locations", V2Locations, listOf(
		f("type", Int64), f("full_name", String), f("country_code", String), f("adm1_code", String),
		f("adm2_code", String), f("lat", Float64), f("long", Float64), f("feature_id", String), f("char_offset", Int64))),
	g("V1PERSONS", "Persons", "persons", Names, stringList),
	g("V2ENHANCEDPERSONS", "V2Persons", "v2_persons", V2Names, nameOffset),
	g("V1ORGANIZATIONS", "Organizations", "organizations", Names, stringList),
	g("V2ENHANCEDORGANIZATIONS", "V2Organizations", "v2_organizations", V2Names, nameOffset),
	g("V1.5TONE", "V2Tone", "v2_tone", Tone, &Field{Kind: Struct, Fields: []Field{
		f("tone", Float64), f("positive_score", Float64), f("negative_score", Float64), f("polarity", Float64),
		f("activity_reference_density", Float64), f("self_group_reference_density", Float64), f("word_count", Int64)}}),
	g("V2.1ENHANCEDDATES", "Dates", "dates", Dates, listOf(
		f("resolution", Int64), f("month", Int64), f("day", Int64), f("year", Int64), f("char_offset", Int64))),
	g("V2GCAM", "GCAM", "gcam", GCAM, listOf(f("key", String), f("value", Float64))),
	g("V2.1SHARINGIMAGE", "SharingImage", "sharing_image", Flat, nil),
	g("V2.1RELATEDIMAGES", "RelatedImages", "related_images", SemicolonList, stringList),
	g("V2.1SOCIALIMAGEEMBEDS", "SocialImageEmbeds", "social_image_embeds", SemicolonList, stringList),
	g("V2.1SOCIALVIDEOEMBEDS", "SocialVideoEmbeds", "social_video_embeds", SemicolonList, stringList),
	g("V2.1QUOTATIONS", "Quotations", "quotations", Quotations, listOf(
		f("offset", Int64), f("length", Int64), f("verb", String), f("quote", String))),
	g("V2.1ALLNAMES", "AllNames", "all_names", V2Names, nameOffset),
	g("V2.1AMOUNTS", "Amounts", "amounts", Amounts, listOf(f("amount", Float64), f("object", String), f("char_offset", Int64))),
	g("V2.1TRANSLATIONINFO", "TranslationInfo", "translation_info", Flat, nil),
	g("V2EXTRASXML", "Extras", "extras", Extras, nil),
)}

// Extra columns that nested GKG parsing adds, taken from V2EXTRASXML.
var GKGExtrasColumns = []Field{
	f("page_title", String),
	f("page_precise_pub_timestamp", Int64), // YYYYMMDDHHMMSS, UTC
}

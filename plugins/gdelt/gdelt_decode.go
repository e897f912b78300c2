package gdelt

import (
	"context"
	"errors"
	"fmt"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
)

// Config fields of the gdelt_decode processor.
const (
	gdecFieldTable     = "table"
	gdecFieldGKGNested = "gkg_nested"
	gdecFieldForm      = "form"
)

// The forms of a decoded row (the form field).
const (
	gdecFormMap = "map" // the message's content becomes the row's object
	gdecFormRow = "row" // a *schema.Row in the gdelt_row metadata; the content stays the raw line
)

// Metrics of the gdelt_decode processor.
const (
	gdecMetricRows      = "gdelt_decode_rows"             // label table
	gdecMetricRejected  = "gdelt_decode_rejected"         // labels table, reason
	gdecMetricMalformed = "gdelt_decode_malformed_blocks" // labels table, column
)

// ReasonUnknownTable rejects a message whose table can be told neither from
// the config nor from its gdelt_table metadata. The other reasons come from
// the Decoder.
const ReasonUnknownTable = "unknown_table"

// gdecUnknown stands in for absent metadata in error texts and metric labels.
const gdecUnknown = "unknown"

func gdeltDecodeSpec() *service.ConfigSpec {
	return service.NewConfigSpec().
		Beta().
		Categories("Parsing").
		Summary("Decodes raw GDELT 2.0 rows (one tab-separated line per message) into structured objects with typed, snake_case columns.").
		Description(`
Each message holds one raw row of a GDELT 2.0 Events export, Mentions or GKG 2.1 file, as the `+"`gdelt_feed`"+` input
emits them: tab-separated, no quoting (a `+"`\"`"+` is an ordinary character), no trailing newline (one trailing
carriage return is dropped). The row becomes an object with every column of the table under its snake_case name
(`+"`GLOBALEVENTID`"+` becomes `+"`global_event_id`"+`): INT64 columns become integers, FLOAT64 columns numbers, the
rest strings, and an empty field becomes `+"`null`"+` (the key is always there). Event codes stay strings, so
`+"`080`"+` keeps its leading zero.

For example the export row (tabs shown as `+"`→`"+`, most columns elided)

`+"```"+`
881990833→20181024→201810→2018→2018.8055→→…→0→040→040→04→1→1.0→10→1→10→0.63492063492064→…→53.9→27.5667→-1946324→20191024143000→https://belsat.eu/en/news/…
`+"```"+`

becomes

`+"```json"+`
{"global_event_id":881990833,"sql_date":20181024,"month_year":201810,"year":2018,"fraction_date":2018.8055,
 "actor1_code":null,…,"is_root_event":0,"event_code":"040","event_base_code":"040","event_root_code":"04",
 "quad_class":1,"goldstein_scale":1,"num_mentions":10,…,"action_geo_lat":53.9,"action_geo_long":27.5667,
 "action_geo_feature_id":"-1946324","date_added":20191024143000,"source_url":"https://belsat.eu/en/news/…"}
`+"```"+`

With `+"`gkg_nested: true`"+`, the nested GKG columns are parsed too: `+"`counts`"+`, `+"`v2_counts`"+`,
`+"`v2_themes`"+`, `+"`locations`"+`, `+"`v2_locations`"+`, `+"`v2_persons`"+`, `+"`v2_organizations`"+`, `+"`dates`"+`,
`+"`gcam`"+`, `+"`quotations`"+`, `+"`all_names`"+` and `+"`amounts`"+` become arrays of objects (for instance
`+"`gcam`"+` is `+"`[{\"key\":\"wc\",\"value\":613},{\"key\":\"c12.1\",\"value\":32},…]`"+`), `+"`themes`"+`, `+"`persons`"+`,
`+"`organizations`"+` and the image and embed lists arrays of strings, `+"`v2_tone`"+` an object
(`+"`{\"tone\":-5.99,\"positive_score\":1.38,…,\"word_count\":613}`"+`), and `+"`page_title`"+` (HTML entities decoded) and
`+"`page_precise_pub_timestamp`"+` (YYYYMMDDHHMMSS) are added from `+"`extras`"+`, which is kept raw. Nested parsing is
lenient: a malformed block (wrong number of fields, a number that does not parse) is dropped and counted in the
`+"`gdelt_decode_malformed_blocks`"+` metric, and the row is kept.

### Errors

A row is rejected only when it does not have exactly the table's number of fields (61, 16 or 27; reason
`+"`field_count`"+`), is not valid UTF-8 (`+"`invalid_utf8`"+`), or holds an unparsable integer or number (`+"`bad_int`"+`,
`+"`bad_float`"+`); when the table is not configured and the `+"`gdelt_table`"+` metadata is missing or unknown, the
reason is `+"`unknown_table`"+`. A rejected message keeps its raw content, is flagged with an error such as

`+"```"+`
gdelt_decode: table export, file 20191024143000.export.CSV, line 17: field_count: got 60 fields, want 61
`+"```"+`

(file and line come from the `+"`gdelt_file`"+` and `+"`gdelt_line`"+` metadata, "unknown" when absent), gets the
metadata `+"`gdelt_error_reason`"+` set to the reason, and can be routed with the usual error handling (a
`+"`switch`"+` output on `+"`errored()`"+`, a dead-letter topic with the reason in a header). A message that already
carries an error (for example a row the feed cut at its size limit) passes through untouched.

### Metrics

- `+"`gdelt_decode_rows`"+` (label `+"`table`"+`): rows decoded.
- `+"`gdelt_decode_rejected`"+` (labels `+"`table`"+`, `+"`reason`"+`): rows rejected.
- `+"`gdelt_decode_malformed_blocks`"+` (labels `+"`table`"+`, `+"`column`"+`): nested GKG blocks dropped.
`).
		Fields(
			service.NewStringField(gdecFieldTable).
				Description("The GDELT table of every message: `export` (or `events`), `mentions` or `gkg`. Empty: each message's `gdelt_table` metadata decides, as set by the `gdelt_feed` input.").
				Examples("export", "mentions", "gkg").
				Default("").
				LintRule(`root = if !["", "export", "events", "mentions", "gkg"].contains(this) { "table must be empty, export, events, mentions or gkg" }`),
			service.NewBoolField(gdecFieldGKGNested).
				Description("Parse the nested GKG columns (counts, themes, locations, persons, organizations, tone, dates, GCAM, quotations, names, amounts, image lists) into arrays and objects, and add `page_title` and `page_precise_pub_timestamp` from the extras XML. Off: they stay raw strings, which is tens of times faster. Applies to GKG rows only. It costs memory: a real GKG row holds ~390 KB once nested (~30× its text), so lower the input's batch size when it is on.").
				Default(false),
			service.NewStringEnumField(gdecFieldForm, gdecFormMap, gdecFormRow).
				Description("What a decoded row becomes. `map`: the message's content is the row's object (what Bloblang mappings and most outputs read). `row`: the row's values in column order are set, as one value, in the `"+contract.MetaRow+"` metadata (with `setMutMeta` semantics: it is not a string) and the content stays the raw line; `delta_lake` writes such rows without building a map (several times cheaper on both sides), and a mapping reads the row's named fields with `@"+contract.MetaRow+".gdelt_fields()`. Use `row` when the rows go straight to `delta_lake`; keep `map` when a mapping or another output reads the content (`gdelt_join` reads maps). A value in metadata is not serialised: drop the key (`meta "+contract.MetaRow+" = deleted()`) before an output that copies all metadata into headers.").
				Default(gdecFormMap),
		).
		Example("Decode whatever the feed emits",
			"Rows of all three tables arrive from `gdelt_feed`; the table comes from each message's metadata, and rejected rows go to a dead-letter file with their reason.",
			`
input:
  gdelt_feed: {}
pipeline:
  processors:
    - gdelt_decode:
        gkg_nested: true
output:
  switch:
    cases:
      - check: errored()
        output:
          file:
            path: ./rejected/${! meta(contract.MetaErrorReason) }.tsv
            codec: lines
      - output:
          stdout: {}
`)
}

// gdeltDecodeConfig is the parsed configuration of gdelt_decode.
type gdeltDecodeConfig struct {
	Table     *schema.Table // nil: from the gdelt_table metadata
	GKGNested bool
	Row       bool // form: row
}

func gdeltDecodeConfigFromParsed(pConf *service.ParsedConfig) (conf gdeltDecodeConfig, err error) {
	name, err := pConf.FieldString(gdecFieldTable)
	if err != nil {
		return conf, err
	}
	if name != "" {
		if conf.Table, err = schema.ByName(name); err != nil {
			return conf, err
		}
	}
	if conf.GKGNested, err = pConf.FieldBool(gdecFieldGKGNested); err != nil {
		return conf, err
	}
	form, err := pConf.FieldString(gdecFieldForm)
	if err != nil {
		return conf, err
	}
	conf.Row = form == gdecFormRow
	return conf, nil
}

// gdeltDecodeProcessor adapts Decoder to a Benthos batch processor.
type gdeltDecodeProcessor struct {
	conf gdeltDecodeConfig
	log  *service.Logger

	// decoders holds one decoder per table, in schema.Tables() order.
	decoders [3]*Decoder
	fixed    int // index of the configured table's decoder, -1: from metadata

	mRows      *service.MetricCounter
	mRejected  *service.MetricCounter
	mMalformed *service.MetricCounter
}

func newGDELTDecodeFromParsed(pConf *service.ParsedConfig, mgr *service.Resources) (*gdeltDecodeProcessor, error) {
	conf, err := gdeltDecodeConfigFromParsed(pConf)
	if err != nil {
		return nil, err
	}
	return newGDELTDecode(conf, mgr), nil
}

func newGDELTDecode(conf gdeltDecodeConfig, mgr *service.Resources) *gdeltDecodeProcessor {
	m := mgr.Metrics()
	p := &gdeltDecodeProcessor{
		conf:       conf,
		log:        mgr.Logger(),
		mRows:      m.NewCounter(gdecMetricRows, "table"),
		mRejected:  m.NewCounter(gdecMetricRejected, "table", "reason"),
		mMalformed: m.NewCounter(gdecMetricMalformed, "table", "column"),
		fixed:      -1,
	}
	for i, t := range schema.Tables() {
		d := NewDecoder(t, conf.GKGNested)
		table := t.Name
		d.OnMalformed(func(column string, blocks int) {
			p.mMalformed.Incr(int64(blocks), table, column)
		})
		p.decoders[i] = d
		if conf.Table == t {
			p.fixed = i
		}
	}
	return p
}

func init() {
	service.MustRegisterBatchProcessor("gdelt_decode", gdeltDecodeSpec(),
		func(conf *service.ParsedConfig, mgr *service.Resources) (service.BatchProcessor, error) {
			return newGDELTDecodeFromParsed(conf, mgr)
		})
}

// decoderFor picks the decoder by config or metadata; i indexes p.decoders.
func (p *gdeltDecodeProcessor) decoderFor(msg *service.Message) (d *Decoder, i int, err error) {
	if p.fixed >= 0 {
		return p.decoders[p.fixed], p.fixed, nil
	}
	name, ok := msg.MetaGet(contract.MetaTable)
	switch name {
	case schema.ExportTable, "events":
		return p.decoders[0], 0, nil
	case schema.MentionsTable:
		return p.decoders[1], 1, nil
	case schema.GKGTable:
		return p.decoders[2], 2, nil
	}
	detail := "no table configured and no " + contract.MetaTable + " metadata"
	if ok {
		detail = fmt.Sprintf("%s metadata is %q, want export, events, mentions or gkg", contract.MetaTable, name)
	}
	return nil, -1, &DecodeError{Reason: ReasonUnknownTable, Detail: detail}
}

// ProcessBatch decodes every message in place. Messages never affect each
// other: a rejected one is flagged and the rest go on.
func (p *gdeltDecodeProcessor) ProcessBatch(_ context.Context, batch service.MessageBatch) ([]service.MessageBatch, error) {
	var rows [3]int64
	var arena *RowArena // form: row: the batch's rows share chunks of memory
	if p.conf.Row {
		// A row's values point into its message's bytes, which the engine
		// never writes again (a processor that changes them sets new ones),
		// and the row lives in the message's metadata: no second copy of
		// the line.
		arena = &RowArena{Shared: true}
	}
	for _, msg := range batch {
		if msg.GetError() != nil {
			continue
		}
		if _, marker := msg.MetaGet(contract.MetaMarker); marker {
			continue // a gdelt_feed window marker: no row to decode
		}
		d, ti, err := p.decoderFor(msg)
		if err == nil {
			var raw []byte
			if raw, err = msg.AsBytes(); err == nil {
				if p.conf.Row {
					var row *schema.Row
					if row, err = d.DecodeRowIn(raw, arena); err == nil {
						msg.MetaSetMut(contract.MetaRow, row)
						rows[ti]++
						continue
					}
				} else {
					var row map[string]any
					if row, err = d.Decode(raw); err == nil {
						msg.SetStructuredMut(row)
						rows[ti]++
						continue
					}
				}
			}
		}
		table := gdecUnknown
		if d != nil {
			table = d.Table().Name
		}
		p.reject(msg, table, err)
	}
	for i, n := range rows {
		if n > 0 {
			p.mRows.Incr(n, p.decoders[i].Table().Name)
		}
	}
	return []service.MessageBatch{batch}, nil
}

func (p *gdeltDecodeProcessor) reject(msg *service.Message, table string, err error) {
	reason := "decode"
	var de *DecodeError
	if errors.As(err, &de) {
		reason = de.Reason
	}
	file, ok := msg.MetaGet(contract.MetaFile)
	if !ok || file == "" {
		file = gdecUnknown
	}
	line, ok := msg.MetaGet(contract.MetaLine)
	if !ok || line == "" {
		line = gdecUnknown
	}
	msg.SetError(fmt.Errorf("gdelt_decode: table %s, file %s, line %s: %w", table, file, line, err))
	msg.MetaSet(contract.MetaErrorReason, reason)
	msg.MetaSet(contract.MetaErrorStage, contract.StageDecode)
	p.mRejected.Incr(1, table, reason)
}

// Close does nothing: the processor holds no resources.
func (p *gdeltDecodeProcessor) Close(context.Context) error { return nil }

package join

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
)

// Output column naming. A silver row holds, in this order:
//   - the mention's 16 columns under their own names (global_event_id, mention_identifier, ...);
//   - the event's 61 columns prefixed "event_" (event_global_event_id, event_actor1_code, event_date_added, ...);
//   - the GKG record's 27 columns prefixed "gkg_" (gkg_gkg_record_id, gkg_date, gkg_document_identifier,
//     gkg_v2_tone, ...), plus gkg_page_title and gkg_page_precise_pub_timestamp when Config.NestedGKG is set;
//   - join_status ("complete", "no_gkg" or "expired") and window (the mention's window id, YYYYMMDDHHMMSS).
//
// Every row has every column: the side that did not join is nil throughout.
const (
	EventPrefix     = "event_"
	GKGPrefix       = "gkg_"
	ColumnJoinState = "join_status"
	ColumnWindow    = "window"
)

// Join statuses.
const (
	StatusComplete = "complete" // the event and the article's GKG record joined
	StatusNoGKG    = "no_gkg"   // the event joined; no GKG record (or the mention is not a web article)
	StatusExpired  = "expired"  // the event did not join: older than the retention, later than the mention, or never seen
)

// Boxed once: storing these in a row's map does not allocate.
var (
	boxedComplete any = StatusComplete
	boxedNoGKG    any = StatusNoGKG
	boxedExpired  any = StatusExpired
)

// Columns returns the silver row's columns in order: each source column with
// its joined name and its source's type (and nesting, for the GKG), then
// join_status (String) and window (Int64). nestedGKG says whether the GKG rows
// were decoded with nested parsing, which adds the two V2EXTRASXML columns.
func Columns(nestedGKG bool) []schema.Column {
	var out []schema.Column
	add := func(prefix string, c schema.Column) {
		c.Name = prefix + c.Name
		c.Pos = len(out) + 1
		out = append(out, c)
	}
	for _, c := range schema.Mentions.Columns {
		add("", c)
	}
	for _, c := range schema.Events.Columns {
		add(EventPrefix, c)
	}
	for _, c := range schema.GKG.Columns {
		add(GKGPrefix, c)
	}
	if nestedGKG {
		for _, f := range schema.GKGExtrasColumns {
			add(GKGPrefix, schema.Column{Name: f.Name, Kind: f.Kind})
		}
	}
	add("", schema.Column{Name: ColumnJoinState, Kind: schema.String})
	add("", schema.Column{Name: ColumnWindow, Kind: schema.Int64})
	return out
}

// layout is the column positions the hot path uses: rows come in and go out
// as values in column order (schema.Row), never as maps.
type layout struct {
	in         [3][]string // each input table's column names, in order (InputLayout)
	inLayout   [3]*schema.Layout
	silver     *schema.Layout // the silver row's columns (Columns)
	eventKinds []schema.Kind
	eventStrs  int // string columns of the export
	eventNums  int // int64 and float64 columns of the export
	nMention   int // columns of a mention
	nEvent     int // columns of an event
	total      int // columns of a silver row

	// Positions of the columns the join reads.
	eventID, eventWindow                              int
	mentionID, mentionWindow, mentionType, mentionURL int
	gkgWindow, gkgURL                                 int
}

func newLayout(nestedGKG bool) *layout {
	l := &layout{}
	for t, tab := range []*schema.Table{schema.Events, schema.Mentions, schema.GKG} {
		ly := schema.LayoutOf(tab, nestedGKG)
		l.inLayout[t] = ly
		l.in[t] = ly.Names
	}
	for _, c := range schema.Events.Columns {
		l.eventKinds = append(l.eventKinds, c.Kind)
		if c.Kind == schema.String {
			l.eventStrs++
		} else {
			l.eventNums++
		}
	}
	l.nMention, l.nEvent = len(l.in[tableMentions]), len(l.in[tableEvents])
	var names []string
	for _, c := range Columns(nestedGKG) {
		names = append(names, c.Name)
	}
	l.silver = schema.NewLayout("silver", names)
	l.total = len(names)
	ev, mn, gk := l.inLayout[tableEvents], l.inLayout[tableMentions], l.inLayout[tableGKG]
	l.eventID, l.eventWindow = ev.Index("global_event_id"), ev.Index("date_added")
	l.mentionID, l.mentionWindow = mn.Index("global_event_id"), mn.Index("mention_time_date")
	l.mentionType, l.mentionURL = mn.Index("mention_type"), mn.Index("mention_identifier")
	l.gkgWindow, l.gkgURL = gk.Index("date"), gk.Index("document_identifier")
	return l
}

// Events are kept in state for the whole retention (48 h: ~340,000 of them),
// so they are stored as one compact record each rather than as 61-entry maps
// (a map of boxed values costs ~5 times the raw line):
//
//	8 bytes   null bitmap, bit i set = column i is nil
//	per non-nil column, in schema order:
//	  Int64   zig-zag varint
//	  Float64 8 bytes, IEEE 754 little endian (exact)
//	  String  uvarint length, then the bytes
//
// The record is about the size of the TSV line. Records live in one byte
// arena per window, so the event map holds no pointers and the garbage
// collector never scans it.

// appendEvent encodes the export row into dst. The columns must hold the
// schema's type or nil (a missing column is nil).
func (l *layout) appendEvent(dst []byte, vals []any) ([]byte, error) {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0)
	var nulls uint64
	names := l.in[tableEvents]
	for i, v := range vals {
		name := names[i]
		switch v := v.(type) {
		case nil:
			nulls |= 1 << i
		case int64:
			if l.eventKinds[i] != schema.Int64 {
				return dst[:start], typeError(name, v, l.eventKinds[i])
			}
			dst = binary.AppendVarint(dst, v)
		case float64:
			if l.eventKinds[i] != schema.Float64 {
				return dst[:start], typeError(name, v, l.eventKinds[i])
			}
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
		case string:
			if l.eventKinds[i] != schema.String {
				return dst[:start], typeError(name, v, l.eventKinds[i])
			}
			dst = binary.AppendUvarint(dst, uint64(len(v)))
			dst = append(dst, v...)
		default:
			return dst[:start], typeError(name, v, l.eventKinds[i])
		}
	}
	binary.LittleEndian.PutUint64(dst[start:], nulls)
	return dst, nil
}

func typeError(col string, v any, want schema.Kind) error {
	return fmt.Errorf("column %s: got %T, want %s or nil", col, v, want)
}

// putEvent decodes a record made by appendEvent into row (the event's
// columns in order). The strings share the record's bytes; the values are
// boxed in two slabs per row.
func (l *layout) putEvent(row []any, rec []byte) {
	nulls := binary.LittleEndian.Uint64(rec)
	// The strings point into the arena, without a copy: a record's bytes are
	// never written again once appended (arenas only grow, and a reallocation
	// leaves the old array to whoever still points into it).
	s := unsafe.String(unsafe.SliceData(rec), len(rec))
	p := 8
	b := newBoxer(l.eventStrs, l.eventNums)
	for i := range row {
		if nulls&(1<<i) != 0 {
			row[i] = nil
			continue
		}
		switch l.eventKinds[i] {
		case schema.Int64:
			v, n := binary.Varint(rec[p:])
			p += n
			row[i] = b.int64(v)
		case schema.Float64:
			row[i] = b.float64(math.Float64frombits(binary.LittleEndian.Uint64(rec[p:])))
			p += 8
		default:
			n, k := binary.Uvarint(rec[p:])
			p += k
			row[i] = b.string(s[p : p+int(n)])
			p += int(n)
		}
	}
}

package gold

import (
	"fmt"
	"math"
	"reflect"
	"strings"

	"github.com/gdeltflow/gdeltflow/plugins/delta"
)

// The day cache: the recent days gold recomputes, kept in memory so that a
// window's recomputation reads nothing from storage, and so that the mart
// batch can carry only what changed.
//
// A day is an event_date (its events_enriched rows) or a mention_date (its
// source_window partials), with the gold rows last computed for it. A day
// enters the cache on a miss, read whole from the table after the window's
// append (so a restart, which starts empty, stays exact); on a hit the
// window's rows are added to it. A cached day whose partition's live files
// are not the ones it was made from plus the window's (a vacuum, another
// writer) is read again. Any error in Apply empties the cache: the tables
// are the truth, and the next window reads them again. The cache is
// bounded by an estimate of its bytes; the days least recently touched go
// first (a day larger than the bound is not kept).

type dayKey struct {
	mention bool // false: an event_date; true: a mention_date
	date    string
}

type dayState struct {
	events []Event
	parts  []SourcePartial
	// rows are the gold rows last computed for the day, per table (nil
	// until computed once).
	rows map[string][]map[string]any
	// files are the partition's live files the day was made from.
	files      map[string]bool
	dataBytes  int64 // estimate of events / parts
	rowsBytes  int64 // estimate of rows
	lastWindow int64
}

func (s *dayState) bytes() int64 { return s.dataBytes + s.rowsBytes }

type dayCache struct {
	max  int64
	size int64
	days map[dayKey]*dayState
}

func newDayCache(max int64) *dayCache {
	return &dayCache{max: max, days: map[dayKey]*dayState{}}
}

func (c *dayCache) enabled() bool { return c != nil && c.max > 0 }

func (c *dayCache) get(k dayKey) *dayState {
	if !c.enabled() {
		return nil
	}
	return c.days[k]
}

// put records s under k after a successful window, then evicts the least
// recently touched days while the cache is over its bound.
func (c *dayCache) put(k dayKey, s *dayState, w int64) {
	if !c.enabled() {
		return
	}
	if old := c.days[k]; old != nil {
		c.size -= old.bytes()
	}
	s.lastWindow = w
	s.rowsBytes = 0
	for _, rows := range s.rows {
		for _, r := range rows {
			s.rowsBytes += rowBytes(r)
		}
	}
	c.days[k] = s
	c.size += s.bytes()
}

func (c *dayCache) evict() {
	for c.size > c.max && len(c.days) > 0 {
		var oldest dayKey
		first := true
		for k, s := range c.days {
			o := c.days[oldest]
			if first || s.lastWindow < o.lastWindow || (s.lastWindow == o.lastWindow && s.bytes() > o.bytes()) {
				oldest, first = k, false
			}
		}
		c.size -= c.days[oldest].bytes()
		delete(c.days, oldest)
	}
}

func (c *dayCache) drop(k dayKey) {
	if s := c.get(k); s != nil {
		c.size -= s.bytes()
		delete(c.days, k)
	}
}

func (c *dayCache) clear() {
	if c != nil {
		c.days, c.size = map[dayKey]*dayState{}, 0
	}
}

// sameFiles: the partition's live files are the cached day's and the ones
// the window just wrote, no more, no less.
func sameFiles(live []*delta.Add, cached, written map[string]bool) bool {
	n := 0
	for _, a := range live {
		switch {
		case cached[a.Path]:
			n++
		case written[a.Path]:
		default:
			return false
		}
	}
	return n == len(cached)
}

// cloned is the event with its own copies of its strings: a string read
// from a silver row or a Parquet page may share the memory of the whole row
// or page, which the cache would otherwise keep alive.
func (e Event) cloned() Event {
	for _, p := range []*string{&e.Date, &e.CountryFIPS, &e.GeoFullName, &e.Actor1Name, &e.Actor1Country, &e.Actor2Name,
		&e.Actor2Country, &e.EventCode, &e.RootCode, &e.SourceURL, &e.Description} {
		*p = strings.Clone(*p)
	}
	for _, l := range []*[]string{&e.Themes, &e.Persons, &e.Orgs} {
		c := make([]string, len(*l))
		for i, s := range *l {
			c[i] = strings.Clone(s)
		}
		*l = c
	}
	return e
}

// eventBytes estimates an Event's heap bytes: the struct, its strings and
// its tag lists.
func eventBytes(e *Event) int64 {
	n := int64(384 + len(e.Date) + len(e.CountryFIPS) + len(e.GeoFullName) + len(e.Actor1Name) + len(e.Actor1Country) +
		len(e.Actor2Name) + len(e.Actor2Country) + len(e.EventCode) + len(e.RootCode) + len(e.SourceURL) + len(e.Description))
	for _, l := range [][]string{e.Themes, e.Persons, e.Orgs} {
		for _, s := range l {
			n += int64(16 + len(s))
		}
	}
	return n
}

// rowBytes estimates a gold row's heap bytes (a map of ~15 entries).
func rowBytes(r map[string]any) int64 {
	n := int64(200)
	for k, v := range r {
		n += int64(48 + len(k))
		switch x := v.(type) {
		case string:
			n += int64(len(x))
		case []any:
			for _, y := range x {
				if s, ok := y.(string); ok {
					n += int64(32 + len(s))
				}
			}
		}
	}
	return n
}

// sameRow compares two gold rows value for value (floats bit for bit).
func sameRow(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, x := range a {
		y, ok := b[k]
		if !ok {
			return false
		}
		switch xv := x.(type) {
		case nil:
			if y != nil {
				return false
			}
		case string:
			if yv, ok := y.(string); !ok || xv != yv {
				return false
			}
		case int64:
			if yv, ok := y.(int64); !ok || xv != yv {
				return false
			}
		case float64:
			if yv, ok := y.(float64); !ok || math.Float64bits(xv) != math.Float64bits(yv) {
				return false
			}
		default:
			if !reflect.DeepEqual(x, y) {
				return false
			}
		}
	}
	return true
}

// rowKey names a row by its key columns.
func rowKey(r map[string]any, key []string) string {
	var b strings.Builder
	for _, k := range key {
		switch v := r[k].(type) {
		case string:
			b.WriteString(v)
		case nil:
		default:
			b.WriteString(fmt.Sprint(v))
		}
		b.WriteByte(0)
	}
	return b.String()
}

// diffRows compares a day's rows with the rows last computed for it: the
// rows that are new or whose values changed, and the keys (as rows of the
// key columns) of rows that are gone. Rows are compared value for value
// (floats bit for bit: gold's sums are taken in a fixed order).
func diffRows(prev, rows []map[string]any, key []string) (changed, deleted []map[string]any) {
	old := make(map[string]map[string]any, len(prev))
	for _, r := range prev {
		old[rowKey(r, key)] = r
	}
	for _, r := range rows {
		k := rowKey(r, key)
		o, ok := old[k]
		delete(old, k)
		if ok && sameRow(o, r) {
			continue
		}
		changed = append(changed, r)
	}
	for _, r := range prev {
		if _, gone := old[rowKey(r, key)]; gone {
			d := make(map[string]any, len(key))
			for _, k := range key {
				d[k] = r[k]
			}
			deleted = append(deleted, d)
		}
	}
	return changed, deleted
}

package join

import (
	"fmt"
	"sync"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
)

// Rows travel in and out of the join as their values in column order
// (schema.Row), not as maps: a silver row has 106 columns, and building and
// reading a map of them cost more than the join itself.

// SilverLayout is the layout of the silver rows DrainRows gives: Columns'
// names in order.
func (j *Joiner) SilverLayout() *schema.Layout { return j.l.silver }

// EventLayout is the layout of the event rows DrainEventRows gives: the
// export's columns in order.
func (j *Joiner) EventLayout() *schema.Layout { return j.l.inLayout[tableEvents] }

// InputLayout is the layout AddRow takes without conversion for table:
// schema.LayoutOf the table (GKG nested as Config.NestedGKG says).
func (j *Joiner) InputLayout(table string) (*schema.Layout, error) {
	t, err := tableIndex(table)
	if err != nil {
		return nil, err
	}
	return j.l.inLayout[t], nil
}

// AddRow is Add for a row given as values in layout's column order. A row
// of the table's InputLayout is taken as it is (its values are kept, not
// copied); another layout is mapped by column name (a column it lacks is
// nil).
func (j *Joiner) AddRow(table string, ly *schema.Layout, vals []any) error {
	t, err := tableIndex(table)
	if err != nil {
		return err
	}
	if ly != j.l.inLayout[t] {
		if len(vals) != len(ly.Names) {
			return fmt.Errorf("join: %s row: %d values for the %d columns of layout %s", schema.Tables()[t].Name, len(vals), len(ly.Names), ly.Name)
		}
		pos := j.l.positions(t, ly)
		mapped := make([]any, len(pos))
		for i, p := range pos {
			if p >= 0 {
				mapped[i] = vals[p]
			}
		}
		vals = mapped
	}
	return j.addValues(t, vals)
}

var positionCache sync.Map // posKey → []int

type posKey struct {
	to   *schema.Layout
	from *schema.Layout
}

// positions maps the columns of table t's input layout to their index in
// ly (-1: absent), once per layout.
func (l *layout) positions(t int, ly *schema.Layout) []int {
	k := posKey{l.inLayout[t], ly}
	if p, ok := positionCache.Load(k); ok {
		return p.([]int)
	}
	pos := make([]int, len(l.in[t]))
	for i, name := range l.in[t] {
		pos[i] = ly.Index(name)
	}
	positionCache.Store(k, pos)
	return pos
}

// toMaps turns rows of values into maps under names (for the map API).
func toMaps(names []string, rows [][]any) []map[string]any {
	if rows == nil {
		return nil
	}
	out := make([]map[string]any, len(rows))
	for i, r := range rows {
		m := make(map[string]any, len(names))
		for k, name := range names {
			m[name] = r[k]
		}
		out[i] = m
	}
	return out
}

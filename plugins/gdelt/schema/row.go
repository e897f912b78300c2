package schema

import "sync"

// Row is one row of a table with its values in column order: how rows travel
// between gdeltflow's stages (the decoder, the join, the Delta writer) without
// a map per row and a lookup per value. Values[i] belongs to Names()[i]; a
// value is an int64, a float64, a string, a nested value ([]any,
// map[string]any) or nil for null. A Row is carried in a message's metadata
// (contract.MetaRow); components that understand it read it, a Bloblang
// mapping reads its named fields with `@gdelt_row.gdelt_fields()` (or asks
// gdelt_decode for `form: map`).
type Row struct {
	Layout *Layout
	Values []any
}

// Layout is the ordered column names of a kind of row: a table's columns
// (with the GKG's extras when nested), or the columns of a row a stage makes
// (the silver join's).
type Layout struct {
	Name  string // e.g. "export", "gkg_nested", "silver"
	Names []string

	once  sync.Once
	index map[string]int
}

// NewLayout returns a layout of the given column names.
func NewLayout(name string, names []string) *Layout {
	return &Layout{Name: name, Names: names}
}

// Index is the position of the column named name, or -1.
func (l *Layout) Index(name string) int {
	l.once.Do(func() {
		l.index = make(map[string]int, len(l.Names))
		for i, n := range l.Names {
			l.index[n] = i
		}
	})
	if i, ok := l.index[name]; ok {
		return i
	}
	return -1
}

// Get returns the value of the column named name.
func (r *Row) Get(name string) (any, bool) {
	i := r.Layout.Index(name)
	if i < 0 || i >= len(r.Values) {
		return nil, false
	}
	return r.Values[i], true
}

// Map returns the row as a map of its named values (for Bloblang and the
// components that take maps). The values are shared, not copied.
func (r *Row) Map() map[string]any {
	m := make(map[string]any, len(r.Layout.Names))
	for i, n := range r.Layout.Names {
		if i < len(r.Values) {
			m[n] = r.Values[i]
		}
	}
	return m
}

var layouts sync.Map // *Table + nested → *Layout

// LayoutOf is the layout of a decoded row of t: its columns in order, then,
// for the GKG decoded with nested parsing, the extras (GKGExtrasColumns).
func LayoutOf(t *Table, nested bool) *Layout {
	type key struct {
		t      *Table
		nested bool
	}
	k := key{t, nested && t == GKG}
	if l, ok := layouts.Load(k); ok {
		return l.(*Layout)
	}
	names := make([]string, 0, len(t.Columns)+len(GKGExtrasColumns))
	for _, c := range t.Columns {
		names = append(names, c.Name)
	}
	name := t.Name
	if k.nested {
		for _, f := range GKGExtrasColumns {
			names = append(names, f.Name)
		}
		name += "_nested"
	}
	l, _ := layouts.LoadOrStore(k, NewLayout(name, names))
	return l.(*Layout)
}

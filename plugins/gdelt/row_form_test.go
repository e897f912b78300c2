package gdelt

import (
	"bytes"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/redpanda-data/benthos/v4/public/bloblang"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
)

// TestDecodeRowEqualsMap decodes every row of the real samples (and of a
// generated Mentions file) in both forms: the row's layout is the table's
// (with the GKG's extras when nested) and every column holds the value the
// map holds, of the same type.
func TestDecodeRowEqualsMap(t *testing.T) {
	cases := []struct {
		name   string
		table  *schema.Table
		nested bool
		lines  [][]byte
	}{
		{"export", schema.Events, false, realExportLines(t)},
		{"mentions", schema.Mentions, false, generatedMentionLines(t)},
		{"gkg", schema.GKG, false, realGKGLines(t)},
		{"gkg/nested", schema.GKG, true, realGKGLines(t)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := NewDecoder(c.table, c.nested)
			layout := schema.LayoutOf(c.table, c.nested)
			want := len(c.table.Columns)
			if c.nested {
				want += len(schema.GKGExtrasColumns)
			}
			if d.Layout() != layout || len(layout.Names) != want {
				t.Fatalf("layout %v (%d names), want LayoutOf's with %d", d.Layout().Name, len(d.Layout().Names), want)
			}
			nonNull := make([]int, want)
			for n, l := range c.lines {
				m, err := d.Decode(l)
				if err != nil {
					t.Fatalf("line %d: %v", n+1, err)
				}
				r, err := d.DecodeRow(l)
				if err != nil {
					t.Fatalf("line %d: DecodeRow: %v", n+1, err)
				}
				if r.Layout != layout || len(r.Values) != want || len(m) != want {
					t.Fatalf("line %d: %d values, %d keys, want %d", n+1, len(r.Values), len(m), want)
				}
				for i, name := range layout.Names {
					mv, ok := m[name]
					if !ok {
						t.Fatalf("line %d: the map lacks %s", n+1, name)
					}
					if !reflect.DeepEqual(mv, r.Values[i]) {
						t.Fatalf("line %d column %s: row %T %v, map %T %v", n+1, name, r.Values[i], r.Values[i], mv, mv)
					}
					if mv != nil {
						nonNull[i]++
					}
				}
				if !reflect.DeepEqual(r.Map(), m) {
					t.Fatalf("line %d: Row.Map differs from Decode's map", n+1)
				}
			}
			// The comparison means something: most columns hold values.
			filled := 0
			for _, k := range nonNull {
				if k > 0 {
					filled++
				}
			}
			if filled < want*2/3 {
				t.Fatalf("only %d of %d columns ever hold a value", filled, want)
			}
		})
	}
}

// TestGDELTDecodeRowForm runs gdelt_decode with form: row in a stream: the
// content stays the raw line, the row is in the gdelt_row metadata, a
// Bloblang mapping reads it as named fields with gdelt_fields() (equal to
// what form: map emits), and bad rows fail as they do with form: map.
func TestGDELTDecodeRowForm(t *testing.T) {
	lines := realExportLines(t)[:50]
	batch := func() service.MessageBatch {
		var b service.MessageBatch
		for i, l := range lines {
			b = append(b, newMsg(string(l), contract.MetaTable, "export", contract.MetaLine, "x"))
			if i == 10 {
				b = append(b, newMsg(string(l[:len(l)/2]), contract.MetaTable, "export", contract.MetaFile, "f.zip", contract.MetaLine, "11"))
			}
		}
		return b
	}
	rows, _ := runDecodeStream(t, "gdelt_decode: { form: row }", batch())
	maps, _ := runDecodeStream(t, "gdelt_decode: {}", batch())
	if len(rows) != len(lines)+1 || len(maps) != len(rows) {
		t.Fatalf("%d and %d messages out, want %d", len(rows), len(maps), len(lines)+1)
	}
	fields, err := bloblang.Parse(`root = @gdelt_row.gdelt_fields()`)
	if err != nil {
		t.Fatal(err)
	}
	id, err := bloblang.Parse(`root = @gdelt_row.gdelt_fields().global_event_id`)
	if err != nil {
		t.Fatal(err)
	}
	same, err := bloblang.Parse(`root = this.gdelt_fields()`)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range rows {
		if i == 11 {
			if m.GetError() == nil || maps[i].GetError() == nil || m.GetError().Error() != maps[i].GetError().Error() {
				t.Fatalf("the bad row: row form %v, map form %v", m.GetError(), maps[i].GetError())
			}
			if reason, _ := m.MetaGet(contract.MetaErrorReason); reason != ReasonFieldCount {
				t.Fatalf("the bad row's reason %q", reason)
			}
			if _, ok := m.MetaGetMut(contract.MetaRow); ok {
				t.Fatal("a bad row carries a row")
			}
			continue
		}
		if m.GetError() != nil {
			t.Fatalf("message %d: %v", i, m.GetError())
		}
		raw, _ := m.AsBytes()
		k := i
		if i > 11 {
			k = i - 1
		}
		if string(raw) != string(lines[k]) {
			t.Fatalf("message %d: the content is not the raw line", i)
		}
		v, _ := m.MetaGetMut(contract.MetaRow)
		if r, ok := v.(*schema.Row); !ok || r.Layout != schema.LayoutOf(schema.Events, false) {
			t.Fatalf("message %d: gdelt_row is %T", i, v)
		}
		got, err := m.BloblangQuery(fields)
		if err != nil {
			t.Fatal(err)
		}
		gv, err := got.AsStructured()
		if err != nil {
			t.Fatal(err)
		}
		want, _ := maps[i].AsStructured()
		if !reflect.DeepEqual(gv, want) {
			t.Fatalf("message %d: gdelt_fields() %v\nform: map %v", i, gv, want)
		}
		got, err = m.BloblangQuery(id)
		if err != nil {
			t.Fatal(err)
		}
		if gv, _ := got.AsStructured(); gv != want.(map[string]any)["global_event_id"] {
			t.Fatalf("message %d: global_event_id %v", i, gv)
		}
		// On a map-form row the method changes nothing.
		got, err = maps[i].BloblangQuery(same)
		if err != nil {
			t.Fatal(err)
		}
		if gv, _ := got.AsStructured(); !reflect.DeepEqual(gv, want) {
			t.Fatalf("message %d: gdelt_fields() on a map changed it", i)
		}
	}
	// Anything but a row or an object is an error that says what is wanted.
	_, err = newMsg("x").BloblangQuery(fields)
	if err == nil || !strings.Contains(err.Error(), "expected a row") {
		t.Fatalf("gdelt_fields on a missing row: %v", err)
	}
}

// TestGDELTFieldsDocumented: gdelt_fields is in the global environment (what
// cmd/benthos and `benthos blobl` use), its documented examples parse, give
// their documented results, and run on a message carrying a decoded row.
func TestGDELTFieldsDocumented(t *testing.T) {
	var view *bloblang.MethodView
	bloblang.GlobalEnvironment().WalkMethods(func(name string, v *bloblang.MethodView) {
		if name == "gdelt_fields" {
			view = v
		}
	})
	if view == nil {
		t.Fatal("gdelt_fields is not registered")
	}
	d := view.TemplateData()
	if len(d.Examples) < 2 || !strings.Contains(d.Description, "form: row") {
		t.Fatalf("%d examples, description %q", len(d.Examples), d.Description)
	}
	row, err := NewDecoder(schema.Events, false).DecodeRow(realExportLines(t)[0])
	if err != nil {
		t.Fatal(err)
	}
	results := 0
	for _, ex := range d.Examples {
		exe, err := bloblang.Parse(ex.Mapping)
		if err != nil {
			t.Fatalf("example %q: %v", ex.Mapping, err)
		}
		for _, io := range ex.Results {
			out, err := service.NewMessage([]byte(io[0])).BloblangQuery(exe)
			if err != nil {
				t.Fatalf("example %q on %s: %v", ex.Mapping, io[0], err)
			}
			if got, _ := out.AsBytes(); string(got) != io[1] {
				t.Errorf("example %q on %s gives %s, documented %s", ex.Mapping, io[0], got, io[1])
			}
			results++
		}
		if !strings.Contains(ex.Mapping, "@gdelt_row") {
			continue
		}
		m := service.NewMessage(realExportLines(t)[0])
		m.MetaSetMut(contract.MetaRow, row)
		out, err := m.BloblangQuery(exe)
		if err != nil {
			t.Fatalf("example %q on a row: %v", ex.Mapping, err)
		}
		got, _ := out.AsStructured()
		id, _ := row.Get("global_event_id")
		tone, _ := row.Get("avg_tone")
		if g, ok := got.(map[string]any); !ok || g["id"] != id || g["tone"] != tone {
			t.Errorf("example %q on a row gives %v, want id %v and tone %v", ex.Mapping, got, id, tone)
		}
		results++
	}
	if results < 2 {
		t.Fatalf("%d example results checked", results)
	}
}

// TestDecodeRowInArena: rows decoded in one arena equal rows decoded alone,
// after the arena has moved on to new chunks (rows keep theirs) and a GC;
// a bad row in the middle fails as it does alone and harms no other row.
func TestDecodeRowInArena(t *testing.T) {
	lines := realGKGLines(t)[:200] // ~12 KB rows: some lines get their own allocation
	lines = append(lines, realExportLines(t)[0])
	d := NewDecoder(schema.GKG, false)
	var a RowArena
	var rows []*schema.Row
	for i, l := range lines {
		r, err := d.DecodeRowIn(l, &a)
		if i == len(lines)-1 {
			if err == nil || !strings.Contains(err.Error(), "field_count") {
				t.Fatalf("an export row as GKG: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	runtime.GC()
	for i, r := range rows {
		want, err := d.DecodeRow(lines[i])
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(r, want) {
			t.Fatalf("row %d differs from the row decoded alone", i)
		}
	}
	ed := NewDecoder(schema.Events, false)
	var ea RowArena
	var erows []*schema.Row
	for _, l := range realExportLines(t) {
		r, err := ed.DecodeRowIn(l, &ea)
		if err != nil {
			t.Fatal(err)
		}
		erows = append(erows, r)
	}
	runtime.GC()
	for i, r := range erows {
		if want, _ := ed.DecodeRow(realExportLines(t)[i]); !reflect.DeepEqual(r, want) {
			t.Fatalf("export row %d differs from the row decoded alone", i)
		}
	}
}

// TestDecodeRowInSharedArena: a Shared arena's rows equal the rows decoded
// alone, and their strings point into the line decoded (no copy), while a
// plain arena's do not.
func TestDecodeRowInSharedArena(t *testing.T) {
	d := NewDecoder(schema.GKG, false)
	lines := realGKGLines(t)[:50]
	inLine := func(s string, line []byte) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		start := uintptr(unsafe.Pointer(&line[0]))
		return p >= start && p+uintptr(len(s)) <= start+uintptr(len(line))
	}
	for _, shared := range []bool{true, false} {
		a := RowArena{Shared: shared}
		strs := 0
		for i, l := range lines {
			line := bytes.Clone(l)
			r, err := d.DecodeRowIn(line, &a)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := d.DecodeRow(l)
			if !reflect.DeepEqual(r, want) {
				t.Fatalf("shared %v: row %d differs from the row decoded alone", shared, i)
			}
			for _, v := range r.Values {
				if s, ok := v.(string); ok && s != "" {
					strs++
					if inLine(s, line) != shared {
						t.Fatalf("shared %v: row %d: value %.20q in the line: %v", shared, i, s, inLine(s, line))
					}
				}
			}
		}
		if strs < 100 {
			t.Fatalf("only %d string values checked", strs)
		}
	}
}

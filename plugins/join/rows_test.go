package join

import (
	"context"
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
)

// The same feed given to gdelt_join as maps and as rows of values (metadata
// gdelt_row, gdelt_decode's `form: row`) gives the same silver rows, events
// and audit records; the rows come out as values too (no map per row).
func TestJoinRowFormEqualsMapForm(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	type in struct {
		table string
		row   map[string]any
	}
	var ins []in
	id := int64(1000)
	for w := 0; w < 8; w++ {
		for k := 0; k < 20; k++ {
			id++
			ins = append(ins, in{"export", ev(id, w)})
		}
		for k := 0; k < 40; k++ {
			url := fmt.Sprintf("https://example.com/%d", r.Intn(60))
			ins = append(ins, in{"mentions", mn(id-int64(r.Intn(50)), w, int64(1+r.Intn(2)), url)})
		}
		for k := 0; k < 15; k++ {
			ins = append(ins, in{"gkg", gk(w, fmt.Sprintf("https://example.com/%d", r.Intn(60)), fmt.Sprintf("%d-%d", w, k))})
		}
	}
	run := func(rows bool) (out []string) {
		pc, err := gdeltJoinSpec().ParseYAML("event_retention_windows: 4\n", nil)
		if err != nil {
			t.Fatal(err)
		}
		p, err := newGDELTJoinFromParsed(pc, service.MockResources())
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close(context.Background())
		var batch service.MessageBatch
		for _, x := range ins {
			m := service.NewMessage(nil)
			m.MetaSetMut(contract.MetaTable, x.table)
			if rows {
				tab, _ := schema.ByName(x.table)
				ly := schema.LayoutOf(tab, false)
				vals := make([]any, len(ly.Names))
				for i, n := range ly.Names {
					vals[i] = x.row[n]
				}
				m.MetaSetMut(contract.MetaRow, &schema.Row{Layout: ly, Values: vals})
			} else {
				m.SetStructuredMut(x.row)
			}
			batch = append(batch, m)
		}
		end := service.NewMessage(nil)
		end.MetaSetMut(contract.MetaMarker, contract.MarkerEnd)
		batch = append(batch, end)
		res, err := p.ProcessBatch(context.Background(), batch)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range res {
			for _, m := range b {
				tab, _ := m.MetaGet(contract.MetaSilverTable)
				win, _ := m.MetaGet(contract.MetaSilverWindow)
				var row map[string]any
				rv, isRow := m.MetaGetMut(contract.MetaRow)
				switch {
				case tab == AuditWindows:
					v, _ := m.AsStructured()
					row = v.(map[string]any)
					for k, v := range row {
						if _, ok := v.(time.Time); ok && k != "window_start" {
							delete(row, k) // wall time
						}
					}
				case isRow:
					if !rows {
						t.Fatalf("map input gave a %s row as values", tab)
					}
					row = rv.(*schema.Row).Map()
				default:
					if rows {
						t.Fatalf("row input gave a %s row as a map", tab)
					}
					v, _ := m.AsStructured()
					row = v.(map[string]any)
				}
				out = append(out, tab+"/"+win+"/"+fmt.Sprint(canonMap(row)))
			}
		}
		return out
	}
	maps, rows := run(false), run(true)
	if len(maps) < 300 {
		t.Fatalf("only %d output messages", len(maps))
	}
	if !reflect.DeepEqual(maps, rows) {
		for i := range min(len(maps), len(rows)) {
			if maps[i] != rows[i] {
				t.Fatalf("message %d differs:\nmap: %s\nrow: %s", i, maps[i], rows[i])
			}
		}
		t.Fatalf("%d messages from maps, %d from rows", len(maps), len(rows))
	}
}

// canonMap renders a map with sorted keys and typed values.
func canonMap(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	s := ""
	for _, k := range keys {
		s += k + "=" + fmt.Sprintf("%T:%v", m[k], m[k]) + ";"
	}
	return s
}

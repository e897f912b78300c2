package deltalake

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/delta"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
	gschema "github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
	"github.com/gdeltflow/gdeltflow/plugins/internal/deltatest"
)

// runBatches runs a stream of the given processors and output over batches
// made in Go. The output YAML is a fallback whose last output writes the
// rejected messages' errors, one a line, to the file %[1]s names; runBatches
// returns those lines.
// With concurrent set the batches are produced at once (for an output
// batching policy that gathers them), else one after the other.
func runBatches(t *testing.T, procs, output string, batches []service.MessageBatch, concurrent bool) []string {
	t.Helper()
	dlq := filepath.Join(t.TempDir(), "dlq.txt")
	sb := service.NewStreamBuilder()
	if err := sb.SetLoggerYAML("level: warn"); err != nil {
		t.Fatal(err)
	}
	if procs != "" {
		if err := sb.AddProcessorYAML(procs); err != nil {
			t.Fatal(err)
		}
	}
	if err := sb.AddOutputYAML(output + fmt.Sprintf(`
  - file: { path: %s, codec: lines }
    processors: [ { mapping: 'root = @fallback_error' } ]
`, dlq)); err != nil {
		t.Fatal(err)
	}
	produce, err := sb.AddBatchProducerFunc()
	if err != nil {
		t.Fatal(err)
	}
	st, err := sb.Build()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	errs := make(chan error, len(batches))
	for _, b := range batches {
		if concurrent {
			go func() { errs <- produce(ctx, b) }()
		} else {
			errs <- produce(ctx, b)
		}
	}
	for range batches {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	<-done
	b, err := os.ReadFile(dlq)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// feedBatches cuts a raw GDELT file into batches of feed rows, with the
// metadata gdelt_feed gives them, over two windows (two partitions).
func feedBatches(table string, tsv []byte, per int) []service.MessageBatch {
	var out []service.MessageBatch
	var b service.MessageBatch
	lines := bytes.Split(bytes.TrimSuffix(tsv, []byte("\n")), []byte("\n"))
	for i, l := range lines {
		window := "20230702153000"
		if i >= len(lines)/2 {
			window = "20230703000000"
		}
		m := service.NewMessage(append([]byte(nil), l...))
		for k, v := range map[string]string{contract.MetaTable: table, contract.MetaWindow: window, contract.MetaStream: "english",
			contract.MetaFile: window + "." + table + ".CSV.zip", contract.MetaLine: strconv.Itoa(i + 1)} {
			m.MetaSetMut(k, v)
		}
		b = append(b, m)
		if len(b) == per {
			out, b = append(out, b), nil
		}
	}
	if len(b) > 0 {
		out = append(out, b)
	}
	return out
}

// TestDeltaLakeRowsEqualMaps writes the real samples through gdelt_decode
// and delta_lake twice, once with form: row (values by position) and once
// with form: map: DuckDB reads the two tables as the same multiset of rows,
// every column, partition column included (the date partition given as
// YYYYMMDD for one, YYYY-MM-DD for the other).
func TestDeltaLakeRowsEqualMaps(t *testing.T) {
	deltatest.RequireDuck(t)
	cases := []struct {
		table  string
		nested bool
		tsv    []byte
	}{
		{"export", false, pqtExportTSV(t)},
		{"mentions", false, pqtMentionsTSV(t)},
		{"gkg", false, pqtGKGTSV(t)},
		{"gkg", true, pqtGKGTSV(t)},
	}
	for _, c := range cases {
		name := c.table
		if c.nested {
			name += "/nested"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			var n int64
			// The date partition from the window's first 8 digits (row)
			// and as YYYY-MM-DD (map): the same folders and values.
			dateOf := map[string]string{
				"row": "${! @gdelt_window.slice(0, 8) }",
				"map": "${! @gdelt_window.slice(0, 4) }-${! @gdelt_window.slice(4, 6) }-${! @gdelt_window.slice(6, 8) }",
			}
			for _, form := range []string{"row", "map"} {
				out := fmt.Sprintf(`
fallback:
  - delta_lake:
      path: %s
      gdelt_table: %s
      gkg_nested: %v
      progress: gdelt_feed
      partition_by:
        - column: window_date
          type: date
          value: '%s'
      batching: { count: 500, period: 50ms }
`, filepath.Join(dir, form), c.table, c.nested, dateOf[form])
				procs := fmt.Sprintf("gdelt_decode: { form: %s, gkg_nested: %v }", form, c.nested)
				if dead := runBatches(t, procs, out, feedBatches(c.table, c.tsv, 500), false); len(dead) > 0 {
					t.Fatalf("form %s: %d rows not written, the first: %s", form, len(dead), dead[0])
				}
				s, err := delta.Load(context.Background(), deltatest.Local(t, filepath.Join(dir, form)))
				if err != nil {
					t.Fatal(err)
				}
				got, _ := s.NumRecords()
				if form == "row" {
					n = got
				} else if got != n {
					t.Fatalf("form row wrote %d rows, form map %d", n, got)
				}
			}
			lines := int64(bytes.Count(c.tsv, []byte("\n")))
			if n != lines {
				t.Fatalf("%d rows in the table, want the file's %d", n, lines)
			}
			read := func(form string) string {
				return "SELECT * FROM read_parquet(" + deltatest.Quote(filepath.Join(dir, form, "window_date=*", "*.parquet")) + ", hive_partitioning = true)"
			}
			res := deltatest.Duck(t, "SELECT (SELECT count(*) FROM ("+read("row")+" EXCEPT ALL "+read("map")+")) AS only_row, "+
				"(SELECT count(*) FROM ("+read("map")+" EXCEPT ALL "+read("row")+")) AS only_map, "+
				"(SELECT count(*) FROM ("+read("row")+")) AS n, (SELECT count(DISTINCT window_date) FROM ("+read("row")+")) AS days")
			if deltatest.Int(t, res[0]["only_row"]) != 0 || deltatest.Int(t, res[0]["only_map"]) != 0 ||
				deltatest.Int(t, res[0]["n"]) != n || deltatest.Int(t, res[0]["days"]) != 2 {
				t.Fatalf("DuckDB: %v, want no difference, %d rows over 2 days", res[0], n)
			}
		})
	}
}

// TestDeltaLakeRowLayouts: rows of layouts other than the table's order are
// placed by name once per layout: columns in another order land in their
// columns, a column the table lacks is ignored, one the row lacks is null, a
// partition column without a value takes the row's value; a layout without a
// non-nullable column rejects its rows alone, with the words a map gets.
func TestDeltaLakeRowLayouts(t *testing.T) {
	dir := t.TempDir()
	table := filepath.Join(dir, "t")
	shuffled := gschema.NewLayout("shuffled", []string{"extra", "score", "day", "id", "name"})
	short := gschema.NewLayout("short", []string{"name", "day"})
	var batch []service.MessageBatch
	add := func(r *gschema.Row, pos int) {
		m := service.NewMessage([]byte("raw line " + strconv.Itoa(pos)))
		m.MetaSetMut(contract.MetaRow, r)
		m.MetaSetMut("pos", strconv.Itoa(pos))
		batch = append(batch, service.MessageBatch{m})
	}
	for i := 1; i <= 6; i++ {
		add(&gschema.Row{Layout: shuffled, Values: []any{"ignored", float64(i) / 2, "2023-07-0" + strconv.Itoa(1+i%2), int64(i), "n" + strconv.Itoa(i)}}, i)
	}
	add(&gschema.Row{Layout: short, Values: []any{"no id", "2023-07-01"}}, 7)
	add(&gschema.Row{Layout: shuffled, Values: []any{nil, 1.5}}, 8) // short values: id is null
	mapMsg := service.NewMessage([]byte(`{"name":"no id","day":"2023-07-01"}`))
	mapMsg.MetaSetMut("pos", "9")
	batch = append(batch, service.MessageBatch{mapMsg})
	out := fmt.Sprintf(`
fallback:
  - delta_lake:
      path: %s
      schema:
        - { name: id, type: long, nullable: false }
        - { name: name, type: string }
        - { name: score, type: double }
        - { name: day, type: date }
      partition_by: [ { column: day, type: date } ]
      progress: custom
      app_id: src
      version: '${! @pos }'
      batching: { count: 9 }
`, table)
	dead := runBatches(t, "", out, batch, true)
	if len(dead) != 3 {
		t.Fatalf("%d rows rejected, want 3: %q", len(dead), dead)
	}
	want := "delta_lake: rejected: column id: null in a non-nullable column"
	for _, why := range dead {
		if !strings.Contains(why, want) {
			t.Errorf("rejected with %q, want %q", why, want)
		}
	}
	s, err := delta.Load(context.Background(), deltatest.Local(t, table))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := s.NumRecords(); n != 6 {
		t.Fatalf("%d rows in the table, want 6", n)
	}
	deltatest.RequireDuck(t)
	res := deltatest.Duck(t, "SELECT string_agg(format('{}:{}:{}:{}', id, name, score, day), ' ' ORDER BY id) AS rows FROM read_parquet("+
		deltatest.Quote(filepath.Join(table, "day=*", "*.parquet"))+", hive_partitioning = true)")
	if got := res[0]["rows"]; got != "1:n1:0.5:2023-07-02 2:n2:1.0:2023-07-01 3:n3:1.5:2023-07-02 4:n4:2.0:2023-07-01 5:n5:2.5:2023-07-02 6:n6:3.0:2023-07-01" {
		t.Fatalf("DuckDB reads %v", got)
	}
}

// TestDeltaLakeDatePartition: a date partition value is YYYY-MM-DD or
// YYYYMMDD, and the log and the folders hold YYYY-MM-DD; anything else
// rejects its row alone, naming the value.
func TestDeltaLakeDatePartition(t *testing.T) {
	table := filepath.Join(t.TempDir(), "t")
	var batch []service.MessageBatch
	for i, d := range []string{"20230702", "2023-07-03", "20230702", "2023070", "2023-7-4", "2023x702"} {
		m := service.NewMessage([]byte(fmt.Sprintf(`{"id":%d}`, i)))
		m.MetaSetMut("d", d)
		m.MetaSetMut("pos", strconv.Itoa(i+1))
		batch = append(batch, service.MessageBatch{m})
	}
	out := fmt.Sprintf(`
fallback:
  - delta_lake:
      path: %s
      schema: [ { name: id, type: long } ]
      partition_by: [ { column: day, type: date, value: '${! @d }' } ]
      progress: custom
      app_id: src
      version: '${! @pos }'
      batching: { count: 6 }
`, table)
	dead := runBatches(t, "", out, batch, true)
	if len(dead) != 3 {
		t.Fatalf("%d rows rejected, want 3: %q", len(dead), dead)
	}
	all := strings.Join(dead, "\n")
	for _, v := range []string{"want a date partition value, got string 2023070\n", "2023-7-4", "2023x702"} {
		if !strings.Contains(all+"\n", v) {
			t.Errorf("rejected with %q, want %q named", dead, v)
		}
	}
	s, err := delta.Load(context.Background(), deltatest.Local(t, table))
	if err != nil {
		t.Fatal(err)
	}
	days := map[string]int{}
	for _, a := range s.Files {
		days[*a.PartitionValues["day"]]++
		if !strings.HasPrefix(a.Path, "day="+*a.PartitionValues["day"]+"/") {
			t.Errorf("file %s not under day=%s/", a.Path, *a.PartitionValues["day"])
		}
	}
	if len(days) != 2 || days["2023-07-02"] == 0 || days["2023-07-03"] == 0 {
		t.Fatalf("partitions %v, want 2023-07-02 and 2023-07-03", days)
	}
}

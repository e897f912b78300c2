package join

import (
	"bufio"
	"context"
	"maps"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
)

// Benchmarks over day-sized generated windows (gdeltgen.Day: ~1,750 events,
// ~4,500 mentions, ~1,130 GKG rows of ~12 KB per window), decoded outside the
// timer.
//
//	go test -run '^$' -bench . -cpu 1 ./plugins/join/
//
// BenchmarkJoin reports mentions/s through Add+Drain, from an empty state and
// with 48 h of events in state; BenchmarkJoinMemory the live heap with 48 h of
// event state (192 windows, ~345,000 events) while day-sized windows stream
// through.

var benchStart = gdeltgen.DayLoadStart

const (
	benchWindows    = 12
	benchRetention  = 192
	benchPreWindows = 192  // synthesized windows of events before the generated run
	benchPreEvents  = 1800 // per synthesized window
)

type benchWindow struct {
	events, mentions, gkg []map[string]any
}

func decodeAll(b testing.TB, d *gdelt.Decoder, data []byte) []map[string]any {
	var out []map[string]any
	for len(data) > 0 {
		i := 0
		for i < len(data) && data[i] != '\n' {
			i++
		}
		row, err := d.Decode(data[:i])
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, row)
		if i < len(data) {
			i++
		}
		data = data[i:]
	}
	return out
}

type benchDecoders struct{ e, m, g *gdelt.Decoder }

func newBenchDecoders() benchDecoders {
	return benchDecoders{gdelt.NewDecoder(schema.Events, false), gdelt.NewDecoder(schema.Mentions, false), gdelt.NewDecoder(schema.GKG, false)}
}

func (d benchDecoders) window(b testing.TB, w gdeltgen.Window) benchWindow {
	return benchWindow{decodeAll(b, d.e, w.Export), decodeAll(b, d.m, w.Mentions), decodeAll(b, d.g, w.GKG)}
}

// prefill puts benchPreWindows windows of synthesized events before
// benchStart into j, with the ids gdeltgen gives the events its later
// mentions refer to before the generated run (first id - 2000 per window back,
// + 0..1799), so that those mentions join as they would in a steady state.
// The rows are copies of the generated export rows with a new id and window.
func prefill(b testing.TB, j *Joiner, templates []map[string]any) {
	base0 := 1_300_000_000 + int64(benchStart.Sub(time.Date(2023, 7, 2, 0, 0, 0, 0, time.UTC))/gdeltgen.WindowDuration)*2000
	n := 0
	for w := -benchPreWindows; w < 0; w++ {
		wid, _ := strconv.ParseInt(gdeltgen.WindowID(benchStart.Add(time.Duration(w)*gdeltgen.WindowDuration)), 10, 64)
		for k := range benchPreEvents {
			row := maps.Clone(templates[n%len(templates)])
			n++
			row["global_event_id"] = base0 + int64(w)*2000 + int64(k)
			row["date_added"] = wid
			if err := j.Add("export", row); err != nil {
				b.Fatal(err)
			}
		}
		// The other tables are quiet before the run: declare them complete so
		// that the watermark (and eviction) follow the synthesized windows.
		for _, tb := range []string{"mentions", "gkg"} {
			if err := j.Complete(tb, wid); err != nil {
				b.Fatal(err)
			}
		}
		j.Drain()
	}
}

func benchConfig() Config {
	cfg := DefaultConfig()
	cfg.EventRetentionWindows = benchRetention
	return cfg
}

// benchDay generates the benchmarks' benchWindows day-sized windows. The raw
// windows are kept (pointer-free bytes) and each is decoded with the timer
// stopped just before it is fed: the live heap then holds what a pipeline
// would (the joiner's state and one window in flight), not 12 windows of
// decoded maps for the collector to scan. templates are the first window's
// decoded events (for prefill); nMentions counts the mentions rows.
func benchDay(b *testing.B, dec benchDecoders) (raw []gdeltgen.Window, templates []map[string]any, nMentions int) {
	cfg := gdeltgen.Day(benchStart, 1)
	cfg.Windows = benchWindows
	if err := gdeltgen.Generate(cfg, func(w gdeltgen.Window) error {
		raw = append(raw, w)
		if len(templates) == 0 {
			templates = dec.window(b, w).events
		}
		nMentions += bytesCount(w.Mentions, '\n')
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	return raw, templates, nMentions
}

func BenchmarkJoin(b *testing.B) {
	dec := newBenchDecoders()
	raw, templates, nMentions := benchDay(b, dec)
	for _, state := range []string{"empty", "48h"} {
		b.Run("state="+state, func(b *testing.B) {
			var st Stats
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				j, _ := New(benchConfig())
				if state == "48h" {
					prefill(b, j, templates)
				}
				runtime.GC()
				emitted := 0
				for _, w := range raw {
					b.StopTimer()
					bw := dec.window(b, w)
					b.StartTimer()
					for _, tb := range []struct {
						name string
						rows []map[string]any
					}{{"export", bw.events}, {"mentions", bw.mentions}, {"gkg", bw.gkg}} {
						for _, row := range tb.rows {
							if err := j.Add(tb.name, row); err != nil {
								b.Fatal(err)
							}
						}
						rows, _ := j.Drain()
						emitted += len(rows)
					}
				}
				rows, _ := j.Flush()
				emitted += len(rows)
				if emitted != nMentions {
					b.Fatalf("%d rows for %d mentions", emitted, nMentions)
				}
				st = j.Stats()
			}
			b.ReportMetric(float64(nMentions)*float64(b.N)/b.Elapsed().Seconds(), "mentions/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(nMentions)/float64(b.N), "ns/mention")
			b.ReportMetric(float64(st.Complete)/float64(nMentions), "join-rate")
		})
	}
}

func bytesCount(b []byte, c byte) int {
	n := 0
	for _, x := range b {
		if x == c {
			n++
		}
	}
	return n
}

// BenchmarkJoinMemory measures the live heap (after a GC) with 48 h of event
// state while day-sized windows stream through, decoded one at a time:
// joiner-heap is the growth over the heap before the Joiner was made,
// events-only-heap that growth with the 192 windows of events alone. sys-MiB
// (memory obtained from the OS) is meaningful for the first iteration only:
// run it at -benchtime 1x (what the default benchtime gives anyway).
func BenchmarkJoinMemory(b *testing.B) {
	defer debug.SetGCPercent(debug.SetGCPercent(binaryGCPercent()))
	for i := 0; i < b.N; i++ {
		dec := newBenchDecoders()
		// Templates for the synthesized events: the first generated window's.
		var templates []map[string]any
		one := gdeltgen.Day(benchStart, 2)
		one.Windows = 1
		if err := gdeltgen.Generate(one, func(w gdeltgen.Window) error {
			templates = dec.window(b, w).events
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		baseline := ms.HeapAlloc

		j, _ := New(benchConfig())
		prefill(b, j, templates)
		templates = nil
		runtime.GC()
		runtime.ReadMemStats(&ms)
		afterPrefill := ms.HeapAlloc

		var peak uint64
		var peakStats Stats
		cfg := gdeltgen.Day(benchStart, 1)
		cfg.Windows = 8
		if err := gdeltgen.Generate(cfg, func(w gdeltgen.Window) error {
			bw := dec.window(b, w)
			w = gdeltgen.Window{}
			for _, tb := range []struct {
				name string
				rows []map[string]any
			}{{"export", bw.events}, {"mentions", bw.mentions}, {"gkg", bw.gkg}} {
				for _, row := range tb.rows {
					if err := j.Add(tb.name, row); err != nil {
						b.Fatal(err)
					}
				}
				j.Drain() // the rows go downstream and are dropped
			}
			bw = benchWindow{}
			runtime.GC()
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak {
				peak, peakStats = ms.HeapAlloc, j.Stats()
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		runtime.KeepAlive(j)
		const mib = 1 << 20
		b.ReportMetric(float64(procStatusKB(b, "VmHWM"))/1024, "peak-rss-MiB")
		b.ReportMetric(float64(peak)/mib, "peak-live-heap-MiB")
		b.ReportMetric(float64(peak-baseline)/mib, "joiner-heap-MiB")
		b.ReportMetric(float64(afterPrefill-baseline)/mib, "events-only-heap-MiB")
		b.ReportMetric(float64(peakStats.StateBytes)/mib, "state-bytes-MiB")
		b.ReportMetric(float64(peakStats.StateEvents), "events")
		b.ReportMetric(float64(peakStats.StateGKG), "gkg-rows")
		b.ReportMetric(float64(peakStats.PendingMentions), "pending")
		b.ReportMetric(float64(ms.Sys)/mib, "sys-MiB")
	}
}

// binaryGCPercent is the GC target cmd/benthos runs with (GCPercent there,
// unless GOGC is set): the processor and memory benchmarks use the same.
func binaryGCPercent() int {
	if v, err := strconv.Atoi(os.Getenv("GOGC")); err == nil {
		return v
	}
	return 200
}

// procStatusKB reads a field of /proc/self/status (kB), 0 where there is none.
func procStatusKB(tb testing.TB, field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// BenchmarkJoinProcessor is BenchmarkJoin's 48 h case through the gdelt_join
// Benthos processor: decoded rows as structured messages in batches of 1,024,
// out come the silver rows, the typed events and the audit records as
// messages. The Joiner alone (BenchmarkJoin) is the reference.
// BenchmarkJoinProcessor runs gdelt_join over a day-sized load, its rows
// given as maps (form=map) and as values in column order (form=row, what
// gdelt_decode's `form: row` gives; the silver rows come out as values too).
func BenchmarkJoinProcessor(b *testing.B) {
	for _, form := range []string{"map", "row"} {
		b.Run("form="+form, func(b *testing.B) { benchJoinProcessor(b, form == "row") })
	}
}

func benchJoinProcessor(b *testing.B, rows bool) {
	dec := newBenchDecoders()
	raw, templates, nMentions := benchDay(b, dec)
	defer debug.SetGCPercent(debug.SetGCPercent(binaryGCPercent()))
	pc, err := gdeltJoinSpec().ParseYAML("event_retention_windows: 192", nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		p, err := newGDELTJoinFromParsed(pc, service.MockResources())
		if err != nil {
			b.Fatal(err)
		}
		prefill(b, p.j, templates)
		p.j.DrainEvents()
		p.j.DrainOpened()
		runtime.GC()
		emitted := 0
		count := func(out []service.MessageBatch) {
			for _, batch := range out {
				for _, m := range batch {
					if t, _ := m.MetaGet(contract.MetaSilverTable); t == SilverEventsDetailed {
						emitted++
					}
				}
			}
		}
		for _, w := range raw {
			b.StopTimer()
			bw := dec.window(b, w)
			var batches []service.MessageBatch
			for _, tb := range []struct {
				name string
				rows []map[string]any
			}{{"export", bw.events}, {"mentions", bw.mentions}, {"gkg", bw.gkg}} {
				for k := 0; k < len(tb.rows); k += 1024 {
					var batch service.MessageBatch
					for _, row := range tb.rows[k:min(k+1024, len(tb.rows))] {
						m := service.NewMessage(nil)
						if rows {
							tab, _ := schema.ByName(tb.name)
							ly := schema.LayoutOf(tab, false)
							vals := make([]any, len(ly.Names))
							for i, n := range ly.Names {
								vals[i] = row[n]
							}
							m.MetaSetMut(contract.MetaRow, &schema.Row{Layout: ly, Values: vals})
						} else {
							m.SetStructuredMut(row)
						}
						m.MetaSetMut("gdelt_table", tb.name)
						batch = append(batch, m)
					}
					batches = append(batches, batch)
				}
			}
			b.StartTimer()
			for _, batch := range batches {
				out, err := p.ProcessBatch(ctx, batch)
				if err != nil {
					b.Fatal(err)
				}
				count(out)
			}
		}
		end := service.NewMessage(nil)
		end.MetaSetMut(contract.MetaMarker, contract.MarkerEnd)
		out, err := p.ProcessBatch(ctx, service.MessageBatch{end})
		if err != nil {
			b.Fatal(err)
		}
		count(out)
		if emitted != nMentions {
			b.Fatalf("%d rows for %d mentions", emitted, nMentions)
		}
	}
	b.ReportMetric(float64(nMentions)*float64(b.N)/b.Elapsed().Seconds(), "mentions/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(nMentions)/float64(b.N), "ns/mention")
}

package gdelt

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
)

// windowSeq is what an input emitted, window by window: rows as
// "table:line:content", markers as "marker:kind", in order.
func windowSeq(rows []feedRow) (order []string, byWindow map[string][]string) {
	byWindow = map[string][]string{}
	for _, r := range rows {
		w := r.window
		if r.table == "marker" && r.content == contract.MarkerEnd {
			w = "end"
		}
		if _, seen := byWindow[w]; !seen {
			order = append(order, w)
		}
		if r.table == "marker" {
			byWindow[w] = append(byWindow[w], "marker:"+r.content)
		} else {
			byWindow[w] = append(byWindow[w], fmt.Sprintf("%s:%d:%s", r.table, r.line, r.content))
		}
	}
	return order, byWindow
}

// TestFeedContinuationEqualsOneRun: a backfill to T (with lookahead) and then
// a second run to T+N (with rewind) emit, for the windows after T, exactly
// the rows and markers of one run to T+N: a consumer completing window T
// with the next window's rows sees the same input either way. A run that
// stops at `to` emits no end marker; a run that reaches the list's last
// window does.
func TestFeedContinuationEqualsOneRun(t *testing.T) {
	ws := generate(t, 8)
	dir := t.TempDir()
	writeMirror(t, dir, ws, nil)
	id := func(i int) string { return gdeltgen.WindowID(ws[i].Time) }
	run := func(res *service.Resources, to string) ([]string, map[string][]string) {
		t.Helper()
		in := newTestFeedInput(t, res, fmt.Sprintf("base_url: %s\nmode: backfill\nto: %q\ncheckpoint_cache: cp\nwindow_markers: true\nmax_batch_rows: 33\nrewind_windows: 2\nlookahead_windows: 1\n", dir, to))
		return windowSeq(feedRows(drain(t, in)))
	}
	const T, N = 2, 3

	oneOrder, one := run(service.MockResources(service.MockResourcesOptAddCache("cp")), id(T+N))
	if want := []string{id(0), id(1), id(2), id(3), id(4), id(5), id(6)}; fmt.Sprint(oneOrder) != fmt.Sprint(want) {
		t.Fatalf("one run to %s read %v, want through the lookahead window and no end marker", id(T+N), oneOrder)
	}
	res := service.MockResources(service.MockResourcesOptAddCache("cp"))
	firstOrder, first := run(res, id(T))
	if want := []string{id(0), id(1), id(2), id(3)}; fmt.Sprint(firstOrder) != fmt.Sprint(want) {
		t.Fatalf("the run to %s read %v", id(T), firstOrder)
	}
	if cp := readCheckpoint(t, res); cp.Window != id(T+1) {
		t.Fatalf("checkpoint %s: the lookahead window moves it like any window", cp.Window)
	}
	secondOrder, second := run(res, id(T+N))
	// Rewind 2 from the checkpoint T+1: the second run starts at T.
	if want := []string{id(2), id(3), id(4), id(5), id(6)}; fmt.Sprint(secondOrder) != fmt.Sprint(want) {
		t.Fatalf("the second run read %v", secondOrder)
	}
	for i := 0; i <= T+1; i++ {
		if fmt.Sprint(first[id(i)]) != fmt.Sprint(one[id(i)]) {
			t.Fatalf("window %s differs between the first run and the one run", id(i))
		}
	}
	for i := T + 1; i <= T+N+1; i++ {
		if len(one[id(i)]) == 0 || fmt.Sprint(second[id(i)]) != fmt.Sprint(one[id(i)]) {
			t.Fatalf("window %s: the continuation emitted %d items, the one run %d", id(i), len(second[id(i)]), len(one[id(i)]))
		}
		if last := one[id(i)][len(one[id(i)])-1]; last != "marker:"+contract.MarkerWindowEnd {
			t.Fatalf("window %s does not end with its marker: %s", id(i), last)
		}
	}

	// To the list's last window: the data ends, the end marker comes last.
	endOrder, end := run(res, id(6))
	if endOrder[len(endOrder)-1] != "end" || fmt.Sprint(end["end"]) != "[marker:end]" || endOrder[len(endOrder)-2] != id(7) {
		t.Fatalf("a run through the last window read %v", endOrder)
	}
	// Nothing new, and nothing after: the end marker still says so.
	againOrder, _ := run(service.MockResources(service.MockResourcesOptAddCache("cp")), "")
	if againOrder[len(againOrder)-1] != "end" {
		t.Fatalf("a run of the whole list read %v", againOrder)
	}
}

// neededBy is a processor that registers consumer needs, as gdelt_join does.
func registerNeedsProcessor(t *testing.T, env *service.Environment, needs ConsumerNeeds, order *[]string, mu *sync.Mutex) {
	must(t, env.RegisterProcessor("test_needs", service.NewConfigSpec(), func(_ *service.ParsedConfig, mgr *service.Resources) (service.Processor, error) {
		mu.Lock()
		*order = append(*order, "processor constructed")
		mu.Unlock()
		RegisterConsumer(mgr, "test_needs", needs)
		return passProcessor{}, nil
	}))
}

type passProcessor struct{}

func (passProcessor) Process(_ context.Context, m *service.Message) (service.MessageBatch, error) {
	return service.MessageBatch{m}, nil
}
func (passProcessor) Close(context.Context) error { return nil }

// TestFeedConsumerNeedsBeforeConnect: a processor of the same stream, in the
// input's processors or the pipeline's, registers its needs before the input
// connects: the feed rewinds and reads ahead as it asked, with rewind_windows
// and lookahead_windows left at 0.
func TestFeedConsumerNeedsBeforeConnect(t *testing.T) {
	ws := generate(t, 6)
	dir := t.TempDir()
	writeMirror(t, dir, ws, nil)
	id := func(i int) string { return gdeltgen.WindowID(ws[i].Time) }
	for _, place := range []string{"input", "pipeline"} {
		t.Run(place, func(t *testing.T) {
			env := service.NewEnvironment()
			var mu sync.Mutex
			var order []string
			registerNeedsProcessor(t, env, ConsumerNeeds{Rewind: 2, Lookahead: 1}, &order, &mu)
			state := t.TempDir()
			// The checkpoint says window 4 is done; `to` is window 4.
			must(t, os.WriteFile(filepath.Join(state, "gdelt_feed"), []byte(`{"window":"`+id(3)+`"}`), 0o644))
			sb := env.NewStreamBuilder()
			input := fmt.Sprintf("gdelt_feed:\n  base_url: %s\n  mode: backfill\n  to: %q\n  checkpoint_cache: cp\n  window_markers: true\n", dir, id(3))
			if place == "input" {
				input += "processors:\n  - test_needs: {}\n"
			} else {
				must(t, sb.AddProcessorYAML("test_needs: {}"))
				sb.SetThreads(1) // one pipeline thread keeps the rows and markers in order, as the pipelines do
			}
			must(t, sb.AddInputYAML(input))
			must(t, sb.AddCacheYAML(fmt.Sprintf("label: cp\natomic_file:\n  directory: %s\n", state)))
			must(t, sb.SetLoggerYAML("level: none"))
			windows := map[string]bool{}
			var markers []string
			must(t, sb.AddConsumerFunc(func(_ context.Context, m *service.Message) error {
				mu.Lock()
				defer mu.Unlock()
				w, _ := m.MetaGet(contract.MetaWindow)
				if kind, ok := m.MetaGet(contract.MetaMarker); ok {
					markers = append(markers, kind+" "+w)
					return nil
				}
				if !windows[w] {
					order = append(order, "read "+w)
				}
				windows[w] = true
				return nil
			}))
			st, err := sb.Build()
			must(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			must(t, st.Run(ctx))
			// Rewind 2 from window 4: windows 3 and 4 again; lookahead 1: window 5.
			want := []string{"processor constructed", "read " + id(2), "read " + id(3), "read " + id(4)}
			if fmt.Sprint(order) != fmt.Sprint(want) {
				t.Fatalf("order %v, want %v", order, want)
			}
			if fmt.Sprint(markers) != fmt.Sprint([]string{"window_end " + id(2), "window_end " + id(3), "window_end " + id(4)}) {
				t.Fatalf("markers %v: no end marker before the list's end", markers)
			}
			raw, err := os.ReadFile(filepath.Join(state, "gdelt_feed"))
			must(t, err)
			if !strings.Contains(string(raw), `"window":"`+id(4)+`"`) {
				t.Fatalf("checkpoint %s", raw)
			}
		})
	}
}

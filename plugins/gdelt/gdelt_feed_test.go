package gdelt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
	_ "github.com/gdeltflow/gdeltflow/plugins/state"
	_ "github.com/redpanda-data/benthos/v4/public/components/pure"
)

func newTestFeedInput(t *testing.T, res *service.Resources, yaml string) *gdeltFeedInput {
	t.Helper()
	pc, err := gdeltFeedSpec().ParseYAML(yaml, nil)
	must(t, err)
	conf, err := gdeltFeedConfFromParsed(pc)
	must(t, err)
	in, err := newGDELTFeedFromParsed(conf, res)
	must(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	must(t, in.Connect(ctx))
	return in
}

type readRow struct{ window, table, line, content string }

func (r readRow) key() string { return r.window + "/" + r.table + "/" + r.line }

func rowsOf(b service.MessageBatch) []readRow {
	out := make([]readRow, len(b))
	for i, m := range b {
		raw, _ := m.AsBytes()
		w, _ := m.MetaGet(contract.MetaWindow)
		tb, _ := m.MetaGet(contract.MetaTable)
		l, _ := m.MetaGet(contract.MetaLine)
		out[i] = readRow{w, tb, l, string(raw)}
	}
	return out
}

// TestFeedRestartResumesAfterAckedWindow: a consumer acknowledges windows 1
// and 2 whole and window 3 in part, then dies. The restarted feed starts at
// window 3 line 1: no acknowledged window is read again, no row is lost.
func TestFeedRestartResumesAfterAckedWindow(t *testing.T) {
	ws := generate(t, 5)
	dir := t.TempDir()
	writeMirror(t, dir, ws, nil)
	res := service.MockResources(service.MockResourcesOptAddCache("cp"))
	yaml := fmt.Sprintf("base_url: %s\nmode: backfill\ncheckpoint_cache: cp\nmax_batch_rows: 25\n", dir)
	ctx := context.Background()
	id := func(i int) string { return gdeltgen.WindowID(ws[i].Time) }

	first := newTestFeedInput(t, res, yaml)
	acked := map[string]int{}
	var partial bool
	for {
		b, ack, err := first.ReadBatch(ctx)
		must(t, err)
		rows := rowsOf(b)
		w := rows[0].window
		if w == id(3) {
			break // window 4 reached: the consumer dies now
		}
		if w == id(2) && partial {
			continue // the rest of window 3 is never acknowledged
		}
		must(t, ack(ctx, nil))
		for _, r := range rows {
			acked[r.key()]++
		}
		partial = partial || w == id(2)
	}
	must(t, first.Close(ctx))

	var cp Checkpoint
	res.AccessCache(ctx, "cp", func(c service.Cache) {
		raw, err := c.Get(ctx, "gdelt_feed")
		must(t, err)
		must(t, json.Unmarshal(raw, &cp))
	})
	if cp.Window != id(1) {
		t.Fatalf("checkpoint %q, want %q", cp.Window, id(1))
	}

	second := newTestFeedInput(t, res, yaml)
	var firstRow *readRow
	for {
		b, ack, err := second.ReadBatch(ctx)
		if errors.Is(err, service.ErrEndOfInput) {
			break
		}
		must(t, err)
		rows := rowsOf(b)
		if firstRow == nil {
			firstRow = &rows[0]
		}
		must(t, ack(ctx, nil))
		for _, r := range rows {
			if r.window <= id(1) {
				t.Fatalf("window %s read again after its checkpoint", r.window)
			}
			if r.window == id(2) {
				delete(acked, r.key()) // window 3 is read again whole: the restart unit is the window
			}
			acked[r.key()]++
		}
	}
	must(t, second.Close(ctx))
	if firstRow.window != id(2) || firstRow.line != "1" || firstRow.table != "export" {
		t.Fatalf("restart began at %+v, want window %s export line 1", firstRow, id(2))
	}
	var want int
	for _, w := range ws {
		want += strings.Count(string(w.Export), "\n") + strings.Count(string(w.Mentions), "\n") + strings.Count(string(w.GKG), "\n")
	}
	if len(acked) != want {
		t.Fatalf("%d distinct rows acknowledged, want %d", len(acked), want)
	}
	for k, n := range acked {
		if n != 1 {
			t.Fatalf("row %s acknowledged %d times", k, n)
		}
	}

	// Everything is done: a third start reads nothing.
	third := newTestFeedInput(t, res, yaml)
	if _, _, err := third.ReadBatch(ctx); !errors.Is(err, service.ErrEndOfInput) {
		t.Fatalf("third start: %v", err)
	}
	must(t, third.Close(ctx))
}

// TestFeedStreamCheckpointsAtEnd runs the input in a real stream: a backfill
// ends the stream, and the checkpoint (with the incomplete files) is on disk.
func TestFeedStreamCheckpointsAtEnd(t *testing.T) {
	ws := generate(t, 3)
	dir := t.TempDir()
	writeMirror(t, dir, ws, func(m *gdeltgen.Mirror) {
		must(t, m.CorruptMD5(gdeltgen.FileName(gdeltgen.WindowID(ws[1].Time), "mentions", false)))
	})
	state := filepath.Join(t.TempDir(), "state")
	sb := service.NewStreamBuilder()
	must(t, sb.AddInputYAML(fmt.Sprintf(`
gdelt_feed:
  base_url: %s
  mode: backfill
  checkpoint_cache: cp
  max_batch_rows: 10
`, dir)))
	must(t, sb.AddCacheYAML(fmt.Sprintf("label: cp\natomic_file:\n  directory: %s\n", state)))
	must(t, sb.SetLoggerYAML("level: warn"))
	var rows int
	must(t, sb.AddConsumerFunc(func(context.Context, *service.Message) error { rows++; return nil }))
	st, err := sb.Build()
	must(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	must(t, st.Run(ctx))
	raw, err := os.ReadFile(filepath.Join(state, "gdelt_feed"))
	must(t, err)
	var cp Checkpoint
	must(t, json.Unmarshal(raw, &cp))
	if cp.Window != gdeltgen.WindowID(ws[2].Time) {
		t.Fatalf("checkpoint %s, want the last window", cp.Window)
	}
	if len(cp.Incomplete) != 1 || cp.Incomplete[0].Reason != ReasonMD5Mismatch || cp.Incomplete[0].Table != "mentions" {
		t.Fatalf("incomplete: %s", raw)
	}
	var want int
	for i, w := range ws {
		want += strings.Count(string(w.Export), "\n") + strings.Count(string(w.GKG), "\n")
		if i != 1 {
			want += strings.Count(string(w.Mentions), "\n")
		}
	}
	if rows != want {
		t.Fatalf("%d rows, want %d", rows, want)
	}
}

func parseFeedConf(t *testing.T, yaml string) (gdeltFeedConf, error) {
	t.Helper()
	pc, err := gdeltFeedSpec().ParseYAML(yaml, nil)
	must(t, err)
	return gdeltFeedConfFromParsed(pc)
}

// lintFeed returns what `benthos lint` says of a gdelt_feed config.
func lintFeed(t *testing.T, yaml string) error {
	t.Helper()
	return service.NewStreamBuilder().AddInputYAML("gdelt_feed:\n" + indent(yaml))
}

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

// TestFeedConfigReadsWhatAPersonMeans: mode, stream and tables in any case
// and with spaces, events for export, and date-only bounds as whole days.
func TestFeedConfigReadsWhatAPersonMeans(t *testing.T) {
	c, err := parseFeedConf(t, "mode: ' Backfill'\nstream: English\ntables: [ Events, ' GKG ' ]\nfrom: 2023-07-02\nto: 2023-07-02\n")
	must(t, err)
	f := c.feed
	if f.Mode != ModeBackfill || f.Stream != StreamEnglish || fmt.Sprint(f.Tables) != "[export gkg]" {
		t.Fatalf("mode %q stream %q tables %v", f.Mode, f.Stream, f.Tables)
	}
	if f.From != "20230702000000" || f.To != "20230702234500" {
		t.Fatalf("a date means its whole day: from %s to %s", f.From, f.To)
	}
	c, err = parseFeedConf(t, "mode: backfill\nfrom: 2023-07-02T15:00:00Z\nto: '20230702160000'\n")
	must(t, err)
	if c.feed.From != "20230702150000" || c.feed.To != "20230702160000" {
		t.Fatalf("times: from %s to %s", c.feed.From, c.feed.To)
	}
	if err := lintFeed(t, "mode: BACKFILL\ntables: [ Events, mentions ]\n"); err != nil {
		t.Fatalf("lint refused a good config: %v", err)
	}
}

// TestFeedConfigRefusesMistakes: each mistake is refused by lint where lint
// can see it, and at parse, with a message saying what was understood.
func TestFeedConfigRefusesMistakes(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		lint       string // "" when lint cannot see it
		parse      string
	}{
		{"a table twice", "mode: backfill\ntables: [ export, export ]\n", "named more than once", "both name the export table"},
		{"events and export", "mode: backfill\ntables: [ export, Events ]\n", "named more than once", "both name the export table"},
		{"an unknown table", "mode: backfill\ntables: [ export, evnts ]\n", "unknown table", "unknown GDELT table"},
		{"from in follow mode", "mode: follow\nfrom: 2023-07-02\n", "not follow", "not follow"},
		{"to in follow mode", "mode: Follow\nto: 2023-07-02\n", "not follow", "not follow"},
		{"repair without a checkpoint", "mode: repair\n", "set checkpoint_cache", "set checkpoint_cache"},
		{"from after to", "mode: backfill\nfrom: 2023-07-03\nto: 2023-07-02\n", "", "from 2023-07-03 00:00 is after to 2023-07-02 23:45"},
		{"a bad mode", "mode: backfil\n", "backfil", "want follow, backfill or repair"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseFeedConf(t, tc.yaml)
			if err == nil || !strings.Contains(err.Error(), tc.parse) {
				t.Errorf("parse: %v, want %q", err, tc.parse)
			}
			lerr := lintFeed(t, tc.yaml)
			switch {
			case tc.lint == "" && lerr != nil:
				t.Errorf("lint: %v", lerr)
			case tc.lint != "" && (lerr == nil || !strings.Contains(lerr.Error(), tc.lint)):
				t.Errorf("lint: %v, want %q", lerr, tc.lint)
			}
		})
	}
}

// drain reads an input to its end, acknowledging everything, and closes it.
func drain(t *testing.T, in *gdeltFeedInput) []service.MessageBatch {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out []service.MessageBatch
	for {
		b, ack, err := in.ReadBatch(ctx)
		if errors.Is(err, service.ErrEndOfInput) {
			break
		}
		must(t, err)
		must(t, ack(ctx, nil))
		out = append(out, b)
	}
	must(t, in.Close(ctx))
	return out
}

func checkpointJSON(t *testing.T, res *service.Resources, key string) string {
	t.Helper()
	var raw []byte
	ctx := context.Background()
	must(t, res.AccessCache(ctx, "cp", func(c service.Cache) {
		var err error
		raw, err = c.Get(ctx, key)
		must(t, err)
	}))
	return string(raw)
}

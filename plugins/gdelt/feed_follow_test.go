package gdelt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
)

// listServer serves a mirror folder over HTTP, with its lists chosen per
// read: master(n) and last(n) give the content of the n-th read (from 1).
type listServer struct {
	*httptest.Server
	mu                     sync.Mutex
	masterReads, lastReads int
}

func newListServer(t *testing.T, dir string, master, last func(n int) string) *listServer {
	s := &listServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		switch r.URL.Path {
		case "/masterfilelist.txt":
			s.masterReads++
			fmt.Fprint(w, master(s.masterReads))
		case "/lastupdate.txt":
			s.lastReads++
			fmt.Fprint(w, last(s.lastReads))
		default:
			http.FileServer(http.Dir(dir)).ServeHTTP(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *listServer) reads() (master, last int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.masterReads, s.lastReads
}

// linesOf returns the list lines of the given windows.
func linesOf(list string, windows ...string) string {
	var out []string
	for _, l := range strings.Split(strings.TrimSuffix(list, "\n"), "\n") {
		for _, w := range windows {
			if strings.Contains(l, "/"+w+".") {
				out = append(out, l)
			}
		}
	}
	return strings.Join(out, "\n") + "\n"
}

// follow runs a follow-mode feed until it has ended n windows (or fails the
// test after 20 s), then polls a few more times and stops it.
func follow(t *testing.T, cfg FeedConfig, src Source, log Logger, after string, n int) *collector {
	t.Helper()
	c := &collector{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- NewFeed(cfg, src, log).Run(ctx, after, c) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c.mu.Lock()
		got := len(c.ends)
		c.mu.Unlock()
		if got >= n {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("timed out waiting for %d windows (%d ended)", n, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(10 * cfg.PollInterval) // more polls: nothing more may come
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("follow ended with %v", err)
	}
	return c
}

func windowsOf(c *collector) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, e := range c.ends {
		out = append(out, e.Window)
	}
	return out
}

// TestFeedCatchUpBounded: a follow run whose checkpoint is 23 years old reads
// only the newest max_catch_up_windows windows, without walking the years
// between; the skipped range is logged once, counted and handed to the first
// window read. A far-future line in lastupdate.txt is a bad line, not the
// newest window.
func TestFeedCatchUpBounded(t *testing.T) {
	ws := generate(t, 5)
	dir := t.TempDir()
	writeMirror(t, dir, ws, nil)
	id := func(i int) string { return gdeltgen.WindowID(ws[i].Time) }
	master := string(mustRead(t, filepath.Join(dir, "masterfilelist.txt")))
	future := fmt.Sprintf("100 %s %s99991231234500.export.CSV.zip\n", strings.Repeat("0", 32), gdeltgen.FeedURLPrefix)
	srv := newListServer(t, dir, func(int) string { return master }, func(int) string { return linesOf(master, id(4)) + future })
	const old = "20000101000000"
	log := &recLog{t: t}
	obs := &observed{}
	cfg := testConfig(ModeFollow)
	cfg.MaxCatchUp = 3
	cfg.Observer = obs
	c := follow(t, cfg, source(t, srv.URL, log), log, old, 3)
	if got := windowsOf(c); fmt.Sprint(got) != fmt.Sprint([]string{id(2), id(3), id(4)}) {
		t.Fatalf("windows %v, want the newest 3", got)
	}
	checkWhole(t, ws[2:], nil, c)
	skipped := windowsBetween(old, id(1))
	want := WindowRange{From: "20000101001500", To: id(1), Windows: skipped, Reason: SkipCatchUpLimit}
	if c.ends[0].Skipped == nil || *c.ends[0].Skipped != want {
		t.Fatalf("first window carries skipped %+v, want %+v", c.ends[0].Skipped, want)
	}
	if c.ends[1].Skipped != nil || c.ends[2].Skipped != nil {
		t.Fatalf("the skipped range was handed on twice")
	}
	if obs.skipped != skipped || skipped < 800_000 {
		t.Fatalf("counted %d skipped windows, want %d", obs.skipped, skipped)
	}
	if n := len(log.find("WARN", "max_catch_up_windows (3)", "20000101001500", id(1))); n != 1 {
		t.Fatalf("the skip was logged %d times, want once", n)
	}
	// Every read the feed finished counted the line once; the stop may cut
	// the last read after the server counted it (seen on a loaded machine).
	_, lastReads := srv.reads()
	if n := obs.bad["lastupdate.txt/"+BadLineFuture]; n != lastReads && n != lastReads-1 {
		t.Fatalf("the future line was counted %d times in %d reads", obs.bad["lastupdate.txt/"+BadLineFuture], lastReads)
	}
}

// TestFeedCatchUpSkippedInCheckpoint: through the input, the skipped range
// lands in the checkpoint's skipped list once the next window is done.
func TestFeedCatchUpSkippedInCheckpoint(t *testing.T) {
	ws := generate(t, 4)
	dir := t.TempDir()
	writeMirror(t, dir, ws, nil)
	res := service.MockResources(service.MockResourcesOptAddCache("cp"))
	ctx := context.Background()
	must(t, res.AccessCache(ctx, "cp", func(c service.Cache) {
		must(t, c.Set(ctx, "gdelt_feed", []byte(`{"window":"20230601000000"}`), nil))
	}))
	in := newTestFeedInput(t, res, fmt.Sprintf("base_url: %s\nmode: follow\npoll_interval: 20ms\ncheckpoint_cache: cp\nmax_catch_up_windows: 2\n", dir))
	newest := gdeltgen.WindowID(ws[3].Time)
	deadline := time.Now().Add(20 * time.Second)
	for in.prog.checkpoint() != newest && time.Now().Before(deadline) {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		_, ack, err := in.ReadBatch(rctx)
		cancel()
		if err == nil {
			must(t, ack(ctx, nil))
		}
	}
	must(t, in.Close(ctx))
	var cp Checkpoint
	must(t, jsonUnmarshal(checkpointJSON(t, res, "gdelt_feed"), &cp))
	want := []WindowRange{{From: "20230601001500", To: gdeltgen.WindowID(ws[1].Time), Windows: windowsBetween("20230601000000", gdeltgen.WindowID(ws[1].Time)), Reason: SkipCatchUpLimit}}
	if cp.Window != newest || fmt.Sprint(cp.Skipped) != fmt.Sprint(want) {
		t.Fatalf("checkpoint %+v, want window %s and skipped %+v", cp, newest, want)
	}
}

// TestFeedStaleMasterList: a window of the catch-up gap that the master list
// lacks is looked for again at the next polls before it is recorded
// missing_from_list, never skipped in silence.
func TestFeedStaleMasterList(t *testing.T) {
	ws := generate(t, 5)
	dir := t.TempDir()
	writeMirror(t, dir, ws, nil)
	id := func(i int) string { return gdeltgen.WindowID(ws[i].Time) }
	master := string(mustRead(t, filepath.Join(dir, "masterfilelist.txt")))
	last := func(int) string { return linesOf(master, id(4)) }
	missing := func(c *collector) map[string]string {
		out := map[string]string{}
		for _, e := range c.ends {
			for _, fe := range e.Errors {
				out[fe.Window+"/"+fe.Table] = fe.Reason + ": " + fe.Detail
			}
		}
		return out
	}

	t.Run("updated after two reads", func(t *testing.T) {
		srv := newListServer(t, dir, func(n int) string {
			if n <= 2 {
				return linesOf(master, id(0), id(1))
			}
			return master
		}, last)
		log := &recLog{t: t}
		cfg := testConfig(ModeFollow)
		cfg.ListRereads = 3
		c := follow(t, cfg, source(t, srv.URL, nil), log, id(0), 4)
		if got := windowsOf(c); fmt.Sprint(got) != fmt.Sprint([]string{id(1), id(2), id(3), id(4)}) || len(c.errors()) != 0 {
			t.Fatalf("windows %v, errors %v: want 4 whole windows", got, c.errors())
		}
		checkWhole(t, ws[1:], nil, c)
		for _, r := range []string{"read 1 of at most 4", "read 2 of at most 4"} {
			if len(log.find("INFO", "window "+id(2)+" is not in", r)) != 1 {
				t.Errorf("no info line %q", r)
			}
		}
	})

	t.Run("missing for real", func(t *testing.T) {
		srv := newListServer(t, dir, func(int) string { return linesOf(master, id(0), id(1), id(3), id(4)) }, last)
		cfg := testConfig(ModeFollow)
		cfg.ListRereads = 3
		c := follow(t, cfg, source(t, srv.URL, nil), &recLog{t: t}, id(0), 4)
		if got := windowsOf(c); fmt.Sprint(got) != fmt.Sprint([]string{id(1), id(2), id(3), id(4)}) {
			t.Fatalf("windows %v", got)
		}
		got := missing(c)
		for _, table := range []string{"export", "mentions", "gkg"} {
			if d := got[id(2)+"/"+table]; !strings.HasPrefix(d, ReasonMissingFromList+": the master list lacked this window on 2 reads") {
				t.Errorf("%s %s: %q", id(2), table, d)
			}
		}
		if len(got) != 3 {
			t.Errorf("errors %v", got)
		}
		checkWhole(t, []gdeltgen.Window{ws[1], ws[3], ws[4]}, nil, c)
	})

	t.Run("stale for ever", func(t *testing.T) {
		srv := newListServer(t, dir, func(int) string { return linesOf(master, id(0), id(1)) }, last)
		cfg := testConfig(ModeFollow)
		cfg.ListRereads = 2
		c := follow(t, cfg, source(t, srv.URL, nil), &recLog{t: t}, id(0), 4)
		got := missing(c)
		for _, w := range []string{id(2), id(3)} {
			if d := got[w+"/gkg"]; !strings.HasPrefix(d, ReasonMissingFromList+": the master list lacked this window on 3 reads (its newest window: "+id(1)+")") {
				t.Errorf("%s: %q", w, d)
			}
		}
		if len(got) != 6 {
			t.Errorf("errors %v, want windows 3 and 4 missing", got)
		}
		checkWhole(t, []gdeltgen.Window{ws[1], ws[4]}, nil, c)
	})
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

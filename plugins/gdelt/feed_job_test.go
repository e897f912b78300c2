package gdelt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
	"github.com/gdeltflow/gdeltflow/plugins/runstate"
)

// fakeClock gives up at the giveUpAt-th failure in a row.
type fakeClock struct {
	fails, giveUpAt, oks int
}

func (c *fakeClock) Failing(error, string) bool { c.fails++; return c.fails >= c.giveUpAt }
func (c *fakeClock) Since() time.Duration       { return time.Duration(c.fails) * time.Second }
func (c *fakeClock) OK()                        { c.oks++; c.fails = 0 }

func runQuick(t *testing.T, cfg FeedConfig, src Source, log Logger, after string, timeout time.Duration) (*collector, error) {
	t.Helper()
	f := NewFeed(cfg, src, log)
	f.listBackoff = 5 * time.Millisecond
	c := &collector{}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return c, f.Run(ctx, after, c)
}

// TestFeedJobFailures: what stops a backfill, and what does not stop follow mode.
func TestFeedJobFailures(t *testing.T) {
	ws := generate(t, 3)
	dir := t.TempDir()
	writeMirror(t, dir, ws, nil)
	missing := filepath.Join(t.TempDir(), "no-such-mirror")

	t.Run("no list: a backfill stops at once", func(t *testing.T) {
		clock := &fakeClock{giveUpAt: 100}
		cfg := testConfig(ModeBackfill)
		cfg.Clock = clock
		_, err := runQuick(t, cfg, source(t, missing, nil), testLog{t}, "", 10*time.Second)
		var je *JobError
		if !errors.As(err, &je) || !strings.Contains(je.Err.Error(), filepath.Join(missing, "masterfilelist.txt")) ||
			!strings.Contains(je.Remedy, "check base_url (GDELT_BASE_URL)") {
			t.Fatalf("%v, want a JobError naming the list and base_url", err)
		}
		if clock.fails != 0 {
			t.Fatalf("a missing list was timed as transient (%d failures)", clock.fails)
		}
		// A base_url that is a file names no mirror either.
		_, err = runQuick(t, cfg, source(t, filepath.Join(dir, "masterfilelist.txt"), nil), testLog{t}, "", 10*time.Second)
		if !errors.As(err, &je) {
			t.Fatalf("a file as base_url: %v", err)
		}
	})

	t.Run("no list: follow mode goes on", func(t *testing.T) {
		log := &recLog{t: t}
		_, err := runQuick(t, testConfig(ModeFollow), source(t, missing, nil), log, "", 300*time.Millisecond)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%v, want follow to retry until stopped", err)
		}
		if n := len(log.find("WARN", "reading lastupdate.txt", "not found", "retrying in")); n < 3 {
			t.Fatalf("%d retries logged", n)
		}
	})

	t.Run("a list that stays unreadable: the clock gives up", func(t *testing.T) {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/masterfilelist.txt" && hits.Add(1) <= 2 {
				http.Error(w, "down", http.StatusServiceUnavailable)
				return
			}
			http.FileServer(http.Dir(dir)).ServeHTTP(w, r)
		}))
		defer srv.Close()
		src, err := NewSource(srv.URL, nil, RetryPolicy{MaxAttempts: 1}, nil)
		must(t, err)
		log := &recLog{t: t}
		cfg := testConfig(ModeBackfill)
		cfg.Clock, cfg.GiveUpAfter = &fakeClock{giveUpAt: 3}, 5*time.Minute
		c, err := runQuick(t, cfg, src, log, "", 10*time.Second)
		must(t, err) // two failures, then the list: the clock did not give up
		if len(c.ends) != 3 || cfg.Clock.(*fakeClock).oks != 1 {
			t.Fatalf("%d windows, clock %+v", len(c.ends), cfg.Clock)
		}
		if n := len(log.find("WARN", "masterfilelist.txt", "HTTP 503", "failing for", "giving up after 5m0s")); n != 2 {
			t.Fatalf("%d retries logged with the clock, want 2", n)
		}
		hits.Store(-10) // ten more failures
		cfg.Clock = &fakeClock{giveUpAt: 3}
		_, err = runQuick(t, cfg, src, log, "", 10*time.Second)
		var je *JobError
		if !errors.As(err, &je) || !strings.Contains(err.Error(), "HTTP 503") || !strings.Contains(je.Remedy, "give_up_after") {
			t.Fatalf("%v, want a JobError once the clock gave up", err)
		}
	})

	t.Run("a range with no window of the list", func(t *testing.T) {
		cfg := testConfig(ModeBackfill)
		cfg.From, cfg.To = "20300101000000", "20300101234500"
		_, err := runQuick(t, cfg, source(t, dir, nil), testLog{t}, "", 10*time.Second)
		var je *JobError
		want := fmt.Sprintf("no window of %s lies from 2030-01-01 00:00 to 2030-01-01 23:45: the list covers 2023-07-02 15:45 to 2023-07-02 16:15",
			filepath.Join(dir, "masterfilelist.txt"))
		if !errors.As(err, &je) || je.Err.Error() != want {
			t.Fatalf("%v\nwant %s", err, want)
		}
	})

	t.Run("nothing new after the checkpoint is a success", func(t *testing.T) {
		log := &recLog{t: t}
		c, err := runQuick(t, testConfig(ModeBackfill), source(t, dir, nil), log, gdeltgen.WindowID(ws[2].Time), 10*time.Second)
		must(t, err)
		if len(c.ends) != 0 || len(log.find("INFO", "nothing new after window "+gdeltgen.WindowID(ws[2].Time))) != 1 {
			t.Fatalf("%d windows; log:\n%s", len(c.ends), log.all())
		}
	})
}

// TestFeedProgressLines: one info line per window read, with its rows per
// table (and the reason of a file not read) and its distance to the newest
// window listed.
func TestFeedProgressLines(t *testing.T) {
	ws := generate(t, 4)
	dir := t.TempDir()
	writeMirror(t, dir, ws, func(m *gdeltgen.Mirror) {
		must(t, m.CorruptMD5(gdeltgen.FileName(gdeltgen.WindowID(ws[1].Time), "mentions", false)))
	})
	log := &recLog{t: t}
	_, err := run(t, testConfig(ModeBackfill), source(t, dir, nil), log, "")
	must(t, err)
	for i, want := range []string{
		"export 60, mentions 150, gkg 40 rows; 3 windows behind the newest listed (45m)",
		"export 60, mentions 0 (md5_mismatch), gkg 40 rows; 2 windows behind the newest listed (30m)",
		"export 60, mentions 150, gkg 40 rows; 1 window behind the newest listed (15m)",
		"export 60, mentions 150, gkg 40 rows; the newest listed",
	} {
		line := fmt.Sprintf("gdelt_feed: window %s read: %s", gdeltgen.WindowID(ws[i].Time), want)
		if got := log.find("INFO", line); len(got) != 1 {
			t.Errorf("no info line %q", line)
		}
	}
	if len(log.find("WARN", "md5_mismatch")) != 1 {
		t.Errorf("the file error is not a warning")
	}
	if showLag(26*time.Hour+45*time.Minute) != "1d2h45m" || showLag(2*time.Hour) != "2h" {
		t.Errorf("showLag: %s %s", showLag(26*time.Hour+45*time.Minute), showLag(2*time.Hour))
	}
}

// TestFeedJobFailsTheRun: through the input in a stream, a backfill of a
// mirror that does not exist records the run's failure (cause and remedy)
// in runstate at once and ends; so does a range with no window.
func TestFeedJobFailsTheRun(t *testing.T) {
	runstate.Reset()
	defer runstate.Reset()
	ws := generate(t, 2)
	dir := t.TempDir()
	writeMirror(t, dir, ws, nil)
	missing := filepath.Join(t.TempDir(), "no-such-mirror")
	runStream := func(yaml string) {
		t.Helper()
		sb := service.NewStreamBuilder()
		must(t, sb.AddInputYAML("gdelt_feed:\n"+indent(yaml)))
		must(t, sb.SetLoggerYAML("level: none"))
		must(t, sb.AddConsumerFunc(func(context.Context, *service.Message) error { return nil }))
		st, err := sb.Build()
		must(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		must(t, st.Run(ctx))
	}
	start := time.Now()
	runStream(fmt.Sprintf("base_url: %s\nmode: Backfill\n", missing))
	f := runstate.Failed()
	if f == nil || f.Component != "gdelt_feed" || !strings.Contains(f.Cause, filepath.Join(missing, "masterfilelist.txt")) ||
		!strings.Contains(f.Remedy, "GDELT_BASE_URL") {
		t.Fatalf("failure %+v", f)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %s to fail", d)
	}
	if job, after := runstate.Job(); !job || after != 5*time.Minute {
		t.Fatalf("job %v, give-up time %s", job, after)
	}

	runstate.Reset()
	runStream(fmt.Sprintf("base_url: %s\nmode: backfill\nfrom: 2030-01-01\nto: 2030-01-01\ngive_up_after: 1m\n", dir))
	if f := runstate.Failed(); f == nil || !strings.Contains(f.Error(), "lies from 2030-01-01 00:00 to 2030-01-01 23:45: the list covers") {
		t.Fatalf("failure %+v", f)
	}
	if _, after := runstate.Job(); after != time.Minute {
		t.Fatalf("give_up_after not used: %s", after)
	}

	// A follow run is no job: it never records a failure.
	runstate.Reset()
	sb := service.NewStreamBuilder()
	must(t, sb.AddInputYAML(fmt.Sprintf("gdelt_feed:\n  base_url: %s\n  mode: follow\n", missing)))
	must(t, sb.SetLoggerYAML("level: none"))
	must(t, sb.AddConsumerFunc(func(context.Context, *service.Message) error { return nil }))
	st, err := sb.Build()
	must(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	_ = st.Run(ctx)
	if f := runstate.Failed(); f != nil {
		t.Fatalf("follow mode failed the run: %v", f)
	}
	if job, _ := runstate.Job(); job {
		t.Fatalf("follow mode started a job")
	}
}

// TestFeedRefusesAFarFutureCheckpoint: a checkpoint window no list line can
// give today (written by an earlier version from a bad line) is refused,
// saying what to do, instead of hiding every real window; in a backfill the
// run fails.
func TestFeedRefusesAFarFutureCheckpoint(t *testing.T) {
	runstate.Reset()
	defer runstate.Reset()
	ws := generate(t, 2)
	dir := t.TempDir()
	writeMirror(t, dir, ws, nil)
	res := service.MockResources(service.MockResourcesOptAddCache("cp"))
	ctx := context.Background()
	must(t, res.AccessCache(ctx, "cp", func(c service.Cache) {
		must(t, c.Set(ctx, "gdelt_feed", []byte(`{"window":"99991231234500"}`), nil))
	}))
	pc, err := gdeltFeedSpec().ParseYAML(fmt.Sprintf("base_url: %s\nmode: backfill\ncheckpoint_cache: cp\n", dir), nil)
	must(t, err)
	conf, err := gdeltFeedConfFromParsed(pc)
	must(t, err)
	in, err := newGDELTFeedFromParsed(conf, res)
	must(t, err)
	err = in.Connect(ctx)
	if err == nil || !strings.Contains(err.Error(), `holds window "99991231234500"`) || !strings.Contains(err.Error(), "delete the key") {
		t.Fatalf("connect: %v", err)
	}
	if f := runstate.Failed(); f == nil || !strings.Contains(f.Cause, "99991231234500") {
		t.Fatalf("the backfill did not fail the run: %+v", f)
	}
}

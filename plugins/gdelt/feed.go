package gdelt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Feed modes.
const (
	ModeFollow   = "follow"
	ModeBackfill = "backfill"
)

// FeedConfig is the plain-Go configuration of a feed run.
type FeedConfig struct {
	Mode         string
	Stream       string
	Tables       []string
	From, To     string        // backfill bounds, inclusive window ids; "" = open
	PollInterval time.Duration // follow mode
	CatchUp      bool          // follow mode: fill a gap after a restart from the master list
	MaxLineBytes int
	MaxBatchRows int
	MaxBatchSize int // bytes
}

// Logger is what the feed needs of a logger.
type Logger interface {
	Infof(format string, args ...any)
	Warnf(format string, args ...any)
	Errorf(format string, args ...any)
}

// WindowEnd closes a window: every chunk of it has been emitted before it.
type WindowEnd struct {
	Window string
	Errors []*FileError // files not read completely
	Rows   map[string]int
}

// Emitter receives the feed's output in order. An error stops the run.
type Emitter interface {
	Chunk(ctx context.Context, c *Chunk) error
	WindowEnd(ctx context.Context, w *WindowEnd) error
}

// Feed reads windows from a source and emits their rows.
type Feed struct {
	cfg FeedConfig
	src Source
	log Logger
}

// NewFeed returns a feed over src.
func NewFeed(cfg FeedConfig, src Source, log Logger) *Feed {
	return &Feed{cfg: cfg, src: src, log: log}
}

// Run emits every window after the window id `after` ("" = none) until the
// backfill range is exhausted (nil) or ctx ends (ctx.Err()). Follow mode runs
// until ctx ends.
func (f *Feed) Run(ctx context.Context, after string, out Emitter) error {
	if f.cfg.Mode == ModeBackfill {
		plans, err := f.masterPlans(ctx, listFilter{stream: f.cfg.Stream, tables: f.cfg.Tables, after: after, from: f.cfg.From, to: f.cfg.To})
		if err != nil {
			return err
		}
		f.log.Infof("gdelt_feed: backfill of %d windows after %q, from %q to %q", len(plans), after, f.cfg.From, f.cfg.To)
		for _, p := range plans {
			if err := f.window(ctx, p, out); err != nil {
				return err
			}
		}
		return nil
	}
	return f.follow(ctx, after, out)
}

// masterPlans reads the master list, retrying until it can be read or ctx ends:
// without it a backfill can do nothing, and the data must not be skipped.
func (f *Feed) masterPlans(ctx context.Context, filter listFilter) ([]windowPlan, error) {
	master, _ := ListNames(f.cfg.Stream)
	var plans []windowPlan
	err := f.retryList(ctx, master, func() error {
		r, err := f.src.Open(ctx, master)
		if err != nil {
			return err
		}
		defer r.Close()
		plans, err = readList(r, filter, func(n int, line string, err error) {
			f.log.Warnf("gdelt_feed: %s line %d skipped: %v: %.200q", f.src.Location(master), n, err, line)
		})
		return err
	})
	return plans, err
}

func (f *Feed) retryList(ctx context.Context, name string, fn func() error) error {
	delay := time.Second
	for {
		err := fn()
		if err == nil || ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, errNotFound) && f.cfg.Mode == ModeBackfill {
			return fmt.Errorf("reading %s: %w", f.src.Location(name), err)
		}
		f.log.Warnf("gdelt_feed: reading %s: %v; retrying in %s", f.src.Location(name), err, delay)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Minute)
	}
}

func (f *Feed) follow(ctx context.Context, last string, out Emitter) error {
	_, lastName := ListNames(f.cfg.Stream)
	for {
		var plans []windowPlan
		err := f.retryList(ctx, lastName, func() error {
			r, err := f.src.Open(ctx, lastName)
			if err != nil {
				return err
			}
			defer r.Close()
			plans, err = readList(r, listFilter{stream: f.cfg.Stream, tables: f.cfg.Tables, after: last}, func(n int, line string, err error) {
				f.log.Warnf("gdelt_feed: %s line %d skipped: %v", f.src.Location(lastName), n, err)
			})
			return err
		})
		if err != nil {
			return err
		}
		if len(plans) > 0 {
			newest := plans[len(plans)-1]
			todo := []windowPlan{newest}
			if last != "" && f.cfg.CatchUp && newest.Window > nextWindow(last) {
				todo = f.gapPlans(ctx, last, newest)
			}
			for _, p := range todo {
				if err := f.window(ctx, p, out); err != nil {
					return err
				}
				last = p.Window
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(f.cfg.PollInterval):
		}
	}
}

// gapPlans covers the windows between last (exclusive) and newest from the
// master list, and records the windows the list lacks as missing, so that no
// window passes unrecorded.
func (f *Feed) gapPlans(ctx context.Context, last string, newest windowPlan) []windowPlan {
	known := map[string]windowPlan{newest.Window: newest}
	f.log.Infof("gdelt_feed: catching up from %s to %s with the master list", last, newest.Window)
	plans, err := f.masterPlans(ctx, listFilter{stream: f.cfg.Stream, tables: f.cfg.Tables, after: last, to: newest.Window})
	if err != nil {
		f.log.Errorf("gdelt_feed: catch-up from %s failed: %v", last, err)
	}
	for _, p := range plans {
		if p.Window != newest.Window {
			known[p.Window] = p
		}
	}
	var todo []windowPlan
	for w := nextWindow(last); w <= newest.Window; w = nextWindow(w) {
		p, ok := known[w]
		if !ok {
			p = windowPlan{Window: w, Missing: f.cfg.Tables}
		}
		todo = append(todo, p)
	}
	return todo
}

func nextWindow(id string) string {
	t, err := WindowTime(id)
	if err != nil {
		return id
	}
	return WindowID(t.Add(15 * time.Minute))
}

// window emits every row of one window, then its WindowEnd.
func (f *Feed) window(ctx context.Context, p windowPlan, out Emitter) error {
	end := &WindowEnd{Window: p.Window, Rows: map[string]int{}}
	for _, t := range p.Missing {
		name := FileName(p.Window, t, f.cfg.Stream)
		end.Errors = append(end.Errors, &FileError{Window: p.Window, Table: t, File: name, Location: f.src.Location(name),
			Reason: ReasonMissingFromList, Detail: "no line for this file in the list"})
	}
	for _, e := range p.Files {
		rows, ferr, err := f.file(ctx, e, out)
		if err != nil {
			return err
		}
		end.Rows[e.Table] = rows
		if ferr != nil {
			end.Errors = append(end.Errors, ferr)
		}
	}
	for _, fe := range end.Errors {
		f.log.Warnf("gdelt_feed: %v", fe)
	}
	return out.WindowEnd(ctx, end)
}

// file emits the rows of one file. A problem with the file is returned as a
// FileError (the run goes on); err is only for a stopped run.
func (f *Feed) file(ctx context.Context, e ListEntry, out Emitter) (rows int, ferr *FileError, err error) {
	fe := func(reason, detail string) *FileError {
		return &FileError{Window: e.Window, Table: e.Table, File: e.Name, Location: f.src.Location(e.Name), Reason: reason, Detail: detail, Rows: rows}
	}
	data, err := f.src.Fetch(ctx, e.Name, e.Size)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, ctx.Err()
		}
		if errors.Is(err, errNotFound) {
			return 0, fe(ReasonNotFound, err.Error()), nil
		}
		return 0, fe(ReasonFetchFailed, err.Error()), nil
	}
	if reason, detail := verifyFile(data, e); reason != "" {
		return 0, fe(reason, detail), nil
	}
	entry, err := openZipEntry(data, e.Name)
	if err != nil {
		return 0, fe(ReasonCorruptZip, err.Error()), nil
	}
	defer entry.Close()
	ck := newChunker(entry, f.cfg.MaxLineBytes, f.cfg.MaxBatchRows, f.cfg.MaxBatchSize)
	for {
		ch := &Chunk{Window: e.Window, Table: e.Table, File: e.Name, Stream: e.Stream}
		rerr := ck.next(ch)
		if len(ch.Lines) > 0 {
			if err := out.Chunk(ctx, ch); err != nil {
				return rows, nil, err
			}
			rows += len(ch.Lines)
		}
		switch {
		case rerr == io.EOF && rows == 0:
			return 0, fe(ReasonEmptyFile, "the file holds no rows"), nil
		case rerr == io.EOF:
			return rows, nil, nil
		case rerr != nil:
			return rows, fe(ReasonCorruptZip, "inflating: "+rerr.Error()), nil
		}
	}
}

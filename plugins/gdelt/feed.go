package gdelt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Feed modes.
const (
	ModeFollow   = "follow"
	ModeBackfill = "backfill"
	ModeRepair   = "repair"
)

// FeedConfig is the plain-Go configuration of a feed run.
type FeedConfig struct {
	Mode         string
	Stream       string
	Tables       []string
	From, To     string        // backfill and repair bounds, inclusive window ids; "" = open
	PollInterval time.Duration // follow mode
	CatchUp      bool          // follow mode: fill a gap after a restart from the master list
	// MaxCatchUp bounds a follow-mode catch-up: of a longer gap only the
	// newest MaxCatchUp windows are read, the older ones are skipped and
	// recorded (WindowEnd.Skipped). 0: 2880 (30 days).
	MaxCatchUp int
	// ListRereads is how many more times (one per poll) the master list is
	// read for a window of a catch-up gap that it lacks before the window is
	// recorded missing_from_list: a stale list must not cost a window.
	ListRereads int
	// Lookahead: a backfill with To reads as many windows of the list after
	// To, so that a stateful consumer completes To as a longer run would.
	Lookahead    int
	MaxLineBytes int
	MaxBatchRows int
	MaxBatchSize int // bytes
	Limits       ListLimits
	// Clock times list failures of a finite run (backfill, repair); nil: they
	// are retried for ever. GiveUpAfter is its give-up time, for the logs.
	Clock       FailureClock
	GiveUpAfter time.Duration
	Observer    Observer // may be nil
}

// FailureClock times an ongoing failure (runstate.Clock is one).
type FailureClock interface {
	// Failing records one more failure; true means the run gave up.
	Failing(err error, remedy string) bool
	Since() time.Duration
	OK()
}

// Observer hears of what the feed counts besides rows (the adapter's metrics).
type Observer interface {
	BadListLine(list, reason string)
	WindowsSkipped(n int64)
}

// Logger is what the feed needs of a logger.
type Logger interface {
	Infof(format string, args ...any)
	Warnf(format string, args ...any)
	Errorf(format string, args ...any)
}

// JobError is a failure a finite run (backfill, repair) cannot get past: the
// list does not exist, stayed unreadable past the give-up time, or holds
// nothing of the range asked for. The adapter stops the run with it.
type JobError struct {
	Err    error
	Remedy string
}

func (e *JobError) Error() string { return e.Err.Error() + "; " + e.Remedy }
func (e *JobError) Unwrap() error { return e.Err }

// WindowEnd closes a window: every chunk of it has been emitted before it.
type WindowEnd struct {
	Window string
	Errors []*FileError // files not read completely
	Rows   map[string]int
	// Skipped, when set, is a range of windows just before this one that the
	// feed will never read (a catch-up over max_catch_up_windows): recorded
	// in the checkpoint once this window is done.
	Skipped *WindowRange
	// Repair: the window's files were read again (mode repair); Repaired are
	// the incomplete records they came from. Errors are those that still fail.
	Repair   bool
	Repaired []*FileError
}

// Emitter receives the feed's output in order. An error stops the run.
type Emitter interface {
	Chunk(ctx context.Context, c *Chunk) error
	WindowEnd(ctx context.Context, w *WindowEnd) error
	// End says that the list has no window after the last one emitted: the
	// data ends here (backfill only; a backfill that stopped at `to` does not
	// call it).
	End(ctx context.Context) error
}

// Feed reads windows from a source and emits their rows.
type Feed struct {
	cfg FeedConfig
	src Source
	log Logger
	// listBackoff is the first wait before a list is read again (then
	// doubling, up to a minute); tests shorten it.
	listBackoff time.Duration
}

// NewFeed returns a feed over src.
func NewFeed(cfg FeedConfig, src Source, log Logger) *Feed {
	if cfg.MaxCatchUp <= 0 {
		cfg.MaxCatchUp = 2880
	}
	if cfg.Limits.Now == nil && cfg.Limits.MaxListBytes == 0 && cfg.Limits.MaxFileBytes == 0 {
		cfg.Limits = DefaultListLimits()
	}
	return &Feed{cfg: cfg, src: src, log: log, listBackoff: time.Second}
}

// Run emits every window after the window id `after` ("" = none) until the
// backfill range is exhausted (nil) or ctx ends (ctx.Err()). Follow mode runs
// until ctx ends. A *JobError is a backfill that cannot do its work.
func (f *Feed) Run(ctx context.Context, after string, out Emitter) error {
	switch f.cfg.Mode {
	case ModeBackfill:
		return f.backfill(ctx, after, out)
	case ModeFollow:
		return f.follow(ctx, after, out)
	}
	return fmt.Errorf("gdelt_feed: Run reads modes backfill and follow, not %q", f.cfg.Mode)
}

func (f *Feed) backfill(ctx context.Context, after string, out Emitter) error {
	master, _ := ListNames(f.cfg.Stream)
	scan, err := f.scanList(ctx, master, listFilter{stream: f.cfg.Stream, tables: f.cfg.Tables, after: after,
		from: f.cfg.From, to: f.cfg.To, lookahead: f.cfg.Lookahead})
	if err != nil {
		return err
	}
	if !scan.anyInRange {
		return &JobError{Err: f.emptyRange(master, scan), Remedy: "choose from and to (GDELT_FROM, GDELT_TO) within the list's span"}
	}
	if len(scan.plans) == 0 {
		f.log.Infof("gdelt_feed: nothing new after window %s: the windows of %s %s are all at or before it", after, f.src.Location(master), rangeText(f.cfg.From, f.cfg.To))
	} else {
		f.log.Infof("gdelt_feed: backfill of %d windows, %s to %s, from %s", len(scan.plans),
			ShowWindow(scan.plans[0].Window), ShowWindow(scan.plans[len(scan.plans)-1].Window), f.src.Location(master))
	}
	last := after
	for _, p := range scan.plans {
		if err := f.window(ctx, p, out, scan.last, nil); err != nil {
			return err
		}
		last = p.Window
	}
	if last >= scan.last {
		return out.End(ctx)
	}
	return nil
}

func (f *Feed) emptyRange(list string, scan listScan) error {
	if scan.last == "" {
		return fmt.Errorf("%s lists no %s window of %s", f.src.Location(list), f.cfg.Stream, strings.Join(f.cfg.Tables, ", "))
	}
	return fmt.Errorf("no window of %s lies %s: the list covers %s to %s", f.src.Location(list),
		rangeText(f.cfg.From, f.cfg.To), ShowWindow(scan.first), ShowWindow(scan.last))
}

// rangeText says what a from/to range was understood as.
func rangeText(from, to string) string {
	switch {
	case from == "" && to == "":
		return "in the whole list"
	case to == "":
		return "from " + ShowWindow(from) + " on"
	case from == "":
		return "up to " + ShowWindow(to)
	}
	return "from " + ShowWindow(from) + " to " + ShowWindow(to)
}

// maxBadLineLogs is how many bad lines of one list read are logged one by one.
const maxBadLineLogs = 10

// scanList reads a list (retrying as retryList says), reporting its bad lines.
func (f *Feed) scanList(ctx context.Context, name string, filter listFilter) (listScan, error) {
	var scan listScan
	loc := f.src.Location(name)
	err := f.retryList(ctx, name, func() error {
		r, err := f.src.Open(ctx, name)
		if err != nil {
			return err
		}
		defer r.Close()
		logged := 0
		scan, err = readList(r, filter, f.cfg.Limits, func(n int, be *BadLineError, line []byte) {
			if f.cfg.Observer != nil {
				f.cfg.Observer.BadListLine(name, be.Reason)
			}
			if logged++; logged <= maxBadLineLogs {
				f.log.Warnf("gdelt_feed: %s line %d skipped: %v: %.200q", loc, n, be, line)
			}
		})
		if logged > maxBadLineLogs {
			f.log.Warnf("gdelt_feed: %s: %d more bad lines skipped (counted in gdelt_feed_list_bad_lines)", loc, logged-maxBadLineLogs)
		}
		return err
	})
	return scan, err
}

// retryList runs fn until the list is read. Follow mode retries every failure
// for ever, logging each. A finite run fails at once on a failure no retry can
// mend (no such list, a refused redirect, a list over its limit), and on a
// transient one once the Clock gives up.
func (f *Feed) retryList(ctx context.Context, name string, fn func() error) error {
	job := f.cfg.Mode != ModeFollow
	loc := f.src.Location(name)
	bo := newExponential(f.listBackoff, time.Minute, 0.2)
	delay := bo.NextBackOff()
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil {
			if f.cfg.Clock != nil {
				f.cfg.Clock.OK()
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		err = withLocation(loc, err)
		if job && !transient(err) {
			return &JobError{Err: fmt.Errorf("reading %s: %w", name, err), Remedy: listRemedy(name, err)}
		}
		var since string
		if job && f.cfg.Clock != nil {
			remedy := "check the network and base_url (GDELT_BASE_URL), or raise give_up_after"
			if f.cfg.Clock.Failing(err, remedy) {
				return &JobError{Err: fmt.Errorf("reading %s: failing for %s: %w", name, f.cfg.Clock.Since().Round(time.Second), err), Remedy: remedy}
			}
			since = fmt.Sprintf(", failing for %s", f.cfg.Clock.Since().Round(time.Second))
			if f.cfg.GiveUpAfter > 0 {
				since += fmt.Sprintf(", giving up after %s", f.cfg.GiveUpAfter)
			}
		}
		f.log.Warnf("gdelt_feed: reading %s: %v; retrying in %s (attempt %d%s)", name, err, delay, attempt, since)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = bo.NextBackOff()
	}
}

// withLocation makes sure an error names the file it is about.
func withLocation(loc string, err error) error {
	if strings.Contains(err.Error(), loc) {
		return err
	}
	return fmt.Errorf("%s: %w", loc, err)
}

func listRemedy(name string, err error) string {
	var re *RedirectError
	var lb *ListTooBigError
	switch {
	case errors.Is(err, errNotFound):
		return "check base_url (GDELT_BASE_URL): it must name the GDELT 2.0 feed or a mirror that holds " + name
	case errors.As(err, &re):
		return "point base_url (GDELT_BASE_URL) at the host that serves the files"
	case errors.As(err, &lb):
		return "raise max_list_bytes if the list is really that large"
	}
	return "check base_url (GDELT_BASE_URL), its credentials and permissions"
}

func (f *Feed) follow(ctx context.Context, last string, out Emitter) error {
	_, lastName := ListNames(f.cfg.Stream)
	var gap gapState
	for {
		scan, err := f.scanList(ctx, lastName, listFilter{stream: f.cfg.Stream, tables: f.cfg.Tables, after: last})
		if err != nil {
			return err
		}
		if n := len(scan.plans); n > 0 {
			newest := scan.plans[n-1]
			switch {
			case last == "" || newest.Window == nextWindow(last):
				if err := f.window(ctx, newest, out, newest.Window, nil); err != nil {
					return err
				}
				last = newest.Window
			case !f.cfg.CatchUp:
				f.log.Warnf("gdelt_feed: catch_up is off: the %d windows after %s and before %s are not read", windowsBetween(last, newest.Window)-1, last, newest.Window)
				if err := f.window(ctx, newest, out, newest.Window, nil); err != nil {
					return err
				}
				last = newest.Window
			default:
				if last, err = f.catchUp(ctx, last, newest, out, &gap); err != nil {
					return err
				}
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(f.cfg.PollInterval):
		}
	}
}

// gapState is a follow run's memory of its catch-up between polls.
type gapState struct {
	window  string       // the first window of the gap that the master list lacked
	reads   int          // on how many reads of the master list
	skipped *WindowRange // skipped windows not yet handed to a WindowEnd
	logged  string       // the newest window whose catch-up was announced
}

// catchUp reads the windows after last up to newest from the master list,
// walking the gap one window at a time (at most MaxCatchUp of them). A window
// the master list lacks is looked for again at the next poll, up to
// ListRereads more reads (fewer once a read lists later windows), before it is
// recorded missing_from_list: the walk stops there until then, since windows
// are emitted in order. It returns the last window emitted.
func (f *Feed) catchUp(ctx context.Context, last string, newest windowPlan, out Emitter, gap *gapState) (string, error) {
	master, _ := ListNames(f.cfg.Stream)
	if n := windowsBetween(last, newest.Window); n > int64(f.cfg.MaxCatchUp) {
		first := addWindows(newest.Window, -(f.cfg.MaxCatchUp - 1))
		r := &WindowRange{From: nextWindow(last), To: addWindows(first, -1), Windows: n - int64(f.cfg.MaxCatchUp), Reason: SkipCatchUpLimit}
		f.log.Warnf("gdelt_feed: the %d windows %s to %s are more than max_catch_up_windows (%d) behind the newest window %s: skipped, and recorded in the checkpoint's skipped list; read them with mode backfill, from %s to %s",
			r.Windows, r.From, r.To, f.cfg.MaxCatchUp, newest.Window, r.From, r.To)
		if f.cfg.Observer != nil {
			f.cfg.Observer.WindowsSkipped(r.Windows)
		}
		if gap.skipped != nil { // an earlier skip not yet recorded: one range
			r.From, r.Windows = gap.skipped.From, r.Windows+gap.skipped.Windows
		}
		gap.skipped, last = r, r.To
	}
	if gap.logged != newest.Window {
		gap.logged = newest.Window
		f.log.Infof("gdelt_feed: catching up from %s to %s with the master list (%d windows)", last, newest.Window, windowsBetween(last, newest.Window))
	}
	scan, err := f.scanList(ctx, master, listFilter{stream: f.cfg.Stream, tables: f.cfg.Tables, after: last, to: newest.Window})
	if err != nil {
		return last, err
	}
	known := make(map[string]windowPlan, len(scan.plans)+1)
	for _, p := range scan.plans {
		known[p.Window] = p
	}
	known[newest.Window] = newest
	for w := nextWindow(last); w <= newest.Window; w = nextWindow(w) {
		p, ok := known[w]
		if !ok {
			if gap.window != w {
				gap.window, gap.reads = w, 0
			}
			gap.reads++
			// A list that already shows later windows is not stale, but is
			// still read once more: it may have been caught mid-update.
			if gap.reads <= f.cfg.ListRereads && !(gap.reads > 1 && scan.last > w) {
				f.log.Infof("gdelt_feed: window %s is not in %s yet (read %d of at most %d): looking again at the next poll", w, f.src.Location(master), gap.reads, f.cfg.ListRereads+1)
				return last, nil
			}
			p = windowPlan{Window: w, Missing: f.cfg.Tables,
				MissingDetail: fmt.Sprintf("the master list lacked this window on %d reads (its newest window: %s)", gap.reads, scan.last)}
		}
		skipped := gap.skipped
		gap.skipped = nil
		if err := f.window(ctx, p, out, newest.Window, skipped); err != nil {
			return last, err
		}
		last = w
	}
	return last, nil
}

// window emits every row of one window, then its WindowEnd.
func (f *Feed) window(ctx context.Context, p windowPlan, out Emitter, newest string, skipped *WindowRange) error {
	end := &WindowEnd{Window: p.Window, Rows: map[string]int{}, Skipped: skipped}
	detail := p.MissingDetail
	if detail == "" {
		detail = "no line for this file in the list"
	}
	for _, t := range p.Missing {
		name := FileName(p.Window, t, f.cfg.Stream)
		end.Errors = append(end.Errors, &FileError{Window: p.Window, Table: t, File: name, Location: f.src.Location(name),
			Reason: ReasonMissingFromList, Detail: detail})
	}
	for _, e := range p.Files {
		rows, ferr, err := f.file(ctx, e, out, 0, false)
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
	f.log.Infof("gdelt_feed: window %s read: %s; %s", p.Window, f.rowsText(end), behind(p.Window, newest))
	return out.WindowEnd(ctx, end)
}

// rowsText lists a window's rows per table, in table order, with the reason
// of a file not read whole: "export 60, mentions 0 (md5_mismatch), gkg 40 rows".
func (f *Feed) rowsText(end *WindowEnd) string {
	var parts []string
	for _, t := range f.cfg.Tables {
		s := fmt.Sprintf("%s %d", t, end.Rows[t])
		for _, fe := range end.Errors {
			if fe.Table == t {
				s += " (" + fe.Reason + ")"
			}
		}
		if i := slices.IndexFunc(end.Repaired, func(fe *FileError) bool { return fe.Table == t }); i >= 0 && end.Repaired[i].Rows > 0 {
			s += fmt.Sprintf(" after the %d emitted before", end.Repaired[i].Rows)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ") + " rows"
}

// behind says how far window is from the newest window listed.
func behind(window, newest string) string {
	n := windowsBetween(window, newest)
	if n <= 0 || newest == "" {
		return "the newest listed"
	}
	plural := "s"
	if n == 1 {
		plural = ""
	}
	return fmt.Sprintf("%d window%s behind the newest listed (%s)", n, plural, showLag(time.Duration(n)*WindowDuration))
}

func showLag(d time.Duration) string {
	days, d := d/(24*time.Hour), d%(24*time.Hour)
	s := ""
	if days > 0 {
		s = fmt.Sprintf("%dd", days)
	}
	if h := d / time.Hour; h > 0 {
		s += fmt.Sprintf("%dh", h)
	}
	if m := (d % time.Hour) / time.Minute; m > 0 || s == "" {
		s += fmt.Sprintf("%dm", m)
	}
	return s
}

// file emits the rows of one file after its first skip rows (emitted by an
// earlier run). A problem with the file is returned as a FileError whose Rows
// count every row of the file emitted so far, skip included; err is only for
// a stopped run.
func (f *Feed) file(ctx context.Context, e ListEntry, out Emitter, skip int, repair bool) (rows int, ferr *FileError, err error) {
	fe := func(reason, detail string) *FileError {
		return &FileError{Window: e.Window, Table: e.Table, File: e.Name, Location: f.src.Location(e.Name), Reason: reason, Detail: detail, Rows: skip + rows}
	}
	data, err := f.src.Fetch(ctx, e.Name, e.Size)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, ctx.Err()
		}
		var tl *BodyTooLongError
		switch {
		case errors.As(err, &tl):
			return 0, fe(ReasonSizeMismatch, err.Error()), nil
		case errors.Is(err, errNotFound):
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
	if skip > 0 {
		switch err := ck.skip(skip); {
		case err == io.EOF:
			return 0, nil, nil // nothing after the rows emitted before
		case err != nil:
			return 0, fe(ReasonCorruptZip, "inflating: "+err.Error()), nil
		}
	}
	for {
		ch := &Chunk{Window: e.Window, Table: e.Table, File: e.Name, Stream: e.Stream, Repair: repair}
		rerr := ck.next(ch)
		if len(ch.Lines) > 0 {
			if err := out.Chunk(ctx, ch); err != nil {
				return rows, nil, err
			}
			rows += len(ch.Lines)
		}
		switch {
		case rerr == io.EOF && rows == 0 && skip == 0:
			return 0, fe(ReasonEmptyFile, "the file holds no rows"), nil
		case rerr == io.EOF:
			return rows, nil, nil
		case rerr != nil:
			return rows, fe(ReasonCorruptZip, "inflating: "+rerr.Error()), nil
		}
	}
}

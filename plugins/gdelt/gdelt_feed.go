package gdelt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
)

const (
	gfFieldBaseURL         = "base_url"
	gfFieldMode            = "mode"
	gfFieldFrom            = "from"
	gfFieldTo              = "to"
	gfFieldTables          = "tables"
	gfFieldStream          = "stream"
	gfFieldPollInterval    = "poll_interval"
	gfFieldCatchUp         = "catch_up"
	gfFieldCheckpointCache = "checkpoint_cache"
	gfFieldCheckpointKey   = "checkpoint_key"
	gfFieldMaxBatchRows    = "max_batch_rows"
	gfFieldMaxBatchBytes   = "max_batch_bytes"
	gfFieldMaxLineBytes    = "max_line_bytes"
	gfFieldHTTP            = "http"
	gfFieldHTTPTimeout     = "timeout"
	gfFieldHTTPAttempts    = "max_attempts"
	gfFieldHTTPBackoff     = "initial_backoff"
	gfFieldHTTPMaxBackoff  = "max_backoff"
	gfFieldTLS             = "tls"
	gfFieldWindowMarkers   = "window_markers"
	gfFieldRewind          = "rewind_windows"
)

// Window markers (window_markers: true): messages with no content and
// metadata gdelt_marker, for stateful consumers such as gdelt_join.
const (
	MetaMarker      = "gdelt_marker"
	MarkerWindowEnd = "window_end" // every file of gdelt_window was emitted before it
	MarkerEnd       = "end"        // the backfill is over (after the last window's marker)
)

func gdeltFeedSpec() *service.ConfigSpec {
	return service.NewConfigSpec().
		Categories("Services").
		Summary("Reads the GDELT 2.0 feed (Events export, Mentions, GKG), one message per row, with durable window-level progress.").
		Description(`
Reads the 15-minute files of the GDELT 2.0 feed from `+"`base_url`"+`: the real feed
(`+"`http://data.gdeltproject.org/gdeltv2/`"+`) or any mirror with the same layout, over http(s) or as a local
directory. Every file is downloaded whole, checked against the size and md5 of its list line, and its zip entry is
streamed row by row. Each row becomes one message: the raw tab-separated line (no line end) as content, with metadata
`+"`gdelt_table`"+` (export, mentions, gkg), `+"`gdelt_window`"+` (YYYYMMDDHHMMSS), `+"`gdelt_file`"+` (the zip's name),
`+"`gdelt_line`"+` (1-based row number in the file) and `+"`gdelt_stream`"+` (english, translation). Rows are emitted in
batches of consecutive rows of one file (see `+"`max_batch_rows`"+`, `+"`max_batch_bytes`"+`).

### Modes
- `+"`follow`"+`: polls `+"`lastupdate.txt`"+` every `+"`poll_interval`"+` and reads each new window exactly once. After a restart,
  the windows missed since the checkpoint are read from `+"`masterfilelist.txt`"+` (`+"`catch_up`"+`).
- `+"`backfill`"+`: reads every window of `+"`masterfilelist.txt`"+` between `+"`from`"+` and `+"`to`"+` in time order, then ends the input
  (a pipeline with only this input exits).

### Bad files
A missing window (404), a size or md5 mismatch, a corrupt or truncated zip or an empty file is logged with its URL and
reason, counted in `+"`gdelt_feed_file_errors`"+` by table and reason, and recorded in the checkpoint's list of incomplete
files; the stream goes on. Transient HTTP failures (network errors, 5xx, 429) are retried with backoff, at most
`+"`http.max_attempts`"+` times per file. A row longer than `+"`max_line_bytes`"+` is emitted cut to that length as a message
error (metadata `+"`gdelt_error_reason: line_too_long`"+`), so `+"`catch`"+` or `+"`switch`"+` can route it to a dead letter. A CR
before the LF is dropped and counted in `+"`gdelt_feed_crlf_lines`"+`.

### Progress
A window counts as done only when every row of it, and of every window before it, was acknowledged downstream.
The newest done window is stored as JSON under `+"`checkpoint_key`"+` in the cache resource `+"`checkpoint_cache`"+`;
a restart resumes after it, so a window whose rows were only partly acknowledged is read again whole
(at-least-once per window; give the window to an exactly-once output such as `+"`delta_lake`"+` as its progress key).
Nacked batches are retried by the engine until they are acknowledged.

### Metrics
`+"`gdelt_feed_rows`"+` and `+"`gdelt_feed_bytes`"+` (label `+"`table`"+`), `+"`gdelt_feed_file_errors`"+` (labels `+"`table`"+`, `+"`reason`"+`),
`+"`gdelt_feed_rejected`"+` (rows cut for length; labels `+"`table`"+`, `+"`reason`"+`), `+"`gdelt_feed_crlf_lines`"+` (label `+"`table`"+`),
`+"`gdelt_feed_windows_complete`"+`, `+"`gdelt_feed_windows_incomplete`"+` and the gauge `+"`gdelt_feed_checkpoint_window`"+`
(unix seconds of the checkpoint window).`).
		Fields(
			service.NewStringField(gfFieldBaseURL).
				Description("Where the feed lives: an http(s) URL laid out like the GDELT 2.0 feed, a `file://` URL or a local directory with the same files (`lastupdate.txt`, `masterfilelist.txt`, the zips). File names are taken from the list lines and looked up under this base, so a mirror need not rewrite the URLs in its lists.").
				Default("http://data.gdeltproject.org/gdeltv2/").
				Examples("http://data.gdeltproject.org/gdeltv2/", "./resources/mirror", "file:///data/gdelt-mirror"),
			service.NewStringEnumField(gfFieldMode, ModeFollow, ModeBackfill).
				Description("`follow` polls `lastupdate.txt` forever; `backfill` reads the windows of `masterfilelist.txt` between `from` and `to` and then ends.").
				Default(ModeFollow),
			service.NewStringField(gfFieldFrom).
				Description("Backfill: the first window to read (inclusive), as YYYYMMDDHHMMSS, RFC 3339 or YYYY-MM-DD (UTC). Empty: from the oldest window of the list.").
				Default("").Examples("20230702150000", "2023-07-02", "2023-07-02T15:00:00Z"),
			service.NewStringField(gfFieldTo).
				Description("Backfill: the last window to read (inclusive), in the same formats. Empty: up to the newest window of the list.").
				Default("").Examples("20230702234500", "2023-07-03"),
			service.NewStringListField(gfFieldTables).
				Description("Which tables to read, in this order within a window: any of `export`, `mentions`, `gkg`.").
				Default([]any{schema.ExportTable, schema.MentionsTable, schema.GKGTable}),
			service.NewStringEnumField(gfFieldStream, StreamEnglish, StreamTranslation).
				Description("The English stream or the translingual one (`lastupdate-translation.txt`, `*.translation.*` files).").
				Default(StreamEnglish),
			service.NewDurationField(gfFieldPollInterval).
				Description("Follow mode: how often `lastupdate.txt` is read. GDELT publishes every 15 minutes.").
				Default("1m"),
			service.NewBoolField(gfFieldCatchUp).
				Description("Follow mode: when the newest window is more than one window past the checkpoint, read the windows in between from `masterfilelist.txt` (windows it lacks are recorded as incomplete). When false, only the newest window is read.").
				Default(true).Advanced(),
			service.NewStringField(gfFieldCheckpointCache).
				Description("The name of a cache resource that keeps the feed's progress (e.g. a `file` cache locally, `redis` in a cluster). Empty: no durable progress, every start begins afresh.").
				Default("").Example("gdelt_checkpoints"),
			service.NewStringField(gfFieldCheckpointKey).
				Description("The key of the progress record in `checkpoint_cache`. Give each feed that shares a cache its own key.").
				Default("gdelt_feed").Advanced(),
			service.NewIntField(gfFieldMaxBatchRows).
				Description("The most rows in one emitted batch; a batch never spans two files.").
				Default(1024).Advanced(),
			service.NewIntField(gfFieldMaxBatchBytes).
				Description("A batch is closed once its rows reach this many bytes.").
				Default(8<<20).Advanced(),
			service.NewIntField(gfFieldMaxLineBytes).
				Description("Rows longer than this are emitted cut to this length and flagged as errors (`line_too_long`). Real GKG rows reach tens of kilobytes, rarely more.").
				Default(1<<20).Advanced(),
			service.NewBoolField(gfFieldWindowMarkers).
				Description("After the last row of each window, emit a marker message: no content, metadata `gdelt_marker: window_end` and `gdelt_window`; at the end of a backfill, one with `gdelt_marker: end`. `gdelt_join` uses them to close windows without waiting for the next one; `gdelt_decode` passes them through; drop them before other outputs (`check: '@gdelt_marker != null'`).").
				Default(false).Advanced(),
			service.NewIntField(gfFieldRewind).
				Description("On resuming from a checkpoint, start this many windows before it: a stateful consumer (`gdelt_join`) rebuilds its state from the windows read again, which an exactly-once output skips. The checkpoint itself never moves back. For `gdelt_join`, `event_retention_windows` + `gkg_slack_windows` + 1.").
				Default(0).Advanced(),
			service.NewObjectField(gfFieldHTTP,
				service.NewDurationField(gfFieldHTTPTimeout).Description("The time limit of one HTTP request, body included.").Default("5m"),
				service.NewIntField(gfFieldHTTPAttempts).Description("Attempts per file for transient failures (network errors, HTTP 5xx, 429) before the file is recorded as `fetch_failed`.").Default(5),
				service.NewDurationField(gfFieldHTTPBackoff).Description("The wait before the second attempt; it doubles after each further one.").Default("1s"),
				service.NewDurationField(gfFieldHTTPMaxBackoff).Description("The longest wait between attempts.").Default("30s"),
				service.NewTLSField(gfFieldTLS),
			).Description("How files are fetched when `base_url` is an http(s) URL.").Advanced(),
		).
		Example("Follow the live feed", "Read every new window as it is published, keeping progress in a file cache.", `
input:
  gdelt_feed:
    mode: follow
    checkpoint_cache: checkpoints
cache_resources:
  - label: checkpoints
    file:
      directory: ./state
`).
		Example("Backfill a day from a local mirror", "", `
input:
  gdelt_feed:
    base_url: ./resources/mirror
    mode: backfill
    from: 2023-07-02
    to: 20230702234500
    tables: [ export, gkg ]
`)
}

type gdeltFeedConf struct {
	markers       bool
	rewind        int
	baseURL       string
	feed          FeedConfig
	cacheName     string
	checkpointKey string
	retry         RetryPolicy
	httpClient    *http.Client
}

func gdeltFeedConfFromParsed(pc *service.ParsedConfig) (c gdeltFeedConf, err error) {
	if c.baseURL, err = pc.FieldString(gfFieldBaseURL); err != nil {
		return
	}
	f := &c.feed
	if f.Mode, err = pc.FieldString(gfFieldMode); err != nil {
		return
	}
	for _, b := range []struct {
		field string
		dst   *string
	}{{gfFieldFrom, &f.From}, {gfFieldTo, &f.To}} {
		s, err := pc.FieldString(b.field)
		if err != nil {
			return c, err
		}
		if s != "" {
			if *b.dst, err = ParseWindowBound(s); err != nil {
				return c, fmt.Errorf("%s: %w", b.field, err)
			}
		}
	}
	if f.Mode == ModeFollow && (f.From != "" || f.To != "") {
		return c, errors.New("from and to apply to mode backfill only")
	}
	if f.Tables, err = pc.FieldStringList(gfFieldTables); err != nil {
		return
	}
	if len(f.Tables) == 0 {
		return c, errors.New("tables: name at least one of export, mentions, gkg")
	}
	for i, t := range f.Tables {
		tab, err := schema.ByName(t)
		if err != nil {
			return c, fmt.Errorf("tables: %w", err)
		}
		f.Tables[i] = tab.Name
	}
	if f.Stream, err = pc.FieldString(gfFieldStream); err != nil {
		return
	}
	if f.PollInterval, err = pc.FieldDuration(gfFieldPollInterval); err != nil {
		return
	}
	if f.CatchUp, err = pc.FieldBool(gfFieldCatchUp); err != nil {
		return
	}
	if c.cacheName, err = pc.FieldString(gfFieldCheckpointCache); err != nil {
		return
	}
	if c.checkpointKey, err = pc.FieldString(gfFieldCheckpointKey); err != nil {
		return
	}
	for _, b := range []struct {
		field string
		dst   *int
	}{{gfFieldMaxBatchRows, &f.MaxBatchRows}, {gfFieldMaxBatchBytes, &f.MaxBatchSize}, {gfFieldMaxLineBytes, &f.MaxLineBytes}} {
		if *b.dst, err = pc.FieldInt(b.field); err != nil {
			return
		}
		if *b.dst < 1 {
			return c, fmt.Errorf("%s must be positive", b.field)
		}
	}
	if c.markers, err = pc.FieldBool(gfFieldWindowMarkers); err != nil {
		return
	}
	if c.rewind, err = pc.FieldInt(gfFieldRewind); err != nil {
		return
	}
	if c.rewind < 0 {
		return c, errors.New("rewind_windows must not be negative")
	}
	hc := pc.Namespace(gfFieldHTTP)
	timeout, err := hc.FieldDuration(gfFieldHTTPTimeout)
	if err != nil {
		return
	}
	if c.retry.MaxAttempts, err = hc.FieldInt(gfFieldHTTPAttempts); err != nil {
		return
	}
	if c.retry.InitialBackoff, err = hc.FieldDuration(gfFieldHTTPBackoff); err != nil {
		return
	}
	if c.retry.MaxBackoff, err = hc.FieldDuration(gfFieldHTTPMaxBackoff); err != nil {
		return
	}
	tlsConf, err := hc.FieldTLS(gfFieldTLS)
	if err != nil {
		return
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsConf
	c.httpClient = &http.Client{Timeout: timeout, Transport: tr}
	return c, nil
}

func init() {
	err := service.RegisterBatchInput("gdelt_feed", gdeltFeedSpec(),
		func(pc *service.ParsedConfig, mgr *service.Resources) (service.BatchInput, error) {
			conf, err := gdeltFeedConfFromParsed(pc)
			if err != nil {
				return nil, err
			}
			in, err := newGDELTFeedFromParsed(conf, mgr)
			if err != nil {
				return nil, err
			}
			// Nacked batches are retried by the engine; our ack funcs see only successes.
			return service.AutoRetryNacksBatched(in), nil
		})
	if err != nil {
		panic(err)
	}
}

type gdeltFeedInput struct {
	conf gdeltFeedConf
	mgr  *service.Resources
	log  *service.Logger
	src  Source

	mRows, mBytes, mFileErrors, mRejected, mCRLF *service.MetricCounter
	mWindowsComplete, mWindowsIncomplete         *service.MetricCounter
	mCheckpoint                                  *service.MetricGauge

	startMu sync.Mutex
	started bool
	chunks  chan *Chunk
	cancel  context.CancelFunc
	done    chan struct{}
	runErr  error
	prog    *progress
}

func newGDELTFeedFromParsed(conf gdeltFeedConf, mgr *service.Resources) (*gdeltFeedInput, error) {
	src, err := NewSource(conf.baseURL, conf.httpClient, conf.retry)
	if err != nil {
		return nil, err
	}
	if conf.cacheName != "" && !mgr.HasCache(conf.cacheName) {
		return nil, fmt.Errorf("checkpoint_cache: cache resource %q not found", conf.cacheName)
	}
	m := mgr.Metrics()
	return &gdeltFeedInput{
		conf: conf, mgr: mgr, log: mgr.Logger(), src: src,
		mRows:              m.NewCounter("gdelt_feed_rows", "table"),
		mBytes:             m.NewCounter("gdelt_feed_bytes", "table"),
		mFileErrors:        m.NewCounter("gdelt_feed_file_errors", "table", "reason"),
		mRejected:          m.NewCounter("gdelt_feed_rejected", "table", "reason"),
		mCRLF:              m.NewCounter("gdelt_feed_crlf_lines", "table"),
		mWindowsComplete:   m.NewCounter("gdelt_feed_windows_complete"),
		mWindowsIncomplete: m.NewCounter("gdelt_feed_windows_incomplete"),
		mCheckpoint:        m.NewGauge("gdelt_feed_checkpoint_window"),
		chunks:             make(chan *Chunk, 4),
		done:               make(chan struct{}),
	}, nil
}

func (g *gdeltFeedInput) loadCheckpoint(ctx context.Context) (cp Checkpoint, err error) {
	if g.conf.cacheName == "" {
		return cp, nil
	}
	var raw []byte
	var getErr error
	if err = g.mgr.AccessCache(ctx, g.conf.cacheName, func(c service.Cache) {
		raw, getErr = c.Get(ctx, g.conf.checkpointKey)
	}); err != nil {
		return cp, err
	}
	if errors.Is(getErr, service.ErrKeyNotFound) {
		return cp, nil
	}
	if getErr != nil {
		return cp, getErr
	}
	if err := json.Unmarshal(raw, &cp); err != nil {
		return cp, fmt.Errorf("checkpoint %q in cache %q is not valid JSON: %w", g.conf.checkpointKey, g.conf.cacheName, err)
	}
	return cp, nil
}

func (g *gdeltFeedInput) saveCheckpoint(cp Checkpoint) error {
	if t, err := WindowTime(cp.Window); err == nil {
		g.mCheckpoint.Set(t.Unix())
	}
	if g.conf.cacheName == "" {
		return nil
	}
	raw, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var setErr error
	if err := g.mgr.AccessCache(ctx, g.conf.cacheName, func(c service.Cache) {
		setErr = c.Set(ctx, g.conf.checkpointKey, raw, nil)
	}); err != nil {
		return err
	}
	if setErr != nil {
		return fmt.Errorf("saving checkpoint %s: %w", cp.Window, setErr)
	}
	return nil
}

// Connect loads the checkpoint and starts reading; the engine calls it again
// (with backoff) while it fails, e.g. while the checkpoint cache is down.
func (g *gdeltFeedInput) Connect(ctx context.Context) error {
	g.startMu.Lock()
	defer g.startMu.Unlock()
	if g.started {
		return nil
	}
	cp, err := g.loadCheckpoint(ctx)
	if err != nil {
		return fmt.Errorf("loading checkpoint: %w", err)
	}
	g.started = true
	{
		if cp.Window != "" {
			g.log.Infof("gdelt_feed: resuming after window %s (checkpoint %q)", cp.Window, g.conf.checkpointKey)
		}
		g.prog = newProgress(cp, g.saveCheckpoint, g.windowDone)
		feed := NewFeed(g.conf.feed, g.src, g.log)
		runCtx, cancel := context.WithCancel(context.Background())
		g.cancel = cancel
		after := cp.Window
		if after != "" && g.conf.rewind > 0 {
			if t, err := WindowTime(after); err == nil {
				after = WindowID(t.Add(-time.Duration(g.conf.rewind) * 15 * time.Minute))
				g.log.Infof("gdelt_feed: rewinding %d windows: reading again after window %s", g.conf.rewind, after)
			}
		}
		go func() {
			defer close(g.done)
			defer close(g.chunks)
			err := feed.Run(runCtx, after, g)
			if err != nil && runCtx.Err() == nil {
				g.runErr = err
				g.log.Errorf("gdelt_feed: stopped: %v", err)
			}
			if err == nil && g.conf.markers {
				_ = g.Chunk(runCtx, &Chunk{Marker: MarkerEnd, Stream: g.conf.feed.Stream})
			}
		}()
	}
	return nil
}

// Chunk implements Emitter: it hands a chunk to ReadBatch.
func (g *gdeltFeedInput) Chunk(ctx context.Context, c *Chunk) error {
	if c.Marker != MarkerEnd {
		g.prog.emitted(c.Window)
	}
	select {
	case g.chunks <- c:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WindowEnd implements Emitter.
func (g *gdeltFeedInput) WindowEnd(ctx context.Context, w *WindowEnd) error {
	for _, fe := range w.Errors {
		g.mFileErrors.Incr(1, fe.Table, fe.Reason)
	}
	if g.conf.markers {
		// Emitted before the window is marked ended: it is done only once
		// the marker too is acknowledged.
		if err := g.Chunk(ctx, &Chunk{Marker: MarkerWindowEnd, Window: w.Window, Stream: g.conf.feed.Stream}); err != nil {
			return err
		}
	}
	if err := g.prog.ended(w); err != nil {
		g.log.Errorf("gdelt_feed: %v", err)
	}
	return nil
}

func (g *gdeltFeedInput) windowDone(w *openWindow) {
	if len(w.errors) > 0 {
		g.mWindowsIncomplete.Incr(1)
		g.log.Warnf("gdelt_feed: window %s done with %d incomplete file(s)", w.id, len(w.errors))
	} else {
		g.mWindowsComplete.Incr(1)
		g.log.Debugf("gdelt_feed: window %s done", w.id)
	}
}

func (g *gdeltFeedInput) ReadBatch(ctx context.Context) (service.MessageBatch, service.AckFunc, error) {
	var c *Chunk
	var ok bool
	select {
	case c, ok = <-g.chunks:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	if !ok {
		return nil, nil, service.ErrEndOfInput
	}
	if c.Marker != "" {
		m := service.NewMessage(nil)
		m.MetaSet(MetaMarker, c.Marker)
		m.MetaSet("gdelt_stream", c.Stream)
		if c.Window != "" {
			m.MetaSet("gdelt_window", c.Window)
		}
		window, end := c.Window, c.Marker == MarkerEnd
		var once sync.Once
		return service.MessageBatch{m}, func(ctx context.Context, err error) error {
			if err != nil || end {
				return nil
			}
			var saveErr error
			once.Do(func() { saveErr = g.prog.acked(window) })
			if saveErr != nil {
				g.log.Errorf("gdelt_feed: %v", saveErr)
			}
			return nil
		}, nil
	}
	batch := make(service.MessageBatch, len(c.Lines))
	for i, line := range c.Lines {
		m := service.NewMessage(line)
		m.MetaSet("gdelt_table", c.Table)
		m.MetaSet("gdelt_window", c.Window)
		m.MetaSet("gdelt_file", c.File)
		m.MetaSet("gdelt_line", strconv.Itoa(c.FirstLine+i))
		m.MetaSet("gdelt_stream", c.Stream)
		batch[i] = m
	}
	for i, full := range c.TooLong {
		batch[i].MetaSet("gdelt_error_reason", ReasonLineTooLong)
		batch[i].SetError(fmt.Errorf("gdelt_feed: table %s, file %s, line %d: %s: row is %d bytes, over max_line_bytes %d; content cut to the limit",
			c.Table, c.File, c.FirstLine+i, ReasonLineTooLong, full, g.conf.feed.MaxLineBytes))
		g.mRejected.Incr(1, c.Table, ReasonLineTooLong)
		g.log.Warnf("gdelt_feed: %s line %d is %d bytes, over max_line_bytes %d: emitted cut, as an error", c.File, c.FirstLine+i, full, g.conf.feed.MaxLineBytes)
	}
	g.mRows.Incr(int64(len(c.Lines)), c.Table)
	g.mBytes.Incr(int64(c.Bytes), c.Table)
	if c.CRLF > 0 {
		g.mCRLF.Incr(int64(c.CRLF), c.Table)
	}
	window := c.Window
	var once sync.Once
	return batch, func(ctx context.Context, err error) error {
		if err != nil {
			return nil // retried by AutoRetryNacksBatched; never counted as done
		}
		var saveErr error
		once.Do(func() { saveErr = g.prog.acked(window) })
		if saveErr != nil {
			g.log.Errorf("gdelt_feed: %v", saveErr)
		}
		return nil
	}, nil
}

func (g *gdeltFeedInput) Close(ctx context.Context) error {
	g.startMu.Lock()
	defer g.startMu.Unlock()
	if g.cancel == nil {
		return nil
	}
	g.cancel()
	select {
	case <-g.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if g.prog != nil {
		if err := g.prog.flush(); err != nil {
			return err
		}
	}
	return nil
}

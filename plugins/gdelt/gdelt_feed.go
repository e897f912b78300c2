package gdelt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
	"github.com/gdeltflow/gdeltflow/plugins/runstate"
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
	gfFieldLookahead       = "lookahead_windows"
	gfFieldGiveUpAfter     = "give_up_after"
	gfFieldMaxCatchUp      = "max_catch_up_windows"
	gfFieldListRereads     = "missing_window_rereads"
	gfFieldMaxListBytes    = "max_list_bytes"
	gfFieldMaxListLine     = "max_list_line_bytes"
	gfFieldMaxFileBytes    = "max_file_bytes"
	gfFieldFutureSlack     = "future_window_slack"
)

// tablesLint refuses unknown and repeated table names (events is export), as
// the runtime does, so that `benthos lint` says it before a run writes every
// row twice.
const tablesLint = `
let names = if this.type() == "array" {
  this.map_each(t -> t.string().trim().lowercase()).map_each(t -> if t == "events" { "export" } else { t })
} else { [] }
root = if $names.filter(t -> !["export", "mentions", "gkg"].contains(t)).length() > 0 {
  [ "tables %v: unknown table; want export (or events), mentions or gkg".format(this) ]
} else if $names.unique().length() != $names.length() {
  [ "tables %v: a table is named more than once (events is export), so its rows would be read twice".format(this) ]
}
`

// gdeltFeedLint states the cross-field rules that lint can check.
const gdeltFeedLint = `
let mode = this.mode.or("follow").string().trim().lowercase()
root = if $mode == "follow" && (this.from.or("").string().trim() != "" || this.to.or("").string().trim() != "") {
  [ "from and to apply to modes backfill and repair, not follow" ]
} else if $mode == "repair" && this.checkpoint_cache.or("").string().trim() == "" {
  [ "mode repair reads the incomplete files recorded in the checkpoint: set checkpoint_cache" ]
}
`

func gdeltFeedSpec() *service.ConfigSpec {
	return service.NewConfigSpec().
		Categories("Services").
		Summary("Reads the GDELT 2.0 feed (Events export, Mentions, GKG), one message per row, with durable window-level progress.").
		Description(`
Reads the 15-minute files of the GDELT 2.0 feed from `+"`base_url`"+`: the real feed
(`+"`http://data.gdeltproject.org/gdeltv2/`"+`) or any mirror with the same layout, over http(s) or as a local
directory. Every file is downloaded whole (never more than its listed size), checked against the size and md5 of its
list line, and its zip entry is streamed row by row. Each row becomes one message: the raw tab-separated line (no line
end) as content, with metadata `+"`gdelt_table`"+` (export, mentions, gkg), `+"`gdelt_window`"+` (YYYYMMDDHHMMSS), `+"`gdelt_file`"+`
(the zip's name), `+"`gdelt_line`"+` (1-based row number in the file) and `+"`gdelt_stream`"+` (english, translation); rows
read by mode `+"`repair`"+` also carry `+"`gdelt_repair: \"true\"`"+`. Rows are emitted in batches of consecutive rows of one file (see
`+"`max_batch_rows`"+`, `+"`max_batch_bytes`"+`); a batch's memory follows its rows (about twice their bytes at most), not
`+"`max_batch_bytes`"+`.

### Modes
- `+"`follow`"+`: polls `+"`lastupdate.txt`"+` every `+"`poll_interval`"+` and reads each new window exactly once. After a restart,
  the windows missed since the checkpoint are read from `+"`masterfilelist.txt`"+` (`+"`catch_up`"+`), at most
  `+"`max_catch_up_windows`"+` of them; a window of that gap the master list lacks is looked for again at the next polls
  (`+"`missing_window_rereads`"+`) before it is recorded `+"`missing_from_list`"+`. Nothing stops a follow run: every failure
  is retried and logged at each retry.
- `+"`backfill`"+`: reads every window of `+"`masterfilelist.txt`"+` between `+"`from`"+` and `+"`to`"+` in time order (plus
  `+"`lookahead_windows`"+` after `+"`to`"+`), then ends the input (a pipeline with only this input exits).
- `+"`repair`"+`: reads again the files recorded in the checkpoint's `+"`incomplete`"+` list (of this stream and these tables,
  within `+"`from`"+`/`+"`to`"+` when set), each from the row after those emitted before it failed, with metadata
  `+"`gdelt_repair: \"true\"`"+`; removes the files it reads whole from the list (a file still failing stays, with its new
  reason), then ends the input. It never moves the window checkpoint, and emits no window markers.

Mode, stream and table names are read trimmed and in any case (`+"`Backfill`"+` is `+"`backfill`"+`).

### Exit codes
Backfill and repair are finite jobs: a list that does not exist (a typo in `+"`base_url`"+`, a missing mirror), a
redirect to another host or a list over `+"`max_list_bytes`"+` stops the run at once, a list that stays unreadable stops
it after `+"`give_up_after`"+`, and a backfill whose range holds no window of the list stops it too: `+"`benthos`"+` then exits
2 with one line naming the cause and the remedy. A backfill whose windows are all at or before the checkpoint ends
normally ("nothing new after window X").

### Bad lists and files
A list line that is over `+"`max_list_line_bytes`"+`, not `+"`<size> <md5> <url>`"+`, with a size that is not a byte count or
over `+"`max_file_bytes`"+`, an md5 that is not 32 hex digits, or a window that is not a real UTC time on a 15-minute boundary
or is later than now plus `+"`future_window_slack`"+`, is a bad line: logged with the list and line number, counted in
`+"`gdelt_feed_list_bad_lines`"+` (labels `+"`list`"+`, `+"`reason`"+`: `+"`line_too_long`"+`, `+"`bad_fields`"+`, `+"`bad_size`"+`, `+"`bad_md5`"+`,
`+"`bad_window`"+`, `+"`future_window`"+`) each time the list is read, and skipped; the rest of the list is read. So the
checkpoint can never pass the newest valid window.

A missing window (404), a size or md5 mismatch (a body is never read past its listed size), a corrupt or truncated zip or
an empty file is logged with its URL and reason, counted in `+"`gdelt_feed_file_errors`"+` by table and reason, and recorded
in the checkpoint's list of incomplete files (mode `+"`repair`"+` reads them again); the stream goes on. Transient HTTP
failures (network errors, 5xx, 429) are retried with backoff, at most `+"`http.max_attempts`"+` times per file, each retry
logged at warn level. Redirects are followed within the same scheme and host only. A password in `+"`base_url`"+` is shown as
`+"`xxxxx`"+` in logs, errors and the checkpoint. Directory entries of a zip are skipped; the entry named like the zip
(without `+"`.zip`"+`) is read, else the first file. A row longer than `+"`max_line_bytes`"+` is emitted cut to that length as a
message error (metadata `+"`gdelt_error_reason: line_too_long`"+`), so `+"`catch`"+` or `+"`switch`"+` can route it to a dead letter. A
CR before the LF is dropped and counted in `+"`gdelt_feed_crlf_lines`"+`.

### Progress
A window counts as done only when every row of it, and of every window before it, was acknowledged downstream.
The newest done window is stored as JSON under `+"`checkpoint_key`"+` in the cache resource `+"`checkpoint_cache`"+`;
a restart resumes after it, so a window whose rows were only partly acknowledged is read again whole
(at-least-once per window; give the window to an exactly-once output such as `+"`delta_lake`"+` as its progress key).
Nacked batches are retried by the engine until they are acknowledged. Each window read is logged at info level with
its rows per table and how far it is behind the newest window listed.

### Metrics
`+"`gdelt_feed_rows`"+` and `+"`gdelt_feed_bytes`"+` (label `+"`table`"+`), `+"`gdelt_feed_file_errors`"+` (labels `+"`table`"+`, `+"`reason`"+`),
`+"`gdelt_feed_rejected`"+` (rows cut for length; labels `+"`table`"+`, `+"`reason`"+`), `+"`gdelt_feed_crlf_lines`"+` (label `+"`table`"+`),
`+"`gdelt_feed_list_bad_lines`"+` (labels `+"`list`"+`, `+"`reason`"+`), `+"`gdelt_feed_windows_complete`"+`, `+"`gdelt_feed_windows_incomplete`"+`,
`+"`gdelt_feed_windows_skipped`"+` (windows a catch-up left out), `+"`gdelt_feed_files_repaired`"+` (label `+"`table`"+`) and the gauge
`+"`gdelt_feed_checkpoint_window`"+` (unix seconds of the checkpoint window).`).
		Fields(
			service.NewStringField(gfFieldBaseURL).
				Description("Where the feed lives: an http(s) URL laid out like the GDELT 2.0 feed, a `file://` URL or a local directory with the same files (`lastupdate.txt`, `masterfilelist.txt`, the zips). File names are taken from the list lines and looked up under this base, so a mirror need not rewrite the URLs in its lists. Credentials in the URL (`http://user:password@host/`) are used, never shown.").
				Default("http://data.gdeltproject.org/gdeltv2/").
				Examples("http://data.gdeltproject.org/gdeltv2/", "./resources/mirror", "file:///data/gdelt-mirror"),
			service.NewStringEnumField(gfFieldMode, ModeFollow, ModeBackfill, ModeRepair).
				Description("`follow` polls `lastupdate.txt` forever; `backfill` reads the windows of `masterfilelist.txt` between `from` and `to` and then ends; `repair` reads again the incomplete files recorded in the checkpoint and then ends. Read in any case.").
				Default(ModeFollow),
			service.NewStringField(gfFieldFrom).
				Description("Backfill and repair: the first window to read (inclusive), as YYYYMMDDHHMMSS, RFC 3339 or YYYY-MM-DD (UTC; a date means its midnight). Empty: from the oldest window of the list. Not with mode `follow`.").
				Default("").Examples("20230702150000", "2023-07-02", "2023-07-02T15:00:00Z"),
			service.NewStringField(gfFieldTo).
				Description("Backfill and repair: the last window to read (inclusive), in the same formats; a date means its whole day, through its 23:45 window. Empty: up to the newest window of the list. `from` after `to` is refused. Not with mode `follow`.").
				Default("").Examples("20230702234500", "2023-07-02"),
			service.NewStringListField(gfFieldTables).
				Description("Which tables to read, in this order within a window: any of `export` (or `events`), `mentions`, `gkg`, each at most once.").
				Default([]any{schema.ExportTable, schema.MentionsTable, schema.GKGTable}).
				LintRule(tablesLint),
			service.NewStringEnumField(gfFieldStream, StreamEnglish, StreamTranslation).
				Description("The English stream or the translingual one (`lastupdate-translation.txt`, `*.translation.*` files).").
				Default(StreamEnglish),
			service.NewDurationField(gfFieldPollInterval).
				Description("Follow mode: how often `lastupdate.txt` is read. GDELT publishes every 15 minutes.").
				Default("1m"),
			service.NewBoolField(gfFieldCatchUp).
				Description("Follow mode: when the newest window is more than one window past the checkpoint, read the windows in between from `masterfilelist.txt` (windows it lacks are recorded as incomplete). When false, only the newest window is read, and the windows left out are logged.").
				Default(true).Advanced(),
			service.NewIntField(gfFieldMaxCatchUp).
				Description("Follow mode: the most windows a catch-up reads. Of a longer gap only the newest this many are read; the older ones are logged once, counted in `gdelt_feed_windows_skipped` and recorded as a range in the checkpoint's `skipped` list (`from`, `to`, `windows`, `reason: catch_up_limit`) once the next window is done: read them with a backfill over that range. 2880 is 30 days.").
				Default(2880).Advanced(),
			service.NewIntField(gfFieldListRereads).
				Description("Follow mode: a window of a catch-up gap that `masterfilelist.txt` lacks is looked for again at up to this many next polls (the catch-up waits there, since windows are read in order) before it is recorded `missing_from_list`; one more poll only, once the list shows later windows. A stale list then costs minutes, not windows. 0: recorded at once.").
				Default(3).Advanced(),
			service.NewStringField(gfFieldCheckpointCache).
				Description("The name of a cache resource that keeps the feed's progress (e.g. a `file` cache locally, `redis` in a cluster). Empty: no durable progress, every start begins afresh. Required by mode `repair`.").
				Default("").Example("gdelt_checkpoints"),
			service.NewStringField(gfFieldCheckpointKey).
				Description("The key of the progress record in `checkpoint_cache`. Give each feed that shares a cache its own key; a `repair` run uses the key of the feed whose incomplete files it reads.").
				Default("gdelt_feed").Advanced(),
			service.NewDurationField(gfFieldGiveUpAfter).
				Description("Backfill and repair: how long a list may stay unreadable (network errors, HTTP 5xx) before the run stops with exit code 2. A list that does not exist stops it at once. `0s`: retry for ever. Follow mode never gives up.").
				Default("5m"),
			service.NewIntField(gfFieldMaxBatchRows).
				Description("The most rows in one emitted batch; a batch never spans two files.").
				Default(1024).Advanced(),
			service.NewIntField(gfFieldMaxBatchBytes).
				Description("A batch is closed once its rows reach this many bytes. Its memory follows its rows, not this limit.").
				Default(8<<20).Advanced(),
			service.NewIntField(gfFieldMaxLineBytes).
				Description("Rows longer than this are emitted cut to this length and flagged as errors (`line_too_long`). Real GKG rows reach tens of kilobytes, rarely more.").
				Default(1<<20).Advanced(),
			service.NewIntField(gfFieldMaxListBytes).
				Description("The most bytes read of one list (`masterfilelist.txt`, `lastupdate.txt`); lists are streamed, this bounds the time spent and the entries kept. A longer list is a failure (a backfill stops; follow mode retries). The real master list is about 150 MB and grows.").
				Default(1<<30).Advanced(),
			service.NewIntField(gfFieldMaxListLine).
				Description("A list line longer than this is a bad line (`line_too_long`). Real lines are about 110 bytes.").
				Default(4096).Advanced(),
			service.NewIntField(gfFieldMaxFileBytes).
				Description("A list line whose file size is above this is a bad line (`bad_size`): a file is held in memory whole while it is read. Real zips are under 100 MB.").
				Default(1<<30).Advanced(),
			service.NewDurationField(gfFieldFutureSlack).
				Description("A list line whose window is later than now plus this is a bad line (`future_window`): a far-future window would otherwise become the checkpoint and hide every real window before it.").
				Default("1h").Advanced(),
			service.NewBoolField(gfFieldWindowMarkers).
				Description("After the last row of each window, emit a marker message: no content, metadata `gdelt_marker: window_end` and `gdelt_window`. When a backfill has read the last window of the list, i.e. the data ends there, one more with `gdelt_marker: end`; a backfill that stopped at `to` (after its `lookahead_windows`) emits none, so a stateful consumer keeps its last windows pending and the next run's `rewind_windows` rebuilds them. Mode `repair` emits no markers. `gdelt_join` uses them to close windows without waiting for the next one; `gdelt_decode` passes them through; drop them before other outputs (`check: '@gdelt_marker != null'`).").
				Default(false).Advanced(),
			service.NewIntField(gfFieldRewind).
				Description("On resuming from a checkpoint, start this many windows before it: a stateful consumer (`gdelt_join`) rebuilds its state from the windows read again, which an exactly-once output skips. The checkpoint itself never moves back. The value used is the larger of this and what the stream's consumers ask for when the feed connects (`gdelt_join`: its retention + GKG slack + 1, or, when it restored its events from the snapshots in its `state_cache`, 2 × GKG slack + 1), logged at start. Rows of the windows read again carry metadata `gdelt_replay: \"true\"` (`gdelt_reject` skips them: their rejects were recorded when first read).").
				Default(0).Advanced(),
			service.NewIntField(gfFieldLookahead).
				Description("Backfill with `to`: read this many windows of the list after `to` as well (whole windows, every table; the checkpoint moves through them), so that a stateful consumer completes window `to` with the rows that follow it, as a longer run would. The value used is the larger of this and what the stream's consumers register, logged at start.").
				Default(0).Advanced(),
			service.NewObjectField(gfFieldHTTP,
				service.NewDurationField(gfFieldHTTPTimeout).Description("The time limit of one HTTP request, body included.").Default("5m"),
				service.NewIntField(gfFieldHTTPAttempts).Description("Attempts per file for transient failures (network errors, HTTP 5xx, 429) before the file is recorded as `fetch_failed`; each retry is logged.").Default(5),
				service.NewDurationField(gfFieldHTTPBackoff).Description("The wait before the second attempt; it doubles after each further one.").Default("1s"),
				service.NewDurationField(gfFieldHTTPMaxBackoff).Description("The longest wait between attempts.").Default("30s"),
				service.NewTLSField(gfFieldTLS),
			).Description("How files are fetched when `base_url` is an http(s) URL.").Advanced(),
		).
		LintRule(gdeltFeedLint).
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
    to: 2023-07-02
    tables: [ export, gkg ]
`).
		Example("Read again the files a feed could not read", "Run it with the checkpoint cache and key of that feed, and give the repaired rows their own exactly-once progress (metadata `gdelt_repair`).", `
input:
  gdelt_feed:
    base_url: ./resources/mirror
    mode: repair
    checkpoint_cache: checkpoints
cache_resources:
  - label: checkpoints
    atomic_file:
      directory: ./out/state
`)
}

type gdeltFeedConf struct {
	markers       bool
	rewind        int
	baseURL       string
	feed          FeedConfig
	cacheName     string
	checkpointKey string
	giveUpAfter   time.Duration
	retry         RetryPolicy
	httpClient    *http.Client
}

// normName reads an enum-like value as a person means it: `Backfill `, `GKG`.
func normName(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func gdeltFeedConfFromParsed(pc *service.ParsedConfig) (c gdeltFeedConf, err error) {
	if c.baseURL, err = pc.FieldString(gfFieldBaseURL); err != nil {
		return
	}
	c.baseURL = strings.TrimSpace(c.baseURL)
	f := &c.feed
	if f.Mode, err = pc.FieldString(gfFieldMode); err != nil {
		return
	}
	if f.Mode = normName(f.Mode); !slices.Contains([]string{ModeFollow, ModeBackfill, ModeRepair}, f.Mode) {
		return c, fmt.Errorf("mode %q: want follow, backfill or repair", f.Mode)
	}
	for _, b := range []struct {
		field string
		dst   *string
		end   bool
	}{{gfFieldFrom, &f.From, false}, {gfFieldTo, &f.To, true}} {
		s, err := pc.FieldString(b.field)
		if err != nil {
			return c, err
		}
		if strings.TrimSpace(s) != "" {
			if *b.dst, err = ParseWindowBound(s, b.end); err != nil {
				return c, fmt.Errorf("%s: %w", b.field, err)
			}
		}
	}
	if f.Mode == ModeFollow && (f.From != "" || f.To != "") {
		return c, errors.New("from and to apply to modes backfill and repair, not follow")
	}
	if f.From != "" && f.To != "" && f.From > f.To {
		return c, fmt.Errorf("from %s is after to %s: no window lies between them (a date-only to means its whole day, through 23:45)", ShowWindow(f.From), ShowWindow(f.To))
	}
	if f.Tables, err = pc.FieldStringList(gfFieldTables); err != nil {
		return
	}
	if len(f.Tables) == 0 {
		return c, errors.New("tables: name at least one of export, mentions, gkg")
	}
	for i, t := range f.Tables {
		tab, err := schema.ByName(normName(t))
		if err != nil {
			return c, fmt.Errorf("tables: %w", err)
		}
		if j := slices.Index(f.Tables[:i], tab.Name); j >= 0 {
			return c, fmt.Errorf("tables: %q and %q both name the %s table (events is export): each table at most once, or its rows would be read twice", f.Tables[j], t, tab.Name)
		}
		f.Tables[i] = tab.Name
	}
	if f.Stream, err = pc.FieldString(gfFieldStream); err != nil {
		return
	}
	if f.Stream = normName(f.Stream); f.Stream != StreamEnglish && f.Stream != StreamTranslation {
		return c, fmt.Errorf("stream %q: want english or translation", f.Stream)
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
	if f.Mode == ModeRepair && strings.TrimSpace(c.cacheName) == "" {
		return c, errors.New("mode repair reads the incomplete files recorded in the checkpoint: set checkpoint_cache")
	}
	if c.checkpointKey, err = pc.FieldString(gfFieldCheckpointKey); err != nil {
		return
	}
	if c.giveUpAfter, err = pc.FieldDuration(gfFieldGiveUpAfter); err != nil {
		return
	}
	for _, b := range []struct {
		field string
		dst   *int
		min   int
	}{
		{gfFieldMaxBatchRows, &f.MaxBatchRows, 1}, {gfFieldMaxBatchBytes, &f.MaxBatchSize, 1}, {gfFieldMaxLineBytes, &f.MaxLineBytes, 1},
		{gfFieldMaxCatchUp, &f.MaxCatchUp, 1}, {gfFieldListRereads, &f.ListRereads, 0}, {gfFieldLookahead, &f.Lookahead, 0},
		{gfFieldRewind, &c.rewind, 0}, {gfFieldMaxListLine, &f.Limits.MaxLineBytes, 1},
	} {
		if *b.dst, err = pc.FieldInt(b.field); err != nil {
			return
		}
		if *b.dst < b.min {
			return c, fmt.Errorf("%s must be at least %d", b.field, b.min)
		}
	}
	for _, b := range []struct {
		field string
		dst   *int64
	}{{gfFieldMaxListBytes, &f.Limits.MaxListBytes}, {gfFieldMaxFileBytes, &f.Limits.MaxFileBytes}} {
		n, err := pc.FieldInt(b.field)
		if err != nil {
			return c, err
		}
		if n < 1 {
			return c, fmt.Errorf("%s must be positive", b.field)
		}
		*b.dst = int64(n)
	}
	if f.Limits.FutureSlack, err = pc.FieldDuration(gfFieldFutureSlack); err != nil {
		return
	}
	f.Limits.Now = time.Now
	if c.markers, err = pc.FieldBool(gfFieldWindowMarkers); err != nil {
		return
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

	replayThrough string // the checkpoint at start: rows of windows up to it are replays

	mRows, mBytes, mFileErrors, mRejected, mCRLF *service.MetricCounter
	mListBadLines, mFilesRepaired                *service.MetricCounter
	mWindowsComplete, mWindowsIncomplete         *service.MetricCounter
	mWindowsSkipped                              *service.MetricCounter
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
	src, err := NewSource(conf.baseURL, conf.httpClient, conf.retry, mgr.Logger())
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
		mListBadLines:      m.NewCounter("gdelt_feed_list_bad_lines", "list", "reason"),
		mFilesRepaired:     m.NewCounter("gdelt_feed_files_repaired", "table"),
		mWindowsComplete:   m.NewCounter("gdelt_feed_windows_complete"),
		mWindowsIncomplete: m.NewCounter("gdelt_feed_windows_incomplete"),
		mWindowsSkipped:    m.NewCounter("gdelt_feed_windows_skipped"),
		mCheckpoint:        m.NewGauge("gdelt_feed_checkpoint_window"),
		chunks:             make(chan *Chunk, 4),
		done:               make(chan struct{}),
	}, nil
}

// job reports whether the run is a finite job (backfill, repair) whose
// failures must end the process with a non-zero exit code.
func (g *gdeltFeedInput) job() bool { return g.conf.feed.Mode != ModeFollow }

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

// checkCheckpoint refuses a checkpoint window that no list line can give
// today: an earlier version took windows from bad lines (99991231234500), and
// resuming after one would skip every real window in silence.
func (g *gdeltFeedInput) checkCheckpoint(cp Checkpoint) error {
	if cp.Window == "" {
		return nil
	}
	lim := g.conf.feed.Limits
	t, err := WindowTime(cp.Window)
	if err == nil && !t.After(lim.Now().Add(lim.FutureSlack)) {
		return nil
	}
	return fmt.Errorf("checkpoint %q in cache %q holds window %q, which is not a real time before now plus future_window_slack (an earlier version took it from a bad list line); delete the key, or set its window to the last window really read, to read the windows after it",
		g.conf.checkpointKey, g.conf.cacheName, cp.Window)
}

func (g *gdeltFeedInput) saveCheckpoint(cp Checkpoint) error {
	if g.conf.feed.Mode == ModeRepair {
		return g.saveRepairs(cp.repairs)
	}
	if t, err := WindowTime(cp.Window); err == nil {
		g.mCheckpoint.Set(t.Unix())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := g.storeCheckpoint(ctx, cp); err != nil {
		return fmt.Errorf("saving checkpoint %s: %w", cp.Window, err)
	}
	if id, err := strconv.ParseInt(cp.Window, 10, 64); err == nil {
		consumersAcknowledged(g.mgr, id)
	}
	return nil
}

// saveRepairs applies a repair's outcomes to the checkpoint as stored now: a
// feed on the same key may have moved its window meanwhile, and a repair must
// never move it back.
func (g *gdeltFeedInput) saveRepairs(repairs []repairOutcome) error {
	if g.conf.cacheName == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cp, err := g.loadCheckpoint(ctx)
	if err != nil {
		return fmt.Errorf("reading the checkpoint to record repaired files: %w", err)
	}
	for _, o := range repairs {
		o.apply(&cp)
	}
	cp.UpdatedAt = time.Now().UTC()
	if err := g.storeCheckpoint(ctx, cp); err != nil {
		return fmt.Errorf("saving the checkpoint with repaired files: %w", err)
	}
	return nil
}

func (g *gdeltFeedInput) storeCheckpoint(ctx context.Context, cp Checkpoint) error {
	if g.conf.cacheName == "" {
		return nil
	}
	raw, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	var setErr error
	if err := g.mgr.AccessCache(ctx, g.conf.cacheName, func(c service.Cache) {
		setErr = c.Set(ctx, g.conf.checkpointKey, raw, nil)
	}); err != nil {
		return err
	}
	return setErr
}

// Connect loads the checkpoint and starts reading; the engine calls it again
// (with backoff) while it fails, e.g. while the checkpoint cache is down.
// The stream's processors are built before any input connects, so the needs
// of its stateful consumers (RegisterConsumer) are all known here.
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
	if err := g.checkCheckpoint(cp); err != nil {
		if g.job() {
			runstate.Fail("gdelt_feed", err, "")
		}
		return err
	}
	g.started = true

	cfg := g.conf.feed
	cfg.Observer = g
	needs, consumers := RegisteredNeeds(g.mgr)
	var cpID int64
	if cp.Window != "" && cfg.Mode != ModeRepair {
		cpID, _ = strconv.ParseInt(cp.Window, 10, 64)
	}
	rewind := g.conf.rewind
	if cfg.Mode != ModeRepair {
		rewind = max(rewind, consumersRewind(ctx, g.mgr, cpID))
	}
	cfg.Lookahead = max(cfg.Lookahead, needs.Lookahead)
	asked := "none registered"
	if len(consumers) > 0 {
		asked = "asked by " + strings.Join(consumers, ", ")
	}
	if rewind > 0 && cfg.Mode != ModeRepair {
		g.log.Infof("gdelt_feed: rewind_windows %d (configured %d; consumers: %s)", rewind, g.conf.rewind, asked)
	}
	if cfg.Lookahead > 0 && cfg.Mode == ModeBackfill {
		g.log.Infof("gdelt_feed: lookahead_windows %d (configured %d; consumers: %s)", cfg.Lookahead, g.conf.feed.Lookahead, asked)
	}
	if g.job() {
		runstate.StartJob(g.conf.giveUpAfter)
		cfg.Clock, cfg.GiveUpAfter = runstate.NewClock("gdelt_feed"), g.conf.giveUpAfter
	}
	if cp.Window != "" && cfg.Mode != ModeRepair {
		g.log.Infof("gdelt_feed: resuming after window %s (checkpoint %q)", cp.Window, g.conf.checkpointKey)
	}
	g.prog = newProgress(cp, g.saveCheckpoint, g.windowDone)
	g.replayThrough = cp.Window // windows up to it were done before this start: read again, they are replays
	feed := NewFeed(cfg, g.src, g.log)
	runCtx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	after := cp.Window
	if after != "" && rewind > 0 && cfg.Mode != ModeRepair {
		after = addWindows(after, -rewind)
		g.log.Infof("gdelt_feed: rewinding %d windows: reading again after window %s", rewind, after)
	}
	go func() {
		defer close(g.done)
		defer close(g.chunks)
		var err error
		if cfg.Mode == ModeRepair {
			err = feed.Repair(runCtx, cp.Incomplete, g)
		} else {
			err = feed.Run(runCtx, after, g)
		}
		if err != nil && runCtx.Err() == nil {
			g.runErr = err
			var je *JobError
			if errors.As(err, &je) {
				runstate.Fail("gdelt_feed", je.Err, je.Remedy)
			}
			g.log.Errorf("gdelt_feed: stopped: %v", err)
		}
	}()
	return nil
}

// BadListLine implements Observer.
func (g *gdeltFeedInput) BadListLine(list, reason string) { g.mListBadLines.Incr(1, list, reason) }

// WindowsSkipped implements Observer.
func (g *gdeltFeedInput) WindowsSkipped(n int64) { g.mWindowsSkipped.Incr(n) }

// Chunk implements Emitter: it hands a chunk to ReadBatch.
func (g *gdeltFeedInput) Chunk(ctx context.Context, c *Chunk) error {
	if c.Marker != contract.MarkerEnd {
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
	if g.conf.markers && !w.Repair {
		// Emitted before the window is marked ended: it is done only once
		// the marker too is acknowledged.
		if err := g.Chunk(ctx, &Chunk{Marker: contract.MarkerWindowEnd, Window: w.Window, Stream: g.conf.feed.Stream}); err != nil {
			return err
		}
	}
	if err := g.prog.ended(w); err != nil {
		g.log.Errorf("gdelt_feed: %v", err)
	}
	return nil
}

// End implements Emitter: the data ends here.
func (g *gdeltFeedInput) End(ctx context.Context) error {
	if !g.conf.markers {
		return nil
	}
	return g.Chunk(ctx, &Chunk{Marker: contract.MarkerEnd, Stream: g.conf.feed.Stream})
}

func (g *gdeltFeedInput) windowDone(w *openWindow) {
	if w.repair {
		failed := map[string]bool{}
		for _, fe := range w.errors {
			failed[fe.key()] = true
		}
		for _, fe := range w.repaired {
			if !failed[fe.key()] {
				g.mFilesRepaired.Incr(1, fe.Table)
			}
		}
		g.log.Infof("gdelt_feed: repair of window %s done: %d file(s) read whole, %d still incomplete", w.id, len(w.repaired)-len(w.errors), len(w.errors))
		return
	}
	if len(w.errors) > 0 {
		g.mWindowsIncomplete.Incr(1)
		// Each file error was warned when it happened.
		g.log.Infof("gdelt_feed: window %s done with %d incomplete file(s)", w.id, len(w.errors))
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
		m.MetaSet(contract.MetaMarker, c.Marker)
		m.MetaSet(contract.MetaStream, c.Stream)
		if c.Window != "" {
			m.MetaSet(contract.MetaWindow, c.Window)
		}
		window, end := c.Window, c.Marker == contract.MarkerEnd
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
	replay := g.replayThrough != "" && c.Window <= g.replayThrough
	for i, line := range c.Lines {
		m := service.NewMessage(line)
		m.MetaSet(contract.MetaTable, c.Table)
		m.MetaSet(contract.MetaWindow, c.Window)
		m.MetaSet(contract.MetaFile, c.File)
		m.MetaSet(contract.MetaLine, strconv.Itoa(c.FirstLine+i))
		m.MetaSet(contract.MetaStream, c.Stream)
		if c.Repair {
			m.MetaSet(contract.MetaRepair, "true")
		} else if replay {
			m.MetaSet(contract.MetaReplay, "true")
		}
		batch[i] = m
	}
	for i, full := range c.TooLong {
		batch[i].MetaSet(contract.MetaErrorReason, ReasonLineTooLong)
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

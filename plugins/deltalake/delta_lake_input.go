package deltalake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/redpanda-data/benthos/v4/public/bloblang"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/delta"
	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
	gschema "github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
	"github.com/gdeltflow/gdeltflow/plugins/runstate"
)

const (
	dliFieldMode            = "mode"
	dliFieldVersion         = "version"
	dliFieldColumns         = "columns"
	dliFieldPartitionFilter = "partition_filter"
	dliFieldBatchRows       = "batch_rows"
	dliFieldForm            = "form"
	dliFieldCommitMarkers   = "commit_markers"
	dliFieldCache           = "checkpoint_cache"
	dliFieldCacheKey        = "checkpoint_key"
	dliFieldPollInterval    = "poll_interval"
	dliFieldGiveUpAfter     = "give_up_after"

	dliModeSnapshot = "snapshot"
	dliModeFollow   = "follow"
	dliFormMap      = "map"
	dliFormRow      = "row"
)

// Metadata the delta_lake input sets.
const (
	MetaDeltaTable        = "delta_table"         // the table's path, as configured
	MetaDeltaVersion      = "delta_version"       // the commit (or snapshot version) the row or marker belongs to
	MetaDeltaFile         = "delta_file"          // the data file, relative to the table root
	MetaDeltaMarker       = "delta_marker"        // "commit" on a commit marker
	MetaDeltaTxns         = "delta_txns"          // a marker's txn actions, JSON
	MetaDeltaRemovedFiles = "delta_removed_files" // a marker's removed files, a JSON list of paths
)

func deltaLakeInputSpec() *service.ConfigSpec {
	return service.NewConfigSpec().
		Categories("Services").
		Summary("Reads a Delta Lake table on S3/MinIO or local disk: every live row at a version (`snapshot`), or that and then each new commit's rows (`follow`), resumable by table version.").
		Description(`
The table may be ours or any engine's (Spark, delta-rs): the log is replayed from its newest checkpoint, files are read
by column name, partition values come from the log. A message is one row, with metadata `+"`delta_table`"+` (the path),
`+"`delta_version`"+`, `+"`delta_file`"+` and one key per partition column holding its value as the log writes it (absent
for null). Rows come in batches of at most `+"`batch_rows`"+`, never across two files; a data file is read one Parquet row
group at a time, so memory follows the row group, not the table.

### Modes
`+"`snapshot`"+` reads every live row of the table at `+"`version`"+` (-1: the newest at start), then the input ends (a
finite job: see Failures). `+"`follow`"+` does the same, then polls the log every `+"`poll_interval`"+` and reads each new
commit's added files, commit after commit, for ever. Files added without `+"`dataChange`"+` (a compaction) hold rows
read already and are skipped; removed files are not retracted (a commit marker lists them).

### Progress
With `+"`checkpoint_cache`"+`, the newest version whose rows were all acknowledged, and those of every version before it,
is stored under `+"`checkpoint_key`"+` (default `+"`delta_lake_input <path>`"+`) as JSON (`+"`version`"+`, the table's id).
A start with a stored version reads the commits after it, never the snapshot again: a restart continues with
no gap; a version whose rows were only partly acknowledged is read again whole (at-least-once per version, with
`+"`delta_version`"+` and `+"`delta_file`"+` as the key of an exactly-once consumer). A stored version of another table
(another id) is refused. In `+"`snapshot`"+` mode with a stored version, the commits after it up to the target version are read.

### Commit markers
With `+"`commit_markers: true`"+`, each version ends with a message without content and with metadata
`+"`delta_marker: commit`"+`, `+"`delta_version`"+`, `+"`delta_txns`"+` (the commit's txn actions as JSON: the writer's
exactly-once progress, e.g. the silver window) and `+"`delta_removed_files`"+` (a JSON list): a downstream processor
sees where a commit ends and what it replaced. The snapshot's marker carries the newest txn of every appId and no
removed file. Markers have no content: drop them (`+"`@delta_marker != null`"+`) before a step that wants a row.

### Failures
A table that does not exist yet: `+"`follow`"+` waits for it, retrying with `+"`backoff`"+`; `+"`snapshot`"+` fails the run at
once (the binary exits 2 naming the table and what to do). Storage down: retried with `+"`backoff`"+`, warned when it
starts and once a minute; in `+"`snapshot`"+` mode the run fails after `+"`give_up_after`"+`. A damaged log, a data file that
is missing or not Parquet of the table's schema (the error names the file), a deletion vector or column mapping: a
snapshot run fails at once; a follow run warns once a minute and retries (the file may be restored).

### Metrics
`+"`delta_lake_input_rows`"+`, `+"`delta_lake_input_files`"+` (files read), `+"`delta_lake_input_files_pruned`"+` (skipped by
`+"`partition_filter`"+`), `+"`delta_lake_input_versions`"+` (versions fully acknowledged), the gauges
`+"`delta_lake_input_version`"+` (the newest such version) and `+"`delta_lake_input_lag_versions`"+` (the table's newest
version minus it), all labelled `+"`table`"+`.`).
		Fields(
			service.NewStringField(dlFieldPath).
				Description("The table's location: `s3://bucket/prefix/table` (see `s3`) or a local directory.").
				Examples("s3://lake/silver/events", "./out/silver/events").
				LintRule(`root = if this.trim() == "" { "path is blank: name the table's folder or s3://bucket/prefix" } else if this.trim() != this { "path has leading or trailing whitespace: remove it" }`),
			s3Field(),
			service.NewStringEnumField(dliFieldMode, dliModeSnapshot, dliModeFollow).
				Description("`snapshot`: the live rows at `version`, then the input ends. `follow`: the same, then each new commit's rows as they are committed.").
				Default(dliModeSnapshot),
			service.NewIntField(dliFieldVersion).
				Description("The version to read: in `snapshot` mode the table as of it, in `follow` mode the snapshot to start from. -1: the newest.").
				Default(-1).
				LintRule(`root = if this < -1 { "version must be -1 (the newest) or a table version" }`),
			service.NewStringListField(dliFieldColumns).
				Description("The columns to read, in this order (partition columns among them). Empty: every column of the schema, in its order.").
				Default([]any{}).Example([]any{"global_event_id", "event_root_code", "window_date"}),
			service.NewBloblangField(dliFieldPartitionFilter).
				Description("A Bloblang query on a data file's partition values (an object with every partition column: numbers and booleans typed, dates, timestamps, decimals and strings as the log writes them, null for a null partition) that returns whether to read the file; the others are skipped unread (`delta_lake_input_files_pruned`). Empty: every file.").
				Optional().Examples(`this.window_date >= "2023-07-02"`, `this.c1 > 4 && this.c2 != "a"`),
			service.NewIntField(dliFieldBatchRows).
				Description("Rows per batch at most; a batch never spans two data files.").
				Default(1024).
				LintRule(`root = if this < 1 { "batch_rows must be at least 1" }`),
			service.NewStringEnumField(dliFieldForm, dliFormMap, dliFormRow).
				Description("`map`: the row as structured content, an object of its columns. `row`: no content; the row in metadata `"+contract.MetaRow+"` as a schema.Row (its values in the order of `columns`, with a Layout of their names), for components that read it without a map.").
				Default(dliFormMap),
			service.NewBoolField(dliFieldCommitMarkers).
				Description("After each version's rows, a message without content carrying `delta_marker: commit`, `delta_version`, `delta_txns` and `delta_removed_files` (see the description).").
				Default(false),
			service.NewStringField(dliFieldCache).
				Description("A cache resource holding the progress: the newest version whose rows were all acknowledged. Empty: no progress is kept, every start reads the snapshot.").
				Default(""),
			service.NewStringField(dliFieldCacheKey).
				Description("The key of the progress in `checkpoint_cache`. Empty: `delta_lake_input <path>`.").
				Default("").Advanced(),
			service.NewDurationField(dliFieldPollInterval).
				Description("`follow`: how often the log is polled for a new commit once the input has caught up.").
				Default("5s"),
			service.NewDurationField(dliFieldGiveUpAfter).
				Description("`snapshot` (a job): a storage failure that lasts this long fails the run (exit 2). 0: retry for ever.").
				Default("5m").Advanced(),
			service.NewBackOffField(dlFieldBackOff, true, delta.DefaultBackOff().(*backoff.ExponentialBackOff)).
				Description("The waits between attempts at opening the table, reading the log and reading a data file; they double from `initial_interval` to `max_interval`.").
				Advanced(),
			service.NewAutoRetryNacksToggleField(),
		).
		LintRule(dliLintRule).
		Example("Follow silver, resumable", "Each new commit of a table, one message per row, the progress in a cache.", `
input:
  delta_lake:
    path: ./out/silver/events
    mode: follow
    partition_filter: 'this.window_date >= "2023-07-02"'
    commit_markers: true
    checkpoint_cache: checkpoints
cache_resources:
  - label: checkpoints
    atomic_file:
      directory: ./out/state
`)
}

// dliLintRule holds the rules across fields (checked again at run time).
const dliLintRule = `root = [
  if this.checkpoint_key.or("") != "" && this.checkpoint_cache.or("") == "" { "checkpoint_key is the key in checkpoint_cache: set checkpoint_cache too" } else { null },
  if this.columns.or([]).unique().length() != this.columns.or([]).length() { "a column is named twice in columns" } else { null },
].filter(e -> e != null)`

type dliConf struct {
	path          string
	s3            storage.S3Config
	mode          string
	version       int64
	columns       []string
	filter        *bloblang.Executor
	batchRows     int
	form          string
	markers       bool
	cacheName     string
	cacheKey      string
	pollInterval  time.Duration
	giveUpAfter   time.Duration
	backOff       func() backoff.BackOff
	autoReplayNak bool
}

func dliConfFromParsed(pc *service.ParsedConfig) (c dliConf, err error) {
	if c.path, err = pc.FieldString(dlFieldPath); err != nil {
		return
	}
	if err = checkTablePath(c.path); err != nil {
		return c, fmt.Errorf("%s %q: %w", dlFieldPath, c.path, err)
	}
	if c.s3, err = s3ConfFromParsed(pc); err != nil {
		return
	}
	if c.mode, err = pc.FieldString(dliFieldMode); err != nil {
		return
	}
	v, err := pc.FieldInt(dliFieldVersion)
	if err != nil {
		return
	}
	if v < -1 {
		return c, errors.New("version must be -1 (the newest) or a table version")
	}
	c.version = int64(v)
	if c.columns, err = pc.FieldStringList(dliFieldColumns); err != nil {
		return
	}
	seen := map[string]bool{}
	for _, col := range c.columns {
		if seen[col] {
			return c, fmt.Errorf("a column is named twice in columns: %q", col)
		}
		seen[col] = true
	}
	if pc.Contains(dliFieldPartitionFilter) {
		if c.filter, err = pc.FieldBloblang(dliFieldPartitionFilter); err != nil {
			return
		}
	}
	if c.batchRows, err = pc.FieldInt(dliFieldBatchRows); err != nil {
		return
	}
	if c.batchRows < 1 {
		return c, errors.New("batch_rows must be at least 1")
	}
	if c.form, err = pc.FieldString(dliFieldForm); err != nil {
		return
	}
	if c.markers, err = pc.FieldBool(dliFieldCommitMarkers); err != nil {
		return
	}
	if c.cacheName, err = pc.FieldString(dliFieldCache); err != nil {
		return
	}
	if c.cacheKey, err = pc.FieldString(dliFieldCacheKey); err != nil {
		return
	}
	if c.cacheKey != "" && c.cacheName == "" {
		return c, errors.New("checkpoint_key is the key in checkpoint_cache: set checkpoint_cache too")
	}
	if c.cacheKey == "" {
		c.cacheKey = "delta_lake_input " + c.path
	}
	if c.pollInterval, err = pc.FieldDuration(dliFieldPollInterval); err != nil {
		return
	}
	if c.giveUpAfter, err = pc.FieldDuration(dliFieldGiveUpAfter); err != nil {
		return
	}
	policy, err := pc.FieldBackOff(dlFieldBackOff)
	if err != nil {
		return
	}
	policy.Multiplier, policy.RandomizationFactor = 2, 0
	c.backOff = func() backoff.BackOff {
		b := *policy
		b.Reset()
		return &b
	}
	return c, nil
}

func init() {
	err := service.RegisterBatchInput("delta_lake", deltaLakeInputSpec(),
		func(pc *service.ParsedConfig, mgr *service.Resources) (service.BatchInput, error) {
			conf, err := dliConfFromParsed(pc)
			if err != nil {
				return nil, err
			}
			in, err := newDeltaLakeInput(conf, mgr)
			if err != nil {
				return nil, err
			}
			return service.AutoRetryNacksBatchedToggled(pc, in)
		})
	if err != nil {
		panic(err)
	}
}

// dliUnit is what one version gives to read: a snapshot's live files, or a
// commit's added files.
type dliUnit struct {
	version  int64
	files    []*delta.Add
	next     int // the next file to open
	txns     []delta.Txn
	removed  []string
	progress *versionProgress
	marked   bool // its marker was sent (or none is due)
}

type deltaLakeInput struct {
	conf      dliConf
	mgr       *service.Resources
	log       *service.Logger
	component string
	clock     *runstate.Clock
	warned    rateLimit

	mRows, mFiles, mPruned, mVersions *service.MetricCounter
	mVersion, mLag                    *service.MetricGauge

	// Set by Connect; then used by ReadBatch only (one goroutine).
	st       storage.Storage
	tableID  string
	meta     *delta.Metadata
	scan     *delta.Scan
	layout   *gschema.Layout
	next     int64 // the next commit to read
	target   int64 // snapshot mode: the last version to read
	unit     *dliUnit
	rows     *delta.FileRows // nil while inFile: opened again after a storage failure
	rowsOf   *delta.Add
	inFile   bool  // reading rowsOf
	rowsRead int64 // rows of rowsOf emitted
	// ctx lives from the input's creation to Close: open data files read
	// through it (the engine's ReadBatch contexts end with each call).
	ctx     context.Context
	cancel  context.CancelFunc
	pending []*dliUnit // units prepared but not started (snapshot at start)
	lastLag time.Time

	connected bool
	tracker   *tracker
	readMu    sync.Mutex // ReadBatch against Close (a read may be in flight when the stream stops)
}

func newDeltaLakeInput(conf dliConf, mgr *service.Resources) (*deltaLakeInput, error) {
	if conf.cacheName != "" && !mgr.HasCache(conf.cacheName) {
		return nil, fmt.Errorf("checkpoint_cache: cache resource %q not found", conf.cacheName)
	}
	m := mgr.Metrics()
	component := "delta_lake input " + conf.path
	in := &deltaLakeInput{
		conf: conf, mgr: mgr, log: mgr.Logger(), component: component, clock: runstate.NewClock(component),
		mRows:     m.NewCounter("delta_lake_input_rows", "table"),
		mFiles:    m.NewCounter("delta_lake_input_files", "table"),
		mPruned:   m.NewCounter("delta_lake_input_files_pruned", "table"),
		mVersions: m.NewCounter("delta_lake_input_versions", "table"),
		mVersion:  m.NewGauge("delta_lake_input_version", "table"),
		mLag:      m.NewGauge("delta_lake_input_lag_versions", "table"),
	}
	in.tracker = &tracker{save: in.saveProgress}
	in.ctx, in.cancel = context.WithCancel(context.Background())
	return in, nil
}

func (d *deltaLakeInput) job() bool { return d.conf.mode == dliModeSnapshot }

// dliProgress is the stored progress.
type dliProgress struct {
	Version int64  `json:"version"`
	TableID string `json:"table_id"`
}

func (d *deltaLakeInput) loadProgress(ctx context.Context) (*dliProgress, error) {
	if d.conf.cacheName == "" {
		return nil, nil
	}
	var raw []byte
	var getErr error
	if err := d.mgr.AccessCache(ctx, d.conf.cacheName, func(c service.Cache) {
		raw, getErr = c.Get(ctx, d.conf.cacheKey)
	}); err != nil {
		return nil, err
	}
	if errors.Is(getErr, service.ErrKeyNotFound) {
		return nil, nil
	}
	if getErr != nil {
		return nil, getErr
	}
	var p dliProgress
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("%w: progress %q in cache %q is not valid JSON: %w", delta.ErrCorruptLog, d.conf.cacheKey, d.conf.cacheName, err)
	}
	return &p, nil
}

// saveProgress stores version v as done; the tracker calls it in order.
func (d *deltaLakeInput) saveProgress(ctx context.Context, v int64, n int) error {
	d.mVersions.Incr(int64(n), d.conf.path)
	d.mVersion.Set(v, d.conf.path)
	if d.conf.cacheName == "" {
		return nil
	}
	raw, _ := json.Marshal(dliProgress{Version: v, TableID: d.tableID})
	var setErr error
	if err := d.mgr.AccessCache(ctx, d.conf.cacheName, func(c service.Cache) {
		setErr = c.Set(ctx, d.conf.cacheKey, raw, nil)
	}); err != nil {
		return err
	}
	return setErr
}

// Connect opens the table and decides where to start: after the stored
// version, or at the snapshot of `version` (the newest: -1).
func (d *deltaLakeInput) Connect(ctx context.Context) error {
	if d.connected {
		return nil
	}
	if d.job() {
		runstate.StartJob(d.conf.giveUpAfter)
	}
	err := d.retry(ctx, "opening the table", func() error { return d.open(ctx) })
	if err != nil && runstate.Failed() == nil {
		return err
	}
	// Connected, or the run failed: ReadBatch then ends the input, so the
	// stream stops (the binary exits 2 with the failure's line).
	d.connected = true
	return nil
}

// errNoTable is a table without a commit (no _delta_log, or an empty one).
var errNoTable = errors.New("no Delta table there (no commit in _delta_log)")

func (d *deltaLakeInput) open(ctx context.Context) error {
	st, err := storage.Open(d.conf.path, d.conf.s3)
	if err != nil {
		return fmt.Errorf("%w: %w", delta.ErrCorruptLog, err) // a bad location: no retry mends it
	}
	d.st = st
	prog, err := d.loadProgress(ctx)
	if err != nil {
		return fmt.Errorf("loading the progress: %w", err)
	}
	var snap *delta.Snapshot
	switch {
	case prog != nil:
		snap, err = delta.LoadVersion(ctx, st, prog.Version)
	case d.conf.version >= 0:
		snap, err = delta.LoadVersion(ctx, st, d.conf.version)
	default:
		snap, err = delta.Load(ctx, st)
	}
	if err != nil {
		if strings.Contains(err.Error(), "the latest version is -1") {
			return errNoTable
		}
		return err
	}
	if snap.Version < 0 {
		return errNoTable
	}
	for _, w := range snap.Warnings {
		d.log.Warnf("delta_lake input: %s: %s", st.Location(), w)
	}
	if err := delta.CheckReadRows(snap.Protocol, snap.Metadata); err != nil {
		return err
	}
	if prog != nil && prog.TableID != "" && prog.TableID != snap.Metadata.ID {
		return fmt.Errorf("%w: the progress %q in cache %q is of table id %s, the table at %s has id %s (it was recreated)",
			delta.ErrMetadataMismatch, d.conf.cacheKey, d.conf.cacheName, prog.TableID, d.conf.path, snap.Metadata.ID)
	}
	d.tableID = snap.Metadata.ID
	if err := d.setMetadata(snap.Metadata); err != nil {
		return err
	}
	d.target = -1
	if d.job() {
		d.target = d.conf.version
		if d.target < 0 {
			if prog == nil {
				d.target = snap.Version
			} else if d.target, err = d.newestVersion(ctx, snap.Version); err != nil {
				return err
			}
		}
	}
	d.next = snap.Version + 1
	if prog != nil {
		d.tracker.resumeAfter(prog.Version)
		d.log.Infof("delta_lake input: %s: resuming after version %d (progress %q)", d.conf.path, prog.Version, d.conf.cacheKey)
		d.mVersion.Set(prog.Version, d.conf.path)
		return nil
	}
	u := &dliUnit{version: snap.Version, removed: []string{}}
	for _, tx := range snap.Txns {
		u.txns = append(u.txns, tx)
	}
	for _, a := range snap.SortedFiles() {
		if keep, err := d.keep(a); err != nil {
			return err
		} else if keep {
			u.files = append(u.files, a)
		}
	}
	d.pending = []*dliUnit{u}
	d.log.Infof("delta_lake input: %s: reading the snapshot of version %d: %d files", d.conf.path, snap.Version, len(u.files))
	return nil
}

// newestVersion lists the log for the newest commit at or after from.
func (d *deltaLakeInput) newestVersion(ctx context.Context, from int64) (int64, error) {
	files, err := storage.ListAfter(ctx, d.st, delta.LogDir+"/", delta.CommitPath(from))
	if err != nil {
		return 0, err
	}
	newest := from
	for _, f := range files {
		name := strings.TrimPrefix(f.Path, delta.LogDir+"/")
		if len(name) == 25 && strings.HasSuffix(name, ".json") {
			if v, err := strconv.ParseInt(name[:20], 10, 64); err == nil && v > newest {
				newest = v
			}
		}
	}
	return newest, nil
}

func (d *deltaLakeInput) setMetadata(m *delta.Metadata) error {
	scan, err := delta.NewScan(m, d.conf.columns)
	if err != nil {
		if !errors.Is(err, delta.ErrCorruptLog) {
			err = fmt.Errorf("%w: %s: %w", delta.ErrMetadataMismatch, dliFieldColumns, err)
		}
		return err
	}
	d.meta, d.scan = m, scan
	name := m.Name
	if name == "" {
		name = d.conf.path
	}
	d.layout = gschema.NewLayout(name, scan.Names())
	return nil
}

// keep applies the partition filter to a file.
func (d *deltaLakeInput) keep(a *delta.Add) (bool, error) {
	if d.conf.filter == nil {
		return true, nil
	}
	typed, err := d.scan.PartitionValues(a)
	if err != nil {
		return false, err
	}
	vals := make(map[string]any, len(typed))
	for k, v := range typed {
		switch v.(type) {
		case int64, int32, int16, int8, float64, float32, bool, nil:
			if x, ok := v.(float32); ok {
				v = float64(x)
			}
			vals[k] = v
		default:
			vals[k] = *a.PartitionValues[k]
		}
	}
	res, err := d.conf.filter.Query(vals)
	if err != nil {
		return false, fmt.Errorf("%w: partition_filter on %s (partition values %v): %w", delta.ErrMetadataMismatch, delta.DecodePath(a.Path), vals, err)
	}
	b, ok := res.(bool)
	if !ok {
		return false, fmt.Errorf("%w: partition_filter on %s gave %T %v, want a boolean", delta.ErrMetadataMismatch, delta.DecodePath(a.Path), res, res)
	}
	if !b {
		d.mPruned.Incr(1, d.conf.path)
	}
	return b, nil
}

// retry runs fn until it succeeds, with the backoff policy: a permanent
// failure fails a job at once, any failure fails it after give_up_after; a
// follow run retries for ever, warning once a minute.
func (d *deltaLakeInput) retry(ctx context.Context, what string, fn func() error) error {
	var last error
	err := backoff.Retry(func() error {
		err := fn()
		if err == nil {
			return nil
		}
		last = err
		if ctx.Err() != nil || d.failing(what, err) {
			return backoff.Permanent(err)
		}
		return err
	}, backoff.WithContext(d.conf.backOff(), ctx))
	if err != nil {
		if last != nil {
			err = last
		}
		return fmt.Errorf("delta_lake input %s: %s: %w", d.conf.path, what, err)
	}
	d.ok()
	return nil
}

// failing records a failure; it returns true when the run failed (a job).
func (d *deltaLakeInput) failing(what string, err error) bool {
	remedy := d.remedy(err)
	if d.job() && (delta.IsPermanent(err) || errors.Is(err, errNoTable)) {
		runstate.Fail(d.component, fmt.Errorf("%s: %w", what, err), remedy)
		return true
	}
	if d.job() && d.clock.Failing(err, remedy) {
		return true
	}
	if !d.warned.due(time.Now(), failureLogInterval) {
		return false
	}
	msg := fmt.Sprintf("delta_lake input: %s: %s failed: %v; retrying; %s", d.conf.path, what, err, remedy)
	if since := d.clock.Since(); since >= time.Second {
		msg = fmt.Sprintf("delta_lake input: %s: %s still failing after %s: %v; retrying; %s", d.conf.path, what, since.Round(time.Second), err, remedy)
	}
	d.log.Warn(msg)
	return false
}

func (d *deltaLakeInput) ok() {
	since := d.clock.Since()
	d.clock.OK()
	if d.warned.reset() {
		d.log.Infof("delta_lake input: %s: recovered after %s", d.conf.path, since.Round(time.Second))
	}
}

func (d *deltaLakeInput) remedy(err error) string {
	switch {
	case errors.Is(err, errNoTable):
		if d.job() {
			return "check the path (and the s3 endpoint and bucket), or write the table before reading it; mode: follow waits for it"
		}
		return "waiting for the table to be created; check the path if it should exist"
	case errors.Is(err, delta.ErrDataFile):
		return "restore the data file the error names (or the table from a backup); `delta-table files " + d.conf.path + "` lists the files the log expects"
	case errors.Is(err, delta.ErrCorruptLog):
		return "the table's log is damaged: look at it with `delta-table history " + d.conf.path + "`"
	case errors.Is(err, delta.ErrUnsupportedProtocol):
		return "the table uses Delta features this reader cannot honour"
	case errors.Is(err, delta.ErrMetadataMismatch):
		return "fix the input's config (columns, partition_filter) or delete the progress key " + strconv.Quote(d.conf.cacheKey) + " to read the table from its snapshot"
	case strings.HasPrefix(d.conf.path, "s3://") || strings.HasPrefix(d.conf.path, "s3a://"):
		return "check that the S3 endpoint is up and reachable from here, and its credentials and bucket"
	default:
		return "check the disk that holds the table"
	}
}

// ReadBatch returns the next rows of the current file, moving to the next
// file, the next version's files (follow: waiting for it) as each ends.
func (d *deltaLakeInput) ReadBatch(ctx context.Context) (service.MessageBatch, service.AckFunc, error) {
	d.readMu.Lock()
	defer d.readMu.Unlock()
	if !d.connected {
		return nil, nil, service.ErrNotConnected
	}
	for {
		if runstate.Failed() != nil {
			return nil, nil, service.ErrEndOfInput
		}
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		if d.inFile {
			batch, err := d.readRows(ctx)
			if err != nil {
				return nil, nil, err
			}
			if len(batch) > 0 {
				return batch, d.tracker.hold(d.unit.progress), nil
			}
			continue // the file ended
		}
		if d.unit != nil {
			if d.unit.next < len(d.unit.files) {
				a := d.unit.files[d.unit.next]
				if err := d.retry(ctx, "opening data file "+delta.DecodePath(a.Path), func() error {
					fr, err := d.scan.Open(d.ctx, d.st, a)
					d.rows, d.rowsOf = fr, a
					return err
				}); err != nil {
					return nil, nil, err
				}
				d.inFile, d.rowsRead = true, 0
				d.unit.next++
				d.mFiles.Incr(1, d.conf.path)
				continue
			}
			u := d.unit
			if d.conf.markers && !u.marked {
				u.marked = true
				return service.MessageBatch{d.marker(u)}, d.tracker.hold(u.progress), nil
			}
			d.unit = nil
			d.tracker.emitted(u.progress)
			continue
		}
		if len(d.pending) > 0 {
			d.start(d.pending[0])
			d.pending = d.pending[1:]
			continue
		}
		if d.target >= 0 && d.next > d.target {
			return nil, nil, service.ErrEndOfInput
		}
		u, err := d.nextCommit(ctx)
		if err != nil {
			return nil, nil, err
		}
		if u == nil { // follow: nothing new yet
			select {
			case <-time.After(d.conf.pollInterval):
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			}
			continue
		}
		d.start(u)
	}
}

func (d *deltaLakeInput) start(u *dliUnit) {
	u.progress = d.tracker.begin(u.version)
	d.unit = u
}

// nextCommit reads commit d.next; nil when it is not there yet.
func (d *deltaLakeInput) nextCommit(ctx context.Context) (*dliUnit, error) {
	var ch *delta.Change
	absent := false
	err := d.retry(ctx, "reading commit "+strconv.FormatInt(d.next, 10), func() error {
		var err error
		ch, err = delta.ReadChange(ctx, d.st, d.next)
		if errors.Is(err, storage.ErrNotExist) {
			absent = true
			return nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if time.Since(d.lastLag) >= d.conf.pollInterval || absent {
		d.lastLag = time.Now()
		newest := d.next - 1
		if !absent {
			if n, err := d.newestVersion(ctx, d.next); err == nil {
				newest = n
			}
		}
		d.mLag.Set(newest-d.tracker.done(), d.conf.path)
	}
	if absent {
		return nil, nil
	}
	if ch.Protocol != nil || ch.Metadata != nil {
		proto := ch.Protocol
		meta := ch.Metadata
		if meta == nil {
			meta = d.meta
		}
		if proto != nil {
			if err := delta.CheckReadRows(proto, meta); err != nil {
				return nil, d.retry(ctx, "reading commit "+strconv.FormatInt(d.next, 10), func() error { return err })
			}
		}
		if ch.Metadata != nil {
			if err := d.setMetadata(ch.Metadata); err != nil {
				return nil, d.retry(ctx, "reading commit "+strconv.FormatInt(d.next, 10), func() error { return err })
			}
		}
	}
	u := &dliUnit{version: ch.Version, txns: ch.Txns, removed: []string{}}
	for _, r := range ch.Removes {
		u.removed = append(u.removed, delta.DecodePath(r.Path))
	}
	for _, a := range ch.Adds {
		keep, err := d.keep(a)
		if err != nil {
			return nil, d.retry(ctx, "filtering commit "+strconv.FormatInt(d.next, 10), func() error { return err })
		}
		if keep {
			u.files = append(u.files, a)
		}
	}
	d.next++
	return u, nil
}

// readRows reads up to batch_rows rows of the open file; an empty batch
// means the file ended (and is closed).
func (d *deltaLakeInput) readRows(ctx context.Context) (service.MessageBatch, error) {
	var batch service.MessageBatch
	path := delta.DecodePath(d.rowsOf.Path)
	for len(batch) < d.conf.batchRows {
		var vals []any
		err := d.retry(ctx, "reading data file "+path, func() error {
			if d.rows == nil {
				// After a storage failure the reader is not trusted: the file
				// is opened again and the rows read already are skipped.
				fr, err := d.scan.Open(d.ctx, d.st, d.rowsOf)
				if err != nil {
					return err
				}
				for i := int64(0); i < d.rowsRead; i++ {
					if _, err := fr.Next(); err != nil {
						_ = fr.Close()
						return err
					}
				}
				d.rows = fr
			}
			var err error
			vals, err = d.rows.Next()
			switch {
			case errors.Is(err, io.EOF):
				return nil
			case err != nil && !delta.IsPermanent(err):
				_ = d.rows.Close()
				d.rows = nil
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		if vals == nil {
			_ = d.rows.Close()
			d.rows, d.inFile = nil, false
			break
		}
		d.rowsRead++
		batch = append(batch, d.message(vals, path))
	}
	d.mRows.Incr(int64(len(batch)), d.conf.path)
	return batch, nil
}

func (d *deltaLakeInput) message(vals []any, path string) *service.Message {
	m := service.NewMessage(nil)
	if d.conf.form == dliFormRow {
		m.MetaSetMut(contract.MetaRow, &gschema.Row{Layout: d.layout, Values: vals})
	} else {
		obj := make(map[string]any, len(vals))
		for i, n := range d.layout.Names {
			obj[n] = vals[i]
		}
		m.SetStructuredMut(obj)
	}
	m.MetaSetMut(MetaDeltaTable, d.conf.path)
	m.MetaSetMut(MetaDeltaVersion, strconv.FormatInt(d.unit.version, 10))
	m.MetaSetMut(MetaDeltaFile, path)
	for _, pc := range d.scan.PartitionColumns() {
		if v := d.rowsOf.PartitionValues[pc]; v != nil {
			m.MetaSetMut(pc, *v)
		}
	}
	return m
}

func (d *deltaLakeInput) marker(u *dliUnit) *service.Message {
	m := service.NewMessage(nil)
	txns := u.txns
	if txns == nil {
		txns = []delta.Txn{}
	}
	tj, _ := json.Marshal(txns)
	rj, _ := json.Marshal(u.removed)
	m.MetaSetMut(MetaDeltaMarker, "commit")
	m.MetaSetMut(MetaDeltaTable, d.conf.path)
	m.MetaSetMut(MetaDeltaVersion, strconv.FormatInt(u.version, 10))
	m.MetaSetMut(MetaDeltaTxns, string(tj))
	m.MetaSetMut(MetaDeltaRemovedFiles, string(rj))
	return m
}

// Close closes the open data file.
func (d *deltaLakeInput) Close(context.Context) error {
	d.cancel()
	d.readMu.Lock()
	defer d.readMu.Unlock()
	if d.rows != nil {
		err := d.rows.Close()
		d.rows = nil
		return err
	}
	return nil
}

// versionProgress is one version's batches: how many are not acknowledged
// yet, and whether all were emitted.
type versionProgress struct {
	version int64
	open    int
	emitted bool
}

// tracker stores a version as done once its batches and those of every
// earlier version are acknowledged.
type tracker struct {
	mu      sync.Mutex
	pending []*versionProgress // in version order
	last    int64              // the newest done version (-1: none)
	started bool

	saveMu sync.Mutex
	saved  int64
	save   func(ctx context.Context, v int64, n int) error
}

func (t *tracker) begin(v int64) *versionProgress {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.started {
		t.started, t.last, t.saved = true, v-1, v-1
	}
	p := &versionProgress{version: v}
	t.pending = append(t.pending, p)
	return p
}

// resumeAfter starts the tracker after a stored version.
func (t *tracker) resumeAfter(v int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.started, t.last, t.saved = true, v, v
}

func (t *tracker) done() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last
}

// hold counts a batch of p and returns its ack function.
func (t *tracker) hold(p *versionProgress) service.AckFunc {
	t.mu.Lock()
	p.open++
	t.mu.Unlock()
	var once sync.Once
	return func(ctx context.Context, err error) error {
		if err != nil {
			return nil // a nack: the version is not done (auto_replay_nacks sends the batch again)
		}
		var serr error
		once.Do(func() {
			t.mu.Lock()
			p.open--
			t.mu.Unlock()
			serr = t.advance(ctx)
		})
		return serr
	}
}

func (t *tracker) emitted(p *versionProgress) {
	t.mu.Lock()
	p.emitted = true
	t.mu.Unlock()
	_ = t.advance(context.Background())
}

// advance stores the newest version whose batches, and all earlier ones',
// are acknowledged.
func (t *tracker) advance(ctx context.Context) error {
	t.mu.Lock()
	n := 0
	for len(t.pending) > 0 && t.pending[0].emitted && t.pending[0].open == 0 {
		t.last = t.pending[0].version
		t.pending = t.pending[1:]
		n++
	}
	last := t.last
	t.mu.Unlock()
	if n == 0 {
		return nil
	}
	t.saveMu.Lock()
	defer t.saveMu.Unlock()
	if last <= t.saved {
		return nil
	}
	if err := t.save(ctx, last, int(last-t.saved)); err != nil {
		return fmt.Errorf("storing the progress (version %d): %w", last, err)
	}
	t.saved = last
	return nil
}

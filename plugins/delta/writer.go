package delta

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/delta/datafile"
	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
)

// Row is one record to append, with its progress key for exactly-once
// delivery: the source partition it came from (AppID, e.g. "gdelt.events-3")
// and its position there (Version, e.g. the Kafka offset). A row whose
// Version is at or below the table's txn version for its AppID was already
// committed and is skipped. AppID "" means no tracking (at-least-once).
type Row struct {
	Values  map[string]any
	AppID   string
	Version int64
}

// WriterConfig shapes the files and commits of a Writer.
type WriterConfig struct {
	// Schema is the whole table schema, partition columns included.
	Schema           schema.StructType
	PartitionColumns []string
	// UniqueVersions says each row of a source partition has its own version
	// (an offset, a line): a row with a version already kept in the same
	// batch is a repeat and is skipped like a committed one. Off when many
	// rows share a version (a window's rows under one txn).
	UniqueVersions bool
	// TargetFileSize closes a data file once it reaches about this many bytes.
	TargetFileSize int64
	Parquet        datafile.Config
	// CommitAttempts bounds the attempts at a commit that fails for a storage
	// error (the data files are kept between attempts); default 3.
	CommitAttempts int
	// CommitBackoff is the wait before the second attempt, doubling after.
	CommitBackoff time.Duration
	// OrderTimeout bounds the wait of a batch for an earlier batch of the same
	// source partition (max_in_flight > 1); default 1 minute.
	OrderTimeout time.Duration
	// BeforeCommit, when set, runs after the data files are written and
	// before the commit (tests use it to crash there).
	BeforeCommit func()
}

// WriteResult says what one Write did.
type WriteResult struct {
	Version int64 // the committed version, -1 when nothing was committed
	Written int   // rows in the new data files
	Skipped int   // rows already committed (at or below their txn version)
	Files   []Add
	// Failed maps the index of a row that does not fit the schema to why.
	// The other rows are committed.
	Failed map[int]error
	// Conflicts counts commits redone after another writer committed the
	// same source partition first.
	Conflicts int
}

// Writer appends rows to one Delta table with exactly-once txn tracking.
// It is safe for concurrent use; commits of one source partition happen in
// the order of their versions.
type Writer struct {
	t          *Table
	cfg        WriterConfig
	dataSchema schema.StructType
	partTypes  map[string]schema.DataType
	order      *orderGate

	mu     sync.Mutex
	failed map[string]map[int64]error // rows that did not fit, by appId and version: never skipped as duplicates
}

// NewWriter returns a writer over t.
func NewWriter(t *Table, cfg WriterConfig) (*Writer, error) {
	if cfg.TargetFileSize <= 0 {
		cfg.TargetFileSize = 128 << 20
	}
	if cfg.CommitAttempts <= 0 {
		cfg.CommitAttempts = 3
	}
	if cfg.CommitBackoff <= 0 {
		cfg.CommitBackoff = time.Second
	}
	if cfg.OrderTimeout <= 0 {
		cfg.OrderTimeout = time.Minute
	}
	w := &Writer{t: t, cfg: cfg, partTypes: map[string]schema.DataType{}, order: newOrderGate(), failed: map[string]map[int64]error{}}
	isPart := map[string]bool{}
	for _, p := range cfg.PartitionColumns {
		isPart[p] = true
	}
	for _, f := range cfg.Schema.Fields {
		if isPart[f.Name] {
			w.partTypes[f.Name] = f.Type
			continue
		}
		w.dataSchema.Fields = append(w.dataSchema.Fields, f)
	}
	for _, p := range cfg.PartitionColumns {
		if _, ok := w.partTypes[p]; !ok {
			return nil, fmt.Errorf("partition column %q is not in the schema", p)
		}
	}
	if len(w.dataSchema.Fields) == 0 {
		return nil, errors.New("the schema has no column outside the partition columns")
	}
	return w, nil
}

// Table returns the table written to.
func (w *Writer) Table() *Table { return w.t }

// Write appends rows in one commit. Rows already committed are skipped;
// rows that do not fit the schema are reported in Failed and the rest are
// committed. After an error the caller retries the batch. The error may
// wrap ErrOutcomeUnknown: the commit may have landed, and a retry finds its
// rows committed when they carry AppIDs (without, they may be written twice).
func (w *Writer) Write(ctx context.Context, rows []Row) (*WriteResult, error) {
	spans := spansOf(rows)
	ticket := w.order.enter(spans)
	res, err := w.write(ctx, rows, ticket)
	w.order.leave(ticket, err == nil)
	return res, err
}

func (w *Writer) write(ctx context.Context, rows []Row, ticket *orderTicket) (*WriteResult, error) {
	res := &WriteResult{Version: -1, Failed: map[int]error{}}
	for attempt := 0; ; attempt++ {
		keep := w.pending(rows, res)
		adds, txns, err := w.writeFiles(ctx, rows, keep, res)
		if err != nil {
			w.discard(adds)
			return res, err
		}
		if len(adds) == 0 && len(txns.txns) == 0 {
			return res, nil
		}
		if err := w.order.wait(ctx, ticket, w.cfg.OrderTimeout); err != nil {
			w.discard(adds)
			return res, err
		}
		if w.cfg.BeforeCommit != nil {
			w.cfg.BeforeCommit()
		}
		v, unknown, err := w.commit(ctx, adds, txns)
		if errors.Is(err, ErrTxnConflict) && attempt < 5 {
			// Another writer committed some of these rows first (or, when an
			// attempt's outcome was unknown and it was not recognised, this one
			// did): write again what is still missing.
			if !unknown {
				w.discard(adds)
			}
			res.Conflicts++
			if err := w.t.Update(ctx); err != nil {
				return res, err
			}
			continue
		}
		if err != nil {
			if unknown {
				return res, fmt.Errorf("%w; its %d data files are kept: the commit that may have landed references them (if it did not, `delta-table vacuum` removes them)", err, len(adds))
			}
			w.discard(adds)
			return res, err
		}
		res.Version, res.Files = v, adds
		return res, nil
	}
}

// pending returns the indexes of rows not yet committed; it counts the rest.
func (w *Writer) pending(rows []Row, res *WriteResult) []int {
	res.Skipped, res.Written = 0, 0
	clear(res.Failed)
	keep := make([]int, 0, len(rows))
	var kept map[string]map[int64]struct{} // UniqueVersions: the versions kept per appId in this batch
	if w.cfg.UniqueVersions {
		kept = map[string]map[int64]struct{}{}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, r := range rows {
		if r.AppID != "" {
			if kept != nil {
				vs := kept[r.AppID]
				if vs == nil {
					vs = map[int64]struct{}{}
					kept[r.AppID] = vs
				}
				if _, dup := vs[r.Version]; dup {
					res.Skipped++ // the same source row twice in one batch
					continue
				}
				vs[r.Version] = struct{}{}
			}
			if txn, ok := w.t.Txn(r.AppID); ok && r.Version <= txn.Version {
				if ferr, bad := w.failed[r.AppID][r.Version]; bad {
					// A row that failed before is not in the table: fail it again,
					// never pass it off as a duplicate.
					res.Failed[i] = ferr
					continue
				}
				res.Skipped++
				continue
			}
		}
		keep = append(keep, i)
	}
	return keep
}

type partFiles struct {
	values map[string]*string
	dir    string
	rows   []int
}

// writeFiles writes the kept rows into data files, partition by partition,
// and returns their add actions and the txns to commit.
func (w *Writer) writeFiles(ctx context.Context, rows []Row, keep []int, res *WriteResult) ([]Add, txnSet, error) {
	groups := map[string]*partFiles{}
	var order []string
	for _, i := range keep {
		values, dir, err := w.partitionOf(rows[i].Values)
		if err != nil {
			w.fail(rows[i], i, err, res)
			continue
		}
		g, ok := groups[dir]
		if !ok {
			g = &partFiles{values: values, dir: dir}
			groups[dir] = g
			order = append(order, dir)
		}
		g.rows = append(g.rows, i)
	}
	sort.Strings(order)

	var adds []Add
	for _, dir := range order {
		g := groups[dir]
		a, err := w.writePartition(ctx, rows, g, res)
		adds = append(adds, a...)
		if err != nil {
			return adds, txnSet{}, err
		}
	}
	// One txn per source partition: the highest version among the rows that
	// are now in the table.
	maxV, minV := map[string]int64{}, map[string]int64{}
	for _, i := range keep {
		r := rows[i]
		if r.AppID == "" {
			continue
		}
		if _, bad := res.Failed[i]; bad {
			continue
		}
		if v, ok := maxV[r.AppID]; !ok || r.Version > v {
			maxV[r.AppID] = r.Version
		}
		if v, ok := minV[r.AppID]; !ok || r.Version < v {
			minV[r.AppID] = r.Version
		}
	}
	txns := make([]Txn, 0, len(maxV))
	now := time.Now().UnixMilli()
	for app, v := range maxV {
		txns = append(txns, Txn{AppID: app, Version: v, LastUpdated: now})
	}
	sort.Slice(txns, func(i, j int) bool { return txns[i].AppID < txns[j].AppID })
	return adds, txnSet{txns: txns, floors: minV}, nil
}

// txnSet is the progress a commit records: one txn per source partition, and
// the lowest version of each partition's rows in the commit.
type txnSet struct {
	txns   []Txn
	floors map[string]int64
}

func (w *Writer) fail(r Row, i int, err error, res *WriteResult) {
	res.Failed[i] = err
	if r.AppID == "" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failed[r.AppID] == nil {
		w.failed[r.AppID] = map[int64]error{}
	}
	w.failed[r.AppID][r.Version] = err
}

// writePartition streams the rows of one partition into files of about the
// target size.
func (w *Writer) writePartition(ctx context.Context, rows []Row, g *partFiles, res *WriteResult) ([]Add, error) {
	var adds []Add
	var cur *dataFile
	closeCur := func() error {
		if cur == nil {
			return nil
		}
		a, n, err := cur.finish()
		cur = nil
		if err != nil {
			return err
		}
		if n > 0 {
			a.PartitionValues = g.values
			adds = append(adds, a)
			res.Written += int(n)
		}
		return nil
	}
	for _, i := range g.rows {
		if cur == nil {
			var err error
			if cur, err = w.newDataFile(ctx, g.dir); err != nil {
				return adds, err
			}
		}
		if err := cur.fw.Write(rows[i].Values); err != nil {
			var ve *datafile.ValueError
			if errors.As(err, &ve) {
				w.fail(rows[i], i, err, res)
				continue
			}
			cur.abort(err)
			return adds, err
		}
		if cur.fw.BytesWritten()+cur.fw.BufferedBytes() >= w.cfg.TargetFileSize {
			if err := closeCur(); err != nil {
				return adds, err
			}
		}
	}
	return adds, closeCur()
}

// dataFile is a Parquet file being streamed to storage.
type dataFile struct {
	path string
	fw   *datafile.Writer
	pw   *io.PipeWriter
	done chan error
	t0   time.Time
}

func (w *Writer) newDataFile(ctx context.Context, dir string) (*dataFile, error) {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	codec := w.cfg.Parquet.Compression
	if codec == "" {
		codec = "zstd"
	}
	name := fmt.Sprintf("part-00000-%s-c000.%s.parquet", uuidString(id), codec)
	p := path.Join(dir, name)
	pr, pw := io.Pipe()
	f := &dataFile{path: p, pw: pw, done: make(chan error, 1), t0: time.Now()}
	go func() {
		err := w.t.Storage().Write(ctx, p, pr, -1)
		pr.CloseWithError(err) // unblock the writer if the upload failed early
		f.done <- err
	}()
	fw, err := datafile.NewWriter(pw, w.dataSchema, w.cfg.Parquet)
	if err != nil {
		pw.CloseWithError(err)
		<-f.done
		return nil, err
	}
	f.fw = fw
	return f, nil
}

// finish closes the file and waits for its upload; an empty file is deleted.
func (f *dataFile) finish() (Add, int64, error) {
	stats, err := f.fw.Close()
	if err != nil {
		f.abort(err)
		return Add{}, 0, err
	}
	size := f.fw.BytesWritten()
	f.pw.Close()
	if err := <-f.done; err != nil {
		return Add{}, 0, fmt.Errorf("uploading %s: %w", f.path, err)
	}
	js, err := stats.JSON()
	if err != nil {
		return Add{}, 0, err
	}
	return Add{Path: EncodePath(f.path), Size: size, ModificationTime: time.Now().UnixMilli(), DataChange: true, Stats: js}, stats.NumRecords, nil
}

func (f *dataFile) abort(err error) {
	f.pw.CloseWithError(err)
	<-f.done
}

// discard deletes data files that no commit references: only call it when
// every commit attempt with them is known to have failed. Best effort: the
// vacuum finds what is left.
func (w *Writer) discard(adds []Add) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, a := range adds {
		_ = w.t.Storage().Delete(ctx, DecodePath(a.Path))
	}
}

// commit commits the files and txns, retrying storage errors with backoff.
// Every attempt is the same logical commit (one txnId), so an attempt after
// one whose outcome was unknown recognises it if it landed. unknown reports
// whether any attempt may have landed: the files must then be kept.
func (w *Writer) commit(ctx context.Context, adds []Add, txns txnSet) (v int64, unknown bool, err error) {
	c := Commit{Adds: adds, Txns: txns.txns, TxnFloors: txns.floors, Operation: "STREAMING UPDATE",
		OperationParameters: map[string]any{"outputMode": "Append", "queryId": "gdeltflow", "epochId": "0"},
		TxnID:               txnUUID()}
	delay := w.cfg.CommitBackoff
	for attempt := 1; ; attempt++ {
		v, err = w.t.Commit(ctx, c)
		if err == nil {
			return v, false, nil
		}
		unknown = unknown || errors.Is(err, ErrOutcomeUnknown)
		if errors.Is(err, ErrTxnConflict) || errors.Is(err, ErrConcurrentModification) || IsPermanent(err) ||
			attempt >= w.cfg.CommitAttempts {
			return v, unknown, err
		}
		select {
		case <-ctx.Done():
			return -1, unknown, fmt.Errorf("retrying the commit: %w (after: %w)", ctx.Err(), err)
		case <-time.After(delay):
		}
		delay *= 2
	}
}

// partitionOf serialises the partition values of a row as Delta does, and
// returns them with the Hive-style folder of the data files.
func (w *Writer) partitionOf(values map[string]any) (map[string]*string, string, error) {
	if len(w.cfg.PartitionColumns) == 0 {
		return nil, "", nil
	}
	pv := make(map[string]*string, len(w.cfg.PartitionColumns))
	var dir strings.Builder
	for _, col := range w.cfg.PartitionColumns {
		s, null, err := partitionString(w.partTypes[col], values[col])
		if err != nil {
			return nil, "", fmt.Errorf("partition column %s: %w", col, err)
		}
		if dir.Len() > 0 {
			dir.WriteByte('/')
		}
		dir.WriteString(col)
		dir.WriteByte('=')
		if null {
			pv[col] = nil
			dir.WriteString("__HIVE_DEFAULT_PARTITION__")
			continue
		}
		pv[col] = &s
		dir.WriteString(hiveEscape(s))
	}
	return pv, dir.String(), nil
}

// partitionString formats a partition value per the protocol's "Partition
// Value Serialization".
func partitionString(t schema.DataType, v any) (string, bool, error) {
	if v == nil {
		return "", true, nil
	}
	switch t.Primitive {
	case "string":
		if s, ok := v.(string); ok {
			return s, false, nil
		}
	case "long", "integer", "short", "byte":
		if n, ok := datafile.AsInt64(v); ok {
			return strconv.FormatInt(n, 10), false, nil
		}
	case "date":
		switch x := v.(type) {
		case string:
			if _, err := time.Parse("2006-01-02", x); err == nil {
				return x, false, nil
			}
		case time.Time:
			return x.UTC().Format("2006-01-02"), false, nil
		}
	case "timestamp":
		if x, ok := v.(time.Time); ok {
			return x.UTC().Format("2006-01-02 15:04:05.000000"), false, nil
		}
	case "boolean":
		if b, ok := v.(bool); ok {
			return strconv.FormatBool(b), false, nil
		}
	}
	return "", false, fmt.Errorf("want a %s partition value, got %T %v", t, v, v)
}

// hiveEscape escapes a partition value for a folder name as Spark does.
func hiveEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || strings.IndexByte("\"#%'*/:=?\\\x7f{[]^", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func uuidString(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// run is a stretch of consecutive versions (inclusive).
type run struct{ lo, hi int64 }

// span is the exact set of versions of one source partition in a batch, as
// sorted, merged runs.
type span struct {
	app  string
	runs []run
}

func (s span) min() int64 { return s.runs[0].lo }
func (s span) max() int64 { return s.runs[len(s.runs)-1].hi }

func spansOf(rows []Row) []span {
	byApp := map[string][]int64{}
	var apps []string
	for _, r := range rows {
		if r.AppID == "" {
			continue
		}
		if _, ok := byApp[r.AppID]; !ok {
			apps = append(apps, r.AppID)
		}
		byApp[r.AppID] = append(byApp[r.AppID], r.Version)
	}
	out := make([]span, 0, len(apps))
	for _, app := range apps {
		vs := byApp[app]
		sort.Slice(vs, func(i, j int) bool { return vs[i] < vs[j] })
		var runs []run
		for _, v := range vs {
			if n := len(runs); n > 0 && v <= runs[n-1].hi+1 {
				runs[n-1].hi = max(runs[n-1].hi, v)
				continue
			}
			runs = append(runs, run{v, v})
		}
		out = append(out, span{app: app, runs: runs})
	}
	return out
}

// mergeRuns returns the sorted union of two run lists.
func mergeRuns(a, b []run) []run {
	all := append(append([]run(nil), a...), b...)
	sort.Slice(all, func(i, j int) bool { return all[i].lo < all[j].lo })
	var out []run
	for _, r := range all {
		if n := len(out); n > 0 && r.lo <= out[n-1].hi+1 {
			out[n-1].hi = max(out[n-1].hi, r.hi)
			continue
		}
		out = append(out, r)
	}
	return out
}

// subtractRuns returns the versions of a that are not in b.
func subtractRuns(a, b []run) []run {
	var out []run
	for _, r := range a {
		pieces := []run{r}
		for _, c := range b {
			var next []run
			for _, p := range pieces {
				if c.hi < p.lo || c.lo > p.hi {
					next = append(next, p)
					continue
				}
				if p.lo < c.lo {
					next = append(next, run{p.lo, c.lo - 1})
				}
				if p.hi > c.hi {
					next = append(next, run{c.hi + 1, p.hi})
				}
			}
			pieces = next
		}
		out = append(out, pieces...)
	}
	return out
}

// orderGate keeps the txn progress of each source partition sound when
// batches are written concurrently (max_in_flight > 1) or retried out of
// order: a commit records the highest version it holds, so it may only
// happen when no version below that is still uncommitted outside the batch.
// A batch waits for an in-flight batch that starts below it; it fails at once
// (to be retried later) when versions below its highest one are in a failed
// batch not yet committed, or in an in-flight batch that starts inside its
// range. Without this, rows of the failed or interleaved batch would later be
// skipped as duplicates.
type orderGate struct {
	mu      sync.Mutex
	changed chan struct{}
	live    map[*orderTicket]bool
	failed  map[string][]run // by app: versions whose batch failed and that no commit has held since
}

type orderTicket struct{ spans []span }

// ErrOutOfOrder means versions below the batch's highest one are not
// committed yet; the batch is retried later.
var ErrOutOfOrder = errors.New("an earlier batch of the same source partition is not committed yet")

func newOrderGate() *orderGate {
	return &orderGate{changed: make(chan struct{}), live: map[*orderTicket]bool{}, failed: map[string][]run{}}
}

func (g *orderGate) enter(spans []span) *orderTicket {
	t := &orderTicket{spans: spans}
	g.mu.Lock()
	g.live[t] = true
	g.mu.Unlock()
	return t
}

// blocker reports whether uncommitted versions hold t back, and whether t
// must fail rather than wait.
func (g *orderGate) blocker(t *orderTicket) (blocked, fail bool) {
	for _, s := range t.spans {
		// Failed versions below the batch's highest one that it does not hold.
		var below []run
		for _, f := range g.failed[s.app] {
			if f.lo < s.max() {
				below = append(below, run{f.lo, min(f.hi, s.max()-1)})
			}
		}
		if len(subtractRuns(below, s.runs)) > 0 {
			return true, true
		}
		for o := range g.live {
			if o == t {
				continue
			}
			for _, os := range o.spans {
				if os.app != s.app {
					continue
				}
				switch {
				case os.min() < s.min():
					blocked = true // a predecessor: wait for it
				case os.min() < s.max():
					return true, true // interleaved: let it go first
				}
			}
		}
	}
	return blocked, false
}

func (g *orderGate) wait(ctx context.Context, t *orderTicket, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		g.mu.Lock()
		blocked, fail := g.blocker(t)
		ch := g.changed
		g.mu.Unlock()
		if !blocked {
			return nil
		}
		if fail {
			return ErrOutOfOrder
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return fmt.Errorf("waited %s: %w", timeout, ErrOutOfOrder)
		}
	}
}

func (g *orderGate) leave(t *orderTicket, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.live, t)
	for _, s := range t.spans {
		if ok {
			// Committed (or skipped as already committed): settled.
			if rest := subtractRuns(g.failed[s.app], s.runs); len(rest) > 0 {
				g.failed[s.app] = rest
			} else {
				delete(g.failed, s.app)
			}
		} else {
			g.failed[s.app] = mergeRuns(g.failed[s.app], s.runs)
		}
	}
	close(g.changed)
	g.changed = make(chan struct{})
}

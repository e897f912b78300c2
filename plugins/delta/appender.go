package delta

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/gdeltflow/gdeltflow/plugins/delta/datafile"
	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
)

// Row is one record to append, with its progress key for exactly-once
// delivery: the source partition it came from (AppID, e.g. "gdelt.events-3")
// and its position there (Version, e.g. the Kafka offset). A row whose
// Version is at or below the table's txn version for its AppID was already
// committed and is skipped. AppID "" means no tracking (at-least-once).
//
// The values come in one of two forms. Values holds them by column name (a
// missing column is null, other keys are ignored). Data, when not nil, holds
// them instead in column order, with no lookup by name: the values of the
// data columns (Appender.DataSchema: the schema's fields other than the
// partition columns) in schema order, as datafile.Writer.WriteValues takes
// them, and Partition the partition columns' values in
// AppendConfig.PartitionColumns order; Values is then not read.
type Row struct {
	Values    map[string]any
	Data      []any
	Partition []any
	AppID     string
	Version   int64
}

// AppendConfig shapes the data files and commits of an Appender.
type AppendConfig struct {
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
	// DataFile shapes the Parquet files (codec, row groups, pages).
	DataFile datafile.Config
	// CommitAttempts bounds the attempts at a commit that fails for a storage
	// error (the data files are kept between attempts); default 3.
	CommitAttempts int
	// CommitBackOff makes the policy of the waits between those attempts
	// (a fresh one per commit); nil: DefaultBackOff. Its MaxElapsedTime, when
	// set, ends the attempts too.
	CommitBackOff func() backoff.BackOff
	// OrderTimeout bounds the wait of a batch for an earlier batch of the same
	// source partition (max_in_flight > 1); default 1 minute.
	OrderTimeout time.Duration
	// BeforeCommit, when set, runs after the data files are written and
	// before the commit (tests use it to crash there).
	BeforeCommit func()
}

// AppendResult says what one Append did.
type AppendResult struct {
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

// Appender appends rows to one Delta table, exactly once: each Append writes
// the rows not committed yet as data files, then commits them in one version
// with the txn progress of their source partitions (see Row). It is safe for
// concurrent use; commits of one source partition happen in the order of
// their versions (see orderGate).
type Appender struct {
	t          *Table
	cfg        AppendConfig
	dataSchema schema.StructType
	partTypes  map[string]schema.DataType
	order      *orderGate

	mu     sync.Mutex
	failed map[string]map[int64]error // rows that did not fit, by appId and version: never skipped as duplicates
}

// NewAppender returns an appender to t.
func NewAppender(t *Table, cfg AppendConfig) (*Appender, error) {
	if cfg.TargetFileSize <= 0 {
		cfg.TargetFileSize = 128 << 20
	}
	if cfg.CommitAttempts <= 0 {
		cfg.CommitAttempts = 3
	}
	if cfg.CommitBackOff == nil {
		cfg.CommitBackOff = DefaultBackOff
	}
	if cfg.OrderTimeout <= 0 {
		cfg.OrderTimeout = time.Minute
	}
	if cfg.DataFile.Hints == nil {
		// The table's files pass their dictionary decisions on.
		cfg.DataFile.Hints = datafile.NewDictHints()
	}
	ap := &Appender{t: t, cfg: cfg, partTypes: map[string]schema.DataType{}, order: newOrderGate(), failed: map[string]map[int64]error{}}
	isPart := map[string]bool{}
	for _, p := range cfg.PartitionColumns {
		isPart[p] = true
	}
	for _, f := range cfg.Schema.Fields {
		if isPart[f.Name] {
			ap.partTypes[f.Name] = f.Type
			continue
		}
		ap.dataSchema.Fields = append(ap.dataSchema.Fields, f)
	}
	for _, p := range cfg.PartitionColumns {
		if _, ok := ap.partTypes[p]; !ok {
			return nil, fmt.Errorf("partition column %q is not in the schema", p)
		}
	}
	if len(ap.dataSchema.Fields) == 0 {
		return nil, errors.New("the schema has no column outside the partition columns")
	}
	return ap, nil
}

// Table returns the table written to.
func (ap *Appender) Table() *Table { return ap.t }

// DataSchema is the schema of the data files: the table's schema without
// the partition columns, the order of Row.Data.
func (ap *Appender) DataSchema() schema.StructType { return ap.dataSchema }

// Append appends rows in one commit. Rows already committed are skipped;
// rows that do not fit the schema are reported in Failed and the rest are
// committed. After an error the caller retries the batch. The error may
// wrap ErrOutcomeUnknown: the commit may have landed, and a retry finds its
// rows committed when they carry AppIDs (without, they may be written twice).
func (ap *Appender) Append(ctx context.Context, rows []Row) (*AppendResult, error) {
	spans := spansOf(rows)
	ticket := ap.order.enter(spans)
	res, err := ap.appendRows(ctx, rows, ticket)
	ap.order.leave(ticket, err == nil)
	return res, err
}

// appendRows writes the data files and commits them, again when another
// writer committed some of the rows first.
func (ap *Appender) appendRows(ctx context.Context, rows []Row, ticket *orderTicket) (*AppendResult, error) {
	res := &AppendResult{Version: -1, Failed: map[int]error{}}
	for attempt := 0; ; attempt++ {
		keep := ap.pending(rows, res)
		adds, txns, err := ap.writeFiles(ctx, rows, keep, res)
		if err != nil {
			ap.discard(adds)
			return res, err
		}
		if len(adds) == 0 && len(txns.txns) == 0 {
			return res, nil
		}
		if err := ap.order.wait(ctx, ticket, ap.cfg.OrderTimeout); err != nil {
			ap.discard(adds)
			return res, err
		}
		if ap.cfg.BeforeCommit != nil {
			ap.cfg.BeforeCommit()
		}
		v, unknown, err := ap.commit(ctx, adds, txns)
		if errors.Is(err, ErrTxnConflict) && attempt < 5 {
			// Another writer committed some of these rows first (or, when an
			// attempt's outcome was unknown and it was not recognised, this one
			// did): write again what is still missing.
			if !unknown {
				ap.discard(adds)
			}
			res.Conflicts++
			if err := ap.t.Update(ctx); err != nil {
				return res, err
			}
			continue
		}
		if err != nil {
			if unknown {
				return res, fmt.Errorf("%w; its %d data files are kept: the commit that may have landed references them (if it did not, `delta-table vacuum` removes them)", err, len(adds))
			}
			ap.discard(adds)
			return res, err
		}
		res.Version, res.Files = v, adds
		return res, nil
	}
}

// pending returns the indexes of rows not yet committed; it counts the rest.
func (ap *Appender) pending(rows []Row, res *AppendResult) []int {
	res.Skipped, res.Written = 0, 0
	clear(res.Failed)
	keep := make([]int, 0, len(rows))
	var kept map[string]map[int64]struct{} // UniqueVersions: the versions kept per appId in this batch
	if ap.cfg.UniqueVersions {
		kept = map[string]map[int64]struct{}{}
	}
	ap.mu.Lock()
	defer ap.mu.Unlock()
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
			if txn, ok := ap.t.Txn(r.AppID); ok && r.Version <= txn.Version {
				if ferr, bad := ap.failed[r.AppID][r.Version]; bad {
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
func (ap *Appender) writeFiles(ctx context.Context, rows []Row, keep []int, res *AppendResult) ([]Add, txnSet, error) {
	groups := map[string]*partFiles{}
	var order []string
	var prev partitionKey // the previous row's partition: rows of a batch mostly share theirs
	var prevGroup *partFiles
	for _, i := range keep {
		key, keyed := ap.partitionKeyOf(&rows[i])
		if keyed && prevGroup != nil && key == prev {
			prevGroup.rows = append(prevGroup.rows, i)
			continue
		}
		values, dir, err := ap.partitionOf(&rows[i])
		if err != nil {
			ap.fail(rows[i], i, err, res)
			continue
		}
		g, ok := groups[dir]
		if !ok {
			g = &partFiles{values: values, dir: dir}
			groups[dir] = g
			order = append(order, dir)
		}
		g.rows = append(g.rows, i)
		prev, prevGroup = key, nil
		if keyed {
			prevGroup = g
		}
	}
	sort.Strings(order)

	var adds []Add
	for _, dir := range order {
		g := groups[dir]
		a, err := ap.writePartition(ctx, rows, g, res)
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

func (ap *Appender) fail(r Row, i int, err error, res *AppendResult) {
	res.Failed[i] = err
	if r.AppID == "" {
		return
	}
	ap.mu.Lock()
	defer ap.mu.Unlock()
	if ap.failed[r.AppID] == nil {
		ap.failed[r.AppID] = map[int64]error{}
	}
	ap.failed[r.AppID][r.Version] = err
}

// writePartition streams the rows of one partition into files of about the
// target size.
func (ap *Appender) writePartition(ctx context.Context, rows []Row, g *partFiles, res *AppendResult) ([]Add, error) {
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
			if cur, err = ap.newDataFile(ctx, g.dir); err != nil {
				return adds, err
			}
		}
		var err error
		if r := &rows[i]; r.Data != nil {
			err = cur.fw.WriteValues(r.Data)
		} else {
			err = cur.fw.Write(r.Values)
		}
		if err != nil {
			var ve *datafile.ValueError
			if errors.As(err, &ve) {
				ap.fail(rows[i], i, err, res)
				continue
			}
			cur.abort(err)
			return adds, err
		}
		if cur.fw.BytesWritten()+cur.fw.BufferedBytes() >= ap.cfg.TargetFileSize {
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
	bw   *bufio.Writer // between fw and pw: a page header and its body reach the storage as one write
	pw   *io.PipeWriter
	done chan error
	t0   time.Time
}

// fileBufs pools the buffers between a data file's writer and its upload.
// Without one, each page header (tens of bytes) and each page went through
// the pipe and into the file as a write of its own (63,000 writes of 11 KB
// on average on the day load); pages bigger than the buffer still go
// through whole, uncopied.
var fileBufs = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, fileBufBytes) }}

const fileBufBytes = 256 << 10

func (ap *Appender) newDataFile(ctx context.Context, dir string) (*dataFile, error) {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	codec := ap.cfg.DataFile.Compression
	if codec == "" {
		codec = "zstd"
	}
	name := fmt.Sprintf("part-00000-%s-c000.%s.parquet", uuidString(id), codec)
	p := path.Join(dir, name)
	pr, pw := io.Pipe()
	f := &dataFile{path: p, pw: pw, done: make(chan error, 1), t0: time.Now()}
	go func() {
		err := ap.t.Storage().Write(ctx, p, pr, -1)
		pr.CloseWithError(err) // unblock the writer if the upload failed early
		f.done <- err
	}()
	f.bw = fileBufs.Get().(*bufio.Writer)
	f.bw.Reset(pw)
	fw, err := datafile.NewWriter(f.bw, ap.dataSchema, ap.cfg.DataFile)
	if err != nil {
		f.abort(err)
		return nil, err
	}
	f.fw = fw
	return f, nil
}

// releaseBuf pools the file's buffer once nothing writes through it.
func (f *dataFile) releaseBuf() {
	if f.bw != nil {
		f.bw.Reset(nil)
		fileBufs.Put(f.bw)
		f.bw = nil
	}
}

// finish closes the file and waits for its upload; an empty file is deleted.
func (f *dataFile) finish() (Add, int64, error) {
	stats, err := f.fw.Close()
	if err == nil {
		err = f.bw.Flush()
	}
	if err != nil {
		f.abort(err)
		return Add{}, 0, err
	}
	f.releaseBuf()
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
	f.releaseBuf()
}

// discard deletes data files that no commit references: only call it when
// every commit attempt with them is known to have failed. Best effort: the
// vacuum finds what is left.
func (ap *Appender) discard(adds []Add) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, a := range adds {
		_ = ap.t.Storage().Delete(ctx, DecodePath(a.Path))
	}
}

// commit commits the files and txns, retrying storage errors with backoff.
// Every attempt is the same logical commit (one txnId), so an attempt after
// one whose outcome was unknown recognises it if it landed. unknown reports
// whether any attempt may have landed: the files must then be kept.
func (ap *Appender) commit(ctx context.Context, adds []Add, txns txnSet) (v int64, unknown bool, err error) {
	c := Commit{Adds: adds, Txns: txns.txns, TxnFloors: txns.floors, Operation: "STREAMING UPDATE",
		OperationParameters: map[string]any{"outputMode": "Append", "queryId": "gdeltflow", "epochId": "0"},
		TxnID:               txnUUID()}
	policy := backoff.WithContext(backoff.WithMaxRetries(ap.cfg.CommitBackOff(), uint64(ap.cfg.CommitAttempts-1)), ctx)
	var last error
	v, err = backoff.RetryWithData(func() (int64, error) {
		v, err := ap.t.Commit(ctx, c)
		if err == nil {
			return v, nil
		}
		last = err
		unknown = unknown || errors.Is(err, ErrOutcomeUnknown)
		if errors.Is(err, ErrTxnConflict) || errors.Is(err, ErrConcurrentModification) || IsPermanent(err) {
			return v, backoff.Permanent(err)
		}
		return v, err
	}, policy)
	if err != nil && last != nil && !errors.Is(err, last) {
		// The context ended during a wait.
		return -1, unknown, fmt.Errorf("retrying the commit: %w (after: %w)", err, last)
	}
	return v, unknown, err
}

func uuidString(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

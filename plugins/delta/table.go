package delta

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
)

// TableConfig tunes a Table.
type TableConfig struct {
	// CheckpointInterval: a checkpoint is written after each commit whose
	// version is a multiple of it. 0 means the table's delta.checkpointInterval,
	// or 10; negative disables checkpoints.
	CheckpointInterval int
	// MaxCommitAttempts bounds the retries of a commit that keeps losing the
	// race for the next version (default 100).
	MaxCommitAttempts int
	// EngineInfo goes into commitInfo.engineInfo, e.g. "gdeltflow/1.2.0".
	EngineInfo string
	// OnCheckpoint, when set, is told the outcome of every checkpoint
	// (err nil on success). A failed checkpoint never fails the commit.
	OnCheckpoint func(version int64, err error)
}

// Table writes one Delta table with optimistic concurrency: each commit is
// put-if-absent at the next version; a writer that loses the race reads the
// winning commits, checks them against its own, and retries one version up.
// Any number of Tables (in this or other processes) may write one table.
// A Table is safe for concurrent use; commits are serialized.
type Table struct {
	st  storage.Storage
	cfg TableConfig

	mu            sync.Mutex
	snap          *Snapshot
	checkpointErr error
	landed        recentTxnIDs // commits this Table has seen land, by commitInfo.txnId
}

// recentTxnIDs remembers the versions of the last commits a Table applied,
// by their commitInfo.txnId: a retry of a commit whose outcome was unknown
// finds there that it landed, even after the snapshot moved past it (another
// goroutine's commit read it as a winner). Bounded: a retry comes within
// minutes, long before this many commits.
type recentTxnIDs struct {
	version map[string]int64
	order   []string // ring of the keys of version, oldest at next
	next    int
}

const recentTxnIDsKept = 4096

func (r *recentTxnIDs) add(id string, v int64) {
	if id == "" {
		return
	}
	if r.version == nil {
		r.version = make(map[string]int64)
	}
	if _, ok := r.version[id]; ok {
		return
	}
	if len(r.order) < recentTxnIDsKept {
		r.order = append(r.order, id)
	} else {
		delete(r.version, r.order[r.next])
		r.order[r.next] = id
		r.next = (r.next + 1) % recentTxnIDsKept
	}
	r.version[id] = v
}

func (r *recentTxnIDs) get(id string) (int64, bool) {
	v, ok := r.version[id]
	return v, ok
}

// remember is the snapshot update hook that records each applied commit.
func (t *Table) remember(v int64, actions []Action) error {
	t.landed.add(commitTxnID(actions), v)
	return nil
}

// OpenTable loads the latest snapshot of the table (version -1 when the
// table has no commit yet).
func OpenTable(ctx context.Context, st storage.Storage, cfg TableConfig) (*Table, error) {
	if cfg.MaxCommitAttempts <= 0 {
		cfg.MaxCommitAttempts = 100
	}
	s, err := Load(ctx, st)
	if err != nil {
		return nil, err
	}
	return &Table{st: st, cfg: cfg, snap: s}, nil
}

// Storage is where the table lives.
func (t *Table) Storage() storage.Storage { return t.st }

// Snapshot is the newest state this Table knows. It is owned by the Table and
// changes with the next Commit, Create or Update: callers must not mutate it
// nor read it concurrently with those (use Clone, Version or Txn instead).
func (t *Table) Snapshot() *Snapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.snap
}

// Version is the newest version this Table knows (-1 before version 0).
func (t *Table) Version() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.snap.Version
}

// Txn is the newest committed txn of an application, as far as this Table
// knows (Update first to see other writers' commits).
func (t *Table) Txn(appID string) (Txn, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tx, ok := t.snap.Txns[appID]
	return tx, ok
}

// Update reads the commits other writers made since the last known version.
func (t *Table) Update(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.snap.update(ctx, t.st, t.remember)
}

// CheckpointError is the error of the last checkpoint attempt (nil when it
// succeeded or none was due).
func (t *Table) CheckpointError() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.checkpointErr
}

// Create commits version 0: protocol, metaData and a CREATE TABLE
// commitInfo. An empty meta.ID gets a random UUID, an empty provider
// "parquet", a zero CreatedTime the current time, a zero protocol (1, 2).
// When version 0 exists already (created earlier or by a concurrent
// writer) Create loads it and fails, with ErrMetadataMismatch, only if its
// schema or partition columns differ from meta's.
func (t *Table) Create(ctx context.Context, meta Metadata, proto Protocol) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.snap.Version < 0 {
		if err := t.snap.Update(ctx, t.st); err != nil {
			return err
		}
	}
	if t.snap.Version >= 0 {
		return sameTableShape(t.snap.Metadata, &meta)
	}
	if meta.ID == "" {
		meta.ID = txnUUID()
	}
	if meta.Format.Provider == "" {
		meta.Format.Provider = "parquet"
	}
	if meta.CreatedTime == 0 {
		meta.CreatedTime = time.Now().UnixMilli()
	}
	if proto.MinReaderVersion == 0 && proto.MinWriterVersion == 0 {
		proto = Protocol{MinReaderVersion: 1, MinWriterVersion: 2}
	}
	if err := validateMetadata(&meta); err != nil {
		return fmt.Errorf("creating %s: %w", t.st.Location(), err)
	}
	if err := checkWritable(&proto, &meta); err != nil {
		return fmt.Errorf("creating %s: %w", t.st.Location(), err)
	}
	partitionBy, _ := json.Marshal(nonNil(meta.PartitionColumns))
	props, _ := json.Marshal(nonNilMap(meta.Configuration))
	info := CommitInfo{
		"timestamp": time.Now().UnixMilli(),
		"operation": "CREATE TABLE",
		"operationParameters": map[string]any{
			"isManaged":   "false",
			"description": meta.Description,
			"partitionBy": string(partitionBy),
			"properties":  string(props),
		},
		"isolationLevel": "Serializable",
		"isBlindAppend":  true,
		"txnId":          txnUUID(),
	}
	if t.cfg.EngineInfo != "" {
		info["engineInfo"] = t.cfg.EngineInfo
	}
	actions := []Action{{CommitInfo: info}, {Protocol: &proto}, {MetaData: &meta}}
	data, err := EncodeCommit(actions)
	if err != nil {
		return err
	}
	err = t.st.PutIfAbsent(ctx, CommitPath(0), data)
	if errors.Is(err, storage.ErrExist) {
		if err := t.snap.Update(ctx, t.st); err != nil {
			return err
		}
		return sameTableShape(t.snap.Metadata, &meta)
	}
	if err != nil {
		return fmt.Errorf("creating %s: %w", t.st.Location(), err)
	}
	return t.snap.Apply(0, actions)
}

// Commit is one transaction: files added and removed, application progress
// (txn), and optionally a new metaData (schema change).
type Commit struct {
	Adds    []Add
	Removes []Remove
	// Txns record application progress atomically with the files: a commit
	// whose txn version is not above the table's for the same appId fails
	// with ErrTxnConflict.
	Txns []Txn
	// TxnFloors holds, per appId, the lowest version of the rows in this
	// commit. A table txn at or above it (not only at or above the txn's own
	// version) means some of these rows may be in the table already: another
	// writer of the same source range (a partition's old and new owner during
	// a rebalance) committed first. That is an ErrTxnConflict too.
	TxnFloors map[string]int64
	// Operation names the commit in commitInfo ("WRITE" when empty, with
	// operationParameters {"mode":"Append"} unless given).
	Operation           string
	OperationParameters map[string]any
	Metadata            *Metadata
	// TxnID names the logical commit in commitInfo.txnId; empty: a random
	// one. A retry after an error wrapping ErrOutcomeUnknown must pass the
	// same TxnID: Commit then returns the version where the earlier attempt
	// landed rather than a conflict with it.
	TxnID string
}

// Commit writes the next version and returns it. When another writer took
// that version first, Commit reads the winning commits and checks them: a
// txn of the same appId at or above one of c.Txns gives ErrTxnConflict; a
// changed schema or partitioning, a protocol this package cannot write, or
// a concurrent removal of a file c removes gives ErrConcurrentModification.
// Otherwise (blind appends by others never conflict) it retries one version
// up, at most MaxCommitAttempts times. A conflict error means nothing was
// committed. A storage error (network, timeout) may leave the outcome
// unknown (the error wraps ErrOutcomeUnknown); a retry with the same TxnID is
// then safe: it commits, or finds the earlier attempt by its commitInfo.txnId
// (also when the store's own retry met the file it had just written) and
// returns that version. A retry with another TxnID but the same Txns gives
// ErrTxnConflict if the first attempt landed.
// After a version that is a multiple of the checkpoint interval a checkpoint
// is written; its failure is reported through OnCheckpoint/CheckpointError,
// not here.
func (t *Table) Commit(ctx context.Context, c Commit) (int64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	loc := t.st.Location()
	if t.snap.Version < 0 {
		if err := t.snap.Update(ctx, t.st); err != nil {
			return -1, err
		}
		if t.snap.Version < 0 {
			return -1, fmt.Errorf("committing to %s: %w", loc, ErrNoTable)
		}
	}
	txnID := c.TxnID
	if txnID == "" {
		txnID = txnUUID()
	} else if v, ok := t.landed.get(txnID); ok {
		return v, nil // an earlier attempt landed, and this Table has read it since
	}
	now := time.Now()
	actions, err := t.prepare(&c, now)
	if err != nil {
		return -1, fmt.Errorf("committing to %s: %w", loc, err)
	}
	if err := t.checkAgainst(t.snap, &c); err != nil {
		return -1, fmt.Errorf("committing to %s at version %d: %w", loc, t.snap.Version+1, err)
	}

	info := t.commitInfo(&c, txnID)
	for attempt := 1; ; attempt++ {
		v := t.snap.Version + 1
		info["timestamp"] = time.Now().UnixMilli()
		all := append([]Action{{CommitInfo: info}}, actions...)
		data, err := EncodeCommit(all)
		if err != nil {
			return -1, fmt.Errorf("committing to %s: %w", loc, err)
		}
		err = t.st.PutIfAbsent(ctx, CommitPath(v), data)
		if err == nil {
			if err := t.snap.Apply(v, all); err != nil {
				return -1, fmt.Errorf("committed version %d of %s but cannot apply it: %w (%w)", v, loc, err, ErrOutcomeUnknown)
			}
			t.landed.add(txnID, v)
			t.maybeCheckpoint(ctx, v)
			return v, nil
		}
		if !errors.Is(err, storage.ErrExist) {
			return -1, fmt.Errorf("committing version %d of %s: %w (%w)", v, loc, err, ErrOutcomeUnknown)
		}

		// Lost the race: replay the winners, checking each against c.
		ours := int64(-1)
		var conflict error
		err = t.snap.update(ctx, t.st, func(wv int64, won []Action) error {
			t.landed.add(commitTxnID(won), wv)
			if ours >= 0 || conflict != nil {
				return nil
			}
			if commitTxnID(won) == txnID {
				// Our own earlier attempt landed (its reply was lost and the
				// client's retry then found the key taken).
				ours = wv
				return nil
			}
			conflict = conflictWith(&c, t.snap.Metadata, wv, won)
			return nil
		})
		if err != nil {
			// The winner may be our own put, retried by the store after a lost reply.
			return -1, fmt.Errorf("committing to %s: reading the winning commits: %w (%w)", loc, err, ErrOutcomeUnknown)
		}
		if ours >= 0 {
			t.maybeCheckpoint(ctx, ours)
			return ours, nil
		}
		if conflict == nil {
			conflict = t.checkAgainst(t.snap, &c)
		}
		if conflict != nil {
			return -1, fmt.Errorf("committing to %s after version %d: %w", loc, t.snap.Version, conflict)
		}
		if attempt >= t.cfg.MaxCommitAttempts {
			return -1, fmt.Errorf("committing to %s: lost the race for %d versions in a row (up to %d): %w",
				loc, attempt, t.snap.Version, ErrConcurrentModification)
		}
		if err := ctx.Err(); err != nil {
			return -1, fmt.Errorf("committing to %s: %w", loc, err)
		}
	}
}

// prepare validates c and turns it into actions (without commitInfo).
func (t *Table) prepare(c *Commit, now time.Time) ([]Action, error) {
	var actions []Action
	if c.Metadata != nil {
		m := *c.Metadata
		if m.ID == "" {
			m.ID = t.snap.Metadata.ID
		}
		if m.Format.Provider == "" {
			m.Format.Provider = "parquet"
		}
		if err := validateMetadata(&m); err != nil {
			return nil, err
		}
		actions = append(actions, Action{MetaData: &m})
	}
	seen := map[string]bool{}
	for i := range c.Txns {
		tx := c.Txns[i]
		if tx.AppID == "" {
			return nil, errors.New("txn without appId")
		}
		if seen[tx.AppID] {
			return nil, fmt.Errorf("two txns for appId %q", tx.AppID)
		}
		seen[tx.AppID] = true
		if tx.LastUpdated == 0 {
			tx.LastUpdated = now.UnixMilli()
		}
		actions = append(actions, Action{Txn: &tx})
	}
	for i := range c.Removes {
		r := c.Removes[i]
		if r.Path == "" {
			return nil, errors.New("remove without path")
		}
		if r.DeletionTimestamp == 0 {
			r.DeletionTimestamp = now.UnixMilli()
		}
		actions = append(actions, Action{Remove: &r})
	}
	for i := range c.Adds {
		a := c.Adds[i]
		if a.Path == "" {
			return nil, errors.New("add without path")
		}
		if a.ModificationTime == 0 {
			a.ModificationTime = now.UnixMilli()
		}
		actions = append(actions, Action{Add: &a})
	}
	if err := checkCommit(actions); err != nil {
		return nil, err
	}
	return actions, nil
}

// checkAgainst checks c against a snapshot: protocol, append-only, txns.
func (t *Table) checkAgainst(s *Snapshot, c *Commit) error {
	meta := s.Metadata
	if c.Metadata != nil {
		meta = c.Metadata
	}
	if err := checkWritable(s.Protocol, meta); err != nil {
		return err
	}
	if strings.EqualFold(s.Metadata.Configuration[ConfAppendOnly], "true") {
		for _, r := range c.Removes {
			if r.DataChange {
				return fmt.Errorf("the table is append-only (%s=true): cannot remove %s", ConfAppendOnly, r.Path)
			}
		}
	}
	for _, tx := range c.Txns {
		if have, ok := s.Txns[tx.AppID]; ok && have.Version >= c.txnThreshold(tx) {
			return fmt.Errorf("txn %q version %d: the table is at version %d of it: %w", tx.AppID, tx.Version, have.Version, ErrTxnConflict)
		}
	}
	return nil
}

// txnThreshold is the lowest table txn version of tx's appId that conflicts
// with this commit.
func (c *Commit) txnThreshold(tx Txn) int64 {
	if f, ok := c.TxnFloors[tx.AppID]; ok && f < tx.Version {
		return f
	}
	return tx.Version
}

// conflictWith checks one winning commit (version v, applied on top of
// metadata cur) against c.
func conflictWith(c *Commit, cur *Metadata, v int64, won []Action) error {
	ourTxns := map[string]int64{}
	for _, tx := range c.Txns {
		ourTxns[tx.AppID] = c.txnThreshold(tx)
	}
	ourRemoves := map[string]bool{}
	readsData := false
	for _, r := range c.Removes {
		ourRemoves[DecodePath(r.Path)] = true
		readsData = readsData || r.DataChange
	}
	for i := range won {
		a := &won[i]
		switch {
		case a.Txn != nil:
			if ours, ok := ourTxns[a.Txn.AppID]; ok && a.Txn.Version >= ours {
				return fmt.Errorf("txn %q version %d: version %d committed %d: %w", a.Txn.AppID, ours, v, a.Txn.Version, ErrTxnConflict)
			}
		case a.MetaData != nil:
			if c.Metadata != nil {
				return fmt.Errorf("version %d changed the metadata too: %w", v, ErrConcurrentModification)
			}
			// Files written for the old schema or partitioning do not fit.
			if err := sameTableShape(cur, a.MetaData); err != nil {
				return fmt.Errorf("version %d changed the table: %w", v, errors.Join(err, ErrConcurrentModification))
			}
		case a.Remove != nil:
			if ourRemoves[DecodePath(a.Remove.Path)] {
				return fmt.Errorf("version %d removed %s too: %w", v, a.Remove.Path, ErrConcurrentModification)
			}
		case a.Add != nil:
			// A rewrite of data (removes with dataChange) read the table
			// without the files added concurrently.
			if readsData && a.Add.DataChange {
				return fmt.Errorf("version %d added %s while this commit rewrites data: %w", v, a.Add.Path, ErrConcurrentModification)
			}
		}
	}
	return nil
}

// commitTxnID is commitInfo.txnId of a commit, "" when absent.
func commitTxnID(actions []Action) string {
	for i := range actions {
		if ci := actions[i].CommitInfo; ci != nil {
			if id, ok := ci["txnId"].(string); ok {
				return id
			}
		}
	}
	return ""
}

// commitInfo is the provenance of c, as Spark writes it (metrics as strings).
func (t *Table) commitInfo(c *Commit, txnID string) CommitInfo {
	op, params := c.Operation, c.OperationParameters
	if op == "" {
		op = "WRITE"
		if params == nil {
			params = map[string]any{"mode": "Append"}
		}
	}
	// Spark reads operationParameters as a map of strings (DESCRIBE HISTORY):
	// other values are stored as their JSON text, as Spark stores partitionBy.
	strParams := make(map[string]any, len(params))
	for k, v := range params {
		if s, ok := v.(string); ok {
			strParams[k] = s
		} else if b, err := json.Marshal(v); err == nil {
			strParams[k] = string(b)
		}
	}
	params = strParams
	var bytes, rows int64
	rowsKnown := true
	for _, a := range c.Adds {
		bytes += a.Size
		n, ok := statsNumRecords(a.Stats)
		rowsKnown = rowsKnown && ok
		rows += n
	}
	metrics := map[string]any{
		"numFiles":       strconv.Itoa(len(c.Adds)),
		"numOutputBytes": strconv.FormatInt(bytes, 10),
	}
	if rowsKnown {
		metrics["numOutputRows"] = strconv.FormatInt(rows, 10)
	}
	if len(c.Removes) > 0 {
		metrics["numRemovedFiles"] = strconv.Itoa(len(c.Removes))
	}
	info := CommitInfo{
		"operation":           op,
		"operationParameters": params,
		"readVersion":         t.snap.Version,
		"isolationLevel":      "Serializable",
		"isBlindAppend":       len(c.Removes) == 0 && c.Metadata == nil,
		"operationMetrics":    metrics,
		"txnId":               txnID,
	}
	if t.cfg.EngineInfo != "" {
		info["engineInfo"] = t.cfg.EngineInfo
	}
	return info
}

// maybeCheckpoint writes the checkpoint of version v when it is due; the
// snapshot is at v.
func (t *Table) maybeCheckpoint(ctx context.Context, v int64) {
	interval := t.cfg.CheckpointInterval
	if interval == 0 {
		interval = 10
		if n, err := strconv.Atoi(t.snap.Metadata.Configuration[ConfCheckpointInterval]); err == nil && n > 0 {
			interval = n
		}
	}
	if interval < 0 || v == 0 || v%int64(interval) != 0 || t.snap.Version != v {
		return
	}
	_, err := writeCheckpoint(ctx, t.st, t.snap, time.Now())
	t.checkpointErr = err
	if t.cfg.OnCheckpoint != nil {
		t.cfg.OnCheckpoint(v, err)
	}
}

// supportedWriterFeatures are the table features this package can honour
// when writing (appendOnly is enforced; invariants only when none is set).
var supportedWriterFeatures = []string{"appendOnly", "invariants"}

// readableFeatures are the reader features with which this package still
// reads a table's rows right from its log and statistics: deletion vectors
// (their cardinality is subtracted), and features that change names, types
// or vacuum but not which rows and files are live.
var readableFeatures = []string{"deletionVectors", "columnMapping", "timestampNtz", "typeWidening", "typeWidening-preview",
	"vacuumProtocolCheck", "variantType", "variantType-preview"}

// CheckRead reports whether this package can tell a table's live files and
// rows (row counts, file listings) under protocol p. It refuses reader
// features it does not know, such as v2Checkpoint (sidecar files hold the
// adds) or catalog-managed commits: the numbers would be silently wrong.
func (p *Protocol) CheckRead() error {
	if p == nil {
		return fmt.Errorf("%w: no protocol", ErrUnsupportedProtocol)
	}
	switch {
	case p.MinReaderVersion <= 2:
		return nil
	case p.MinReaderVersion == 3:
		for _, f := range p.ReaderFeatures {
			if !slices.Contains(readableFeatures, f) {
				return fmt.Errorf("%w: reader feature %q", ErrUnsupportedProtocol, f)
			}
		}
		return nil
	default:
		return fmt.Errorf("%w: reader version %d", ErrUnsupportedProtocol, p.MinReaderVersion)
	}
}

// CheckWrite reports whether this package may write a table with protocol p,
// judging by the protocol alone (see checkWritable for the metadata checks).
func (p *Protocol) CheckWrite() error {
	return checkWritable(p, nil)
}

// checkWritable refuses protocols (and, for writer versions 3 to 6, the
// metadata that makes their features active) that a writer of plain appends
// would violate: column mapping, CHECK constraints, generated and identity
// columns, change data feed, deletion vectors and other table features.
func checkWritable(p *Protocol, m *Metadata) error {
	if p == nil {
		return fmt.Errorf("%w: no protocol", ErrUnsupportedProtocol)
	}
	switch {
	case p.MinReaderVersion <= 1:
	case p.MinReaderVersion == 2 && m != nil && columnMappingOff(m):
	case p.MinReaderVersion == 3 && len(p.ReaderFeatures) == 0:
	default:
		return fmt.Errorf("%w: reader version %d, features %v", ErrUnsupportedProtocol, p.MinReaderVersion, p.ReaderFeatures)
	}
	if p.MinWriterVersion <= 2 {
		return invariantsOff(m, p)
	}
	if p.MinWriterVersion == 7 {
		for _, f := range p.WriterFeatures {
			if !slices.Contains(supportedWriterFeatures, f) {
				return fmt.Errorf("%w: writer feature %q", ErrUnsupportedProtocol, f)
			}
		}
		if slices.Contains(p.WriterFeatures, "invariants") {
			return invariantsOff(m, p)
		}
		return nil
	}
	if p.MinWriterVersion > 7 {
		return fmt.Errorf("%w: writer version %d", ErrUnsupportedProtocol, p.MinWriterVersion)
	}
	// Appender versions 3 to 6 imply features; accept them only when inactive.
	if m == nil {
		return fmt.Errorf("%w: writer version %d needs the metadata to check", ErrUnsupportedProtocol, p.MinWriterVersion)
	}
	if err := invariantsOff(m, p); err != nil {
		return err
	}
	// Appender 3 enforces writeStatsAsStruct, which our checkpoints do not do.
	if strings.EqualFold(m.Configuration["delta.checkpoint.writeStatsAsStruct"], "true") {
		return fmt.Errorf("%w: delta.checkpoint.writeStatsAsStruct=true (writer version %d)", ErrUnsupportedProtocol, p.MinWriterVersion)
	}
	for k := range m.Configuration {
		if strings.HasPrefix(k, "delta.constraints.") {
			return fmt.Errorf("%w: CHECK constraint %s", ErrUnsupportedProtocol, k)
		}
	}
	if p.MinWriterVersion >= 4 {
		if strings.EqualFold(m.Configuration["delta.enableChangeDataFeed"], "true") {
			return fmt.Errorf("%w: change data feed is enabled", ErrUnsupportedProtocol)
		}
		if strings.Contains(m.SchemaString, "delta.generationExpression") {
			return fmt.Errorf("%w: generated columns", ErrUnsupportedProtocol)
		}
	}
	if p.MinWriterVersion >= 5 && !columnMappingOff(m) {
		return fmt.Errorf("%w: column mapping", ErrUnsupportedProtocol)
	}
	if p.MinWriterVersion >= 6 && strings.Contains(m.SchemaString, "delta.identity.") {
		return fmt.Errorf("%w: identity columns", ErrUnsupportedProtocol)
	}
	return nil
}

func columnMappingOff(m *Metadata) bool {
	mode := m.Configuration["delta.columnMapping.mode"]
	return mode == "" || strings.EqualFold(mode, "none")
}

func invariantsOff(m *Metadata, p *Protocol) error {
	if m != nil && strings.Contains(m.SchemaString, "delta.invariants") {
		return fmt.Errorf("%w: column invariants (writer version %d)", ErrUnsupportedProtocol, p.MinWriterVersion)
	}
	return nil
}

// validateMetadata checks that the schema is a struct and that every
// partition column is one of its top-level fields.
func validateMetadata(m *Metadata) error {
	var schema struct {
		Type   string `json:"type"`
		Fields []struct {
			Name string `json:"name"`
		} `json:"fields"`
	}
	if err := json.Unmarshal([]byte(m.SchemaString), &schema); err != nil {
		return fmt.Errorf("schemaString: %w", err)
	}
	if schema.Type != "struct" {
		return fmt.Errorf("schemaString: type %q, want struct", schema.Type)
	}
	names := map[string]bool{}
	for _, f := range schema.Fields {
		names[strings.ToLower(f.Name)] = true
	}
	for _, pc := range m.PartitionColumns {
		if !names[strings.ToLower(pc)] {
			return fmt.Errorf("partition column %q is not in the schema", pc)
		}
	}
	return nil
}

// sameTableShape compares schema (as JSON values) and partition columns.
func sameTableShape(have, want *Metadata) error {
	if have == nil {
		return fmt.Errorf("%w: the table has no metadata", ErrMetadataMismatch)
	}
	var hs, ws any
	errH := json.Unmarshal([]byte(have.SchemaString), &hs)
	errW := json.Unmarshal([]byte(want.SchemaString), &ws)
	if errH != nil || errW != nil || !reflect.DeepEqual(hs, ws) {
		return fmt.Errorf("%w: schema %s, want %s", ErrMetadataMismatch, have.SchemaString, want.SchemaString)
	}
	if !slices.Equal(nonNil(have.PartitionColumns), nonNil(want.PartitionColumns)) {
		return fmt.Errorf("%w: partitioned by %v, want %v", ErrMetadataMismatch, have.PartitionColumns, want.PartitionColumns)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// txnUUID is a random (version 4) UUID.
func txnUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

package delta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
)

// Snapshot is the state of a table at one version, as log replay (action
// reconciliation) defines it: the newest protocol and metadata, the live
// files, the tombstones, and the newest txn version of each application.
// Apply is pure logic; Load, LoadVersion and Update do the I/O.
type Snapshot struct {
	// Version is the table version; -1 for a table with no commit yet.
	Version  int64
	Protocol *Protocol
	Metadata *Metadata
	// Files are the live files, keyed by DecodePath(add.Path).
	Files map[string]*Add
	// Tombstones are the removed files, keyed like Files. After a load from a
	// checkpoint they hold only the tombstones the checkpoint kept (those not
	// yet expired when it was written).
	Tombstones map[string]*Remove
	// Txns is the newest txn action of each appId.
	Txns map[string]Txn
	// CheckpointVersion is the checkpoint the snapshot was loaded from, -1
	// when it was replayed from JSON commits only.
	CheckpointVersion int64
	// Warnings says what the load had to work around, e.g. a checkpoint that
	// could not be read (the snapshot then comes from an older checkpoint or
	// the JSON log, which is correct but slower, and the checkpoint should be
	// rewritten). Callers show them to a person.
	Warnings []string
}

// NewSnapshot is the state before version 0.
func NewSnapshot() *Snapshot {
	return &Snapshot{
		Version:           -1,
		Files:             map[string]*Add{},
		Tombstones:        map[string]*Remove{},
		Txns:              map[string]Txn{},
		CheckpointVersion: -1,
	}
}

// Clone copies the snapshot (the maps; the actions they point to are shared
// and must be treated as read-only).
func (s *Snapshot) Clone() *Snapshot {
	c := *s
	c.Files = make(map[string]*Add, len(s.Files))
	for k, v := range s.Files {
		c.Files[k] = v
	}
	c.Tombstones = make(map[string]*Remove, len(s.Tombstones))
	for k, v := range s.Tombstones {
		c.Tombstones[k] = v
	}
	c.Txns = make(map[string]Txn, len(s.Txns))
	for k, v := range s.Txns {
		c.Txns[k] = v
	}
	return &c
}

// Apply applies the actions of commit `version`, which must be the next one
// (s.Version+1), in order. Version 0 must hold protocol and metaData. On
// error the snapshot is untouched. Logs written by others are read leniently
// (the rules of checkCommit are enforced on our own commits only).
func (s *Snapshot) Apply(version int64, actions []Action) error {
	if version != s.Version+1 {
		return fmt.Errorf("applying version %d to a snapshot at version %d: versions must be contiguous", version, s.Version)
	}
	if version == 0 {
		var hasProto, hasMeta bool
		for i := range actions {
			hasProto = hasProto || actions[i].Protocol != nil
			hasMeta = hasMeta || actions[i].MetaData != nil
		}
		if !hasProto || !hasMeta {
			return errors.New("version 0: a table's first commit must hold protocol and metaData")
		}
	}
	s.apply(actions)
	s.Version = version
	return nil
}

// checkCommit enforces the protocol's rules on one log entry: at most one
// protocol, one metaData, one txn per appId, one add and one remove per path.
func checkCommit(actions []Action) error {
	var protos, metas int
	txns := map[string]bool{}
	adds := map[string]bool{}
	removes := map[string]bool{}
	for i := range actions {
		a := &actions[i]
		switch {
		case a.Protocol != nil:
			protos++
		case a.MetaData != nil:
			metas++
		case a.Txn != nil:
			if txns[a.Txn.AppID] {
				return fmt.Errorf("two txn actions for appId %q", a.Txn.AppID)
			}
			txns[a.Txn.AppID] = true
		case a.Add != nil:
			k := fileKey(a.Add.Path, a.Add.DeletionVector)
			if adds[k] {
				return fmt.Errorf("two add actions for %q", a.Add.Path)
			}
			adds[k] = true
		case a.Remove != nil:
			k := fileKey(a.Remove.Path, a.Remove.DeletionVector)
			if removes[k] {
				return fmt.Errorf("two remove actions for %q", a.Remove.Path)
			}
			removes[k] = true
		}
	}
	if protos > 1 {
		return errors.New("more than one protocol action")
	}
	if metas > 1 {
		return errors.New("more than one metaData action")
	}
	return nil
}

// fileKey identifies a logical file in a commit: its path and deletion vector.
func fileKey(path string, dv json.RawMessage) string {
	return DecodePath(path) + "\x00" + dvUniqueID(dv)
}

// dvUniqueID is the protocol's deletionVector.uniqueId ("" without one):
// a logical file is (path, uniqueId), so the same data file may be live with
// one deletion vector and a tombstone with another.
func dvUniqueID(dv json.RawMessage) string {
	if len(dv) == 0 || string(dv) == "null" {
		return ""
	}
	var d struct {
		StorageType    string `json:"storageType"`
		PathOrInlineDv string `json:"pathOrInlineDv"`
		Offset         *int64 `json:"offset"`
	}
	if json.Unmarshal(dv, &d) != nil {
		return string(dv)
	}
	id := d.StorageType + d.PathOrInlineDv
	if d.Offset != nil {
		id += "@" + strconv.FormatInt(*d.Offset, 10)
	}
	return id
}

// apply reconciles actions into the state without checks.
func (s *Snapshot) apply(actions []Action) {
	for i := range actions {
		a := &actions[i]
		switch {
		case a.Protocol != nil:
			s.Protocol = a.Protocol
		case a.MetaData != nil:
			s.Metadata = a.MetaData
		case a.Txn != nil:
			s.Txns[a.Txn.AppID] = *a.Txn
		case a.Add != nil:
			k := DecodePath(a.Add.Path)
			s.Files[k] = a.Add
			if r, ok := s.Tombstones[k]; ok && dvUniqueID(r.DeletionVector) == dvUniqueID(a.Add.DeletionVector) {
				delete(s.Tombstones, k)
			}
		case a.Remove != nil:
			k := DecodePath(a.Remove.Path)
			if f, ok := s.Files[k]; ok && dvUniqueID(f.DeletionVector) == dvUniqueID(a.Remove.DeletionVector) {
				delete(s.Files, k)
			}
			s.Tombstones[k] = a.Remove
		}
	}
}

// NumRecords is the table's row count from the live files' statistics:
// stats.numRecords less the rows their deletion vectors delete. ok is false
// when a file has no such statistic.
func (s *Snapshot) NumRecords() (n int64, ok bool) {
	for _, a := range s.Files {
		c, has := a.Rows()
		if !has {
			return n, false
		}
		n += c
	}
	return n, true
}

func statsNumRecords(stats string) (int64, bool) {
	if stats == "" {
		return 0, false
	}
	var st struct {
		NumRecords *int64 `json:"numRecords"`
	}
	if err := json.Unmarshal([]byte(stats), &st); err != nil || st.NumRecords == nil {
		return 0, false
	}
	return *st.NumRecords, true
}

// SortedFiles returns the live files ordered by path.
func (s *Snapshot) SortedFiles() []*Add {
	keys := make([]string, 0, len(s.Files))
	for k := range s.Files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*Add, len(keys))
	for i, k := range keys {
		out[i] = s.Files[k]
	}
	return out
}

// logListing is what a listing of _delta_log says about the log.
type logListing struct {
	commits     map[int64]bool
	checkpoints map[int64][]string // version -> the parts of each complete checkpoint, best first
	maxCommit   int64
}

// parseLogListing classifies _delta_log files: commits (N.json), classic
// checkpoints (N.checkpoint.parquet) and complete multi-part V1 checkpoints
// (N.checkpoint.o.p.parquet). Everything else (.crc, temporary files, V2
// UUID-named checkpoints, compactions, staged commits) is ignored.
func parseLogListing(files []storage.FileInfo) *logListing {
	l := &logListing{commits: map[int64]bool{}, checkpoints: map[int64][]string{}, maxCommit: -1}
	type partSet struct {
		parts map[int]string
		total int
	}
	multi := map[int64]map[int]*partSet{} // version -> total parts -> parts seen
	for _, f := range files {
		name, ok := strings.CutPrefix(f.Path, LogDir+"/")
		if !ok || strings.Contains(name, "/") || len(name) < 21 || name[20] != '.' {
			continue
		}
		v, err := strconv.ParseInt(name[:20], 10, 64)
		if err != nil || v < 0 {
			continue
		}
		rest := name[21:]
		switch {
		case rest == "json":
			l.commits[v] = true
			if v > l.maxCommit {
				l.maxCommit = v
			}
		case rest == "checkpoint.parquet":
			l.checkpoints[v] = append([]string{f.Path}, l.checkpoints[v]...)
		case strings.HasPrefix(rest, "checkpoint.") && strings.HasSuffix(rest, ".parquet"):
			// checkpoint.0000000001.0000000003.parquet
			mid := strings.TrimSuffix(strings.TrimPrefix(rest, "checkpoint."), ".parquet")
			o, p, ok := strings.Cut(mid, ".")
			if !ok || len(o) != 10 || len(p) != 10 {
				continue
			}
			oi, err1 := strconv.Atoi(o)
			pi, err2 := strconv.Atoi(p)
			if err1 != nil || err2 != nil || oi < 1 || oi > pi {
				continue
			}
			if multi[v] == nil {
				multi[v] = map[int]*partSet{}
			}
			ps := multi[v][pi]
			if ps == nil {
				ps = &partSet{parts: map[int]string{}, total: pi}
				multi[v][pi] = ps
			}
			ps.parts[oi] = f.Path
		}
	}
	for v, sets := range multi {
		if len(l.checkpoints[v]) > 0 {
			continue // a classic checkpoint of the same version is simpler
		}
		for _, ps := range sets {
			if len(ps.parts) != ps.total {
				continue // readers must ignore multi-part checkpoints with missing parts
			}
			paths := make([]string, ps.total)
			for i := 1; i <= ps.total; i++ {
				paths[i-1] = ps.parts[i]
			}
			l.checkpoints[v] = paths
			break
		}
	}
	return l
}

// lastCheckpoint is the _last_checkpoint file.
type lastCheckpoint struct {
	Version       int64 `json:"version"`
	Size          int64 `json:"size"`
	Parts         int   `json:"parts,omitempty"`
	SizeInBytes   int64 `json:"sizeInBytes,omitempty"`
	NumOfAddFiles int64 `json:"numOfAddFiles,omitempty"`
}

func readLastCheckpoint(ctx context.Context, st storage.Storage) (*lastCheckpoint, error) {
	data, err := st.Read(ctx, LastCheckpointPath)
	if err != nil {
		return nil, err
	}
	var lc lastCheckpoint
	if err := json.Unmarshal(data, &lc); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", LastCheckpointPath, err)
	}
	return &lc, nil
}

// Load reads the latest snapshot: it follows _last_checkpoint to the newest
// checkpoint (single-file or complete multi-part V1), then applies the JSON
// commits after it. A table with no commit gives a snapshot at version -1.
func Load(ctx context.Context, st storage.Storage) (*Snapshot, error) {
	return load(ctx, st, -1)
}

// LoadVersion reads the snapshot at an older (or the latest) version, from
// the newest checkpoint not after it.
func LoadVersion(ctx context.Context, st storage.Storage, version int64) (*Snapshot, error) {
	if version < 0 {
		return nil, fmt.Errorf("loading %s: invalid version %d", st.Location(), version)
	}
	return load(ctx, st, version)
}

// load reads the snapshot at version, or the latest when version is -1.
func load(ctx context.Context, st storage.Storage, version int64) (*Snapshot, error) {
	// _last_checkpoint lets the listing start near the end of the log; it is
	// only a hint, so a missing, torn or stale one falls back to a full listing.
	if version < 0 {
		lc, err := readLastCheckpoint(ctx, st)
		if err == nil && lc.Version > 0 {
			files, err := storage.ListAfter(ctx, st, LogDir+"/", fmt.Sprintf("%s/%020d", LogDir, lc.Version))
			if err != nil {
				return nil, fmt.Errorf("loading %s: %w", st.Location(), err)
			}
			if listing := parseLogListing(files); len(listing.checkpoints) > 0 {
				if s, err := loadFromListing(ctx, st, listing, version); err == nil {
					return s, nil
				} else if ctx.Err() != nil {
					return nil, err
				}
			}
		} else if ctx.Err() != nil {
			return nil, fmt.Errorf("loading %s: %w", st.Location(), ctx.Err())
		}
	}
	files, err := st.List(ctx, LogDir+"/")
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", st.Location(), err)
	}
	return loadFromListing(ctx, st, parseLogListing(files), version)
}

func loadFromListing(ctx context.Context, st storage.Storage, listing *logListing, version int64) (*Snapshot, error) {
	target := listing.maxCommit
	if version >= 0 {
		if version > target {
			return nil, fmt.Errorf("loading %s at version %d: the latest version is %d", st.Location(), version, target)
		}
		target = version
	}
	if target < 0 {
		if len(listing.checkpoints) > 0 {
			return nil, fmt.Errorf("loading %s: %w: checkpoints but no commit files in %s", st.Location(), ErrCorruptLog, LogDir)
		}
		return NewSnapshot(), nil
	}

	// Newest usable checkpoint first; a broken one falls back to an older one,
	// and finally to a replay from version 0 when its commit still exists.
	var cps []int64
	for v := range listing.checkpoints {
		if v <= target {
			cps = append(cps, v)
		}
	}
	sort.Slice(cps, func(i, j int) bool { return cps[i] > cps[j] })
	var errs []error
	var skipped []string // the checkpoints that failed, for the warnings
	warn := func(s *Snapshot, from string) *Snapshot {
		for _, w := range skipped {
			s.Warnings = append(s.Warnings, w+"; read "+from+" instead")
		}
		return s
	}
	for _, cv := range cps {
		s, err := readCheckpoint(ctx, st, cv, listing.checkpoints[cv])
		if err == nil {
			err = replayCommits(ctx, st, s, listing, target)
		}
		if err == nil {
			return warn(s, fmt.Sprintf("the checkpoint of version %d and the commits after it", cv)), nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("loading %s: %w", st.Location(), err)
		}
		errs = append(errs, err)
		skipped = append(skipped, fmt.Sprintf("the checkpoint of version %d (%s) is not usable: %v",
			cv, strings.Join(listing.checkpoints[cv], ", "), err))
	}
	if len(cps) == 0 || listing.commits[0] {
		s := NewSnapshot()
		if err := replayCommits(ctx, st, s, listing, target); err != nil {
			errs = append(errs, err)
		} else {
			return warn(s, "the JSON log from version 0"), nil
		}
	}
	return nil, fmt.Errorf("loading %s at version %d: %w", st.Location(), target, errors.Join(errs...))
}

// replayCommits applies commits s.Version+1 .. target, all of which must be
// in the listing.
func replayCommits(ctx context.Context, st storage.Storage, s *Snapshot, listing *logListing, target int64) error {
	for v := s.Version + 1; v <= target; v++ {
		if !listing.commits[v] {
			return fmt.Errorf("%w: commit %s is missing (the log has a gap)", ErrCorruptLog, CommitPath(v))
		}
		if err := applyCommitFile(ctx, st, s, v); err != nil {
			return err
		}
	}
	if s.Protocol == nil || s.Metadata == nil {
		return fmt.Errorf("%w: no protocol or metaData action up to version %d", ErrCorruptLog, s.Version)
	}
	return nil
}

func applyCommitFile(ctx context.Context, st storage.Storage, s *Snapshot, v int64) error {
	actions, err := readCommit(ctx, st, v)
	if err != nil {
		return err
	}
	if err := s.Apply(v, actions); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrCorruptLog, CommitPath(v), err)
	}
	return nil
}

func readCommit(ctx context.Context, st storage.Storage, v int64) ([]Action, error) {
	data, err := st.Read(ctx, CommitPath(v))
	if err != nil {
		return nil, err
	}
	actions, err := ParseCommit(data)
	if err != nil {
		return nil, fmt.Errorf("%w: parsing %s: %w", ErrCorruptLog, CommitPath(v), err)
	}
	return actions, nil
}

// Update applies the commits written after s.Version (by this or another
// writer), reading version after version until one is missing. (A snapshot
// so old that other engines' log cleanup removed its next commits must be
// reloaded with Load instead.)
func (s *Snapshot) Update(ctx context.Context, st storage.Storage) error {
	return s.update(ctx, st, nil)
}

// update is Update with a hook that sees each new commit before it is applied
// (the transaction's conflict checks).
func (s *Snapshot) update(ctx context.Context, st storage.Storage, check func(v int64, actions []Action) error) error {
	if s.Version < 0 {
		// Nothing known yet: a full load also finds a checkpoint.
		fresh, err := Load(ctx, st)
		if err != nil {
			return err
		}
		if check != nil && fresh.Version >= 0 {
			if err := check(fresh.Version, snapshotActions(fresh)); err != nil {
				return err
			}
		}
		*s = *fresh
		return nil
	}
	for {
		v := s.Version + 1
		actions, err := readCommit(ctx, st, v)
		if errors.Is(err, storage.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("updating %s: %w", st.Location(), err)
		}
		if check != nil {
			if err := check(v, actions); err != nil {
				return err
			}
		}
		if err := s.Apply(v, actions); err != nil {
			return fmt.Errorf("updating %s: %w: %w", st.Location(), ErrCorruptLog, err)
		}
	}
}

// snapshotActions lists a snapshot as actions, for conflict checks against a
// table first seen through a checkpoint.
func snapshotActions(s *Snapshot) []Action {
	var out []Action
	if s.Protocol != nil {
		out = append(out, Action{Protocol: s.Protocol})
	}
	if s.Metadata != nil {
		out = append(out, Action{MetaData: s.Metadata})
	}
	for _, t := range s.Txns {
		t := t
		out = append(out, Action{Txn: &t})
	}
	return out
}

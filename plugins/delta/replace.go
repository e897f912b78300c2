package delta

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// ReplaceResult says what one ReplacePartitions did.
type ReplaceResult struct {
	Version int64 // the committed version, -1 when nothing was committed (the txn was there already)
	Written int   // rows in the new data files
	Removed int   // live files removed
	Files   []Add
}

// ReplacePartitions replaces whole partitions of the table in one commit:
// every live file of the partitions named (each a map of the partition
// columns' values, as a row holds them) is removed, rows (all of which must
// fall in those partitions) are written as new files and added, and txn is
// recorded in the same commit. A partition with no rows ends empty; the
// table's other partitions are untouched.
//
// It is exactly once by txn: when the table's txn for txn.AppID is already
// at or above txn.Version, nothing is written and Version is -1. A replay
// after a crash therefore changes nothing, and a replay of the same version
// that finds the table there reports it. The commit is retried like
// Append's (CommitAttempts, CommitBackOff, one logical commit); another
// writer removing one of the same files is ErrConcurrentModification.
func (ap *Appender) ReplacePartitions(ctx context.Context, rows []map[string]any, partitions []map[string]any, txn Txn) (*ReplaceResult, error) {
	res := &ReplaceResult{Version: -1}
	if txn.AppID == "" {
		return nil, errors.New("replacing partitions: the txn needs an appId")
	}
	if have, ok := ap.t.Txn(txn.AppID); ok && have.Version >= txn.Version {
		return res, nil
	}
	dirs := map[string]bool{}
	for _, p := range partitions {
		_, dir, err := ap.partitionOf(&Row{Values: p})
		if err != nil {
			return nil, fmt.Errorf("replacing partitions: %w", err)
		}
		dirs[dir] = true
	}
	// Rows by partition, in partition order; a row outside the set is a
	// caller's error (it would survive no later replace of its partition).
	groups := map[string]*partFiles{}
	var order []string
	wrapped := make([]Row, len(rows))
	for i, r := range rows {
		wrapped[i] = Row{Values: r}
		values, dir, err := ap.partitionOf(&wrapped[i])
		if err != nil {
			return nil, fmt.Errorf("replacing partitions: row %d: %w", i, err)
		}
		if !dirs[dir] {
			return nil, fmt.Errorf("replacing partitions: row %d is in partition %s, which is not replaced", i, dir)
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

	ares := &AppendResult{Version: -1, Failed: map[int]error{}}
	var adds []Add
	for _, dir := range order {
		a, err := ap.writePartition(ctx, wrapped, groups[dir], ares)
		adds = append(adds, a...)
		if err != nil {
			ap.discard(adds)
			return nil, fmt.Errorf("replacing partitions: writing %s: %w", dir, err)
		}
	}
	if len(ares.Failed) > 0 {
		ap.discard(adds)
		for i, err := range ares.Failed {
			return nil, fmt.Errorf("replacing partitions: row %d does not fit the schema: %w", i, err)
		}
	}
	res.Written = ares.Written
	res.Files = adds

	// The live files of the replaced partitions, from the newest snapshot
	// this Table knows; a concurrent writer's removal of one of them is a
	// conflict the commit reports.
	now := time.Now().UnixMilli()
	var removes []Remove
	for _, a := range ap.liveFiles() {
		if dirs[ap.dirOf(a.PartitionValues)] {
			removes = append(removes, RemoveOf(a, now, true))
		}
	}
	sort.Slice(removes, func(i, j int) bool { return removes[i].Path < removes[j].Path })
	res.Removed = len(removes)

	txn.LastUpdated = now
	c := Commit{Adds: adds, Removes: removes, Txns: []Txn{txn}, Operation: "WRITE",
		OperationParameters: map[string]any{"mode": "Overwrite", "partitions": len(dirs)}, TxnID: txnUUID()}
	policy := backoff.WithContext(backoff.WithMaxRetries(ap.cfg.CommitBackOff(), uint64(ap.cfg.CommitAttempts-1)), ctx)
	unknown := false
	v, err := backoff.RetryWithData(func() (int64, error) {
		v, err := ap.t.Commit(ctx, c)
		if err == nil {
			return v, nil
		}
		unknown = unknown || errors.Is(err, ErrOutcomeUnknown)
		if errors.Is(err, ErrTxnConflict) || errors.Is(err, ErrConcurrentModification) || IsPermanent(err) {
			return v, backoff.Permanent(err)
		}
		return v, err
	}, policy)
	if err != nil {
		if errors.Is(err, ErrTxnConflict) {
			// Another writer (or an earlier life of this one) replaced
			// these partitions for this version first.
			if !unknown {
				ap.discard(adds)
			}
			res.Files, res.Written = nil, 0
			return res, nil
		}
		if !unknown {
			ap.discard(adds)
		}
		return nil, fmt.Errorf("replacing %d partitions: %w", len(dirs), err)
	}
	res.Version = v
	return res, nil
}

// liveFiles copies the live adds of the newest snapshot this Table knows.
func (ap *Appender) liveFiles() []*Add {
	ap.t.mu.Lock()
	defer ap.t.mu.Unlock()
	out := make([]*Add, 0, len(ap.t.snap.Files))
	for _, a := range ap.t.snap.Files {
		out = append(out, a)
	}
	return out
}

// dirOf is the Hive folder of an add's partition values, as partitionOf
// makes it for a row.
func (ap *Appender) dirOf(pv map[string]*string) string {
	var dir strings.Builder
	for _, col := range ap.cfg.PartitionColumns {
		if dir.Len() > 0 {
			dir.WriteByte('/')
		}
		dir.WriteString(col)
		dir.WriteByte('=')
		s, ok := pv[col]
		if !ok || s == nil {
			dir.WriteString("__HIVE_DEFAULT_PARTITION__")
			continue
		}
		dir.WriteString(hiveEscape(*s))
	}
	return dir.String()
}

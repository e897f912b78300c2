package delta

import (
	"errors"
	"syscall"

	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
)

// ErrCorruptLog is wrapped by load errors that come from the log's content
// rather than from reading it: a commit or checkpoint that does not parse, a
// gap in the versions, no protocol or metaData. No retry mends it.
var ErrCorruptLog = errors.New("damaged table log")

// ErrTxnConflict means the table already holds a txn action for one of the
// commit's appIds with a version at or above the commit's: the data was
// committed before (a replay). Nothing was committed; the caller drops the
// duplicate data (or re-filters it by Table.Txn).
var ErrTxnConflict = errors.New("delta: application transaction already committed")

// ErrConcurrentModification means a commit that won the race changed what
// this commit depends on (the schema, the protocol, or files it removes).
// Nothing was committed.
var ErrConcurrentModification = errors.New("delta: concurrent modification")

// ErrMetadataMismatch is returned by Create when the table exists with a
// different schema or partitioning.
var ErrMetadataMismatch = errors.New("delta: table exists with a different schema or partitioning")

// ErrNoTable is returned by Commit on a table without version 0.
var ErrNoTable = errors.New("delta: table does not exist (no version 0)")

// ErrUnsupportedProtocol is returned when writing a table whose protocol
// needs features this package does not implement.
var ErrUnsupportedProtocol = errors.New("delta: unsupported table protocol")

// ErrOutcomeUnknown is wrapped by a Commit error when the commit file may
// have been written although the call failed: the storage failed during the
// put (a timeout, a lost reply), or after it. The commit may be in the table:
// its data files must be kept, and a retry must use the same Commit.TxnID so
// that it recognises the landed commit instead of taking it for a conflict.
var ErrOutcomeUnknown = errors.New("the commit may have landed")

// ErrOutOfOrder means versions below the batch's highest one are not
// committed yet; the batch is retried later.
var ErrOutOfOrder = errors.New("an earlier batch of the same source partition is not committed yet")

// IsPermanent reports whether err is one that no retry can mend without a
// person: a damaged table (an unreadable log or data file, a protocol or features this
// package cannot honour, a schema or partitioning other than the writer's)
// or a local path that cannot hold a table (not a directory, no permission,
// a read-only file system). Storage that is down, slow or full is not
// permanent: it may come back.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	for _, target := range []error{ErrCorruptLog, ErrDataFile, ErrUnsupportedProtocol, ErrMetadataMismatch, storage.ErrNotADirectory,
		syscall.ENOTDIR, syscall.EISDIR, syscall.EACCES, syscall.EPERM, syscall.EROFS} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

package delta

import (
	"errors"
	"syscall"

	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
)

// IsPermanent reports whether err is one that no retry can mend without a
// person: a damaged table (an unreadable log, a protocol or features this
// package cannot honour, a schema or partitioning other than the writer's)
// or a local path that cannot hold a table (not a directory, no permission,
// a read-only file system). Storage that is down, slow or full is not
// permanent: it may come back.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	for _, target := range []error{ErrCorruptLog, ErrUnsupportedProtocol, ErrMetadataMismatch, storage.ErrNotADirectory,
		syscall.ENOTDIR, syscall.EISDIR, syscall.EACCES, syscall.EPERM, syscall.EROFS} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

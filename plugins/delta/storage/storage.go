package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// ErrNotExist is returned (wrapped) by Storage.Read for a missing path.
var ErrNotExist = errors.New("delta storage: no such file")

// ErrExist is returned (wrapped) by Storage.PutIfAbsent when the path already
// exists: another writer won the race for that commit version.
var ErrExist = errors.New("delta storage: file already exists")

// ErrNotADirectory is returned (wrapped) when a local table's path, or a
// folder on the way to it, exists but is not a directory.
var ErrNotADirectory = errors.New("not a directory")

// FileInfo describes one stored file. Path is relative to the table root.
type FileInfo struct {
	Path    string
	Size    int64
	ModTime time.Time
}

// Storage is where a table lives: a local folder or an S3 prefix. Paths are
// relative to the table root and '/'-separated. Implementations must be safe
// for concurrent use.
type Storage interface {
	// Read returns the whole file, or an error wrapping ErrNotExist.
	Read(ctx context.Context, path string) ([]byte, error)
	// PutIfAbsent creates path with data atomically, or fails with an error
	// wrapping ErrExist when it exists. This is the commit primitive: of
	// several concurrent calls on one path, exactly one succeeds, and a
	// reader never sees a partial file.
	PutIfAbsent(ctx context.Context, path string, data []byte) error
	// Write creates or replaces path with the content of r (size bytes, -1
	// when unknown). A partial object is never visible at path.
	Write(ctx context.Context, path string, r io.Reader, size int64) error
	// List returns the files whose path starts with prefix (recursively),
	// sorted by path. A missing folder lists as empty.
	List(ctx context.Context, prefix string) ([]FileInfo, error)
	// Delete removes path; deleting a missing file is not an error.
	Delete(ctx context.Context, path string) error
	// Location is the table's address for logs: a folder or s3://bucket/prefix.
	Location() string
}

// WritableChecker is implemented by storages that can tell, before anything
// is written, whether the table's location can hold files at all.
type WritableChecker interface {
	// CheckWritable creates the table's folder when missing and checks that
	// a file can be created in it.
	CheckWritable(ctx context.Context) error
}

// ListerAfter is implemented by storages that can start a listing after a
// key (S3's start-after), which keeps the replay of a long log cheap.
type ListerAfter interface {
	// ListAfter is List restricted to paths strictly greater than startAfter.
	ListAfter(ctx context.Context, prefix, startAfter string) ([]FileInfo, error)
}

// ListAfter lists the files under prefix whose path is greater than
// startAfter, with the storage's own ListAfter when it has one (else a full
// listing, cut).
func ListAfter(ctx context.Context, st Storage, prefix, startAfter string) ([]FileInfo, error) {
	if la, ok := st.(ListerAfter); ok {
		return la.ListAfter(ctx, prefix, startAfter)
	}
	all, err := st.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	i := sort.Search(len(all), func(i int) bool { return all[i].Path > startAfter })
	return all[i:], nil
}

// Open returns the storage for a table location: s3://bucket/prefix (or
// s3a://) goes to S3 with c; file:///path or a plain path to the local disk.
func Open(location string, c S3Config) (Storage, error) {
	switch {
	case strings.HasPrefix(location, "s3://"), strings.HasPrefix(location, "s3a://"):
		return NewS3(location, c)
	case strings.HasPrefix(location, "file://"):
		return NewLocal(strings.TrimPrefix(location, "file://"))
	case strings.Contains(location, "://"):
		return nil, fmt.Errorf("delta: unsupported table location scheme in %q (want s3:// or a local path)", location)
	default:
		return NewLocal(location)
	}
}

// cleanRel validates a storage path: relative, '/'-separated, no '.' or '..'
// elements, no empty elements.
func cleanRel(p string) (string, error) {
	if p == "" {
		return "", errors.New("empty path")
	}
	if strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\\\x00") {
		return "", fmt.Errorf("invalid path %q", p)
	}
	for _, el := range strings.Split(p, "/") {
		if el == "" || el == "." || el == ".." {
			return "", fmt.Errorf("invalid path %q", p)
		}
	}
	return p, nil
}

package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// LocalTempPrefix starts the names of the temporary files a local write
// creates beside its target: vacuum may delete those a crash left behind.
const LocalTempPrefix = ".tmp-"

// Local is a table on the local file system.
type Local struct{ root string }

// NewLocal returns the storage of the table at folder root. The folder is
// created by the first write, not here.
func NewLocal(root string) (Storage, error) {
	if root == "" {
		return nil, errors.New("delta: empty local table path")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("delta: local table path %q: %w", root, err)
	}
	return &Local{root: abs}, nil
}

// CheckWritable creates the table folder when missing and creates and
// removes a temporary file in it: a path under a regular file, a folder
// without write permission or a read-only file system fail here, before any
// data is written, with an error IsPermanent knows.
func (l *Local) CheckWritable(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if st, err := os.Stat(l.root); err == nil && !st.IsDir() {
		return fmt.Errorf("delta local %s: the table's path is a file: %w", l.root, ErrNotADirectory)
	}
	if err := os.MkdirAll(l.root, 0o755); err != nil {
		return fmt.Errorf("delta local %s: creating the table's folder: %w", l.root, err)
	}
	f, err := os.CreateTemp(l.root, LocalTempPrefix+"write-check-")
	if err != nil {
		return fmt.Errorf("delta local %s: writing in the table's folder: %w", l.root, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// Location is the table folder.
func (l *Local) Location() string { return l.root }

func (l *Local) abs(p string) (string, error) {
	p, err := cleanRel(p)
	if err != nil {
		return "", fmt.Errorf("delta local %s: %w", l.root, err)
	}
	return filepath.Join(l.root, filepath.FromSlash(p)), nil
}

// Read returns the file's content.
func (l *Local) Read(ctx context.Context, p string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	full, err := l.abs(p)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(full)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", full, ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", full, err)
	}
	return data, nil
}

// PutIfAbsent writes a temporary file in the same folder, syncs it and
// hard-links it to the final name: link(2) fails with EEXIST when the name
// is taken, so exactly one of concurrent writers wins, and the file appears
// complete or not at all.
func (l *Local) PutIfAbsent(ctx context.Context, p string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	full, err := l.abs(p)
	if err != nil {
		return err
	}
	tmp, err := l.writeTemp(full, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
	if err != nil {
		return fmt.Errorf("writing %s: %w", full, err)
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, full); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("creating %s: %w", full, ErrExist)
		}
		return fmt.Errorf("creating %s: %w", full, err)
	}
	syncDir(filepath.Dir(full))
	return nil
}

// Write streams r into a temporary file, syncs it and renames it over p.
func (l *Local) Write(ctx context.Context, p string, r io.Reader, size int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	full, err := l.abs(p)
	if err != nil {
		return err
	}
	tmp, err := l.writeTemp(full, func(f *os.File) error {
		// A buffer of copyBufBytes, not os.File's ReadFrom (32 KiB at a
		// time): a data file's writer hands its pages over in writes of
		// 256 KiB and more, each one write to the file.
		buf := copyBufs.Get().(*[]byte)
		n, err := io.CopyBuffer(onlyWriter{f}, ctxReader{ctx, r}, *buf)
		copyBufs.Put(buf)
		if err != nil {
			return err
		}
		if size >= 0 && n != size {
			return fmt.Errorf("wrote %d bytes, expected %d", n, size)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("writing %s: %w", full, err)
	}
	if err := os.Rename(tmp, full); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", full, err)
	}
	syncDir(filepath.Dir(full))
	return nil
}

// writeTemp creates a synced temporary file next to full; the caller links or
// renames it. On error nothing is left behind.
func (l *Local) writeTemp(full string, fill func(*os.File) error) (string, error) {
	dir := filepath.Dir(full)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, LocalTempPrefix+filepath.Base(full)+"-*")
	if err != nil {
		return "", err
	}
	name := f.Name()
	err = fill(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(name, 0o644)
	}
	if err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

// syncDir makes a new directory entry durable; best effort (not every file
// system supports syncing a directory).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// List walks the folder that holds prefix and returns the files under it.
func (l *Local) List(ctx context.Context, prefix string) ([]FileInfo, error) {
	return l.ListAfter(ctx, prefix, "")
}

// ListAfter is List restricted to paths greater than startAfter.
func (l *Local) ListAfter(ctx context.Context, prefix, startAfter string) ([]FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if strings.HasPrefix(prefix, "/") || strings.Contains(prefix, "..") || strings.ContainsAny(prefix, "\\\x00") {
		return nil, fmt.Errorf("delta local %s: invalid prefix %q", l.root, prefix)
	}
	// Walk the deepest folder fully named by the prefix.
	dir := ""
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dir = prefix[:i]
	}
	start := filepath.Join(l.root, filepath.FromSlash(dir))
	var out []FileInfo
	err := filepath.WalkDir(start, func(full string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // vanished while walking, or no folder at all
			}
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		rel, rerr := filepath.Rel(l.root, full)
		if rerr != nil {
			return rerr
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			// Skip folders that cannot hold a match.
			if rel != "." && !strings.HasPrefix(rel+"/", prefix) && !strings.HasPrefix(prefix, rel+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if !strings.HasPrefix(rel, prefix) || rel <= startAfter || !d.Type().IsRegular() {
			return nil
		}
		info, ierr := d.Info()
		if errors.Is(ierr, fs.ErrNotExist) {
			return nil
		}
		if ierr != nil {
			return ierr
		}
		out = append(out, FileInfo{Path: rel, Size: info.Size(), ModTime: info.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", path.Join(l.root, prefix), err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Delete removes the file; a missing file is fine.
func (l *Local) Delete(ctx context.Context, p string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	full, err := l.abs(p)
	if err != nil {
		return err
	}
	if err := os.Remove(full); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("deleting %s: %w", full, err)
	}
	return nil
}

const copyBufBytes = 1 << 20

var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufBytes); return &b }}

// onlyWriter hides a file's ReadFrom, so io.CopyBuffer uses its buffer.
type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }

// ctxReader stops a long copy when the context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

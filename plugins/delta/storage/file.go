package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"

	"github.com/minio/minio-go/v7"
)

// File is a stored file open for reading parts of it (a Parquet reader reads
// the footer, then the column chunks of one row group at a time): a reader
// of a data file holds what it reads, never the whole file.
type File interface {
	io.ReaderAt
	io.Closer
	// Size is the file's length in bytes.
	Size() int64
}

// Opener is implemented by storages that read parts of a file without
// reading all of it: both of this package's storages.
type Opener interface {
	// Open opens path for ranged reads, or fails with an error wrapping
	// ErrNotExist.
	Open(ctx context.Context, path string) (File, error)
}

// OpenFile opens path for ranged reads with the storage's own Open, or reads
// the whole file into memory when the storage has none.
func OpenFile(ctx context.Context, st Storage, path string) (File, error) {
	if o, ok := st.(Opener); ok {
		return o.Open(ctx, path)
	}
	data, err := st.Read(ctx, path)
	if err != nil {
		return nil, err
	}
	return bytesFile{bytes.NewReader(data)}, nil
}

type bytesFile struct{ *bytes.Reader }

func (bytesFile) Close() error { return nil }

// Open opens the local file.
func (l *Local) Open(ctx context.Context, p string) (File, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	full, err := l.abs(p)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(full)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", full, ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", full, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("reading %s: %w", full, err)
	}
	return &localFile{File: f, size: fi.Size()}, nil
}

type localFile struct {
	*os.File
	size int64
}

func (f *localFile) Size() int64 { return f.size }

// s3BlockSize and s3Blocks shape the read cache of an S3 file: a Parquet
// reader asks for a few KiB at a time, each of which would be a GET; reads
// are served from aligned blocks of 1 MiB fetched with one ranged GET each,
// the last few kept (8 MiB per open file at most).
const (
	s3BlockSize = 1 << 20
	s3Blocks    = 8
)

// Open stats the object and returns it for ranged reads (through a small
// cache of blocks: see s3BlockSize).
func (s *S3) Open(ctx context.Context, p string) (File, error) {
	key, err := s.key(p)
	if err != nil {
		return nil, err
	}
	info, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		if isNotFound(err) {
			return nil, s.s3Error("reading", p, ErrNotExist)
		}
		return nil, s.s3Error("reading", p, err)
	}
	return &s3File{s: s, ctx: ctx, key: key, path: p, size: info.Size, etag: info.ETag}, nil
}

// s3File reads an object in blocks with ranged GETs (If-Match its ETag: a
// file replaced while being read fails rather than mixing two versions).
type s3File struct {
	s    *S3
	ctx  context.Context
	key  string
	path string
	size int64
	etag string

	mu     sync.Mutex
	blocks []s3Block // most recently used last
}

type s3Block struct {
	index int64
	data  []byte
}

func (f *s3File) Size() int64  { return f.size }
func (f *s3File) Close() error { f.mu.Lock(); f.blocks = nil; f.mu.Unlock(); return nil }

// ReadAt copies from the blocks that cover [off, off+len(b)).
func (f *s3File) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("reading %s/%s: negative offset", f.s.location, f.path)
	}
	f.mu.Lock() // a block's buffer is reused: copy under the lock
	defer f.mu.Unlock()
	n := 0
	for n < len(b) {
		pos := off + int64(n)
		if pos >= f.size {
			return n, io.EOF
		}
		blk, err := f.block(pos / s3BlockSize)
		if err != nil {
			return n, err
		}
		n += copy(b[n:], blk[pos%s3BlockSize:])
	}
	return n, nil
}

// block returns block index, from the cache or fetched; f.mu is held.
func (f *s3File) block(index int64) ([]byte, error) {
	for i, blk := range f.blocks {
		if blk.index == index {
			f.blocks = append(append(f.blocks[:i:i], f.blocks[i+1:]...), blk)
			return blk.data, nil
		}
	}
	start := index * s3BlockSize
	end := min(start+s3BlockSize, f.size) - 1
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(start, end); err != nil {
		return nil, err
	}
	if f.etag != "" {
		_ = opts.SetMatchETag(f.etag)
	}
	obj, err := f.s.client.GetObject(f.ctx, f.s.bucket, f.key, opts)
	if err != nil {
		return nil, f.s.s3Error("reading", f.path, err)
	}
	defer obj.Close()
	var data []byte
	if len(f.blocks) >= s3Blocks {
		data = f.blocks[0].data[:0] // reuse the least recently used block's buffer
		f.blocks = f.blocks[1:]
	}
	buf := bytes.NewBuffer(data)
	if _, err := io.Copy(buf, obj); err != nil {
		if isNotFound(err) {
			return nil, f.s.s3Error("reading", f.path, ErrNotExist)
		}
		return nil, f.s.s3Error("reading", f.path, err)
	}
	if int64(buf.Len()) != end-start+1 {
		return nil, f.s.s3Error("reading", f.path, fmt.Errorf("got %d bytes at %d, want %d", buf.Len(), start, end-start+1))
	}
	f.blocks = append(f.blocks, s3Block{index: index, data: buf.Bytes()})
	return buf.Bytes(), nil
}

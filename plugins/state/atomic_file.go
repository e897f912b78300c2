// Package state holds components that keep pipeline progress durable.
package state

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"
)

const afFieldDirectory = "directory"

func atomicFileSpec() *service.ConfigSpec {
	return service.NewConfigSpec().
		Categories("Local").
		Summary("Stores each item as a file in a directory, written atomically and durably: a crash never leaves a half-written item.").
		Description(`
Like the core ` + "`file`" + ` cache, but every ` + "`set`" + ` writes a temporary file, syncs it, renames it over the item and
syncs the directory, so a reader sees the old value or the new one, never a torn one, even after kill -9 or a power
cut. The directory is created when missing. Keys may not contain ` + "`..`" + ` path elements. TTLs are ignored. Meant for
small, precious values such as the ` + "`gdelt_feed`" + ` checkpoint.`).
		Field(service.NewStringField(afFieldDirectory).
			Description("The directory that holds the items; created (with parents) when missing.").
			Example("./out/state"))
}

func init() {
	err := service.RegisterCache("atomic_file", atomicFileSpec(),
		func(conf *service.ParsedConfig, mgr *service.Resources) (service.Cache, error) {
			dir, err := conf.FieldString(afFieldDirectory)
			if err != nil {
				return nil, err
			}
			return NewAtomicFile(dir)
		})
	if err != nil {
		panic(err)
	}
}

// AtomicFile is a directory of items written with rename-over.
type AtomicFile struct{ dir string }

// NewAtomicFile creates dir when missing.
func NewAtomicFile(dir string) (*AtomicFile, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("atomic_file: %w", err)
	}
	return &AtomicFile{dir: dir}, nil
}

func (a *AtomicFile) path(key string) (string, error) {
	if key == "" || strings.Contains(key, "..") || strings.ContainsRune(key, 0) {
		return "", fmt.Errorf("atomic_file: bad key %q", key)
	}
	return filepath.Join(a.dir, filepath.FromSlash(key)), nil
}

// Get reads an item.
func (a *AtomicFile) Get(_ context.Context, key string) ([]byte, error) {
	p, err := a.path(key)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, service.ErrKeyNotFound
	}
	return b, err
}

// Set replaces an item atomically.
func (a *AtomicFile) Set(_ context.Context, key string, value []byte, _ *time.Duration) error {
	p, err := a.path(key)
	if err != nil {
		return err
	}
	return writeAtomic(p, value)
}

// Add writes an item only when it does not exist.
func (a *AtomicFile) Add(_ context.Context, key string, value []byte, _ *time.Duration) error {
	p, err := a.path(key)
	if err != nil {
		return err
	}
	tmp, err := writeTemp(p, value)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	// A hard link fails with EEXIST when the item exists: put-if-absent.
	if err := os.Link(tmp, p); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return service.ErrKeyAlreadyExists
		}
		return err
	}
	return syncDir(filepath.Dir(p))
}

// Delete removes an item.
func (a *AtomicFile) Delete(_ context.Context, key string) error {
	p, err := a.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Close does nothing.
func (a *AtomicFile) Close(context.Context) error { return nil }

func writeTemp(p string, value []byte) (string, error) {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".tmp-*")
	if err != nil {
		return "", err
	}
	_, werr := f.Write(value)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(f.Name())
		return "", werr
	}
	return f.Name(), nil
}

func writeAtomic(p string, value []byte) error {
	tmp, err := writeTemp(p, value)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(p))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

package main

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gdeltflow/gdeltflow/plugins/delta"
	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"

	"github.com/gdeltflow/gdeltflow/tests/duckdbtest"
)

// repoRoot is the folder of go.mod above the test.
func repoRoot(tb testing.TB) string { return duckdbtest.RepoRoot() }

// golden is a reference table in shared/testdata/delta-golden beside the
// repository (read-only: copy it before writing).
func golden(tb testing.TB, name string) string {
	tb.Helper()
	dir := filepath.Join(filepath.Dir(repoRoot(tb)), "shared", "testdata", "delta-golden", name)
	if _, err := os.Stat(filepath.Join(dir, delta.LogDir)); err != nil {
		tb.Skipf("Delta golden table not found: %v", err)
	}
	return dir
}

// copyTable copies a golden table into a temporary folder.
func copyTable(tb testing.TB, name string) string {
	tb.Helper()
	src := golden(tb, name)
	dst := filepath.Join(tb.TempDir(), name)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		tb.Fatal(err)
	}
	return dst
}

// openLocal opens a local table.
func openLocal(tb testing.TB, dir string) storage.Storage {
	tb.Helper()
	st, err := storage.Open(dir, storage.S3Config{})
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

// runCmd runs the command line with no environment; it returns the exit
// code, stdout and stderr.
func runCmd(tb testing.TB, env map[string]string, args ...string) (int, string, string) {
	tb.Helper()
	var out, errOut bytes.Buffer
	getenv := func(k string) string { return env[k] }
	code := runContext(context.Background(), args, &out, &errOut, getenv)
	return code, out.String(), errOut.String()
}

// nonEmptyLines splits output into its non-blank lines.
func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

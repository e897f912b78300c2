// Package duckdbtest runs DuckDB (npm @duckdb/node-api, tests/duckdb) as the
// independent reader of what our code reads and writes: raw GDELT files,
// Parquet files, Delta logs. Tests skip cleanly when it is not installed,
// except in CI (CI=true), where a missing reader is a failure.
package duckdbtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// RepoRoot is the repository's root folder (the one holding go.mod).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(filepath.Dir(file)))
}

// Dir is tests/duckdb, where the scripts and their npm packages live.
func Dir() string { return filepath.Join(RepoRoot(), "tests", "duckdb") }

// Require skips the test when node or the npm packages are missing, or
// fails it in CI.
func Require(tb testing.TB) (node string) {
	tb.Helper()
	node, nodeErr := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(Dir(), "node_modules", "@duckdb", "node-api"))
	if nodeErr == nil && modErr == nil {
		return node
	}
	msg := "DuckDB (node and tests/duckdb/node_modules; run npm install in tests/duckdb) is missing"
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s, and CI needs it: node %v, modules %v", msg, nodeErr, modErr)
	}
	tb.Skipf("%s: node %v, modules %v", msg, nodeErr, modErr)
	return ""
}

// Run runs node on a script of tests/duckdb with args (and stdin, when not
// empty) and parses its output: one JSON object per line, numbers kept as
// json.Number so that BIGINTs stay exact.
func Run(tb testing.TB, script, stdin string, args ...string) []map[string]any {
	tb.Helper()
	node := Require(tb)
	cmd := exec.Command(node, append([]string{script}, args...)...)
	cmd.Dir = Dir()
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("node %s %s: %v\n%s", script, strings.Join(args, " "), err, stderr.String())
	}
	var rows []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 256<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		var row map[string]any
		if err := dec.Decode(&row); err != nil {
			tb.Fatalf("line %d of %s's output: %v", len(rows)+1, script, err)
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return rows
}

// Query runs SQL (statements separated by ';'; the last one's rows are
// returned) with tests/duckdb/query.mjs.
func Query(tb testing.TB, sql string) []map[string]any {
	tb.Helper()
	return Run(tb, "query.mjs", sql)
}

// Quote makes a SQL string literal.
func Quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

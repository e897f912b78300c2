// Package deltatest holds what the tests of the Delta library
// (plugins/delta/...) and of its component (plugins/deltalake) share: the
// reference data beside the repository (Spark's and delta-rs' golden tables,
// real GDELT files), the DuckDB oracle, and private MinIO servers. Tests
// that need an absent one skip, except under CI=true, where they fail.
//
// Only tests import it: it is not part of the library.
package deltatest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
	"github.com/gdeltflow/gdeltflow/tests/duckdbtest"
	"github.com/gdeltflow/gdeltflow/tests/miniotest"
)

// Skip skips the test, or fails it under CI=true, where everything must run.
func Skip(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf(format+" (CI=true: this must run)", args...)
	}
	tb.Skipf(format, args...)
}

// RepoRoot is the folder holding go.mod.
func RepoRoot() string { return duckdbtest.RepoRoot() }

// GoldenDir is shared/testdata/delta-golden beside the repository: reference
// tables written by Spark and delta-rs.
func GoldenDir(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(filepath.Dir(RepoRoot()), "shared", "testdata", "delta-golden")
	if _, err := os.Stat(dir); err != nil {
		Skip(tb, "Delta golden tables not found: %v", err)
	}
	return dir
}

// Golden is one golden table.
func Golden(tb testing.TB, name string) string {
	tb.Helper()
	dir := filepath.Join(GoldenDir(tb), name)
	if _, err := os.Stat(dir); err != nil {
		Skip(tb, "Delta golden table not found: %v", err)
	}
	return dir
}

// GDELTDataDir is shared/testdata/gdelt beside the repository (GDELT_TESTDATA
// overrides): real GDELT files.
func GDELTDataDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("GDELT_TESTDATA")
	if dir == "" {
		dir = filepath.Join(filepath.Dir(RepoRoot()), "shared", "testdata", "gdelt")
	}
	if _, err := os.Stat(dir); err != nil {
		Skip(tb, "real GDELT test data not found: %v", err)
	}
	return dir
}

// RequireDuck returns the node binary that runs tests/duckdb/query.mjs.
func RequireDuck(tb testing.TB) string {
	tb.Helper()
	return duckdbtest.Require(tb)
}

// Duck runs SQL in DuckDB (tests/duckdb/query.mjs) and returns the rows of
// the last statement, numbers as json.Number (BIGINTs exact).
func Duck(tb testing.TB, sql string) []map[string]any {
	tb.Helper()
	return duckdbtest.Query(tb, sql)
}

// Quote is a SQL string literal.
func Quote(s string) string { return duckdbtest.Quote(s) }

// Int reads a json.Number DuckDB returned; -1 for NULL.
func Int(tb testing.TB, v any) int64 {
	tb.Helper()
	if v == nil {
		return -1
	}
	n, err := v.(json.Number).Int64()
	if err != nil {
		tb.Fatalf("%v: %v", v, err)
	}
	return n
}

// Local is the storage of a local table folder.
func Local(tb testing.TB, dir string) storage.Storage {
	tb.Helper()
	st, err := storage.NewLocal(dir)
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

// MinIOBucket is the bucket MinIO starts with.
const MinIOBucket = "delta"

// MinIO starts a private MinIO server for the test, with the bucket
// MinIOBucket; -short skips the test.
func MinIO(t testing.TB) *miniotest.Server {
	t.Helper()
	if testing.Short() {
		t.Skip("MinIO tests skipped in -short mode")
	}
	srv := miniotest.Start(t)
	srv.Bucket(t, MinIOBucket)
	return srv
}

// S3Config reaches srv.
func S3Config(srv *miniotest.Server) storage.S3Config {
	return storage.S3Config{
		Endpoint:        srv.Endpoint,
		Region:          "us-east-1",
		AccessKeyID:     srv.AccessKey,
		SecretAccessKey: srv.SecretKey,
		PathStyle:       true,
	}
}

// S3 is the storage of table s3://delta/<table> on srv; mod, when set,
// changes the config first.
func S3(t testing.TB, srv *miniotest.Server, table string, mod func(*storage.S3Config)) storage.Storage {
	t.Helper()
	c := S3Config(srv)
	if mod != nil {
		mod(&c)
	}
	st, err := storage.Open("s3://"+MinIOBucket+"/"+table, c)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// DuckDir is tests/duckdb, where the oracle's scripts are.
func DuckDir() string { return duckdbtest.Dir() }

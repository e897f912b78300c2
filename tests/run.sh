#!/usr/bin/env bash
# Runs every test of gdeltflow: formatting, vet, the benthos binary's lint of
# every YAML under pipelines/ and resources/, the YAML unit tests (`tests:`
# blocks), and all Go tests (unit, end to end, the DuckDB oracle), plus one
# pass of every benchmark on a small load so that none rots.
#
# Needs Go (see go.mod), Node.js with npm (for the DuckDB oracle) and kcat (an
# independent Kafka client; its test skips without it, except in CI). Builds
# the pinned MinIO server on first use. Offline once the Go modules, the npm
# packages and MinIO are installed.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "npm packages for the DuckDB oracle (tests/duckdb)"
if [ ! -d tests/duckdb/node_modules/@duckdb/node-api ]; then
  (cd tests/duckdb && npm install --no-save --no-audit --no-fund --loglevel=error)
fi

step "the MinIO server for the S3 tests (built once into .cache/bin, ~4 min)"
bash tests/minio.sh install

step "gofmt and go vet"
unformatted=$(git ls-files -co --exclude-standard '*.go' | xargs -r gofmt -l)
if [ -n "$unformatted" ]; then
  echo "gofmt would change: $unformatted" >&2
  exit 1
fi
go vet ./...

step "build bin/benthos"
go build -o bin/benthos ./cmd/benthos

step "benthos lint (pipelines/, resources/)"
# resources/topics.yaml is kafka-topics' spec, not a Benthos config; the
# templates under resources/templates are linted as templates.
mapfile -t yamls < <(find pipelines resources \( -name '*.yaml' -o -name '*.yml' \) ! -path resources/topics.yaml ! -path 'resources/templates/*' | sort)
bin/benthos lint "${yamls[@]}"
echo "linted ${#yamls[@]} files"
bin/benthos template lint resources/templates/*.yaml
echo "linted the templates: $(ls resources/templates/*.yaml | xargs -n1 basename | tr '\n' ' ')"

step "benthos test (YAML unit tests in pipelines/)"
bin/benthos test ./pipelines/...

step "go test"
go test -count=1 -timeout 30m ./...

step "benchmarks, one short pass on the small load"
# The whole output is kept; on a failure it is printed, so that CI shows why.
smoke=$(mktemp)
if ! GDELT_BENCH_LOAD=small go test -run '^$' -bench . -benchtime 1x -timeout 20m ./... >"$smoke" 2>&1; then
  cat "$smoke"
  echo "the benchmark smoke failed (above)" >&2
  exit 1
fi
grep -E '^(Benchmark|ok|FAIL)' "$smoke"
rm -f "$smoke"

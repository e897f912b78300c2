#!/usr/bin/env bash
# Benchmarks of the GDELT feed and decoder, beside DuckDB on the same files,
# measured in the same run on one core.
#
#   tests/bench.sh            # decode, feed, Delta writes (day-sized load, generated once into .cache/dayload)
#   tests/bench.sh decode     # only one part: decode, feed, delta or join
#
# Go side: go test -bench with -cpu 1 (GOMAXPROCS=1). DuckDB side: read_csv with
# SET threads=1 over the same unzipped files (tests/duckdb/bench_read_csv.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(pwd)/.cache/bench
mkdir -p "$out"
[ -d tests/duckdb/node_modules/@duckdb/node-api ] || (cd tests/duckdb && npm install --no-save --no-audit --no-fund --loglevel=error)

echo "== generating the day-sized load (cached in .cache/dayload)"
[ -f .cache/dayload/masterfilelist.txt ] || go run ./cmd/gdelt-gen -scale day -seed 1 -out .cache/dayload >/dev/null

# The files both sides read: the two real samples, and one generated day
# window's mentions (no real Mentions file exists).
cp ../shared/testdata/gdelt/20191024143000.export.CSV "$out/"
python3 -m zipfile -e ../shared/testdata/gdelt/20230702153000.gkg.csv.zip "$out/"
first=$(ls .cache/dayload/*.mentions.CSV.zip | head -1)
python3 -m zipfile -e "$first" "$out/"
mentions=$out/$(basename "${first%.zip}")
# Eight windows of the day load, unzipped, as DuckDB's side of the feed benchmark.
mkdir -p "$out/day8"
for z in $(ls .cache/dayload/*.zip | head -24); do
  [ -f "$out/day8/$(basename "${z%.zip}")" ] || python3 -m zipfile -e "$z" "$out/day8/"
done

part=${1:-all}
want() { [ "$part" = all ] || [ "$part" = "$1" ]; }

if want decode; then
echo "== Go: decode (one core)"
GDELT_BENCH_MENTIONS=$mentions \
  go test -run '^$' -bench 'BenchmarkDecode' -cpu 1 -benchtime 3s -count 1 ./plugins/gdelt/ | tee "$out/go-decode.txt"

node tests/duckdb/bench_read_csv.mjs --runs 5 "$out/20191024143000.export.CSV" "$mentions" "$out/20230702153000.gkg.csv" | tee "$out/duckdb-decode.txt"
fi

if want feed; then
echo "== Go: feed end to end on the day load: verify + unzip + split (one core)"
go test -run '^$' -bench 'BenchmarkFeed' -cpu 1 -benchtime 2x -count 1 -timeout 30m ./plugins/gdelt/ | tee "$out/go-feed.txt"

echo "== DuckDB read_csv, SET threads=1, over 8 windows of the same load"
node tests/duckdb/bench_read_csv.mjs --runs 2 "$out"/day8/* > "$out/duckdb-day8.txt"
node -e '
const fs = require("fs");
let rows = 0, bytes = 0, secs = 0;
for (const l of fs.readFileSync(process.argv[1], "utf8").trim().split("\n")) {
  const r = JSON.parse(l); rows += r.rows; bytes += r.bytes; secs += r.best_s;
}
console.log(JSON.stringify({what: "duckdb read_csv over 8 day-load windows (24 files)", rows, mb: +(bytes / 1e6).toFixed(1), mb_per_s: +(bytes / 1e6 / secs).toFixed(1), rows_per_s: Math.round(rows / secs)}));
' "$out/duckdb-day8.txt" | tee -a "$out/duckdb-day8.txt"
fi

if want join; then
echo "== Go: the silver join on 12 day-sized windows (one core): the Joiner, the gdelt_join processor, memory with 48 h of state"
go test -run '^$' -bench 'BenchmarkJoin' -cpu 1 -benchtime 3x -count 1 -timeout 30m ./plugins/join/ | tee "$out/go-join.txt"
echo "== DuckDB: the same join in SQL over the same 12 windows, SET threads=1"
mkdir -p "$out/day12"
for z in $(ls .cache/dayload/*.zip | head -36); do
  [ -f "$out/day12/$(basename "${z%.zip}")" ] || python3 -m zipfile -e "$z" "$out/day12/"
done
node tests/duckdb/bench_join.mjs --runs 3 "$out/day12" 192 | tee "$out/duckdb-join.txt"
fi

if want delta; then
echo "== Go: a day of each table into Delta, local disk and MinIO (one core; MinIO is a separate process)"
bash tests/minio.sh install >/dev/null
go test -run '^$' -bench 'BenchmarkDeltaWrite' -cpu 1 -benchtime 1x -count 1 -timeout 60m ./plugins/delta/ | tee "$out/go-delta.txt"

echo "== DuckDB COPY ... TO parquet (zstd), SET threads=1, the same day of rows"
for t in export mentions gkg; do
  ext=$(case $t in export) echo export.CSV;; mentions) echo mentions.CSV;; gkg) echo gkg.csv;; esac)
  day="$out/day-$t.tsv"
  if [ ! -f "$day" ]; then
    rm -rf "$out/unz" && mkdir -p "$out/unz"
    for z in .cache/dayload/*."$ext".zip; do python3 -m zipfile -e "$z" "$out/unz/"; done
    cat "$out"/unz/*."$ext" > "$day" && rm -rf "$out/unz"
  fi
  node tests/duckdb/bench_copy.mjs --runs 2 "$day" "$t"
done | tee "$out/duckdb-copy.txt"
fi

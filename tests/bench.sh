#!/usr/bin/env bash
# Benchmarks of the GDELT feed and decoder, beside DuckDB on the same files,
# measured in the same run on one core.
#
#   tests/bench.sh            # decode, feed, Delta writes (day-sized load, generated once into .cache/dayload)
#   tests/bench.sh decode     # only one part: decode, feed, delta, join, mem or day
#
# day: the embedded default (pipelines/local.yaml: bronze + silver + audit +
# gold on local disk) over the generated day, on every core, beside DuckDB
# doing the same work but gold in one script (tests/duckdb/bench_day.mjs:
# typed read_csv of the unzipped files → zstd Parquet per table, then the
# three-way join → zstd Parquet), in the same run; prints wall times, CPU
# seconds, peak RSS and the ratios per wall and per CPU second.
#
# mem: peak resident memory (from the OS: /usr/bin/time's maximum RSS) of the
# embedded default (pipelines/local.yaml) on the day load, on one 560 MB
# export file (1.6 M rows in one window) and on the bundled mirror with one
# row per batch (GDELT_BATCH_ROWS=1).
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
# (a glob, not ls | head: with pipefail, ls's SIGPIPE would end the script)
mentionsZips=(.cache/dayload/*.mentions.CSV.zip)
first=${mentionsZips[0]}
python3 -m zipfile -e "$first" "$out/"
mentions=$out/$(basename "${first%.zip}")
# Eight windows of the day load, unzipped, as DuckDB's side of the feed benchmark.
mkdir -p "$out/day8"
for z in $(ls .cache/dayload/*.zip | head -24); do
  [ -f "$out/day8/$(basename "${z%.zip}")" ] || python3 -m zipfile -e "$z" "$out/day8/"
done

part=${1:-all}
want() { [ "$part" = all ] || [ "$part" = "$1" ]; }

# ratios GO_OUTPUT DUCKDB_JSONL PREFIX GOAL WHAT: each Go benchmark under PREFIX
# beside DuckDB's rows/s of the same table, measured in the same run: per wall
# second, and per CPU second of the process (what a busy machine does not skew).
ratios() {
  node -e '
const fs = require("fs");
const [goFile, duckFile, prefix, goal, what] = process.argv.slice(1);
const duck = {};
for (const l of fs.readFileSync(duckFile, "utf8").split("\n")) {
  try { const r = JSON.parse(l); if (r.table && r.rows_per_s) duck[r.table] = r; } catch {}
}
const pad = (x, n) => String(Math.round(x)).padStart(n);
for (const l of fs.readFileSync(goFile, "utf8").split("\n")) {
  const m = l.match(/^(Benchmark\S+)\s.*\s([\d.]+) rows\/s/);
  if (!m || !m[1].startsWith(prefix)) continue;
  const table = m[1].slice(prefix.length).split("/").find((p) => p in duck);
  if (!table) continue;
  const d = duck[table], go = +m[2];
  const c = l.match(/\s([\d.]+) rows\/cpu-s/);
  let line = `${m[1].padEnd(42)} wall: ${pad(go, 8)} vs DuckDB ${what} ${pad(d.rows_per_s, 8)} rows/s = ${(go / d.rows_per_s).toFixed(2)}x`;
  if (c && d.rows_per_cpu_s) line += `   CPU: ${pad(+c[1], 8)} vs ${pad(d.rows_per_cpu_s, 8)} rows/cpu-s = ${(+c[1] / d.rows_per_cpu_s).toFixed(2)}x`;
  console.log(line + `   (goal ${goal}x)`);
}' "$@"
}

if want decode; then
echo "== Go: decode (one core)"
GDELT_BENCH_MENTIONS=$mentions \
  go test -run '^$' -bench 'BenchmarkDecode' -cpu 1 -benchtime 3s -count 1 ./plugins/gdelt/ | tee "$out/go-decode.txt"

node tests/duckdb/bench_read_csv.mjs --runs 5 "$out/20191024143000.export.CSV" "$mentions" "$out/20230702153000.gkg.csv" | tee "$out/duckdb-decode.txt"
echo "== decode beside DuckDB read_csv (/row: gdelt_decode form: row; the others build maps; gkg/nested parses what read_csv leaves raw)"
ratios "$out/go-decode.txt" "$out/duckdb-decode.txt" BenchmarkDecode/ 1.5 read_csv
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
go test -run '^$' -bench 'BenchmarkDeltaWrite' -cpu 1 -benchtime 1x -count 1 -timeout 60m ./plugins/deltalake/ | tee "$out/go-delta.txt"

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
echo "== Delta writes beside DuckDB COPY (/row: rows in column order, as delta_lake gets them from form: row; /map: maps)"
ratios "$out/go-delta.txt" "$out/duckdb-copy.txt" BenchmarkDeltaWrite/ 1.0 COPY
fi

if want mem; then
echo "== memory: peak RSS of the embedded default (pipelines/local.yaml), measured by the OS"
go build -o "$out/benthos" ./cmd/benthos
# The issue's file: one export row repeated 1.6 M times (~500 MB, a ~2 MB zip);
# and 1.6 M distinct events in one window, whose 48 h of state the join keeps.
[ -f .cache/bigexport/masterfilelist.txt ] || go run ./cmd/gdelt-gen -out .cache/bigexport -windows 1 -events 10 -export-repeat 1600000 -mentions 1 -gkg 1 -scale small >/dev/null
[ -f .cache/bigevents/masterfilelist.txt ] || go run ./cmd/gdelt-gen -out .cache/bigevents -windows 1 -events 1600000 -mentions 1 -gkg 1 -scale small >/dev/null
peak() { # name, then env assignments: runs local.yaml, prints peak RSS and wall time
  local name=$1; shift
  rm -rf "$out/mem-out"
  /usr/bin/time -f '%M %e' -o "$out/mem-time.txt" env GDELT_OUT="$out/mem-out" LOG_LEVEL=warn "$@" "$out/benthos" -c pipelines/local.yaml >/dev/null 2>"$out/mem-log.txt" || { echo "$name: the run failed"; tail -5 "$out/mem-log.txt"; return 1; }
  read -r kb secs < "$out/mem-time.txt"
  awk -v n="$name" -v kb="$kb" -v s="$secs" 'BEGIN { printf "%-58s peak RSS %7.1f MiB   wall %6.1f s\n", n, kb / 1024, s }'
}
peak "day load (96 windows, 1.46 GB unzipped)" GDELT_BASE_URL=.cache/dayload
peak "one 500 MB export file (a row repeated 1.6 M times)" GDELT_BASE_URL=.cache/bigexport
peak "one 560 MB export file of 1.6 M distinct events" GDELT_BASE_URL=.cache/bigevents
peak "bundled mirror, GDELT_BATCH_ROWS=1" GDELT_BATCH_ROWS=1
fi

if want day; then
echo "== the day: the embedded default beside DuckDB doing the same work (every core: $(nproc))"
go build -o "$out/benthos" ./cmd/benthos
mkdir -p "$out/dayraw"
for z in .cache/dayload/*.zip; do
  [ -f "$out/dayraw/$(basename "${z%.zip}")" ] || python3 -m zipfile -e "$z" "$out/dayraw/"
done
rm -rf "$out/day-out"
/usr/bin/time -f '%e %P %M' -o "$out/day-time.txt" env GDELT_BASE_URL=.cache/dayload GDELT_OUT="$out/day-out" LOG_LEVEL=warn \
  "$out/benthos" -c pipelines/local.yaml >/dev/null 2>"$out/day-log.txt" || { echo "the pipeline failed"; tail -5 "$out/day-log.txt"; exit 1; }
read -r pwall pcpu prss < "$out/day-time.txt"
rm -rf "$out/day-duck"
/usr/bin/time -f '%e %P %M' -o "$out/day-duck-time.txt" node tests/duckdb/bench_day.mjs --threads "$(nproc)" "$out/dayraw" "$out/day-duck" 192 | tee "$out/day-duckdb.json"
read -r dwall dcpu drss < "$out/day-duck-time.txt"
node tests/duckdb/query.mjs "
  SELECT 'pipeline' AS who, join_status, count(*) AS n FROM read_parquet('$out/day-out/silver/events_detailed/window_date=*/*.parquet') GROUP BY ALL
  UNION ALL
  SELECT 'duckdb', join_status, count(*) FROM read_parquet('$out/day-duck/silver.parquet') GROUP BY ALL
  ORDER BY 2, 1" | tee "$out/day-statuses.txt"
node -e '
const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const [wall, cpu, rss, dwall, dcpu, drss] = process.argv.slice(2);
// CPU seconds: what a machine other work keeps busy does not skew.
const pcs = wall * parseFloat(cpu) / 100, dcs = dwall * parseFloat(dcpu) / 100;
console.log(`pipelines/local.yaml (bronze + silver + audit + gold)  wall ${(+wall).toFixed(1)} s  CPU ${cpu} (${pcs.toFixed(1)} CPU s)  peak RSS ${(rss / 1024).toFixed(0)} MiB`);
console.log(`DuckDB, the same work but gold (threads=${d.threads})    wall ${d.total_s.toFixed(1)} s  (${dcs.toFixed(1)} CPU s, the whole script)  peak RSS ${(drss / 1024).toFixed(0)} MiB  (bronze ${d.bronze_s} s, join ${d.silver_s} s; unzipped files)`);
console.log(`ratio: the pipeline is ${(d.total_s / wall).toFixed(2)}x DuckDB per wall second, ${(dcs / pcs).toFixed(2)}x per CPU second; load average ${require("os").loadavg().map((x) => x.toFixed(1)).join(" ")}`);
' "$out/day-duckdb.json" "$pwall" "$pcpu" "$prss" "$dwall" "$dcpu" "$drss"
fi

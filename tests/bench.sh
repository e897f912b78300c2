#!/usr/bin/env bash
# Benchmarks of the GDELT feed and decoder, beside DuckDB on the same files,
# measured in the same run on one core.
#
#   tests/bench.sh            # decode, feed, Delta writes (day-sized load, generated once into .cache/dayload)
#   tests/bench.sh decode     # only one part: decode, feed, delta, join, mem, day, gold, restart or kafka (kafka: only by name)
#   GDELT_BENCH_RESTART_DAYS=2 tests/bench.sh restart   # the restarts with 48 h of join state (default 1: 24 h)
#
# day: the embedded default (pipelines/local.yaml on local disk) over the
# generated day, on every core, twice: with GDELT_GOLD=false (bronze + silver
# + audit: the issue's scope) and as it is (with gold and the SQLite mart);
# beside DuckDB doing the same work as the first in one script (tests/duckdb/bench_day.mjs:
# typed read_csv of the unzipped files → zstd Parquet per table, then the
# three-way join → zstd Parquet), in the same run; prints wall times, CPU
# seconds, peak RSS and the ratios per wall and per CPU second; then the
# floor (BenchmarkDayFloor: MD5 and inflate of the zips, zstd of the day's
# bytes twice, for bronze and silver; one core) and the pipeline's CPU seconds
# as a multiple of it.
#
# gold: the embedded default (bronze, silver, gold, the SQLite mart) over the
# generated day; from audit/windows, gold's and the mart's time per window and
# each window's update latency (its GOLD_COMPLETE and MART_COMPLETE rows'
# recorded_at minus its SILVER_COMPLETE row's silver_completed: the silver
# rows handed to the tables); beside DuckDB computing the same gold tables with
# the oracle's SQL over the same silver, once for the whole day (SET
# threads=1, tests/duckdb/bench_gold.mjs), in the same run; and the oracle's
# check of gold on the day.
#
# mem: peak resident memory (from the OS: /usr/bin/time's maximum RSS) of the
# embedded default (pipelines/local.yaml) on the day load, on one 560 MB
# export file (1.6 M rows in one window) and on the bundled mirror with one
# row per batch (GDELT_BATCH_ROWS=1).
#
# restart: the embedded default reads the day load but its last five windows,
# then is started again: the time from process start to the first new window
# read, with the join's state snapshots and without them (its manifest
# removed: the state is rebuilt by reading the retention again), from copies
# of the same state, in the same run; then (with MinIO installed) the same
# for silver.yaml on kafka-dev + MinIO: with its stored resume point, and
# reading the topics from the start. That is 24 h of join state, a few
# minutes. GDELT_BENCH_RESTART_DAYS=2 does it with 48 h (the whole retention)
# on a two-day load (192 consecutive windows from the day load's start,
# generated once into .cache/load-2d, ~0.8 GB), about twice as long;
# GDELT_BENCH_RESTART_DAYS=1,2 does both.
#
# kafka: the Kafka path on kfake (cmd/kafka-dev) and MinIO, every process on
# this machine's cores. First the latency (BenchmarkKafkaLatency): a followed
# mirror publishes a window of the day load's size every 3 s
# (GDELT_BENCH_EVERY); it prints p50, p99 and max over 23 windows of
# "published → in bronze" and "the next window published → in silver", for
# bronze.yaml with its former output batching (before) and as it is (after).
# Then the scale (BenchmarkKafkaDay): a burst (ingest backfills the load into
# the topics, then bronze and silver drain them); it prints the consumer lag
# every 2 s, per load and topology the wall time of each stage, rows/s and CPU
# seconds, the speed-up of two bronze replicas and two silver shards on the
# day, and how cost grows at 0.5, 1 and 2 days (GDELT_BENCH_DAYS). About 30
# minutes; the loads are generated once into .cache.
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

part=${1:-all}
want() { [ "$part" = all ] || [ "$part" = "$1" ]; }

if [ "$part" != restart ]; then
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
fi

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
# silver/row keeps its local table in $out/silver-delta: DuckDB copies the same rows below.
GDELT_BENCH_SILVER_DIR="$out/silver-delta" \
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
# silver: the rows of the table BenchmarkDeltaWrite/local/silver/row wrote (read_parquet, untimed), copied the same way.
node tests/duckdb/bench_copy.mjs --runs 2 "$out/silver-delta" silver | tee -a "$out/duckdb-copy.txt"
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
# The issue's scope first (bronze + silver + audit: GDELT_GOLD=false), then the
# whole default (with gold and the SQLite mart).
for run in nogold gold; do
  rm -rf "$out/day-out-$run"
  gold=false; [ "$run" = gold ] && gold=true
  /usr/bin/time -f '%e %P %M' -o "$out/day-time-$run.txt" env GDELT_BASE_URL=.cache/dayload GDELT_OUT="$out/day-out-$run" GDELT_GOLD=$gold LOG_LEVEL=warn \
    "$out/benthos" -c pipelines/local.yaml >/dev/null 2>"$out/day-log-$run.txt" || { echo "the pipeline failed ($run)"; tail -5 "$out/day-log-$run.txt"; exit 1; }
done
read -r pwall pcpu prss < "$out/day-time-nogold.txt"
read -r gwall gcpu grss < "$out/day-time-gold.txt"
rm -rf "$out/day-duck"
/usr/bin/time -f '%e %P %M' -o "$out/day-duck-time.txt" node tests/duckdb/bench_day.mjs --threads "$(nproc)" "$out/dayraw" "$out/day-duck" 192 | tee "$out/day-duckdb.json"
read -r dwall dcpu drss < "$out/day-duck-time.txt"
# The floor: what any implementation must do (MD5 and inflate of the zips, zstd
# of the day twice: bronze and silver), on one core, in the same run.
floor=$(go test -run '^$' -bench BenchmarkDayFloor -benchtime 1x ./plugins/deltalake/ | tee "$out/day-floor.txt" | grep -oE '[0-9.]+ floor-cpu-s' | cut -d' ' -f1)
grep '^BenchmarkDayFloor' "$out/day-floor.txt"
node tests/duckdb/query.mjs "
  SELECT 'pipeline' AS who, join_status, count(*) AS n FROM read_parquet('$out/day-out-nogold/silver/events_detailed/window_date=*/*.parquet') GROUP BY ALL
  UNION ALL
  SELECT 'pipeline+gold', join_status, count(*) FROM read_parquet('$out/day-out-gold/silver/events_detailed/window_date=*/*.parquet') GROUP BY ALL
  UNION ALL
  SELECT 'duckdb', join_status, count(*) FROM read_parquet('$out/day-duck/silver.parquet') GROUP BY ALL
  ORDER BY 2, 1" | tee "$out/day-statuses.txt"
node -e '
const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const [wall, cpu, rss, gwall, gcpu, grss, dwall, dcpu, drss] = process.argv.slice(2);
// CPU seconds: what a machine other work keeps busy does not skew.
const cs = (w, p) => w * parseFloat(p) / 100;
const pcs = cs(wall, cpu), gcs = cs(gwall, gcpu), dcs = cs(dwall, dcpu);
const line = (name, w, p, c, r) => console.log(`${name}  wall ${(+w).toFixed(1)} s  CPU ${p} (${c.toFixed(1)} CPU s)  peak RSS ${(r / 1024).toFixed(0)} MiB`);
line("pipelines/local.yaml, GDELT_GOLD=false (bronze + silver + audit)", wall, cpu, pcs, rss);
line("pipelines/local.yaml (bronze + silver + audit + gold + mart)    ", gwall, gcpu, gcs, grss);
console.log(`DuckDB, bronze + silver + audit (threads=${d.threads})          wall ${d.total_s.toFixed(1)} s  (${dcs.toFixed(1)} CPU s, the whole script)  peak RSS ${(drss / 1024).toFixed(0)} MiB  (bronze ${d.bronze_s} s, join ${d.silver_s} s; unzipped files)`);
console.log(`ratio, the same work (GDELT_GOLD=false): the pipeline is ${(d.total_s / wall).toFixed(2)}x DuckDB per wall second, ${(dcs / pcs).toFixed(2)}x per CPU second`);
console.log(`ratio, with gold (DuckDB does none):     ${(d.total_s / gwall).toFixed(2)}x per wall second, ${(dcs / gcs).toFixed(2)}x per CPU second; load average ${require("os").loadavg().map((x) => x.toFixed(1)).join(" ")}`);
const floor = parseFloat(process.argv[11]);
console.log(`the floor (MD5 + inflate of the zips, zstd of the day twice; BenchmarkDayFloor, one core): ${floor.toFixed(1)} CPU s = ${(floor / require("os").cpus().length).toFixed(1)} s on every core; the pipeline (GDELT_GOLD=false) uses ${(pcs / floor).toFixed(2)}x the floor`);
' "$out/day-duckdb.json" "$pwall" "$pcpu" "$prss" "$gwall" "$gcpu" "$grss" "$dwall" "$dcpu" "$drss" "$floor"
fi

if want gold; then
echo "== gold: the embedded default over the day load (bronze, silver, gold, SQLite mart); DuckDB computing the gold SQL over the same silver"
go build -o "$out/benthos" ./cmd/benthos
rm -rf "$out/gold-out"
/usr/bin/time -f '%e %P %M' -o "$out/gold-time.txt" env GDELT_BASE_URL=.cache/dayload GDELT_OUT="$out/gold-out" LOG_LEVEL=warn \
  "$out/benthos" -c pipelines/local.yaml >/dev/null 2>"$out/gold-log.txt" || { echo "the pipeline failed"; tail -5 "$out/gold-log.txt"; exit 1; }
read -r pwall pcpu prss < "$out/gold-time.txt"
echo "pipelines/local.yaml over the day: wall ${pwall} s, CPU ${pcpu}, peak RSS $((prss / 1024)) MiB"
node tests/duckdb/query.mjs "
  CREATE TABLE audit AS SELECT * FROM read_parquet('$out/gold-out/audit/windows/*.parquet', union_by_name = true);
  WITH s AS (SELECT \"window\", max(silver_completed) AS sc FROM audit WHERE status = 'SILVER_COMPLETE' GROUP BY ALL),
       g AS (SELECT \"window\", max(recorded_at) AS gt, sum(gold_seconds) AS gs, sum(gold_rows) AS gr FROM audit WHERE status = 'GOLD_COMPLETE' GROUP BY ALL),
       m AS (SELECT \"window\", max(recorded_at) AS mt, sum(mart_seconds) AS ms, sum(mart_rows) AS mr, bool_and(mart_in_sync) AS ok FROM audit WHERE status = 'MART_COMPLETE' GROUP BY ALL),
       l AS (SELECT s.\"window\", gs, ms, gr, mr, ok, epoch(gt - sc) AS gold_lat, epoch(mt - sc) AS mart_lat FROM s JOIN g USING (\"window\") JOIN m USING (\"window\"))
  SELECT count(*) AS windows, sum(gr) AS gold_rows, sum(mr) AS mart_rows, round(sum(gs), 2) AS gold_s, round(sum(ms), 2) AS mart_s,
    round(quantile_cont(gold_lat, 0.5), 3) AS gold_latency_p50_s, round(quantile_cont(gold_lat, 0.95), 3) AS gold_latency_p95_s, round(max(gold_lat), 3) AS gold_latency_max_s,
    round(quantile_cont(mart_lat, 0.5), 3) AS mart_latency_p50_s, round(quantile_cont(mart_lat, 0.95), 3) AS mart_latency_p95_s, round(max(mart_lat), 3) AS mart_latency_max_s,
    count(*) FILTER (WHERE mart_lat <= 2) AS windows_within_2s, bool_and(ok) AS mart_in_sync
  FROM l" | tee "$out/gold-latency.json"
node tests/duckdb/bench_gold.mjs --threads 1 "$out/gold-out" resources/lookups | tee "$out/gold-duckdb.json"
node -e '
const fs = require("fs");
const l = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
const d = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
console.log(`gdelt_gold, window by window: ${l.gold_s} s in all over ${l.windows} windows (${l.gold_rows} gold rows written); the SQLite mart: ${l.mart_s} s (${l.mart_rows} rows sent)`);
console.log(`DuckDB, the gold SQL once over the day (threads=1): ${d.gold_s} s (+ ${d.read_s} s reading silver)`);
console.log(`ratio: gold in all is ${(l.gold_s / d.gold_s).toFixed(2)}x DuckDB computing the day once`);
console.log(`latency after silver: gold p50 ${l.gold_latency_p50_s} s, p95 ${l.gold_latency_p95_s} s, max ${l.gold_latency_max_s} s; mart p50 ${l.mart_latency_p50_s} s, p95 ${l.mart_latency_p95_s} s, max ${l.mart_latency_max_s} s; ${l.windows_within_2s} of ${l.windows} windows in the mart within 2 s`);
' "$out/gold-latency.json" "$out/gold-duckdb.json"
echo "== the oracle's check of gold on the day"
node tests/duckdb/gold_oracle.mjs "$out/gold-out" resources/lookups | cut -c1-200
fi

if want restart; then
go build -o "$out/benthos" ./cmd/benthos
rs=$out/restart
rm -rf "$rs" && mkdir -p "$rs"
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
restart() { # mirror, name, label, out dir: start the pipeline, wait for the first window after its checkpoint, stop it
  local mirror=$1 label=$3 dir=$4 log=$rs/$2.log
  local t0 t1 resumed newest
  t0=$(date +%s.%N)
  GDELT_BASE_URL=$mirror GDELT_OUT="$dir" LOG_LEVEL=info "$out/benthos" -c pipelines/local.yaml >"$log" 2>&1 &
  local pid=$!
  while :; do
    resumed=$(grep -o 'resuming after window [0-9]\{14\}' "$log" | grep -o '[0-9]\{14\}' || true)
    if [ -n "$resumed" ]; then
      newest=$(grep -o 'gdelt_feed: window [0-9]\{14\} read' "$log" | grep -o '[0-9]\{14\}' | sort | tail -1 || true)
      if [ -n "$newest" ] && [ "$newest" \> "$resumed" ]; then t1=$(date +%s.%N); break; fi
    fi
    kill -0 "$pid" 2>/dev/null || { echo "$label: the run ended before reading a new window"; tail -5 "$log"; return 1; }
    sleep 0.05
  done
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  local rewind
  rewind=$(grep -o 'rewind_windows [0-9]*' "$log" | head -1)
  awk -v l="$label" -v a="$t0" -v b="$t1" -v r="$rewind" -v w="$newest" -v la="$(cut -d' ' -f1 /proc/loadavg)" \
    'BEGIN { printf "%-44s %6.2f s to window %s (%s; load average %s)\n", l, b - a, w, r, la }'
}
restart_case() { # days, mirror: the first run through all but the last five windows, then the two restarts
  local days=$1 mirror=$2 d=$rs/${1}d
  mkdir -p "$d"
  echo "== restart: the embedded default with ${days} day(s) of join state ($mirror), from process start to the first new window read"
  local ids to
  mapfile -t ids < <(ls "$mirror"/ | grep -o '^[0-9]\{14\}' | sort -u)
  to=${ids[${#ids[@]}-6]}
  # The state: the load read through $to (a backfill to T also reads T+1, the
  # join's GKG slack); the windows after it are the new ones.
  /usr/bin/time -f '%e' -o "$d/first-time.txt" env GDELT_BASE_URL="$mirror" GDELT_OUT="$d/base" GDELT_TO="$to" LOG_LEVEL=warn \
    "$out/benthos" -c pipelines/local.yaml >/dev/null 2>"$d/first.log" || { echo "the first run failed"; tail -5 "$d/first.log"; return 1; }
  echo "first run: ${#ids[@]} windows listed, read through $to and one more, in $(cat "$d/first-time.txt") s"
  # The same state twice: as it is (snapshots), and without the join's
  # snapshot manifest, which makes it rebuild its state by reading the
  # retention again, as before the snapshots.
  cp -a "$d/base" "$d/snap"
  cp -a "$d/base" "$d/full"
  rm -f "$d"/full/state/gdelt_join/*/events/manifest
  restart "$mirror" "${days}d-snap" "restart with the join's snapshots" "$d/snap" | tee "$d/result.txt"
  restart "$mirror" "${days}d-full" "restart rebuilding the state (no snapshots)" "$d/full" | tee -a "$d/result.txt"
  grep -h 'from the state snapshots' "$rs/${days}d-snap.log" | sed 's/.*msg="//; s/" .*//' | head -1
  awk '{ for (i = 1; i <= NF; i++) if ($i == "s") t[NR] = $(i-1) } END { printf "ratio: the restart with snapshots reaches new windows %.1fx sooner\n", t[2] / t[1] }' "$d/result.txt"
  rm -rf "$d/snap" "$d/full" "$d/base"
}
# GDELT_BENCH_RESTART_DAYS: 1 (default: the day load, 24 h of state), 2 (a
# two-day load, 48 h: the whole retention) or 1,2.
restart_days=${GDELT_BENCH_RESTART_DAYS:-1}
for days in ${restart_days//,/ }; do
  case $days in
  1) restart_case 1 .cache/dayload ;;
  2)
    [ -f .cache/load-2d/masterfilelist.txt ] || {
      echo "== generating the two-day load (192 consecutive windows from the day load's start, cached in .cache/load-2d)"
      rm -rf .cache/load-2d.tmp
      go run ./cmd/gdelt-gen -scale day -seed 1 -windows 192 -out .cache/load-2d.tmp >/dev/null
      mv .cache/load-2d.tmp .cache/load-2d
    }
    restart_case 2 .cache/load-2d ;;
  *) echo "GDELT_BENCH_RESTART_DAYS: $days is not 1 or 2"; exit 1 ;;
  esac
done
if [ -x .cache/bin/minio ]; then
  for days in ${restart_days//,/ }; do
    echo "== restart: silver.yaml on kafka-dev + MinIO with ${days} day(s) of join state (tests/silver_restart_bench_test.go)"
    GDELT_BENCH_DAYS=$days go test -run '^$' -bench 'BenchmarkSilverRestart' -benchtime 1x -count 1 -timeout 90m ./tests/ | tee "$rs/silver-${days}d.txt"
  done
fi
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
fi

if [ "$part" = kafka ]; then  # only when asked: about 30 minutes
echo "== the Kafka path: latency of a followed mirror, then a burst at 0.5, 1 and 2 days and with two replicas (kfake + MinIO, every core)"
bash tests/minio.sh install >/dev/null
go test -run '^$' -bench 'BenchmarkKafkaLatency' -benchtime 1x -count 1 -timeout 60m ./tests/ | tee "$out/go-kafka-latency.txt"
go test -run '^$' -bench 'BenchmarkKafkaDay' -benchtime 1x -count 1 -timeout 180m ./tests/ | tee "$out/go-kafka-day.txt"
fi

// bench_read_csv.mjs: how fast DuckDB parses raw GDELT files on one thread,
// as a yardstick beside the Go decoder benchmarks.
//
//   node bench_read_csv.mjs [--runs N] [--table T] <file>...
//
// For each file (the table is taken from the name: *.export.CSV, *.mentions.CSV,
// *.gkg.csv; or forced with --table) it runs, with SET threads = 1,
//   CREATE OR REPLACE TEMP TABLE t AS SELECT * FROM read_csv(...)
// N times (default 5) after one warm-up, so every column of every row is
// parsed and materialised, and prints one JSON line:
//   {"file","table","rows","bytes","runs","best_s","median_s","rows_per_s","mb_per_s","best_cpu_s","rows_per_cpu_s"}
// rows_per_s and mb_per_s (MB = 1e6 bytes, as in Go's MB/s) use the best run.

import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect, readCsvCall, tableColumns } from './read_csv.mjs';

function tableOf(file) {
  const name = basename(file).toLowerCase();
  for (const t of ['export', 'mentions', 'gkg']) {
    if (name.includes(`.${t}.csv`)) return t;
  }
  throw new Error(`${file}: cannot tell the table from the name; pass --table`);
}

async function main(argv) {
  let runs = 5;
  let forced = '';
  const files = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') runs = Number(argv[++i]);
    else if (argv[i] === '--table') forced = argv[++i];
    else files.push(argv[i]);
  }
  if (!files.length || !(runs >= 1)) {
    throw new Error('usage: node bench_read_csv.mjs [--runs N] [--table T] <file>...');
  }
  const conn = await connect({ threads: '1' });
  await conn.run('SET threads = 1');
  for (const file of files) {
    const table = forced || tableOf(file);
    const sql = `CREATE OR REPLACE TEMP TABLE t AS SELECT * FROM ${readCsvCall(file, tableColumns(table))}`;
    const bytes = statSync(file).size;
    await conn.run(sql); // warm-up: page cache, allocator
    const times = [];
    const cpus = []; // CPU seconds of the process (DuckDB's one thread and node's), robust to a loaded machine
    for (let r = 0; r < runs; r++) {
      const cpu0 = process.cpuUsage();
      const start = performance.now();
      await conn.run(sql);
      times.push((performance.now() - start) / 1000);
      const cpu = process.cpuUsage(cpu0);
      cpus.push((cpu.user + cpu.system) / 1e6);
    }
    cpus.sort((a, b) => a - b);
    const rows = Number((await conn.runAndReadAll('SELECT count(*) FROM t')).getRows()[0][0]);
    await conn.run('DROP TABLE t');
    times.sort((a, b) => a - b);
    const best = times[0];
    const median = times[Math.floor(times.length / 2)];
    process.stdout.write(JSON.stringify({
      file: basename(file), table, rows, bytes, runs,
      best_s: +best.toFixed(6), median_s: +median.toFixed(6),
      rows_per_s: Math.round(rows / best), mb_per_s: +(bytes / 1e6 / best).toFixed(2),
      best_cpu_s: +cpus[0].toFixed(6), rows_per_cpu_s: Math.round(rows / cpus[0]),
    }) + '\n');
  }
  conn.closeSync();
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`bench_read_csv.mjs: ${err.message}\n`);
  process.exit(1);
});

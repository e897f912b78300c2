// bench_copy.mjs: how fast DuckDB writes a GDELT table as zstd Parquet on one
// thread, as the yardstick of the Go Parquet writer (plugins/delta/datafile,
// BenchmarkParquetWrite in plugins/deltalake).
//
//   node bench_copy.mjs [--runs N] <tsv-file> <table>
//   node bench_copy.mjs [--runs N] <directory> <table>
//
// A directory is a Delta table's folder (the silver table BenchmarkDeltaWrite
// wrote, GDELT_BENCH_SILVER_DIR): its Parquet files are loaded instead, with
// read_parquet, so DuckDB copies the same rows; bytes is then their size.
//
// With SET threads = 1 it loads the raw file into a table once, untimed
// (read_csv with the typed columns of read_csv.mjs), then times
//   COPY t TO '<tmp>.parquet' (FORMAT parquet, COMPRESSION zstd)
// N times (default 5) after one warm-up and prints one JSON line:
//   {"file","table","rows","bytes","parquet_bytes","runs","best_s","median_s","rows_per_s","mb_per_s","best_cpu_s","rows_per_cpu_s"}
// bytes is the size of the TSV file; mb_per_s (MB = 1e6 bytes, as Go's
// MB/s) is TSV bytes per second of the best run, comparable with the Go
// benchmark, which reports the same rows against the same raw bytes.

import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect, readCsvCall, tableColumns } from './read_csv.mjs';

const sqlString = (s) => `'${String(s).replaceAll("'", "''")}'`;

async function main(argv) {
  let runs = 5;
  const args = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') runs = Number(argv[++i]);
    else args.push(argv[i]);
  }
  if (args.length !== 2 || !(runs >= 1)) {
    throw new Error('usage: node bench_copy.mjs [--runs N] <tsv-file> <table>');
  }
  const [file, table] = args;
  const dir = mkdtempSync(join(tmpdir(), 'bench-copy-'));
  const out = join(dir, 't.parquet');
  const conn = await connect({ threads: '1' });
  try {
    await conn.run('SET threads = 1');
    const isDir = statSync(file).isDirectory();
    const source = isDir
      ? `read_parquet(${sqlString(join(file, '*.parquet'))})`
      : readCsvCall(file, tableColumns(table));
    await conn.run(`CREATE TABLE t AS SELECT * FROM ${source}`);
    const rows = Number((await conn.runAndReadAll('SELECT count(*) FROM t')).getRows()[0][0]);
    const copy = `COPY t TO ${sqlString(out)} (FORMAT parquet, COMPRESSION zstd)`;
    await conn.run(copy); // warm-up
    const times = [];
    const cpus = []; // CPU seconds of the process (DuckDB's one thread and node's), robust to a loaded machine
    for (let r = 0; r < runs; r++) {
      const cpu0 = process.cpuUsage();
      const start = performance.now();
      await conn.run(copy);
      times.push((performance.now() - start) / 1000);
      const cpu = process.cpuUsage(cpu0);
      cpus.push((cpu.user + cpu.system) / 1e6);
    }
    cpus.sort((a, b) => a - b);
    times.sort((a, b) => a - b);
    const best = times[0];
    const median = times[Math.floor(times.length / 2)];
    const bytes = isDir
      ? readdirSync(file).filter((n) => n.endsWith('.parquet')).reduce((n, f) => n + statSync(join(file, f)).size, 0)
      : statSync(file).size;
    process.stdout.write(JSON.stringify({
      file: basename(file), table, rows, bytes, parquet_bytes: statSync(out).size, runs,
      best_s: +best.toFixed(6), median_s: +median.toFixed(6),
      rows_per_s: Math.round(rows / best), mb_per_s: +(bytes / 1e6 / best).toFixed(2),
      best_cpu_s: +cpus[0].toFixed(6), rows_per_cpu_s: Math.round(rows / cpus[0]),
    }) + '\n');
  } finally {
    conn.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`bench_copy.mjs: ${err.message}\n`);
  process.exit(1);
});

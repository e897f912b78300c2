// bench_copy.mjs: how fast DuckDB writes a GDELT table as zstd Parquet on one
// thread, as the yardstick of the Go Parquet writer (plugins/delta/datafile,
// BenchmarkParquetWrite in plugins/deltalake).
//
//   node bench_copy.mjs [--runs N] <tsv-file> <table>
//
// With SET threads = 1 it loads the raw file into a table once, untimed
// (read_csv with the typed columns of read_csv.mjs), then times
//   COPY t TO '<tmp>.parquet' (FORMAT parquet, COMPRESSION zstd)
// N times (default 5) after one warm-up and prints one JSON line:
//   {"file","table","rows","bytes","parquet_bytes","runs","best_s","median_s","rows_per_s","mb_per_s","best_cpu_s","rows_per_cpu_s"}
// bytes is the size of the TSV file; mb_per_s (MB = 1e6 bytes, as Go's
// MB/s) is TSV bytes per second of the best run, comparable with the Go
// benchmark, which reports the same rows against the same raw bytes.

import { mkdtempSync, rmSync, statSync } from 'node:fs';
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
    await conn.run(`CREATE TABLE t AS SELECT * FROM ${readCsvCall(file, tableColumns(table))}`);
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
    const bytes = statSync(file).size;
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

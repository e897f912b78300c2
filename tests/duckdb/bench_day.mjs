// bench_day.mjs: DuckDB doing the embedded default's work on the same load,
// as the yardstick of `tests/bench.sh day`: the bronze tables (every row of
// the three tables, typed, as zstd Parquet) and silver (the three-way join of
// joinSQL, as zstd Parquet), with the threads of the machine (2 here).
//
//   node bench_day.mjs [--threads N] <raw-dir> <out-dir> [retention-windows]
//
// <raw-dir> holds the unzipped files (<window>.export.CSV, .mentions.CSV,
// .gkg.csv); DuckDB cannot read the zips, so its side starts from unzipped
// files (the pipeline's side also verifies md5s and inflates). Steps, timed:
//   bronze: COPY (SELECT * FROM read_csv(<typed columns>)) TO <out>/bronze_<t>.parquet (zstd), per table
//   silver: the join (joinSQL) over the three bronze files, COPY TO <out>/silver.parquet (zstd)
// Prints one JSON line: {"threads","rows":{…},"silver_rows","bronze_s","silver_s","total_s"}.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect, readCsvCall, tableColumns } from './read_csv.mjs';
import { joinSQL } from './join_oracle.mjs';

const sqlString = (s) => `'${String(s).replaceAll("'", "''")}'`;

async function main(argv) {
  let threads = '2';
  const args = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--threads') threads = argv[++i];
    else args.push(argv[i]);
  }
  if (args.length < 2) throw new Error('usage: node bench_day.mjs [--threads N] <raw-dir> <out-dir> [retention-windows]');
  const [raw, out, r = '192'] = args;
  mkdirSync(out, { recursive: true });
  const conn = await connect({ threads });
  await conn.run(`SET threads = ${Number(threads)}`);
  await conn.run(`CREATE MACRO win(id) AS
    CAST(epoch(strptime(CAST(id AS VARCHAR), '%Y%m%d%H%M%S')) AS BIGINT) // 900`);
  const one = async (sql) => Number((await conn.runAndReadAll(sql)).getRows()[0][0]);
  const rows = {};
  const t0 = performance.now();
  for (const [table, pattern] of [['export', '*.export.CSV'], ['mentions', '*.mentions.CSV'], ['gkg', '*.gkg.csv']]) {
    const file = path.join(out, `bronze_${table}.parquet`);
    await conn.run(`COPY (SELECT * FROM ${readCsvCall(path.join(raw, pattern), tableColumns(table))})
      TO ${sqlString(file)} (FORMAT parquet, COMPRESSION zstd)`);
    rows[table] = await one(`SELECT count(*) FROM read_parquet(${sqlString(file)})`);
  }
  const t1 = performance.now();
  // The join reads the bronze files into tables, in their row order (rowid =
  // the order received, with insertion order preserved).
  for (const [name, table] of [['events', 'export'], ['mentions', 'mentions'], ['gkg', 'gkg']]) {
    await conn.run(`CREATE TABLE ${name} AS SELECT * FROM read_parquet(${sqlString(path.join(out, `bronze_${table}.parquet`))})`);
  }
  const silverFile = path.join(out, 'silver.parquet');
  const sql = joinSQL(Number(r), 1);
  await conn.run(`COPY (${sql}) TO ${sqlString(silverFile)} (FORMAT parquet, COMPRESSION zstd)`);
  const silverRows = await one(`SELECT count(*) FROM read_parquet(${sqlString(silverFile)})`);
  const t2 = performance.now();
  const s = (ms) => +(ms / 1000).toFixed(2);
  process.stdout.write(JSON.stringify({ threads: Number(threads), rows, silver_rows: silverRows,
    bronze_s: s(t1 - t0), silver_s: s(t2 - t1), total_s: s(t2 - t0) }) + '\n');
  conn.closeSync();
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`bench_day.mjs: ${err.message}\n`);
  process.exit(1);
});

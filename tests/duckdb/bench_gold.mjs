// bench_gold.mjs: DuckDB computing the gold tables with the oracle's SQL
// (gold_oracle.mjs) from the silver Delta tables of a lake, for
// tests/bench.sh gold: the same work gdelt_gold does window by window, done
// here once over the whole lake.
//
//   node bench_gold.mjs [--threads N] <lake-dir> <lookups-dir>
//
// Prints one JSON line: {"threads","read_s","gold_s","rows":{table: n}}:
// read_s = silver's logs replayed and its live Parquet files loaded into
// tables, gold_s = the five gold tables computed (CREATE TABLE AS).
import { connect } from './read_csv.mjs';
import { oracleSQL, readDelta } from './gold_oracle.mjs';
import path from 'node:path';

async function main(argv) {
  let threads = 1;
  if (argv[0] === '--threads') {
    threads = Number(argv[1]);
    argv = argv.slice(2);
  }
  if (argv.length < 2) throw new Error('usage: node bench_gold.mjs [--threads N] <lake-dir> <lookups-dir>');
  const [lake, lookups] = argv;
  const conn = await connect();
  await conn.run(`SET threads = ${threads}`);
  await conn.run(`SET VARIABLE lookups = '${lookups.replaceAll("'", "''")}'`);
  let t0 = performance.now();
  await readDelta(conn, 'sev', path.join(lake, 'silver/events'), false);
  await readDelta(conn, 'sed', path.join(lake, 'silver/events_detailed'), false);
  const readS = (performance.now() - t0) / 1000;
  t0 = performance.now();
  for (const sql of oracleSQL()) await conn.run(sql);
  const goldS = (performance.now() - t0) / 1000;
  const rows = {};
  for (const t of ['country_daily', 'country_daily_category', 'actor_network_daily', 'top_events_daily', 'source_daily']) {
    const r = (await conn.runAndReadAll(`SELECT count(*) AS n FROM o_${t}`)).getRowObjectsJson();
    rows[t] = Number(r[0].n);
  }
  process.stdout.write(JSON.stringify({ threads, read_s: +readS.toFixed(3), gold_s: +goldS.toFixed(3), rows }) + '\n');
  conn.closeSync();
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`bench_gold.mjs: ${err.message}\n`);
  process.exit(1);
});

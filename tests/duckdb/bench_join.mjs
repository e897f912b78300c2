// bench_join.mjs: the reference for the silver join benchmark. DuckDB runs the
// same join (joinSQL, join_oracle.mjs) over raw GDELT files on one thread;
// loading the CSVs is not timed, the join into a table is.
//
//   node bench_join.mjs [--runs N] <dir> <retention-windows>
//
// Prints {"what","mentions","best_s","mentions_per_s"}.
import { connect, readCsvCall, tableColumns } from './read_csv.mjs';
import { joinSQL } from './join_oracle.mjs';
import path from 'node:path';

async function main(argv) {
  let runs = 3;
  if (argv[0] === '--runs') { runs = Number(argv[1]); argv = argv.slice(2); }
  const [dir, r] = argv;
  const conn = await connect();
  await conn.run('SET threads = 1');
  await conn.run(`CREATE MACRO win(id) AS
    CAST(epoch(strptime(CAST(id AS VARCHAR), '%Y%m%d%H%M%S')) AS BIGINT) // 900`);
  for (const [table, pattern] of [['events', '*.export.CSV'], ['mentions', '*.mentions.CSV'], ['gkg', '*.gkg.csv']]) {
    await conn.run(`CREATE TABLE ${table} AS SELECT * FROM ${readCsvCall(path.join(dir, pattern), tableColumns(table === 'events' ? 'export' : table))}`);
  }
  const mentions = Number((await conn.runAndReadAll('SELECT count(*) FROM mentions')).getRows()[0][0]);
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    await conn.run('DROP TABLE IF EXISTS silver');
    const t0 = process.hrtime.bigint();
    await conn.run(`CREATE TABLE silver AS ${joinSQL(Number(r), 1)}`);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const n = Number((await conn.runAndReadAll('SELECT count(*) FROM silver')).getRows()[0][0]);
  if (n !== mentions) throw new Error(`${n} silver rows for ${mentions} mentions`);
  process.stdout.write(JSON.stringify({ what: 'duckdb join (threads=1)', mentions, best_s: +best.toFixed(3), mentions_per_s: Math.round(mentions / best) }) + '\n');
  conn.closeSync();
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`bench_join.mjs: ${err.message}\n`);
  process.exit(1);
});

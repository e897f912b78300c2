// silver_compare.mjs: checks the silver tables written by gdelt_join against
// the join written in SQL (join_oracle.mjs's joinSQL, which states the
// semantics), run by DuckDB over the raw GDELT files. DuckDB reads the Delta
// tables on its own: it replays the log in SQL (delta_compare.mjs) and reads
// the live Parquet files.
//
//   node silver_compare.mjs <raw-dir> <out-dir> <retention-windows> [through-window]
//
// <raw-dir> holds the raw files, unzipped, named like the feed's
// (<window>.export.CSV, <window>.mentions.CSV, <window>.gkg.csv). <out-dir>
// holds silver/events_detailed, silver/events and audit/windows.
// [through-window] limits the check to mentions and events of windows up to
// that id (a live stream has not emitted its newest windows yet).
//
// Prints one JSON line:
//   {"detailed_rows","expected_rows","missing","extra",     silver/events_detailed vs the SQL join
//    "by_status": {complete, no_gkg, expired},
//    "events_rows","events_expected","events_missing","events_extra",  silver/events vs the export rows' first sightings
//    "audit_windows","audit_mismatch"}   SILVER_COMPLETE rows (summed over shards) vs counts by window
// missing/extra are multisets (EXCEPT ALL) over every column, so a row
// written twice counts as extra.
import { connect, readCsvCall, tableColumns } from './read_csv.mjs';
import { firstSightingsSQL, joinSQL } from './join_oracle.mjs';
import { deltaLiveFiles } from './delta_compare.mjs';
import path from 'node:path';

const sqlString = (s) => `'${String(s).replaceAll("'", "''")}'`;

async function readDelta(conn, name, dir, columns) {
  const { files } = await deltaLiveFiles(conn, dir);
  if (!files.length) throw new Error(`${dir}: no live data file`);
  const list = `[${files.map(sqlString).join(', ')}]`;
  await conn.run(`CREATE TABLE ${name} AS SELECT ${columns} FROM read_parquet(${list}, hive_partitioning = false, union_by_name = true)`);
}

async function main(argv) {
  if (argv.length < 3) throw new Error('usage: node silver_compare.mjs <raw-dir> <out-dir> <retention-windows> [through-window]');
  const [raw, out, r, through = '99991231234500'] = argv;
  const retention = Number.parseInt(r, 10);
  const conn = await connect();
  await conn.run('SET threads = 1'); // rowid = the files' order, line by line
  await conn.run(`CREATE MACRO win(id) AS
    CAST(epoch(strptime(CAST(id AS VARCHAR), '%Y%m%d%H%M%S')) AS BIGINT) // 900`);
  const load = async (table, pattern) => {
    const file = path.join(raw, pattern);
    await conn.run(`CREATE TABLE ${table} AS SELECT * FROM ${readCsvCall(file, tableColumns(table === 'events' ? 'export' : table))}`);
  };
  await load('events', '*.export.CSV');
  await load('mentions', '*.mentions.CSV');
  await load('gkg', '*.gkg.csv');
  const one = async (sql) => Number((await conn.runAndReadAll(sql)).getRows()[0][0]);
  // Re-exports keep first-sighting semantics: the events that count.
  await conn.run(`CREATE TABLE first_events AS ${firstSightingsSQL('events')}`);

  await conn.run(`CREATE TABLE expected AS SELECT * FROM (${joinSQL(retention, 1)}) WHERE "window" <= ${BigInt(through)}`);
  const names = (await conn.runAndReadAll('SELECT * FROM expected LIMIT 0')).columnNames().map((n) => `"${n}"`).join(', ');
  await readDelta(conn, 'got', path.join(out, 'silver/events_detailed'), names);
  await conn.run(`DELETE FROM got WHERE "window" > ${BigInt(through)}`);

  const exportCols = tableColumns('export').map((c) => `"${c.name}"`).join(', ');
  await conn.run(`CREATE TABLE events_expected AS SELECT ${exportCols} FROM first_events WHERE date_added <= ${BigInt(through)}`);
  await readDelta(conn, 'events_got', path.join(out, 'silver/events'), exportCols);
  await conn.run(`DELETE FROM events_got WHERE date_added > ${BigInt(through)}`);

  await readDelta(conn, 'audit', path.join(out, 'audit/windows'), '*');
  // The audit's counts, summed over shards, against what the sources hold.
  const auditMismatch = await one(`
    WITH a AS (SELECT "window", sum(events_rows) AS ev, sum(mentions_rows) AS mt, sum(gkg_rows) AS gk,
                      sum(complete_rows) AS c, sum(no_gkg_rows) AS n, sum(expired_rows) AS x, count(*) AS shards_reported, max(shards) AS shards
               FROM audit WHERE status = 'SILVER_COMPLETE' AND "window" <= ${BigInt(through)} GROUP BY "window"),
         w AS (SELECT DISTINCT "window" FROM (
                 SELECT date_added AS "window" FROM events UNION ALL SELECT mention_time_date FROM mentions
                 UNION ALL SELECT "date" FROM gkg) WHERE "window" <= ${BigInt(through)}),
         s AS (SELECT w."window",
                 (SELECT count(*) FROM first_events WHERE date_added = w."window") AS ev,
                 (SELECT count(*) FROM mentions WHERE mention_time_date = w."window") AS mt,
                 (SELECT count(*) FROM gkg WHERE "date" = w."window") AS gk,
                 (SELECT count(*) FROM expected e WHERE e."window" = w."window" AND join_status = 'complete') AS c,
                 (SELECT count(*) FROM expected e WHERE e."window" = w."window" AND join_status = 'no_gkg') AS n,
                 (SELECT count(*) FROM expected e WHERE e."window" = w."window" AND join_status = 'expired') AS x
               FROM w)
    SELECT count(*) FROM s FULL JOIN a USING ("window")
    WHERE a."window" IS NULL OR s."window" IS NULL OR a.shards_reported <> a.shards
       OR a.ev <> s.ev OR a.mt <> s.mt OR a.gk <> s.gk OR a.c <> s.c OR a.n <> s.n OR a.x <> s.x`);

  const status = async (st) => one(`SELECT count(*) FROM got WHERE join_status = '${st}'`);
  const res = {
    detailed_rows: await one('SELECT count(*) FROM got'),
    expected_rows: await one('SELECT count(*) FROM expected'),
    missing: await one('SELECT count(*) FROM (SELECT * FROM expected EXCEPT ALL SELECT * FROM got)'),
    extra: await one('SELECT count(*) FROM (SELECT * FROM got EXCEPT ALL SELECT * FROM expected)'),
    by_status: { complete: await status('complete'), no_gkg: await status('no_gkg'), expired: await status('expired') },
    events_rows: await one('SELECT count(*) FROM events_got'),
    events_expected: await one('SELECT count(*) FROM events_expected'),
    events_missing: await one('SELECT count(*) FROM (SELECT * FROM events_expected EXCEPT ALL SELECT * FROM events_got)'),
    events_extra: await one('SELECT count(*) FROM (SELECT * FROM events_got EXCEPT ALL SELECT * FROM events_expected)'),
    audit_windows: await one(`SELECT count(DISTINCT "window") FROM audit WHERE status = 'SILVER_COMPLETE' AND "window" <= ${BigInt(through)}`),
    audit_mismatch: auditMismatch,
  };
  process.stdout.write(JSON.stringify(res) + '\n');
  conn.closeSync();
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`silver_compare.mjs: ${err.message}\n`);
  process.exit(1);
});

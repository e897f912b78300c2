// delta_compare.mjs: DuckDB reads a Delta table on its own (no delta
// extension: it replays the log in SQL and reads the live Parquet files) and
// compares its rows with the raw GDELT files they came from.
//
//   node delta_compare.mjs <table-dir> <gdelt-table> <tsv-file>...
//
// Prints one JSON line:
//   {"version","live_files","delta_rows","source_rows","missing","extra","partition_errors"}
// missing = source rows not in the table, extra = table rows not in the
// source, both as multisets (EXCEPT ALL), so a duplicate counts as extra.
// partition_errors counts rows whose window_date partition (when the table
// has one) differs from the date of their window column.
import { connect, readCsvCall, tableColumns } from './read_csv.mjs';
import { pathToFileURL } from 'node:url';

const sqlString = (s) => `'${String(s).replaceAll("'", "''")}'`;

// The live files at the newest version: every add not removed later. The
// JSON commits are never deleted by our writer, so replaying them all is
// complete without reading checkpoints.
export async function deltaLiveFiles(conn, dir) {
  const log = `${dir}/_delta_log/*.json`;
  await conn.run(`CREATE OR REPLACE TEMP TABLE dlog AS
    SELECT CAST(regexp_extract(filename, '(\\d{20})\\.json$', 1) AS BIGINT) AS version, json
    FROM read_ndjson_objects(${sqlString(log)}, filename = true)`);
  const reader = await conn.runAndReadAll(`
    WITH adds AS (SELECT version, json->>'$.add.path' AS path FROM dlog WHERE (json->'$.add') IS NOT NULL),
         removes AS (SELECT version, json->>'$.remove.path' AS path FROM dlog WHERE (json->'$.remove') IS NOT NULL),
         last_add AS (SELECT path, max(version) AS v FROM adds GROUP BY path),
         last_remove AS (SELECT path, max(version) AS v FROM removes GROUP BY path)
    SELECT a.path, (SELECT max(version) FROM dlog) AS table_version
    FROM last_add a LEFT JOIN last_remove r USING (path)
    WHERE r.v IS NULL OR r.v < a.v
    ORDER BY a.path`);
  const rows = reader.getRows();
  const v = (await conn.runAndReadAll('SELECT max(version) FROM dlog')).getRows()[0][0];
  const version = v === null ? -1 : Number(v);
  return { version, files: rows.map((r) => `${dir}/${decodeURIComponent(r[0])}`) };
}

async function main(argv) {
  if (argv.length < 3) throw new Error('usage: node delta_compare.mjs <table-dir> <gdelt-table> <tsv-file>...');
  const [dir, table, ...tsv] = argv;
  const conn = await connect();
  const { version, files } = await deltaLiveFiles(conn, dir);
  const cols = tableColumns(table);
  const names = cols.map((c) => `"${c.name}"`).join(', ');
  const list = `[${files.map(sqlString).join(', ')}]`;
  const csv = readCsvCall('__FILES__', cols).replace("'__FILES__'", `[${tsv.map(sqlString).join(', ')}]`);
  await conn.run(`CREATE TEMP TABLE s AS SELECT * FROM ${csv}`);
  // A table with no live file yet (created, nothing committed) is empty, not an error.
  await conn.run(files.length
    ? `CREATE TEMP TABLE d AS SELECT ${names} FROM read_parquet(${list}, hive_partitioning = false)`
    : 'CREATE TEMP TABLE d AS SELECT * FROM s LIMIT 0');
  const one = async (sql) => Number((await conn.runAndReadAll(sql)).getRows()[0][0]);
  const out = {
    version,
    live_files: files.length,
    delta_rows: await one('SELECT count(*) FROM d'),
    source_rows: await one('SELECT count(*) FROM s'),
    missing: await one('SELECT count(*) FROM (SELECT * FROM s EXCEPT ALL SELECT * FROM d)'),
    extra: await one('SELECT count(*) FROM (SELECT * FROM d EXCEPT ALL SELECT * FROM s)'),
    partition_errors: 0,
  };
  // Partition check: the folder's window_date against the row's own window.
  const windowCol = { export: 'date_added', events: 'date_added', mentions: 'mention_time_date', gkg: 'date' }[table];
  if (files.length && files.some((f) => f.includes('window_date='))) {
    out.partition_errors = await one(`SELECT count(*) FROM read_parquet(${list}, hive_partitioning = true)
      WHERE strftime(CAST(window_date AS DATE), '%Y%m%d') <> substr(CAST(${windowCol} AS VARCHAR), 1, 8)`);
  }
  process.stdout.write(JSON.stringify(out) + '\n');
  conn.closeSync();
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`delta_compare.mjs: ${err.message}\n`);
    process.exit(1);
  });
}

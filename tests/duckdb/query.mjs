// query.mjs: run SQL in DuckDB and print the result, for tests that need an
// independent reader of what our code wrote (Parquet files, Delta logs).
//
//   node query.mjs 'SELECT ...'      (or the SQL on standard input with no argument)
//
// Statements separated by ';' run in order; the rows of the LAST statement are
// printed as one JSON object per line (BIGINT exact, NULL as null, DECIMAL and
// dates as strings, nested values as JSON). Extensions are never downloaded:
// read_parquet and read_json/read_ndjson_objects are built in.
import { connect } from './read_csv.mjs';

function toJSON(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return { $big: v.toString() };
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map(toJSON);
  if (v.items && Array.isArray(v.items)) return v.items.map(toJSON); // LIST
  if (v.entries && typeof v.entries === 'object') { // STRUCT
    const o = {};
    for (const [k, x] of Object.entries(v.entries)) o[k] = toJSON(x);
    return o;
  }
  if (typeof v.toString === 'function') return v.toString();
  return String(v);
}

// BIGINTs are printed as bare integers (exact), not as JSON doubles.
function stringify(row) {
  return JSON.stringify(row, (_k, v) => v).replace(/\{"\$big":"(-?\d+)"\}/g, '$1');
}

async function main() {
  let sql = process.argv[2];
  if (!sql) {
    sql = '';
    for await (const chunk of process.stdin) sql += chunk;
  }
  const statements = sql.split(/;\s*(?:\n|$)/).map((s) => s.trim()).filter(Boolean);
  const conn = await connect();
  for (let i = 0; i < statements.length - 1; i++) await conn.run(statements[i]);
  const reader = await conn.runAndReadAll(statements[statements.length - 1]);
  const names = reader.columnNames();
  let out = '';
  for (const row of reader.getRows()) {
    const o = {};
    names.forEach((n, i) => { o[n] = toJSON(row[i]); });
    out += stringify(o) + '\n';
  }
  process.stdout.write(out);
  conn.closeSync();
}

main().catch((err) => {
  process.stderr.write(`query.mjs: ${err.message}\n`);
  process.exit(1);
});

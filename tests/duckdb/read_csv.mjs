// read_csv.mjs: DuckDB as an independent reader of one raw GDELT 2.0 file.
//
//   node read_csv.mjs <file> <table> [columns-json]
//   node read_csv.mjs --columns <table>
//
// <table> is export (or events), mentions or gkg. The file is read with
// DuckDB's read_csv (tab-delimited, no header, no quoting, explicit column
// names and types) and printed as one JSON object per row: keys are our
// snake_case column names, NULLs are null, BIGINTs are exact integers, DOUBLEs
// are JSON numbers, everything else strings. columns-json, when given,
// replaces the built-in column list: [{"name": "...", "type": "BIGINT"}, ...].
// --columns prints the built-in list, so a test can compare it with the Go
// schema. The GKG nested fields are read as plain VARCHAR.
//
// The column lists below were written from GDELT's BigQuery schemas (the
// gdelt-bq.gdeltv2 tables), not generated from the Go code they check.

import { DuckDBInstance } from '@duckdb/node-api';
import { pathToFileURL } from 'node:url';

const B = 'BIGINT';
const D = 'DOUBLE';
const V = 'VARCHAR';

const actor = (n) => [
  [`actor${n}_code`, V], [`actor${n}_name`, V], [`actor${n}_country_code`, V],
  [`actor${n}_known_group_code`, V], [`actor${n}_ethnic_code`, V], [`actor${n}_religion1_code`, V],
  [`actor${n}_religion2_code`, V], [`actor${n}_type1_code`, V], [`actor${n}_type2_code`, V],
  [`actor${n}_type3_code`, V],
];

const geo = (p) => [
  [`${p}_type`, B], [`${p}_full_name`, V], [`${p}_country_code`, V], [`${p}_adm1_code`, V],
  [`${p}_adm2_code`, V], [`${p}_lat`, D], [`${p}_long`, D], [`${p}_feature_id`, V],
];

const tables = {
  export: [
    ['global_event_id', B], ['sql_date', B], ['month_year', B], ['year', B], ['fraction_date', D],
    ...actor(1), ...actor(2),
    ['is_root_event', B], ['event_code', V], ['event_base_code', V], ['event_root_code', V],
    ['quad_class', B], ['goldstein_scale', D], ['num_mentions', B], ['num_sources', B],
    ['num_articles', B], ['avg_tone', D],
    ...geo('actor1_geo'), ...geo('actor2_geo'), ...geo('action_geo'),
    ['date_added', B], ['source_url', V],
  ],
  mentions: [
    ['global_event_id', B], ['event_time_date', B], ['mention_time_date', B], ['mention_type', B],
    ['mention_source_name', V], ['mention_identifier', V], ['sentence_id', B],
    ['actor1_char_offset', B], ['actor2_char_offset', B], ['action_char_offset', B],
    ['in_raw_text', B], ['confidence', B], ['mention_doc_len', B], ['mention_doc_tone', D],
    ['mention_doc_translation_info', V], ['extras', V],
  ],
  gkg: [
    ['gkg_record_id', V], ['date', B], ['source_collection_identifier', B], ['source_common_name', V],
    ['document_identifier', V], ['counts', V], ['v2_counts', V], ['themes', V], ['v2_themes', V],
    ['locations', V], ['v2_locations', V], ['persons', V], ['v2_persons', V], ['organizations', V],
    ['v2_organizations', V], ['v2_tone', V], ['dates', V], ['gcam', V], ['sharing_image', V],
    ['related_images', V], ['social_image_embeds', V], ['social_video_embeds', V], ['quotations', V],
    ['all_names', V], ['amounts', V], ['translation_info', V], ['extras', V],
  ],
};
tables.events = tables.export;

/** The built-in columns of a table as [{name, type}], or throws. */
export function tableColumns(table) {
  const cols = tables[table];
  if (!cols) {
    throw new Error(`unknown table ${JSON.stringify(table)} (want export, events, mentions or gkg)`);
  }
  return cols.map(([name, type]) => ({ name, type }));
}

const sqlString = (s) => `'${String(s).replaceAll("'", "''")}'`;

/**
 * The read_csv(...) call for a raw GDELT file: tab-separated, no header, no
 * quote or escape character (a '"' is ordinary), empty field = NULL, lines up
 * to 64 MiB (GKG lines over 1 MB occur), no sniffing.
 */
export function readCsvCall(file, columns) {
  const cols = columns.map((c) => `${sqlString(c.name)}: ${sqlString(c.type)}`).join(', ');
  return `read_csv(${sqlString(file)}, delim = '\t', header = false, quote = '', escape = '', ` +
    `auto_detect = false, nullstr = '', new_line = '\\n', max_line_size = 67108864, ` +
    `buffer_size = 134217728, columns = {${cols}})`;
}

/** A connection with extension auto-install and auto-load off (no network here). */
export async function connect(options = {}) {
  const instance = await DuckDBInstance.create(':memory:', options);
  const conn = await instance.connect();
  await conn.run('SET autoinstall_known_extensions = false');
  await conn.run('SET autoload_known_extensions = false');
  return conn;
}

/** One value as JSON text: BIGINT exact, NULL null, DOUBLE in its shortest round-trip form. */
export function jsonValue(v) {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') return v.toString(); // exact, unlike Number()
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`non-finite DOUBLE ${v}`);
    return JSON.stringify(v); // shortest round-trip form
  }
  return JSON.stringify(String(v));
}

/** Writes to stdout, waiting for it to drain when its buffer is full. */
export function write(chunk) {
  return new Promise((resolve, reject) => {
    if (process.stdout.write(chunk, (err) => (err ? reject(err) : undefined))) resolve();
    else process.stdout.once('drain', resolve);
  });
}

async function main(argv) {
  if (argv[0] === '--columns') {
    process.stdout.write(JSON.stringify(tableColumns(argv[1])) + '\n');
    return;
  }
  if (argv.length < 2) {
    throw new Error('usage: node read_csv.mjs <file> <table> [columns-json] | --columns <table>');
  }
  const [file, table, json] = argv;
  const columns = json ? JSON.parse(json) : tableColumns(table);
  const keys = columns.map((c) => JSON.stringify(c.name));
  const conn = await connect();
  const result = await conn.stream(`SELECT * FROM ${readCsvCall(file, columns)}`);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    let out = '';
    for (const row of chunk.getRows()) {
      out += '{';
      for (let i = 0; i < row.length; i++) {
        out += (i ? ',' : '') + keys[i] + ':' + jsonValue(row[i]);
      }
      out += '}\n';
    }
    await write(out);
  }
  conn.closeSync();
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`read_csv.mjs: ${err.message}\n`);
    process.exit(1);
  });
}

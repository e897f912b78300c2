// join_oracle.mjs: the silver three-way join of GDELT 2.0 in plain SQL, the
// oracle for plugins/join.
//
//   node join_oracle.mjs <dir> <retention-windows> [gkg-slack-windows]
//
// <dir> holds raw GDELT files named like the feed's, unzipped:
// <window>.export.CSV, <window>.mentions.CSV, <window>.gkg.csv. Each table is
// read with read_csv (read_csv.mjs: tab-separated, no header, no quoting,
// explicit columns), its files in name (= window) order, a table's rowid being
// the order its rows were received. The expected silver rows are printed as
// one JSON object per line (BIGINT exact, DOUBLE as the shortest round-trip
// number, NULL as null), ordered by the mention's window, then its event
// (GLOBALEVENTID), then the mention's position in its file: the order
// plugins/join emits them in.
//
// The semantics, with R = retention-windows and S = gkg-slack-windows (1):
//
//   win(id) = the 15-minute window index of a YYYYMMDDHHMMSS id:
//             epoch(strptime(id, '%Y%m%d%H%M%S')) // 900
//
//   WITH m AS (SELECT rowid AS m_row, win(mention_time_date) AS m_win, * FROM mentions),
//        -- first sightings: an id exported again later (a re-export) keeps its first row
//        e AS (SELECT win(date_added) AS e_win, * FROM events
//              QUALIFY row_number() OVER (PARTITION BY global_event_id
//                        ORDER BY win(date_added), rowid) = 1),
//        g AS (SELECT rowid AS g_row, win("date") AS g_win, * FROM gkg),
//        -- the event a mention joins: first seen in the mention's window or at most R windows before
//        ev AS (SELECT m.m_row, e.* FROM m JOIN e
//                 ON e.global_event_id = m.global_event_id
//                AND e.e_win <= m.m_win AND m.m_win - e.e_win <= R),
//        -- the GKG record a web mention joins: same URL, window within ±S,
//        -- nearest window first, then the earlier window, then the first received
//        gk AS (SELECT m.m_row, g.* FROM m JOIN g
//                 ON m.mention_type = 1 AND g.document_identifier = m.mention_identifier
//                AND abs(g.g_win - m.m_win) <= S
//               QUALIFY row_number() OVER (PARTITION BY m.m_row
//                         ORDER BY abs(g.g_win - m.m_win), g.g_win, g.g_row) = 1)
//   SELECT m.<16 mention columns>,
//          ev.<61 export columns> AS event_<name>,
//          gk.<27 GKG columns> AS gkg_<name>,
//          CASE WHEN ev.m_row IS NULL THEN 'expired'
//               WHEN gk.m_row IS NULL THEN 'no_gkg'
//               ELSE 'complete' END AS join_status,
//          <window id of m.m_win> AS "window"
//   FROM m LEFT JOIN ev USING (m_row) LEFT JOIN gk USING (m_row)
//   ORDER BY m.m_win, m.global_event_id, m.m_row
//
// A GLOBALEVENTID exported again (a re-export) keeps first-sighting
// semantics: the earliest window's row (the first received within it) is the
// event, later rows are ignored; the events table holds first sightings only
// (firstSightingsSQL). plugins/join remembers ids for 30 days; the test data
// spans less.

import { connect, jsonValue, readCsvCall, tableColumns, write } from './read_csv.mjs';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const ident = (s) => `"${s.replaceAll('"', '""')}"`;

/** The events that count: each GLOBALEVENTID's first row (earliest window, then first received). */
export function firstSightingsSQL(table) {
  return `SELECT * FROM ${table}
    QUALIFY row_number() OVER (PARTITION BY global_event_id ORDER BY win(date_added), rowid) = 1`;
}

/** The SQL of the join (after the three tables are loaded), as run. */
export function joinSQL(retention, slack) {
  const mCols = tableColumns('mentions').map((c) => `m.${ident(c.name)}`);
  const eCols = tableColumns('export').map((c) => `ev.${ident(c.name)} AS ${ident('event_' + c.name)}`);
  const gCols = tableColumns('gkg').map((c) => `gk.${ident(c.name)} AS ${ident('gkg_' + c.name)}`);
  return `
WITH m AS (SELECT rowid AS m_row, win(mention_time_date) AS m_win, * FROM mentions),
     e AS (SELECT win(date_added) AS e_win, * FROM (${firstSightingsSQL('events')})),
     g AS (SELECT rowid AS g_row, win("date") AS g_win, * FROM gkg),
     ev AS (SELECT m.m_row, e.* FROM m JOIN e
              ON e.global_event_id = m.global_event_id
             AND e.e_win <= m.m_win AND m.m_win - e.e_win <= ${retention}),
     gk AS (SELECT m.m_row, g.* FROM m JOIN g
              ON m.mention_type = 1 AND g.document_identifier = m.mention_identifier
             AND abs(g.g_win - m.m_win) <= ${slack}
            QUALIFY row_number() OVER (PARTITION BY m.m_row
                      ORDER BY abs(g.g_win - m.m_win), g.g_win, g.g_row) = 1)
SELECT ${[...mCols, ...eCols, ...gCols].join(',\n       ')},
       CASE WHEN ev.m_row IS NULL THEN 'expired'
            WHEN gk.m_row IS NULL THEN 'no_gkg'
            ELSE 'complete' END AS join_status,
       CAST(strftime(make_timestamp(m.m_win * 900 * 1000000), '%Y%m%d%H%M%S') AS BIGINT) AS "window"
FROM m LEFT JOIN ev ON ev.m_row = m.m_row LEFT JOIN gk ON gk.m_row = m.m_row
ORDER BY m.m_win, m.global_event_id, m.m_row`;
}

async function main(argv) {
  if (argv.length < 2) {
    throw new Error('usage: node join_oracle.mjs <dir> <retention-windows> [gkg-slack-windows]');
  }
  const [dir, r, s = '1'] = argv;
  const retention = Number.parseInt(r, 10);
  const slack = Number.parseInt(s, 10);
  if (!(retention >= 0) || !(slack >= 0)) throw new Error(`bad retention ${r} or slack ${s}`);
  const conn = await connect();
  // One thread: rowid is then certainly the files' order (name order), line by line.
  await conn.run('SET threads = 1');
  await conn.run(`CREATE MACRO win(id) AS
    CAST(epoch(strptime(CAST(id AS VARCHAR), '%Y%m%d%H%M%S')) AS BIGINT) // 900`);
  const load = async (table, pattern) => {
    const file = path.join(dir, pattern);
    await conn.run(`CREATE TABLE ${table} AS SELECT * FROM ${readCsvCall(file, tableColumns(table === 'events' ? 'export' : table))}`);
  };
  await load('events', '*.export.CSV');
  await load('mentions', '*.mentions.CSV');
  await load('gkg', '*.gkg.csv');

  const result = await conn.stream(joinSQL(retention, slack));
  const keys = result.columnNames().map((n) => JSON.stringify(n));
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    let out = '';
    for (const row of chunk.getRows()) {
      out += '{';
      for (let i = 0; i < row.length; i++) out += (i ? ',' : '') + keys[i] + ':' + jsonValue(row[i]);
      out += '}\n';
    }
    await write(out);
  }
  conn.closeSync();
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`join_oracle.mjs: ${err.message}\n`);
    process.exit(1);
  });
}

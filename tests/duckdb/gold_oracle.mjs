// gold_oracle.mjs: checks the gold tables written by gdelt_gold against the
// same tables computed in SQL by DuckDB from the silver Delta tables
// (silver/events, silver/events_detailed) and the code books
// (resources/lookups). DuckDB reads the Delta tables on its own: it replays
// the logs in SQL (delta_compare.mjs) and reads the live Parquet files.
//
//   node gold_oracle.mjs <lake-dir> <lookups-dir>
//
// Prints one JSON line per gold table:
//   {"table","gold_rows","oracle_rows","missing","extra","duplicates","mismatched","sample"}
// missing = oracle keys not in gold, extra = gold keys not in the oracle,
// duplicates = gold rows beyond one per key, mismatched = rows of the same key
// with a different value (doubles equal within 1e-9 relative, or 1e-12
// absolute near zero; everything else exactly), sample = one mismatch.
// Then one line {"events","days","late_events","late_days"}: how many events
// have an event date before their first sighting's date (late updates).
//
// The SQL below states the gold semantics (README, "Gold"):
//   - events: silver/events (first sightings), event_date = SQLDATE;
//     country_fips = ActionGeo_CountryCode or ''; missing counts are 0;
//   - z of Goldstein and AvgTone against all events of the event_date
//     (population stddev; z = 0 when the stddev is 0, or below 1e-12 of
//     max(1, |mean|): floating noise of equal values); anomalous: |z| > 2 + 1e-9
//     of either (the exact 2 of a lone outlier among four equal values is a tie
//     floating point may put on either side);
//   - description: "<actor1 name, else its CAMEO country> <CAMEO event label>
//     <actor2 ...>" (absent parts left out) + " in <ActionGeo_FullName>";
//   - themes, persons, organizations: the top 5 items (count desc, then
//     byte order) of the ';'-separated V1 GKG lists of the event's complete
//     mentions in its first-sighting window;
//   - top events per (date, country): lowest Goldstein (nulls last), most
//     articles, largest max(|zg|, |zt|) rounded to 9 decimals (an absent z is
//     0); ties: lowest id.
import { connect } from './read_csv.mjs';
import { deltaLiveFiles } from './delta_compare.mjs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const sqlString = (s) => `'${String(s).replaceAll("'", "''")}'`;

export async function readDelta(conn, name, dir, hive) {
  const { files } = await deltaLiveFiles(conn, dir);
  if (!files.length) {
    return false;
  }
  const list = `[${files.map(sqlString).join(', ')}]`;
  await conn.run(`CREATE TABLE ${name} AS SELECT * FROM read_parquet(${list}, hive_partitioning = ${hive}, union_by_name = true)`);
  return true;
}

// The gold tables: key columns and value columns with their kind
// (f = double compared with tolerance, x = compared exactly).
const TABLES = {
  country_daily: {
    key: ['event_date', 'country_fips'],
    cols: { country_iso3: 'x', country_name: 'x', events: 'x', num_mentions: 'x', num_sources: 'x', num_articles: 'x',
      avg_goldstein: 'f', avg_tone: 'f', quad1_events: 'x', quad2_events: 'x', quad3_events: 'x', quad4_events: 'x',
      anomalous_events: 'x', risk_score: 'f' },
  },
  country_daily_category: {
    key: ['event_date', 'country_fips', 'cameo_root'],
    cols: { country_iso3: 'x', root_label: 'x', quad_class: 'x', events: 'x', avg_goldstein: 'f', avg_tone: 'f' },
  },
  actor_network_daily: {
    key: ['event_date', 'actor1_country', 'actor2_country'],
    cols: { actor1_country_name: 'x', actor2_country_name: 'x', events: 'x', articles: 'x', avg_tone: 'f', avg_goldstein: 'f' },
  },
  top_events_daily: {
    key: ['event_date', 'country_fips', 'kind'],
    cols: { country_iso3: 'x', global_event_id: 'x', description: 'x', goldstein: 'f', avg_tone: 'f', num_articles: 'x',
      source_url: 'x', themes: 'x', persons: 'x', organizations: 'x' },
  },
  source_daily: {
    key: ['mention_date', 'source_name'],
    cols: { mentions: 'x', avg_doc_tone: 'f', rows_complete: 'x', rows_no_gkg: 'x', rows_expired: 'x', join_rate: 'f' },
  },
};

export function oracleSQL() {
  return [
    // Code books.
    `CREATE TABLE fips AS SELECT k AS fips, json_extract_string(j, '$.' || k || '.iso3') AS iso3,
       json_extract_string(j, '$.' || k || '.name') AS name
     FROM (SELECT j, unnest(json_keys(j)) AS k FROM (SELECT json AS j FROM read_json_objects(getvariable('lookups') || '/fips_countries.json')))`,
    `CREATE TABLE roots AS SELECT code, label, CAST(quad_class AS BIGINT) AS quad_class
     FROM read_csv(getvariable('lookups') || '/cameo_event_roots.tsv', delim = '\t', header = true, all_varchar = true, quote = '')`,
    `CREATE TABLE countries AS SELECT code, label
     FROM read_csv(getvariable('lookups') || '/cameo_countries.tsv', delim = '\t', header = true, all_varchar = true, quote = '')`,
    `CREATE TABLE evcodes AS SELECT CAMEOEVENTCODE AS code, EVENTDESCRIPTION AS label
     FROM read_csv(getvariable('lookups') || '/CAMEO.eventcodes.txt', delim = '\t', header = true, all_varchar = true, quote = '')`,
    // Events at their first sighting.
    `CREATE TABLE ev AS SELECT
       e.global_event_id AS id,
       CAST(strptime(CAST(coalesce(e.sql_date, e.date_added // 1000000) AS VARCHAR), '%Y%m%d') AS DATE) AS event_date,
       e.date_added AS first_window,
       coalesce(e.action_geo_country_code, '') AS country_fips,
       e.actor1_country_code AS a1, e.actor2_country_code AS a2,
       coalesce(e.event_root_code, '') AS root, e.quad_class,
       e.goldstein_scale AS goldstein, e.avg_tone,
       coalesce(e.num_mentions, 0) AS num_mentions, coalesce(e.num_sources, 0) AS num_sources,
       coalesce(e.num_articles, 0) AS num_articles, e.source_url,
       concat_ws(' ', coalesce(e.actor1_name, c1.label), ec.label, coalesce(e.actor2_name, c2.label))
         || coalesce(' in ' || e.action_geo_full_name, '') AS description
     FROM sev e
     LEFT JOIN countries c1 ON c1.code = e.actor1_country_code
     LEFT JOIN countries c2 ON c2.code = e.actor2_country_code
     LEFT JOIN evcodes ec ON ec.code = e.event_code`,
    // Top GKG items of each event's complete mentions in its first-sighting window.
    `CREATE TABLE items AS
     WITH m AS (SELECT d.global_event_id AS id, d.gkg_themes, d.gkg_persons, d.gkg_organizations
                FROM sed d JOIN ev ON ev.id = d.global_event_id AND ev.first_window = d."window"
                WHERE d.join_status = 'complete'),
          u AS (SELECT id, 'themes' AS kind, unnest(string_split(gkg_themes, ';')) AS item FROM m
                UNION ALL SELECT id, 'persons', unnest(string_split(gkg_persons, ';')) FROM m
                UNION ALL SELECT id, 'organizations', unnest(string_split(gkg_organizations, ';')) FROM m),
          c AS (SELECT id, kind, item, count(*) AS n FROM u WHERE item <> '' GROUP BY ALL)
     SELECT id, kind, list(item ORDER BY n DESC, item)[1:5] AS top FROM c GROUP BY ALL`,
    `CREATE TABLE evz AS SELECT ev.*,
       CASE WHEN goldstein IS NULL THEN NULL
            WHEN stddev_pop(goldstein) OVER d <= 1e-12 * greatest(1, abs(avg(goldstein) OVER d)) THEN 0
            ELSE (goldstein - avg(goldstein) OVER d) / stddev_pop(goldstein) OVER d END AS zg,
       CASE WHEN avg_tone IS NULL THEN NULL
            WHEN stddev_pop(avg_tone) OVER d <= 1e-12 * greatest(1, abs(avg(avg_tone) OVER d)) THEN 0
            ELSE (avg_tone - avg(avg_tone) OVER d) / stddev_pop(avg_tone) OVER d END AS zt
     FROM ev WINDOW d AS (PARTITION BY event_date)`,
    // The gold tables.
    `CREATE TABLE o_country_daily AS SELECT event_date, country_fips, f.iso3 AS country_iso3, f.name AS country_name,
       count(*) AS events, sum(num_mentions) AS num_mentions, sum(num_sources) AS num_sources, sum(num_articles) AS num_articles,
       avg(goldstein) AS avg_goldstein, avg(avg_tone) AS avg_tone,
       count(*) FILTER (WHERE quad_class = 1) AS quad1_events, count(*) FILTER (WHERE quad_class = 2) AS quad2_events,
       count(*) FILTER (WHERE quad_class = 3) AS quad3_events, count(*) FILTER (WHERE quad_class = 4) AS quad4_events,
       count(*) FILTER (WHERE abs(zg) > 2 + 1e-9 OR abs(zt) > 2 + 1e-9) AS anomalous_events,
       -0.5 * avg(goldstein) - 0.3 * avg(avg_tone) + 0.2 * ln(count(*)) AS risk_score
     FROM evz LEFT JOIN fips f ON f.fips = evz.country_fips AND evz.country_fips <> ''
     GROUP BY event_date, country_fips, f.iso3, f.name`,
    `CREATE TABLE o_country_daily_category AS SELECT event_date, country_fips, f.iso3 AS country_iso3, root AS cameo_root,
       r.label AS root_label, r.quad_class, count(*) AS events, avg(goldstein) AS avg_goldstein, avg(avg_tone) AS avg_tone
     FROM evz LEFT JOIN fips f ON f.fips = evz.country_fips AND evz.country_fips <> '' LEFT JOIN roots r ON r.code = evz.root
     GROUP BY ALL`,
    `CREATE TABLE o_actor_network_daily AS SELECT event_date, a1 AS actor1_country, c1.label AS actor1_country_name,
       a2 AS actor2_country, c2.label AS actor2_country_name, count(*) AS events, sum(num_articles) AS articles,
       avg(avg_tone) AS avg_tone, avg(goldstein) AS avg_goldstein
     FROM evz LEFT JOIN countries c1 ON c1.code = a1 LEFT JOIN countries c2 ON c2.code = a2
     WHERE a1 IS NOT NULL AND a2 IS NOT NULL AND a1 <> a2
     GROUP BY ALL`,
    `CREATE TABLE o_top_events_daily AS
     WITH ranked AS (SELECT evz.*,
         row_number() OVER (PARTITION BY event_date, country_fips ORDER BY goldstein ASC NULLS LAST, id) AS r_severe,
         row_number() OVER (PARTITION BY event_date, country_fips ORDER BY num_articles DESC, id) AS r_covered,
         row_number() OVER (PARTITION BY event_date, country_fips
           ORDER BY round(greatest(coalesce(abs(zg), 0), coalesce(abs(zt), 0)), 9) DESC, id) AS r_unusual
       FROM evz),
     picks AS (SELECT *, 'most_severe' AS kind FROM ranked WHERE r_severe = 1
       UNION ALL SELECT *, 'most_covered' FROM ranked WHERE r_covered = 1
       UNION ALL SELECT *, 'most_unusual' FROM ranked WHERE r_unusual = 1)
     SELECT picks.event_date, picks.country_fips, f.iso3 AS country_iso3, picks.kind, picks.id AS global_event_id, picks.description, picks.goldstein,
       picks.avg_tone, picks.num_articles, picks.source_url,
       coalesce(t.top, []) AS themes, coalesce(p.top, []) AS persons, coalesce(o.top, []) AS organizations
     FROM picks
     LEFT JOIN fips f ON f.fips = picks.country_fips AND picks.country_fips <> ''
     LEFT JOIN items t ON t.id = picks.id AND t.kind = 'themes'
     LEFT JOIN items p ON p.id = picks.id AND p.kind = 'persons'
     LEFT JOIN items o ON o.id = picks.id AND o.kind = 'organizations'`,
    `CREATE TABLE o_source_daily AS SELECT
       CAST(strptime(CAST("window" // 1000000 AS VARCHAR), '%Y%m%d') AS DATE) AS mention_date,
       coalesce(mention_source_name, '') AS source_name, count(*) AS mentions, avg(mention_doc_tone) AS avg_doc_tone,
       count(*) FILTER (WHERE join_status = 'complete') AS rows_complete,
       count(*) FILTER (WHERE join_status = 'no_gkg') AS rows_no_gkg,
       count(*) FILTER (WHERE join_status = 'expired') AS rows_expired,
       count(*) FILTER (WHERE join_status = 'complete') / count(*) AS join_rate
     FROM sed GROUP BY ALL`,
  ];
}

function differs(c, kind) {
  const a = `g."${c}"`;
  const b = `o."${c}"`;
  if (kind === 'f') {
    return `NOT coalesce((${a} IS NULL AND ${b} IS NULL) OR abs(${a} - ${b}) <= 1e-9 * greatest(abs(${a}), abs(${b}))
      OR abs(${a} - ${b}) < 1e-12, false)`;
  }
  return `${a} IS DISTINCT FROM ${b}`;
}

async function main(argv) {
  if (argv.length < 2) throw new Error('usage: node gold_oracle.mjs <lake-dir> <lookups-dir>');
  const [lake, lookups] = argv;
  const conn = await connect();
  await conn.run(`SET VARIABLE lookups = ${sqlString(lookups)}`);
  if (!(await readDelta(conn, 'sev', path.join(lake, 'silver/events'), false))) throw new Error('silver/events is empty');
  if (!(await readDelta(conn, 'sed', path.join(lake, 'silver/events_detailed'), false))) throw new Error('silver/events_detailed is empty');
  for (const sql of oracleSQL()) await conn.run(sql);
  const all = async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJson();

  for (const [table, spec] of Object.entries(TABLES)) {
    const cols = [...spec.key, ...Object.keys(spec.cols)];
    const have = await readDelta(conn, `raw_${table}`, path.join(lake, 'gold', table), true);
    const castKey = (c) => (c.endsWith('_date') ? `CAST("${c}" AS DATE) AS "${c}"` : `"${c}"`);
    await conn.run(have
      ? `CREATE TABLE g_${table} AS SELECT ${cols.map(castKey).join(', ')} FROM raw_${table}`
      : `CREATE TABLE g_${table} AS SELECT ${cols.map((c) => `"${c}"`).join(', ')} FROM o_${table} LIMIT 0`);
    const on = spec.key.map((k) => `g."${k}" = o."${k}"`).join(' AND ');
    const keyList = spec.key.map((k) => `"${k}"`).join(', ');
    const diff = Object.entries(spec.cols).map(([c, k]) => differs(c, k)).join(' OR ');
    const [r] = await all(`SELECT
      (SELECT count(*) FROM g_${table}) AS gold_rows,
      (SELECT count(*) FROM o_${table}) AS oracle_rows,
      (SELECT count(*) FROM o_${table} o WHERE NOT EXISTS (SELECT 1 FROM g_${table} g WHERE ${on})) AS missing,
      (SELECT count(*) FROM g_${table} g WHERE NOT EXISTS (SELECT 1 FROM o_${table} o WHERE ${on})) AS extra,
      (SELECT count(*) - count(DISTINCT (${keyList})) FROM g_${table}) AS duplicates,
      (SELECT count(*) FROM g_${table} g JOIN o_${table} o ON ${on} WHERE ${diff}) AS mismatched`);
    const sample = await all(`SELECT to_json(g) AS gold, to_json(o) AS oracle FROM g_${table} g JOIN o_${table} o ON ${on} WHERE ${diff} LIMIT 1`);
    const out = { table };
    for (const [k, v] of Object.entries(r)) out[k] = Number(v);
    out.sample = sample.length ? sample[0] : null;
    process.stdout.write(JSON.stringify(out) + '\n');
  }
  const [late] = await all(`SELECT count(*) AS events, count(DISTINCT event_date) AS days,
    count(*) FILTER (WHERE event_date < CAST(strptime(CAST(first_window // 1000000 AS VARCHAR), '%Y%m%d') AS DATE)) AS late_events,
    count(DISTINCT event_date) FILTER (WHERE event_date < CAST(strptime(CAST(first_window // 1000000 AS VARCHAR), '%Y%m%d') AS DATE)) AS late_days
    FROM ev`);
  const summary = {};
  for (const [k, v] of Object.entries(late)) summary[k] = Number(v);
  process.stdout.write(JSON.stringify(summary) + '\n');
  conn.closeSync();
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`gold_oracle.mjs: ${err.message}\n`);
    process.exit(1);
  });
}

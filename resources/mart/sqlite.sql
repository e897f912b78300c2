-- The gdeltflow mart on SQLite (the embedded default's out/mart.sqlite): the tables, keys, checks, indexes and views
-- of resources/mart/postgres.sql in SQLite's words. SQLite has no schemas: the file is the mart, and the tables carry
-- no `mart.` prefix. Dates are TEXT 'YYYY-MM-DD' (they sort and compare as dates); the string lists of
-- top_events_daily are JSON text. STRICT tables refuse a value of the wrong type, as PostgreSQL does. Every statement
-- is idempotent (IF NOT EXISTS).

CREATE TABLE IF NOT EXISTS progress (
  stage       TEXT PRIMARY KEY,
  last_window INTEGER NOT NULL CHECK (last_window >= 19000101000000),
  updated_at  TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS country_daily (
  event_date       TEXT NOT NULL CHECK (event_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
  country_fips     TEXT NOT NULL CHECK (country_fips = '' OR length(country_fips) = 2),
  country_iso3     TEXT CHECK (length(country_iso3) = 3),
  country_name     TEXT,
  events           INTEGER NOT NULL CHECK (events > 0),
  num_mentions     INTEGER CHECK (num_mentions >= 0),
  num_sources      INTEGER CHECK (num_sources >= 0),
  num_articles     INTEGER CHECK (num_articles >= 0),
  avg_goldstein    REAL CHECK (avg_goldstein BETWEEN -10 AND 10),
  avg_tone         REAL CHECK (avg_tone BETWEEN -100 AND 100),
  quad1_events     INTEGER CHECK (quad1_events >= 0),
  quad2_events     INTEGER CHECK (quad2_events >= 0),
  quad3_events     INTEGER CHECK (quad3_events >= 0),
  quad4_events     INTEGER CHECK (quad4_events >= 0),
  anomalous_events INTEGER CHECK (anomalous_events BETWEEN 0 AND events),
  risk_score       REAL,
  PRIMARY KEY (event_date, country_fips)
) STRICT;
CREATE INDEX IF NOT EXISTS country_daily_by_country ON country_daily (country_fips, event_date);
CREATE INDEX IF NOT EXISTS country_daily_by_iso3 ON country_daily (country_iso3, event_date);

CREATE TABLE IF NOT EXISTS country_daily_category (
  event_date    TEXT NOT NULL CHECK (event_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
  country_fips  TEXT NOT NULL CHECK (country_fips = '' OR length(country_fips) = 2),
  country_iso3  TEXT CHECK (length(country_iso3) = 3),
  cameo_root    TEXT NOT NULL CHECK (cameo_root GLOB '[0-2][0-9]' AND cameo_root BETWEEN '01' AND '20'),
  root_label    TEXT,
  quad_class    INTEGER CHECK (quad_class BETWEEN 1 AND 4),
  events        INTEGER NOT NULL CHECK (events > 0),
  avg_goldstein REAL CHECK (avg_goldstein BETWEEN -10 AND 10),
  avg_tone      REAL CHECK (avg_tone BETWEEN -100 AND 100),
  PRIMARY KEY (event_date, country_fips, cameo_root)
) STRICT;
CREATE INDEX IF NOT EXISTS country_daily_category_by_country ON country_daily_category (country_fips, event_date);

CREATE TABLE IF NOT EXISTS actor_network_daily (
  event_date          TEXT NOT NULL CHECK (event_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
  actor1_country      TEXT NOT NULL CHECK (length(actor1_country) = 3),
  actor1_country_name TEXT,
  actor2_country      TEXT NOT NULL CHECK (length(actor2_country) = 3),
  actor2_country_name TEXT,
  events              INTEGER NOT NULL CHECK (events > 0),
  articles            INTEGER CHECK (articles >= 0),
  avg_tone            REAL CHECK (avg_tone BETWEEN -100 AND 100),
  avg_goldstein       REAL CHECK (avg_goldstein BETWEEN -10 AND 10),
  PRIMARY KEY (event_date, actor1_country, actor2_country),
  CHECK (actor1_country <> actor2_country)
) STRICT;
CREATE INDEX IF NOT EXISTS actor_network_daily_by_day_events ON actor_network_daily (event_date, events DESC);
CREATE INDEX IF NOT EXISTS actor_network_daily_by_actor1 ON actor_network_daily (actor1_country, event_date);
CREATE INDEX IF NOT EXISTS actor_network_daily_by_actor2 ON actor_network_daily (actor2_country, event_date);

CREATE TABLE IF NOT EXISTS top_events_daily (
  event_date      TEXT NOT NULL CHECK (event_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
  country_fips    TEXT NOT NULL CHECK (country_fips = '' OR length(country_fips) = 2),
  country_iso3    TEXT CHECK (length(country_iso3) = 3),
  kind            TEXT NOT NULL CHECK (kind IN ('most_severe', 'most_covered', 'most_unusual')),
  global_event_id INTEGER NOT NULL CHECK (global_event_id > 0),
  description     TEXT,
  goldstein       REAL CHECK (goldstein BETWEEN -10 AND 10),
  avg_tone        REAL CHECK (avg_tone BETWEEN -100 AND 100),
  num_articles    INTEGER CHECK (num_articles >= 0),
  source_url      TEXT,
  themes          TEXT CHECK (json_type(themes) = 'array'),
  persons         TEXT CHECK (json_type(persons) = 'array'),
  organizations   TEXT CHECK (json_type(organizations) = 'array'),
  PRIMARY KEY (event_date, country_fips, kind)
) STRICT;
CREATE INDEX IF NOT EXISTS top_events_daily_by_country ON top_events_daily (country_fips, event_date);

CREATE TABLE IF NOT EXISTS source_daily (
  mention_date  TEXT NOT NULL CHECK (mention_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
  source_name   TEXT NOT NULL,
  mentions      INTEGER NOT NULL CHECK (mentions > 0),
  avg_doc_tone  REAL CHECK (avg_doc_tone BETWEEN -100 AND 100),
  rows_complete INTEGER CHECK (rows_complete >= 0),
  rows_no_gkg   INTEGER CHECK (rows_no_gkg >= 0),
  rows_expired  INTEGER CHECK (rows_expired >= 0),
  join_rate     REAL CHECK (join_rate BETWEEN 0 AND 1),
  PRIMARY KEY (mention_date, source_name)
) STRICT;
CREATE INDEX IF NOT EXISTS source_daily_by_source ON source_daily (source_name, mention_date);

CREATE VIEW IF NOT EXISTS weekday_share AS
WITH period AS (
  SELECT max(event_date) AS last_day FROM country_daily
), days AS (
  SELECT c.country_fips, c.country_iso3, CAST(strftime('%w', c.event_date) AS INTEGER) AS weekday, c.events
  FROM country_daily c, period p
  WHERE c.event_date > date(p.last_day, '-28 days')
), by_weekday AS (
  SELECT country_fips, max(country_iso3) AS country_iso3, weekday, sum(events) AS events
  FROM days GROUP BY country_fips, weekday
)
SELECT country_fips, country_iso3, weekday, events,
       CAST(events AS REAL) / sum(events) OVER (PARTITION BY country_fips) AS share
FROM by_weekday;

CREATE VIEW IF NOT EXISTS country_rolling_7d AS
SELECT c.event_date, c.country_fips, c.country_iso3,
       sum(w.events) AS events_7d,
       sum(w.num_articles) AS articles_7d,
       sum(w.avg_goldstein * w.events) / sum(w.events) AS avg_goldstein_7d,
       sum(w.avg_tone * w.events) / sum(w.events) AS avg_tone_7d,
       sum(w.anomalous_events) AS anomalous_events_7d,
       count(*) AS days_with_events
FROM country_daily c
JOIN country_daily w
  ON w.country_fips = c.country_fips AND w.event_date BETWEEN date(c.event_date, '-6 days') AND c.event_date
GROUP BY c.event_date, c.country_fips, c.country_iso3;

CREATE VIEW IF NOT EXISTS top_actor_pairs AS
SELECT * FROM (
  SELECT a.*, row_number() OVER (PARTITION BY event_date
                                 ORDER BY events DESC, coalesce(articles, 0) DESC, actor1_country, actor2_country) AS rank
  FROM actor_network_daily a
) ranked
WHERE rank <= 100;

-- The gdeltflow mart on PostgreSQL: one table per gold Delta table, keyed by its grain, and the views derivable from
-- them. Applied by the gdelt_mart output at its first connection; every statement is idempotent (IF NOT EXISTS,
-- OR REPLACE), so a restart or a second stage applying it changes nothing. Keep resources/mart/sqlite.sql in step.

CREATE SCHEMA IF NOT EXISTS mart;

-- Which gold window the mart holds: the gold stage's batch for window W and this row's update commit in one
-- transaction, and a batch whose window is at or below last_window changes nothing.
CREATE TABLE IF NOT EXISTS mart.progress (
  stage       text PRIMARY KEY,
  last_window bigint NOT NULL CHECK (last_window >= 19000101000000),
  updated_at  timestamptz NOT NULL
);

-- date × action-geo country (FIPS; '' when the event has none)
CREATE TABLE IF NOT EXISTS mart.country_daily (
  event_date       date NOT NULL,
  country_fips     text NOT NULL CHECK (country_fips = '' OR length(country_fips) = 2),
  country_iso3     text CHECK (length(country_iso3) = 3),
  country_name     text,
  events           bigint NOT NULL CHECK (events > 0),
  num_mentions     bigint CHECK (num_mentions >= 0),
  num_sources      bigint CHECK (num_sources >= 0),
  num_articles     bigint CHECK (num_articles >= 0),
  avg_goldstein    double precision CHECK (avg_goldstein BETWEEN -10 AND 10),
  avg_tone         double precision CHECK (avg_tone BETWEEN -100 AND 100),
  quad1_events     bigint CHECK (quad1_events >= 0),
  quad2_events     bigint CHECK (quad2_events >= 0),
  quad3_events     bigint CHECK (quad3_events >= 0),
  quad4_events     bigint CHECK (quad4_events >= 0),
  anomalous_events bigint CHECK (anomalous_events BETWEEN 0 AND events),
  risk_score       double precision,
  PRIMARY KEY (event_date, country_fips)
);
CREATE INDEX IF NOT EXISTS country_daily_by_country ON mart.country_daily (country_fips, event_date);
CREATE INDEX IF NOT EXISTS country_daily_by_iso3 ON mart.country_daily (country_iso3, event_date);

-- date × country × CAMEO root
CREATE TABLE IF NOT EXISTS mart.country_daily_category (
  event_date    date NOT NULL,
  country_fips  text NOT NULL CHECK (country_fips = '' OR length(country_fips) = 2),
  country_iso3  text CHECK (length(country_iso3) = 3),
  cameo_root    text NOT NULL CHECK (cameo_root ~ '^(0[1-9]|1[0-9]|20)$'),
  root_label    text,
  quad_class    bigint CHECK (quad_class BETWEEN 1 AND 4),
  events        bigint NOT NULL CHECK (events > 0),
  avg_goldstein double precision CHECK (avg_goldstein BETWEEN -10 AND 10),
  avg_tone      double precision CHECK (avg_tone BETWEEN -100 AND 100),
  PRIMARY KEY (event_date, country_fips, cameo_root)
);
CREATE INDEX IF NOT EXISTS country_daily_category_by_country ON mart.country_daily_category (country_fips, event_date);

-- date × actor-1 country × actor-2 country (CAMEO codes, both present and different): all pairs; top_actor_pairs
-- keeps the first 100 of a day
CREATE TABLE IF NOT EXISTS mart.actor_network_daily (
  event_date          date NOT NULL,
  actor1_country      text NOT NULL CHECK (length(actor1_country) = 3),
  actor1_country_name text,
  actor2_country      text NOT NULL CHECK (length(actor2_country) = 3),
  actor2_country_name text,
  events              bigint NOT NULL CHECK (events > 0),
  articles            bigint CHECK (articles >= 0),
  avg_tone            double precision CHECK (avg_tone BETWEEN -100 AND 100),
  avg_goldstein       double precision CHECK (avg_goldstein BETWEEN -10 AND 10),
  PRIMARY KEY (event_date, actor1_country, actor2_country),
  CHECK (actor1_country <> actor2_country)
);
CREATE INDEX IF NOT EXISTS actor_network_daily_by_day_events ON mart.actor_network_daily (event_date, events DESC);
CREATE INDEX IF NOT EXISTS actor_network_daily_by_actor1 ON mart.actor_network_daily (actor1_country, event_date);
CREATE INDEX IF NOT EXISTS actor_network_daily_by_actor2 ON mart.actor_network_daily (actor2_country, event_date);

-- date × country × kind: the day's most severe, most covered and most unusual event, told in one line
CREATE TABLE IF NOT EXISTS mart.top_events_daily (
  event_date      date NOT NULL,
  country_fips    text NOT NULL CHECK (country_fips = '' OR length(country_fips) = 2),
  country_iso3    text CHECK (length(country_iso3) = 3),
  kind            text NOT NULL CHECK (kind IN ('most_severe', 'most_covered', 'most_unusual')),
  global_event_id bigint NOT NULL CHECK (global_event_id > 0),
  description     text,
  goldstein       double precision CHECK (goldstein BETWEEN -10 AND 10),
  avg_tone        double precision CHECK (avg_tone BETWEEN -100 AND 100),
  num_articles    bigint CHECK (num_articles >= 0),
  source_url      text,
  themes          jsonb CHECK (jsonb_typeof(themes) = 'array'),
  persons         jsonb CHECK (jsonb_typeof(persons) = 'array'),
  organizations   jsonb CHECK (jsonb_typeof(organizations) = 'array'),
  PRIMARY KEY (event_date, country_fips, kind)
);
CREATE INDEX IF NOT EXISTS top_events_daily_by_country ON mart.top_events_daily (country_fips, event_date);

-- mention date × source: which outlets feed the join, and how well
CREATE TABLE IF NOT EXISTS mart.source_daily (
  mention_date  date NOT NULL,
  source_name   text NOT NULL,
  mentions      bigint NOT NULL CHECK (mentions > 0),
  avg_doc_tone  double precision CHECK (avg_doc_tone BETWEEN -100 AND 100),
  rows_complete bigint CHECK (rows_complete >= 0),
  rows_no_gkg   bigint CHECK (rows_no_gkg >= 0),
  rows_expired  bigint CHECK (rows_expired >= 0),
  join_rate     double precision CHECK (join_rate BETWEEN 0 AND 1),
  PRIMARY KEY (mention_date, source_name)
);
CREATE INDEX IF NOT EXISTS source_daily_by_source ON mart.source_daily (source_name, mention_date);

-- Per country and weekday (0 = Sunday … 6 = Saturday): events over the last 28 days of data (the 28 days ending on
-- the newest event_date in the mart) and their share of the country's events in that period.
CREATE OR REPLACE VIEW mart.weekday_share AS
WITH period AS (
  SELECT max(event_date) AS last_day FROM mart.country_daily
), days AS (
  SELECT c.country_fips, c.country_iso3, CAST(extract(dow FROM c.event_date) AS bigint) AS weekday, c.events
  FROM mart.country_daily c, period p
  WHERE c.event_date > p.last_day - 28
), by_weekday AS (
  SELECT country_fips, max(country_iso3) AS country_iso3, weekday, sum(events) AS events
  FROM days GROUP BY country_fips, weekday
)
SELECT country_fips, country_iso3, weekday, events,
       CAST(events AS double precision) / sum(events) OVER (PARTITION BY country_fips) AS share
FROM by_weekday;

-- Per country and day: the 7 calendar days ending that day (days without events count as none).
CREATE OR REPLACE VIEW mart.country_rolling_7d AS
SELECT c.event_date, c.country_fips, c.country_iso3,
       sum(w.events) AS events_7d,
       sum(w.num_articles) AS articles_7d,
       sum(w.avg_goldstein * w.events) / sum(w.events) AS avg_goldstein_7d,
       sum(w.avg_tone * w.events) / sum(w.events) AS avg_tone_7d,
       sum(w.anomalous_events) AS anomalous_events_7d,
       count(*) AS days_with_events
FROM mart.country_daily c
JOIN mart.country_daily w
  ON w.country_fips = c.country_fips AND w.event_date BETWEEN c.event_date - 6 AND c.event_date
GROUP BY c.event_date, c.country_fips, c.country_iso3;

-- The 100 actor pairs with the most events per day (ties: more articles, then the codes in order).
CREATE OR REPLACE VIEW mart.top_actor_pairs AS
SELECT * FROM (
  SELECT a.*, row_number() OVER (PARTITION BY event_date
                                 ORDER BY events DESC, coalesce(articles, 0) DESC, actor1_country, actor2_country) AS rank
  FROM mart.actor_network_daily a
) ranked
WHERE rank <= 100;

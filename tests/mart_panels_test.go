package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/deploy"
)

// martFixtureDDL is the mart's schema as the gold ↔ mart contract states it, used
// while resources/mart/postgres.sql (the mart stage's DDL) is not in the tree;
// when it is, the test applies that file instead.
const martFixtureDDL = `
CREATE SCHEMA IF NOT EXISTS mart;
CREATE TABLE mart.progress (stage text PRIMARY KEY, last_window bigint NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE mart.country_daily (event_date date NOT NULL, country_fips text NOT NULL, country_iso3 text, country_name text,
  events bigint NOT NULL, num_mentions bigint, num_sources bigint, num_articles bigint, avg_goldstein double precision,
  avg_tone double precision, quad1_events bigint, quad2_events bigint, quad3_events bigint, quad4_events bigint,
  anomalous_events bigint, risk_score double precision, PRIMARY KEY (event_date, country_fips));
CREATE TABLE mart.country_daily_category (event_date date NOT NULL, country_fips text NOT NULL, country_iso3 text,
  cameo_root text NOT NULL, root_label text, quad_class bigint, events bigint NOT NULL, avg_goldstein double precision,
  avg_tone double precision, PRIMARY KEY (event_date, country_fips, cameo_root));
CREATE TABLE mart.actor_network_daily (event_date date NOT NULL, actor1_country text NOT NULL, actor1_country_name text,
  actor2_country text NOT NULL, actor2_country_name text, events bigint NOT NULL, articles bigint, avg_tone double precision,
  avg_goldstein double precision, PRIMARY KEY (event_date, actor1_country, actor2_country));
CREATE TABLE mart.top_events_daily (event_date date NOT NULL, country_fips text NOT NULL, country_iso3 text, kind text NOT NULL,
  global_event_id bigint NOT NULL, description text, goldstein double precision, avg_tone double precision, num_articles bigint,
  source_url text, themes jsonb, persons jsonb, organizations jsonb, PRIMARY KEY (event_date, country_fips, kind));
CREATE TABLE mart.source_daily (mention_date date NOT NULL, source_name text NOT NULL, mentions bigint NOT NULL,
  avg_doc_tone double precision, rows_complete bigint, rows_no_gkg bigint, rows_expired bigint, join_rate double precision,
  PRIMARY KEY (mention_date, source_name));
`

// martRows are a few rows of two days in every mart table.
const martRows = `
INSERT INTO mart.progress VALUES ('mart', 20230703234500, now());
INSERT INTO mart.country_daily VALUES
 ('2023-07-02','US','USA','United States',120,900,300,850,1.5,-2.1,60,30,20,10,4,-0.2),
 ('2023-07-03','US','USA','United States',140,950,320,900,1.1,-2.5,70,30,25,15,6,0.1),
 ('2023-07-03','UP','UKR','Ukraine',90,700,200,650,-4.2,-6.0,10,10,30,40,3,3.9),
 ('2023-07-03','',NULL,NULL,5,9,3,8,0.0,-1.0,2,1,1,1,0,0.3);
INSERT INTO mart.country_daily_category VALUES ('2023-07-03','US','USA','04','Consult',1,40,1.0,-1.0);
INSERT INTO mart.actor_network_daily VALUES
 ('2023-07-03','USA','United States','RUS','Russia',12,80,-3.5,-2.0),
 ('2023-07-03','UKR','Ukraine','RUS','Russia',30,200,-7.1,-6.5);
INSERT INTO mart.top_events_daily VALUES
 ('2023-07-03','UP','UKR','most_severe',1104567890,'Russia fight Ukraine in Kyiv, Ukraine',-10,-8.2,40,'https://example.com/a','["ARMEDCONFLICT"]','["volodymyr zelensky"]','["united nations"]'),
 ('2023-07-03','US','USA','most_covered',1104567891,'United States consult Canada in Washington',1,-1.2,60,'https://example.com/b','[]','[]','[]');
INSERT INTO mart.source_daily VALUES ('2023-07-03','example.com',150,-2.5,115,1,34,0.767), ('2023-07-02','news.example',40,-1.0,30,2,8,0.75);
`

// TestMartPanelsOnPostgres runs every SQL query of the dashboards (the mart
// datasource) on a real PostgreSQL holding the mart schema and a few rows, with
// psql as the client: each must run and return rows.
func TestMartPanelsOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	for _, b := range []string{"initdb", "pg_ctl", "psql"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s not installed", b)
		}
	}
	root := repoRoot(t)
	dir, err := os.MkdirTemp("", "gdeltflow-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	asPostgres := func(name string, args ...string) *exec.Cmd {
		if os.Geteuid() == 0 { // initdb and postgres refuse root
			return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
		}
		return exec.Command(name, args...)
	}
	if os.Geteuid() == 0 {
		if out, err := exec.Command("chown", "postgres", dir).CombinedOutput(); err != nil {
			t.Fatalf("chown: %v %s", err, out)
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := asPostgres("initdb", "-D", data, "-U", "postgres", "--auth=trust").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	port := freePorts(t, 1)[0]
	start := asPostgres("pg_ctl", "-D", data, "-l", filepath.Join(dir, "pg.log"), "-o",
		fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s", port, dir), "-w", "-t", "60", "start")
	if out, err := start.CombinedOutput(); err != nil {
		b, _ := os.ReadFile(filepath.Join(dir, "pg.log"))
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, b)
	}
	t.Cleanup(func() { asPostgres("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop").Run() })

	psql := func(sql string) (string, error) {
		cmd := exec.Command("psql", "-h", "127.0.0.1", "-p", fmt.Sprint(port), "-U", "postgres", "-d", "postgres",
			"-X", "-v", "ON_ERROR_STOP=1", "--csv", "-f", "-")
		cmd.Stdin = strings.NewReader(sql)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	ddl := martFixtureDDL
	if b, err := os.ReadFile(filepath.Join(root, "resources", "mart", "postgres.sql")); err == nil {
		ddl = string(b)
		t.Log("schema: resources/mart/postgres.sql")
	} else {
		t.Log("schema: the contract's fixture (resources/mart/postgres.sql not in the tree)")
	}
	if out, err := psql(ddl + martRows); err != nil {
		t.Fatalf("mart schema and rows: %v\n%s", err, out)
	}
	dashboards, err := deploy.LoadDashboards(root)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, q := range deploy.Queries(dashboards) {
		if q.Datasource.Type != deploy.TypePostgres {
			continue
		}
		n++
		begin := time.Now()
		out, err := psql(q.SQL + ";")
		if err != nil {
			t.Errorf("%s / %s: %v\n%s\n%s", q.Dashboard, q.Panel, err, q.SQL, out)
			continue
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) < 2 {
			t.Errorf("%s / %s: no rows\n%s", q.Dashboard, q.Panel, q.SQL)
		}
		t.Logf("%s / %s: %d rows (%v)", q.Dashboard, q.Panel, len(lines)-1, time.Since(begin).Round(time.Millisecond))
	}
	if n < 6 {
		t.Errorf("%d SQL queries, want the 6 of Global events and the mart progress", n)
	}
}

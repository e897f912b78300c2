package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/gold"
	"github.com/gdeltflow/gdeltflow/tests/miniotest"
)

// martPG reads the mart in PostgreSQL with psql.
type martPG struct {
	addr, user, password, db string
}

func (m martPG) dsn() string {
	return fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable&connect_timeout=5", m.user, m.password, m.addr, m.db)
}

// rows returns a query's rows as JSON objects (psql, json_agg).
func (m martPG) rows(t *testing.T, query string) []map[string]any {
	t.Helper()
	host, port, _ := strings.Cut(m.addr, ":")
	cmd := exec.Command("psql", "-X", "-h", host, "-p", port, "-U", m.user, "-d", m.db, "-At", "-v", "ON_ERROR_STOP=1",
		"-c", "SELECT coalesce(json_agg(q), '[]') FROM ("+query+") q")
	cmd.Env = append(os.Environ(), "PGPASSWORD="+m.password)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("psql %q: %v\n%s", query, err, stderr.String())
	}
	var rows []map[string]any
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&rows); err != nil {
		t.Fatalf("psql %q: %v\n%.2000s", query, err, out)
	}
	return rows
}

// lastWindow is the mart's progress, -1 when it has none (or no table yet).
func (m martPG) lastWindow(t *testing.T) int64 {
	host, port, _ := strings.Cut(m.addr, ":")
	cmd := exec.Command("psql", "-X", "-h", host, "-p", port, "-U", m.user, "-d", m.db, "-At",
		"-c", "SELECT last_window FROM mart.progress WHERE stage = 'mart'")
	cmd.Env = append(os.Environ(), "PGPASSWORD="+m.password)
	out, err := cmd.Output()
	if err != nil {
		return -1
	}
	w, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		return -1
	}
	return w
}

// TestGoldPipeline: silver written to MinIO by the offline default
// (GDELT_LAKE=s3://lake), then pipelines/gold.yaml follows audit/windows and
// writes gold to another prefix of the lake and the mart to a real
// PostgreSQL. Its gold equals the offline default's gold (which the SQL
// oracle checks in TestGoldLocalOracle), row for row; the mart read with
// psql equals its gold; audit/windows holds one GOLD_COMPLETE and one
// MART_COMPLETE row of gold.yaml per window, in sync.
func TestGoldPipeline(t *testing.T) {
	requireDuckDB(t)
	if _, err := exec.LookPath("psql"); err != nil {
		t.Skip("no psql client")
	}
	srv := miniotest.Start(t)
	srv.Bucket(t, "lake")
	addr := startPostgres(t, "gold", "gdelt", "gold-secret")
	pg := martPG{addr: addr, user: "gold", password: "gold-secret", db: "gdelt"}
	s3env := []string{"S3_ENDPOINT=http://" + srv.Endpoint, "S3_ACCESS_KEY_ID=" + srv.AccessKey, "S3_SECRET_ACCESS_KEY=" + srv.SecretKey}

	mirror, windows := genMirror(t, 12, 31)
	runLocal(t, append([]string{"GDELT_BASE_URL=" + mirror, "GDELT_OUT=" + t.TempDir(), "GDELT_LAKE=s3://lake"}, s3env...)...)
	last, err := strconv.ParseInt(windows[len(windows)-1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}

	// MART_DSN through its _FILE form, as a Swarm secret gives it.
	secret := filepath.Join(t.TempDir(), "mart_dsn")
	if err := os.WriteFile(secret, []byte(pg.dsn()), 0o600); err != nil {
		t.Fatal(err)
	}
	started := time.Now().UTC()
	env := append([]string{"SILVER_LAKE=s3://lake", "GOLD_LAKE=s3://lake/g2", "GOLD_TXN_PREFIX=g2-", "MART_DSN_FILE=" + secret,
		"GOLD_STATE=" + t.TempDir(), "GOLD_POLL=200ms"}, s3env...)
	p := startPipeline(t, "pipelines/gold.yaml", env...)
	deadline := time.Now().Add(3 * time.Minute)
	for pg.lastWindow(t) < last {
		select {
		case <-p.exited:
			t.Fatalf("gold.yaml ended: %v\n%s", p.err, tail(p.log.String(), 4000))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the mart did not reach window %d in 3 minutes (at %d)\n%s", last, pg.lastWindow(t), tail(p.log.String(), 4000))
		}
		time.Sleep(300 * time.Millisecond)
	}
	// The last window's MART_COMPLETE row follows the mart's commit.
	time.Sleep(3 * time.Second)
	p.Stop()

	lake := downloadPrefixes(t, srv, "lake", "gold/", "g2/gold/", "audit/")
	sameGold(t, lake, filepath.Join(lake, "g2"))
	compareMartWith(t, filepath.Join(lake, "g2"), func(table string) []map[string]any {
		return pg.rows(t, "SELECT * FROM mart."+table)
	})
	rows := auditRows(t, lake, fmt.Sprintf(`WHERE status IN ('GOLD_COMPLETE', 'MART_COMPLETE') AND recorded_at >= TIMESTAMP '%s'`,
		started.Format("2006-01-02 15:04:05.000000")))
	byWindow := map[string]map[string]int{}
	for _, r := range rows {
		w := fmt.Sprint(r["window"])
		if byWindow[w] == nil {
			byWindow[w] = map[string]int{}
		}
		byWindow[w][fmt.Sprint(r["status"])]++
		if r["status"] == "MART_COMPLETE" && (r["mart_in_sync"] != true || r["mart_checked"] != true) {
			t.Errorf("window %s: MART_COMPLETE row %v", w, r)
		}
	}
	for _, w := range windows {
		if c := byWindow[w]; c["GOLD_COMPLETE"] != 1 || c["MART_COMPLETE"] != 1 {
			t.Errorf("window %s: gold.yaml's audit rows %v, want one GOLD_COMPLETE and one MART_COMPLETE", w, c)
		}
	}
	t.Logf("gold.yaml: %d windows, %d audit rows of its own", len(windows), len(rows))
	for _, table := range gold.GoldTables() {
		if n := len(pg.rows(t, "SELECT 1 FROM mart."+table)); n == 0 {
			t.Errorf("mart.%s is empty", table)
		}
	}
}

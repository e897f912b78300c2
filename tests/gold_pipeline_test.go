package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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

// killablePG is a PostgreSQL server on 127.0.0.1 that a test can kill (-9)
// and start again on the same port and data.
type killablePG struct {
	t         *testing.T
	bin, data string
	port      int
}

func startKillablePG(t *testing.T) *killablePG {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("PostgreSQL (pg_ctl) not installed")
		}
		t.Skip("no PostgreSQL server binaries")
	}
	dir, err := os.MkdirTemp("", "gdeltflow-pgk-")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(dir, 0o755)
	if os.Getuid() == 0 {
		if out, err := exec.Command("chown", "postgres", dir).CombinedOutput(); err != nil {
			t.Fatalf("chown: %v %s", err, out)
		}
	}
	pg := &killablePG{t: t, bin: filepath.Dir(bins[len(bins)-1]), data: filepath.Join(dir, "data"), port: freePorts(t, 1)[0]}
	t.Cleanup(func() {
		_ = pg.as(filepath.Join(pg.bin, "pg_ctl"), "-D", pg.data, "-m", "immediate", "-w", "stop").Run()
		os.RemoveAll(dir)
	})
	if out, err := pg.as(filepath.Join(pg.bin, "initdb"), "-D", pg.data, "-U", "postgres", "--auth=trust", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	pg.start()
	return pg
}

func (pg *killablePG) as(args ...string) *exec.Cmd {
	if os.Getuid() == 0 { // initdb and postgres refuse root
		return exec.Command("runuser", append([]string{"-u", "postgres", "--"}, args...)...)
	}
	return exec.Command(args[0], args[1:]...)
}

func (pg *killablePG) start() {
	pg.t.Helper()
	var out []byte
	var err error
	for i := 0; i < 20; i++ { // after a kill -9 the old backends take a moment to exit
		out, err = pg.as(filepath.Join(pg.bin, "pg_ctl"), "-D", pg.data, "-l", filepath.Join(pg.data, "log"), "-w", "-t", "30",
			"-o", fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off", pg.port, pg.data), "start").CombinedOutput()
		if err == nil {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	pg.t.Fatalf("pg_ctl start: %v\n%s", err, out)
}

func (pg *killablePG) kill() {
	pg.t.Helper()
	b, err := os.ReadFile(filepath.Join(pg.data, "postmaster.pid"))
	if err != nil {
		pg.t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		pg.t.Fatal(err)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	for i := 0; i < 100 && syscall.Kill(pid, 0) == nil; i++ {
		time.Sleep(50 * time.Millisecond)
	}
}

func (pg *killablePG) mart() martPG {
	return martPG{addr: fmt.Sprintf("127.0.0.1:%d", pg.port), user: "postgres", db: "postgres"}
}

// TestGoldPipelineFaults: gold.yaml killed (-9) at 20 random points, and
// PostgreSQL killed and restarted twice while it runs; a last run then
// catches up. Its gold equals the offline default's (an uninterrupted run,
// which the SQL oracle checks elsewhere) row for row, the mart (psql) equals
// its gold, and audit/windows has exactly one GOLD_COMPLETE and one
// MART_COMPLETE row of it per window.
func TestGoldPipelineFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("20 kill -9 trials")
	}
	requireDuckDB(t)
	if _, err := exec.LookPath("psql"); err != nil {
		t.Skip("no psql client")
	}
	srv := miniotest.Start(t)
	srv.Bucket(t, "lake")
	pgs := startKillablePG(t)
	pg := pgs.mart()
	s3env := []string{"S3_ENDPOINT=http://" + srv.Endpoint, "S3_ACCESS_KEY_ID=" + srv.AccessKey, "S3_SECRET_ACCESS_KEY=" + srv.SecretKey}
	mirror, windows := genMirror(t, 30, 37)
	runLocal(t, append([]string{"GDELT_BASE_URL=" + mirror, "GDELT_OUT=" + t.TempDir(), "GDELT_LAKE=s3://lake"}, s3env...)...)
	last, _ := strconv.ParseInt(windows[len(windows)-1], 10, 64)

	started := time.Now().UTC()
	env := append([]string{"SILVER_LAKE=s3://lake", "GOLD_LAKE=s3://lake/g3", "GOLD_TXN_PREFIX=g3-", "MART_DSN=" + pg.dsn(),
		"GOLD_STATE=" + t.TempDir(), "GOLD_POLL=200ms"}, s3env...)
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 11))
	t.Logf("kill times drawn with seed %d", seed)
	pgKills := 0
	for kill := 0; kill < 20; kill++ {
		p := startPipeline(t, "pipelines/gold.yaml", env...)
		wait := time.Duration(300+rng.IntN(2200)) * time.Millisecond
		if kill == 6 || kill == 13 {
			// PostgreSQL killed mid-run, restarted while gold.yaml retries.
			time.Sleep(wait / 2)
			pgs.kill()
			pgKills++
			time.Sleep(time.Second)
			pgs.start()
			time.Sleep(wait / 2)
		} else {
			time.Sleep(wait)
		}
		p.Kill()
	}
	// The kills must have come mid-stream, not all before the first window.
	mid := pg.lastWindow(t)
	t.Logf("after the killed runs the mart holds window %d of %s..%s", mid, windows[0], windows[len(windows)-1])
	if mid < 0 {
		t.Errorf("no window reached the mart in the 20 killed runs: the kills tested nothing")
	}
	p := startPipeline(t, "pipelines/gold.yaml", env...)
	deadline := time.Now().Add(4 * time.Minute)
	for pg.lastWindow(t) < last {
		if time.Now().After(deadline) {
			t.Fatalf("the mart did not reach window %d (at %d)\n%s", last, pg.lastWindow(t), tail(p.log.String(), 4000))
		}
		time.Sleep(300 * time.Millisecond)
	}
	time.Sleep(3 * time.Second)
	p.Stop()
	t.Logf("20 kill -9 of gold.yaml, %d of PostgreSQL, over %d windows", pgKills, len(windows))

	lake := downloadPrefixes(t, srv, "lake", "gold/", "g3/gold/", "audit/")
	sameGold(t, lake, filepath.Join(lake, "g3"))
	compareMartWith(t, filepath.Join(lake, "g3"), func(table string) []map[string]any {
		return pg.rows(t, "SELECT * FROM mart."+table)
	})
	rows := auditRows(t, lake, fmt.Sprintf(`WHERE status IN ('GOLD_COMPLETE', 'MART_COMPLETE') AND recorded_at >= TIMESTAMP '%s'`,
		started.Format("2006-01-02 15:04:05.000000")))
	count := map[string]int{}
	for _, r := range rows {
		count[fmt.Sprint(r["window"])+" "+fmt.Sprint(r["status"])]++
	}
	for _, w := range windows {
		if count[w+" GOLD_COMPLETE"] != 1 || count[w+" MART_COMPLETE"] != 1 {
			t.Errorf("window %s: %d GOLD_COMPLETE, %d MART_COMPLETE rows of gold.yaml, want one each",
				w, count[w+" GOLD_COMPLETE"], count[w+" MART_COMPLETE"])
		}
	}
}

package mart_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// postgres is a PostgreSQL server the test started: initdb in a temporary
// directory, pg_ctl on 127.0.0.1 at a free port, stopped by the test.
type postgres struct {
	t    *testing.T
	bin  string
	dir  string // the data directory (also the socket's)
	port int
}

func pgBin(t *testing.T) string {
	for _, d := range []string{"/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"} {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p)
	}
	t.Skip("no PostgreSQL server binaries (pg_ctl) on this machine")
	return ""
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// asPostgres runs a server command as the postgres user when the test runs
// as root (initdb and postgres refuse root).
func asPostgres(name string, args ...string) *exec.Cmd {
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	}
	return exec.Command(name, args...)
}

func startPostgres(t *testing.T) *postgres {
	t.Helper()
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	bin := pgBin(t)
	root, err := os.MkdirTemp("", "gdelt-mart-pg-")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(root, 0o755)
	dir := filepath.Join(root, "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skipf("running as root without a postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	pg := &postgres{t: t, bin: bin, dir: dir, port: freePort(t)}
	t.Cleanup(func() {
		_ = asPostgres(filepath.Join(bin, "pg_ctl"), "-D", dir, "-m", "immediate", "-w", "stop").Run()
		_ = os.RemoveAll(root)
	})
	out, err := asPostgres(filepath.Join(bin, "initdb"), "-D", dir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync").CombinedOutput()
	if err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	pg.start()
	return pg
}

func (pg *postgres) start() {
	pg.t.Helper()
	var out []byte
	var err error
	// After a kill -9 the old backends take a moment to notice and exit.
	for i := 0; i < 20; i++ {
		out, err = asPostgres(filepath.Join(pg.bin, "pg_ctl"), "-D", pg.dir, "-l", filepath.Join(pg.dir, "log"), "-w", "-t", "30",
			"-o", fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off", pg.port, pg.dir), "start").CombinedOutput()
		if err == nil {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(pg.dir, "log"))
	pg.t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
}

// kill sends SIGKILL to the postmaster: no shutdown, no checkpoint.
func (pg *postgres) kill() {
	pg.t.Helper()
	b, err := os.ReadFile(filepath.Join(pg.dir, "postmaster.pid"))
	if err != nil {
		pg.t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		pg.t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		pg.t.Fatal(err)
	}
	for i := 0; i < 100 && syscall.Kill(pid, 0) == nil; i++ {
		time.Sleep(50 * time.Millisecond)
	}
}

func (pg *postgres) dsn() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=5", pg.port)
}

// psql runs a query with the psql client: rows of cells split on '|', NULL
// as the empty string.
func (pg *postgres) psql(query string, env ...string) [][]string {
	pg.t.Helper()
	cmd := exec.Command("psql", "-X", "-h", "127.0.0.1", "-p", strconv.Itoa(pg.port), "-U", "postgres", "-d", "postgres",
		"-At", "-F", "|", "-v", "ON_ERROR_STOP=1", "-c", query)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		pg.t.Fatalf("psql %q: %v\n%s", query, err, out)
	}
	return splitRows(string(out))
}

// sqlite3 runs a query with the sqlite3 command-line client.
func sqlite3(t *testing.T, file, query string) [][]string {
	t.Helper()
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Skip("no sqlite3 client (apt-get install sqlite3)")
	}
	cmd := exec.Command("sqlite3", "-bail", "-list", "-separator", "|", file)
	cmd.Stdin = strings.NewReader(query)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3 %q: %v\n%s", query, err, out)
	}
	return splitRows(string(out))
}

func splitRows(out string) [][]string {
	var rows [][]string
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if l == "" {
			continue
		}
		rows = append(rows, strings.Split(l, "|"))
	}
	return rows
}

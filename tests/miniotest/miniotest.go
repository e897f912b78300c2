// Package miniotest starts a private MinIO server for a Go test: on
// 127.0.0.1, a free port, data in the test's temporary folder, stopped when
// the test ends. The server binary is built by `bash tests/minio.sh install`
// into .cache/bin/minio (or named by $MINIO_BIN); without it tests skip,
// except under CI=true where they fail.
package miniotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// ReadyTimeout bounds the wait for the server to answer /minio/health/ready.
const ReadyTimeout = 20 * time.Second

// Server is one running MinIO.
type Server struct {
	Endpoint  string // "127.0.0.1:port", plain HTTP
	AccessKey string
	SecretKey string
	Dir       string // data folder

	cmd     *exec.Cmd
	bin     string
	console string
	logPath string
	done    chan struct{}
	stop    sync.Once
}

// Binary finds the MinIO server: $MINIO_BIN, else .cache/bin/minio at the
// root of the repository that holds the current directory. "" when missing.
func Binary() string {
	if p := os.Getenv("MINIO_BIN"); p != "" {
		if isExecutable(p) {
			return p
		}
		return ""
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, ".cache", "bin", "minio")
			if isExecutable(p) {
				return p
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// Start runs a MinIO server for the test and stops it in t.Cleanup. Without
// a binary it skips the test (fails it when CI=true).
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary()
	if bin == "" {
		msg := "MinIO server not installed: run `bash tests/minio.sh install` (builds .cache/bin/minio, about 4 minutes) or set MINIO_BIN"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ { // a free port can be taken before MinIO binds it
		s, err := start(t, bin)
		if err == nil {
			t.Cleanup(s.Stop)
			return s
		}
		lastErr = err
	}
	t.Fatalf("starting MinIO: %v", lastErr)
	return nil
}

func start(t testing.TB, bin string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	consolePort, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{
		Endpoint:  fmt.Sprintf("127.0.0.1:%d", port),
		AccessKey: "test-" + randomHex(6),
		SecretKey: randomHex(16),
		Dir:       t.TempDir(),
		bin:       bin,
		console:   fmt.Sprintf("127.0.0.1:%d", consolePort),
	}
	s.logPath = filepath.Join(t.TempDir(), "minio.log")
	return s, s.launch()
}

// launch runs the server process and waits until it is ready.
func (s *Server) launch() error {
	s.done = make(chan struct{})
	s.stop = sync.Once{}
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(s.bin, "server", filepath.Join(s.Dir, "data"),
		"--address", s.Endpoint,
		"--console-address", s.console,
		"--quiet")
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MINIO_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env,
		"MINIO_ROOT_USER="+s.AccessKey,
		"MINIO_ROOT_PASSWORD="+s.SecretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("running %s: %w", s.bin, err)
	}
	s.cmd = cmd
	done := s.done
	go func() { _ = cmd.Wait(); close(done) }()

	deadline := time.Now().Add(ReadyTimeout)
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get("http://" + s.Endpoint + "/minio/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-done:
			return fmt.Errorf("minio exited before it was ready: %s", s.logTail())
		default:
		}
		if time.Now().After(deadline) {
			s.Stop()
			return fmt.Errorf("minio not ready after %s: %s", ReadyTimeout, s.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Restart starts a stopped server again on the same address, data and
// credentials (to test clients across an outage).
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	if err := s.launch(); err != nil {
		t.Fatalf("restarting MinIO: %v", err)
	}
}

// Stop kills the server and waits for it; later calls do nothing. Tests may
// call it early to see how clients cope with a dead store.
func (s *Server) Stop() {
	s.stop.Do(func() {
		if s.cmd == nil || s.cmd.Process == nil {
			return
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
}

// Client is a minio-go client for the server.
func (s *Server) Client(t testing.TB) *minio.Client {
	t.Helper()
	c, err := minio.New(s.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Region: "us-east-1",
	})
	if err != nil {
		t.Fatalf("minio client: %v", err)
	}
	return c
}

// Bucket creates a bucket (an existing one is fine).
func (s *Server) Bucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := s.Client(t)
	if err := c.MakeBucket(ctx, name, minio.MakeBucketOptions{Region: "us-east-1"}); err != nil {
		var er minio.ErrorResponse
		if errors.As(err, &er) && (er.Code == "BucketAlreadyOwnedByYou" || er.Code == "BucketAlreadyExists") {
			return
		}
		t.Fatalf("creating bucket %s: %v", name, err)
	}
}

func (s *Server) logTail() string {
	data, _ := os.ReadFile(s.logPath)
	if len(data) > 2000 {
		data = data[len(data)-2000:]
	}
	return strings.TrimSpace(string(data))
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

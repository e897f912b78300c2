package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestOwnListener(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("ownListener only tells on Linux and macOS")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if ours, known := ownListener(port); !ours || !known {
		t.Errorf("listening on %d: ownListener = %v, %v; want true, true", port, ours, known)
	}
	// A connection to the port is not a listener on it.
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	l.Close()
	if ours, _ := ownListener(port); ours {
		t.Errorf("after closing the listener on %d: ownListener says ours", port)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The HTTP address check: an address another process holds refuses the start
// (exit 1, one line); free addresses never do, even with many starts at once
// (the check once bound the address itself and raced the engine's server).
func TestHTTPAddressCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("ownListener only tells on Linux and macOS")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "benthos")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	conf := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(conf, []byte(`
http:
  enabled: true
  address: ${ADDR}
input:
  generate:
    interval: 1s
    mapping: 'root = "x"'
output:
  drop: {}
logger: { level: "off" }
`), 0o644); err != nil {
		t.Fatal(err)
	}
	start := func(addr string) (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(bin, "-c", conf)
		cmd.Env = append(os.Environ(), "ADDR="+addr)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, &out
	}

	var wg sync.WaitGroup
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	cmd, out := start(held.Addr().String())
	wg.Add(1)
	go func() {
		defer wg.Done()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(out.String(), "give this one its own HTTP_ADDRESS") {
				t.Errorf("address held by another process: %v, %q; want exit 1 naming HTTP_ADDRESS", err, out.String())
			}
		case <-time.After(httpBindWait + 10*time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("address held by another process: still running after %s", httpBindWait+10*time.Second)
		}
	}()

	// Eight starts of pipelines/silver.yaml at once on free ports (a config
	// whose manager takes a while to build: the old check lost the race to
	// the engine's server in 2 of 8): every one runs and serves /ping.
	silver := filepath.Join("..", "..", "pipelines", "silver.yaml")
	for i := 0; i < 8; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(bin, "-c", silver)
			cmd.Env = append(os.Environ(), "HTTP_ENABLED=true", "HTTP_ADDRESS="+addr, "KAFKA_BROKERS=127.0.0.1:1", "LOG_LEVEL=error")
			var out syncBuffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Error(err)
				return
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			defer func() { // only the start is under test
				_ = cmd.Process.Kill()
				<-exited
			}()
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				select {
				case err := <-exited:
					exited <- err
					t.Errorf("start %s exited: %v\n%s", addr, err, out.String())
					return
				default:
				}
				if resp, err := http.Get(fmt.Sprintf("http://%s/ping", addr)); err == nil {
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						return
					}
				}
				if time.Now().After(deadline) {
					t.Errorf("start %s: /ping not 200 after 20 s", addr)
					return
				}
			}
		}()
	}
	wg.Wait()
}

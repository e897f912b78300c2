package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The binary reads ${KEY} from the file KEY_FILE names, as a Swarm stage reads
// its credentials from /run/secrets; an unreadable file refuses the start.
func TestBinaryReadsSecretFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "benthos")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	conf := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(conf, []byte(`
input:
  generate:
    count: 1
    interval: ""
    mapping: 'root = "key=${GDELTFLOW_TEST_KEY:none}"'
output:
  stdout: {}
logger: { level: "off" }
`), 0o644); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(dir, "key")
	if err := os.WriteFile(secret, []byte("from-the-file\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	run := func(env ...string) (string, int) {
		cmd := exec.Command(bin, "-c", conf)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	if out, code := run("GDELTFLOW_TEST_KEY_FILE=" + secret); code != 0 || strings.TrimSpace(out) != "key=from-the-file" {
		t.Errorf("with the file: exit %d, output %q", code, out)
	}
	if out, code := run("GDELTFLOW_TEST_KEY=inline"); code != 0 || strings.TrimSpace(out) != "key=inline" {
		t.Errorf("with the variable: exit %d, output %q", code, out)
	}
	if out, code := run(); code != 0 || strings.TrimSpace(out) != "key=none" {
		t.Errorf("with neither: exit %d, output %q", code, out)
	}
	out, code := run("GDELTFLOW_TEST_KEY_FILE=" + filepath.Join(dir, "absent"))
	if code != 1 || !strings.Contains(out, "GDELTFLOW_TEST_KEY_FILE: reading the secret file") || strings.Contains(out, "key=") {
		t.Errorf("with a missing file: exit %d, output %q; want exit 1 naming the variable, no run", code, out)
	}
	out, code = run("GDELTFLOW_TEST_KEY=inline", "GDELTFLOW_TEST_KEY_FILE="+secret)
	if code != 1 || !strings.Contains(out, "both GDELTFLOW_TEST_KEY and GDELTFLOW_TEST_KEY_FILE are set") {
		t.Errorf("with both: exit %d, output %q; want exit 1", code, out)
	}
}

package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// stubDocker is a docker client that records its calls: `version` answers
// unless STUB_NO_ENGINE is set, `run` prints "Version: $STUB_PRINTS".
const stubDocker = `#!/usr/bin/env bash
echo "$*" >> "$STUB_LOG"
case $1 in
  version) [[ -z ${STUB_NO_ENGINE:-} ]] ;;
  run) echo "Version: $STUB_PRINTS" ;;
esac
`

// TestBuildScript runs deploy/build.sh against a stub docker: it builds with
// deploy/Dockerfile and the repository as context, checks the printed
// version, pushes only with -p, and refuses without an engine, on a wrong
// printed version, and a push of a -dirty version.
func TestBuildScript(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "docker"), []byte(stubDocker), 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(args []string, env ...string) (calls []string, out string, code int) {
		t.Helper()
		log := filepath.Join(t.TempDir(), "calls")
		cmd := exec.Command(bash, append([]string{"build.sh"}, args...)...)
		cmd.Env = append([]string{"PATH=" + bin + ":" + os.Getenv("PATH"), "STUB_LOG=" + log}, env...)
		b, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		logb, _ := os.ReadFile(log)
		if s := strings.TrimSpace(string(logb)); s != "" {
			calls = strings.Split(s, "\n")
		}
		return calls, string(b), code
	}
	want := []string{
		"version --format {{.Server.Version}}",
		"build -f " + root + "/deploy/Dockerfile --build-arg VERSION=1.2.3 -t reg.example/gdeltflow:1.2.3 " + root,
		"run --rm reg.example/gdeltflow:1.2.3 --version",
	}
	base := []string{"GDELTFLOW_IMAGE=reg.example/gdeltflow", "GDELTFLOW_VERSION=1.2.3"}

	calls, out, code := run(nil, append(base, "STUB_PRINTS=1.2.3")...)
	if code != 0 || strings.Join(calls, "\n") != strings.Join(want, "\n") {
		t.Errorf("build: exit %d, calls\n%s\nwant\n%s\n%s", code, strings.Join(calls, "\n"), strings.Join(want, "\n"), out)
	}
	calls, out, code = run([]string{"-p"}, append(base, "STUB_PRINTS=1.2.3")...)
	if code != 0 || strings.Join(calls, "\n") != strings.Join(append(want, "push reg.example/gdeltflow:1.2.3"), "\n") {
		t.Errorf("build -p: exit %d, calls %q\n%s", code, calls, out)
	}
	calls, out, code = run([]string{"-p"}, append(base, "STUB_PRINTS=0.1.0-dev")...)
	if code != 1 || len(calls) != 3 || !strings.Contains(out, "not 1.2.3") {
		t.Errorf("an image printing another version: exit %d, calls %q, %s; want exit 1 before the push", code, calls, out)
	}
	calls, out, code = run(nil, append(base, "STUB_NO_ENGINE=1")...)
	if code != 1 || len(calls) != 1 || !strings.Contains(out, "no Docker engine") {
		t.Errorf("without an engine: exit %d, calls %q, %s; want exit 1 naming the engine, nothing built", code, calls, out)
	}
	calls, out, code = run([]string{"-p"}, "GDELTFLOW_VERSION=1.2.3-dirty", "STUB_PRINTS=1.2.3-dirty")
	if code != 1 || len(calls) != 0 || !strings.Contains(out, "uncommitted") {
		t.Errorf("pushing a -dirty version: exit %d, calls %q, %s; want a refusal before any docker call", code, calls, out)
	}
}

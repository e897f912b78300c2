package deploy

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

type instruction struct {
	cmd, args string
	stage     int
}

// parseDockerfile reads instructions (continuation lines joined, comments
// dropped), numbering the stages from 0.
func parseDockerfile(t *testing.T, path string) []instruction {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []instruction
	stage := -1
	cur := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cur == "" && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		cur += line
		cmd, args, _ := strings.Cut(cur, " ")
		cmd = strings.ToUpper(cmd)
		if cmd == "FROM" {
			stage++
		}
		out = append(out, instruction{cmd, strings.Join(strings.Fields(args), " "), stage})
		cur = ""
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDockerfile(t *testing.T) {
	ins := parseDockerfile(t, "Dockerfile")
	var froms []instruction
	for _, in := range ins {
		if in.cmd == "FROM" {
			froms = append(froms, in)
		}
	}
	if len(froms) < 2 {
		t.Fatalf("want a multi-stage build, got %d FROM", len(froms))
	}
	last := len(froms) - 1
	pinned := regexp.MustCompile(`^[a-z0-9./_-]+:[A-Za-z0-9._-]*[0-9][A-Za-z0-9._-]*(@sha256:[0-9a-f]{64})?( AS \w+)?$`)
	for _, f := range froms {
		if f.args != "scratch" && !pinned.MatchString(f.args) {
			t.Errorf("FROM %s: not pinned to a version", f.args)
		}
	}
	// The Go of the build stage is at least go.mod's.
	gomod, _ := os.ReadFile("../go.mod")
	want := regexp.MustCompile(`(?m)^go (\d+\.\d+(\.\d+)?)$`).FindSubmatch(gomod)
	got := regexp.MustCompile(`^golang:(\d+\.\d+(\.\d+)?)`).FindStringSubmatch(froms[0].args)
	if want == nil || got == nil || versionLess(got[1], string(want[1])) {
		t.Errorf("build stage %q: want golang at least go.mod's %s", froms[0].args, want)
	}
	var final []instruction
	for _, in := range ins {
		if in.stage == last {
			final = append(final, in)
		}
	}
	has := func(cmd, args string) bool {
		return slices.ContainsFunc(final, func(in instruction) bool { return in.cmd == cmd && in.args == args })
	}
	// No shell in the final image: an empty base, nothing RUN in it, exec-form commands.
	if froms[last].args != "scratch" {
		t.Errorf("final stage FROM %s: want scratch (no shell)", froms[last].args)
	}
	for _, in := range final {
		if in.cmd == "RUN" {
			t.Errorf("final stage runs %q: the image has no shell", in.args)
		}
		if (in.cmd == "ENTRYPOINT" || in.cmd == "CMD") && !strings.HasPrefix(in.args, "[") {
			t.Errorf("%s %s: use the exec form (no shell)", in.cmd, in.args)
		}
	}
	if !has("USER", "10001:10001") {
		t.Error("final stage: want USER 10001:10001 (fixed, non-root)")
	}
	if !has("ENTRYPOINT", `["/usr/local/bin/benthos"]`) {
		t.Error("final stage: want ENTRYPOINT the benthos binary")
	}
	if !has("COPY", "pipelines /opt/gdeltflow/pipelines") || !has("COPY", "resources /opt/gdeltflow/resources") {
		t.Error("final stage: want the pipelines and resources under /opt/gdeltflow")
	}
	// The build: static, with the version stamped, and every tool the stack runs.
	var build string
	for _, in := range ins {
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			build = in.args
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-X main.Version=${VERSION}", "./cmd/benthos"} {
		if !strings.Contains(build, want) {
			t.Errorf("go build line %q lacks %q", build, want)
		}
	}
	p := load(t)
	for name, s := range p.Services {
		var cmds []string
		cmds = append(cmds, s.Entrypoint...)
		if s.HealthCheck != nil {
			cmds = append(cmds, s.HealthCheck.Test...)
		}
		for _, c := range cmds {
			if tool, ok := strings.CutPrefix(c, "/usr/local/bin/"); ok {
				if !strings.Contains(build, "./cmd/"+tool) {
					t.Errorf("service %s runs %s, which the image does not build", name, c)
				}
				if _, err := os.Stat(filepath.Join("..", "cmd", tool)); err != nil {
					t.Errorf("service %s runs %s: %v", name, c, err)
				}
			}
		}
	}
	// Every COPY from the context exists, and .dockerignore keeps caches and outputs out.
	ignore, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	ignored := map[string]bool{}
	for _, l := range strings.Split(string(ignore), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			ignored[l] = true
		}
	}
	for _, want := range []string{".git", ".cache", "bin", "out", "**/node_modules"} {
		if !ignored[want] {
			t.Errorf(".dockerignore lacks %s", want)
		}
	}
	for _, in := range ins {
		if in.cmd != "COPY" || strings.HasPrefix(in.args, "--from") {
			continue
		}
		fields := strings.Fields(in.args)
		for _, src := range fields[:len(fields)-1] {
			if strings.HasPrefix(src, "--") {
				continue
			}
			if _, err := os.Stat(filepath.Join("..", src)); err != nil || ignored[src] {
				t.Errorf("COPY %s: not in the build context (%v)", src, err)
			}
		}
	}
}

func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < 3; i++ {
		var x, y int
		if i < len(pa) {
			x = atoi(pa[i])
		}
		if i < len(pb) {
			y = atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the table tool a plain Go program over the Delta
// library: no package of the Benthos engine, and none of the GDELT plugins,
// the join or the delta_lake component (their init functions would register
// components and their imports would come along).
func TestDependencies(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not in PATH")
	}
	out, err := exec.Command(gobin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	const module = "github.com/gdeltflow/gdeltflow/"
	var bad []string
	for _, p := range deps {
		switch {
		case strings.Contains(p, "benthos"),
			strings.HasPrefix(p, module+"plugins/gdelt"),
			strings.HasPrefix(p, module+"plugins/join"),
			strings.HasPrefix(p, module+"plugins/deltalake"),
			strings.HasPrefix(p, module+"tests"):
			bad = append(bad, p)
		}
	}
	if len(bad) > 0 {
		t.Errorf("cmd/delta-table depends on %d packages it must not (of %d): %s", len(bad), len(deps), strings.Join(bad, " "))
	}
	if !contains(deps, module+"plugins/delta") || len(deps) < 10 {
		t.Errorf("go list -deps gave %d packages, without the Delta library: %s", len(deps), out)
	}
	t.Logf("%d packages", len(deps))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

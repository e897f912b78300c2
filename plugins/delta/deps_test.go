package delta

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLibraryStandsAlone: the Delta library (this package and those under
// it) imports nothing of Benthos, of GDELT, of the join or of the run's job
// state: the component package (plugins/deltalake) wraps it, not the other
// way round.
func TestLibraryStandsAlone(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not in PATH")
	}
	out, err := exec.Command(gobin, "list", "-deps", "./...").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	const module = "github.com/gdeltflow/gdeltflow/"
	var bad []string
	for _, p := range strings.Fields(string(out)) {
		if strings.Contains(p, "benthos") || (strings.HasPrefix(p, module) && !strings.HasPrefix(p, module+"plugins/delta")) {
			bad = append(bad, p)
		}
	}
	if len(bad) > 0 {
		t.Errorf("the Delta library depends on %s", strings.Join(bad, " "))
	}
}

package lookups

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/redpanda-data/benthos/v4/public/service"

	_ "github.com/redpanda-data/benthos/v4/public/components/io" // stdin, stdout, used by the YAML

	_ "github.com/gdeltflow/gdeltflow/plugins/gdelt" // gdelt_decode, used by the YAML
)

// benthosTest runs `benthos test <path>` in this process (with this
// package's and gdelt's plugins registered) and returns its exit code.
func benthosTest(t *testing.T, path string) int {
	t.Helper()
	code, err := service.RunCLIToCode(context.Background(),
		service.CLIOptSetArgs("benthos", "test", path),
		service.CLIOptSetBinaryName("benthos"))
	if err != nil {
		t.Logf("benthos test %s: %v", path, err)
	}
	return code
}

// TestEnrichmentYAML runs the YAML unit tests of testdata/enrich.yaml: real
// export rows through gdelt_decode and a mapping with the code book methods.
// A copy with one expectation changed must fail, so that a pass means the
// expectations were checked.
func TestEnrichmentYAML(t *testing.T) {
	// benthos test builds the processors of each case and never closes them:
	// its gdelt_lookup_metrics would stay subscribed to the process's misses
	// after the test. Restore the subscriptions as they were.
	d, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	d.misses.mu.Lock()
	subscribed := slices.Clone(d.misses.sinks)
	d.misses.mu.Unlock()
	defer func() {
		d.misses.mu.Lock()
		d.misses.sinks = subscribed
		d.misses.mu.Unlock()
	}()

	if code := benthosTest(t, filepath.Join("testdata", "enrich.yaml")); code != 0 {
		t.Fatalf("benthos test testdata/enrich.yaml exited %d", code)
	}

	data, err := os.ReadFile(filepath.Join("testdata", "enrich.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	wrong := strings.Replace(string(data), `this.actor1.ethnic == "Cornish"`, `this.actor1.ethnic == "Cornwall"`, 1)
	if wrong == string(data) {
		t.Fatal("the expectation to change is not in testdata/enrich.yaml")
	}
	path := filepath.Join(t.TempDir(), "enrich_wrong.yaml")
	if err := os.WriteFile(path, []byte(wrong), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := benthosTest(t, path); code == 0 {
		t.Fatal("benthos test passed a YAML whose expectation is wrong")
	}
}

package deltalake

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/redpanda-data/benthos/v4/public/components/io"
	_ "github.com/redpanda-data/benthos/v4/public/components/pure"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/delta"
	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
)

// runStream runs a YAML stream to its end.
func runStream(t *testing.T, yaml string) {
	t.Helper()
	sb := service.NewStreamBuilder()
	if err := sb.SetYAML(yaml); err != nil {
		t.Fatal(err)
	}
	st, err := sb.Build()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := st.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestDeltaLakeOutputRejectsAlone: in a real stream, a message that does not
// fit the schema and one without its progress key go to the dead letter with
// the rejected marker; the other 18 are committed, and a replay of the same
// messages adds nothing.
func TestDeltaLakeOutputRejectsAlone(t *testing.T) {
	dir := t.TempDir()
	table := filepath.Join(dir, "table")
	dlq := filepath.Join(dir, "dlq.jsonl")
	yaml := fmt.Sprintf(`
input:
  generate:
    count: 20
    interval: ""
    mapping: |
      let n = counter()
      root.id = $n
      root.name = "row-%%d".format($n)
      root.score = if $n == 7 { "not a number" } else { $n.number() / 4 }
      meta src = "gen"
      meta pos = if $n == 13 { deleted() } else { $n.string() }
output:
  fallback:
    - delta_lake:
        path: %s
        schema:
          - { name: id, type: long, nullable: false }
          - { name: name, type: string }
          - { name: score, type: double }
        progress: custom
        app_id: '${! @src }'
        version: '${! @pos }'
        batching: { count: 20 }
    - switch:
        cases:
          - check: '@fallback_error.or("").has_prefix("delta_lake: rejected: ")'
            output:
              file: { path: %s, codec: lines }
              processors:
                - mapping: 'root = this.merge({"error": @fallback_error})'
          - output:
              reject: '${! @fallback_error }'
logger: { level: warn }
`, table, dlq)
	runStream(t, yaml)
	ctx := context.Background()
	st, _ := storage.NewLocal(table)
	s, err := delta.Load(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := s.NumRecords(); n != 18 || s.Version != 1 {
		t.Fatalf("version %d with %d rows, want version 1 with 18", s.Version, n)
	}
	if txn := s.Txns["gdeltflow-gen"]; txn.Version != 20 {
		t.Fatalf("txn %+v, want version 20", txn)
	}
	b, err := os.ReadFile(dlq)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"id":7`) || !strings.Contains(lines[0], "delta_lake: rejected: column score: want double") ||
		!strings.Contains(lines[1], `"id":13`) || !strings.Contains(lines[1], "delta_lake: rejected: version") {
		t.Fatalf("dead letters:\n%s", b)
	}

	// The same messages again (a replay): nothing new is committed.
	runStream(t, yaml)
	s, _ = delta.Load(ctx, st)
	if n, _ := s.NumRecords(); n != 18 || s.Version != 1 {
		t.Fatalf("after a replay: version %d with %d rows", s.Version, n)
	}
}

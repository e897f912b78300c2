package deltalake

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
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

// TestDeltaLakeBackOff: the backoff field is the one retry policy, doubling
// from initial_interval to max_interval; its defaults are 1 s doubling to 30 s
// without end, as delta.DefaultBackOff, and the appender's commit retries take
// the same policy.
func TestDeltaLakeBackOff(t *testing.T) {
	waits := func(b backoff.BackOff, n int) []time.Duration {
		out := make([]time.Duration, n)
		for i := range out {
			out[i] = b.NextBackOff()
		}
		return out
	}
	parse := func(extra string) deltaLakeConf {
		t.Helper()
		pc, err := deltaLakeSpec().ParseYAML("path: "+t.TempDir()+"\ngdelt_table: mentions\n"+extra, nil)
		if err != nil {
			t.Fatal(err)
		}
		c, err := deltaLakeConfFromParsed(pc)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	s := time.Second
	want := fmt.Sprint([]time.Duration{s, 2 * s, 4 * s, 8 * s, 16 * s, 30 * s, 30 * s})
	c := parse("")
	if got := fmt.Sprint(waits(c.backOff(), 7)); got != want {
		t.Errorf("default waits %s, want %s", got, want)
	}
	if got := fmt.Sprint(waits(delta.DefaultBackOff(), 7)); got != want {
		t.Errorf("delta.DefaultBackOff waits %s, want %s", got, want)
	}
	if got := fmt.Sprint(waits(c.appender.CommitBackOff(), 7)); got != want {
		t.Errorf("commit waits %s, want %s", got, want)
	}
	ms := time.Millisecond
	c = parse("backoff: { initial_interval: 5ms, max_interval: 30ms }")
	b := c.backOff()
	if got, want := fmt.Sprint(waits(b, 5)), fmt.Sprint([]time.Duration{5 * ms, 10 * ms, 20 * ms, 30 * ms, 30 * ms}); got != want {
		t.Errorf("configured waits %s, want %s", got, want)
	}
	// Each run of retries starts again from the beginning.
	if got := c.backOff().NextBackOff(); got != 5*ms {
		t.Errorf("a fresh policy starts at %s", got)
	}
	c = parse("backoff: { initial_interval: 1ms, max_elapsed_time: 20ms }")
	b = c.backOff()
	time.Sleep(30 * time.Millisecond)
	if got := b.NextBackOff(); got != backoff.Stop {
		t.Errorf("after max_elapsed_time: %s, want stop", got)
	}
}

// Command benthos is the gdeltflow distribution of the Benthos stream processor:
// the core pure and io components, Redpanda Connect's prometheus, kafka and
// sql (base, with the pgx and SQLite drivers) packages, and the GDELT plugins
// of this project.
//
// Exit codes: 0 when the run ended as it should (a backfill that read its
// range, a stopped service); 1 when Benthos refused the config, or a start
// check failed (see preflight.go); runstate.ExitFailed (2) when a job could
// not do its work (its master list is missing, a table is damaged, storage
// stayed down past the give-up time), with one line on stderr naming the
// cause and the remedy.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	_ "github.com/redpanda-data/benthos/v4/public/components/io"
	_ "github.com/redpanda-data/benthos/v4/public/components/pure"
	_ "github.com/redpanda-data/connect/v4/public/components/kafka"
	_ "github.com/redpanda-data/connect/v4/public/components/prometheus"
	// Connect's sql components without their drivers, and the mart's two:
	// PostgreSQL (pgx) and SQLite (modernc, pure Go).
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/redpanda-data/connect/v4/public/components/sql/base"
	_ "modernc.org/sqlite"

	_ "github.com/gdeltflow/gdeltflow/plugins/deltalake"
	_ "github.com/gdeltflow/gdeltflow/plugins/gdelt"
	_ "github.com/gdeltflow/gdeltflow/plugins/gold"
	_ "github.com/gdeltflow/gdeltflow/plugins/join"
	_ "github.com/gdeltflow/gdeltflow/plugins/lookups"
	_ "github.com/gdeltflow/gdeltflow/plugins/mart"
	"github.com/gdeltflow/gdeltflow/plugins/runstate"
	"github.com/gdeltflow/gdeltflow/plugins/secretenv"
	_ "github.com/gdeltflow/gdeltflow/plugins/state"
	"github.com/gdeltflow/gdeltflow/resources"
)

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = "0.1.0-dev"

// GCPercent is the garbage collector's target when GOGC is not set. The
// silver join keeps ~175 MiB of live state for 48 h of events; at Go's
// default (100) the collector runs every 175 MiB allocated and took a third
// of the join's time. 200 halves that for a peak resident size still well
// under 1 GiB (BenchmarkJoinMemory in plugins/join, run with the same value).
const GCPercent = 200

// MemoryLimit is the soft limit of the Go heap when GOMEMLIMIT is not set:
// the collector works harder near it instead of letting a GC target of 200
// grow the heap to three times the live data. The live data under it is set
// by the pipelines' settings (see the README's memory formula); give a
// container about 1.25 times this, or set GOMEMLIMIT to 80% of its limit.
const MemoryLimit = 768 << 20

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(GCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(MemoryLimit)
	}
	if err := registerTemplates(); err != nil {
		fmt.Fprintln(os.Stderr, "gdeltflow: "+err.Error())
		os.Exit(1)
	}
	if err := preflight(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gdeltflow: "+err.Error())
		os.Exit(1)
	}
	// A failed job stops the stream as SIGTERM would: outputs flush, the
	// feed saves its checkpoint, then RunCLIToCode returns. A job can fail
	// while the stream is still starting, before Benthos listens for SIGTERM:
	// so SIGTERM never takes its default action (killing the process with
	// no exit code or line), and is sent again until Benthos has it.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGTERM)
	runstate.SetShutdown(func() {
		go func() {
			for {
				_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
				time.Sleep(200 * time.Millisecond)
			}
		}()
	})
	code, err := service.RunCLIToCode(context.Background(),
		service.CLIOptSetVersion(Version, ""),
		service.CLIOptSetBinaryName("benthos"),
		service.CLIOptSetProductName("gdeltflow"),
		// ${KEY} in a config reads KEY, or the file KEY_FILE names (Swarm
		// secrets under /run/secrets): see plugins/secretenv.
		service.CLIOptSetEnvVarLookup(func(_ context.Context, key string) (string, bool) {
			return secretenv.Lookup(key)
		}),
		service.CLIOptOnConfigParse(onConfigParse),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, err.Error())
	}
	if f := runstate.Failed(); f != nil {
		fmt.Fprintln(os.Stderr, "gdeltflow: "+f.Error())
		if code == 0 {
			code = runstate.ExitFailed
		}
	}
	os.Exit(code)
}

// registerTemplates makes the shared output definitions of resources/templates
// (the gdelt_lake output) components of this binary: `benthos lint`, `test`
// and runs know them without a -t flag.
func registerTemplates() error {
	ts, err := resources.Templates()
	if err != nil {
		return err
	}
	for name, yaml := range ts {
		if err := service.RegisterTemplateYAML(yaml); err != nil {
			return fmt.Errorf("template resources/templates/%s: %w", name, err)
		}
	}
	return nil
}

// Command benthos is the gdeltflow distribution of the Benthos stream processor:
// the core pure and io components, Redpanda Connect's prometheus and kafka
// packages, and the GDELT plugins of this project.
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

	_ "github.com/gdeltflow/gdeltflow/plugins/delta"
	_ "github.com/gdeltflow/gdeltflow/plugins/gdelt"
	_ "github.com/gdeltflow/gdeltflow/plugins/join"
	"github.com/gdeltflow/gdeltflow/plugins/runstate"
	_ "github.com/gdeltflow/gdeltflow/plugins/state"
)

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = "0.1.0-dev"

// GCPercent is the garbage collector's target when GOGC is not set. The
// silver join keeps ~175 MiB of live state for 48 h of events; at Go's
// default (100) the collector runs every 175 MiB allocated and took a third
// of the join's time. 200 halves that for a peak resident size still well
// under 1 GiB (BenchmarkJoinMemory in plugins/join, run with the same value).
const GCPercent = 200

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(GCPercent)
	}
	if err := preflight(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gdeltflow: "+err.Error())
		os.Exit(1)
	}
	// A failed job stops the stream as SIGTERM would: outputs flush, the
	// feed saves its checkpoint, then RunCLIToCode returns.
	catchEarlySIGTERM()
	runstate.SetShutdown(func() { _ = syscall.Kill(os.Getpid(), syscall.SIGTERM) })
	code, err := service.RunCLIToCode(context.Background(),
		service.CLIOptSetVersion(Version, ""),
		service.CLIOptSetBinaryName("benthos"),
		service.CLIOptSetProductName("gdeltflow"),
		service.CLIOptOnConfigParse(checkHTTPAddress),
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

// catchEarlySIGTERM keeps a SIGTERM that comes before the engine installs its
// own handler (it does once the stream is built: a component that fails the
// run while connecting, a damaged table, comes earlier) from killing the
// process without its failure line: SIGTERM is caught from the start, and
// once one came it is sent again every half second until the engine, which
// reacts to the first it sees, has stopped the run.
func catchEarlySIGTERM() {
	caught := make(chan os.Signal, 1)
	signal.Notify(caught, syscall.SIGTERM)
	go func() {
		<-caught
		for {
			time.Sleep(500 * time.Millisecond)
			_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
		}
	}()
}

// Command benthos is the gdeltflow distribution of the Benthos stream processor:
// the core pure and io components, Redpanda Connect's prometheus and kafka
// packages, and the GDELT plugins of this project.
package main

import (
	"context"
	"os"
	"runtime/debug"

	"github.com/redpanda-data/benthos/v4/public/service"

	_ "github.com/redpanda-data/benthos/v4/public/components/io"
	_ "github.com/redpanda-data/benthos/v4/public/components/pure"
	_ "github.com/redpanda-data/connect/v4/public/components/kafka"
	_ "github.com/redpanda-data/connect/v4/public/components/prometheus"

	_ "github.com/gdeltflow/gdeltflow/plugins/delta"
	_ "github.com/gdeltflow/gdeltflow/plugins/gdelt"
	_ "github.com/gdeltflow/gdeltflow/plugins/join"
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
	service.RunCLI(context.Background(),
		service.CLIOptSetVersion(Version, ""),
		service.CLIOptSetBinaryName("benthos"),
		service.CLIOptSetProductName("gdeltflow"),
	)
}

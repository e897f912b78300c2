// Command benthos is the gdeltflow distribution of the Benthos stream processor:
// the core pure and io components, Redpanda Connect's prometheus and kafka
// packages, and the GDELT plugins of this project.
package main

import (
	"context"

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

func main() {
	service.RunCLI(context.Background(),
		service.CLIOptSetVersion(Version, ""),
		service.CLIOptSetBinaryName("benthos"),
		service.CLIOptSetProductName("gdeltflow"),
	)
}

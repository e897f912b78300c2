// Command kafka-topics applies gdeltflow's topic spec (resources/topics.yaml)
// to a Kafka cluster and describes the topics a cluster has. The work is done
// by plugins/kafkaadmin, the same code the kafka-dev broker runs at startup.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gdeltflow/gdeltflow/plugins/kafkaadmin"
)

const usageText = `Usage: kafka-topics <command> -brokers host:port[,host:port...] [flags]

Create and inspect the Kafka topics of gdeltflow.

Commands:
  apply    [-spec FILE]       make the cluster match the topic spec (default
                              resources/topics.yaml): create missing topics, add
                              partitions, set the spec's configs on each topic
                              (incremental alter). Never deletes a topic, never
                              removes partitions, never changes a replication
                              factor: those differences are printed as warnings.
                              Prints one line per topic (created, altered,
                              unchanged, failed) with its changes and warnings;
                              running it again prints "unchanged" for every topic.
  describe [-json] [TOPIC...] topics with their partition count, replication
                              factor and the configs set on the topic (those that
                              differ from the broker defaults); every non-internal
                              topic when none are named. -json: one object a line.
  help                        print this text

Flags for every command:
  -brokers host:port[,...]  seed brokers (default: env KAFKA_BROKERS)
  -timeout D                give up after this long (default 60s)

Connections are plaintext: SASL and TLS are not supported yet.
Exit status: 0 success (warnings included), 1 error, 2 bad usage.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run executes the command line args (without the program name) and returns
// the exit code: 0 success, 1 failure, 2 bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return 2
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usageText)
		return 0
	case "apply", "describe":
	default:
		fmt.Fprintf(stderr, "kafka-topics: unknown command %q\n\n%s", cmd, usageText)
		return 2
	}

	fs := flag.NewFlagSet("kafka-topics "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usageText) }
	brokers := fs.String("brokers", getenv("KAFKA_BROKERS"), "seed brokers, host:port[,host:port...]")
	timeout := fs.Duration("timeout", 60*time.Second, "give up after this long")
	specPath := fs.String("spec", "resources/topics.yaml", "topic spec file (apply)")
	asJSON := fs.Bool("json", false, "one JSON object a line (describe)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	seeds := splitBrokers(*brokers)
	if len(seeds) == 0 {
		fmt.Fprintln(stderr, "kafka-topics: no brokers: pass -brokers host:port[,...] or set KAFKA_BROKERS")
		return 2
	}
	if cmd == "apply" && fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kafka-topics apply: unexpected arguments %q (topics come from -spec)\n", fs.Args())
		return 2
	}

	var spec kafkaadmin.Spec
	if cmd == "apply" {
		var err error
		if spec, err = kafkaadmin.LoadSpec(*specPath); err != nil {
			fmt.Fprintf(stderr, "kafka-topics: %v\n", err)
			return 1
		}
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		fmt.Fprintf(stderr, "kafka-topics: client for %s: %v\n", strings.Join(seeds, ","), err)
		return 1
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	switch cmd {
	case "apply":
		report, err := kafkaadmin.Apply(ctx, adm, spec)
		fmt.Fprint(stdout, report)
		if err != nil {
			fmt.Fprintf(stderr, "kafka-topics apply: %v\n", err)
			return 1
		}
	case "describe":
		states, err := kafkaadmin.Describe(ctx, adm, fs.Args()...)
		if err != nil {
			fmt.Fprintf(stderr, "kafka-topics describe: %v\n", err)
			return 1
		}
		if err := writeStates(stdout, states, *asJSON); err != nil {
			fmt.Fprintf(stderr, "kafka-topics describe: %v\n", err)
			return 1
		}
	}
	return 0
}

func splitBrokers(s string) []string {
	var out []string
	for _, b := range strings.Split(s, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// describedTopic is the -json form of a topic.
type describedTopic struct {
	Topic             string            `json:"topic"`
	Partitions        int32             `json:"partitions"`
	ReplicationFactor int16             `json:"replication_factor"`
	Configs           map[string]string `json:"configs"`
}

// writeStates prints one line per topic:
//
//	gdelt.dlq partitions=3 replication_factor=3 compression.type=zstd retention.ms=2592000000
func writeStates(w io.Writer, states []kafkaadmin.TopicState, asJSON bool) error {
	enc := json.NewEncoder(w)
	for _, st := range states {
		if asJSON {
			if err := enc.Encode(describedTopic{st.Name, st.Partitions, st.ReplicationFactor, st.Overrides}); err != nil {
				return err
			}
			continue
		}
		line := fmt.Sprintf("%s partitions=%d replication_factor=%d", st.Name, st.Partitions, st.ReplicationFactor)
		for _, k := range slices.Sorted(maps.Keys(st.Overrides)) {
			line += " " + k + "=" + st.Overrides[k]
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}

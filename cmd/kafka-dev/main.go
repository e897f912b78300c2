// Command kafka-dev runs gdeltflow's development Kafka: franz-go's in-process
// kfake cluster as three brokers on 127.0.0.1, persisted to a data folder,
// with the topic spec (resources/topics.yaml) applied through the same
// kafkaadmin.Apply that kafka-topics uses. Production runs Apache Kafka; this
// is for a laptop, CI and fault tests.
//
// Once the topics exist it prints one line to stdout,
//
//	brokers=127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094
//
// (also written to -brokers-file), then serves until SIGINT or SIGTERM. Logs
// go to stderr.
//
// Restarting with the same -data keeps the topics with their configs, the
// records and the committed consumer group offsets, after a clean stop and
// after SIGKILL alike: kfake writes every produced batch and every offset
// commit to files under -data before it answers the client, so SIGKILL loses
// nothing a client saw acknowledged (a host crash can lose what was still in
// the page cache unless -sync is set). Group membership and idempotent
// producer sequence windows are saved only by a clean stop; after SIGKILL
// consumers rejoin their groups and producers carry on by themselves (the
// main_test.go tests measure it: well under 5 s). The data does not depend
// on the ports, but clients only reconnect by themselves when the restart
// reuses the same -ports.
//
// Two things kafka-dev adds to kfake for restarts: it pins each partition's
// leader to broker (partition mod 3), which kfake otherwise re-draws at
// random on every start, and after a run that did not stop cleanly it drops
// kfake's stale producer sequence windows (see markRunning).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gdeltflow/gdeltflow/plugins/kafkaadmin"
)

const usageText = `Usage: kafka-dev [flags]

Run a 3-broker Kafka-protocol cluster (franz-go kfake) on 127.0.0.1 for
development and tests, persisted under -data, with the topic spec applied.
Prints "brokers=host:port,host:port,host:port" to stdout once the topics
exist, then serves until SIGINT or SIGTERM (a second signal forces exit).

Flags:
  -data DIR           persistence folder (default ./.cache/kafka-dev). A restart
                      with the same DIR keeps topics, records and committed
                      consumer offsets, also after SIGKILL. One kafka-dev per DIR.
  -ports P1,P2,P3     broker ports (default 9092,9093,9094); 0 picks free ports.
                      Clients reconnect across a restart only if it reuses the
                      ports. Partition p is led by broker p mod 3, at every start.
  -spec FILE          topic spec applied at every start (default
                      resources/topics.yaml); empty: no topics
  -brokers-file FILE  also write the brokers line to FILE (removed at startup
                      and on a clean stop)
  -sync               fsync every produced batch (survives a host crash, slower)
  -log-level L        kfake's log level: none, error, warn, info, debug
                      (default warn)

Plaintext only. Exit status: 0 clean stop, 1 error, 2 bad usage.
`

// clusterID names a new data folder's cluster; a reused folder keeps its own.
const clusterID = "gdeltflow-dev"

// applyTimeout bounds applying the topic spec at startup.
const applyTimeout = 30 * time.Second

func main() {
	log.SetPrefix("kafka-dev: ")
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		s := <-sigs
		log.Printf("%v: shutting down (signal again to force)", s)
		cancel()
		<-sigs
		log.Printf("forced exit")
		os.Exit(1)
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

type config struct {
	data        string
	ports       []int
	spec        string
	brokersFile string
	sync        bool
	logLevel    kfake.LogLevel
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("kafka-dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usageText) }
	var (
		conf          config
		ports, level  string
		errBadUsage   = errors.New("bad usage")
		logLevelNames = map[string]kfake.LogLevel{
			"none": kfake.LogLevelNone, "error": kfake.LogLevelError, "warn": kfake.LogLevelWarn,
			"info": kfake.LogLevelInfo, "debug": kfake.LogLevelDebug,
		}
	)
	fs.StringVar(&conf.data, "data", "./.cache/kafka-dev", "persistence folder")
	fs.StringVar(&ports, "ports", "9092,9093,9094", "broker ports, or 0 for free ports")
	fs.StringVar(&conf.spec, "spec", "resources/topics.yaml", "topic spec file")
	fs.StringVar(&conf.brokersFile, "brokers-file", "", "also write the brokers line here")
	fs.BoolVar(&conf.sync, "sync", false, "fsync every produced batch")
	fs.StringVar(&level, "log-level", "warn", "kfake log level")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kafka-dev: unexpected arguments %q\n", fs.Args())
		return config{}, errBadUsage
	}
	if conf.data == "" {
		fmt.Fprintln(stderr, "kafka-dev: -data must not be empty")
		return config{}, errBadUsage
	}
	var err error
	if conf.ports, err = parsePorts(ports); err != nil {
		fmt.Fprintf(stderr, "kafka-dev: -ports: %v\n", err)
		return config{}, errBadUsage
	}
	var ok bool
	if conf.logLevel, ok = logLevelNames[level]; !ok {
		fmt.Fprintf(stderr, "kafka-dev: -log-level %q: want none, error, warn, info or debug\n", level)
		return config{}, errBadUsage
	}
	return conf, nil
}

// parsePorts reads "P1,P2,P3" (three brokers) or "0" (three free ports).
func parsePorts(s string) ([]int, error) {
	if strings.TrimSpace(s) == "0" {
		return []int{0, 0, 0}, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%q: want three ports, P1,P2,P3, or 0", s)
	}
	ports := make([]int, 3)
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 0 || n > 65535 {
			return nil, fmt.Errorf("%q: %q is not a port", s, p)
		}
		if n != 0 && (n == ports[(i+1)%3] || n == ports[(i+2)%3]) {
			return nil, fmt.Errorf("%q: port %d listed twice", s, n)
		}
		ports[i] = n
	}
	return ports, nil
}

// run starts the cluster, applies the spec, announces the brokers and serves
// until ctx is done. It returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	conf, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	logger := log.New(stderr, "kafka-dev: ", log.LstdFlags)

	var spec *kafkaadmin.Spec
	if conf.spec != "" {
		s, err := kafkaadmin.LoadSpec(conf.spec)
		if err != nil {
			logger.Print(err)
			return 1
		}
		spec = &s
	}
	if conf.brokersFile != "" {
		// A line left by an earlier run (killed, so it could not clean up)
		// names ports that may no longer be served.
		if err := os.Remove(conf.brokersFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			logger.Printf("removing stale brokers file: %v", err)
			return 1
		}
	}
	if err := os.MkdirAll(conf.data, 0o755); err != nil {
		logger.Printf("data folder: %v", err)
		return 1
	}
	unlock, err := lockDataDir(conf.data)
	if err != nil {
		logger.Print(err)
		return 1
	}
	defer unlock()
	running, err := markRunning(conf.data, logger)
	if err != nil {
		logger.Print(err)
		return 1
	}

	opts := []kfake.Opt{
		kfake.NumBrokers(3),
		kfake.Ports(conf.ports...),
		kfake.DataDir(conf.data),
		kfake.ClusterID(clusterID),
		kfake.WithLogger(kfake.BasicLogger(stderr, conf.logLevel)),
	}
	if conf.sync {
		opts = append(opts, kfake.SyncWrites())
	}
	started := time.Now()
	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		os.Remove(running)
		logger.Printf("starting kfake with data %s, ports %v: %v", conf.data, conf.ports, err)
		return 1
	}
	// Close persists the state that is not appended as it changes (the
	// partition snapshots and the producer sequence windows), so every path
	// out of here must close.
	defer func() {
		cluster.Close()
		os.Remove(running)
		logger.Printf("stopped")
	}()
	addrs := cluster.ListenAddrs()
	logger.Printf("kfake cluster %s up in %v: brokers %s, data %s", clusterID, time.Since(started).Round(time.Millisecond),
		strings.Join(addrs, ","), conf.data)

	if err := prepare(ctx, cluster, addrs, spec, logger); err != nil {
		logger.Print(err)
		return 1
	}

	line := "brokers=" + strings.Join(addrs, ",")
	if conf.brokersFile != "" {
		if err := writeFileAtomic(conf.brokersFile, line+"\n"); err != nil {
			logger.Printf("brokers file: %v", err)
			return 1
		}
		defer os.Remove(conf.brokersFile)
	}
	if _, err := fmt.Fprintln(stdout, line); err != nil {
		logger.Printf("writing the brokers line: %v", err)
		return 1
	}

	<-ctx.Done()
	return 0
}

// prepare applies the topic spec (if any) through a short-lived admin client,
// then pins every partition's leader.
func prepare(ctx context.Context, cluster *kfake.Cluster, addrs []string, spec *kafkaadmin.Spec, logger *log.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, applyTimeout)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		return fmt.Errorf("admin client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if spec != nil {
		report, err := kafkaadmin.Apply(ctx, adm, *spec)
		for _, l := range strings.Split(strings.TrimSuffix(report.String(), "\n"), "\n") {
			if l != "" {
				logger.Printf("topics: %s", l)
			}
		}
		if err != nil {
			return fmt.Errorf("applying the topic spec: %w", err)
		}
	}
	return pinLeaders(ctx, cluster, adm, len(addrs))
}

// pinLeaders makes broker (partition mod brokers) the leader of every
// partition. kfake picks leaders at random when it creates a partition and
// again whenever it loads one from -data, so without this a restart moves
// most leaders and every client stalls on NOT_LEADER_FOR_PARTITION until its
// next metadata refresh (about 5 s for franz-go). Kafka brings leadership
// back to the preferred replicas after a restart; this is the same
// stability. Topics created by clients while kafka-dev runs get pinned at
// the next start.
func pinLeaders(ctx context.Context, cluster *kfake.Cluster, adm *kadm.Client, brokers int) error {
	// WithAuthorizedOps makes kadm ask a broker rather than its client's
	// metadata cache, which may predate the topics Apply just created.
	details, err := adm.ListTopics(kadm.WithAuthorizedOps(ctx))
	if err != nil {
		return fmt.Errorf("listing topics to pin their leaders: %w", err)
	}
	for _, topic := range details.Names() {
		for _, p := range details[topic].Partitions.Sorted() {
			node := p.Partition % int32(brokers)
			if cluster.LeaderFor(topic, p.Partition) == node {
				continue
			}
			if err := cluster.MoveTopicPartition(topic, p.Partition, node); err != nil {
				return fmt.Errorf("pinning the leader of %s/%d to broker %d: %w", topic, p.Partition, node, err)
			}
		}
	}
	return nil
}

// lockDataDir takes an exclusive lock on the data folder so that a second
// kafka-dev cannot write the same files. The kernel drops the lock when the
// process dies, SIGKILL included.
func lockDataDir(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, "kafka-dev.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("data folder %s is in use by another kafka-dev", dir)
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

// markRunning creates the marker that a clean stop removes. Finding it at
// startup means the last run was killed, and then kfake's seq_windows.json
// is stale: kfake writes idempotent producers' sequence windows only when it
// closes, and loads them whenever it starts, so after a clean stop, more
// produces and a SIGKILL it would load the windows of the clean stop and
// answer a producer that carried on OUT_OF_ORDER_SEQUENCE_NUMBER (franz-go
// then resets its epoch and stalls for about 10 s). Without the file, kfake
// accepts the producers' next sequences as it does after a first-run kill.
func markRunning(dir string, logger *log.Logger) (string, error) {
	marker := filepath.Join(dir, "kafka-dev.running")
	if _, err := os.Stat(marker); err == nil {
		logger.Printf("the last run on %s did not stop cleanly: dropping kfake's stale producer sequence windows", dir)
		if err := os.Remove(filepath.Join(dir, "seq_windows.json")); err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("dropping stale seq_windows.json: %w", err)
		}
	}
	if err := os.WriteFile(marker, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("run marker: %w", err)
	}
	return marker, nil
}

// writeFileAtomic writes data to a temporary file and renames it to path, so
// a script polling for path never reads half a line.
func writeFileAtomic(path, data string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	if _, err := tmp.WriteString(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

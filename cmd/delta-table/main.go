// Command delta-table inspects and maintains a Delta Lake table (a local
// folder or s3://bucket/prefix) without Spark: its history, schema, live
// files, application progress and row count, and it writes checkpoints and
// vacuums orphaned data files.
//
// The work is done by the cmd* functions (commands.go), which take an
// io.Writer and a storage.Storage; this file parses the command line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
)

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = "0.1.0-dev"

const usageText = `Usage: delta-table <command> [flags] <table-location>

Inspect and maintain a Delta Lake table. The location is a local folder or
s3://bucket/prefix/table.

Commands:
  history    [-n N] [-json]              commits, newest first: version, time (UTC),
                                         operation, rows/files/bytes, txns, engine
                                         (-n: how many, default 20, 0 = all)
  schema     [-json] [-version V]        columns, partition columns, configuration,
                                         protocol
  files      [-json] [-version V]        live data files with partition values, size,
                                         records, modification time; totals
  txn        [-json] [-version V]        application progress (appId, version,
                                         lastUpdated), sorted by appId
  count      [-json] [-version V]        row count from the file statistics, files,
                                         bytes, version
  checkpoint                             write a checkpoint of the current version
  vacuum     [-retention D] [-execute] [-force] [-json]
                                         orphan data files (not in the log, last
                                         modified before the retention) and files of
                                         expired tombstones; a dry run unless -execute.
                                         -retention defaults to the table's
                                         delta.deletedFileRetentionDuration (168h);
                                         a shorter one needs -force with -execute
  version                                print the version of delta-table
  help                                   print this text

Flags for every command (before or after the command):
  -s3-endpoint host:port|URL  S3 endpoint, e.g. http://127.0.0.1:9000 for MinIO;
                              a URL's scheme sets http or https (env
                              DELTA_S3_ENDPOINT, then S3_ENDPOINT as the
                              pipelines use it, then AWS_ENDPOINT_URL;
                              empty: AWS S3)
  -s3-region REGION           (env S3_REGION, then AWS_REGION; default us-east-1)
  -s3-insecure                use http rather than https (for host:port)
  Credentials come from S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (the
  pipelines' names) when S3_ACCESS_KEY_ID is set, else from AWS_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (or ~/.aws/credentials, or the
  instance role).

Times are UTC. -json writes one JSON object per line. Durations are Go
durations (90m, 168h). Exit status: 0 success, 1 error, 2 bad usage.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runContext(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run executes the command line args (without the program name) and returns
// the exit code: 0 success, 1 failure, 2 bad usage.
func run(args []string, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdout, stderr, os.Getenv)
}

// usageError is a command line mistake (exit code 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// globalFlags are accepted by every command, before or after its name.
type globalFlags struct {
	endpoint string
	region   string
	insecure bool
}

// envGlobalFlags are the global flags' defaults from the environment.
func envGlobalFlags(getenv func(string) string) globalFlags {
	return globalFlags{
		endpoint: firstNonEmpty(getenv("DELTA_S3_ENDPOINT"), getenv("S3_ENDPOINT"), getenv("AWS_ENDPOINT_URL")),
		region:   firstNonEmpty(getenv("S3_REGION"), getenv("AWS_REGION"), "us-east-1"),
	}
}

// register adds the global flags to fs, keeping their current values as
// defaults (the flags may be parsed twice: before and after the command).
func (g *globalFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&g.endpoint, "s3-endpoint", g.endpoint, "S3 endpoint")
	fs.StringVar(&g.region, "s3-region", g.region, "S3 region")
	fs.BoolVar(&g.insecure, "s3-insecure", g.insecure, "use http")
}

// s3Config builds the S3 settings: flags, then the environment. Credentials
// only come from the environment: the pipelines' S3_* pair when
// S3_ACCESS_KEY_ID is set (never one key of each pair), else AWS_*.
func (g globalFlags) s3Config(getenv func(string) string) storage.S3Config {
	c := storage.S3Config{
		Endpoint:        g.endpoint,
		Region:          g.region,
		AccessKeyID:     getenv("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken:    getenv("AWS_SESSION_TOKEN"),
		Secure:          !g.insecure,
	}
	if id := getenv("S3_ACCESS_KEY_ID"); id != "" {
		c.AccessKeyID, c.SecretAccessKey, c.SessionToken = id, getenv("S3_SECRET_ACCESS_KEY"), ""
	}
	// A custom endpoint (MinIO, a gateway) wants path-style addressing.
	c.PathStyle = c.Endpoint != ""
	return c
}

// commandFlags holds every command-specific flag; each command registers
// the ones it accepts.
type commandFlags struct {
	json      bool
	n         int
	version   int64
	retention time.Duration
	execute   bool
	force     bool
}

// commandSpec says which flags a command takes and whether it needs a table.
type commandSpec struct {
	flags    func(fs *flag.FlagSet, c *commandFlags)
	needsLoc bool
}

var commands = map[string]commandSpec{
	"history": {needsLoc: true, flags: func(fs *flag.FlagSet, c *commandFlags) {
		fs.IntVar(&c.n, "n", 20, "number of versions (0 = all)")
		fs.BoolVar(&c.json, "json", false, "JSON lines")
	}},
	"schema": {needsLoc: true, flags: func(fs *flag.FlagSet, c *commandFlags) {
		fs.BoolVar(&c.json, "json", false, "JSON lines")
		fs.Int64Var(&c.version, "version", -1, "table version")
	}},
	"files": {needsLoc: true, flags: func(fs *flag.FlagSet, c *commandFlags) {
		fs.BoolVar(&c.json, "json", false, "JSON lines")
		fs.Int64Var(&c.version, "version", -1, "table version")
	}},
	"txn": {needsLoc: true, flags: func(fs *flag.FlagSet, c *commandFlags) {
		fs.BoolVar(&c.json, "json", false, "JSON lines")
		fs.Int64Var(&c.version, "version", -1, "table version")
	}},
	"count": {needsLoc: true, flags: func(fs *flag.FlagSet, c *commandFlags) {
		fs.BoolVar(&c.json, "json", false, "JSON lines")
		fs.Int64Var(&c.version, "version", -1, "table version")
	}},
	"checkpoint": {needsLoc: true, flags: func(fs *flag.FlagSet, c *commandFlags) {}},
	"vacuum": {needsLoc: true, flags: func(fs *flag.FlagSet, c *commandFlags) {
		fs.DurationVar(&c.retention, "retention", 0, "retention (default: the table's)")
		fs.BoolVar(&c.execute, "execute", false, "delete the files")
		fs.BoolVar(&c.force, "force", false, "allow a retention below the table's")
		fs.BoolVar(&c.json, "json", false, "JSON lines")
	}},
	"version": {flags: func(fs *flag.FlagSet, c *commandFlags) {}},
	"help":    {flags: func(fs *flag.FlagSet, c *commandFlags) {}},
}

func runContext(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	g := envGlobalFlags(getenv)
	if len(args) == 1 && (args[0] == "-version" || args[0] == "--version") {
		args = []string{"version"}
	}
	cmd, c, loc, setFlags, err := parseCommandLine(args, &g)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usageText)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "delta-table: %v\n\n%s", err, usageText)
		return 2
	}
	switch cmd {
	case "help":
		fmt.Fprint(stdout, usageText)
		return 0
	case "version":
		fmt.Fprintln(stdout, versionString())
		return 0
	}

	st, err := storage.Open(loc, g.s3Config(getenv))
	if err != nil {
		fmt.Fprintf(stderr, "delta-table %s %s: %v\n", cmd, loc, err)
		return 1
	}
	switch cmd {
	case "history":
		err = cmdHistory(ctx, stdout, st, historyOptions{N: c.n, JSON: c.json})
	case "schema":
		err = cmdSchema(ctx, stdout, st, viewOptions{Version: c.version, JSON: c.json, Warn: stderr})
	case "files":
		err = cmdFiles(ctx, stdout, st, viewOptions{Version: c.version, JSON: c.json, Warn: stderr})
	case "txn":
		err = cmdTxn(ctx, stdout, st, viewOptions{Version: c.version, JSON: c.json, Warn: stderr})
	case "count":
		err = cmdCount(ctx, stdout, st, viewOptions{Version: c.version, JSON: c.json, Warn: stderr})
	case "checkpoint":
		err = cmdCheckpoint(ctx, stdout, stderr, st)
	case "vacuum":
		o := vacuumOptions{Execute: c.execute, Force: c.force, JSON: c.json, Now: time.Now(), Warn: stderr}
		if setFlags["retention"] {
			o.Retention = c.retention
			o.RetentionSet = true
		}
		err = cmdVacuum(ctx, stdout, st, o)
	}
	if err != nil {
		fmt.Fprintf(stderr, "delta-table %s %s: %v\n", cmd, st.Location(), err)
		return 1
	}
	return 0
}

// parseCommandLine splits args into the command, its flags and the table
// location. Flags may appear anywhere; "--" ends them.
func parseCommandLine(args []string, g *globalFlags) (cmd string, c commandFlags, loc string, set map[string]bool, err error) {
	pre := flag.NewFlagSet("delta-table", flag.ContinueOnError)
	pre.SetOutput(io.Discard)
	pre.Usage = func() {}
	g.register(pre)
	if err := pre.Parse(args); err != nil {
		return "", c, "", nil, flagErr(err)
	}
	rest := pre.Args()
	if len(rest) == 0 {
		return "", c, "", nil, usagef("no command given")
	}
	cmd = rest[0]
	spec, ok := commands[cmd]
	if !ok {
		return "", c, "", nil, usagef("unknown command %q", cmd)
	}
	fs := flag.NewFlagSet("delta-table "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	g.register(fs)
	spec.flags(fs, &c)
	pos, err := parseInterleaved(fs, rest[1:])
	if err != nil {
		return "", c, "", nil, flagErr(err)
	}
	set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	if cmd == "help" {
		return cmd, c, "", set, nil
	}
	if !spec.needsLoc {
		if len(pos) > 0 {
			return "", c, "", nil, usagef("%s takes no arguments", cmd)
		}
		return cmd, c, "", set, nil
	}
	switch {
	case len(pos) == 0:
		return "", c, "", nil, usagef("%s: no table location given", cmd)
	case len(pos) > 1:
		return "", c, "", nil, usagef("%s: one table location expected, got %q", cmd, pos)
	case pos[0] == "":
		return "", c, "", nil, usagef("%s: empty table location", cmd)
	}
	if c.n < 0 {
		return "", c, "", nil, usagef("-n must be 0 (all) or more, got %d", c.n)
	}
	if set["version"] && c.version < 0 {
		return "", c, "", nil, usagef("-version must be 0 or more, got %d", c.version)
	}
	if c.retention < 0 {
		return "", c, "", nil, usagef("-retention must not be negative, got %s", c.retention)
	}
	return cmd, c, pos[0], set, nil
}

// parseInterleaved parses flags mixed with positional arguments (Go's flag
// package stops at the first positional one).
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func flagErr(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return &usageError{err.Error()}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// versionString is "delta-table <version>", with the VCS revision when the
// binary was built from a checkout.
func versionString() string {
	s := "delta-table " + Version
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return s
	}
	var rev, modified string
	for _, kv := range bi.Settings {
		switch kv.Key {
		case "vcs.revision":
			rev = kv.Value
		case "vcs.modified":
			if kv.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	var extra []string
	if rev != "" {
		extra = append(extra, "rev "+shorten(rev, 12)+modified)
	}
	extra = append(extra, bi.GoVersion)
	return s + " (" + strings.Join(extra, ", ") + ")"
}

func shorten(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

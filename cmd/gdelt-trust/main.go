// Command gdelt-trust prints a per-window trust report of a gdeltflow lake,
// readable without Grafana: for the last N windows of audit/windows, the rows
// received per table, the silver rows by join status and the join rate, when
// each stage completed the window, and the anomalies a person should look at:
// files the feed could not read (its checkpoint's incomplete list), a join rate
// under the minimum, a window still waiting for silver, and, once the mart
// records MART_COMPLETE rows, windows silver completed that the mart has not.
//
//	gdelt-trust [-n 12] [-json] [-min-join-rate 0.5] [-checkpoint out/state/gdelt_feed] <lake>
//
// <lake> is the folder or s3://bucket/prefix holding audit/windows (GDELT_LAKE;
// S3 from S3_ENDPOINT, S3_REGION, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY as the
// pipelines read them). Like delta-table it links the Delta library only.
// Exit status: 0 no anomaly, 3 anomalies flagged, 1 error, 2 bad usage.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("gdelt-trust", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 12, "how many windows, newest first (0 = all)")
	asJSON := fs.Bool("json", false, "one JSON object per window")
	minRate := fs.Float64("min-join-rate", 0.5, "flag windows whose join rate is below this (deploy/prometheus/rules/settings.yml: gdeltflow:setting:join_rate_min)")
	ckpt := fs.String("checkpoint", "", "the feed's checkpoint file (default <lake>/state/gdelt_feed for a local lake; none for S3); a missing file is left out")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: gdelt-trust [-n 12] [-json] [-min-join-rate 0.5] [-checkpoint FILE] <lake>")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	lake := strings.TrimRight(fs.Arg(0), "/")
	st, err := storage.Open(lake+"/audit/windows", s3Config(getenv))
	if err != nil {
		fmt.Fprintln(stderr, "gdelt-trust:", err)
		return 1
	}
	rows, err := readAudit(ctx, st)
	if err != nil {
		fmt.Fprintf(stderr, "gdelt-trust: reading %s/audit/windows: %v\n", lake, err)
		return 1
	}
	path := *ckpt
	if path == "" && !strings.Contains(lake, "://") {
		path = lake + "/state/gdelt_feed"
	}
	var cp *checkpoint
	if path != "" {
		cp, err = readCheckpoint(path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintln(stderr, "gdelt-trust:", err)
			return 1
		}
	}
	rep := buildReport(rows, cp, *minRate, *n)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, w := range rep.Windows {
			if err := enc.Encode(w); err != nil {
				return 1
			}
		}
	} else {
		rep.writeText(stdout, lake)
	}
	if rep.Anomalies > 0 {
		return 3
	}
	return 0
}

func s3Config(getenv func(string) string) storage.S3Config {
	c := storage.S3Config{Endpoint: getenv("S3_ENDPOINT"), Region: getenv("S3_REGION"),
		AccessKeyID: getenv("S3_ACCESS_KEY_ID"), SecretAccessKey: getenv("S3_SECRET_ACCESS_KEY")}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	return c
}

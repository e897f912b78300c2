// Command s3-bucket creates the S3 / MinIO buckets gdeltflow writes to, if
// they do not exist: the Swarm stack runs it once as a job before the stages
// need the lake. It waits for the endpoint (a fresh MinIO may not answer yet),
// retrying with backoff until -wait, so the stack's start order needs no
// sleep. Running it again changes nothing.
//
// Credentials come from S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or from the
// files S3_ACCESS_KEY_ID_FILE and S3_SECRET_ACCESS_KEY_FILE name (Swarm
// secrets; plugins/secretenv).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/gdeltflow/gdeltflow/plugins/secretenv"
)

const usageText = `Usage: s3-bucket [-endpoint URL] [-region R] [-wait D] BUCKET...

Creates each bucket that does not exist; prints one line per bucket
(created, exists). Waits for the endpoint up to -wait (default 2m).
  -endpoint URL   http(s)://host:port (default env S3_ENDPOINT)
  -region R       (default env S3_REGION, else us-east-1)
Credentials: S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, or their *_FILE forms.
Exit status: 0 success, 1 failure, 2 bad usage.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, secretenv.Default)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, env *secretenv.Env) int {
	fs := flag.NewFlagSet("s3-bucket", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usageText) }
	get := func(k string) string { v, _ := env.Lookup(k); return v }
	endpoint := fs.String("endpoint", get("S3_ENDPOINT"), "")
	region := fs.String("region", get("S3_REGION"), "")
	wait := fs.Duration("wait", 2*time.Minute, "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 || *endpoint == "" {
		fmt.Fprint(stderr, usageText)
		return 2
	}
	if *region == "" {
		*region = "us-east-1"
	}
	id, secret := get("S3_ACCESS_KEY_ID"), get("S3_SECRET_ACCESS_KEY")
	if err := env.Errors(); err != nil {
		fmt.Fprintf(stderr, "s3-bucket: %v\n", err)
		return 1
	}
	u, err := url.Parse(*endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		fmt.Fprintf(stderr, "s3-bucket: -endpoint %q: want http(s)://host:port\n", *endpoint)
		return 2
	}
	client, err := minio.New(u.Host, &minio.Options{
		Creds:  credentials.NewStaticV4(id, secret, ""),
		Secure: u.Scheme == "https",
		Region: *region,
	})
	if err != nil {
		fmt.Fprintf(stderr, "s3-bucket: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(ctx, *wait)
	defer cancel()
	for _, b := range fs.Args() {
		status, err := ensure(ctx, client, b, *region, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "s3-bucket: bucket %s on %s: %v\n", b, *endpoint, err)
			return 1
		}
		fmt.Fprintf(stdout, "%s %s\n", b, status)
	}
	return 0
}

// ensure creates bucket unless it exists, retrying errors that may pass (the
// endpoint not answering yet, a 5xx) until ctx ends; refusals (bad
// credentials, a bad name) end it at once.
func ensure(ctx context.Context, c *minio.Client, bucket, region string, stderr io.Writer) (string, error) {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval, b.MaxElapsedTime = 500*time.Millisecond, 10*time.Second, 0
	var status string
	op := func() error {
		ok, err := c.BucketExists(ctx, bucket)
		if err == nil && ok {
			status = "exists"
			return nil
		}
		if err == nil {
			err = c.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: region})
			if err == nil {
				status = "created"
				return nil
			}
		}
		var er minio.ErrorResponse
		if errors.As(err, &er) {
			switch {
			case er.Code == "BucketAlreadyOwnedByYou":
				status = "exists"
				return nil
			case er.StatusCode >= 400 && er.StatusCode < 500:
				return backoff.Permanent(err)
			}
		}
		fmt.Fprintf(stderr, "s3-bucket: %s: %s; retrying\n", bucket, strings.TrimSpace(err.Error()))
		return err
	}
	if err := backoff.Retry(op, backoff.WithContext(b, ctx)); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("%w (gave up waiting: %v)", err, ctx.Err())
		}
		return "", err
	}
	return status, nil
}

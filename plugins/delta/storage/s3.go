package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config says how to reach an S3-compatible store (AWS S3, MinIO).
type S3Config struct {
	// Endpoint is host:port (or a URL, whose scheme then sets Secure).
	// Empty means AWS (s3.amazonaws.com, TLS).
	Endpoint string
	// Region, e.g. us-east-1; empty lets the client ask the bucket.
	Region string
	// AccessKeyID and SecretAccessKey (and SessionToken for temporary
	// credentials). When AccessKeyID is empty the usual chain is used:
	// AWS_* / MINIO_* environment variables, ~/.aws/credentials, then the
	// instance's IAM role.
	AccessKeyID, SecretAccessKey, SessionToken string
	// Secure uses HTTPS.
	Secure bool
	// PathStyle addresses buckets as endpoint/bucket (MinIO's default)
	// rather than bucket.endpoint.
	PathStyle bool
	// MaxRetries bounds the client's retries of a failed request (default 4),
	// so an unreachable store fails in seconds rather than hanging.
	MaxRetries int
	// PartSize is the multipart upload part size for Write (default 16 MiB).
	PartSize uint64
}

const defaultS3PartSize = 16 << 20

// S3 is a table under s3://bucket/prefix. Commits use conditional writes
// (If-None-Match: *), which AWS S3 and MinIO support; no lock service is
// needed.
type S3 struct {
	client   *minio.Client
	bucket   string
	prefix   string // "" or "path/to/table/" (with the trailing slash)
	location string
	partSize uint64
}

// NewS3 returns the storage of the table at location "s3://bucket/prefix".
// Credentials never appear in errors or in Location.
func NewS3(location string, c S3Config) (Storage, error) {
	bucket, prefix, err := parseS3Location(location)
	if err != nil {
		return nil, err
	}
	endpoint, secure := c.Endpoint, c.Secure
	if endpoint == "" {
		endpoint, secure = "s3.amazonaws.com", true
	}
	if strings.Contains(endpoint, "://") {
		u, err := url.Parse(endpoint)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("delta s3: invalid endpoint %q", endpoint)
		}
		endpoint, secure = u.Host, u.Scheme == "https"
	}
	var creds *credentials.Credentials
	if c.AccessKeyID != "" {
		creds = credentials.NewStaticV4(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
	} else {
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{},
			&credentials.EnvMinio{},
			&credentials.FileAWSCredentials{},
			&credentials.IAM{},
		})
	}
	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil, fmt.Errorf("delta s3: %w", err)
	}
	// Fail fast on an unreachable endpoint; long uploads are not limited.
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	lookup := minio.BucketLookupAuto
	if c.PathStyle {
		lookup = minio.BucketLookupPath
	}
	retries := c.MaxRetries
	if retries <= 0 {
		retries = 4
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds:        creds,
		Secure:       secure,
		Region:       c.Region,
		BucketLookup: lookup,
		Transport:    tr,
		MaxRetries:   retries,
	})
	if err != nil {
		return nil, fmt.Errorf("delta s3 %s: %w", location, err)
	}
	partSize := c.PartSize
	if partSize == 0 {
		partSize = defaultS3PartSize
	}
	loc := "s3://" + bucket
	if prefix != "" {
		loc += "/" + strings.TrimSuffix(prefix, "/")
	}
	return &S3{client: client, bucket: bucket, prefix: prefix, location: loc, partSize: partSize}, nil
}

func parseS3Location(location string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(location, "s3://")
	if !ok {
		rest, ok = strings.CutPrefix(location, "s3a://")
	}
	if !ok {
		return "", "", fmt.Errorf("delta s3: location %q does not start with s3://", location)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("delta s3: no bucket in %q", location)
	}
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		if _, err := cleanRel(prefix); err != nil {
			return "", "", fmt.Errorf("delta s3: location %q: %w", location, err)
		}
		prefix += "/"
	}
	return bucket, prefix, nil
}

// Location is s3://bucket/prefix.
func (s *S3) Location() string { return s.location }

func (s *S3) key(p string) (string, error) {
	p, err := cleanRel(p)
	if err != nil {
		return "", fmt.Errorf("%s: %w", s.location, err)
	}
	return s.prefix + p, nil
}

// s3Error describes a failed request without credentials: the operation,
// the object, and the store's error code or the network error.
func (s *S3) s3Error(op, p string, err error) error {
	return fmt.Errorf("%s %s/%s: %w", op, s.location, p, err)
}

func errorResponse(err error) (minio.ErrorResponse, bool) {
	var er minio.ErrorResponse
	if errors.As(err, &er) {
		return er, true
	}
	return er, false
}

func isNotFound(err error) bool {
	er, ok := errorResponse(err)
	return ok && (er.Code == "NoSuchKey" || er.StatusCode == http.StatusNotFound && er.Code != "NoSuchBucket")
}

// Read gets the whole object.
func (s *S3) Read(ctx context.Context, p string) ([]byte, error) {
	key, err := s.key(p)
	if err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		if isNotFound(err) {
			return nil, s.s3Error("reading", p, ErrNotExist)
		}
		return nil, s.s3Error("reading", p, err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		if isNotFound(err) {
			return nil, s.s3Error("reading", p, ErrNotExist)
		}
		return nil, s.s3Error("reading", p, err)
	}
	return data, nil
}

// PutIfAbsent is a conditional PUT with If-None-Match: * ; the store answers
// 412 Precondition Failed when the key exists. AWS answers 409
// ConditionalRequestConflict while a concurrent conditional write to the key
// is in flight: that is retried until one of them is settled.
func (s *S3) PutIfAbsent(ctx context.Context, p string, data []byte) error {
	key, err := s.key(p)
	if err != nil {
		return err
	}
	err = backoff.Retry(func() error {
		opts := minio.PutObjectOptions{ContentType: contentType(p), DisableMultipart: true}
		opts.SetMatchETagExcept("*")
		_, err := s.client.PutObject(ctx, s.bucket, key, bytes.NewReader(data), int64(len(data)), opts)
		if err == nil {
			return nil
		}
		er, ok := errorResponse(err)
		switch {
		case ok && (er.Code == "PreconditionFailed" || er.StatusCode == http.StatusPreconditionFailed):
			return backoff.Permanent(ErrExist)
		case ok && er.StatusCode == http.StatusConflict:
			return err // another conditional write to the key is in flight
		}
		return backoff.Permanent(err)
	}, backoff.WithContext(backoff.WithMaxRetries(conflictBackOff(), 20), ctx))
	if err != nil {
		return s.s3Error("creating", p, err)
	}
	return nil
}

// conflictBackOff spaces the retries of a conditional write that met
// another one in flight: 50 ms doubling to 1 s.
func conflictBackOff() backoff.BackOff {
	b := &backoff.ExponentialBackOff{InitialInterval: 50 * time.Millisecond, Multiplier: 2, MaxInterval: time.Second,
		Stop: backoff.Stop, Clock: backoff.SystemClock}
	b.Reset()
	return b
}

// Write uploads r; a large one is a multipart upload, which becomes visible
// only when completed. With an unknown size (-1; a data file streamed as it
// is written) the first part is read first: a file that fits in it, as most
// do, is one PUT of known size (one request instead of a multipart upload's
// three, retried by the client on its own, from a pooled buffer the size of
// the file rather than a part-sized one per file); a bigger one goes on as a
// multipart upload from what was read.
func (s *S3) Write(ctx context.Context, p string, r io.Reader, size int64) error {
	key, err := s.key(p)
	if err != nil {
		return err
	}
	if size < 0 {
		bp := uploadBufs.Get().(*[]byte)
		defer func() {
			if cap(*bp) <= maxPooledUpload {
				*bp = (*bp)[:0]
				uploadBufs.Put(bp)
			}
		}()
		head, rerr := readUpTo(r, (*bp)[:0], int(s.partSize))
		*bp = head
		switch {
		case rerr == io.EOF:
			r, size = bytes.NewReader(head), int64(len(head))
		case rerr != nil:
			return s.s3Error("writing", p, rerr)
		default:
			r = io.MultiReader(bytes.NewReader(head), r)
		}
	}
	_, err = s.client.PutObject(ctx, s.bucket, key, r, size, minio.PutObjectOptions{
		ContentType: contentType(p),
		PartSize:    s.partSize,
	})
	if err != nil {
		return s.s3Error("writing", p, err)
	}
	return nil
}

// uploadBufs holds the buffers Write reads a file of unknown size into;
// one that grew past maxPooledUpload is left to the collector.
var uploadBufs = sync.Pool{New: func() any { b := make([]byte, 0, 256<<10); return &b }}

const maxPooledUpload = defaultS3PartSize

// readUpTo appends what r gives to buf until limit bytes (nil error: r may
// have more) or r ends (io.EOF: buf holds all of it) or fails.
func readUpTo(r io.Reader, buf []byte, limit int) ([]byte, error) {
	for len(buf) < limit {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(max(cap(buf), 64<<10), limit-len(buf)))
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), limit)])
		buf = buf[:len(buf)+n]
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

func contentType(p string) string {
	switch {
	case strings.HasSuffix(p, ".json"):
		return "application/json"
	case strings.HasSuffix(p, ".parquet"):
		return "application/vnd.apache.parquet"
	}
	return "application/octet-stream"
}

// List returns the objects under prefix (recursively), sorted by key.
func (s *S3) List(ctx context.Context, prefix string) ([]FileInfo, error) {
	return s.ListAfter(ctx, prefix, "")
}

// ListAfter lists from startAfter on (S3 start-after), so the replay of a
// long log lists only its tail.
func (s *S3) ListAfter(ctx context.Context, prefix, startAfter string) ([]FileInfo, error) {
	opts := minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true}
	if startAfter != "" {
		opts.StartAfter = s.prefix + startAfter
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing goroutine on an early return
	var out []FileInfo
	for obj := range s.client.ListObjects(ctx, s.bucket, opts) {
		if obj.Err != nil {
			return nil, fmt.Errorf("listing %s/%s: %w", s.location, prefix, obj.Err)
		}
		rel := strings.TrimPrefix(obj.Key, s.prefix)
		if strings.HasSuffix(rel, "/") || rel <= startAfter {
			continue // folder markers
		}
		out = append(out, FileInfo{Path: rel, Size: obj.Size, ModTime: obj.LastModified})
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("listing %s/%s: %w", s.location, prefix, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Delete removes the object; S3 treats a missing key as deleted.
func (s *S3) Delete(ctx context.Context, p string) error {
	key, err := s.key(p)
	if err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil && !isNotFound(err) {
		return s.s3Error("deleting", p, err)
	}
	return nil
}

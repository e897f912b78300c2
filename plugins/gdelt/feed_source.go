package gdelt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// errNotFound marks a file that the source does not have (HTTP 404, no such file).
var errNotFound = errors.New("not found")

// Source fetches files of a GDELT 2.0 mirror by name.
type Source interface {
	// Open returns the file's content. A missing file gives an error wrapping errNotFound.
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	// Fetch reads a whole file, retrying transient failures (including a body
	// cut short) as the source's retry policy allows. sizeHint pre-sizes the buffer.
	Fetch(ctx context.Context, name string, sizeHint int64) ([]byte, error)
	// Location names a file for logs and errors (its URL or path).
	Location(name string) string
}

// NewSource returns a directory source for a local path or file:// URL, and an
// HTTP source for an http(s) URL.
func NewSource(base string, client *http.Client, retry RetryPolicy) (Source, error) {
	switch {
	case strings.HasPrefix(base, "http://"), strings.HasPrefix(base, "https://"):
		u, err := url.Parse(base)
		if err != nil {
			return nil, fmt.Errorf("base_url %q: %w", base, err)
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		if client == nil {
			client = &http.Client{Timeout: 5 * time.Minute}
		}
		return &httpSource{base: u, client: client, retry: retry}, nil
	case strings.HasPrefix(base, "file://"):
		return dirSource(strings.TrimPrefix(base, "file://")), nil
	case strings.Contains(base, "://"):
		return nil, fmt.Errorf("base_url %q: want an http(s) URL, a file:// URL or a directory", base)
	}
	return dirSource(base), nil
}

type dirSource string

func (d dirSource) Location(name string) string { return filepath.Join(string(d), name) }

func (d dirSource) Fetch(_ context.Context, name string, _ int64) ([]byte, error) {
	b, err := os.ReadFile(d.Location(name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", d.Location(name), errNotFound)
	}
	return b, err
}

func (d dirSource) Open(_ context.Context, name string) (io.ReadCloser, error) {
	f, err := os.Open(d.Location(name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", d.Location(name), errNotFound)
	}
	return f, err
}

// RetryPolicy bounds the attempts at a transient HTTP failure (network error, 5xx, 429).
type RetryPolicy struct {
	MaxAttempts    int
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
}

func (p RetryPolicy) backoff(attempt int) time.Duration {
	d := p.InitialBackoff << (attempt - 1)
	if d > p.MaxBackoff || d <= 0 {
		d = p.MaxBackoff
	}
	// Full jitter in [d/2, d] so that replicas do not retry in step.
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

type httpSource struct {
	base   *url.URL
	client *http.Client
	retry  RetryPolicy
}

func (h *httpSource) Location(name string) string {
	return h.base.ResolveReference(&url.URL{Path: name}).String()
}

// httpStatusError is a non-200 answer.
type httpStatusError struct {
	URL  string
	Code int
}

func (e *httpStatusError) Error() string { return fmt.Sprintf("GET %s: HTTP %d", e.URL, e.Code) }

func transient(err error) bool {
	var se *httpStatusError
	if errors.As(err, &se) {
		return se.Code >= 500 || se.Code == http.StatusTooManyRequests || se.Code == http.StatusRequestTimeout
	}
	return !errors.Is(err, errNotFound) && !errors.Is(err, context.Canceled)
}

func (h *httpSource) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	var body io.ReadCloser
	err := h.withRetry(ctx, func() (err error) {
		body, err = h.get(ctx, h.Location(name))
		return err
	})
	return body, err
}

func (h *httpSource) Fetch(ctx context.Context, name string, sizeHint int64) ([]byte, error) {
	var data []byte
	err := h.withRetry(ctx, func() error {
		body, err := h.get(ctx, h.Location(name))
		if err != nil {
			return err
		}
		defer body.Close()
		buf := bytes.NewBuffer(make([]byte, 0, max(sizeHint, 0)+bytes.MinRead))
		if _, err := buf.ReadFrom(body); err != nil {
			return fmt.Errorf("GET %s: reading body: %w", h.Location(name), err)
		}
		data = buf.Bytes()
		return nil
	})
	return data, err
}

// withRetry runs fn until it succeeds, fails for good, or the attempts run out.
func (h *httpSource) withRetry(ctx context.Context, fn func() error) error {
	attempts := max(h.retry.MaxAttempts, 1)
	var err error
	for attempt := 1; ; attempt++ {
		if err = fn(); err == nil {
			return nil
		}
		if !transient(err) || attempt >= attempts || ctx.Err() != nil {
			break
		}
		select {
		case <-time.After(h.retry.backoff(attempt)):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if attempts > 1 && transient(err) && ctx.Err() == nil {
		return fmt.Errorf("after %d attempts: %w", attempts, err)
	}
	return err
}

func (h *httpSource) get(ctx context.Context, u string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		return resp.Body, nil
	case resp.StatusCode == http.StatusNotFound:
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: HTTP 404: %w", u, errNotFound)
	}
	resp.Body.Close()
	return nil, &httpStatusError{URL: u, Code: resp.StatusCode}
}

package gdelt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// errNotFound marks a file that the source does not have (HTTP 404, no such file).
var errNotFound = errors.New("not found")

// Source fetches files of a GDELT 2.0 mirror by name.
type Source interface {
	// Open returns the file's content. A missing file gives an error wrapping errNotFound.
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	// Fetch reads a whole file of the listed size, retrying transient
	// failures (including a body cut short) as the source's retry policy
	// allows. It never reads more than size+1 bytes: a longer body is a
	// *BodyTooLongError, so a server that never stops cannot fill memory.
	Fetch(ctx context.Context, name string, size int64) ([]byte, error)
	// Location names a file for logs, errors and checkpoints (its URL, with
	// any password in base_url redacted, or its path).
	Location(name string) string
}

// BodyTooLongError is a file with more bytes than its list line says; it is
// recorded as size_mismatch and not retried.
type BodyTooLongError struct {
	Location string
	Listed   int64
	Length   int64 // the announced Content-Length, -1 when the body ran past the listed size
}

// Error leaves the location out: the FileError that records it names it.
func (e *BodyTooLongError) Error() string {
	if e.Length >= 0 {
		return fmt.Sprintf("the file is %d bytes, the list says %d", e.Length, e.Listed)
	}
	return fmt.Sprintf("the body goes on past the %d bytes the list says; stopped reading there", e.Listed)
}

// RedirectError is a redirect to another scheme or host, which the feed
// refuses: list lines and base_url decide where files come from, not the server.
type RedirectError struct{ From, To string }

func (e *RedirectError) Error() string {
	return fmt.Sprintf("refused a redirect from %s to %s: only redirects within the same scheme and host are followed", e.From, e.To)
}

// NewSource returns a directory source for a local path or file:// URL, and an
// HTTP source for an http(s) URL. log (may be nil) hears of every retry.
func NewSource(base string, client *http.Client, retry RetryPolicy, log Logger) (Source, error) {
	switch {
	case strings.HasPrefix(base, "http://"), strings.HasPrefix(base, "https://"):
		u, err := url.Parse(base)
		if err != nil {
			// The URL may hold a password: name the problem, not the URL.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return nil, fmt.Errorf("base_url is not a valid URL: %w", err)
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		c := &http.Client{Timeout: 5 * time.Minute}
		if client != nil {
			cc := *client
			c = &cc
		}
		c.CheckRedirect = sameHostRedirects
		return &httpSource{base: u, client: c, retry: retry, log: log}, nil
	case strings.HasPrefix(base, "file://"):
		return dirSource(strings.TrimPrefix(base, "file://")), nil
	case strings.Contains(base, "://"):
		shown := base
		if u, err := url.Parse(base); err == nil {
			shown = u.Redacted()
		} else {
			shown = base[:strings.Index(base, "://")+3] + "…"
		}
		return nil, fmt.Errorf("base_url %q: want an http(s) URL, a file:// URL or a directory", shown)
	}
	return dirSource(base), nil
}

// sameHostRedirects follows redirects within the scheme and host of the
// first request only.
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	first := via[0].URL
	if req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
		return &RedirectError{From: first.Redacted(), To: req.URL.Redacted()}
	}
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	return nil
}

type dirSource string

func (d dirSource) Location(name string) string { return filepath.Join(string(d), name) }

func (d dirSource) Fetch(_ context.Context, name string, size int64) ([]byte, error) {
	f, err := os.Open(d.Location(name))
	if err != nil {
		return nil, d.openErr(name, err)
	}
	defer f.Close()
	hint := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		if st.Size() > size {
			return nil, &BodyTooLongError{Location: d.Location(name), Listed: size, Length: st.Size()}
		}
		hint = st.Size()
	}
	return readAtMost(f, d.Location(name), size, hint)
}

func (d dirSource) Open(_ context.Context, name string) (io.ReadCloser, error) {
	f, err := os.Open(d.Location(name))
	if err != nil {
		return nil, d.openErr(name, err)
	}
	return f, nil
}

func (d dirSource) openErr(name string, err error) error {
	// A base_url that is a file, not a folder, names no mirror either.
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("%s: %w (no such file)", d.Location(name), errNotFound)
	}
	return err
}

// readAtMost reads r whole when it holds at most size bytes, and fails with a
// *BodyTooLongError as soon as it holds more. The buffer is sized from the
// body's known length (hint, -1: unknown), not from the list line alone: a
// line may claim up to max_file_bytes for a file of a few bytes.
func readAtMost(r io.Reader, location string, size, hint int64) ([]byte, error) {
	size = max(size, 0)
	prealloc := min(size, 8<<20)
	if hint >= 0 && hint <= size {
		prealloc = hint
	}
	buf := bytes.NewBuffer(make([]byte, 0, prealloc+bytes.MinRead))
	n, err := buf.ReadFrom(io.LimitReader(r, size+1))
	if err != nil {
		return nil, err
	}
	if n > size {
		return nil, &BodyTooLongError{Location: location, Listed: size, Length: -1}
	}
	return buf.Bytes(), nil
}

// RetryPolicy bounds the attempts at a transient HTTP failure (network error, 5xx, 429).
type RetryPolicy struct {
	MaxAttempts    int
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
}

// newBackOff is the policy's delays: the engine's exponential backoff
// (github.com/cenkalti/backoff, as Benthos' own retries), doubling from
// InitialBackoff to MaxBackoff, jittered ±50% so that replicas do not retry
// in step. The number of attempts is the policy's own (MaxAttempts).
func (p RetryPolicy) newBackOff() *backoff.ExponentialBackOff {
	return newExponential(p.InitialBackoff, p.MaxBackoff, 0.5)
}

// newExponential is the one retry schedule of the feed (files and lists).
func newExponential(initial, maxDelay time.Duration, jitter float64) *backoff.ExponentialBackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval, b.Multiplier, b.RandomizationFactor = initial, maxDelay, 2, jitter
	b.MaxElapsedTime = 0 // the callers bound the attempts or the time themselves
	b.Reset()
	return b
}

type httpSource struct {
	base   *url.URL // may hold credentials: requests only, never shown
	client *http.Client
	retry  RetryPolicy
	log    Logger
}

// url is where a file is requested, credentials included.
func (h *httpSource) url(name string) *url.URL { return h.base.ResolveReference(&url.URL{Path: name}) }

// Location is the file's URL with any password replaced by "xxxxx".
func (h *httpSource) Location(name string) string { return h.url(name).Redacted() }

// httpStatusError is a non-200 answer.
type httpStatusError struct {
	URL  string
	Code int
}

func (e *httpStatusError) Error() string { return fmt.Sprintf("GET %s: HTTP %d", e.URL, e.Code) }

// transient reports whether err may pass by retrying: network errors, HTTP
// 5xx, 408 and 429. A missing file, a refused redirect, a body longer than
// listed, a list over its size limit or a permission error will not.
func transient(err error) bool {
	var se *httpStatusError
	if errors.As(err, &se) {
		return se.Code >= 500 || se.Code == http.StatusTooManyRequests || se.Code == http.StatusRequestTimeout
	}
	var re *RedirectError
	var tl *BodyTooLongError
	var lb *ListTooBigError
	if errors.As(err, &re) || errors.As(err, &tl) || errors.As(err, &lb) {
		return false
	}
	return !errors.Is(err, errNotFound) && !errors.Is(err, context.Canceled) && !errors.Is(err, os.ErrPermission)
}

func (h *httpSource) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	var body io.ReadCloser
	err := h.withRetry(ctx, name, func() (err error) {
		body, _, err = h.get(ctx, name)
		return err
	})
	return body, err
}

func (h *httpSource) Fetch(ctx context.Context, name string, size int64) ([]byte, error) {
	var data []byte
	err := h.withRetry(ctx, name, func() error {
		body, length, err := h.get(ctx, name)
		if err != nil {
			return err
		}
		defer body.Close()
		if length > size {
			return &BodyTooLongError{Location: h.Location(name), Listed: size, Length: length}
		}
		if data, err = readAtMost(body, h.Location(name), size, length); err != nil {
			var tl *BodyTooLongError
			if errors.As(err, &tl) {
				return err
			}
			return fmt.Errorf("GET %s: reading body: %w", h.Location(name), err)
		}
		return nil
	})
	return data, err
}

// withRetry runs fn until it succeeds, fails for good, or the attempts run
// out. Every retry is logged at warn level, the first one included: a feed
// that is waiting says so.
func (h *httpSource) withRetry(ctx context.Context, name string, fn func() error) error {
	attempts := max(h.retry.MaxAttempts, 1)
	bo := h.retry.newBackOff()
	var err error
	for attempt := 1; ; attempt++ {
		if err = fn(); err == nil {
			return nil
		}
		if !transient(err) || attempt >= attempts || ctx.Err() != nil {
			break
		}
		delay := bo.NextBackOff()
		if h.log != nil {
			h.log.Warnf("gdelt_feed: %v; attempt %d of %d failed, retrying in %s", err, attempt, attempts, delay.Round(time.Millisecond))
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if attempts > 1 && transient(err) && ctx.Err() == nil {
		return fmt.Errorf("after %d attempts: %w", attempts, err)
	}
	return err
}

// get requests a file and returns its body and announced length (-1: unknown).
func (h *httpSource) get(ctx context.Context, name string) (io.ReadCloser, int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url(name).String(), nil)
	if err != nil {
		return nil, 0, fmt.Errorf("GET %s: %w", h.Location(name), err)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		// The client's *url.Error names the URL its own way: name it ours
		// (password redacted) and keep the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, 0, fmt.Errorf("GET %s: %w", h.Location(name), err)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		return resp.Body, resp.ContentLength, nil
	case resp.StatusCode == http.StatusNotFound:
		resp.Body.Close()
		return nil, 0, fmt.Errorf("GET %s: HTTP 404: %w", h.Location(name), errNotFound)
	}
	resp.Body.Close()
	return nil, 0, &httpStatusError{URL: h.Location(name), Code: resp.StatusCode}
}

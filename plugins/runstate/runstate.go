// Package runstate is the process-wide state of a gdeltflow run that the
// Benthos engine has no place for: whether the process is a finite job (a
// backfill) that must end, and why it failed when it could not do its work.
//
// The engine retries everything for ever, which is right for a service that
// follows a live feed and wrong for a backfill started by cron or CI: a
// scheduler must see a non-zero exit, within a bounded time, with one line
// saying why. So components report failures here:
//
//   - Fail records a failure that no retry can mend (a master list that does
//     not exist, a damaged table): the run stops at once.
//   - A Clock times a failure that may pass (storage down, a network error):
//     in a job it becomes a Fail once it has lasted the job's give-up time; in
//     a service (no job started) it never does, and the component keeps
//     retrying and logging.
//
// A Fail calls the shutdown function the binary installed (cmd/benthos stops
// the stream gracefully, as on SIGTERM), and the binary exits with ExitFailed
// and the failure's one line. Without an installed shutdown (a test that
// builds a stream in-process), the failure is only recorded.
package runstate

import (
	"fmt"
	"sync"
	"time"
)

// ExitFailed is the exit code of a run that stopped on a Failure. Benthos
// itself exits 1 for a config it refuses.
const ExitFailed = 2

// Failure is why a run could not do its work.
type Failure struct {
	Component string // who failed, e.g. "gdelt_feed" or "delta_lake ./out/bronze/events"
	Cause     string // what went wrong
	Remedy    string // what to do about it
}

// Error reads "<component>: <cause>; <remedy>", one line.
func (f *Failure) Error() string {
	s := f.Component + ": " + f.Cause
	if f.Remedy != "" {
		s += "; " + f.Remedy
	}
	return s
}

var (
	mu          sync.Mutex
	failure     *Failure
	shutdown    func()
	job         bool
	giveUpAfter time.Duration
)

// SetShutdown installs the function that stops the run gracefully. The
// binary calls it once before the stream starts.
func SetShutdown(fn func()) {
	mu.Lock()
	defer mu.Unlock()
	shutdown = fn
}

// Fail records the run's failure (the first one wins) and stops the run. It
// is safe to call from any goroutine, more than once.
func Fail(component string, cause error, remedy string) {
	mu.Lock()
	if failure != nil {
		mu.Unlock()
		return
	}
	failure = &Failure{Component: component, Cause: oneLine(cause.Error()), Remedy: remedy}
	stop := shutdown
	mu.Unlock()
	if stop != nil {
		stop()
	}
}

// Failed returns the run's failure, nil while there is none.
func Failed() *Failure {
	mu.Lock()
	defer mu.Unlock()
	return failure
}

// StartJob marks the run as a finite job: a failure that lasts giveUpAfter
// (measured by a Clock) fails the run. 0 or less: never give up.
func StartJob(after time.Duration) {
	mu.Lock()
	defer mu.Unlock()
	job = true
	if after > 0 && (giveUpAfter <= 0 || after < giveUpAfter) {
		giveUpAfter = after
	}
}

// Job reports whether the run is a finite job, and its give-up time.
func Job() (bool, time.Duration) {
	mu.Lock()
	defer mu.Unlock()
	return job, giveUpAfter
}

// Reset forgets the failure, the job and the shutdown function (tests).
func Reset() {
	mu.Lock()
	defer mu.Unlock()
	failure, shutdown, job, giveUpAfter = nil, nil, false, 0
}

// Clock times one component's ongoing failure.
type Clock struct {
	component string
	mu        sync.Mutex
	since     time.Time // zero: not failing
	now       func() time.Time
}

// NewClock returns a clock for component.
func NewClock(component string) *Clock {
	return &Clock{component: component, now: time.Now}
}

// Failing records that the component failed again with err. In a job whose
// give-up time has passed since the failure began, it fails the run (with
// remedy) and returns true: the caller stops retrying.
func (c *Clock) Failing(err error, remedy string) bool {
	c.mu.Lock()
	now := c.now()
	if c.since.IsZero() {
		c.since = now
	}
	lasted := now.Sub(c.since)
	c.mu.Unlock()
	isJob, after := Job()
	if !isJob || after <= 0 || lasted < after {
		return false
	}
	Fail(c.component, fmt.Errorf("failing for %s: %w", lasted.Round(time.Second), err), remedy)
	return true
}

// Since returns how long the component has been failing (0: it is not).
func (c *Clock) Since() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.since.IsZero() {
		return 0
	}
	return c.now().Sub(c.since)
}

// OK records a success: the failure, if any, is over.
func (c *Clock) OK() {
	c.mu.Lock()
	c.since = time.Time{}
	c.mu.Unlock()
}

func oneLine(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '\n' || c == '\r' {
			b[i] = ' '
		}
	}
	return string(b)
}

package delta

import (
	"time"

	"github.com/cenkalti/backoff/v4"
)

// The one retry policy of the Delta writes: waits that start at 1 s and
// double up to 30 s. It is a github.com/cenkalti/backoff/v4 policy, the
// engine's own backoff package, so the delta_lake output's backoff field
// (service.NewBackOffField) configures the same thing its callers here take.
// What ends the retries is the caller's: a number of attempts, its context,
// or the policy's MaxElapsedTime.

// DefaultBackOff is a fresh policy of 1 s doubling to 30 s, without end and
// without jitter. A backoff.BackOff keeps state (not safe for concurrent
// use): make one for each run of retries.
func DefaultBackOff() backoff.BackOff {
	b := &backoff.ExponentialBackOff{
		InitialInterval:     time.Second,
		RandomizationFactor: 0,
		Multiplier:          2,
		MaxInterval:         30 * time.Second,
		MaxElapsedTime:      0,
		Stop:                backoff.Stop,
		Clock:               backoff.SystemClock,
	}
	b.Reset()
	return b
}

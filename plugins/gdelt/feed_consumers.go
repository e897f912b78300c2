package gdelt

import (
	"sync"

	"github.com/redpanda-data/benthos/v4/public/service"
)

// ConsumerNeeds is what a stateful consumer of the feed's rows in the same
// stream (gdelt_join) needs the feed to read besides the windows it would
// read anyway, so that the consumer's output does not depend on where a run
// started or stopped:
//
//   - Rewind: after a restart, read this many windows before the checkpoint
//     again, to rebuild the consumer's state (the windows' outputs are
//     committed already and skipped by their txn).
//   - Lookahead: a backfill that stops at `to` reads this many windows after
//     it, when the list has them, so that window `to` is completed with the
//     rows it depends on (the GKG of the next window), as a longer run would
//     complete it.
//
// Consumers register at construction (RegisterConsumer); the feed reads the
// largest needs when it connects, so the two settings can never disagree.
type ConsumerNeeds struct {
	Rewind    int
	Lookahead int
}

type consumerRegistry struct {
	mu    sync.Mutex
	needs ConsumerNeeds
	names []string
}

type consumerKey struct{}

func registry(mgr *service.Resources) *consumerRegistry {
	r, _ := mgr.GetOrSetGeneric(consumerKey{}, &consumerRegistry{})
	return r.(*consumerRegistry)
}

// RegisterConsumer records a stateful consumer's needs in the stream of mgr.
func RegisterConsumer(mgr *service.Resources, name string, n ConsumerNeeds) {
	r := registry(mgr)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.needs.Rewind = max(r.needs.Rewind, n.Rewind)
	r.needs.Lookahead = max(r.needs.Lookahead, n.Lookahead)
	r.names = append(r.names, name)
}

// RegisteredNeeds returns the largest needs of the stream's consumers, and
// their names (none: zero needs).
func RegisteredNeeds(mgr *service.Resources) (ConsumerNeeds, []string) {
	r := registry(mgr)
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.needs, append([]string(nil), r.names...)
}

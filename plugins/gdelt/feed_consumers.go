package gdelt

import (
	"context"
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
//   - RewindFrom: when set, it replaces Rewind. The feed calls it once, at
//     Connect, with its checkpoint (the newest window whose rows were all
//     acknowledged, an id; 0 on a first start) and reads again the number of
//     windows it returns: a consumer that keeps its state at acknowledged
//     windows (gdelt_join's snapshots) asks only for what it cannot restore.
//     Being called also tells the consumer that a feed in its stream
//     acknowledges windows in order, which is what makes that state usable.
//   - Acknowledged: when set, the feed calls it with each checkpoint it has
//     stored (a window id), so that the consumer may drop state a restart
//     from there can no longer need.
//   - Lookahead: a backfill that stops at `to` reads this many windows after
//     it, when the list has them, so that window `to` is completed with the
//     rows it depends on (the GKG of the next window), as a longer run would
//     complete it.
//
// Consumers register at construction (RegisterConsumer); the feed reads the
// largest needs when it connects, so the two settings can never disagree.
type ConsumerNeeds struct {
	Rewind       int
	RewindFrom   func(ctx context.Context, checkpoint int64) int
	Acknowledged func(checkpoint int64)
	Lookahead    int
}

type consumerRegistry struct {
	mu        sync.Mutex
	needs     ConsumerNeeds
	names     []string
	consumers []ConsumerNeeds
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
	r.consumers = append(r.consumers, n)
}

// RegisteredNeeds returns the largest needs of the stream's consumers, and
// their names (none: zero needs). Its Rewind is the largest static one; see
// consumersRewind for the one a restart uses.
func RegisteredNeeds(mgr *service.Resources) (ConsumerNeeds, []string) {
	r := registry(mgr)
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.needs, append([]string(nil), r.names...)
}

// consumersRewind asks every consumer how many windows before checkpoint (a
// window id, 0 for none) it needs read again: RewindFrom's answer, else its
// static Rewind. It returns the largest.
func consumersRewind(ctx context.Context, mgr *service.Resources, checkpoint int64) int {
	r := registry(mgr)
	r.mu.Lock()
	cs := append([]ConsumerNeeds(nil), r.consumers...)
	r.mu.Unlock()
	rewind := 0
	for _, c := range cs {
		n := c.Rewind
		if c.RewindFrom != nil {
			n = c.RewindFrom(ctx, checkpoint)
		}
		rewind = max(rewind, n)
	}
	return rewind
}

// consumersAcknowledged tells the consumers the checkpoint stored.
func consumersAcknowledged(mgr *service.Resources, checkpoint int64) {
	r := registry(mgr)
	r.mu.Lock()
	cs := append([]ConsumerNeeds(nil), r.consumers...)
	r.mu.Unlock()
	for _, c := range cs {
		if c.Acknowledged != nil {
			c.Acknowledged(checkpoint)
		}
	}
}

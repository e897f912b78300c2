package delta

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
)

// run is a stretch of consecutive versions (inclusive).
type run struct{ lo, hi int64 }

// span is the exact set of versions of one source partition in a batch, as
// sorted, merged runs.
type span struct {
	app  string
	runs []run
}

func (s span) min() int64 { return s.runs[0].lo }
func (s span) max() int64 { return s.runs[len(s.runs)-1].hi }

func spansOf(rows []Row) []span {
	byApp := map[string]*[]int64{}
	var apps []string
	var lastApp string
	var last *[]int64 // the versions of lastApp: rows come in runs of one source partition
	for _, r := range rows {
		if r.AppID == "" {
			continue
		}
		if last == nil || r.AppID != lastApp {
			vs, ok := byApp[r.AppID]
			if !ok {
				vs = new([]int64)
				byApp[r.AppID] = vs
				apps = append(apps, r.AppID)
			}
			lastApp, last = r.AppID, vs
		}
		*last = append(*last, r.Version)
	}
	out := make([]span, 0, len(apps))
	for _, app := range apps {
		vs := *byApp[app]
		if !slices.IsSorted(vs) { // usually they come in order
			slices.Sort(vs)
		}
		var runs []run
		for _, v := range vs {
			if n := len(runs); n > 0 && v <= runs[n-1].hi+1 {
				runs[n-1].hi = max(runs[n-1].hi, v)
				continue
			}
			runs = append(runs, run{v, v})
		}
		out = append(out, span{app: app, runs: runs})
	}
	return out
}

// mergeRuns returns the sorted union of two run lists.
func mergeRuns(a, b []run) []run {
	all := append(append([]run(nil), a...), b...)
	sort.Slice(all, func(i, j int) bool { return all[i].lo < all[j].lo })
	var out []run
	for _, r := range all {
		if n := len(out); n > 0 && r.lo <= out[n-1].hi+1 {
			out[n-1].hi = max(out[n-1].hi, r.hi)
			continue
		}
		out = append(out, r)
	}
	return out
}

// subtractRuns returns the versions of a that are not in b.
func subtractRuns(a, b []run) []run {
	var out []run
	for _, r := range a {
		pieces := []run{r}
		for _, c := range b {
			var next []run
			for _, p := range pieces {
				if c.hi < p.lo || c.lo > p.hi {
					next = append(next, p)
					continue
				}
				if p.lo < c.lo {
					next = append(next, run{p.lo, c.lo - 1})
				}
				if p.hi > c.hi {
					next = append(next, run{c.hi + 1, p.hi})
				}
			}
			pieces = next
		}
		out = append(out, pieces...)
	}
	return out
}

// orderGate keeps the txn progress of each source partition sound when
// batches are written concurrently (max_in_flight > 1) or retried out of
// order: a commit records the highest version it holds, so it may only
// happen when no version below that is still uncommitted outside the batch.
// A batch waits for an in-flight batch that starts below it; it fails at once
// (to be retried later) when versions below its highest one are in a failed
// batch not yet committed, or in an in-flight batch that starts inside its
// range. Without this, rows of the failed or interleaved batch would later be
// skipped as duplicates.
type orderGate struct {
	mu      sync.Mutex
	changed chan struct{}
	live    map[*orderTicket]bool
	failed  map[string][]run // by app: versions whose batch failed and that no commit has held since
}

type orderTicket struct{ spans []span }

func newOrderGate() *orderGate {
	return &orderGate{changed: make(chan struct{}), live: map[*orderTicket]bool{}, failed: map[string][]run{}}
}

func (g *orderGate) enter(spans []span) *orderTicket {
	t := &orderTicket{spans: spans}
	g.mu.Lock()
	g.live[t] = true
	g.mu.Unlock()
	return t
}

// blocker reports whether uncommitted versions hold t back, and whether t
// must fail rather than wait.
func (g *orderGate) blocker(t *orderTicket) (blocked, fail bool) {
	for _, s := range t.spans {
		// Failed versions below the batch's highest one that it does not hold.
		var below []run
		for _, f := range g.failed[s.app] {
			if f.lo < s.max() {
				below = append(below, run{f.lo, min(f.hi, s.max()-1)})
			}
		}
		if len(subtractRuns(below, s.runs)) > 0 {
			return true, true
		}
		for o := range g.live {
			if o == t {
				continue
			}
			for _, os := range o.spans {
				if os.app != s.app {
					continue
				}
				switch {
				case os.min() < s.min():
					blocked = true // a predecessor: wait for it
				case os.min() < s.max():
					return true, true // interleaved: let it go first
				}
			}
		}
	}
	return blocked, false
}

func (g *orderGate) wait(ctx context.Context, t *orderTicket, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		g.mu.Lock()
		blocked, fail := g.blocker(t)
		ch := g.changed
		g.mu.Unlock()
		if !blocked {
			return nil
		}
		if fail {
			return ErrOutOfOrder
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return fmt.Errorf("waited %s: %w", timeout, ErrOutOfOrder)
		}
	}
}

func (g *orderGate) leave(t *orderTicket, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.live, t)
	for _, s := range t.spans {
		if ok {
			// Committed (or skipped as already committed): settled.
			if rest := subtractRuns(g.failed[s.app], s.runs); len(rest) > 0 {
				g.failed[s.app] = rest
			} else {
				delete(g.failed, s.app)
			}
		} else {
			g.failed[s.app] = mergeRuns(g.failed[s.app], s.runs)
		}
	}
	close(g.changed)
	g.changed = make(chan struct{})
}

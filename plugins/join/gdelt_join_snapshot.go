package join

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"
)

// State snapshots: a restart in seconds, without reading the retention again.
//
// With a gdelt_feed in the stream (it calls rewindFrom at Connect, which is
// what enables them) and a state_cache, the join stores in the cache the
// events of each window it emits (<key>/events/<window>: the events first
// sighted there, SnapshotEvents) and a manifest (<key>/events/manifest: the
// first window of this line of runs, and the last window stored). Both are
// written before the window's output batch leaves the processor, so a stored
// window is not yet a committed one. A restart trusts the snapshots only of
// windows whose output the feed's checkpoint C proves acknowledged: window W
// is emitted by a batch holding a row or marker of window W+S at most S+1
// later, so windows <= C-S-1 are committed. It restores the events of those
// windows (back to the retention) and asks the feed to read again from
// F = (C-S-1)+1-S: the GKG of the slack before the first window it must
// produce, its mentions and everything after. Windows F..C-S-1 are produced
// again and skipped by their txn, as a full replay's are. With S = 1 the feed
// reads 3 windows again instead of R+S+1 = 194.
//
// Snapshots older than any restart can load (windows before
// C-2S-1-R for the newest stored checkpoint C, which the feed reports through
// Acknowledged) are deleted as the checkpoint moves. A failed write stops the
// storing for the run (logged): a restart then finds the manifest short of
// the checkpoint and reads as far back as it says, at most the full rewind.
// Without a usable manifest (none, another retention, slack or record layout)
// the restart reads the full rewind, as before.

const snapshotFormat = 1

type snapshotManifest struct {
	Format    int       `json:"format"`
	Layout    string    `json:"layout"`    // the event record's fingerprint
	Retention int       `json:"retention"` // R
	Slack     int       `json:"slack"`     // S
	From      int64     `json:"from"`      // window id: the first window of this line of runs; no snapshot before it belongs to it
	Through   int64     `json:"through"`   // window id: every window up to it has its snapshot stored (none: no events)
	UpdatedAt time.Time `json:"updated_at"`
}

type snapshotState struct {
	enabled     bool          // a feed asked at Connect (rewindFrom)
	broken      bool          // a write failed: no more storing in this run
	hasFrom     bool          // from is known
	from        int64         // window index, see snapshotManifest.From
	hasThrough  bool          // through is known
	through     int64         // window index stored through
	low         int64         // the lowest window index that may still be stored
	written     map[int64]int // window index → events stored
	acked       atomic.Int64  // the feed's newest stored checkpoint (window id)
	restored    bool          // this run restored events from snapshots
	restoreLast int64         // the last window index restored (F-1)
}

func (p *gdeltJoinProc) manifestKey() string { return p.key + "/events/manifest" }

func (p *gdeltJoinProc) snapshotKey(window int64) string {
	return p.key + "/events/" + strconv.FormatInt(window, 10)
}

// fullRewind is what the feed must read again without snapshots.
func (p *gdeltJoinProc) fullRewind() int {
	return p.j.cfg.EventRetentionWindows + p.j.cfg.GKGWindowSlack + 1
}

// rewindFrom is the join's ConsumerNeeds.RewindFrom: called by the feed at
// Connect with its checkpoint, it restores what the snapshots allow and
// returns how many windows the feed must read again.
func (p *gdeltJoinProc) rewindFrom(ctx context.Context, checkpoint int64) int {
	full := p.fullRewind()
	if p.cache == "" {
		return full
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.snap.enabled = true
	p.snap.acked.Store(checkpoint)
	if checkpoint == 0 {
		// A first start: a manifest left by an earlier run on this key does
		// not describe this run's windows.
		var derr error
		err := p.mgr.AccessCache(ctx, p.cache, func(c service.Cache) { derr = c.Delete(ctx, p.manifestKey()) })
		if err = errors.Join(err, derr); err != nil {
			p.snap.broken = true
			p.log.Warnf("gdelt_join: deleting the state snapshot manifest of an earlier run: %v; no snapshots are stored in this run (a restart reads the full rewind)", err)
		}
		return full
	}
	n, err := p.restore(ctx, checkpoint)
	if err != nil {
		p.log.Infof("gdelt_join: state snapshots not used (%v): the feed reads again %d windows to rebuild the state", err, full)
		if p.j.Stats().StateEvents > 0 {
			p.j, _ = New(p.j.cfg) // undo a partial restore
		}
		p.snap.restored, p.snap.written = false, nil
		return full
	}
	return n
}

// restore loads the snapshots a restart at checkpoint may trust into the
// joiner and returns the windows the feed must read again.
func (p *gdeltJoinProc) restore(ctx context.Context, checkpoint int64) (int, error) {
	full := p.fullRewind()
	c, ok := windowIndex(checkpoint)
	if !ok {
		return full, fmt.Errorf("checkpoint %d is not a window id", checkpoint)
	}
	var raw []byte
	var gerr error
	if err := p.mgr.AccessCache(ctx, p.cache, func(cc service.Cache) { raw, gerr = cc.Get(ctx, p.manifestKey()) }); err != nil {
		return full, err
	}
	if errors.Is(gerr, service.ErrKeyNotFound) {
		return full, errors.New("no manifest")
	}
	if gerr != nil {
		return full, fmt.Errorf("reading the manifest: %w", gerr)
	}
	var m snapshotManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return full, fmt.Errorf("manifest: %w", err)
	}
	r, s := int64(p.j.cfg.EventRetentionWindows), int64(p.j.cfg.GKGWindowSlack)
	switch {
	case m.Format != snapshotFormat:
		return full, fmt.Errorf("manifest format %d, want %d", m.Format, snapshotFormat)
	case m.Layout != strconv.FormatUint(p.j.l.fingerprint(), 16):
		return full, errors.New("written for another event layout")
	case int64(m.Retention) != r || int64(m.Slack) != s:
		return full, fmt.Errorf("written with retention %d and slack %d, now %d and %d", m.Retention, m.Slack, r, s)
	}
	from, ok1 := windowIndex(m.From)
	through, ok2 := windowIndex(m.Through)
	if !ok1 || !ok2 {
		return full, errors.New("manifest windows are not window ids")
	}
	// The newest window whose output is proven committed, and the first
	// window the feed must read again.
	e := min(c-s-1, through)
	f := e + 1 - s
	rewind := c - f + 1
	if rewind >= int64(full) {
		return full, fmt.Errorf("the snapshots stop at window %d, %d windows before the checkpoint", m.Through, c-through)
	}
	lo := max(f-r, from)
	events, windows := 0, 0
	var loadErr error
	err := p.mgr.AccessCache(ctx, p.cache, func(cc service.Cache) {
		for w := lo; w < f; w++ {
			b, err := cc.Get(ctx, p.snapshotKey(windowID(w)))
			if errors.Is(err, service.ErrKeyNotFound) {
				continue // a window without events
			}
			if err != nil {
				loadErr = fmt.Errorf("reading the snapshot of window %d: %w", windowID(w), err)
				return
			}
			n, err := p.j.RestoreEvents(windowID(w), b)
			if err != nil {
				loadErr = err
				return
			}
			if p.snap.written == nil {
				p.snap.written = map[int64]int{}
			}
			p.snap.written[w] = n
			events += n
			windows++
		}
	})
	if err = errors.Join(err, loadErr); err != nil {
		return full, err
	}
	p.snap.restored, p.snap.restoreLast = true, f-1
	p.snap.hasFrom, p.snap.from = true, from
	p.snap.hasThrough, p.snap.through = true, f-1
	p.snap.low = lo
	p.log.Infof("gdelt_join: restored %d events of %d windows (%d to %d) from the state snapshots in cache %q; the feed reads again the %d windows from %d (instead of %d)",
		events, windows, windowID(lo), windowID(f-1), p.cache, rewind, windowID(f), full)
	return int(rewind), nil
}

// acknowledged is the join's ConsumerNeeds.Acknowledged.
func (p *gdeltJoinProc) acknowledged(checkpoint int64) { p.snap.acked.Store(checkpoint) }

// storeSnapshots writes the snapshots of the windows emitted since the last
// call (and again those whose events changed: late events), the manifest,
// and deletes the snapshots no restart can load any more. It runs in
// ProcessBatch, before the batch carrying the windows leaves.
func (p *gdeltJoinProc) storeSnapshots(ctx context.Context) {
	if !p.snap.enabled || p.snap.broken || p.cache == "" || !p.j.hasEmitted || !p.snap.hasFrom {
		return
	}
	emitted := p.j.emitted
	start := p.snap.from
	if p.snap.hasThrough {
		start = p.snap.through + 1
	}
	if p.snap.written == nil {
		p.snap.written = map[int64]int{}
	}
	changed := start <= emitted
	var failed error
	err := p.mgr.AccessCache(ctx, p.cache, func(c service.Cache) {
		put := func(w int64) bool {
			snap, n := p.j.SnapshotEvents(windowID(w))
			var err error
			if n == 0 {
				err = c.Delete(ctx, p.snapshotKey(windowID(w))) // a stale one from an earlier run
			} else {
				err = c.Set(ctx, p.snapshotKey(windowID(w)), snap, nil)
			}
			if err != nil {
				failed = fmt.Errorf("storing the events of window %d: %w", windowID(w), err)
				return false
			}
			p.snap.written[w] = n
			return true
		}
		// Late events join windows already stored: store those again.
		for _, w := range p.j.arenaWins {
			if w >= start || w < p.snap.low {
				continue
			}
			if len(p.j.arenas[w].ids) != p.snap.written[w] {
				if !put(w) {
					return
				}
				changed = true
			}
		}
		for w := start; w <= emitted; w++ {
			if !put(w) {
				return
			}
		}
		if !changed {
			return
		}
		m := snapshotManifest{Format: snapshotFormat, Layout: strconv.FormatUint(p.j.l.fingerprint(), 16),
			Retention: p.j.cfg.EventRetentionWindows, Slack: p.j.cfg.GKGWindowSlack,
			From: windowID(p.snap.from), Through: windowID(emitted), UpdatedAt: p.now().UTC()}
		raw, _ := json.Marshal(m)
		if err := c.Set(ctx, p.manifestKey(), raw, nil); err != nil {
			failed = fmt.Errorf("storing the manifest: %w", err)
			return
		}
		p.snap.hasThrough, p.snap.through = true, emitted

		// A restart at checkpoint C' >= acked loads windows >= C'-2S-1-R.
		acked, ok := windowIndex(p.snap.acked.Load())
		if !ok {
			return
		}
		cutoff := min(acked-2*int64(p.j.cfg.GKGWindowSlack)-1-int64(p.j.cfg.EventRetentionWindows), emitted+1-int64(p.j.cfg.EventRetentionWindows))
		for ; p.snap.low < cutoff; p.snap.low++ {
			if err := c.Delete(ctx, p.snapshotKey(windowID(p.snap.low))); err != nil {
				failed = fmt.Errorf("deleting the events of window %d: %w", windowID(p.snap.low), err)
				return
			}
			delete(p.snap.written, p.snap.low)
		}
	})
	if err = errors.Join(err, failed); err != nil {
		p.snap.broken = true
		p.log.Warnf("gdelt_join: state snapshots in cache %q: %v; no more snapshots are stored in this run (a restart reads again what they do not cover)", p.cache, err)
	}
}

// noteWindow records the first window of a line of runs: the first window
// a run that restored nothing receives a row of.
func (p *gdeltJoinProc) noteWindow(w int64) {
	if p.snap.hasThrough {
		return // fixed once the first snapshots are stored (or restored)
	}
	// From Kafka the partitions interleave: the lowest window before the
	// first emission (none of an earlier window can come after it).
	if idx, ok := windowIndex(w); ok && (!p.snap.hasFrom || idx < p.snap.from) {
		p.snap.hasFrom, p.snap.from, p.snap.low = true, idx, idx
	}
}

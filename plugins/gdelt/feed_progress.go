package gdelt

import (
	"slices"
	"sync"
	"time"
)

// Checkpoint is the feed's durable progress, stored as JSON in a cache resource.
type Checkpoint struct {
	// Window is the newest window such that it and every window emitted before
	// it had all their rows acknowledged downstream. A restart resumes after it.
	Window string `json:"window"`
	// Incomplete lists the files of past windows that could not be read
	// completely (newest last, the latest maxIncomplete kept). Mode repair
	// reads them again and removes those it reads whole.
	Incomplete []*FileError `json:"incomplete,omitempty"`
	// Skipped lists ranges of windows before Window that were never read (a
	// follow-mode catch-up longer than max_catch_up_windows), newest last, the
	// latest maxSkipped kept. A backfill over a range reads it.
	Skipped   []WindowRange `json:"skipped,omitempty"`
	UpdatedAt time.Time     `json:"updated_at"`

	// repairs are the outcomes of a repair run so far: its save applies them
	// to the checkpoint as stored then, so that the window a feed on the same
	// key moved meanwhile is not moved back.
	repairs []repairOutcome
}

const (
	maxIncomplete = 1000
	maxSkipped    = 100
)

// SkipCatchUpLimit is the reason of a WindowRange skipped because a
// follow-mode catch-up was longer than max_catch_up_windows.
const SkipCatchUpLimit = "catch_up_limit"

// WindowRange is a run of consecutive windows, both ends included.
type WindowRange struct {
	From    string `json:"from"`
	To      string `json:"to"`
	Windows int64  `json:"windows"`
	Reason  string `json:"reason"`
}

// key names one file of one window in the incomplete list.
func (e *FileError) key() string { return e.Window + "/" + e.Table + "/" + e.File }

// repairOutcome is what a repair did to the incomplete records of a window:
// the records it read again are removed, the files still failing come back
// with their new reason and row count. Applying it twice changes nothing.
type repairOutcome struct {
	attempted map[string]bool
	failed    []*FileError
}

func (o repairOutcome) apply(cp *Checkpoint) {
	cp.Incomplete = slices.DeleteFunc(cp.Incomplete, func(fe *FileError) bool { return o.attempted[fe.key()] })
	cp.Incomplete = append(cp.Incomplete, o.failed...)
}

// progress tracks which emitted windows are fully acknowledged.
type progress struct {
	mu   sync.Mutex
	cp   Checkpoint
	open []*openWindow // in emission order
	seq  uint64        // bumped on every change of cp

	saveMu  sync.Mutex
	savedSq uint64
	save    func(Checkpoint) error
	onDone  func(w *openWindow) // called when a window leaves the open list
}

type openWindow struct {
	id       string
	pending  int  // emitted chunks not yet acknowledged
	ended    bool // every chunk of it has been emitted
	errors   []*FileError
	rows     map[string]int
	skipped  *WindowRange
	repair   bool
	repaired []*FileError
}

func newProgress(cp Checkpoint, save func(Checkpoint) error, onDone func(*openWindow)) *progress {
	return &progress{cp: cp, save: save, onDone: onDone}
}

func (p *progress) find(id string) *openWindow {
	for i := len(p.open) - 1; i >= 0; i-- {
		if p.open[i].id == id {
			return p.open[i]
		}
	}
	w := &openWindow{id: id}
	p.open = append(p.open, w)
	return w
}

// emitted counts a chunk of window id as sent downstream.
func (p *progress) emitted(id string) {
	p.mu.Lock()
	p.find(id).pending++
	p.mu.Unlock()
}

// acked counts a chunk of window id as acknowledged.
func (p *progress) acked(id string) error {
	p.mu.Lock()
	p.find(id).pending--
	return p.advance()
}

// ended marks window id as completely emitted.
func (p *progress) ended(end *WindowEnd) error {
	p.mu.Lock()
	w := p.find(end.Window)
	w.ended, w.errors, w.rows, w.skipped = true, end.Errors, end.Rows, end.Skipped
	w.repair, w.repaired = end.Repair, end.Repaired
	return p.advance()
}

// advance pops the done windows at the head, then saves; called with mu held,
// returns with it released.
func (p *progress) advance() error {
	var done []*openWindow
	for len(p.open) > 0 && p.open[0].ended && p.open[0].pending == 0 {
		w := p.open[0]
		p.open = p.open[1:]
		done = append(done, w)
		if w.repair {
			// A repair never moves the window checkpoint.
			o := repairOutcome{attempted: map[string]bool{}, failed: w.errors}
			for _, fe := range w.repaired {
				o.attempted[fe.key()] = true
			}
			o.apply(&p.cp)
			p.cp.repairs = append(p.cp.repairs, o)
			continue
		}
		if w.id <= p.cp.Window {
			continue // re-read after a rewind: the checkpoint never goes back
		}
		p.cp.Window = w.id
		p.cp.Incomplete = append(p.cp.Incomplete, w.errors...)
		if n := len(p.cp.Incomplete); n > maxIncomplete {
			p.cp.Incomplete = append([]*FileError(nil), p.cp.Incomplete[n-maxIncomplete:]...)
		}
		if w.skipped != nil {
			p.cp.Skipped = append(p.cp.Skipped, *w.skipped)
			if n := len(p.cp.Skipped); n > maxSkipped {
				p.cp.Skipped = append([]WindowRange(nil), p.cp.Skipped[n-maxSkipped:]...)
			}
		}
	}
	if len(done) == 0 {
		p.mu.Unlock()
		return nil
	}
	p.seq++
	p.cp.UpdatedAt = time.Now().UTC()
	snap, seq := p.snapshot(), p.seq
	p.mu.Unlock()

	for _, w := range done {
		if p.onDone != nil {
			p.onDone(w)
		}
	}
	// Saves are serialised and never go backwards.
	p.saveMu.Lock()
	defer p.saveMu.Unlock()
	if seq <= p.savedSq || p.save == nil {
		return nil
	}
	if err := p.save(snap); err != nil {
		return err
	}
	p.savedSq = seq
	return nil
}

// snapshot copies cp so that a save never races a later change; mu held.
func (p *progress) snapshot() Checkpoint {
	snap := p.cp
	snap.Incomplete = slices.Clone(p.cp.Incomplete)
	snap.Skipped = slices.Clone(p.cp.Skipped)
	snap.repairs = slices.Clone(p.cp.repairs)
	return snap
}

// checkpoint returns the current (possibly unsaved) checkpoint window.
func (p *progress) checkpoint() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cp.Window
}

// flush saves the checkpoint if a save failed since it last changed.
func (p *progress) flush() error {
	p.mu.Lock()
	snap, seq := p.snapshot(), p.seq
	p.mu.Unlock()
	p.saveMu.Lock()
	defer p.saveMu.Unlock()
	if seq <= p.savedSq || p.save == nil {
		return nil
	}
	if err := p.save(snap); err != nil {
		return err
	}
	p.savedSq = seq
	return nil
}

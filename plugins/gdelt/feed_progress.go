package gdelt

import (
	"sync"
	"time"
)

// Checkpoint is the feed's durable progress, stored as JSON in a cache resource.
type Checkpoint struct {
	// Window is the newest window such that it and every window emitted before
	// it had all their rows acknowledged downstream. A restart resumes after it.
	Window string `json:"window"`
	// Incomplete lists the files of past windows that could not be read
	// completely (newest last, the latest maxIncomplete kept).
	Incomplete []*FileError `json:"incomplete,omitempty"`
	UpdatedAt  time.Time    `json:"updated_at"`
}

const maxIncomplete = 1000

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
	id      string
	pending int  // emitted chunks not yet acknowledged
	ended   bool // every chunk of it has been emitted
	errors  []*FileError
	rows    map[string]int
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
	w.ended, w.errors, w.rows = true, end.Errors, end.Rows
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
		if w.id <= p.cp.Window {
			continue // re-read after a rewind: the checkpoint never goes back
		}
		p.cp.Window = w.id
		p.cp.Incomplete = append(p.cp.Incomplete, w.errors...)
		if n := len(p.cp.Incomplete); n > maxIncomplete {
			p.cp.Incomplete = append([]*FileError(nil), p.cp.Incomplete[n-maxIncomplete:]...)
		}
	}
	if len(done) == 0 {
		p.mu.Unlock()
		return nil
	}
	p.seq++
	p.cp.UpdatedAt = time.Now().UTC()
	snap, seq := p.cp, p.seq
	snap.Incomplete = append([]*FileError(nil), p.cp.Incomplete...)
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

// checkpoint returns the current (possibly unsaved) checkpoint window.
func (p *progress) checkpoint() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cp.Window
}

// flush saves the checkpoint if a save failed since it last changed.
func (p *progress) flush() error {
	p.mu.Lock()
	snap, seq := p.cp, p.seq
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

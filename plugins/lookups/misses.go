package lookups

import (
	"slices"
	"sync"
)

// MaxUnknownCodes is how many distinct unknown codes Misses remembers per
// book: enough to name what is missing, bounded against a feed of junk.
const MaxUnknownCodes = 100

// MissSink receives the misses of a set of books as they happen: the
// gdelt_lookup_metrics processor is one, turning them into the engine's
// gdelt_lookup_misses counter. Its methods are called one at a time, under
// the lock of Misses: they must be quick and must not look codes up.
type MissSink interface {
	// Add counts n misses of a book (n is 0 once per book when the sink
	// subscribes, so that the series exists; more than 1 for misses that
	// happened before any sink subscribed).
	Add(book Book, n uint64)
	// Unknown tells of a code seen missing for the first time (at most
	// MaxUnknownCodes per book).
	Unknown(book Book, code string)
}

// Misses counts, per book, the lookups of codes the book does not have.
// Lookups of a Books record here; the counts only grow.
//
// A Bloblang method has no handle on the engine's metrics (the engine gives
// its plugins none), so the counts live here, in plain Go, and sinks (a
// gdelt_lookup_metrics processor, which has the engine's metrics) subscribe
// to them. One sink at a time receives: the one that subscribed last and is
// still subscribed. It gets the misses no sink had yet, then every miss as it
// happens, so each miss reaches exactly one sink. The last one rather than
// the first, because a sink that is never cancelled (a processor a test
// harness builds and never closes) must not keep the misses from the ones
// built after it.
type Misses struct {
	mu          sync.Mutex
	counts      map[Book]uint64
	unknown     map[Book]map[string]uint64
	sinks       []subscription  // the last one receives
	nextID      uint64          // of the next subscription
	unpublished map[Book]uint64 // misses no sink has had yet
}

type subscription struct {
	id   uint64
	sink MissSink
}

func newMisses() *Misses {
	return &Misses{counts: map[Book]uint64{}, unknown: map[Book]map[string]uint64{}, unpublished: map[Book]uint64{}}
}

func (m *Misses) record(book Book, code string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counts[book]++
	codes := m.unknown[book]
	if codes == nil {
		codes = map[string]uint64{}
		m.unknown[book] = codes
	}
	first := false
	if _, seen := codes[code]; seen {
		codes[code]++
	} else if len(codes) < MaxUnknownCodes {
		codes[code] = 1
		first = true
	}
	if len(m.sinks) == 0 {
		m.unpublished[book]++
		return
	}
	sink := m.sinks[len(m.sinks)-1].sink
	sink.Add(book, 1)
	if first {
		sink.Unknown(book, code)
	}
}

// Counts returns the misses of every book so far (every book is present, 0
// when it had none).
func (m *Misses) Counts() map[Book]uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[Book]uint64, len(bookDefs))
	for _, b := range AllBooks() {
		out[b] = m.counts[b]
	}
	return out
}

// Unknown returns the distinct codes a book missed, with how often (the
// first MaxUnknownCodes codes).
func (m *Misses) Unknown(book Book) map[string]uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]uint64, len(m.unknown[book]))
	for c, n := range m.unknown[book] {
		out[c] = n
	}
	return out
}

// Subscribe makes s the sink that receives the misses, until it cancels or
// another subscribes: it gets Add(book, n) for every book (n the misses no
// sink had yet, often 0) and the unknown codes seen so far, then every miss.
// When the receiving sink cancels, the one that subscribed before it (and
// is still subscribed) receives again. cancel may be called more than once.
func (m *Misses) Subscribe(s MissSink) (cancel func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nextID++
	id := m.nextID
	m.sinks = append(m.sinks, subscription{id: id, sink: s})
	for _, b := range AllBooks() {
		s.Add(b, m.unpublished[b])
		m.unpublished[b] = 0
		codes := make([]string, 0, len(m.unknown[b]))
		for c := range m.unknown[b] {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		for _, c := range codes {
			s.Unknown(b, c)
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			m.mu.Lock()
			defer m.mu.Unlock()
			m.sinks = slices.DeleteFunc(m.sinks, func(sub subscription) bool { return sub.id == id })
		})
	}
}

package join

import (
	"encoding/binary"
	"errors"
	"slices"
)

// idMemory remembers the GLOBALEVENTIDs of events that left the state (their
// window is older than the retention), window by window, for a bounded
// number of windows: an export row with such an id is a re-export of an event
// first seen long ago, not a new event. See the package doc, "Re-exports".
//
// Each window's ids are kept as a bitset over [lo, hi] when they are dense
// (GDELT assigns GLOBALEVENTIDs in sequence, so a window's ids nearly fill
// their range: ~1 bit per id), else as a sorted list (8 bytes per id).
type idMemory struct {
	wins  []idWindow // by window index, ascending
	maxHi int64      // the highest id remembered: most lookups are above it
	bytes int64
}

type idWindow struct {
	win    int64 // window index
	lo, hi int64
	bits   []uint64 // bit i: lo+i was seen (dense windows)
	ids    []int64  // sorted (sparse windows)
}

// add remembers the ids of window win (any order, no duplicates needed).
func (m *idMemory) add(win int64, ids []int64) {
	if len(ids) == 0 || m.has(win) {
		return
	}
	w := idWindow{win: win, lo: ids[0], hi: ids[0]}
	for _, id := range ids {
		w.lo, w.hi = min(w.lo, id), max(w.hi, id)
	}
	if span := w.hi - w.lo + 1; span <= 64*int64(len(ids)) {
		w.bits = make([]uint64, (span+63)/64)
		for _, id := range ids {
			o := id - w.lo
			w.bits[o/64] |= 1 << (o % 64)
		}
		m.bytes += int64(len(w.bits)) * 8
	} else {
		w.ids = slices.Clone(ids)
		slices.Sort(w.ids)
		m.bytes += int64(len(w.ids)) * 8
	}
	m.bytes += 64
	i, _ := slices.BinarySearchFunc(m.wins, win, func(a idWindow, b int64) int { return cmpInt64(a.win, b) })
	m.wins = slices.Insert(m.wins, i, w)
	m.maxHi = max(m.maxHi, w.hi)
}

// seenBefore reports whether id was remembered in a window before win and
// at most horizon windows before it.
func (m *idMemory) seenBefore(id, win, horizon int64) bool {
	if len(m.wins) == 0 || id > m.maxHi {
		return false
	}
	for i := len(m.wins) - 1; i >= 0; i-- {
		w := &m.wins[i]
		if w.win >= win || win-w.win > horizon || id < w.lo || id > w.hi {
			continue
		}
		if w.bits != nil {
			o := id - w.lo
			if w.bits[o/64]&(1<<(o%64)) != 0 {
				return true
			}
			continue
		}
		if _, ok := slices.BinarySearch(w.ids, id); ok {
			return true
		}
	}
	return false
}

// has reports whether window win is remembered.
func (m *idMemory) has(win int64) bool {
	_, ok := slices.BinarySearchFunc(m.wins, win, func(a idWindow, b int64) int { return cmpInt64(a.win, b) })
	return ok
}

// expire forgets the windows before win and returns them.
func (m *idMemory) expire(before int64) (gone []int64) {
	n := 0
	for n < len(m.wins) && m.wins[n].win < before {
		m.bytes -= int64(len(m.wins[n].bits))*8 + int64(len(m.wins[n].ids))*8 + 64
		gone = append(gone, m.wins[n].win)
		n++
	}
	if n == 0 {
		return nil
	}
	m.wins = slices.Delete(m.wins, 0, n)
	m.maxHi = 0
	for _, w := range m.wins {
		m.maxHi = max(m.maxHi, w.hi)
	}
	return gone
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// EncodeIDs packs a window's GLOBALEVENTIDs for storage: sorted, as uvarint
// deltas after a format byte. Dense ids take about one byte each.
func EncodeIDs(ids []int64) []byte {
	s := slices.Clone(ids)
	slices.Sort(s)
	out := make([]byte, 1, 1+2*len(s))
	out[0] = 1 // format version
	var prev int64
	for i, id := range s {
		if i > 0 && id == prev {
			continue
		}
		out = binary.AppendUvarint(out, uint64(id-prev))
		prev = id
	}
	return out
}

// DecodeIDs is the inverse of EncodeIDs.
func DecodeIDs(b []byte) ([]int64, error) {
	if len(b) == 0 || b[0] != 1 {
		return nil, errors.New("join: not an encoded id list (format 1)")
	}
	b = b[1:]
	var out []int64
	var prev int64
	for len(b) > 0 {
		d, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, errors.New("join: truncated id list")
		}
		prev += int64(d)
		out = append(out, prev)
		b = b[n:]
	}
	return out, nil
}

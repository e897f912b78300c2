package join

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/fnv"
)

// A snapshot is the events first sighted in one window, as the Joiner keeps
// them (see appendEvent), so that a restarted Joiner can be given its event
// state back instead of reading the retention's windows again:
//
//	4 bytes   "GJE1"
//	8 bytes   the export layout's fingerprint (column names and kinds)
//	uvarint   number of events
//	per event: varint GLOBALEVENTID, uvarint record length, the record
//	4 bytes   CRC-32 (IEEE) of everything before it
//
// A snapshot of another layout (a schema change) or a damaged one is refused.

var snapshotMagic = []byte("GJE1")

// fingerprint identifies the event record's layout.
func (l *layout) fingerprint() uint64 {
	h := fnv.New64a()
	for i, name := range l.in[tableEvents] {
		fmt.Fprintf(h, "%s:%d;", name, l.eventKinds[i])
	}
	return h.Sum64()
}

// EventWindows returns the windows (ids, ascending) that have events in state
// and how many each holds.
func (j *Joiner) EventWindows() (windows []int64, counts []int) {
	for _, w := range j.arenaWins {
		windows = append(windows, windowID(w))
		counts = append(counts, len(j.arenas[w].ids))
	}
	return windows, counts
}

// SnapshotEvents encodes the events in state first sighted in window (an id);
// n is their number (0: the window has none in state, and snap is nil).
func (j *Joiner) SnapshotEvents(window int64) (snap []byte, n int) {
	w, ok := windowIndex(window)
	if !ok {
		return nil, 0
	}
	a := j.arenas[w]
	if a == nil || len(a.ids) == 0 {
		return nil, 0
	}
	out := make([]byte, 0, 16+len(a.buf)+8*len(a.ids))
	out = append(out, snapshotMagic...)
	out = binary.LittleEndian.AppendUint64(out, j.l.fingerprint())
	out = binary.AppendUvarint(out, uint64(len(a.ids)))
	for _, id := range a.ids {
		ev := j.events[id]
		out = binary.AppendVarint(out, id)
		out = binary.AppendUvarint(out, uint64(ev.n))
		out = append(out, a.buf[ev.off:ev.off+ev.n]...)
	}
	out = binary.LittleEndian.AppendUint32(out, crc32.ChecksumIEEE(out))
	return out, len(a.ids)
}

// RestoreEvents puts back into state the events of window (an id) from a
// snapshot made by SnapshotEvents, as a previous run held them. Call it
// before adding rows, for windows before the first the input will send: the
// restored events are not emitted again (their window was emitted by the
// previous run). It returns the number of events restored; an event already
// in state is skipped.
func (j *Joiner) RestoreEvents(window int64, snap []byte) (int, error) {
	w, ok := windowIndex(window)
	if !ok {
		return 0, fmt.Errorf("join: %d is not a window id (YYYYMMDDHHMMSS)", window)
	}
	recs, err := decodeSnapshot(snap, j.l.fingerprint())
	if err != nil {
		return 0, fmt.Errorf("join: events snapshot of window %d: %w", window, err)
	}
	if len(recs) == 0 {
		return 0, nil
	}
	a := j.arenas[w]
	if a == nil {
		a = &eventArena{}
		j.arenas[w] = a
		j.arenaWins = insertSorted(j.arenaWins, w)
	}
	n := 0
	for _, r := range recs {
		if j.hasEvent(r.id) {
			continue
		}
		off := len(a.buf)
		a.buf = append(a.buf, r.rec...)
		a.ids = append(a.ids, r.id)
		j.events[r.id] = eventRef{win: w, off: uint32(off), n: uint32(len(r.rec))}
		j.stateEvents++
		j.eventBytes += int64(len(r.rec)) + eventOverhead
		n++
	}
	a.clip()
	return n, nil
}

type snapshotRecord struct {
	id  int64
	rec []byte
}

func decodeSnapshot(b []byte, fp uint64) ([]snapshotRecord, error) {
	if len(b) < len(snapshotMagic)+8+4 || string(b[:len(snapshotMagic)]) != string(snapshotMagic) {
		return nil, errors.New("not an events snapshot (format GJE1)")
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, errors.New("checksum mismatch (damaged)")
	}
	p := body[len(snapshotMagic):]
	if got := binary.LittleEndian.Uint64(p); got != fp {
		return nil, fmt.Errorf("written for another export layout (fingerprint %x, want %x)", got, fp)
	}
	p = p[8:]
	count, k := binary.Uvarint(p)
	if k <= 0 || count > uint64(len(p)) {
		return nil, errors.New("bad event count")
	}
	p = p[k:]
	out := make([]snapshotRecord, 0, count)
	for range count {
		id, k := binary.Varint(p)
		if k <= 0 {
			return nil, errors.New("truncated")
		}
		p = p[k:]
		n, k := binary.Uvarint(p)
		if k <= 0 || n < 8 || n > uint64(len(p)-k) {
			return nil, errors.New("truncated")
		}
		p = p[k:]
		out = append(out, snapshotRecord{id: id, rec: p[:n:n]})
		p = p[n:]
	}
	if len(p) != 0 {
		return nil, errors.New("trailing bytes")
	}
	return out, nil
}

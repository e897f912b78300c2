package datafile

import (
	"math/bits"
	"sync"
)

// Page and chunk buffers go back to a pool when a file is closed: a writer
// of many files reuses them instead of growing new ones from nothing. The
// pools are bounded in bytes (a sync.Pool is not: between two collections it
// kept every closed file's buffers, half a gigabyte on the day load). Small
// buffers (a column's page and chunk) and big ones (a writer's page scratch
// and compressed page, which hold a whole dictionary page: a silver window's
// GCAM texts, a bronze GKG commit's) are pooled apart, so that the many
// small ones of a wide table do not crowd out the few big ones, which were
// otherwise made anew for every file.
type bufPool struct {
	sync.Mutex
	bufs     [][]byte
	bytes    int
	maxBuf   int // the biggest buffer kept
	maxBytes int // all kept buffers together
}

var (
	smallBufs = &bufPool{maxBuf: 1 << 20, maxBytes: 32 << 20}
	bigBufs   = &bufPool{maxBuf: 32 << 20, maxBytes: 64 << 20}
)

// poolFor is the pool of buffers of n bytes.
func poolFor(n int) *bufPool {
	if n > smallBufs.maxBuf {
		return bigBufs
	}
	return smallBufs
}

// take removes the i-th pooled buffer and returns it empty; p is locked.
func (p *bufPool) take(i int) []byte {
	b := p.bufs[i]
	last := len(p.bufs) - 1
	p.bufs[i] = p.bufs[last]
	p.bufs[last] = nil
	p.bufs = p.bufs[:last]
	p.bytes -= cap(b)
	return b[:0]
}

func getBuf() []byte {
	p := smallBufs
	p.Lock()
	defer p.Unlock()
	if len(p.bufs) == 0 {
		return nil
	}
	return p.take(len(p.bufs) - 1)
}

// getBufCap returns a pooled buffer of at least n bytes (and not much more,
// so a small page does not hold a big buffer), or a new one of n.
func getBufCap(n int) []byte {
	p := poolFor(n)
	if p == bigBufs {
		// Big buffers are made in powers of two: a dictionary page's
		// size varies a little from file to file, and a pooled buffer
		// must be at least as big to serve.
		n = 1 << bits.Len(uint(n-1))
	}
	p.Lock()
	defer p.Unlock()
	for i := len(p.bufs) - 1; i >= 0; i-- {
		if c := cap(p.bufs[i]); c >= n && c <= 2*n {
			return p.take(i)
		}
	}
	return make([]byte, 0, n)
}

// grown returns b with room for n more bytes: its contents moved to a buffer
// of at least want bytes and twice its capacity (append's growth of big
// slices, by a quarter, copied a page buffer about five times over while it
// filled), the old buffer pooled.
func grown(b []byte, n, want int) []byte {
	nb := getBufCap(max(len(b)+n, 2*cap(b), want))
	nb = append(nb, b...)
	putBuf(b)
	return nb
}

func putBuf(b []byte) {
	p := poolFor(cap(b))
	if cap(b) == 0 || cap(b) > p.maxBuf {
		return
	}
	p.Lock()
	defer p.Unlock()
	if p.bytes+cap(b) > p.maxBytes {
		return
	}
	p.bufs = append(p.bufs, b[:0])
	p.bytes += cap(b)
}

package datafile

import "sync"

// Page and chunk buffers go back to a pool when a file is closed: a writer
// of many files reuses them instead of growing new ones from nothing. The
// pool is bounded in bytes (a sync.Pool is not: between two collections it
// kept every closed file's buffers, half a gigabyte on the day load), and
// keeps no buffer bigger than a few pages.
var bufPool = struct {
	sync.Mutex
	bufs  [][]byte
	bytes int
}{}

const (
	maxPooledBuf   = 4 << 20  // a bigger buffer (a big row group's chunk) is left to the collector
	maxPooledBytes = 32 << 20 // all pooled buffers together
)

func getBuf() []byte {
	bufPool.Lock()
	defer bufPool.Unlock()
	n := len(bufPool.bufs)
	if n == 0 {
		return nil
	}
	b := bufPool.bufs[n-1]
	bufPool.bufs[n-1] = nil
	bufPool.bufs = bufPool.bufs[:n-1]
	bufPool.bytes -= cap(b)
	return b[:0]
}

// getBufCap returns a pooled buffer of at least n bytes (and not much more,
// so a small page does not hold a big buffer), or a new one of n.
func getBufCap(n int) []byte {
	bufPool.Lock()
	for i := len(bufPool.bufs) - 1; i >= 0; i-- {
		if b := bufPool.bufs[i]; cap(b) >= n && cap(b) <= 2*n {
			last := len(bufPool.bufs) - 1
			bufPool.bufs[i] = bufPool.bufs[last]
			bufPool.bufs[last] = nil
			bufPool.bufs = bufPool.bufs[:last]
			bufPool.bytes -= cap(b)
			bufPool.Unlock()
			return b[:0]
		}
	}
	bufPool.Unlock()
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
	if cap(b) == 0 || cap(b) > maxPooledBuf {
		return
	}
	bufPool.Lock()
	defer bufPool.Unlock()
	if bufPool.bytes+cap(b) > maxPooledBytes {
		return
	}
	bufPool.bufs = append(bufPool.bufs, b[:0])
	bufPool.bytes += cap(b)
}

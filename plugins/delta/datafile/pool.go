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

package join

import "github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"

// Windows are handled as indexes (contract.Window: 15-minute windows since
// 1970): the retention and the GKG slack count windows, and window ids
// (YYYYMMDDHHMMSS) are not contiguous integers. The join keeps them as plain
// int64 indexes in its hot paths.

const windowSeconds = contract.Seconds

// windowIndex turns a window id into its index (contract.FromID).
func windowIndex(id int64) (idx int64, ok bool) {
	w, ok := contract.FromID(id)
	return int64(w), ok
}

// windowID is the id (YYYYMMDDHHMMSS) of window index idx.
func windowID(idx int64) int64 { return contract.Window(idx).ID() }

// windowCache remembers the last id converted for one table: a table's rows
// come window by window, so nearly every lookup hits.
type windowCache struct {
	id, idx int64
}

func (c *windowCache) index(id int64) (int64, bool) {
	if id == c.id && id != 0 {
		return c.idx, true
	}
	idx, ok := windowIndex(id)
	if ok {
		c.id, c.idx = id, idx
	}
	return idx, ok
}

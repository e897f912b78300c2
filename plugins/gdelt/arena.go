package gdelt

import (
	"unsafe"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
)

// RowArena hands out the memory of decoded rows in chunks: the line's copy,
// the row, its values and the slabs its scalars are boxed in. A batch of rows
// decoded with one arena costs a few allocations, not five per row. A row
// keeps its chunks alive (each about arenaChunkBytes), so give one arena
// the rows that live together (a batch). Not safe for concurrent use; the
// zero value is ready.
type RowArena struct {
	// Shared: a row's strings point into the line it was decoded from
	// instead of a copy, for a caller whose lines are never written again
	// while a row lives (a message's bytes: gdelt_decode's rows live with
	// their message, which holds the line anyway). The row then keeps the
	// line's memory alive.
	Shared bool

	text []byte
	vals []any
	strs []string
	nums []uint64
	rows []schema.Row
}

// arenaChunkBytes is about the size of each chunk of an arena.
const arenaChunkBytes = 64 << 10

// line returns b as a string: b itself in a Shared arena, else a copy. A
// line bigger than a quarter chunk gets its own allocation, so that a chunk
// wastes little.
func (a *RowArena) line(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if a.Shared {
		return unsafe.String(&b[0], len(b))
	}
	if len(b) > arenaChunkBytes/4 {
		return string(b)
	}
	if cap(a.text)-len(a.text) < len(b) {
		a.text = make([]byte, 0, arenaChunkBytes)
	}
	start := len(a.text)
	a.text = append(a.text, b...)
	// The chunk's bytes are never written again once handed out.
	return unsafe.String(&a.text[start], len(b))
}

// take cuts n elements off the front of *chunk, making a new chunk of about
// arenaChunkBytes (elem bytes each) when it has too few.
func take[T any](chunk *[]T, n int, elem int) []T {
	if n == 0 {
		return nil
	}
	if len(*chunk) < n {
		*chunk = make([]T, max(n, arenaChunkBytes/elem))
	}
	s := (*chunk)[:n:n]
	*chunk = (*chunk)[n:]
	return s
}

func (a *RowArena) row() *schema.Row {
	if len(a.rows) == 0 {
		a.rows = make([]schema.Row, 256)
	}
	r := &a.rows[0]
	a.rows = a.rows[1:]
	return r
}

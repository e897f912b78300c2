package join

import (
	"unsafe"

	"github.com/gdeltflow/gdeltflow/plugins/internal/box"
)

// boxer turns one event's scalars into interface values for a silver row
// with two allocations (a slab of strings, a slab of numbers) instead of one
// per value: the interfaces point into the slabs (see plugins/internal/box
// for why that is safe, and the rules: strings in a []string slab, numbers
// in a []uint64 one, nothing modified once boxed).
type boxer struct {
	strs []string
	nums []uint64
}

func newBoxer(nStr, nNum int) boxer {
	return boxer{strs: make([]string, 0, nStr), nums: make([]uint64, 0, nNum)}
}

// The slabs never grow past their capacity (sized for the table's columns),
// so earlier pointers stay valid.

func (b *boxer) int64(v int64) any {
	b.nums = append(b.nums, uint64(v))
	return box.At(box.Int64, unsafe.Pointer(&b.nums[len(b.nums)-1]))
}

func (b *boxer) float64(v float64) any {
	b.nums = append(b.nums, *(*uint64)(unsafe.Pointer(&v)))
	return box.At(box.Float64, unsafe.Pointer(&b.nums[len(b.nums)-1]))
}

func (b *boxer) string(v string) any {
	b.strs = append(b.strs, v)
	return box.At(box.String, unsafe.Pointer(&b.strs[len(b.strs)-1]))
}

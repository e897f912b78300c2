package join

import "unsafe"

// boxer turns one event's scalars into interface values for a silver row
// with two allocations (a slab of strings, a slab of numbers) instead of one
// per value: the interfaces point into the slabs. This is the trick the gdelt
// decoder uses (plugins/gdelt/decode.go): Go keeps a non-pointer value boxed
// behind the interface's data pointer and never writes through it, so the
// pointer may aim into a slab as long as the slab is never modified after.
type boxer struct {
	strs []string
	nums []uint64
}

func newBoxer(nStr, nNum int) boxer {
	return boxer{strs: make([]string, 0, nStr), nums: make([]uint64, 0, nNum)}
}

// eface is the runtime layout of an empty interface.
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

var (
	stringType  = efaceType("")
	int64Type   = efaceType(int64(0))
	float64Type = efaceType(float64(0))
)

func efaceType(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

func boxAt(typ, p unsafe.Pointer) (v any) {
	e := (*eface)(unsafe.Pointer(&v))
	e.typ, e.data = typ, p
	return v
}

// The slabs never grow past their capacity (sized for the table's columns),
// so earlier pointers stay valid.

func (b *boxer) int64(v int64) any {
	b.nums = append(b.nums, uint64(v))
	return boxAt(int64Type, unsafe.Pointer(&b.nums[len(b.nums)-1]))
}

func (b *boxer) float64(v float64) any {
	b.nums = append(b.nums, *(*uint64)(unsafe.Pointer(&v)))
	return boxAt(float64Type, unsafe.Pointer(&b.nums[len(b.nums)-1]))
}

func (b *boxer) string(v string) any {
	b.strs = append(b.strs, v)
	return boxAt(stringType, unsafe.Pointer(&b.strs[len(b.strs)-1]))
}

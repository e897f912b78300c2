package box

import (
	"runtime"
	"testing"
	"unsafe"
)

func TestAt(t *testing.T) {
	strs := []string{"a", "bc"}
	nums := []uint64{uint64(42), 0}
	f := 2.5
	nums[1] = *(*uint64)(unsafe.Pointer(&f))
	vals := []any{At(String, unsafe.Pointer(&strs[1])), At(Int64, unsafe.Pointer(&nums[0])), At(Float64, unsafe.Pointer(&nums[1]))}
	strs, nums = nil, nil
	runtime.GC() // the slabs stay alive through the interfaces' data pointers
	if vals[0] != "bc" || vals[1] != int64(42) || vals[2] != 2.5 {
		t.Fatalf("%#v", vals)
	}
}

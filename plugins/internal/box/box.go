// Package box builds interface values whose data pointer aims into a slab
// the caller owns, so that boxing N scalars of a row costs one slab
// allocation instead of N. The GDELT decoder and the silver join use it: the
// interface values (map[string]any) are their main cost after the maps.
//
// It relies on the runtime layout of an empty interface (a type word and a
// pointer to the value) and on Go never writing through a boxed
// non-pointer value. Keep strings in a []string slab (which the GC scans)
// and numbers in a []uint64 slab, and never modify a slab element once it is
// boxed. This is the only place in the project that depends on the layout.
package box

import "unsafe"

// eface is the runtime layout of an empty interface.
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

func typeOf(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

// The type words of the boxed kinds.
var (
	String  = typeOf("")
	Int64   = typeOf(int64(0))
	Float64 = typeOf(float64(0))
)

// At returns an interface of type typ whose value is the one at p; p must
// point to a value of that type that is never modified afterwards.
func At(typ, p unsafe.Pointer) (v any) {
	e := (*eface)(unsafe.Pointer(&v))
	e.typ, e.data = typ, p
	return v
}

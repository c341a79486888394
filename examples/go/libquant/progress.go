package libquant

// The calibrator's progress callback. A file with //export may only declare C functions in
// its preamble, so this one does not include libquant.h (which defines inline functions).

/*
#include <stdint.h>
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

//export lqGoProgress
func lqGoProgress(done, total C.int64_t, userData unsafe.Pointer) {
	// A panic must not unwind through the library's C++ frames: the report is dropped.
	defer func() { _ = recover() }()
	// userData is C memory holding the cgo.Handle of the Go callback.
	handle := cgo.Handle(*(*C.uintptr_t)(userData))
	handle.Value().(func(done, total int64))(int64(done), int64(total))
}

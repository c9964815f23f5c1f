// Catching a thread's own memory faults, for the zx layer's test support (test-only;
// docs/zx-compat.md).
//
// On Zircon a thread that touches a page its pager failed (or an unmapped address) takes a
// fatal page-fault exception, whose report carries the address and, as `synth_code`, the
// status behind it; test harnesses read the report and end the thread. On Linux the same
// access is a SIGBUS (upager queues one when a page request fails: mapping.h) or a SIGSEGV
// (nothing mapped there). RunCatchingFaults runs a function on the calling thread and, if it
// takes one of those signals, leaves the function at once (a sigsetjmp / siglongjmp pair local
// to the thread) and reports the signal, the address (si_addr) and, as zx_status_t,
// upager::FaultStatusForAddress of that address: ZX_ERR_IO (or the pager's code) for a failed
// page request, ZX_ERR_BAD_STATE after a detach, ZX_ERR_OUT_OF_RANGE beyond the end of a
// shrunk VMO, ZX_ERR_NOT_FOUND where nothing upager knows failed (an unmapped address).
//
// The handlers are installed once for the process and stay. A SIGSEGV or SIGBUS on a thread
// that is not inside RunCatchingFaults goes to the handler that was there before (or the
// default action: the process dies, as it would have). Leaving the function by siglongjmp
// skips the destructors of what it had on its stack: faulting code should hold no locks nor
// owning objects across the faulting access (true of the tests' plain loads and stores).
#ifndef UPAGER_ZX_TESTING_FAULT_CATCHER_H_
#define UPAGER_ZX_TESTING_FAULT_CATCHER_H_

#include <zircon/types.h>

#include <cstdint>
#include <type_traits>

namespace upager_zx_testing {

struct FaultReport {
  int signo = 0;          // SIGBUS or SIGSEGV; 0 if the function returned
  uintptr_t address = 0;  // the faulting address (si_addr)
  zx_status_t status = ZX_OK;
};

// Runs fn(arg) on the calling thread. True if it returned; false if it faulted, with
// `report` filled (the function's remaining code does not run). Nests: an inner call
// catches the faults of its own function only.
bool RunCatchingFaults(void (*fn)(void*), void* arg, FaultReport* report);

template <typename F>
bool RunCatchingFaults(F&& f, FaultReport* report) {
  using Fn = std::remove_reference_t<F>;
  return RunCatchingFaults([](void* p) { (*static_cast<Fn*>(p))(); },
                           const_cast<void*>(static_cast<const void*>(&f)), report);
}

}  // namespace upager_zx_testing

#endif  // UPAGER_ZX_TESTING_FAULT_CATCHER_H_

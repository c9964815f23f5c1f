// A test thread that survives its own memory faults, for the zx layer's test support
// (test-only; docs/zx-compat.md). The core of the project's replacement of the TestThread of
// Fuchsia's pager tests (compat/zx/fuchsia/test_thread.cc), usable without any Fuchsia file.
//
// StartCatchingThread runs a function on a new C11 thread inside RunCatchingFaults
// (fault_catcher.h), so a SIGBUS (failed page request) or SIGSEGV (unmapped address) ends the
// function and the thread exits normally with the fault recorded; the caller gets the thread
// and a zx thread handle to it (suspend, ZX_INFO_THREAD, ZX_TASK_TERMINATED). Join the thread
// before reading the outcome.
#ifndef UPAGER_ZX_TESTING_CATCHING_THREAD_H_
#define UPAGER_ZX_TESTING_CATCHING_THREAD_H_

#include <threads.h>
#include <zircon/syscalls/exception.h>
#include <zircon/types.h>

#include "upager_zx_testing/fault_catcher.h"

namespace upager_zx_testing {

struct ThreadOutcome {
  bool crashed = false;  // the function was left by a fault
  FaultReport fault;     // set when crashed
};

// Starts fn(arg) on a new thread. On ZX_OK, *thrd is the thread (join it) and *thread_handle
// a new handle to it, owned by the caller; `outcome` must stay alive until the join and is
// written only by the thread. On an error no thread is left running.
zx_status_t StartCatchingThread(void (*fn)(void*), void* arg, ThreadOutcome* outcome, thrd_t* thrd,
                                zx_handle_t* thread_handle);

// Joins a thread StartCatchingThread made (true on success).
bool JoinCatchingThread(thrd_t thrd);

// Polls `thread`'s ZX_INFO_THREAD state until it is ZX_THREAD_STATE_BLOCKED_PAGER (true),
// the thread is dead or the state cannot be read (false), or `deadline` passes (false).
bool WaitForBlockedOnPager(zx_handle_t thread, zx_time_t deadline);

// The report Zircon gives for a fatal page fault: type ZX_EXCP_FATAL_PAGE_FAULT, the address
// where the architecture keeps it (x86-64 cr2, arm64 far, riscv64 tval), synth_code the status.
zx_exception_report_t ExceptionReportFor(const FaultReport& fault);

}  // namespace upager_zx_testing

#endif  // UPAGER_ZX_TESTING_CATCHING_THREAD_H_

// StartCatchingThread, WaitForBlockedOnPager, ExceptionReportFor (catching_thread.h).
#include "upager_zx_testing/catching_thread.h"

#include <lib/sync/completion.h>
#include <pthread.h>
#include <string.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

#include <type_traits>

namespace upager_zx_testing {
namespace {

// Lives on the starter's stack until the new thread has signalled `ready`.
struct Launch {
  void (*fn)(void*) = nullptr;
  void* arg = nullptr;
  ThreadOutcome* outcome = nullptr;
  zx_handle_t handle = ZX_HANDLE_INVALID;
  zx_status_t status = ZX_OK;
  sync_completion_t ready;
};

// The thread is made with pthread_create, not thrd_create: glibc's thrd_create does not go
// through pthread_create's symbol, so sanitizers (TSan) never see the thread start. On glibc
// and musl a thrd_t is a pthread_t.
static_assert(std::is_same_v<thrd_t, pthread_t>, "thrd_t must be a pthread_t");

void* Entry(void* raw) {
  auto* launch = static_cast<Launch*>(raw);
  void (*fn)(void*) = launch->fn;
  void* arg = launch->arg;
  ThreadOutcome* outcome = launch->outcome;
  launch->status = upager_zx_thread_current(&launch->handle);
  const bool run = launch->status == ZX_OK;
  sync_completion_signal(&launch->ready);  // `launch` is gone after this
  if (!run) return nullptr;
  FaultReport fault;
  if (!RunCatchingFaults(fn, arg, &fault)) {
    outcome->crashed = true;
    outcome->fault = fault;
  }
  return nullptr;
}

}  // namespace

zx_status_t StartCatchingThread(void (*fn)(void*), void* arg, ThreadOutcome* outcome, thrd_t* thrd,
                                zx_handle_t* thread_handle) {
  *outcome = ThreadOutcome{};
  Launch launch;
  launch.fn = fn;
  launch.arg = arg;
  launch.outcome = outcome;
  if (pthread_create(thrd, nullptr, Entry, &launch) != 0) return ZX_ERR_NO_RESOURCES;
  sync_completion_wait(&launch.ready, ZX_TIME_INFINITE);
  if (launch.status != ZX_OK) {
    JoinCatchingThread(*thrd);
    return launch.status;
  }
  *thread_handle = launch.handle;
  return ZX_OK;
}

bool JoinCatchingThread(thrd_t thrd) { return pthread_join(thrd, nullptr) == 0; }

bool WaitForBlockedOnPager(zx_handle_t thread, zx_time_t deadline) {
  for (;;) {
    zx_info_thread_t info;
    if (zx_object_get_info(thread, ZX_INFO_THREAD, &info, sizeof(info), nullptr, nullptr) !=
        ZX_OK) {
      return false;
    }
    if (info.state == ZX_THREAD_STATE_BLOCKED_PAGER) return true;
    if (info.state == ZX_THREAD_STATE_DEAD) return false;
    if (zx_clock_get_monotonic() >= deadline) return false;
    // No signal announces the state: poll it.
    zx_nanosleep(zx_deadline_after(ZX_USEC(100)));
  }
}

zx_exception_report_t ExceptionReportFor(const FaultReport& fault) {
  zx_exception_report_t report;
  memset(&report, 0, sizeof(report));
  report.header.size = sizeof(report);
  report.header.type = ZX_EXCP_FATAL_PAGE_FAULT;
#if defined(__x86_64__)
  report.context.arch.u.x86_64.cr2 = fault.address;
#elif defined(__aarch64__)
  report.context.arch.u.arm_64.far = fault.address;
#elif defined(__riscv)
  report.context.arch.u.riscv_64.tval = fault.address;
#endif
  report.context.synth_code = static_cast<uint32_t>(fault.status);
  return report;
}

}  // namespace upager_zx_testing

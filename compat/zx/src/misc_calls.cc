// Time, the page size and status names.
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <zircon/status.h>
#include <zircon/syscalls.h>

#include "upager/status.h"

namespace {

constexpr int64_t kNanosPerSecond = 1000000000;

}  // namespace

extern "C" zx_time_t zx_clock_get_monotonic(void) {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<zx_time_t>(now.tv_sec) * kNanosPerSecond + now.tv_nsec;
}

extern "C" zx_time_t zx_deadline_after(zx_duration_t nanoseconds) {
  return zx_time_add_duration(zx_clock_get_monotonic(), nanoseconds);
}

extern "C" zx_status_t zx_nanosleep(zx_time_t deadline) {
  if (deadline == ZX_TIME_INFINITE) {
    for (;;) pause();  // as Zircon: never returns
  }
  if (deadline <= 0) return ZX_OK;
  timespec until{};
  until.tv_sec = static_cast<time_t>(deadline / kNanosPerSecond);
  until.tv_nsec = static_cast<long>(deadline % kNanosPerSecond);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr) == EINTR) {
  }
  return ZX_OK;
}

extern "C" uint32_t zx_system_get_page_size(void) {
  return static_cast<uint32_t>(upager::kPageSize);
}

extern "C" const char* zx_status_get_string(zx_status_t status) {
  switch (status) {
#define UPAGER_ZX_NAME(code) \
  case code: return #code;
    UPAGER_ZX_NAME(ZX_OK)
    UPAGER_ZX_NAME(ZX_ERR_INTERNAL)
    UPAGER_ZX_NAME(ZX_ERR_NOT_SUPPORTED)
    UPAGER_ZX_NAME(ZX_ERR_NO_RESOURCES)
    UPAGER_ZX_NAME(ZX_ERR_NO_MEMORY)
    UPAGER_ZX_NAME(ZX_ERR_INTERNAL_INTR_RETRY)
    UPAGER_ZX_NAME(ZX_ERR_INVALID_ARGS)
    UPAGER_ZX_NAME(ZX_ERR_BAD_HANDLE)
    UPAGER_ZX_NAME(ZX_ERR_WRONG_TYPE)
    UPAGER_ZX_NAME(ZX_ERR_BAD_SYSCALL)
    UPAGER_ZX_NAME(ZX_ERR_OUT_OF_RANGE)
    UPAGER_ZX_NAME(ZX_ERR_BUFFER_TOO_SMALL)
    UPAGER_ZX_NAME(ZX_ERR_BAD_STATE)
    UPAGER_ZX_NAME(ZX_ERR_TIMED_OUT)
    UPAGER_ZX_NAME(ZX_ERR_SHOULD_WAIT)
    UPAGER_ZX_NAME(ZX_ERR_CANCELED)
    UPAGER_ZX_NAME(ZX_ERR_PEER_CLOSED)
    UPAGER_ZX_NAME(ZX_ERR_NOT_FOUND)
    UPAGER_ZX_NAME(ZX_ERR_ALREADY_EXISTS)
    UPAGER_ZX_NAME(ZX_ERR_ALREADY_BOUND)
    UPAGER_ZX_NAME(ZX_ERR_UNAVAILABLE)
    UPAGER_ZX_NAME(ZX_ERR_ACCESS_DENIED)
    UPAGER_ZX_NAME(ZX_ERR_IO)
    UPAGER_ZX_NAME(ZX_ERR_IO_REFUSED)
    UPAGER_ZX_NAME(ZX_ERR_IO_DATA_INTEGRITY)
    UPAGER_ZX_NAME(ZX_ERR_IO_DATA_LOSS)
    UPAGER_ZX_NAME(ZX_ERR_IO_NOT_PRESENT)
    UPAGER_ZX_NAME(ZX_ERR_IO_OVERRUN)
    UPAGER_ZX_NAME(ZX_ERR_IO_MISSED_DEADLINE)
    UPAGER_ZX_NAME(ZX_ERR_IO_INVALID)
    UPAGER_ZX_NAME(ZX_ERR_BAD_PATH)
    UPAGER_ZX_NAME(ZX_ERR_NOT_DIR)
    UPAGER_ZX_NAME(ZX_ERR_NOT_FILE)
    UPAGER_ZX_NAME(ZX_ERR_FILE_BIG)
    UPAGER_ZX_NAME(ZX_ERR_NO_SPACE)
    UPAGER_ZX_NAME(ZX_ERR_NOT_EMPTY)
    UPAGER_ZX_NAME(ZX_ERR_STOP)
    UPAGER_ZX_NAME(ZX_ERR_NEXT)
    UPAGER_ZX_NAME(ZX_ERR_ASYNC)
    UPAGER_ZX_NAME(ZX_ERR_PROTOCOL_NOT_SUPPORTED)
    UPAGER_ZX_NAME(ZX_ERR_ADDRESS_UNREACHABLE)
    UPAGER_ZX_NAME(ZX_ERR_ADDRESS_IN_USE)
    UPAGER_ZX_NAME(ZX_ERR_NOT_CONNECTED)
    UPAGER_ZX_NAME(ZX_ERR_CONNECTION_REFUSED)
    UPAGER_ZX_NAME(ZX_ERR_CONNECTION_RESET)
    UPAGER_ZX_NAME(ZX_ERR_CONNECTION_ABORTED)
    UPAGER_ZX_NAME(ZX_ERR_INTERNAL_INTR_KILLED)
#undef UPAGER_ZX_NAME
    default: return "(UNKNOWN)";
  }
}

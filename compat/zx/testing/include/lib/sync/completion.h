// sync_completion_t for the zx layer's test support (test-only; docs/zx-compat.md): a
// one-shot, resettable event that threads wait on, with Fuchsia's lib/sync C names. Written
// for upager over a mutex and a condition variable.
#ifndef UPAGER_COMPAT_LIB_SYNC_COMPLETION_H_
#define UPAGER_COMPAT_LIB_SYNC_COMPLETION_H_

#include <zircon/syscalls.h>
#include <zircon/types.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

struct sync_completion_t {
  std::mutex mutex;
  std::condition_variable cv;
  bool signaled = false;
};

// Waits until the completion is signaled or `deadline` passes: ZX_OK or ZX_ERR_TIMED_OUT.
inline zx_status_t sync_completion_wait_deadline(sync_completion_t* c, zx_time_t deadline) {
  std::unique_lock lock(c->mutex);
  while (!c->signaled) {
    if (deadline == ZX_TIME_INFINITE) {
      c->cv.wait(lock);
      continue;
    }
    const zx_time_t now = zx_clock_get_monotonic();
    if (now >= deadline) return ZX_ERR_TIMED_OUT;
    c->cv.wait_for(lock, std::chrono::nanoseconds(deadline - now));
  }
  return ZX_OK;
}

// Waits until the completion is signaled or `timeout` (relative) passes: ZX_OK or
// ZX_ERR_TIMED_OUT.
inline zx_status_t sync_completion_wait(sync_completion_t* c, zx_duration_t timeout) {
  return sync_completion_wait_deadline(c, zx_deadline_after(timeout));
}

inline void sync_completion_signal(sync_completion_t* c) {
  std::lock_guard lock(c->mutex);
  c->signaled = true;
  c->cv.notify_all();
}

inline void sync_completion_reset(sync_completion_t* c) {
  std::lock_guard lock(c->mutex);
  c->signaled = false;
}

inline bool sync_completion_signaled(sync_completion_t* c) {
  std::lock_guard lock(c->mutex);
  return c->signaled;
}

#endif  // UPAGER_COMPAT_LIB_SYNC_COMPLETION_H_

// Event: the auto-reset event every upager wait sleeps on (a PageRequest's, a port's).
//
// Part of the lowest layer (built in src/base with the per-thread state it sleeps on);
// page_request.h includes it, so code that names Event through that header keeps working.
#ifndef UPAGER_EVENT_H_
#define UPAGER_EVENT_H_

#include <atomic>

#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"
#include "upager/status.h"

namespace upager {

namespace internal {
class ThreadState;
}  // namespace internal

// An auto-reset event carrying a Status. Signal wakes the single waiter (or, with nobody
// waiting, the next Wait) and is consumed by that Wait.
class Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  void Signal(Status s);
  // Returns the signalled status, or kTimedOut at the deadline, kIntrKilled if the calling
  // thread was killed, kIntrRetry if `suspendable` and the calling thread was suspended. A
  // signal that is already pending wins over an interruption.
  Status Wait(Deadline deadline, bool suspendable);
  // Forgets a pending signal.
  void Unsignal();
  // True if a signal is pending (a snapshot unless the caller excludes signallers).
  bool is_signaled() const { return signaled_.load(std::memory_order_acquire); }

 private:
  friend class internal::ThreadState;
  internal::Mutex mutex_;
  // Written under mutex_; read by the waiting thread under its own state lock.
  std::atomic<bool> signaled_{false};
  Status status_ UPAGER_GUARDED_BY(mutex_) = Status::kOk;
  internal::ThreadState* waiter_ UPAGER_GUARDED_BY(mutex_) = nullptr;
};

}  // namespace upager

#endif  // UPAGER_EVENT_H_

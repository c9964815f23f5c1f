#include "upager/event.h"

#include "base/thread_state.h"

namespace upager {

void Event::Signal(Status s) {
  std::shared_ptr<internal::ThreadState> waiter;
  {
    internal::MutexLock lock(&mutex_);
    status_ = s;
    signaled_.store(true, std::memory_order_release);
    // The waiter deregisters under mutex_, so it is alive here; keep it alive past the
    // unlock, after which the event itself may already be gone.
    if (waiter_ != nullptr) {
      waiter = waiter_->shared_from_this();
    }
  }
  // Waking outside mutex_ spares the woken thread from blocking on it when it deregisters.
  // A late wake-up of a thread that has moved on is harmless: sleepers re-check.
  if (waiter != nullptr) {
    waiter->Notify();
  }
}

void Event::Unsignal() {
  internal::MutexLock lock(&mutex_);
  signaled_.store(false, std::memory_order_relaxed);
}

Status Event::Wait(Deadline deadline, bool suspendable) {
  internal::ThreadState* self = internal::ThreadState::Current();
  {
    internal::MutexLock lock(&mutex_);
    if (signaled_.load(std::memory_order_relaxed)) {
      signaled_.store(false, std::memory_order_relaxed);
      return status_;
    }
    waiter_ = self;
  }
  const Status interrupted = self->SleepOn(*this, deadline, suspendable);
  internal::MutexLock lock(&mutex_);
  waiter_ = nullptr;
  if (signaled_.load(std::memory_order_relaxed)) {
    signaled_.store(false, std::memory_order_relaxed);
    return status_;
  }
  return interrupted;
}

}  // namespace upager

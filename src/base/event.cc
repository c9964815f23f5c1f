#include "base/thread_state.h"
#include "upager/page_request.h"

namespace upager {

void Event::Signal(Status s) {
  internal::MutexLock lock(&mutex_);
  status_ = s;
  signaled_.store(true, std::memory_order_release);
  // Notify while holding mutex_: the waiter deregisters under mutex_ before it returns, so
  // neither it nor this event can go away under us.
  if (waiter_ != nullptr) {
    waiter_->Notify();
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

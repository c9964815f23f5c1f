// ThreadState: the per-thread record behind ThreadHandle and Event::Wait.
#ifndef UPAGER_SRC_BASE_THREAD_STATE_H_
#define UPAGER_SRC_BASE_THREAD_STATE_H_

#include <atomic>
#include <memory>

#include "upager/event.h"
#include "upager/internal/mutex.h"
#include "upager/status.h"

namespace upager::internal {

// One per thread that ever waited or took a handle to itself; shared between the thread
// (through a thread_local reference) and every ThreadHandle to it. A waiting thread sleeps
// on its own condition variable, so that Kill and Suspend can reach it whatever it waits on.
class ThreadState : public std::enable_shared_from_this<ThreadState> {
 public:
  // The calling thread's state, created on first use.
  static ThreadState* Current();
  static std::shared_ptr<ThreadState> CurrentShared();

  void Kill();
  void Suspend();
  void Resume();
  bool killed() const;
  bool suspended() const;

  // Sleeps until `event` is signalled (kOk), the thread is killed (kIntrKilled), suspended
  // while `suspendable` (kIntrRetry) or `deadline` passes (kTimedOut). `event` must have
  // this thread registered as its waiter.
  Status SleepOn(const Event& event, Deadline deadline, bool suspendable);
  // Wakes the thread if it sleeps, so it re-checks its conditions.
  void Notify();

  // A descriptor that becomes readable when the thread is killed or suspended, for a thread
  // that waits in poll(2) rather than on an Event (a wait for another process's answer):
  // made on first use, by the thread itself; -1 if the system refuses one. The waiter
  // drains it and re-checks killed() / suspended().
  int InterruptFd();
  void DrainInterrupt();
  ~ThreadState();
  // Parks while suspended; kIntrKilled if killed.
  Status Park();
  // True while the thread is parked in Park.
  bool parked() const;
  // True once the thread has exited (its thread-local storage is gone).
  bool exited() const { return exited_.load(std::memory_order_acquire); }
  // Called on the thread itself as it exits.
  void MarkExited();

  std::atomic<bool> blocked_on_pager{false};
  // The kernel's id of the thread (a fault on a mapping names its thread by it).
  const int tid;

  ThreadState();

 private:
  mutable Mutex mutex_;
  CondVar cv_;
  bool killed_ UPAGER_GUARDED_BY(mutex_) = false;
  int interrupt_fd_ UPAGER_GUARDED_BY(mutex_) = -1;  // an eventfd, once InterruptFd made it
  bool suspended_ UPAGER_GUARDED_BY(mutex_) = false;
  bool parked_ UPAGER_GUARDED_BY(mutex_) = false;
  std::atomic<bool> exited_{false};
};

// An observer of the states ThreadHandle reports that change on their own (IsParked: parked
// at a safe point, or a fault held by a suspension; HasExited). Called with the thread's
// kernel id after each change, with no lock of the thread's held, never allocating here; the
// observer re-reads the states it cares about (a change may be reported more than once, or
// after a later one). For layers above the library (compat/zx's thread signals).
void SetThreadChangedHook(void (*hook)(int tid));
void NotifyThreadChanged(int tid);

// Asked by ThreadHandle::IsBlockedOnPager for threads not in a PageRequest::Wait: the fault
// backend answers whether the thread sleeps in a page fault waiting for a pager.
void SetFaultBlockedQuery(bool (*query)(int tid));

// The fault backend's part in suspension. A thread asleep in a fault on a Mapping cannot
// park at a safe point: Suspend and Resume (and Kill) call `changed` with the thread's
// state, once its flags are set, and the backend holds the thread's faults while it is
// suspended (and not killed), releasing them otherwise. `held` tells ThreadHandle::IsParked
// whether the backend holds a fault of thread `tid`.
void SetFaultSuspendHooks(void (*changed)(ThreadState* state), bool (*held)(int tid));

// Marks the calling thread blocked on a pager for the lifetime of the scope.
class BlockedOnPagerScope {
 public:
  BlockedOnPagerScope() : state_(ThreadState::Current()) {
    state_->blocked_on_pager.store(true, std::memory_order_release);
  }
  ~BlockedOnPagerScope() { state_->blocked_on_pager.store(false, std::memory_order_release); }
  BlockedOnPagerScope(const BlockedOnPagerScope&) = delete;
  BlockedOnPagerScope& operator=(const BlockedOnPagerScope&) = delete;

 private:
  ThreadState* const state_;
};

}  // namespace upager::internal

#endif  // UPAGER_SRC_BASE_THREAD_STATE_H_

// Threads as the page-request machinery sees them: killable, suspendable, and observable
// while blocked on a pager.
//
// Zircon lets one thread kill or suspend another, and a thread blocked on a page request
// reports ZX_THREAD_STATE_BLOCKED_PAGER. ThreadHandle reproduces that for std::threads: any
// thread can take a handle to itself and hand it to others.
#ifndef UPAGER_THREAD_H_
#define UPAGER_THREAD_H_

#include <chrono>
#include <memory>

#include "upager/status.h"

namespace upager {

namespace internal {
class ThreadState;
}  // namespace internal

// A reference to a thread's interruption state. Copyable; a default-constructed handle
// refers to no thread and every operation on it is a no-op. A handle stays usable after its
// thread has exited (operations then have no effect).
class ThreadHandle {
 public:
  ThreadHandle();
  ~ThreadHandle();
  ThreadHandle(const ThreadHandle&);
  ThreadHandle& operator=(const ThreadHandle&);

  // The calling thread. The handle may be used from any thread afterwards.
  static ThreadHandle Current();

  // Marks the thread killed: its current and every later page-request wait returns
  // kIntrKilled. Killing is permanent.
  void Kill();

  // Suspends the thread: a suspendable wait returns kIntrRetry at once; a non-suspendable
  // one keeps waiting. The thread then parks at its next safe point (ParkWhileSuspended)
  // until Resume.
  //
  // A thread asleep in a fault on a Mapping of this process is held where it is, as
  // Zircon suspends a thread blocked in a page fault: its wait is abandoned (the request is
  // cancelled unless another waiter shares it), and on Resume the fault is taken again,
  // which asks the pager afresh (a new READ packet if the page is still absent). A supply
  // from a buffer that places the page straight into the mapping meanwhile wakes it, and it
  // runs on to its next safe point. Kill releases a held fault as Resume does. A thread
  // suspended while it runs its own code is held the same way in the next fault it takes on
  // a Mapping that must wait for a pager (that fault is its safe point).
  void Suspend();
  void Resume();

  // True exactly while the thread is inside a page-request wait (PageRequest::Wait on a
  // PageSource) or asleep in a fault on a Mapping, like ZX_THREAD_STATE_BLOCKED_PAGER.
  bool IsBlockedOnPager() const;

  // True while a suspension has stopped the thread: parked at a safe point, or held in a
  // fault on a Mapping (see Suspend), like ZX_THREAD_STATE_SUSPENDED. A held thread is not
  // blocked on the pager.
  bool IsParked() const;

  // True once the thread has exited (like ZX_TASK_TERMINATED). False for an invalid handle.
  bool HasExited() const;

  bool is_killed() const;
  bool is_suspended() const;
  bool is_valid() const { return state_ != nullptr; }

  friend bool operator==(const ThreadHandle& a, const ThreadHandle& b) {
    return a.state_ == b.state_;
  }

 private:
  explicit ThreadHandle(std::shared_ptr<internal::ThreadState> state);
  std::shared_ptr<internal::ThreadState> state_;
};

// A safe point for the calling thread: if it is suspended, parks until it is resumed or
// killed. Returns kIntrKilled if the thread was killed, else kOk. Operations that restart
// after kIntrRetry call this before restarting.
Status ParkWhileSuspended();

// How long a page-request wait may take (Zircon's kernel.userpager.overtime_* options).
// After each `overtime_wait` without an answer a diagnostic line is logged; once the total
// reaches `overtime_timeout` the wait returns kTimedOut and the request is cancelled.
// Zero means never (no log, no timeout respectively).
struct PagerTimeouts {
  std::chrono::milliseconds overtime_wait{20000};
  std::chrono::milliseconds overtime_timeout{300000};
};

// Process-wide; takes effect for waits that start afterwards.
void SetPagerTimeouts(PagerTimeouts timeouts);
PagerTimeouts GetPagerTimeouts();

}  // namespace upager

#endif  // UPAGER_THREAD_H_

#include "upager/thread.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <chrono>

#include "base/sync_point.h"
#include "base/thread_state.h"

namespace upager {
namespace internal {

namespace {
std::atomic<bool (*)(int)> g_fault_blocked_query{nullptr};
std::atomic<void (*)(ThreadState*)> g_fault_suspend_changed{nullptr};
std::atomic<bool (*)(int)> g_fault_held_query{nullptr};
std::atomic<void (*)(int)> g_thread_changed_hook{nullptr};

void FaultSuspendChanged(ThreadState* state) {
  if (auto* changed = g_fault_suspend_changed.load(std::memory_order_acquire)) changed(state);
}
}  // namespace

void SetFaultBlockedQuery(bool (*query)(int tid)) {
  g_fault_blocked_query.store(query, std::memory_order_release);
}

void SetFaultSuspendHooks(void (*changed)(ThreadState* state), bool (*held)(int tid)) {
  g_fault_held_query.store(held, std::memory_order_release);
  g_fault_suspend_changed.store(changed, std::memory_order_release);
}

void SetThreadChangedHook(void (*hook)(int tid)) {
  g_thread_changed_hook.store(hook, std::memory_order_release);
}

void NotifyThreadChanged(int tid) {
  if (auto* hook = g_thread_changed_hook.load(std::memory_order_acquire)) hook(tid);
}

ThreadState::ThreadState() : tid(static_cast<int>(::gettid())) {}

void ThreadState::MarkExited() {
  exited_.store(true, std::memory_order_release);
  // The fault backend forgets a thread that exited suspended (its id may be reused).
  FaultSuspendChanged(this);
  NotifyThreadChanged(tid);
}

std::shared_ptr<ThreadState> ThreadState::CurrentShared() {
  // The thread's own reference; its destruction at thread exit marks the state exited (the
  // handles to it may outlive the thread).
  struct Own {
    std::shared_ptr<ThreadState> state = std::make_shared<ThreadState>();
    ~Own() { state->MarkExited(); }
  };
  thread_local Own own;
  return own.state;
}

ThreadState* ThreadState::Current() {
  thread_local ThreadState* state = CurrentShared().get();
  return state;
}

namespace {

void Poke(int fd) {
  if (fd < 0) return;
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(fd, &one, sizeof one);
}

}  // namespace

ThreadState::~ThreadState() {
  MutexLock lock(&mutex_);
  if (interrupt_fd_ >= 0) ::close(interrupt_fd_);
}

int ThreadState::InterruptFd() {
  MutexLock lock(&mutex_);
  if (interrupt_fd_ < 0) interrupt_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  return interrupt_fd_;
}

void ThreadState::DrainInterrupt() {
  MutexLock lock(&mutex_);
  uint64_t count;
  if (interrupt_fd_ >= 0) {
    [[maybe_unused]] const ssize_t n = ::read(interrupt_fd_, &count, sizeof count);
  }
}

void ThreadState::Kill() {
  {
    MutexLock lock(&mutex_);
    killed_ = true;
    Poke(interrupt_fd_);
    cv_.NotifyAll();
  }
  FaultSuspendChanged(this);
}

void ThreadState::Suspend() {
  {
    MutexLock lock(&mutex_);
    suspended_ = true;
    Poke(interrupt_fd_);
    cv_.NotifyAll();
  }
  FaultSuspendChanged(this);
}

void ThreadState::Resume() {
  {
    MutexLock lock(&mutex_);
    suspended_ = false;
    cv_.NotifyAll();
  }
  FaultSuspendChanged(this);
}

bool ThreadState::parked() const {
  MutexLock lock(&mutex_);
  return parked_;
}

bool ThreadState::killed() const {
  MutexLock lock(&mutex_);
  return killed_;
}

bool ThreadState::suspended() const {
  MutexLock lock(&mutex_);
  return suspended_;
}

void ThreadState::Notify() {
  // Passing through the lock orders this notification after a sleeper's last check of its
  // conditions (the signaller changed them before calling here), so it cannot be lost.
  // Notifying after unlocking spares the woken thread from blocking on the lock at once.
  { MutexLock lock(&mutex_); }
  cv_.NotifyAll();
}

Status ThreadState::SleepOn(const Event& event, Deadline deadline, bool suspendable) {
  MutexLock lock(&mutex_);
  for (;;) {
    // Signal sets the flag before it takes this lock to notify, so a signal is either
    // seen here or arrives as a notification while we sleep.
    if (event.signaled_.load(std::memory_order_acquire)) {
      return Status::kOk;
    }
    if (killed_) {
      return Status::kIntrKilled;
    }
    if (suspendable && suspended_) {
      return Status::kIntrRetry;
    }
    ReachSyncPoint(suspended_ ? SyncPoint::kThreadSleepsSuspended : SyncPoint::kThreadSleeps);
    if (deadline == kInfiniteDeadline) {
      cv_.Wait(&mutex_);
    } else if (!cv_.WaitUntil(&mutex_, deadline) &&
               !event.signaled_.load(std::memory_order_acquire)) {
      return Status::kTimedOut;
    }
  }
}

Status ThreadState::Park() {
  // The observer (NotifyThreadChanged) hears of the parking before the thread sleeps, and of
  // its end, each time outside our lock (it reads the state back).
  bool reported = false;
  Status status;
  for (;;) {
    bool stop;
    {
      MutexLock lock(&mutex_);
      while (reported && suspended_ && !killed_) {
        ReachSyncPoint(SyncPoint::kThreadParks);
        cv_.Wait(&mutex_);
      }
      stop = suspended_ && !killed_;
      parked_ = stop;
      status = killed_ ? Status::kIntrKilled : Status::kOk;
    }
    if (!stop) break;
    NotifyThreadChanged(tid);
    reported = true;
  }
  if (reported) NotifyThreadChanged(tid);
  return status;
}

}  // namespace internal

namespace {
std::atomic<int64_t> g_overtime_wait_ms{PagerTimeouts{}.overtime_wait.count()};
std::atomic<int64_t> g_overtime_timeout_ms{PagerTimeouts{}.overtime_timeout.count()};
}  // namespace

ThreadHandle::ThreadHandle() = default;
ThreadHandle::~ThreadHandle() = default;
ThreadHandle::ThreadHandle(const ThreadHandle&) = default;
ThreadHandle& ThreadHandle::operator=(const ThreadHandle&) = default;
ThreadHandle::ThreadHandle(std::shared_ptr<internal::ThreadState> state)
    : state_(std::move(state)) {}

ThreadHandle ThreadHandle::Current() {
  return ThreadHandle(internal::ThreadState::CurrentShared());
}

void ThreadHandle::Kill() {
  if (state_) state_->Kill();
}
void ThreadHandle::Suspend() {
  if (state_) state_->Suspend();
}
void ThreadHandle::Resume() {
  if (state_) state_->Resume();
}
bool ThreadHandle::IsBlockedOnPager() const {
  if (!state_) return false;
  if (state_->blocked_on_pager.load(std::memory_order_acquire)) return true;
  auto* query = internal::g_fault_blocked_query.load(std::memory_order_acquire);
  return query != nullptr && query(state_->tid);
}
bool ThreadHandle::IsParked() const {
  if (!state_) return false;
  if (state_->parked()) return true;
  auto* held = internal::g_fault_held_query.load(std::memory_order_acquire);
  return held != nullptr && held(state_->tid);
}
bool ThreadHandle::HasExited() const { return state_ && state_->exited(); }
bool ThreadHandle::is_killed() const { return state_ && state_->killed(); }
bool ThreadHandle::is_suspended() const { return state_ && state_->suspended(); }

Status ParkWhileSuspended() { return internal::ThreadState::Current()->Park(); }

void SetPagerTimeouts(PagerTimeouts timeouts) {
  g_overtime_wait_ms.store(timeouts.overtime_wait.count(), std::memory_order_relaxed);
  g_overtime_timeout_ms.store(timeouts.overtime_timeout.count(), std::memory_order_relaxed);
}

PagerTimeouts GetPagerTimeouts() {
  return PagerTimeouts{
      std::chrono::milliseconds(g_overtime_wait_ms.load(std::memory_order_relaxed)),
      std::chrono::milliseconds(g_overtime_timeout_ms.load(std::memory_order_relaxed))};
}

}  // namespace upager

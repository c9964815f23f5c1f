// Mutex and lock guard that the thread-safety analysis understands.
#ifndef UPAGER_INTERNAL_MUTEX_H_
#define UPAGER_INTERNAL_MUTEX_H_

#include <condition_variable>
#include <mutex>

#include "upager/internal/thread_annotations.h"

namespace upager::internal {

// A std::mutex declared as a capability, so that fields can be marked
// UPAGER_GUARDED_BY(mutex_) and functions UPAGER_REQUIRES(mutex_).
class UPAGER_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() UPAGER_ACQUIRE() { mu_.lock(); }
  void Unlock() UPAGER_RELEASE() { mu_.unlock(); }
  // Tells the analysis the lock is held where it cannot see it (for example, a callback
  // documented to run under the lock).
  void AssertHeld() const UPAGER_ASSERT_CAPABILITY(this) {}

  // For condition variables: the underlying standard mutex.
  std::mutex& native() { return mu_; }

 private:
  std::mutex mu_;
};

// Scoped lock of a Mutex.
class UPAGER_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) UPAGER_ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() UPAGER_RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// A condition variable that waits on a held Mutex. The analysis sees the lock as held for
// the whole call, which matches what callers observe.
class CondVar {
 public:
  void Wait(Mutex* mu) UPAGER_REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->native(), std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }
  // Returns false if the deadline passed.
  template <typename Clock, typename Duration>
  bool WaitUntil(Mutex* mu, const std::chrono::time_point<Clock, Duration>& deadline)
      UPAGER_REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->native(), std::adopt_lock);
    const bool timed_out = cv_.wait_until(lock, deadline) == std::cv_status::timeout;
    lock.release();
    return !timed_out;
  }
  void NotifyOne() { cv_.notify_one(); }
  void NotifyAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace upager::internal

#endif  // UPAGER_INTERNAL_MUTEX_H_

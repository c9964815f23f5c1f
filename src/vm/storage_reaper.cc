// StorageReaper (storage_reaper.h).
#include "vm/storage_reaper.h"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <thread>

#include "upager/vmo.h"

namespace upager::internal {

StorageReaper& StorageReaper::Default() {
  static auto* reaper = new StorageReaper;
  return *reaper;
}

void StorageReaper::Close(int fd, uint64_t pages) {
  if (fd < 0) return;
  if (pages >= kMinPages) {
    MutexLock lock(&mutex_);
    if (pending_pages_ < kMaxPendingPages) {
      if (thread_pid_ != ::getpid()) {
        // The first hand-over in this process (a child of fork has no reaper thread yet).
        // The thread may outlive main (it is never joined): it only closes descriptors.
        std::thread([this] { Run(); }).detach();
        thread_pid_ = ::getpid();
      }
      fds_.push_back(fd);
      fd_pages_.push_back(pages);
      pending_pages_ += pages;
      ++handed_;
      work_.NotifyOne();
      return;
    }
  }
  ::close(fd);
}

void StorageReaper::Drain() {
  MutexLock lock(&mutex_);
  const uint64_t target = handed_;
  while (closed_ < target) done_.Wait(&mutex_);
}

void StorageReaper::Run() {
  // Batch scheduling: woken by a hand-over, the reaper does not preempt the thread that
  // handed over (on a busy machine it would otherwise take its CPU right away, and the
  // teardown it was meant to shorten would wait for the memory to be freed after all).
  sched_param param{};
  pthread_setschedparam(pthread_self(), SCHED_BATCH, &param);
  std::vector<int> fds;
  std::vector<uint64_t> pages;
  for (;;) {
    {
      MutexLock lock(&mutex_);
      while (fds_.empty()) work_.Wait(&mutex_);
      fds.swap(fds_);
      pages.swap(fd_pages_);
    }
    for (size_t i = 0; i < fds.size(); ++i) {
      ::close(fds[i]);  // the pages are freed here
      MutexLock lock(&mutex_);
      pending_pages_ -= pages[i];
      ++closed_;
      done_.NotifyAll();
    }
    fds.clear();
    pages.clear();
  }
}

}  // namespace upager::internal

namespace upager {

void WaitForFreedVmoMemory() { internal::StorageReaper::Default().Drain(); }

}  // namespace upager

// StorageReaper (storage_reaper.h).
#include "vm/storage_reaper.h"

#include <unistd.h>

#include <thread>

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

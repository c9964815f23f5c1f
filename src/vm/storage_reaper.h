// StorageReaper: closes the memfds of destroyed VMOs on a background thread.
//
// Closing the last descriptor of a memfd frees every page it holds, one page at a time in
// the kernel (about as long as unmapping them): 6-10 ms for 128 MiB. Nobody can see those
// pages once their VMO is gone (9.3), so the thread that drops the last handle hands the
// descriptor over here and goes on, and the reaper's thread frees the memory a moment
// later. Small memfds are closed at once (handing over costs more than closing), and so is
// everything while the reaper is already behind by kMaxPendingPages: memory is never held
// back for long.
// Section numbers refer to docs/zircon-semantics.md.
#ifndef UPAGER_SRC_VM_STORAGE_REAPER_H_
#define UPAGER_SRC_VM_STORAGE_REAPER_H_

#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"

namespace upager::internal {

class StorageReaper {
 public:
  // Memfds holding fewer pages than this are closed by the caller.
  static constexpr uint64_t kMinPages = 256;
  // While this many pages wait to be freed, the caller closes its memfd itself.
  static constexpr uint64_t kMaxPendingPages = uint64_t{1} << 19;  // 2 GiB

  // The process's reaper; its thread starts with the first hand-over. Never destroyed:
  // VMOs may go during static destruction.
  static StorageReaper& Default();

  // Closes `fd`, a memfd holding about `pages` pages, now or soon on the reaper's thread.
  void Close(int fd, uint64_t pages);
  // Returns once every memfd handed over before the call is closed (for benchmarks that
  // must not measure one teardown's memory release inside the next run, and for tests).
  void Drain();

 private:
  StorageReaper() = default;
  void Run();

  Mutex mutex_;
  CondVar work_;  // something to close, or a drain to answer
  CondVar done_;  // closed_ moved
  std::vector<int> fds_ UPAGER_GUARDED_BY(mutex_);
  std::vector<uint64_t> fd_pages_ UPAGER_GUARDED_BY(mutex_);
  uint64_t pending_pages_ UPAGER_GUARDED_BY(mutex_) = 0;
  uint64_t handed_ UPAGER_GUARDED_BY(mutex_) = 0;   // memfds ever handed over
  uint64_t closed_ UPAGER_GUARDED_BY(mutex_) = 0;   // of those, closed
  pid_t thread_pid_ UPAGER_GUARDED_BY(mutex_) = 0;  // the process whose reaper thread runs
};

}  // namespace upager::internal

#endif  // UPAGER_SRC_VM_STORAGE_REAPER_H_

// SideWork: descriptors a polling service thread watches besides its own, each with the
// code to run on that thread when the descriptor becomes readable.
//
// Defines:
//   SideWork           a thread's set of watched descriptors (at most kMaxWatches)
//   SideWork::Watcher  what a watch runs: OnReady when readable, OnStop when the loop ends
//
// Why: a fault thread sleeps in poll() on its userfaultfd. A provider whose data must be
// waited for (a disk read) can start the read on that very thread, as an io_uring
// submission, and have the completion handled there too, by watching the ring's
// descriptor here; the read then costs no hand-off to an I/O thread and back. Code below
// the fault layer (a provider's fault filler, fault_filler.h) finds the thread's SideWork
// with Current(), without knowing which loop runs it.
//
// Threading: a SideWork belongs to the thread that made it. Current(), Add() and Remove()
// are for that thread only (a watcher registers itself while the loop dispatches a fault),
// so nothing here is locked.
//
// Lifetime: the loop makes one on its stack before its first poll and destroys it when it
// ends; the destructor calls every watcher's OnStop (which must finish what the watcher
// has started: the loop never polls for it again) and forgets them.
#ifndef UPAGER_SRC_BASE_SIDE_WORK_H_
#define UPAGER_SRC_BASE_SIDE_WORK_H_

#include <poll.h>

#include <array>
#include <cstddef>

namespace upager::internal {

class SideWork {
 public:
  class Watcher {
   public:
    // The descriptor is readable. Runs on the owning thread, between two polls.
    virtual void OnReady() = 0;
    // The loop ends: finish (or fail) everything in progress, on the owning thread.
    virtual void OnStop() = 0;

   protected:
    ~Watcher() = default;
  };

  static constexpr size_t kMaxWatches = 8;

  // Makes this the calling thread's SideWork until it is destroyed.
  SideWork();
  ~SideWork();
  SideWork(const SideWork&) = delete;
  SideWork& operator=(const SideWork&) = delete;

  // The calling thread's, or null if no polling loop runs on it.
  static SideWork* Current();

  // Watches `fd` for POLLIN on behalf of `watcher`; false if the set is full.
  bool Add(int fd, Watcher* watcher);
  // Stops watching for `watcher` (its OnStop is not called).
  void Remove(Watcher* watcher);

  // For the loop: writes the watched descriptors to `fds` (room for kMaxWatches); returns
  // how many.
  size_t Fill(pollfd* fds) const;
  // For the loop: `fds` as filled by Fill() and then polled; runs OnReady of each watch
  // whose descriptor is ready. (Watches added or removed meanwhile are matched by fd.)
  void Dispatch(const pollfd* fds, size_t count);

 private:
  struct Watch {
    int fd = -1;
    Watcher* watcher = nullptr;
  };
  std::array<Watch, kMaxWatches> watches_{};
  size_t count_ = 0;
  SideWork* previous_ = nullptr;  // the thread's SideWork before this one (nesting)
};

}  // namespace upager::internal

#endif  // UPAGER_SRC_BASE_SIDE_WORK_H_

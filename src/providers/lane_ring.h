// LaneRing: a fault thread's own io_uring, for the reads a fault must wait for.
//
// A fault that a provider cannot fill at once (fault_filler.h: the page is not in the page
// cache) waits on a READ request. Rather than handing the read to the provider's I/O thread
// (a futex wake there, and its own wait for the disk), the provider's filler starts it here,
// on the fault thread that took the fault, and the same thread handles the completion when
// the ring's descriptor becomes readable (it is watched next to the userfaultfd,
// base/side_work.h): it supplies the pages, which wakes the faulting thread. A miss then
// costs the fault thread one more wake-up and nothing else, and several misses of one lane
// are read at once.
//
// One ring per fault thread, made at its first use there, with kSlots reads in flight at
// most, each into a buffer of kSlotBytes that is allocated at the slot's first use and kept
// for the thread's life (reads allocate nothing after that). ForThisThread() is null on a
// thread that runs no polling loop, or where io_uring is refused: callers then fall back to
// their I/O thread.
//
// Every read is read whole: short reads are continued and EINTR/EAGAIN retried; a read
// that reaches the end of the file ends short (`done` < length). Each read's Client hears
// of its end exactly once, on the ring's thread: from OnReady while the loop runs, or from
// OnStop (which waits for every read still in flight) when it ends.
//
// Lifetime of clients: a client must outlive its reads. It counts them itself (Start()
// returned true → one ReadDone later) and, before it goes away, waits for them with
// Drain(), which reaps this thread's own ring when called on a ring's thread (so that a
// client destroyed on its own fault thread does not wait for itself).
#ifndef UPAGER_SRC_PROVIDERS_LANE_RING_H_
#define UPAGER_SRC_PROVIDERS_LANE_RING_H_

#include <liburing.h>

#include <array>
#include <cstddef>
#include <cstdint>

#include "base/side_work.h"

namespace upager::internal {

class LaneRing final : public SideWork::Watcher {
 public:
  static constexpr size_t kSlots = 16;
  static constexpr uint64_t kSlotBytes = 256 * 1024;

  class Client {
   public:
    // The read of [offset, offset + length) ended: `done` bytes are in `data` (fewer than
    // length: the file ended there), or it failed with `error` (an errno; then done is 0).
    // `data` is valid during the call only. Called on the ring's thread, no lock held.
    virtual void ReadDone(uint64_t offset, uint64_t length, std::byte* data, uint64_t done,
                          int error) = 0;

   protected:
    ~Client() = default;
  };

  // The calling thread's ring (made now if needed), or null: no polling loop runs on this
  // thread, or io_uring cannot be used.
  static LaneRing* ForThisThread();
  // The calling thread's ring if it has one already; never makes one.
  static LaneRing* IfThisThread();

  ~LaneRing();
  LaneRing(const LaneRing&) = delete;
  LaneRing& operator=(const LaneRing&) = delete;

  // Slots free for Start().
  size_t free_slots() const { return kSlots - busy_; }
  // Starts reading `length` bytes (at most kSlotBytes) of `fd` at `offset` for `client`.
  // False if no slot (or its buffer) is free, or the ring refused it: nothing started.
  bool Start(Client* client, int fd, uint64_t offset, uint64_t length);
  // Waits for one completion at least and handles every one that is in. For a client that
  // waits for its reads on this thread.
  void ReapOnce();
  size_t busy() const { return busy_; }

  // SideWork::Watcher
  void OnReady() override;  // handles what is in, without waiting
  void OnStop() override;   // waits for every read in flight and handles it

 private:
  struct Slot {
    Client* client = nullptr;
    int fd = -1;
    uint64_t offset = 0;
    uint64_t length = 0;
    uint64_t done = 0;
    std::byte* buffer = nullptr;  // kSlotBytes, kept once allocated
  };

  LaneRing() = default;
  bool Init();
  bool Queue(size_t i);  // prepares the (rest of the) read of slot i
  // Handles the completions in the ring; false if there were none.
  bool HandleCompletions();
  void Finish(size_t i, int error);

  io_uring ring_{};
  bool ready_ = false;
  bool watched_ = false;
  size_t busy_ = 0;
  std::array<Slot, kSlots> slots_{};
};

}  // namespace upager::internal

#endif  // UPAGER_SRC_PROVIDERS_LANE_RING_H_

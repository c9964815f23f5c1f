// RequestQueue: the READ requests a provider was handed and has not served yet, handed to
// its I/O thread merged into as few ranges as possible.
//
// A PagerLoop handler only Push()es (so it never blocks); the provider's I/O thread takes
// everything pending at once with TakeMerged(): sorted, adjacent and overlapping requests
// joined (up to `max_batch` bytes a range), and with the parts already being read removed.
// A request that falls inside a range in flight needs nothing: the supply of that range
// resolves it, since it is outstanding in the VMO's PageSource before its packet exists.
// The same holds for a range whose flight ended after the request's packet was queued (the
// request was outstanding by then, and the supply follows the end), so those parts are
// removed too: a reader that faulted just before the data arrived does not cause a second
// read, however late the loop thread hands its packet over. Ended flights are remembered
// for kEndedMemory; a packet older than that is read again (harmless).
// For the same reason EndFlight() must come *before* the supply or failure of the range:
// a request arriving after EndFlight is read again (harmless), while one dropped after
// the supply would never be answered.
#ifndef UPAGER_SRC_PROVIDERS_REQUEST_QUEUE_H_
#define UPAGER_SRC_PROVIDERS_REQUEST_QUEUE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "upager/internal/mutex.h"
#include "upager/status.h"

namespace upager::internal {

struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;
  uint64_t end() const { return offset + length; }
};

class RequestQueue {
 public:
  explicit RequestQueue(uint64_t max_batch) : max_batch_(max_batch) {}

  // Called after each Push (outside the lock): lets an I/O thread that sleeps elsewhere
  // (io_uring, curl) know. Set before the first Push.
  void SetNotifier(std::function<void()> notify) { notify_ = std::move(notify); }

  // Queues a request whose packet was queued at `queued_ns` (PagerLoop::Request::queued_ns,
  // steady_clock; 0: now); false once closed.
  bool Push(uint64_t offset, uint64_t length, uint64_t queued_ns = 0);
  // Blocks until something is pending or the queue is closed. False: closed.
  bool WaitPending();
  bool HasPending();
  // Everything pending, merged, minus what is in flight.
  std::vector<ByteRange> TakeMerged();

  // Marks [offset, offset + length) in flight, cut short where it would run into a range
  // already in flight; returns the length marked (0 if `offset` itself is in flight).
  uint64_t StartFlight(uint64_t offset, uint64_t length);
  void EndFlight(uint64_t offset, uint64_t length);
  // The part of `range` around `offset` (inside it) that no read in flight overlaps;
  // empty if `offset` itself is being read.
  ByteRange ClearOfFlights(uint64_t offset, ByteRange range);
  size_t InFlight();

  // Wakes WaitPending; later Pushes are refused.
  void Close();
  bool closed();

 private:
  const uint64_t max_batch_;
  std::function<void()> notify_;
  Mutex mutex_;
  CondVar cv_;
  static constexpr uint64_t kEndedMemory = 2'000'000'000;  // ns
  static constexpr size_t kMaxEnded = 4096;

  struct Pending {
    ByteRange range;
    uint64_t queued_ns;
  };
  struct Ended {
    ByteRange range;
    uint64_t end_ns;
  };
  std::vector<Pending> pending_ UPAGER_GUARDED_BY(mutex_);
  std::map<uint64_t, uint64_t> in_flight_ UPAGER_GUARDED_BY(mutex_);  // offset -> end
  // Flights ended in the last kEndedMemory (at most kMaxEnded), oldest first.
  std::vector<Ended> ended_ UPAGER_GUARDED_BY(mutex_);
  // Never moves back, even if a caller's clock reading does.
  uint64_t last_ns_ UPAGER_GUARDED_BY(mutex_) = 0;
  bool closed_ UPAGER_GUARDED_BY(mutex_) = false;
};

}  // namespace upager::internal

#endif  // UPAGER_SRC_PROVIDERS_REQUEST_QUEUE_H_

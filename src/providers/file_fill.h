// FileProvider::Filler: the fault fast path of a FileProvider (src/vm/fault_filler.h).
//
// A fault thread asks it for the faulting page of the VMO. It reads the page, and the
// read-ahead the provider's policy plans around it, straight from the file into the fault
// thread's buffer, but only if that cannot block:
//  - a file on a memory file system (tmpfs, ramfs) is read with pread: its pages are in
//    memory, or come from swap like any other memory of the process;
//  - any other file is read with preadv2(RWF_NOWAIT), which returns only what is in the
//    page cache. The page is probed first, alone, so that a miss leaves the read-ahead
//    streams as they were: the request that follows is planned as if no fill had been
//    tried. Before that, cachestat(2) (where the kernel has it) tells whether the page is
//    in the page cache at all: a missing page is not probed, since a read that misses
//    starts the kernel's own read of it, a small disk read before (and in the middle of)
//    the one the request makes.
// The part holding the page is supplied first (the faulting thread resumes at once), then
// the rest in pieces of at most max_io bytes, in the direction of the stream.
// A range being read by the provider's I/O thread is left to it. A miss, a read error or a
// file that shrank are handled through the request: the filler declines, and nothing is
// lost. Once the request exists (Missed), the read the I/O thread would have made for it
// (the page and its read-ahead, planned the same way) is started on the fault thread's own
// io_uring (lane_ring.h) and supplied there when it completes; where there is no such ring
// or no free slot, the page is pushed straight to the I/O thread's queue. Either way the
// disk read starts without waiting for the request's packet to pass through a loop thread;
// the packet, arriving later, finds the read in flight, or ended after the packet was
// queued, and is dropped (RequestQueue). Reads on a lane are marked in flight in the same
// queue, so that the I/O thread and the fills leave them alone.
#ifndef UPAGER_SRC_PROVIDERS_FILE_FILL_H_
#define UPAGER_SRC_PROVIDERS_FILE_FILL_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "providers/lane_ring.h"
#include "providers/request_queue.h"
#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"
#include "upager/providers/file_provider.h"
#include "vm/fault_filler.h"

namespace upager {

class FileProvider::Filler final : public internal::FaultFiller, public internal::LaneRing::Client {
 public:
  // `read_ahead` and `queue` are the provider's I/O side's, which outlives the filler.
  Filler(FileProvider* owner, int fd, uint64_t max_io, ReadAhead* read_ahead,
         internal::RequestQueue* queue);

  // True if the file lives in memory (tmpfs, ramfs): plain reads never wait for a disk.
  static bool IsMemoryFile(int fd);

  void FillNow(uint64_t page, Range run, std::byte* buffer, uint64_t capacity, Sink* sink) override;
  void Missed(uint64_t page, Range run) override;
  bool ReadsMisses() const override { return true; }  // on the lane, or by the I/O thread
  void ReadDone(uint64_t offset, uint64_t length, std::byte* data, uint64_t done,
                int error) override;
  // Returns once no read this filler started on a fault thread's ring is in flight. Call
  // after the filler is cleared from the VMO (no new ones start) and before the provider's
  // I/O side and descriptor go away.
  void WaitForLaneReads();

 private:
  // False if the page at `offset` is surely not in the page cache (cachestat(2)); true if
  // it may be (or the kernel cannot tell).
  bool MaybeCached(uint64_t offset);
  // Reads up to `length` bytes at `offset` into `buffer` without blocking; the bytes read,
  // or -1 (would block, error, or RWF_NOWAIT unsupported: then it is not tried again).
  int64_t ReadNow(std::byte* buffer, uint64_t length, uint64_t offset);
  // Reads [offset, offset + length) (past the content: zeros) and supplies it; false if it
  // was cut short (a miss) or the sink said stop. A short read still supplies its whole
  // pages when they hold `must_hold` (or it is ~0).
  bool ReadAndSupply(uint64_t offset, uint64_t length, uint64_t must_hold, std::byte* buffer,
                     Sink* sink);
  // Marks [offset, offset + length) in flight (cut short at a range in flight already) and
  // starts reading it on `ring`; the bytes started (0: nothing, the range is being read or
  // the ring refused, in which case it went to the I/O thread).
  uint64_t StartLaneRead(internal::LaneRing* ring, uint64_t offset, uint64_t length);

  FileProvider* const owner_;
  const int fd_;
  const uint64_t max_io_;
  const bool memory_file_;
  ReadAhead* const read_ahead_;
  internal::RequestQueue* const queue_;
  std::atomic<bool> nowait_works_{true};
  std::atomic<bool> cachestat_works_{true};
  internal::Mutex lane_mutex_;
  internal::CondVar lane_idle_;
  uint64_t lane_reads_ UPAGER_GUARDED_BY(lane_mutex_) = 0;  // started on rings, not done
};

}  // namespace upager

#endif  // UPAGER_SRC_PROVIDERS_FILE_FILL_H_

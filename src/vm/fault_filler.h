// FaultFiller: content that the thread handling a mapped fault can have at once.
//
// A mapped fault on an absent page normally becomes a READ request: its packet goes to the
// pager, a pager thread reads the data and supplies it, and the supply wakes the faulting
// thread. That is three threads and two hand-offs for one page. Zircon needs them because
// its pager is another process; a provider that runs in this process and can read the page
// without blocking (a file in the page cache or in tmpfs, a decompressed chunk in memory)
// does not. It installs a FaultFiller on its VMO, and the fault thread then asks it first:
//
//   1. The fault thread finds the page absent, takes the absent run around it (bounded by
//      its buffer) and drops the VMO lock.
//   2. FillNow() reads some sub-range of that run holding the page into the buffer, without
//      blocking; or declines (it would block, or the page is being read already).
//   3. The fault thread supplies what was filled, exactly as Pager::SupplyPagesFromBuffer
//      would: pages still absent become Clean, are installed into every mapping (which
//      wakes the faulting thread) and resolve any request waiting on them.
//   4. A declined or lost fill falls back to the request, so nothing changes for anyone
//      who waits: de-duplication, failure and early wake stay the PageSource's. The filler
//      hears of it (Missed) once the request exists, and may start the read at once; one
//      that always does (ReadsMisses) spares the request its packet (FillerClaim).
//
// What a filler supplies is what its pager would have supplied for the request; no READ
// packet is made for a filled fault. Only the fault path uses fillers: Vmo::Read and
// friends still make requests (the pager's own threads serve them).
#ifndef UPAGER_SRC_VM_FAULT_FILLER_H_
#define UPAGER_SRC_VM_FAULT_FILLER_H_

#include <cstddef>
#include <cstdint>

#include "upager/status.h"

namespace upager::internal {

// The READ request of a fault whose filler declined needs no packet: the filler hears of it
// from Missed() and reads the page itself (or hands it to its own I/O thread). While the
// fault thread asks the page source for that page, a FillerClaim on its stack names it, and
// the provider that turns requests into packets (src/pager/pager_proxy.cc) sends none for
// exactly that request. Only the calling thread sees its claim; a request sent later by
// another thread (after an overlapping one ended, say) still gets its packet, which a
// filler's provider drops once it finds the page read.
class FillerClaim {
 public:
  // `source`: the VMO's PageSource; `offset`: the page's.
  FillerClaim(const void* source, uint64_t offset) : previous_(t_claim) {
    claim_ = {source, offset};
    t_claim = &claim_;
  }
  ~FillerClaim() { t_claim = previous_; }
  FillerClaim(const FillerClaim&) = delete;
  FillerClaim& operator=(const FillerClaim&) = delete;

  // True if the calling thread's claim is the page [offset, offset + length) of `source`
  // (then it is used up: a claim skips one packet).
  static bool Take(const void* source, uint64_t offset, uint64_t length) {
    Claim* c = t_claim;
    if (c == nullptr || c->source != source || c->offset != offset || length != kPageSize) {
      return false;
    }
    c->source = nullptr;
    return true;
  }

 private:
  struct Claim {
    const void* source;
    uint64_t offset;
  };
  static inline thread_local Claim* t_claim = nullptr;
  Claim claim_{};
  Claim* previous_;
};

class FaultFiller {
 public:
  // A range of VMO bytes.
  struct Range {
    uint64_t offset = 0;
    uint64_t length = 0;
    uint64_t end() const { return offset + length; }
  };

  // Where a filler hands what it read: Supply() supplies `range` from `data` (its first
  // byte at data[0]) at once, which wakes the faulting thread as soon as the range holding
  // its page is in. False: stop (the VMO was detached, or shrank below the range).
  class Sink {
   public:
    // `*supplied`: the bytes that were still absent and were supplied.
    virtual bool Supply(Range range, const std::byte* data, uint64_t* supplied) = 0;

   protected:
    ~Sink() = default;
  };

  // Called on a fault thread with no lock held; several threads may call it at once.
  // `page`: the faulting page's VMO offset. `run`: the absent pages around it (at most
  // `capacity` bytes on either side); `buffer` holds `capacity` bytes.
  //
  // Reads, without blocking, ranges of `run` into `buffer` and hands each to `sink`, one at
  // a time (the buffer may be reused once Supply returns): the first must hold `page`, so
  // that the faulting thread resumes while the rest is read. A filler that cannot read the
  // page without blocking supplies nothing. Ranges must be page-aligned; bytes past the
  // content must be zeros. Must not touch mapped memory of its own VMO.
  virtual void FillNow(uint64_t page, Range run, std::byte* buffer, uint64_t capacity,
                       Sink* sink) = 0;
  // The fill of `page` did not resolve its fault, and the fault now waits on a request for
  // it (outstanding already, so a supply from now on resolves it). `run`: the absent pages
  // around it when the fill was tried (a snapshot). Called on the fault thread with no lock
  // held, before the request's packet can have reached the pager's threads' handler, as a
  // chance to start reading it at once (on the fault thread's own ring, lane_ring.h, or by
  // handing it to an I/O thread). Must not block.
  virtual void Missed(uint64_t page, Range run) = 0;
  // True if Missed() always gets the page read and supplied (or failed) by the filler's
  // own means, so that the request's packet is not needed (FillerClaim). A filler that
  // relies on the packet returns false.
  virtual bool ReadsMisses() const = 0;

 protected:
  ~FaultFiller() = default;
};

}  // namespace upager::internal

#endif  // UPAGER_SRC_VM_FAULT_FILLER_H_

// Mapping: a VMO mapped into this process, so that plain loads and stores reach its pager.
//
// A pager-backed VMO's memfd is mapped MAP_SHARED and registered with the process's
// userfaultfd. A load from an absent page becomes a READ request of that page through the
// VMO's PageSource (shared with Vmo::Read and with every other mapping of the VMO: 32
// threads faulting on one page make one request); the faulting thread sleeps in the kernel
// until the pager supplies the page. Clean pages are mapped write-protected, so the first
// store to one is seen: with kVmoTrapDirty it sends a DIRTY request and waits for
// kPagerOpDirty, without it the page silently becomes Dirty. WRITEBACK_BEGIN write-protects
// again. Eviction, detach, OP_ZERO and shrinking drop pages from every mapping, so the next
// access asks the pager again.
//
// When the request fails (kPagerOpFail, detach, a shrink below the page) the faulting
// thread receives SIGBUS with si_addr = the faulting address, and FaultStatusForAddress
// tells why. The signal is queued to the thread by the library (si_code SI_QUEUE, since
// Linux lets only the kernel forge BUS_ADRERR for another thread), except for accesses
// beyond the end of a shrunk VMO, where the kernel raises it itself (BUS_ADRERR). Failures
// are not sticky: a later access issues a new request.
//
//   upager::Mapping map;
//   if (upager::Mapping::Create(vmo, 0, size, upager::kMapRead, &map) == upager::Status::kOk) {
//     uint64_t first = *reinterpret_cast<const uint64_t*>(map.data());   // may fault
//   }
//
// Faults are served by one fault-handling thread per process (SetFaultThreads), started by
// the first Mapping and stopped when the last one goes. It never blocks on a pager, but it
// does run the handlers of any PagerLoop created with `serve_faults_inline`.
//
// Limits, Linux's and ours:
//  - fork: mappings are MADV_DONTFORK, so a child has nothing mapped there (an access is a
//    SIGSEGV) and no pager service. Its copies of the VMO handles still work through
//    Vmo::Read/Write but nobody answers its requests.
//  - The library copies to and from user buffers with VMO locks held. A buffer passed to
//    Vmo::Read/Write or SupplyPagesFromBuffer must not itself be an absent page of a
//    mapping of the same VMO (the fault would wait for that lock). QueryDirtyRanges copies
//    out after dropping the lock, so its buffer may be any mapping.
//  - A thread that blocks SIGBUS, or ignores it, re-faults and asks the pager again.
#ifndef UPAGER_MAPPING_H_
#define UPAGER_MAPPING_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "upager/status.h"
#include "upager/vmo.h"

namespace upager {

inline constexpr uint32_t kMapRead = 1, kMapWrite = 2;

namespace internal {
class MappingObject;
class RemoteMapping;
}  // namespace internal

class Mapping {
 public:
  Mapping();
  ~Mapping();  // Reset()
  Mapping(Mapping&& other) noexcept;
  Mapping& operator=(Mapping&& other) noexcept;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;

  // Maps [vmo_offset, vmo_offset + len) of `vmo`. `flags`: kMapRead, optionally kMapWrite.
  // kInvalidArgs for other flags, a zero length or an unaligned offset or length;
  // kOutOfRange if the range is not inside the VMO; kBadHandle for an invalid VMO;
  // kNotSupported where userfaultfd is unavailable (the reason is logged once and given by
  // MappingSupport(&why)), and for a writable mapping of a resizable VMO whose handle came
  // from another process (docs/processes.md). Counts as a handle of the VMO: the VMO stays alive
  // (and its pager keeps serving it) while mapped.
  static Status Create(const Vmo& vmo, uint64_t vmo_offset, uint64_t len, uint32_t flags,
                       Mapping* out);

  // Maps at `address` (page aligned), replacing whatever is there: the range must be the
  // caller's, a reservation it made (a PROT_NONE mmap) or parts of its own Mappings, which
  // give those parts up as by Unmap. A thread asleep in a fault of a replaced part is woken
  // once this mapping is in place and retries its access here (Zircon's VmarRemapTest).
  // The Mappings being replaced must not be destroyed meanwhile. The arguments and
  // statuses are Create's, plus kInvalidArgs for an unaligned address. Should the mapping
  // fail after the old one gave the range up, the range is left reserved (PROT_NONE).
  static Status CreateAt(const Vmo& vmo, uint64_t vmo_offset, uint64_t len, uint32_t flags,
                         void* address, Mapping* out);

  // Parts of the mapping; `offset` and `len` are bytes from data(), page aligned, not zero
  // (kInvalidArgs), inside the mapping (kOutOfRange). kNotSupported for a VMO held from
  // another process.
  //
  // Protect sets the protection of the range: kMapRead, kMapRead | kMapWrite, or 0 (no
  // access). kAccessDenied for kMapWrite on a mapping created without it; kNotFound if a part
  // was unmapped or replaced. A store to a read-only part raises SIGSEGV; giving write
  // access back never makes a clean page writable (its first store is still seen).
  Status Protect(uint64_t offset, uint64_t len, uint32_t flags);
  // Unmaps the range: it is left reserved (PROT_NONE) and the caller's, and the rest of the
  // mapping keeps working. A thread asleep in a fault there retries and gets SIGSEGV.
  // Unmapping a part that is already unmapped does nothing.
  Status Unmap(uint64_t offset, uint64_t len);
  // Maps the pages of the range that are present in the VMO now (ZX_VM_MAP_RANGE), asking
  // the pager for none; an absent page still faults to the pager when touched.
  Status MapRange(uint64_t offset, uint64_t len);

  std::byte* data() const;
  uint64_t size() const;
  bool is_valid() const { return object_ != nullptr || remote_ != nullptr; }
  // Unmaps. A thread blocked in a fault on this mapping is woken and its retried access
  // finds nothing mapped (SIGSEGV, as Zircon's VmarUnmapTest).
  void Reset();

 private:
  std::unique_ptr<internal::MappingObject> object_;
  // Instead, for a VMO held from another process (channel.h).
  std::unique_ptr<internal::RemoteMapping> remote_;
};

// The Status behind the latest SIGBUS upager raised at the page of `addr` (kIo, kBadState,
// kOutOfRange, any pager failure code ...); for an address beyond the end of a shrunk VMO,
// kOutOfRange; kNotFound otherwise. May be called from the SIGBUS handler.
Status FaultStatusForAddress(const void* addr);

// kOk if mappings can be created here; otherwise kNotSupported and, if `why` is not null,
// the reason (for example "userfaultfd: Operation not permitted"). Setting the environment
// variable UPAGER_NO_USERFAULTFD makes it kNotSupported (read once, at the first call).
Status MappingSupport(std::string* why = nullptr);

// The number of fault-handling threads the next start of the fault handler uses (default 1;
// it starts with the first mapping). kInvalidArgs for 0 or more than 64. Each thread reads
// its own userfaultfd; a mapping of 4 MiB or more is registered in stripes spread over all
// of them, so that its faults are served in parallel, and a smaller one goes to the thread
// with the fewest mappings (docs/scaling.md).
Status SetFaultThreads(size_t threads);

}  // namespace upager

#endif  // UPAGER_MAPPING_H_

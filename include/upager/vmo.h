// Vmo: a handle to a virtual memory object, anonymous or backed by a user pager.
//
// Like a Zircon VMO, its content is read and written with Read/Write (the library copies,
// running Zircon's retry loop on the calling thread: a missing page becomes a READ request
// to the pager, a write to a clean page of a kVmoTrapDirty VMO a DIRTY request, and the
// call blocks until the pager answers). Handles are move-only; Duplicate makes another
// handle to the same object; when the last handle and the last Mapping of it go, a
// pager-backed VMO's page source is closed and the pager gets a COMPLETE packet.
//
// Handles carry no rights in upager: any handle may do anything its type allows. Zircon
// would refuse, e.g., a write through a handle without ZX_RIGHT_WRITE (kAccessDenied);
// cross-process use would need rights checked where a handle crosses the boundary.
#ifndef UPAGER_VMO_H_
#define UPAGER_VMO_H_

#include <cstdint>

#include "upager/internal/handle.h"
#include "upager/status.h"

namespace upager {

namespace internal {
class VmObjectPaged;
// Instantiated in the library, which alone sees the object type.
extern template class Handle<VmObjectPaged>;
}  // namespace internal

inline constexpr uint32_t kVmoResizable = 1u << 1, kVmoTrapDirty = 1u << 3;
inline constexpr uint32_t kVmoOpCommit = 1, kVmoOpDecommit = 2, kVmoOpZero = 10,
                          kVmoOpDontNeed = 12, kVmoOpAlwaysNeed = 13, kVmoOpPrefetch = 14;
inline constexpr uint32_t kVmoInfoPagerBacked = 1u << 5;
// The largest VMO size. Page storage is a sparse memfd, whose size the kernel limits to
// 2^63-1 bytes; 2^60 leaves room for range arithmetic.
inline constexpr uint64_t kMaxVmoSize = 1ull << 60;

struct VmoInfo {
  uint64_t koid;
  uint64_t size_bytes;
  uint64_t committed_bytes;  // real pages held (Clean, Dirty, AwaitingClean)
  uint64_t populated_bytes;  // same for a root VMO (no clones yet)
  uint32_t flags;            // kVmoInfoPagerBacked
};

class Vmo : private internal::Handle<internal::VmObjectPaged> {
 public:
  // An anonymous, zero-filled VMO of `size` bytes rounded up to pages. Options:
  // kVmoResizable; anything else (including kVmoTrapDirty) is kInvalidArgs; a size above
  // kMaxVmoSize is kOutOfRange.
  static Status Create(uint64_t size, uint32_t options, Vmo* out);

  Status Duplicate(Vmo* out) const;
  bool is_valid() const { return Handle::is_valid(); }
  void Reset() { Handle::Reset(); }
  // Unique per object for the process's lifetime; 0 for an invalid handle.
  uint64_t koid() const;

  // Copy [offset, offset+len) out of / into the VMO. kOutOfRange if the range is not inside
  // the VMO; a pager's failure code, kBadState after detach, kIntrKilled, kTimedOut.
  Status Read(void* data, uint64_t offset, uint64_t len) const;
  Status Write(const void* data, uint64_t offset, uint64_t len) const;
  Status GetSize(uint64_t* size) const;
  // kUnavailable unless created kVmoResizable; rounds up to pages.
  Status SetSize(uint64_t size) const;
  // kVmoOpCommit, kVmoOpDecommit, kVmoOpZero, kVmoOpDontNeed, kVmoOpAlwaysNeed,
  // kVmoOpPrefetch, with Zircon's semantics (docs/zircon-semantics.md 15).
  Status OpRange(uint32_t op, uint64_t offset, uint64_t len) const;
  // Clones are not supported yet: kNotSupported.
  Status CreateChild(uint32_t options, uint64_t offset, uint64_t size, Vmo* out) const;
  Status GetInfo(VmoInfo* out) const;

 private:
  friend struct internal::HandleAccess;
};

// The memory of a big VMO (hundreds of pages or more) is given back to the system on a
// background thread once the VMO is destroyed (its last handle and mapping gone), a few
// milliseconds later. Returns once the memory of every VMO destroyed before the call is
// back: for benchmarks and tests that measure memory, or time one teardown apart from the
// next.
void WaitForFreedVmoMemory();

}  // namespace upager

#endif  // UPAGER_VMO_H_

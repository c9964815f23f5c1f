// Vmo: a handle to a virtual memory object, anonymous or backed by a user pager.
//
// Like a Zircon VMO, its content is read and written with Read/Write (the library copies,
// running Zircon's retry loop on the calling thread: a missing page becomes a READ request
// to the pager, a write to a clean page of a kVmoTrapDirty VMO a DIRTY request, and the
// call blocks until the pager answers). Handles are move-only; Duplicate makes another
// handle to the same object; when the last handle and the last Mapping of it go, a
// pager-backed VMO's page source is closed and the pager gets a COMPLETE packet.
//
// Each handle carries rights (rights.h), Zircon's: a call the handle's rights do not allow
// fails with kAccessDenied. Read needs kRightRead; Write, SetSize and OpRange's COMMIT,
// DECOMMIT and ZERO need kRightWrite, PREFETCH kRightRead (DONT_NEED and ALWAYS_NEED need
// none); Mapping::Create needs kRightMap and kRightRead, and kRightWrite for kMapWrite; the
// Pager calls need kRightWrite (SupplyPages, OpRange, DetachVmo; an aux VMO kRightRead and
// kRightWrite) or kRightRead (QueryDirtyRanges, QueryVmoStats) on the VMO handle. GetSize,
// GetInfo and koid need none. The rights are checked where Zircon checks them: after the
// handle is found valid and before the call's other arguments, except that the Pager calls
// check alignment first (docs/zircon-semantics.md section 11).
#ifndef UPAGER_VMO_H_
#define UPAGER_VMO_H_

#include <cstdint>

#include "upager/internal/handle.h"
#include "upager/rights.h"
#include "upager/status.h"

namespace upager {

namespace internal {
class VmObjectPaged;
class VmoRemote;
// Instantiated in the library, which alone sees the object type.
extern template class Handle<VmObjectPaged>;
}  // namespace internal

// kVmoUnbounded (Zircon's ZX_VMO_UNBOUNDED): the VMO has the largest size, kMaxVmoSize, and
// the size given at creation is its stream size instead (GetStreamSize). Not with
// kVmoResizable.
inline constexpr uint32_t kVmoResizable = 1u << 1, kVmoTrapDirty = 1u << 3, kVmoUnbounded = 1u << 4;
inline constexpr uint32_t kVmoOpCommit = 1, kVmoOpDecommit = 2, kVmoOpZero = 10,
                          kVmoOpDontNeed = 12, kVmoOpAlwaysNeed = 13, kVmoOpPrefetch = 14;
inline constexpr uint32_t kVmoInfoPagerBacked = 1u << 5;
// CreateChild's options (Zircon's values; docs/clones.md says what each kind does).
inline constexpr uint32_t kVmoChildSnapshot = 1u << 0, kVmoChildResizable = 1u << 2,
                          kVmoChildSlice = 1u << 3, kVmoChildSnapshotAtLeastOnWrite = 1u << 4,
                          kVmoChildNoWrite = 1u << 5, kVmoChildReference = 1u << 6,
                          kVmoChildSnapshotModified = 1u << 7;
// The largest VMO size. Page storage is a sparse memfd, whose size the kernel limits to
// 2^63-1 bytes; 2^60 leaves room for range arithmetic.
inline constexpr uint64_t kMaxVmoSize = 1ull << 60;

struct VmoInfo {
  uint64_t koid;
  uint64_t size_bytes;
  uint64_t committed_bytes;   // real pages this node holds (a child: the pages it forked)
  uint64_t populated_bytes;   // the same (pages a child reads through are its root's)
  uint32_t flags;             // kVmoInfoPagerBacked (every node of a pager-backed tree)
  uint32_t num_children = 0;  // children alive (CreateChild)
  uint64_t parent_koid = 0;   // the parent's koid; 0 for a VMO that is not a child
};

// upager extension: told when a VMO's last child goes (the zx layer's ZX_VMO_ZERO_CHILDREN).
// A child counts from CreateChild until it is destroyed: when its last handle and mapping
// have gone, and, for a read-through clone or a slice, its own read-through children and
// slices too (they read through it). OnZeroChildren runs on the thread that let the child
// go, with no lock of the VMO's tree held (GetInfo may be called), and is serialized with
// SetChildObserver / RemoveChildObserver: once RemoveChildObserver returns, the observer is
// not called any more. It may also run when a child was created again just before it (read
// the count with GetInfo).
class VmoChildObserver {
 public:
  virtual void OnZeroChildren() = 0;

 protected:
  ~VmoChildObserver() = default;
};

class Vmo : private internal::Handle<internal::VmObjectPaged> {
 public:
  // An anonymous, zero-filled VMO of `size` bytes rounded up to pages. Options:
  // kVmoResizable or kVmoUnbounded (`size` is then the stream size); anything else
  // (including kVmoTrapDirty, and both together) is kInvalidArgs; a size above kMaxVmoSize
  // is kOutOfRange.
  static Status Create(uint64_t size, uint32_t options, Vmo* out);

  Vmo() = default;
  // A moved-from handle is invalid and has no rights.
  Vmo(Vmo&& other) noexcept;
  Vmo& operator=(Vmo&& other) noexcept;

  // Another handle to the same object with the same rights (Duplicate(kRightSameRights)).
  Status Duplicate(Vmo* out) const;
  // Another handle to the same object with `rights`: a subset of this handle's rights, or
  // kRightSameRights. kBadHandle for an invalid handle; kAccessDenied if this handle lacks
  // kRightDuplicate; kInvalidArgs if `rights` holds a right this handle lacks, or `out` is
  // null.
  Status Duplicate(uint32_t rights, Vmo* out) const;
  // The same, consuming this handle, and without needing kRightDuplicate. As Zircon's
  // zx_handle_replace, this handle is invalid afterwards whatever the outcome (kInvalidArgs
  // included): only kBadHandle, for a handle that is already invalid, consumes nothing.
  // `out` may be this handle.
  Status Replace(uint32_t rights, Vmo* out);
  // This handle's rights; 0 for an invalid handle.
  uint32_t rights() const { return rights_; }
  bool is_valid() const { return Handle::is_valid() || remote_ != nullptr; }
  void Reset() {
    Handle::Reset();
    remote_.reset();
    rights_ = kRightNone;
  }
  // Names the object, not the handle (every handle to it, in every process, gives the same
  // koid); 0 for an invalid handle. Unique across processes in practice: the creating
  // process's pid in the high 32 bits and a per-process counter in the low 32, fixed when
  // the object is created. Two objects share a koid only if the same pid creates more than
  // 2^32 objects, or a pid is reused while an object of its earlier owner is still alive
  // somewhere.
  uint64_t koid() const;

  // Copy [offset, offset+len) out of / into the VMO. kAccessDenied without kRightRead /
  // kRightWrite; kOutOfRange if the range is not inside the VMO; a pager's failure code,
  // kBadState after detach, kIntrKilled, kTimedOut.
  Status Read(void* data, uint64_t offset, uint64_t len) const;
  Status Write(const void* data, uint64_t offset, uint64_t len) const;
  Status GetSize(uint64_t* size) const;
  // kAccessDenied without kRightWrite; kUnavailable unless created kVmoResizable; rounds up
  // to pages. The stream size becomes `size` (not rounded).
  Status SetSize(uint64_t size) const;
  // The stream size (Zircon's content size, zx_vmo_get_stream_size): the size given at
  // creation (not rounded up), at SetSize or at SetStreamSize. kAccessDenied without
  // kRightRead; kNotSupported for a VMO held from another process.
  Status GetStreamSize(uint64_t* size) const;
  // zx_vmo_set_stream_size. Beyond the VMO's size: a resizable VMO grows to it (SetSize, so
  // rounded up to pages), any other is kOutOfRange. Shrinking zeroes what the VMO holds in
  // [size, old stream size) as kVmoOpZero does (docs/zircon-semantics.md 10.4: the partial
  // page is written, which may ask for READ and DIRTY; whole pages of a pager-backed VMO
  // become dirty zero ranges, reported so by QueryDirtyRanges), so a later grow shows
  // zeros there; growing changes nothing else. kAccessDenied without kRightWrite.
  Status SetStreamSize(uint64_t size) const;
  // kVmoOpCommit, kVmoOpDecommit, kVmoOpZero, kVmoOpDontNeed, kVmoOpAlwaysNeed,
  // kVmoOpPrefetch, with Zircon's semantics (docs/zircon-semantics.md 15). kAccessDenied
  // without kRightWrite (COMMIT, DECOMMIT, ZERO) or kRightRead (PREFETCH).
  Status OpRange(uint32_t op, uint64_t offset, uint64_t len) const;
  // A child of this VMO (zx_vmo_create_child; docs/clones.md): exactly one kind
  // (kVmoChildSnapshot, kVmoChildSnapshotAtLeastOnWrite, kVmoChildSnapshotModified,
  // kVmoChildSlice, kVmoChildReference), with kVmoChildResizable and/or kVmoChildNoWrite
  // (not together, nor with a slice). kOutOfRange for a size above kMaxVmoSize or an
  // offset+size that overflows; kInvalidArgs for bad options, an offset not page-aligned, a
  // slice outside the VMO or a reference with an offset or size other than 0; kBadHandle;
  // kAccessDenied without kRightDuplicate and kRightRead; kNotSupported for a snapshot of a
  // pager-backed VMO, a slice of a resizable one (a reference of a resizable VMO is one), a
  // reference of a slice, a resizable reference of a non-resizable VMO. The child's handle has this
  // handle's rights, with kRightWrite added for the snapshot kinds, removed for NoWrite.
  Status CreateChild(uint32_t options, uint64_t offset, uint64_t size, Vmo* out) const;
  Status GetInfo(VmoInfo* out) const;
  // Sets the VMO's one child observer (replacing any), or removes `observer` if it is the
  // one set (RemoveChildObserver). Allocates nothing. kBadHandle for an invalid handle;
  // kNotSupported for a VMO held from another process. No rights are needed.
  Status SetChildObserver(VmoChildObserver* observer) const;
  Status RemoveChildObserver(VmoChildObserver* observer) const;

 private:
  friend struct internal::HandleAccess;
  // What a handle made by the library (HandleAccess::Make) carries.
  static constexpr uint32_t kMadeRights = kDefaultVmoRights;

  uint32_t rights_ = kRightNone;  // kRightNone for an invalid handle
  // Set instead of the object for a handle received from another process (channel.h): the
  // VMO lives in its owner's process, and the calls go there.
  std::shared_ptr<internal::VmoRemote> remote_;
};

// The memory of a big VMO (hundreds of pages or more) is given back to the system on a
// background thread once the VMO is destroyed (its last handle and mapping gone), a few
// milliseconds later. Returns once the memory of every VMO destroyed before the call is
// back: for benchmarks and tests that measure memory, or time one teardown apart from the
// next.
void WaitForFreedVmoMemory();

}  // namespace upager

#endif  // UPAGER_VMO_H_

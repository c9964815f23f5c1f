// VmObjectPaged's implementation, shared by the files that implement it (vm_object_*.cc):
// the page arithmetic, the storage I/O on the VMO's memfd, and the state guarded by the VMO
// lock (Impl). Not for use outside src/vm.
// Section numbers refer to docs/zircon-semantics.md.
#ifndef UPAGER_SRC_VM_VM_OBJECT_IMPL_H_
#define UPAGER_SRC_VM_VM_OBJECT_IMPL_H_

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <limits>
#include <vector>

#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"
#include "upager/status.h"
#include "vm/fault_filler.h"
#include "vm/page_list.h"
#include "vm/page_reclaimer.h"
#include "vm/storage_reaper.h"
#include "vm/vm_mapping.h"
#include "vm/vm_object_paged.h"

namespace upager::internal {

// The write batch of upager/write_batch.h (10.2): the pages a write asks for at most at a time.
uint64_t WriteBatchPages();

inline uint64_t PageOf(uint64_t offset) { return offset / kPageSize; }
inline uint64_t PageCeil(uint64_t offset) { return (offset + kPageSize - 1) / kPageSize; }
inline uint64_t Bytes(uint64_t pages) { return pages * kPageSize; }

inline bool RangeOverflows(uint64_t offset, uint64_t len) {
  return offset > std::numeric_limits<uint64_t>::max() - len;
}

inline bool IsPresentForRead(SlotKind kind) { return kind != SlotKind::kAbsent; }

// Slots a write may dirty (10.3): everything present that is not already Dirty.
inline bool IsToBeDirtied(SlotKind kind) {
  return kind == SlotKind::kClean || kind == SlotKind::kAwaitingClean ||
         kind == SlotKind::kMarker || kind == SlotKind::kZeroRange;
}

// ---- Storage I/O (vm_object_storage.cc) ----

// Full-length pread/pwrite on the memfd; they only fail on a broken fd or out of memory.
//
// The caller's buffer may be mapped memory whose fault fails: the copy then fails with
// EFAULT and the pager's status is reported (KernelCopyScope).
Status PreadAll(int fd, void* buf, uint64_t len, uint64_t offset);
// `written` (optional) counts the bytes copied, also when the copy fails part-way.
Status PwriteAll(int fd, const void* buf, uint64_t len, uint64_t offset,
                 uint64_t* written = nullptr);
// Whether the memfd has a page (not a hole) at `page`.
bool HasStorage(int fd, uint64_t page);
// Copies `len` bytes between memfds inside the kernel.
Status CopyFdRange(int from, uint64_t from_offset, int to, uint64_t to_offset, uint64_t len);
// A memfd of `size` bytes, all holes, sealed so that no process that is ever given a
// descriptor of it (docs/processes.md) can add seals, nor, unless `resizable`, change its
// size under the VMO.
Status MakeMemfd(uint64_t size, bool resizable, int* out);

// Everything guarded by the VMO lock.
struct VmObjectPaged::Impl {
  // `tree_mutex`: the hierarchy lock of the tree a child joins (its root's mutex); null for
  // a VMO that is the root of its own tree (docs/clones.md, Locking).
  Impl(int fd, uint64_t size_bytes, PageReclaimer* reclaimer, VmObjectPaged* owner,
       Mutex* tree_mutex)
      : mutex(tree_mutex != nullptr ? *tree_mutex : own_mutex),
        memfd(fd),
        size(size_bytes),
        stream_size(size_bytes),
        pages(reclaimer, owner) {}
  // The storage goes off the caller's path where it is large (storage_reaper.h).
  ~Impl() { StorageReaper::Default().Close(memfd, pages.committed_pages()); }

 private:
  Mutex own_mutex;  // the tree's lock, for a root (use `mutex`)

 public:
  // The lock of this VMO's whole tree: every node of a tree (root, read-through children,
  // slices) refers to the root's mutex, so one lock guards the whole chain.
  Mutex& mutex;
  const int memfd;
  uint64_t size UPAGER_GUARDED_BY(mutex);
  // Zircon's content size (vm_object_stream.cc); `size` unless set apart from it.
  uint64_t stream_size UPAGER_GUARDED_BY(mutex);
  PageList pages UPAGER_GUARDED_BY(mutex);
  bool modified UPAGER_GUARDED_BY(mutex) = false;
  std::atomic<uint64_t> handles{0};
  std::vector<VmMapping*> mappings UPAGER_GUARDED_BY(mutex);
  // The fault fast path (fault_filler.h): the filler, and the fault threads inside it.
  FaultFiller* filler UPAGER_GUARDED_BY(mutex) = nullptr;
  int filler_users UPAGER_GUARDED_BY(mutex) = 0;
  CondVar filler_idle;  // filler_users dropped to zero
  // Set while a fault thread supplies what its filler read: Store notes whether the
  // faulting page was installed into the faulting mapping (which woke the thread).
  struct FaultWatch {
    const VmMapping* mapping = nullptr;
    uint64_t page = 0;
    bool installed = false;
  };
  FaultWatch fault_watch UPAGER_GUARDED_BY(mutex);

  // ---- Clones (docs/clones.md) ----
  // A child sees its parent below this page (child coordinates) and zeros from it on; only
  // ever lowered (a shrink of the parent). Also what the child's own children see through it.
  // Unused by a root.
  uint64_t parent_limit UPAGER_GUARDED_BY(mutex) = 0;
  // A clone's own shrink: the clone itself sees its parent only below this page too (child
  // coordinates, only ever lowered), but the children it already has do not (they took its
  // view when they were created: Zircon's Snapshot.ResizeShrinkSnapshotWithEmptyParent).
  uint64_t own_limit UPAGER_GUARDED_BY(mutex) = UINT64_MAX;
  // The read-through and slice children, which share this tree's lock.
  std::vector<VmObjectPaged*> children UPAGER_GUARDED_BY(mutex);
  // A root's count of the mappings of the read-through clones of its tree: they map its
  // pages too, so its pages start referenced on the clock while there are any
  // (VmObjectPaged::AddMapping, RemoveMapping).
  uint64_t clone_mappings UPAGER_GUARDED_BY(mutex) = 0;
  // The snapshot children that were copied (their own trees, with their own locks).
  std::atomic<uint32_t> copy_children{0};
  // The child observer (vmo.h), under its own lock: it is called with no tree lock held.
  Mutex observer_mutex;
  VmoChildObserver* child_observer UPAGER_GUARDED_BY(observer_mutex) = nullptr;
  // Lowers every child's parent_limit to what this VMO's first `pages` pages leave it.
  void ClipChildren(uint64_t pages) UPAGER_REQUIRES(mutex);

  // Runs this long are cleared from the mappings' page tables before they are punched.
  static constexpr uint64_t kZapFirstPages = 16;
  // Drops the storage of pages [first, end) (they become holes and read as zero). The
  // kernel removes them from every mapping too, so the next access faults; write
  // protection is re-armed there because a page a store had unprotected comes back clean.
  void PunchHole(uint64_t first, uint64_t end) UPAGER_REQUIRES(mutex);
  // Write-protects pages [first, end) in every writable mapping.
  void WriteProtect(uint64_t first, uint64_t end) UPAGER_REQUIRES(mutex);
  // Writes the content of pages [first, end), all holes, from `src`: through a mapping's
  // page tables where one covers them (the faulting thread then needs no second fault),
  // into the memfd elsewhere. Supplied pages are clean, so mapped write-protected.
  Status Store(uint64_t first, uint64_t end, const char* src) UPAGER_REQUIRES(mutex);
  // Supplies the absent pages of [first, end) from `src` (page `first` at src[0]) as
  // SupplyPagesFromBuffer does: Store, Clean, the source told of each run filled (4.1).
  // Adds the bytes supplied to *supplied.
  Status SupplyAbsent(uint64_t first, uint64_t end, const char* src, PageSource* source,
                      uint64_t* supplied) UPAGER_REQUIRES(mutex);
  // Tells every mapping that the pages Store installed have been reported (EndInstalls).
  void EndInstalls() UPAGER_REQUIRES(mutex);
  // Makes the page a real zero-filled page of `kind` (from a marker or a zero range, which
  // have no storage: the hole already reads as zero).
  void Materialize(uint64_t page, SlotKind kind) UPAGER_REQUIRES(mutex) {
    pages.SetPage(page, kind);
  }
};

}  // namespace upager::internal

#endif  // UPAGER_SRC_VM_VM_OBJECT_IMPL_H_

// VmObjectPaged: the object behind a Vmo handle. Holds the page list (which slots are
// absent, Clean, Dirty, AwaitingClean, zero markers, dirty zero ranges), the page storage
// (a memfd), and, for a pager-backed VMO, the PageSource its requests go through.
//
// Every operation that needs content runs Zircon's retry loop (18.1) on the calling
// thread: look up under the VMO lock, populate a request if something is missing, drop the
// lock, wait, repeat.
// Section numbers refer to docs/zircon-semantics.md.
#ifndef UPAGER_SRC_VM_VM_OBJECT_PAGED_H_
#define UPAGER_SRC_VM_VM_OBJECT_PAGED_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "upager/dirty_state.h"
#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"
#include "upager/page_request.h"
#include "upager/page_source.h"
#include "upager/status.h"
#include "upager/vmo.h"
#include "vm/fault_filler.h"
#include "vm/page_reclaimer.h"
#include "vm/vm_mapping.h"

namespace upager::internal {

enum class SlotKind;  // page_list.h
class PageReclaimer;

class VmObjectPaged : public std::enable_shared_from_this<VmObjectPaged> {
 public:
  // An anonymous, zero-filled VMO. `options` already validated (kVmoResizable only).
  static Status CreateAnonymous(uint64_t size, uint32_t options,
                                std::shared_ptr<VmObjectPaged>* out);
  // A VMO whose content comes from `source`. `pager_koid` names the pager that created it
  // (Pager checks that calls name its own VMOs). `options` already validated.
  static Status CreatePagerBacked(uint64_t size, uint32_t options,
                                  std::shared_ptr<PageSource> source, uint64_t pager_koid,
                                  std::shared_ptr<VmObjectPaged>* out);
  ~VmObjectPaged();

  // What a child is (docs/clones.md): a root of its own tree (kNone, or kCopy for a
  // snapshot that was copied from its parent), a read-through clone of a pager-backed
  // chain, or a slice (a reference child is a slice of the whole VMO, is_reference()).
  enum class ChildKind { kNone, kCopy, kReadThrough, kSlice };
  // The kinds CreateChild is asked for, options already parsed by Vmo::CreateChild.
  enum class CloneType { kSnapshot, kAtLeastOnWrite, kSnapshotModified, kSlice, kReference };
  // A child of this VMO: `offset` and `size` in bytes, `size` rounded to pages already.
  Status CreateChild(CloneType type, uint64_t offset, uint64_t size, bool resizable,
                     std::shared_ptr<VmObjectPaged>* out);
  // Whether this VMO reads (some of) its content through its parent: a read-through clone or
  // a slice.
  bool reads_through_parent() const {
    return kind_ == ChildKind::kReadThrough || kind_ == ChildKind::kSlice;
  }
  // Where the content of a page of a tree is (vm_object_clone.cc): in `node`'s storage at
  // `page`, zeros, or missing at the pager-backed root `node` (at root page `page`).
  struct Where {
    enum Kind { kStorage, kZero, kMissing } kind;
    VmObjectPaged* node;
    uint64_t page;
  };

  // A reference child (kVmoChildReference, docs/clones.md): a slice of all of its parent
  // that also shares its parent's stream size.
  bool is_reference() const { return reference_; }

  uint64_t koid() const { return koid_; }
  uint64_t pager_koid() const { return pager_koid_; }
  bool is_pager_backed() const { return source_ != nullptr; }
  // A reference is resizable when its parent is (whether it may resize the parent itself is
  // its own kVmoResizable).
  bool is_resizable() const {
    return (options_ & kVmoResizable) != 0 || (reference_ && parent_->is_resizable());
  }
  const std::shared_ptr<PageSource>& source() const { return source_; }

  // Handles and mappings count here; when the last goes, the page source is
  // closed (9.3).
  void AddHandle();
  void RemoveHandle();

  // The Vmo API.
  Status Read(void* data, uint64_t offset, uint64_t len);
  Status Write(const void* data, uint64_t offset, uint64_t len);
  uint64_t size() const;
  Status SetSize(uint64_t size);
  // The stream size (vmo.h; vm_object_stream.cc).
  uint64_t stream_size() const;
  Status SetStreamSize(uint64_t size);
  Status OpRange(uint32_t op, uint64_t offset, uint64_t len);
  void GetInfo(VmoInfo* out) const;
  // The child observer (vmo.h).
  void SetChildObserver(VmoChildObserver* observer);
  void RemoveChildObserver(VmoChildObserver* observer);

  // The Pager API; the pager has checked alignment and that this is its VMO.
  Status SupplyPages(uint64_t offset, uint64_t len, VmObjectPaged* aux, uint64_t aux_offset);
  Status SupplyPagesFromBuffer(uint64_t offset, uint64_t len, const void* data);
  // SupplyPagesFromBuffer for threads that must not wait (a fault thread, lane_ring.h):
  // kShouldWait, having supplied nothing, if the pages do not fit in the memory budget
  // once nothing more is evictable. `*supplied`: the bytes that were absent and were
  // supplied.
  Status TrySupplyPagesFromBuffer(uint64_t offset, uint64_t len, const void* data,
                                  uint64_t* supplied);
  Status FailPages(uint64_t offset, uint64_t len, Status error);
  Status DirtyPages(uint64_t offset, uint64_t len);
  Status WritebackBegin(uint64_t offset, uint64_t len, bool zero_ranges_only);
  Status WritebackEnd(uint64_t offset, uint64_t len);
  Status QueryDirtyRanges(uint64_t offset, uint64_t len, VmoDirtyRange* buffer,
                          size_t buffer_entries, size_t* actual, size_t* avail);
  Status QueryStats(bool reset, PagerVmoStats* out);
  void Detach();
  // Detach for the holder of the VMO's only handle, which closes it right after (a
  // provider's shutdown). With no other handle or mapping nobody can see the VMO's pages
  // any more, so only the source is detached (as destruction does first, section 9.3), and the
  // pages go with the VMO, at once, off the caller's path (storage_reaper.h), rather than
  // being dropped run by run first. With other handles or mappings: Detach.
  void DetachSoleHandle();

  // Mappings (src/fault). A mapping registers itself for as long as it is mapped, so that
  // supplies can install pages directly into it and state changes reach its page tables.
  // -1 for a VMO that reads through its parent (a clone or a slice): its storage is not its
  // content.
  int memfd() const;
  // kNoMemory for a mapping of a clone whose own pages cannot be placed in it (the process
  // at its VMA limit): not added.
  Status AddMapping(VmMapping* mapping);
  void RemoveMapping(VmMapping* mapping);
  // What a mapping of `vmo` from `offset` maps (docs/clones.md, Mapped clones):
  // the VMO whose faults it takes (a slice maps the root or clone it is a window onto,
  // translated), the file and offset it maps, and whether it takes faults. A read-through
  // clone maps its root's storage, its own pages (and what it no longer sees of its parent)
  // placed over it (VmMapping::MapOwn).
  struct MapTarget {
    std::shared_ptr<VmObjectPaged> vmo;
    uint64_t vmo_offset = 0;
    int fd = -1;
    uint64_t fd_offset = 0;
    bool faults = false;
  };
  static Status GetMapTarget(const std::shared_ptr<VmObjectPaged>& vmo, uint64_t offset,
                             MapTarget* out);
  // A clone's own storage, mapped over its root's where it owns a page.
  int own_memfd() const;
  // Whether this read-through clone sees every page of its root, now and for good (the
  // chain starts at offset 0 of a root, no node of it is resizable, and nothing is cut from
  // the clone's view): only then may its root's storage be handed to another process, which
  // could otherwise read root pages the clone does not see (docs/clones.md).
  bool SeesWholeRoot();
  // The fault fast path (fault_filler.h). Set installs `filler` (or replaces it); Clear
  // removes it and returns once no fault thread is inside it any more.
  void SetFaultFiller(FaultFiller* filler);
  void ClearFaultFiller();
  // A fault on `mapping` at `fault.offset` (inside the mapping). kOk: resolved now (the
  // faulting thread has been woken, or a retry will find the page); kShouldWait: `req` was
  // populated and its completion tells the outcome; any other status: the access fails
  // with it.
  Status HandleFault(VmMapping* mapping, const FaultInfo& fault, PageRequest* req);

  // For providers planning reads: the bytes [*first, *end) around `offset` (rounded down to
  // a page) whose pages are all absent, inside [low, high) (page-aligned, low <= offset <
  // high); an empty range at the page if it is not absent. A snapshot: a supply may fill
  // any of it right after. Allocates nothing.
  void AbsentRun(uint64_t offset, uint64_t low, uint64_t high, uint64_t* first, uint64_t* end);
  // A MINOR fault on `mapping` at VMO `offset` (page-aligned, inside the mapping): the page
  // is in storage but not in the mapping's page tables, because the reclaimer's clock
  // unmapped it or it arrived without passing through this mapping. Marks the page
  // referenced and maps it back write-protected, so that a store still faults as if the
  // page had never left (18.7), or wakes the thread to retry if the page has gone.
  void HandleMinorFault(VmMapping* mapping, uint64_t offset);
  // ZX_VM_MAP_RANGE (mapping_replace.cc): maps into `mapping` the pages of the page-aligned
  // [offset, offset+len) present in storage, write-protected, as their MINOR faults would;
  // leaves the absent ones (and wakes nobody), so the pager is asked for nothing.
  void MapPresent(VmMapping* mapping, uint64_t offset, uint64_t len);

  // Evicts `page` if it is Clean and not always-need (the slot becomes absent, so the next
  // access asks the pager again); false otherwise. Called with no lock held.
  bool EvictPage(uint64_t page);
  // The reclaimer's hand at `page` (vm_object_clock.cc): evicts it as EvictPage does
  // unless `may_age` and its referenced bit is set; then clears the bit, unmaps the page
  // from every mapping (it stays in storage) and moves it to the back of the reclaim
  // order. Called by the PageReclaimer with no lock held.
  ReclaimStepResult ReclaimStep(uint64_t page, bool may_age);
  // Evicts the pages `reclaimer` has at the front of its order for this VMO, up to `max`
  // of them (PageReclaimer::TakeFront), a run of consecutive pages at a time. Returns how
  // many went. Called by the PageReclaimer with no lock held.
  uint64_t EvictFront(PageReclaimer* reclaimer, uint64_t max);

 private:
  // Sets the stream size of a VMO just created (its size given before rounding).
  void InitStreamSize(uint64_t stream_size);
  // SetSize but for the stream size.
  Status SetSizeImpl(uint64_t size);
  // The operations proper; the public ones add the memory-budget steps around them.
  Status WriteImpl(const void* data, uint64_t offset, uint64_t len);
  Status OpRangeImpl(uint32_t op, uint64_t offset, uint64_t len);
  Status SupplyPagesImpl(uint64_t offset, uint64_t len, VmObjectPaged* aux, uint64_t aux_offset);
  // `*supplied`: the bytes that were absent and were supplied.
  Status SupplyPagesFromBufferImpl(uint64_t offset, uint64_t len, const void* data,
                                   uint64_t* supplied);
  Status DirtyPagesImpl(uint64_t offset, uint64_t len);
  // QueryDirtyRanges under the lock: up to `buffer_entries` ranges into `out`, and how many
  // there are in all (counting stops with a full buffer when `avail` was not asked for).
  Status GatherDirtyRanges(uint64_t offset, uint64_t len, size_t buffer_entries,
                           std::vector<VmoDirtyRange>* out, bool count_all, size_t* avail);

  // Where a child sits in its tree; empty for a VMO that has no parent.
  struct ChildLink {
    std::shared_ptr<VmObjectPaged> parent;
    uint64_t parent_offset = 0;  // pages
    ChildKind kind = ChildKind::kNone;
    bool reference = false;  // a slice that is a reference child (is_reference)
  };
  VmObjectPaged(uint64_t size, uint32_t options, int memfd, std::shared_ptr<PageSource> source,
                uint64_t pager_koid, ChildLink link);

  // A child of this VMO has gone: tells the child observer if none is left. Called with no
  // tree lock held.
  void OnChildGone();

  // ---- Clones (vm_object_clone.cc) ----
  // Resolves page `page` of this node (of its parent first if `from_parent`), under the tree
  // lock (this node's impl_->mutex, asserted held by the caller).
  Where Resolve(uint64_t page, bool from_parent);
  // The root of this node's tree (the first node up the chain that is not read-through or a
  // slice).
  VmObjectPaged* TreeRoot() const;
  // The read-through / slice versions of the Vmo API.
  Status CloneRead(void* data, uint64_t offset, uint64_t len);
  Status CloneWrite(const void* data, uint64_t offset, uint64_t len);
  Status CloneOpRange(uint32_t op, uint64_t offset, uint64_t len);
  Status CloneSetSize(uint64_t size);
  // Forks the pages of [first, last) this read-through node has not forked yet, each with
  // the content it sees now: kShouldWait with `req` populated when a run is missing at the
  // root (the pages before it are forked), kOk when all are. Under the tree lock.
  Status ForkRange(uint64_t first, uint64_t last, PageRequest* req);
  // Fetches the pages of [first, last) that are missing at the root, without forking them
  // (PREFETCH, ALWAYS_NEED through a clone).
  Status FetchThrough(uint64_t first, uint64_t last);
  // Copies [offset, offset+size) of this VMO (an anonymous tree) into `child_fd`, its data
  // extents only, under the tree lock.
  Status CopyContentTo(uint64_t offset, uint64_t size, int child_fd);

  // HandleFault, minus the end of a fill: `*tried` is set to the filler it tried, which stays
  // counted in filler_users for the caller to release, and `*run` to the absent run it was
  // asked to fill.
  Status HandleFaultOnce(VmMapping* mapping, const FaultInfo& fault, PageRequest* req,
                         FaultFiller::Range* run, FaultFiller** tried);
  // The fast path of a fault on absent `page`: asks `filler` (counted in filler_users by the
  // caller) for the absent `run` around it and supplies what it fills. True if the page was
  // installed into `mapping`, which woke the faulting thread.
  bool FillFault(VmMapping* mapping, FaultFiller* filler, uint64_t page, uint64_t run_first,
                 uint64_t run_end);
  class FillSink;  // FillFault's FaultFiller::Sink

  // A fault on a mapping of a read-through clone (vm_object_clone_map.cc).
  Status HandleCloneFault(VmMapping* mapping, const FaultInfo& fault, PageRequest* req);
  // This VMO's size is now `new_size` (page-rounded): its references take it, and what a
  // shrink cuts is gone for good for their own children (docs/clones.md, Reference
  // children). REQUIRES: the tree lock.
  void FollowSizeLocked(uint64_t new_size);
  // Places this clone's own page `page` in every mapping of it (it is forking the page, or
  // zeroing it: `fork` false, the page stays write-protected), and wakes the threads
  // faulting there, under the tree lock. kNoMemory if a mapping could not take it (the
  // process at its VMA limit): then no mapping has it, as far as they could be given their
  // root's page back (*taken_back false if one could not: it keeps the clone's storage).
  Status MapOwnPageLocked(uint64_t page, bool fork, bool* taken_back);
  // The clock through a clone's mappings (vm_object_clone_map.cc), under the tree lock.
  // Whether this clone sees its root's page at its page `page` (a page in the root's
  // storage, not forked or zeroed here, not cut from its view); the root page is then
  // *root_page if not null.
  bool SeesRootPageLocked(uint64_t page, uint64_t* root_page = nullptr);
  // A MINOR fault on a mapping of this clone at its `page`: if the clone sees its root's
  // page there, marks the root's page referenced and maps it back write-protected (a
  // store still forks); otherwise wakes the thread, whose retry takes the clone's faults.
  void HandleCloneMinorFaultLocked(VmMapping* mapping, uint64_t page);
  // After such a fault mapped `page`: maps the other pages of its aligned window of
  // kMinorFaultAround pages that the clone sees of its root and whose root page is Clean
  // with its referenced bit set already (so mapping them hides no use from the clock: the
  // hand clears the bit and unmaps them together, before it could evict them). What the
  // kernel's fault-around would do, which it turns off for ranges registered for MINOR
  // faults, but only where the clock already counts the page as used.
  void MapReferencedAroundLocked(VmMapping* mapping, uint64_t page);
  static constexpr uint64_t kMinorFaultAround = 16;  // pages
  // The hand cleared the bit of `root`'s page `root_page`, which is page `page` of this
  // node: unmaps it from the mappings of every read-through clone under this node that
  // sees it there. Never touches a clone's own pages (its storage mapped over the root's).
  void UnmapFromClonesLocked(VmObjectPaged* root, uint64_t root_page, uint64_t page);
  // The root's pages [first + shift, end + shift) have just been supplied; they are pages
  // [first, end) of the node whose `children` these are. Maps each, write-protected, into
  // the mappings of the read-through clones under it that see it there and have a fault
  // waiting on it, which wakes that fault's thread (whose retry would otherwise take a
  // MINOR fault). Under the tree lock, before the supply is reported.
  static void ContinueIntoWaitingClonesLocked(const std::vector<VmObjectPaged*>& children,
                                              uint64_t first, uint64_t end, uint64_t shift = 0);
  // The pages of this node (its coordinates) below which it sees its parent chain, and zeros
  // from there on; under the tree lock.
  uint64_t SeenLimitLocked();
  // Maps this clone's own storage (zeros, or its pages) over what it no longer sees of its
  // parent in its mappings, and so for every node under it; under the tree lock (a shrink).
  void HideCutPagesLocked();
  // The same in one new mapping of this clone: kNoMemory if it could not (the VMA limit).
  Status HideCutPagesIn(VmMapping* mapping, bool last_resort);
  // A store to a write-protected present page (HandleFault), under the VMO lock.
  Status HandleWriteFaultLocked(VmMapping* mapping, uint64_t page, SlotKind kind, PageRequest* req);

  // Commits pages [first, last) as a read would (READ for absent runs; zero ranges become
  // Dirty pages, after a DIRTY request if trapping); flags them always-need if asked.
  Status CommitPages(uint64_t first, uint64_t last, bool always_need);
  // ZX_VMO_OP_ZERO (10.4).
  Status ZeroRange(uint64_t offset, uint64_t len);

  // The state under the VMO lock; defined in vm_object_impl.h.
  struct Impl;
  const uint64_t koid_;
  const uint64_t pager_koid_;
  const uint32_t options_;
  const std::shared_ptr<PageSource> source_;
  // A child's place in its tree (docs/clones.md): before impl_, which goes first. A copied
  // snapshot (kCopy) keeps no hold on its parent, only its koid and a weak reference, to
  // count itself out of the parent's children.
  const uint64_t parent_koid_;
  const std::weak_ptr<VmObjectPaged> copied_from_;
  const std::shared_ptr<VmObjectPaged> parent_;  // read-through and slice children
  const uint64_t parent_offset_;                 // pages
  const ChildKind kind_;
  const bool reference_;  // a reference child: a slice of the whole parent sharing its stream size
  std::unique_ptr<Impl> impl_;
};

}  // namespace upager::internal

#endif  // UPAGER_SRC_VM_VM_OBJECT_PAGED_H_

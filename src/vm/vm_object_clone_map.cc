// VmObjectPaged: mappings of children (docs/clones.md, Mapped clones). A slice is mapped as
// the root or clone it is a window onto; a read-through clone maps its root's storage, so
// that its unforked pages are the root's own page-cache pages, write-protected, and its own
// pages (forks, zero markers) are its storage mapped over them one page at a time.
// Section numbers refer to docs/zircon-semantics.md.
#include <fcntl.h>

#include <algorithm>
#include <cstdio>

#include "vm/vm_mapping.h"
#include "vm/vm_object_impl.h"
#include "vm/vm_object_paged.h"

namespace upager::internal {

namespace {
alignas(4096) const char kCloneZeroPage[kPageSize] = {};

// Places zeros at `page` of the mapping (write-protected), or, in a mapping that maps only
// what its storage holds (a holder's, docs/processes.md), gives `memfd` a zero page there if
// it has a hole (an allocation keeps what a page holds), so that the retried access maps it.
void InstallZero(VmMapping* mapping, uint64_t page, int memfd, uint64_t memfd_page) {
  bool installed = false;
  if (mapping->MapsOnlyStorage()) {
    ::fallocate(memfd, 0, static_cast<off_t>(Bytes(memfd_page)), kPageSize);
    // Armed, as an install would leave it: a store to the zeros is seen (a zero marker then
    // becomes a real page, a page beyond the parent forks).
    mapping->WriteProtect(Bytes(page), kPageSize, true);
  } else {
    installed = mapping->Install(Bytes(page), kCloneZeroPage, kPageSize, true) != 0;
    mapping->EndInstalls();
  }
  if (!installed) mapping->Wake(Bytes(page), kPageSize);
}
}  // namespace

Status VmObjectPaged::GetMapTarget(const std::shared_ptr<VmObjectPaged>& vmo, uint64_t offset,
                                   MapTarget* out) {
  // A slice (of a slice ...) is a window onto the first node under it that is not a slice,
  // with the same pages: its mapping is that node's own, at the translated offset. The
  // slice's bounds were checked by the caller against the slice's size (a slice's parent is
  // never resizable, so the window stays inside it).
  std::shared_ptr<VmObjectPaged> target = vmo;
  uint64_t first = PageOf(offset);
  while (target->kind_ == ChildKind::kSlice) {
    first += target->parent_offset_;
    target = target->parent_;
  }
  const uint64_t target_offset = Bytes(first) + offset % kPageSize;
  if (!target->reads_through_parent()) {
    // A root: its own storage, its DIRTY requests, its modified flag, its clock.
    *out = {target, target_offset, target->impl_->memfd, target_offset, target->is_pager_backed()};
    return Status::kOk;
  }
  // A read-through clone maps its root's storage: walk up to the root, translating the offset
  // (the chain is fixed at creation). The clone's own pages, and what it does not see of its
  // parent, are placed over the root's storage once the mapping is added (AddMapping,
  // HideCutPagesLocked).
  VmObjectPaged* node = target.get();
  while (node->reads_through_parent()) {
    first += node->parent_offset_;
    node = node->parent_.get();
  }
  const uint64_t root_offset = Bytes(first) + offset % kPageSize;
  *out = {target, target_offset, node->impl_->memfd, root_offset, node->is_pager_backed()};
  return Status::kOk;
}

Status VmObjectPaged::MapOwnPageLocked(uint64_t page, bool fork, bool* taken_back) {
  Impl& m = *impl_;
  m.mutex.AssertHeld();
  *taken_back = true;
  const uint64_t offset = Bytes(page);
  size_t last = m.mappings.size();  // the last mapping that covers the page
  for (size_t i = 0; i < m.mappings.size(); ++i) {
    if (m.mappings[i]->Covers(offset)) last = i;
  }
  // Each mapping takes the clone's storage there in turn; each but the last write-protected
  // until the last has it: a store through one placed already would otherwise be lost if a
  // later one cannot take the page (the process at its VMA limit) and the fork is taken back.
  for (size_t i = 0; i < m.mappings.size(); ++i) {
    VmMapping* mapping = m.mappings[i];
    if (!mapping->Covers(offset)) continue;
    if (mapping->MapOwn(offset, kPageSize, /*protect=*/!fork || i != last,
                        /*last_resort=*/false)) {
      continue;
    }
    // No mapping may show the fork while another shows the root's page: the placed ones are
    // given their root's page back, newest first (the newest may be the one that took the
    // process over its limit, and gives its VMA back first).
    for (size_t j = i; j-- > 0;) {
      if (m.mappings[j]->Covers(offset) && !m.mappings[j]->UnmapOwn(offset, kPageSize)) {
        *taken_back = false;
      }
    }
    return Status::kNoMemory;
  }
  for (size_t i = 0; i < m.mappings.size(); ++i) {
    // Un-protecting wakes too; only now: a thread woken in one mapping may look at another.
    if (fork && i != last && m.mappings[i]->Covers(offset)) {
      m.mappings[i]->WriteProtect(offset, kPageSize, false);
    }
  }
  for (VmMapping* mapping : m.mappings) mapping->Wake(offset, kPageSize);
  return Status::kOk;
}

bool VmObjectPaged::SeesWholeRoot() {
  if (kind_ != ChildKind::kReadThrough) return false;
  Impl& m = *impl_;
  MutexLock lock(&m.mutex);
  VmObjectPaged* node = this;
  for (; node->reads_through_parent(); node = node->parent_.get()) {
    if (node->parent_offset_ != 0 || node->is_resizable()) return false;  // a shrink would cut
  }
  Impl& root = *node->impl_;
  root.mutex.AssertHeld();  // the same tree lock
  return !node->is_resizable() && SeenLimitLocked() >= PageCeil(root.size);
}

uint64_t VmObjectPaged::SeenLimitLocked() {
  uint64_t limit = UINT64_MAX;
  uint64_t shift = 0;    // this node's page p is page p + shift of `node`
  bool own_view = true;  // as Resolve: a node's own shrink cuts its view and its slices'
  for (VmObjectPaged* node = this; node->reads_through_parent(); node = node->parent_.get()) {
    Impl& n = *node->impl_;
    n.mutex.AssertHeld();  // the same tree lock
    const uint64_t node_limit = own_view ? std::min(n.parent_limit, n.own_limit) : n.parent_limit;
    limit = std::min(limit, node_limit > shift ? node_limit - shift : 0);
    own_view = node->kind_ == ChildKind::kSlice;
    shift += node->parent_offset_;
  }
  return limit;
}

Status VmObjectPaged::HideCutPagesIn(VmMapping* mapping, bool last_resort) {
  Impl& m = *impl_;
  m.mutex.AssertHeld();
  const uint64_t first = std::max(SeenLimitLocked(), PageOf(mapping->vmo_offset()));
  const uint64_t last = PageOf(mapping->vmo_offset() + mapping->length());
  if (first >= last) return Status::kOk;
  // One piece to the mapping's end (it replaces what was there, forks included): at the
  // limit, only the reserve VMA makes room for it. Write-protected: a store to what the
  // clone owns there (a zero marker, a fork) is seen again.
  if (!mapping->MapOwn(Bytes(first), Bytes(last - first), /*protect=*/true, last_resort)) {
    return Status::kNoMemory;
  }
  return Status::kOk;
}

void VmObjectPaged::HideCutPagesLocked() {
  Impl& m = *impl_;
  m.mutex.AssertHeld();
  if (kind_ == ChildKind::kReadThrough && !m.mappings.empty()) {
    for (VmMapping* mapping : m.mappings) {
      // A shrink cannot fail half done, and this is at most one VMA more (the piece ends
      // where the mapping does), which the reserve covers: failing even so, the mapping
      // shows the root there until unmapped (docs/clones.md, Mapped clones).
      if (HideCutPagesIn(mapping, /*last_resort=*/true) != Status::kOk) {
        std::fprintf(stderr,
                     "upager: a mapping of a clone cannot hide what the clone no longer sees "
                     "of its parent (vm.max_map_count)\n");
      }
    }
    const uint64_t limit = SeenLimitLocked();
    for (VmMapping* mapping : m.mappings) {
      const uint64_t first = std::max(limit, PageOf(mapping->vmo_offset()));
      const uint64_t last = PageOf(mapping->vmo_offset() + mapping->length());
      if (first < last) mapping->Wake(Bytes(first), Bytes(last - first));
    }
  }
  for (VmObjectPaged* child : m.children) child->HideCutPagesLocked();
}

Status VmObjectPaged::HandleCloneFault(VmMapping* mapping, const FaultInfo& fault,
                                       PageRequest* req) {
  Impl& m = *impl_;
  const uint64_t page = PageOf(fault.offset);
  MutexLock lock(&m.mutex);
  if (fault.offset >= m.size) {
    mapping->Wake(Bytes(page), kPageSize);
    return Status::kOk;
  }
  const SlotKind kind = m.pages.Lookup(page);
  if (kind != SlotKind::kAbsent) {
    // The clone's own page, mapped from its own storage (MapOwnPage): a zero marker faults
    // there as a root's marker does in a root mapping; a store makes it a real page.
    if (fault.wp) {
      if (kind != SlotKind::kDirty) m.pages.SetPage(page, SlotKind::kDirty);
      mapping->WriteProtect(Bytes(page), kPageSize, false);
      return Status::kOk;
    }
    if (mapping->MapsOnlyStorage()) {
      // A forked page is in the storage already; a zero marker gets a zero page there.
      if (kind != SlotKind::kDirty) {
        InstallZero(mapping, page, m.memfd, page);
      } else {
        mapping->Wake(Bytes(page), kPageSize);
      }
      return Status::kOk;
    }
    const bool installed =
        mapping->Install(Bytes(page), kCloneZeroPage, kPageSize, kind != SlotKind::kDirty) != 0;
    mapping->EndInstalls();
    if (!installed) mapping->Wake(Bytes(page), kPageSize);
    return Status::kOk;
  }
  const Where where = Resolve(page, /*from_parent=*/false);
  switch (where.kind) {
    case Where::kZero:
      // Beyond what the clone sees of its parent: its own storage is mapped there
      // (HideCutPagesLocked), zeros until a store forks the page.
      if (fault.wp) return ForkRange(page, page + 1, req);
      InstallZero(mapping, page, m.memfd, page);
      return Status::kOk;
    case Where::kMissing:
      if (fault.wp) {
        // Evicted since: the retried store finds the page missing and asks for it.
        mapping->Wake(Bytes(page), kPageSize);
        return Status::kOk;
      }
      // A READ on the root's key, one page, as the root's own mapping faults (10.2, 18.5).
      return where.node->source_->GetPages(Bytes(where.page), kPageSize, req,
                                           VmoDebugInfo{where.node->koid_, "fault"});
    case Where::kStorage: break;
  }
  Impl& root = *where.node->impl_;
  root.mutex.AssertHeld();  // the same tree lock
  root.pages.Touch(where.page, where.page + 1);
  if (!fault.wp) {
    // The root has the page now (it arrived after the fault was raised, and the retry maps
    // it), or has it as zeros without storage: placed in the root's storage as the root's
    // own fault does, write-protected.
    InstallZero(mapping, page, root.memfd, where.page);
    return Status::kOk;
  }
  // A store to an unforked page: fork it as Vmo::Write on the clone does; ForkRange places
  // the fork in every mapping of the clone, which wakes the thread.
  return ForkRange(page, page + 1, req);
}

// ---- The reclaimer's clock through a clone's mappings (docs/clones.md, docs/eviction.md) ----
//
// A clone's mapping maps its root's storage MAP_SHARED, write-protected, so its unforked
// pages are the root's page-cache pages and nothing else: a store never leaves a private
// copy there (it takes a write-protect fault and forks into the clone's storage, mapped over
// that page as a separate piece). So MADV_DONTNEED on a page the clone sees of its root
// only drops page table entries, as on a root mapping, and the clone's own pieces are never
// zapped (they are not the root's page: SeesRootPageLocked is false there).

bool VmObjectPaged::SeesRootPageLocked(uint64_t page, uint64_t* root_page) {
  Impl& m = *impl_;
  m.mutex.AssertHeld();
  if (Bytes(page) >= m.size || m.pages.Lookup(page) != SlotKind::kAbsent) return false;
  const Where where = Resolve(page, /*from_parent=*/false);
  if (where.kind != Where::kStorage || where.node->reads_through_parent()) return false;
  if (root_page != nullptr) *root_page = where.page;
  return true;
}

void VmObjectPaged::HandleCloneMinorFaultLocked(VmMapping* mapping, uint64_t page) {
  Impl& m = *impl_;
  m.mutex.AssertHeld();
  uint64_t root_page = 0;
  if (SeesRootPageLocked(page, &root_page)) {
    Impl& root = *TreeRoot()->impl_;
    root.mutex.AssertHeld();  // the same tree lock
    if (PageList::Page* slot = root.pages.FindPage(root_page)) slot->reclaim.referenced = true;
    // Write-protected, as the marker the zap left: a store still forks (HandleCloneFault).
    if (mapping->Continue(Bytes(page), kPageSize, /*write_protect=*/true)) {
      MapReferencedAroundLocked(mapping, page);
      return;
    }
  }
  // Forked, zeroed or cut since the fault was raised (the clone's storage is mapped there
  // now), evicted from the root (the retry takes a MISSING fault and asks for it), or
  // mapped already by a racing fault: the retried access finds out.
  mapping->Wake(Bytes(page), kPageSize);
}

void VmObjectPaged::MapReferencedAroundLocked(VmMapping* mapping, uint64_t page) {
  Impl& m = *impl_;
  m.mutex.AssertHeld();
  Impl& root = *TreeRoot()->impl_;  // the same tree lock
  // The aligned window of kMinorFaultAround pages around `page`, inside the mapping.
  const uint64_t map_first = PageOf(mapping->vmo_offset());
  const uint64_t map_end = map_first + PageOf(mapping->length());
  const uint64_t first = std::max(map_first, page - page % kMinorFaultAround);
  const uint64_t end = std::min(map_end, page - page % kMinorFaultAround + kMinorFaultAround);
  auto mappable = [&](uint64_t p) {
    uint64_t root_page = 0;
    if (p == page || !SeesRootPageLocked(p, &root_page)) return false;
    root.mutex.AssertHeld();  // the analysis does not carry it into the lambda
    const PageList::Page* slot = root.pages.FindPage(root_page);
    return slot != nullptr && slot->kind == SlotKind::kClean && slot->reclaim.referenced;
  };
  for (uint64_t p = first; p < end;) {
    if (!mappable(p)) {
      ++p;
      continue;
    }
    uint64_t run_end = p + 1;
    while (run_end < end && mappable(run_end)) ++run_end;
    // Best effort: a page mapped already (EEXIST) ends the call; its fault maps the rest.
    mapping->Continue(Bytes(p), Bytes(run_end - p), /*write_protect=*/true);
    p = run_end;
  }
}

void VmObjectPaged::ContinueIntoWaitingClonesLocked(const std::vector<VmObjectPaged*>& children,
                                                    uint64_t first, uint64_t end, uint64_t shift) {
  for (VmObjectPaged* child : children) {
    const uint64_t offset = child->parent_offset_;
    if (end <= offset) continue;  // before the child's window
    const uint64_t child_first = first > offset ? first - offset : 0;
    const uint64_t child_end = end - offset;
    Impl& c = *child->impl_;
    c.mutex.AssertHeld();  // the same tree lock
    if (child->kind_ == ChildKind::kReadThrough && !c.mappings.empty()) {
      for (uint64_t page = child_first; page < child_end; ++page) {
        uint64_t seen = 0;
        if (!child->SeesRootPageLocked(page, &seen) || seen != page + offset + shift) continue;
        for (VmMapping* mapping : c.mappings) {
          // Write-protected, as a MINOR fault would map it (a store still forks). The
          // fault's own completion wakes the thread again, to no effect.
          if (mapping->Covers(Bytes(page)) && mapping->FaultWaitsAt(Bytes(page))) {
            mapping->Continue(Bytes(page), kPageSize, /*write_protect=*/true);
          }
        }
      }
    }
    ContinueIntoWaitingClonesLocked(c.children, child_first, child_end, shift + offset);
  }
}

void VmObjectPaged::UnmapFromClonesLocked(VmObjectPaged* root, uint64_t root_page, uint64_t page) {
  Impl& m = *impl_;
  m.mutex.AssertHeld();
  for (VmObjectPaged* child : m.children) {
    if (page < child->parent_offset_) continue;  // before the child's window
    const uint64_t child_page = page - child->parent_offset_;
    Impl& c = *child->impl_;
    c.mutex.AssertHeld();  // the same tree lock
    uint64_t seen = 0;
    if (child->kind_ == ChildKind::kReadThrough && !c.mappings.empty() &&
        child->SeesRootPageLocked(child_page, &seen) && seen == root_page) {
      // A holder's mapping is in another address space: Unmap leaves it (docs/clones.md).
      for (VmMapping* mapping : c.mappings) mapping->Unmap(Bytes(child_page), kPageSize);
    }
    // Its own children may see the root's page even where it forked it (they copied its
    // slots at creation, not its later forks).
    child->UnmapFromClonesLocked(root, root_page, child_page);
  }
}

}  // namespace upager::internal

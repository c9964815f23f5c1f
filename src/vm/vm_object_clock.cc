// VmObjectPaged: its side of the reclaimer's clock (docs/eviction.md): the hand's step at
// one of its pages, and the MINOR faults that tell it a page unmapped by the hand was used.
// Section numbers refer to docs/zircon-semantics.md.
#include "base/telemetry.h"
#include "vm/vm_mapping.h"
#include "vm/vm_object_impl.h"
#include "vm/vm_object_paged.h"

namespace upager::internal {

void VmObjectPaged::HandleMinorFault(VmMapping* mapping, uint64_t offset) {
  Impl& m = *impl_;
  MutexLock lock(&m.mutex);
  const uint64_t page = PageOf(offset);
  if (kind_ == ChildKind::kReadThrough) {
    HandleCloneMinorFaultLocked(mapping, page);  // vm_object_clone_map.cc
    return;
  }
  if (offset < m.size) {
    const SlotKind kind = m.pages.Lookup(page);
    // Every present slot is mapped back: a marker or a zero range has storage too once a
    // fault in another mapping installed its zeros there, and waking without mapping it
    // would only raise the same MINOR fault again.
    if (kind != SlotKind::kAbsent) {
      if (PageList::Page* slot = m.pages.FindPage(page)) slot->reclaim.referenced = true;
      // Write-protected whatever its state, as the write-protect marker the mapping keeps
      // for an unmapped page would have it come back: a clean page's first store still
      // faults and dirties it (or asks the pager, kVmoTrapDirty) (18.7), and a Dirty page's
      // first store after QueryVmoStats' reset still marks the VMO modified. Under the VMO
      // lock, as every install, so no writeback or dirty transition comes in between.
      if (mapping->Continue(Bytes(page), kPageSize, /*write_protect=*/true)) return;
    }
  }
  // Gone since the fault was raised (evicted, decommitted, shrunk: absent slots are holes),
  // or mapped already by a racing fault: the retried access finds out (a MISSING fault
  // asks the pager).
  mapping->Wake(Bytes(page), kPageSize);
}

void VmObjectPaged::MapPresent(VmMapping* mapping, uint64_t offset, uint64_t len) {
  Impl& m = *impl_;
  MutexLock lock(&m.mutex);
  // A page mapped here may be used unseen from now on: its bit is set, as a MINOR fault
  // would set it (the hand clears it and unmaps the page together).
  for (uint64_t page = PageOf(offset); Bytes(page) < offset + len && Bytes(page) < m.size; ++page) {
    if (kind_ == ChildKind::kReadThrough) {
      // A clone's own pages are its storage mapped over its root's (no MINOR faults there,
      // nothing to map); what it sees of its root is the root's page cache, as below.
      uint64_t root_page = 0;
      if (!SeesRootPageLocked(page, &root_page)) continue;
      Impl& root = *TreeRoot()->impl_;
      root.mutex.AssertHeld();  // the same tree lock
      if (PageList::Page* slot = root.pages.FindPage(root_page)) slot->reclaim.referenced = true;
      mapping->Continue(Bytes(page), kPageSize, /*write_protect=*/true);
      continue;
    }
    if (m.pages.Lookup(page) != SlotKind::kAbsent) {
      if (PageList::Page* slot = m.pages.FindPage(page)) slot->reclaim.referenced = true;
      mapping->Continue(Bytes(page), kPageSize, /*write_protect=*/true);
    }
  }
}

ReclaimStepResult VmObjectPaged::ReclaimStep(uint64_t page, bool may_age) {
  Impl& m = *impl_;
  MutexLock lock(&m.mutex);
  PageList::Page* slot = m.pages.FindPage(page);
  if (slot == nullptr || slot->kind != SlotKind::kClean || slot->always_need) {
    return ReclaimStepResult::kSkipped;
  }
  if (may_age && slot->reclaim.referenced) {
    // Second chance. Cleared and unmapped together under the lock, so a use after this
    // point takes a MINOR fault (HandleMinorFault, same lock) that sets the bit again.
    slot->reclaim.referenced = false;
    for (VmMapping* mapping : m.mappings) mapping->Unmap(Bytes(page), kPageSize);
    // And from the mappings of the clones that see it (not forked, not cut from their view):
    // a use there takes a MINOR fault too, which marks this page (docs/clones.md).
    UnmapFromClonesLocked(this, page, page);
    m.pages.Touch(page, page + 1);
    telemetry::PageAged();
    return ReclaimStepResult::kAged;
  }
  m.pages.RemovePage(page);
  m.PunchHole(page, page + 1);
  telemetry::PageEvicted();
  return ReclaimStepResult::kEvicted;
}

}  // namespace upager::internal

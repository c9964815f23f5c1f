// MINOR faults: the fault side of the reclaimer's clock (docs/eviction.md).
//
// A mapping of a pager-backed VMO is registered for MINOR faults where the kernel has them:
// an access to a page that is in the VMO's memfd but not in the mapping's page tables then
// faults. That happens after the reclaimer's hand unmapped the page to see whether it is
// still used, and for pages that reached the memfd without passing through this mapping.
// The fault never waits for a pager: the page is marked referenced and mapped back with
// UFFDIO_CONTINUE under the VMO lock (VmObjectPaged::HandleMinorFault).
#include <sys/mman.h>

#include <atomic>
#include <cstdio>

#include "base/telemetry.h"
#include "fault/fault_service.h"
#include "fault/mapping_object.h"
#include "vm/page_reclaimer.h"
#include "vm/vm_object_paged.h"

namespace upager::internal {

void NoteMinorFaults(bool available) {
  PageReclaimer::Default().SetClock(available);
  static std::atomic<bool> logged{false};
  if (!available && !logged.exchange(true, std::memory_order_relaxed)) {
    std::fprintf(stderr,
                 "upager: no userfaultfd MINOR faults on shmem with write-protected CONTINUE "
                 "here (Linux 6.5 or later); mapped pages are evicted least recently supplied "
                 "first, not least recently used\n");
  }
}

void FaultService::DispatchMinor(const Userfaultfd& uffd, uintptr_t address) {
  const uintptr_t page = address & ~static_cast<uintptr_t>(kPageSize - 1);
  Entry* entry = EnterRange(page);
  if (entry == nullptr) {
    // Unmapped since the fault was raised: the retried access finds nothing (SIGSEGV).
    uffd.Wake(page, kPageSize);
    return;
  }
  entry->mapping->OnMinorFault(address);
  LeaveRange(entry);
}

void MappingObject::OnMinorFault(uintptr_t address) {
  telemetry::MinorFault();
  const uintptr_t page = address & ~static_cast<uintptr_t>(kPageSize - 1);
  vmo_->HandleMinorFault(this, vmo_offset() + (page - reinterpret_cast<uintptr_t>(base_)));
}

void MappingObject::Unmap(uint64_t offset, uint64_t len) {
  // A holder's mapping is in another address space: it keeps its entries (a punched page
  // leaves it all the same).
  if (!takes_faults() || for_holder() || !Clip(&offset, &len)) return;
  // On a MAP_SHARED mapping of a memfd this zaps the page table entries and leaves the
  // page in the memfd (tests/clock_test.cc checks both). A write-protected entry leaves a
  // write-protect marker behind; HandleMinorFault protects the page again in any case.
  MutexLock lock(&pieces_mutex_);
  ForEachLiveLocked(offset - vmo_offset(), len, [&](uint64_t rel, uint64_t n) {
    ::madvise(base_ + rel, n, MADV_DONTNEED);
    return true;
  });
}

bool MappingObject::FaultWaitsAt(uint64_t offset) {
  // Not a holder's mapping: a CONTINUE there is in another address space, and its
  // private mapping of the root's storage maps the page at the retry anyway.
  if (!takes_faults() || for_holder()) return false;
  MutexLock lock(&records_mutex_);
  for (const RecordState& state : record_states_) {
    if (state.in_use && state.page_offset == offset) return true;
  }
  return false;
}

bool MappingObject::Continue(uint64_t offset, uint64_t len, bool write_protect) {
  if (!takes_faults() || offset < vmo_offset() || offset + len > vmo_offset() + length()) {
    return false;
  }
  bool mapped = false;
  MutexLock lock(&pieces_mutex_);
  ForEachLiveLocked(offset - vmo_offset(), len, [&](uint64_t piece, uint64_t size) {
    stripes_.ForEach(piece, size, [&](const Userfaultfd& uffd, uint64_t rel, uint64_t n) {
      mapped =
          uffd.Continue(reinterpret_cast<uintptr_t>(base_) + rel, n, write_protect && writable()) ||
          mapped;
      return true;
    });
    return true;
  });
  return mapped;
}

}  // namespace upager::internal

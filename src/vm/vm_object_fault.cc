// VmObjectPaged: its mappings, and the faults they report.
// Section numbers refer to docs/zircon-semantics.md.
#include <algorithm>
#include <iterator>
#include <vector>

#include "vm/vm_mapping.h"
#include "vm/vm_object_impl.h"
#include "vm/vm_object_paged.h"

namespace upager::internal {

// ---- Mappings ----

int VmObjectPaged::memfd() const { return impl_->memfd; }

void VmObjectPaged::AddMapping(VmMapping* mapping) {
  MutexLock lock(&impl_->mutex);
  impl_->mappings.push_back(mapping);
  impl_->pages.set_mapped(true);  // the reclaimer's clock (docs/eviction.md)
}

void VmObjectPaged::RemoveMapping(VmMapping* mapping) {
  MutexLock lock(&impl_->mutex);
  std::erase(impl_->mappings, mapping);
  impl_->pages.set_mapped(!impl_->mappings.empty());
}

namespace {
alignas(4096) const char kZeroPage[kPageSize] = {};
}  // namespace

Status VmObjectPaged::HandleFault(VmMapping* mapping, const FaultInfo& fault, PageRequest* req) {
  Impl& m = *impl_;
  MutexLock lock(&m.mutex);
  const uint64_t page = PageOf(fault.offset);
  if (fault.offset >= m.size) {
    // Shrunk since the fault was raised: the retried access is beyond the memfd's end and
    // the kernel raises SIGBUS itself.
    mapping->Wake(Bytes(page), kPageSize);
    return Status::kOk;
  }
  const SlotKind kind = source_ ? m.pages.Lookup(page) : SlotKind::kDirty;
  if (!fault.wp) {
    if (kind != SlotKind::kAbsent) {
      // Content that reads as zero and has no storage (a marker, a dirty zero range, a page
      // committed without content), or a page that arrived after the fault was raised (it
      // is in storage already, the install finds it there and the thread is just woken).
      const bool protect = kind != SlotKind::kDirty;
      const bool installed = mapping->Install(Bytes(page), kZeroPage, kPageSize, protect) != 0;
      mapping->EndInstalls();
      if (!installed) mapping->Wake(Bytes(page), kPageSize);
      m.pages.Touch(page, page + 1);
      return Status::kOk;
    }
    // One page per fault (10.2); shares the request with any read or fault of it.
    return source_->GetPages(Bytes(page), kPageSize, req, VmoDebugInfo{koid_, "fault"});
  }
  switch (kind) {
    case SlotKind::kAbsent:
      // Evicted since: the retried store finds the page missing and asks for it.
      mapping->Wake(Bytes(page), kPageSize);
      return Status::kOk;
    case SlotKind::kDirty: break;
    default:
      if (source_->ShouldTrapDirtyTransitions()) {
        return source_->RequestDirtyTransition(req, Bytes(page), kPageSize,
                                               VmoDebugInfo{koid_, "fault"});
      }
      m.Materialize(page, SlotKind::kDirty);
      break;
  }
  // The page is Dirty: let the store through.
  m.modified = true;
  mapping->WriteProtect(Bytes(page), kPageSize, false);
  return Status::kOk;
}

}  // namespace upager::internal

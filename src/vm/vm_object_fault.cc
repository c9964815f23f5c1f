// VmObjectPaged: its mappings, and the faults they report.
// Section numbers refer to docs/zircon-semantics.md.
#include <fcntl.h>

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <optional>
#include <vector>

#include "base/telemetry.h"
#include "vm/vm_mapping.h"
#include "vm/vm_object_impl.h"
#include "vm/vm_object_paged.h"

namespace upager::internal {

// ---- Mappings ----

int VmObjectPaged::memfd() const {
  // A clone's storage holds only the pages it forked: never hand it out to be mapped as the
  // clone's content (docs/clones.md, Mapped clones).
  return reads_through_parent() ? -1 : impl_->memfd;
}

int VmObjectPaged::own_memfd() const { return impl_->memfd; }

Status VmObjectPaged::AddMapping(VmMapping* mapping) {
  Impl& m = *impl_;
  MutexLock lock(&m.mutex);
  if (kind_ == ChildKind::kReadThrough) {
    // The clone's own pages (forked, or copied from its parent at creation) go over the
    // root's, under the lock a fork takes, so that no fork is missed: each run of them at
    // once (one VMA). The mapping is not added, and so is unmapped whole, if they cannot be.
    const uint64_t first = PageOf(mapping->vmo_offset());
    const uint64_t last = first + PageOf(mapping->length());
    auto it = m.pages.pages().lower_bound(first);
    while (it != m.pages.pages().end() && it->first < last) {
      const uint64_t run_first = it->first;
      uint64_t run_end = run_first + 1;
      for (++it; it != m.pages.pages().end() && it->first == run_end && run_end < last; ++it) {
        ++run_end;
      }
      if (!mapping->MapOwn(Bytes(run_first), Bytes(run_end - run_first), /*protect=*/false,
                           /*last_resort=*/false)) {
        return Status::kNoMemory;
      }
    }
    // What it sees as zeros beyond its parent.
    if (Status s = HideCutPagesIn(mapping, /*last_resort=*/false); s != Status::kOk) return s;
    // Its root's pages may be in this mapping's page tables from now on (docs/clones.md).
    // Counted only once it is added: RemoveMapping counts out only an added mapping.
    Impl& root = *TreeRoot()->impl_;
    root.mutex.AssertHeld();  // the same tree lock
    ++root.clone_mappings;
    root.pages.set_mapped(true);
  }
  m.mappings.push_back(mapping);
  m.pages.set_mapped(true);  // the reclaimer's clock (docs/eviction.md)
  return Status::kOk;
}

void VmObjectPaged::RemoveMapping(VmMapping* mapping) {
  Impl& m = *impl_;
  MutexLock lock(&m.mutex);
  // A mapping that failed before it was added is destroyed too: nothing to count out.
  if (std::erase(m.mappings, mapping) == 0) return;
  m.pages.set_mapped(!m.mappings.empty() || m.clone_mappings > 0);
  if (kind_ == ChildKind::kReadThrough) {
    Impl& root = *TreeRoot()->impl_;
    root.mutex.AssertHeld();  // the same tree lock
    --root.clone_mappings;
    root.pages.set_mapped(!root.mappings.empty() || root.clone_mappings > 0);
  }
}

namespace {
alignas(4096) const char kZeroPage[kPageSize] = {};

// The most a fault thread fills at once, and its buffer for that: allocated at its first
// fill and kept for the thread's life, so that fills allocate nothing.
constexpr uint64_t kFillCapacity = 2 << 20;

struct FillBuffer {
  std::byte* data = nullptr;
  ~FillBuffer() { std::free(data); }
};

std::byte* ThreadFillBuffer() {
  thread_local FillBuffer buffer;
  if (buffer.data == nullptr) {
    buffer.data = static_cast<std::byte*>(std::aligned_alloc(kPageSize, kFillCapacity));
  }
  return buffer.data;
}

}  // namespace

void VmObjectPaged::SetFaultFiller(FaultFiller* filler) {
  MutexLock lock(&impl_->mutex);
  impl_->filler = filler;
}

void VmObjectPaged::ClearFaultFiller() {
  Impl& m = *impl_;
  MutexLock lock(&m.mutex);
  m.filler = nullptr;
  while (m.filler_users > 0) m.filler_idle.Wait(&m.mutex);
}

// Supplies a filler's ranges as Pager::SupplyPagesFromBuffer would, minus the waiting: no
// room in the memory budget ends the fill.
class VmObjectPaged::FillSink final : public FaultFiller::Sink {
 public:
  FillSink(VmObjectPaged* vmo, VmMapping* mapping, uint64_t page, uint64_t run_first,
           uint64_t run_end)
      : vmo_(vmo), mapping_(mapping), page_(page), run_first_(run_first), run_end_(run_end) {}

  bool Supply(FaultFiller::Range range, const std::byte* data, uint64_t* supplied) override {
    *supplied = 0;
    if (range.length == 0 || range.offset % kPageSize != 0 || range.length % kPageSize != 0 ||
        range.offset < Bytes(run_first_) || range.end() > Bytes(run_end_)) {
      return false;
    }
    const bool holds_page = range.offset <= Bytes(page_) && Bytes(page_) < range.end();
    if (!supplied_page_ && !holds_page) return false;  // the page comes first
    PageReclaimer& reclaimer = PageReclaimer::Default();
    if (!reclaimer.TryMakeRoom(PageOf(range.length))) {
      if (!holds_page || !reclaimer.TryMakeRoom(1)) return false;
      data += Bytes(page_) - range.offset;  // just the page
      range = {Bytes(page_), kPageSize};
    }
    Impl& m = *vmo_->impl_;
    {
      MutexLock lock(&m.mutex);
      if (vmo_->source_->is_detached() || range.end() > m.size) return false;
      m.fault_watch = {mapping_, page_, false};
      const Status s =
          m.SupplyAbsent(PageOf(range.offset), PageOf(range.end()),
                         reinterpret_cast<const char*>(data), vmo_->source_.get(), supplied);
      installed_ = installed_ || m.fault_watch.installed;
      m.fault_watch = {};
      if (s != Status::kOk) return false;
    }
    if (*supplied > 0) telemetry::Supplied(vmo_->koid_, range.offset, range.length);
    supplied_page_ = supplied_page_ || holds_page;
    return true;
  }

  bool installed() const { return installed_; }

 private:
  VmObjectPaged* const vmo_;
  VmMapping* const mapping_;
  const uint64_t page_;
  const uint64_t run_first_;
  const uint64_t run_end_;
  bool supplied_page_ = false;
  bool installed_ = false;
};

bool VmObjectPaged::FillFault(VmMapping* mapping, FaultFiller* filler, uint64_t page,
                              uint64_t run_first, uint64_t run_end) {
  FillSink sink(this, mapping, page, run_first, run_end);
  if (std::byte* buffer = ThreadFillBuffer(); buffer != nullptr) {
    filler->FillNow(Bytes(page), {Bytes(run_first), Bytes(run_end - run_first)}, buffer,
                    kFillCapacity, &sink);
  }
  return sink.installed();
}

Status VmObjectPaged::HandleFault(VmMapping* mapping, const FaultInfo& fault, PageRequest* req) {
  if (kind_ == ChildKind::kReadThrough) {
    // A store may fork a page: room for it first, evicting but never waiting on a fault
    // thread; with nothing left to evict the fork goes over the budget.
    if (fault.wp) PageReclaimer::Default().TryMakeRoom(1);
    return HandleCloneFault(mapping, fault, req);
  }
  FaultFiller* tried = nullptr;
  FaultFiller::Range run;
  const Status status = HandleFaultOnce(mapping, fault, req, &run, &tried);
  if (tried != nullptr) {
    // The filler was counted in its users from the try until here, so it is still there.
    if (status == Status::kShouldWait) tried->Missed(Bytes(PageOf(fault.offset)), run);
    Impl& m = *impl_;
    MutexLock lock(&m.mutex);
    if (--m.filler_users == 0) m.filler_idle.NotifyAll();
  }
  return status;
}

Status VmObjectPaged::HandleFaultOnce(VmMapping* mapping, const FaultInfo& fault, PageRequest* req,
                                      FaultFiller::Range* run, FaultFiller** tried) {
  Impl& m = *impl_;
  const uint64_t page = PageOf(fault.offset);
  for (;;) {
    uint64_t run_first = 0;
    uint64_t run_end = 0;
    {
      MutexLock lock(&m.mutex);
      if (fault.offset >= m.size) {
        // Shrunk since the fault was raised: the retried access is beyond the memfd's end
        // and the kernel raises SIGBUS itself.
        mapping->Wake(Bytes(page), kPageSize);
        return Status::kOk;
      }
      const SlotKind kind = source_ ? m.pages.Lookup(page) : SlotKind::kDirty;
      if (fault.wp) return HandleWriteFaultLocked(mapping, page, kind, req);
      if (kind != SlotKind::kAbsent) {
        // Content that reads as zero and has no storage (a marker, a dirty zero range, a
        // page committed without content), or a page that arrived after the fault was
        // raised (it is in storage already, the install finds it there and the thread is
        // just woken).
        const bool protect = kind != SlotKind::kDirty;
        // A mapping that maps only what the storage holds (a holder's private one) would
        // fault again on a hole: a zero page goes there (an allocation keeps a page's bytes).
        if (mapping->MapsOnlyStorage()) {
          ::fallocate(m.memfd, 0, static_cast<off_t>(Bytes(page)), kPageSize);
        }
        const bool installed = mapping->Install(Bytes(page), kZeroPage, kPageSize, protect) != 0;
        mapping->EndInstalls();
        if (!installed) mapping->Wake(Bytes(page), kPageSize);
        m.pages.Touch(page, page + 1);
        return Status::kOk;
      }
      if (*tried != nullptr || m.filler == nullptr || source_->is_detached()) {
        // One page per fault (10.2); shares the request with any read or fault of it. A
        // filler that declined reads the page once told (Missed): no packet for it.
        std::optional<FillerClaim> claim;
        if (*tried != nullptr && (*tried)->ReadsMisses() && !source_->is_detached()) {
          claim.emplace(source_.get(), Bytes(page));
        }
        return source_->GetPages(Bytes(page), kPageSize, req, VmoDebugInfo{koid_, "fault"});
      }
      *tried = m.filler;  // the fast path is tried once
      ++m.filler_users;
      const uint64_t window = PageOf(kFillCapacity);
      m.pages.AbsentRun(page, page >= window ? page - window + 1 : 0,
                        std::min(page + window, PageCeil(m.size)), &run_first, &run_end);
    }
    *run = {Bytes(run_first), Bytes(run_end - run_first)};
    if (FillFault(mapping, *tried, page, run_first, run_end)) return Status::kOk;
    // Not filled, or filled but not installed here (another mapping got it, or it was there
    // already): the lookup again decides.
  }
}

Status VmObjectPaged::HandleWriteFaultLocked(VmMapping* mapping, uint64_t page, SlotKind kind,
                                             PageRequest* req) {
  Impl& m = *impl_;
  m.mutex.AssertHeld();
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

// VmObjectPaged: creation, handles, size, info, resizing, the memory-budget steps around the
// operations that add pages, and eviction.
// Section numbers refer to docs/zircon-semantics.md.
#include "vm/vm_object_paged.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "base/koid.h"
#include "base/telemetry.h"
#include "vm/page_reclaimer.h"
#include "vm/vm_object_impl.h"

namespace upager::internal {

VmObjectPaged::VmObjectPaged(uint64_t size, uint32_t options, int memfd,
                             std::shared_ptr<PageSource> source, uint64_t pager_koid,
                             ChildLink link)
    : koid_(NextKoid()),
      pager_koid_(pager_koid),
      options_(options),
      source_(std::move(source)),
      parent_koid_(link.parent ? link.parent->koid() : 0),
      copied_from_(link.kind == ChildKind::kCopy ? link.parent : nullptr),
      parent_(link.kind == ChildKind::kCopy ? nullptr : std::move(link.parent)),
      parent_offset_(link.parent_offset),
      kind_(link.kind),
      reference_(link.reference),
      // A read-through clone's own pages (forks) are charged to the budget as its root's are
      // (docs/clones.md, Memory); they are never clean, so never in the eviction order.
      impl_(std::make_unique<Impl>(
          memfd, size,
          source_ || link.kind == ChildKind::kReadThrough ? &PageReclaimer::Default() : nullptr,
          this, parent_ ? &parent_->impl_->mutex : nullptr)) {}

VmObjectPaged::~VmObjectPaged() {
  if (source_) source_->Close();
  if (kind_ == ChildKind::kCopy) {
    if (auto parent = copied_from_.lock()) {
      parent->impl_->copy_children.fetch_sub(1);
      parent->OnChildGone();
    }
  } else if (parent_) {
    // Leave the parent's list before letting go of the parent (docs/clones.md).
    {
      MutexLock lock(&impl_->mutex);
      Impl& p = *parent_->impl_;
      p.mutex.AssertHeld();  // the same tree lock
      std::erase(p.children, this);
    }
    parent_->OnChildGone();
    parent_->RemoveHandle();
  }
}

void VmObjectPaged::SetChildObserver(VmoChildObserver* observer) {
  MutexLock lock(&impl_->observer_mutex);
  impl_->child_observer = observer;
}

void VmObjectPaged::RemoveChildObserver(VmoChildObserver* observer) {
  MutexLock lock(&impl_->observer_mutex);
  if (impl_->child_observer == observer) impl_->child_observer = nullptr;
}

void VmObjectPaged::OnChildGone() {
  Impl& m = *impl_;
  {
    MutexLock lock(&m.mutex);
    if (!m.children.empty() || m.copy_children.load(std::memory_order_relaxed) != 0) return;
  }
  MutexLock lock(&m.observer_mutex);
  if (m.child_observer != nullptr) m.child_observer->OnZeroChildren();
}

Status VmObjectPaged::CreateAnonymous(uint64_t size, uint32_t options,
                                      std::shared_ptr<VmObjectPaged>* out) {
  if (size > kMaxVmoSize) return Status::kOutOfRange;
  const uint64_t stream_size = size;
  size = (options & kVmoUnbounded) != 0 ? kMaxVmoSize : Bytes(PageCeil(size));
  int fd;
  if (Status s = MakeMemfd(size, (options & kVmoResizable) != 0, &fd); s != Status::kOk) {
    return s;
  }
  out->reset(new VmObjectPaged(size, options, fd, nullptr, 0, ChildLink{}));
  (*out)->InitStreamSize(stream_size);
  return Status::kOk;
}

Status VmObjectPaged::CreatePagerBacked(uint64_t size, uint32_t options,
                                        std::shared_ptr<PageSource> source, uint64_t pager_koid,
                                        std::shared_ptr<VmObjectPaged>* out) {
  if (size > kMaxVmoSize) return Status::kOutOfRange;
  const uint64_t stream_size = size;
  size = (options & kVmoUnbounded) != 0 ? kMaxVmoSize : Bytes(PageCeil(size));
  int fd;
  if (Status s = MakeMemfd(size, (options & kVmoResizable) != 0, &fd); s != Status::kOk) {
    return s;
  }
  out->reset(new VmObjectPaged(size, options, fd, std::move(source), pager_koid, ChildLink{}));
  (*out)->InitStreamSize(stream_size);
  // A grown-from-nothing VMO has no content yet: every slot is absent.
  return Status::kOk;
}

void VmObjectPaged::AddHandle() { impl_->handles.fetch_add(1, std::memory_order_relaxed); }

void VmObjectPaged::RemoveHandle() {
  if (impl_->handles.fetch_sub(1, std::memory_order_acq_rel) == 1 && source_) {
    // The last handle: the pager hears COMPLETE (9.3).
    source_->Close();
  }
}

uint64_t VmObjectPaged::size() const {
  MutexLock lock(&impl_->mutex);
  return impl_->size;
}

void VmObjectPaged::GetInfo(VmoInfo* out) const {
  MutexLock lock(&impl_->mutex);
  out->koid = koid_;
  out->size_bytes = impl_->size;
  out->committed_bytes = Bytes(impl_->pages.committed_pages());
  out->populated_bytes = out->committed_bytes;
  out->num_children = static_cast<uint32_t>(impl_->children.size()) +
                      impl_->copy_children.load(std::memory_order_relaxed);
  out->parent_koid = parent_koid_;
  out->flags = TreeRoot()->source_ ? kVmoInfoPagerBacked : 0;
}

Status VmObjectPaged::SetSize(uint64_t new_size) {
  if (reference_) {
    // The parent's own resize (its stream size with it), if this reference may resize it.
    if ((options_ & kVmoResizable) == 0) return Status::kUnavailable;
    return parent_->SetSize(new_size);
  }
  const Status status = SetSizeImpl(new_size);
  if (status == Status::kOk) {
    MutexLock lock(&impl_->mutex);
    impl_->stream_size = new_size;
  }
  return status;
}

Status VmObjectPaged::SetSizeImpl(uint64_t new_size) {
  if ((options_ & kVmoResizable) == 0) return Status::kUnavailable;
  if (new_size > kMaxVmoSize) return Status::kOutOfRange;
  new_size = Bytes(PageCeil(new_size));
  if (reads_through_parent()) return CloneSetSize(new_size);
  Impl& m = *impl_;
  MutexLock lock(&m.mutex);
  const uint64_t old_size = m.size;
  if (new_size == old_size) return Status::kOk;
  if (new_size > old_size) {
    if (::ftruncate(m.memfd, static_cast<off_t>(new_size)) != 0) return Status::kNoMemory;
    // The new tail reads as zero without asking the pager: a dirty zero range (10.4).
    if (source_) m.pages.AddZeroRange(PageOf(old_size), PageOf(new_size));
  } else {
    const uint64_t first = PageOf(new_size);
    const uint64_t last = PageOf(old_size);
    if (source_) {
      // Wake every request beyond the new end so its waiter retries and finds the VMO
      // shorter (18.6). Only slots that were still missing (READ) or not yet dirty
      // (DIRTY) are reported, so requests partly inside the VMO keep their accounting.
      for (uint64_t page = first; page < last;) {
        const SlotKind kind = m.pages.Lookup(page);
        const uint64_t run_end = m.pages.RunEnd(page, last, [kind](SlotKind k) {
          return (k == SlotKind::kAbsent) == (kind == SlotKind::kAbsent);
        });
        if (kind == SlotKind::kAbsent) {
          source_->OnPagesSupplied(Bytes(page), Bytes(run_end - page));
        }
        page = run_end;
      }
      for (uint64_t page = first; page < last;) {
        const bool dirty = m.pages.Lookup(page) == SlotKind::kDirty;
        const uint64_t run_end = m.pages.RunEnd(
            page, last, [dirty](SlotKind k) { return (k == SlotKind::kDirty) == dirty; });
        if (!dirty && source_->ShouldTrapDirtyTransitions()) {
          source_->OnPagesDirtied(Bytes(page), Bytes(run_end - page));
        }
        page = run_end;
      }
    }
    m.pages.Truncate(first);
    // The cut range is gone for existing children, for good (16). Before the storage is
    // cut: a child's mapping must not reach beyond its end meanwhile (docs/clones.md).
    m.ClipChildren(first);
    if (::ftruncate(m.memfd, static_cast<off_t>(new_size)) != 0) return Status::kNoMemory;
  }
  m.size = new_size;
  m.modified = true;
  FollowSizeLocked(new_size);
  return Status::kOk;
}

// ---- Memory budget ----
//
// Operations that add real pages to a pager-backed VMO bring the budget back under its
// limit once they hold no lock; a supply first makes room, waiting for memory if nothing
// can be evicted.

Status VmObjectPaged::Write(const void* data, uint64_t offset, uint64_t len) {
  // Writes may commit pages (a clone's fork them): wait while the budget is exceeded and
  // nothing can be evicted.
  const bool charged = source_ || reads_through_parent();
  if (charged) {
    if (Status s = PageReclaimer::Default().MakeRoom(0); s != Status::kOk) return s;
  }
  const Status status =
      reads_through_parent() ? CloneWrite(data, offset, len) : WriteImpl(data, offset, len);
  if (charged) PageReclaimer::Default().ReclaimIfOver();
  return status;
}

Status VmObjectPaged::OpRange(uint32_t op, uint64_t offset, uint64_t len) {
  const bool charged =
      (source_ || reads_through_parent()) && (op == kVmoOpCommit || op == kVmoOpZero);
  if (charged) {
    if (Status s = PageReclaimer::Default().MakeRoom(0); s != Status::kOk) return s;
  }
  const Status status =
      reads_through_parent() ? CloneOpRange(op, offset, len) : OpRangeImpl(op, offset, len);
  if (charged) PageReclaimer::Default().ReclaimIfOver();
  return status;
}

Status VmObjectPaged::DirtyPages(uint64_t offset, uint64_t len) {
  if (Status s = PageReclaimer::Default().MakeRoom(0); s != Status::kOk) return s;
  const Status status = DirtyPagesImpl(offset, len);
  PageReclaimer::Default().ReclaimIfOver();
  return status;
}

Status VmObjectPaged::SupplyPages(uint64_t offset, uint64_t len, VmObjectPaged* aux,
                                  uint64_t aux_offset) {
  if (Status s = PageReclaimer::Default().MakeRoom(PageOf(len)); s != Status::kOk) return s;
  const Status status = SupplyPagesImpl(offset, len, aux, aux_offset);
  PageReclaimer::Default().ReclaimIfOver();
  return status;
}

Status VmObjectPaged::SupplyPagesFromBuffer(uint64_t offset, uint64_t len, const void* data) {
  if (Status s = PageReclaimer::Default().MakeRoom(PageOf(len)); s != Status::kOk) return s;
  uint64_t supplied = 0;
  const Status status = SupplyPagesFromBufferImpl(offset, len, data, &supplied);
  PageReclaimer::Default().ReclaimIfOver();
  return status;
}

Status VmObjectPaged::TrySupplyPagesFromBuffer(uint64_t offset, uint64_t len, const void* data,
                                               uint64_t* supplied) {
  *supplied = 0;
  if (!PageReclaimer::Default().TryMakeRoom(PageOf(len))) return Status::kShouldWait;
  const Status status = SupplyPagesFromBufferImpl(offset, len, data, supplied);
  if (*supplied > 0) telemetry::Supplied(koid_, offset, len);
  PageReclaimer::Default().ReclaimIfOver();
  return status;
}

bool VmObjectPaged::EvictPage(uint64_t page) {
  Impl& m = *impl_;
  MutexLock lock(&m.mutex);
  const PageList::Page* slot = m.pages.FindPage(page);
  if (slot == nullptr || slot->kind != SlotKind::kClean || slot->always_need) return false;
  m.pages.RemovePage(page);
  m.PunchHole(page, page + 1);
  return true;
}

void VmObjectPaged::AbsentRun(uint64_t offset, uint64_t low, uint64_t high, uint64_t* first,
                              uint64_t* end) {
  MutexLock lock(&impl_->mutex);
  const uint64_t pages = impl_->size / kPageSize;
  const uint64_t page = offset / kPageSize;
  uint64_t lo = page;
  uint64_t hi = page;
  if (page < pages) {
    impl_->pages.AbsentRun(page, std::min(low / kPageSize, page),
                           std::max(std::min(high / kPageSize, pages), page + 1), &lo, &hi);
  }
  *first = Bytes(lo);
  *end = Bytes(hi);
}

uint64_t VmObjectPaged::EvictFront(PageReclaimer* reclaimer, uint64_t max) {
  // At most this many pages a batch: the indices live on the stack.
  constexpr size_t kBatch = 512;
  Impl& m = *impl_;
  MutexLock lock(&m.mutex);
  uint64_t pages[kBatch];
  const size_t taken = reclaimer->TakeFront(this, std::min<uint64_t>(max, kBatch), pages);
  // The batch goes as a whole under this lock, so the order within it does not matter:
  // sorted, its pages leave the list with one budget release, and its consecutive pages
  // make runs, each dropped from storage with one hole punch.
  std::sort(pages, pages + taken);
  m.pages.RemoveTaken(pages, taken);
  for (size_t i = 0; i < taken;) {
    size_t j = i + 1;
    while (j < taken && pages[j] == pages[j - 1] + 1) ++j;
    m.PunchHole(pages[i], pages[i] + (j - i));
    i = j;
  }
  return taken;
}

}  // namespace upager::internal

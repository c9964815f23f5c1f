#include "vm/vm_object_paged.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <limits>
#include <vector>

#include "base/deferred_wakeups.h"
#include "base/kernel_copy.h"
#include "base/koid.h"
#include "upager/thread.h"
#include "vm/page_list.h"
#include "vm/page_reclaimer.h"

namespace upager::internal {
namespace {

constexpr uint64_t kMaxWriteBatchPages = 256;  // 10.2: a write asks for at most 256 pages

uint64_t PageOf(uint64_t offset) { return offset / kPageSize; }
uint64_t PageCeil(uint64_t offset) { return (offset + kPageSize - 1) / kPageSize; }
uint64_t Bytes(uint64_t pages) { return pages * kPageSize; }

bool RangeOverflows(uint64_t offset, uint64_t len) {
  return offset > std::numeric_limits<uint64_t>::max() - len;
}

bool IsPresentForRead(SlotKind kind) { return kind != SlotKind::kAbsent; }

// Slots a write may dirty (10.3): everything present that is not already Dirty.
bool IsToBeDirtied(SlotKind kind) {
  return kind == SlotKind::kClean || kind == SlotKind::kAwaitingClean ||
         kind == SlotKind::kMarker || kind == SlotKind::kZeroRange;
}

// Full-length pread/pwrite on the memfd; they only fail on a broken fd or out of memory.
//
// The caller's buffer may be mapped memory whose fault fails: the copy then fails with
// EFAULT and the pager's status is reported (KernelCopyScope). A buffer that is simply not
// accessible is kInvalidArgs, as for a Zircon syscall whose user copy faults.
Status FaultStatus(const KernelCopyScope& scope) {
  return scope.failure() != Status::kOk ? scope.failure() : Status::kInvalidArgs;
}

Status PreadAll(int fd, void* buf, uint64_t len, uint64_t offset) {
  KernelCopyScope scope;
  auto* p = static_cast<char*>(buf);
  while (len > 0) {
    const ssize_t n = ::pread(fd, p, len, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EFAULT) return FaultStatus(scope);
    if (n <= 0) return Status::kIo;
    p += n;
    len -= static_cast<uint64_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return Status::kOk;
}

// `written` (optional) counts the bytes copied, also when the copy fails part-way.
Status PwriteAll(int fd, const void* buf, uint64_t len, uint64_t offset,
                 uint64_t* written = nullptr) {
  KernelCopyScope scope;
  const auto* p = static_cast<const char*>(buf);
  while (len > 0) {
    const ssize_t n = ::pwrite(fd, p, len, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EFAULT) return FaultStatus(scope);
    if (n <= 0) return errno == ENOSPC || errno == ENOMEM ? Status::kNoMemory : Status::kIo;
    if (written) *written += static_cast<uint64_t>(n);
    p += n;
    len -= static_cast<uint64_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return Status::kOk;
}

// Whether the memfd has a page (not a hole) at `page`.
bool HasStorage(int fd, uint64_t page) {
  const off_t data = ::lseek(fd, static_cast<off_t>(Bytes(page)), SEEK_DATA);
  return data == static_cast<off_t>(Bytes(page));
}

// Copies `len` bytes between memfds inside the kernel.
Status CopyFdRange(int from, uint64_t from_offset, int to, uint64_t to_offset, uint64_t len) {
  auto in = static_cast<loff_t>(from_offset);
  auto out = static_cast<loff_t>(to_offset);
  while (len > 0) {
    const ssize_t n = ::copy_file_range(from, &in, to, &out, len, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // Fall back to a bounce buffer (copy_file_range may refuse some file pairs).
      std::vector<char> buf(std::min<uint64_t>(len, 1 << 20));
      while (len > 0) {
        const uint64_t chunk = std::min<uint64_t>(len, buf.size());
        if (Status s = PreadAll(from, buf.data(), chunk, static_cast<uint64_t>(in));
            s != Status::kOk) {
          return s;
        }
        if (Status s = PwriteAll(to, buf.data(), chunk, static_cast<uint64_t>(out));
            s != Status::kOk) {
          return s;
        }
        in += static_cast<loff_t>(chunk);
        out += static_cast<loff_t>(chunk);
        len -= chunk;
      }
      return Status::kOk;
    }
    len -= static_cast<uint64_t>(n);
  }
  return Status::kOk;
}

}  // namespace

// Everything guarded by the VMO lock.
struct VmObjectPaged::Impl {
  Impl(int fd, uint64_t size_bytes, PageReclaimer* reclaimer, VmObjectPaged* owner)
      : memfd(fd), size(size_bytes), pages(reclaimer, owner) {}
  ~Impl() { ::close(memfd); }

  Mutex mutex;
  const int memfd;
  uint64_t size UPAGER_GUARDED_BY(mutex);
  PageList pages UPAGER_GUARDED_BY(mutex);
  bool modified UPAGER_GUARDED_BY(mutex) = false;
  std::atomic<uint64_t> handles{0};
  std::vector<VmMapping*> mappings UPAGER_GUARDED_BY(mutex);

  // Drops the storage of pages [first, end) (they become holes and read as zero). The
  // kernel removes them from every mapping too, so the next access faults; write
  // protection is re-armed there because a page a store had unprotected comes back clean.
  void PunchHole(uint64_t first, uint64_t end) UPAGER_REQUIRES(mutex) {
    if (first >= end) return;
    ::fallocate(memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(Bytes(first)),
                static_cast<off_t>(Bytes(end - first)));
    WriteProtect(first, end);
  }
  void WriteProtect(uint64_t first, uint64_t end) UPAGER_REQUIRES(mutex) {
    for (VmMapping* mapping : mappings) {
      if (mapping->writable()) mapping->WriteProtect(Bytes(first), Bytes(end - first), true);
    }
  }
  // Writes the content of pages [first, end), all holes, from `src`: through a mapping's
  // page tables where one covers them (the faulting thread then needs no second fault),
  // into the memfd elsewhere. Supplied pages are clean, so mapped write-protected.
  Status Store(uint64_t first, uint64_t end, const char* src) UPAGER_REQUIRES(mutex) {
    uint64_t page = first;
    while (page < end) {
      VmMapping* best = nullptr;
      uint64_t next_covered = end;
      for (VmMapping* mapping : mappings) {
        const uint64_t map_first = PageOf(mapping->vmo_offset());
        const uint64_t map_end = map_first + PageOf(mapping->length());
        if (map_first <= page && page < map_end) {
          if (best == nullptr || map_end > PageOf(best->vmo_offset() + best->length())) {
            best = mapping;
          }
        } else if (map_first > page) {
          next_covered = std::min(next_covered, map_first);
        }
      }
      uint64_t piece_end = next_covered;
      if (best != nullptr) {
        piece_end = std::min(end, PageOf(best->vmo_offset() + best->length()));
        uint64_t placed;
        Status copy_failure;
        {
          KernelCopyScope scope;  // `src` may be mapped memory whose fault fails
          placed =
              best->Install(Bytes(page), src + Bytes(page - first), Bytes(piece_end - page), true);
          copy_failure = scope.failure();
        }
        if (copy_failure != Status::kOk) return copy_failure;
        page += PageOf(placed);
      }
      if (page < piece_end) {
        if (Status s =
                PwriteAll(memfd, src + Bytes(page - first), Bytes(piece_end - page), Bytes(page));
            s != Status::kOk) {
          return s;
        }
      }
      page = piece_end;
    }
    return Status::kOk;
  }
  // Makes the page a real zero-filled page of `kind` (from a marker or a zero range, which
  // have no storage: the hole already reads as zero).
  void Materialize(uint64_t page, SlotKind kind) UPAGER_REQUIRES(mutex) {
    pages.SetPage(page, kind);
  }
};

VmObjectPaged::VmObjectPaged(uint64_t size, uint32_t options, int memfd,
                             std::shared_ptr<PageSource> source, uint64_t pager_koid)
    : koid_(NextKoid()),
      pager_koid_(pager_koid),
      options_(options),
      source_(std::move(source)),
      impl_(std::make_unique<Impl>(memfd, size, source_ ? &PageReclaimer::Default() : nullptr,
                                   this)) {}

VmObjectPaged::~VmObjectPaged() {
  if (source_) source_->Close();
}

namespace {
Status MakeMemfd(uint64_t size, int* out) {
  const int fd = ::memfd_create("upager-vmo", MFD_CLOEXEC);
  if (fd < 0) return Status::kNoResources;
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    ::close(fd);
    return Status::kNoMemory;
  }
  *out = fd;
  return Status::kOk;
}
}  // namespace

Status VmObjectPaged::CreateAnonymous(uint64_t size, uint32_t options,
                                      std::shared_ptr<VmObjectPaged>* out) {
  if (size > kMaxVmoSize) return Status::kOutOfRange;
  size = Bytes(PageCeil(size));
  int fd;
  if (Status s = MakeMemfd(size, &fd); s != Status::kOk) return s;
  out->reset(new VmObjectPaged(size, options, fd, nullptr, 0));
  return Status::kOk;
}

Status VmObjectPaged::CreatePagerBacked(uint64_t size, uint32_t options,
                                        std::shared_ptr<PageSource> source, uint64_t pager_koid,
                                        std::shared_ptr<VmObjectPaged>* out) {
  if (size > kMaxVmoSize) return Status::kOutOfRange;
  size = Bytes(PageCeil(size));
  int fd;
  if (Status s = MakeMemfd(size, &fd); s != Status::kOk) return s;
  out->reset(new VmObjectPaged(size, options, fd, std::move(source), pager_koid));
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
  out->flags = source_ ? kVmoInfoPagerBacked : 0;
}

// ---- The retry loop (docs/zircon-semantics.md 18.1) ----
//
// Each operation below looks at the page list under the lock; when it needs the pager it
// populates `req`, drops the lock, waits, and looks again from where it was. A suspended
// waiter gets kIntrRetry: it parks until resumed and then carries on, which issues a new
// request (8).
namespace {
Status WaitOnRequest(PageRequest* req) {
  Status status = req->Wait(/*suspendable=*/true);
  if (status == Status::kIntrRetry) {
    status = ParkWhileSuspended();
  }
  return status;
}
}  // namespace

Status VmObjectPaged::Read(void* data, uint64_t offset, uint64_t len) {
  if (RangeOverflows(offset, len)) return Status::kOutOfRange;
  auto* out = static_cast<char*>(data);
  const uint64_t end = offset + len;
  uint64_t pos = offset;
  LazyPageRequest req(/*early_wake=*/true);
  Impl& m = *impl_;
  for (;;) {
    Status status;
    {
      DeferredWakeups defer;  // packets queued under the lock wake their reader after it
      MutexLock lock(&m.mutex);
      if (end > m.size) return Status::kOutOfRange;
      // Copy the present run from pos.
      const uint64_t run_end =
          source_ ? Bytes(m.pages.RunEnd(PageOf(pos), PageCeil(end), IsPresentForRead)) : end;
      const uint64_t copy_end = std::min(end, run_end);
      if (copy_end > pos) {
        if (Status s = PreadAll(m.memfd, out + (pos - offset), copy_end - pos, pos);
            s != Status::kOk) {
          return s;
        }
        m.pages.Touch(PageOf(pos), PageCeil(copy_end));  // recently used: evicted last
        pos = copy_end;
      }
      if (pos >= end) return Status::kOk;
      // The read asks for the whole absent run up to its end (10.2).
      const uint64_t first = PageOf(pos);
      const uint64_t absent_end =
          m.pages.RunEnd(first, PageCeil(end), [](SlotKind k) { return k == SlotKind::kAbsent; });
      status = source_->GetPages(Bytes(first), Bytes(absent_end - first), req.get(),
                                 VmoDebugInfo{koid_, "vmo"});
    }
    if (status != Status::kShouldWait) return status;
    if (status = WaitOnRequest(req.get()); status != Status::kOk) return status;
  }
}

Status VmObjectPaged::WriteImpl(const void* data, uint64_t offset, uint64_t len) {
  if (RangeOverflows(offset, len)) return Status::kOutOfRange;
  const auto* in = static_cast<const char*>(data);
  const uint64_t end = offset + len;
  uint64_t pos = offset;
  LazyPageRequest req(/*early_wake=*/false);
  Impl& m = *impl_;
  for (;;) {
    Status status;
    {
      DeferredWakeups defer;  // packets queued under the lock wake their reader after it
      MutexLock lock(&m.mutex);
      if (end > m.size) return Status::kOutOfRange;
      if (!source_) {
        // Anonymous: every slot can be written at once.
        if (Status s = PwriteAll(m.memfd, in + (pos - offset), end - pos, pos); s != Status::kOk) {
          return s;
        }
        for (uint64_t page = PageOf(pos); page < PageCeil(end); ++page) {
          if (m.pages.Lookup(page) == SlotKind::kAbsent) m.pages.SetPage(page, SlotKind::kDirty);
        }
        return Status::kOk;
      }
      for (;;) {
        if (pos >= end) return Status::kOk;
        const uint64_t first = PageOf(pos);
        const uint64_t last = PageCeil(end);
        const uint64_t batch_end = std::min(last, first + kMaxWriteBatchPages);
        const SlotKind kind = m.pages.Lookup(first);
        if (kind == SlotKind::kAbsent) {
          const uint64_t run_end =
              m.pages.RunEnd(first, batch_end, [](SlotKind k) { return k == SlotKind::kAbsent; });
          status = source_->GetPages(Bytes(first), Bytes(run_end - first), req.get(),
                                     VmoDebugInfo{koid_, "vmo"});
          break;
        }
        if (kind != SlotKind::kDirty) {
          const uint64_t run_end = m.pages.RunEnd(first, batch_end, IsToBeDirtied);
          if (source_->ShouldTrapDirtyTransitions()) {
            status = source_->RequestDirtyTransition(
                req.get(), Bytes(first), Bytes(run_end - first), VmoDebugInfo{koid_, "vmo"});
            break;
          }
          // No trap: dirty the run directly (markers and zero ranges become real pages).
          for (uint64_t page = first; page < run_end; ++page) {
            m.Materialize(page, SlotKind::kDirty);
          }
        }
        // Copy the leading run of Dirty pages.
        const uint64_t dirty_end =
            m.pages.RunEnd(first, last, [](SlotKind k) { return k == SlotKind::kDirty; });
        const uint64_t copy_end = std::min(end, Bytes(dirty_end));
        // A write that copied anything modified the VMO, even if it then failed (14).
        uint64_t written = 0;
        const Status s = PwriteAll(m.memfd, in + (pos - offset), copy_end - pos, pos, &written);
        if (written > 0) m.modified = true;
        if (s != Status::kOk) return s;
        pos = copy_end;
      }
    }
    if (status != Status::kShouldWait) return status;
    if (status = WaitOnRequest(req.get()); status != Status::kOk) return status;
  }
}

Status VmObjectPaged::SetSize(uint64_t new_size) {
  if ((options_ & kVmoResizable) == 0) return Status::kUnavailable;
  if (new_size > kMaxVmoSize) return Status::kOutOfRange;
  new_size = Bytes(PageCeil(new_size));
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
    if (::ftruncate(m.memfd, static_cast<off_t>(new_size)) != 0) return Status::kNoMemory;
  }
  m.size = new_size;
  m.modified = true;
  return Status::kOk;
}

Status VmObjectPaged::OpRangeImpl(uint32_t op, uint64_t offset, uint64_t len) {
  Impl& m = *impl_;
  switch (op) {
    case kVmoOpCommit:
    case kVmoOpPrefetch:
    case kVmoOpAlwaysNeed: {
      const bool hint = op != kVmoOpCommit;
      if (hint && !source_) return Status::kOk;  // hints on ordinary VMOs do nothing (15)
      uint64_t first;
      uint64_t last;
      {
        MutexLock lock(&m.mutex);
        if (RangeOverflows(offset, len)) return Status::kOutOfRange;
        if (hint) {
          first = PageOf(offset);
          last = PageCeil(offset + len);
          if (Bytes(last) > m.size) return Status::kOutOfRange;
        } else {
          if (offset + len > m.size) return Status::kOutOfRange;
          first = PageOf(offset);
          last = PageCeil(offset + len);
        }
      }
      const Status status = CommitPages(first, last, /*always_need=*/op == kVmoOpAlwaysNeed);
      return op == kVmoOpAlwaysNeed ? Status::kOk : status;  // ALWAYS_NEED is best effort
    }
    case kVmoOpDecommit: {
      if (source_) return Status::kNotSupported;
      MutexLock lock(&m.mutex);
      if (RangeOverflows(offset, len) || offset + len > m.size) return Status::kOutOfRange;
      const uint64_t first = PageOf(offset);
      const uint64_t last = PageCeil(offset + len);
      for (uint64_t page = first; page < last; ++page) m.pages.RemovePage(page);
      m.PunchHole(first, last);
      return Status::kOk;
    }
    case kVmoOpZero: return ZeroRange(offset, len);
    case kVmoOpDontNeed: {
      if (!source_) return Status::kOk;
      MutexLock lock(&m.mutex);
      if (RangeOverflows(offset, len) || Bytes(PageCeil(offset + len)) > m.size) {
        return Status::kOutOfRange;
      }
      m.pages.MoveToReclaimFront(PageOf(offset), PageCeil(offset + len));
      return Status::kOk;
    }
    default: return Status::kNotSupported;
  }
}

Status VmObjectPaged::CommitPages(uint64_t first, uint64_t last, bool always_need) {
  Impl& m = *impl_;
  uint64_t page = first;
  LazyPageRequest req(/*early_wake=*/false);
  for (;;) {
    Status status;
    {
      DeferredWakeups defer;  // packets queued under the lock wake their reader after it
      MutexLock lock(&m.mutex);
      // A range cut off by a shrink simply ends the commit (18.6).
      last = std::min(last, PageOf(m.size));
      for (;;) {
        if (page >= last) return Status::kOk;
        const SlotKind kind = m.pages.Lookup(page);
        if (!source_) {
          if (kind == SlotKind::kAbsent) m.pages.SetPage(page, SlotKind::kDirty);
          ++page;
          continue;
        }
        if (kind == SlotKind::kAbsent) {
          const uint64_t run_end =
              m.pages.RunEnd(page, last, [](SlotKind k) { return k == SlotKind::kAbsent; });
          status = source_->GetPages(Bytes(page), Bytes(run_end - page), req.get(),
                                     VmoDebugInfo{koid_, "vmo"});
          break;
        }
        if (kind == SlotKind::kZeroRange) {
          // Committing a dirty zero range makes real Dirty pages (DIRTY first if trapping).
          const uint64_t run_end =
              m.pages.RunEnd(page, last, [](SlotKind k) { return k == SlotKind::kZeroRange; });
          if (source_->ShouldTrapDirtyTransitions()) {
            status = source_->RequestDirtyTransition(req.get(), Bytes(page), Bytes(run_end - page),
                                                     VmoDebugInfo{koid_, "vmo"});
            break;
          }
          for (; page < run_end; ++page) m.Materialize(page, SlotKind::kDirty);
          continue;
        }
        if (kind == SlotKind::kMarker) {
          m.Materialize(page, SlotKind::kClean);  // a real zero page, still clean
        }
        if (always_need) m.pages.SetAlwaysNeed(page);
        ++page;
      }
    }
    if (status != Status::kShouldWait) return status;
    if (status = WaitOnRequest(req.get()); status != Status::kOk) return status;
  }
}

Status VmObjectPaged::ZeroRange(uint64_t offset, uint64_t len) {
  Impl& m = *impl_;
  {
    MutexLock lock(&m.mutex);
    if (RangeOverflows(offset, len) || offset + len > m.size) return Status::kOutOfRange;
  }
  if (len == 0) return Status::kOk;
  const uint64_t end = offset + len;
  // Partial pages at either end are written as zeros (a write: READ, DIRTY as needed),
  // unless they already read as zero: a zero marker or a dirty zero range is left alone.
  auto already_zero = [&](uint64_t byte_offset) {
    if (!source_) return false;
    MutexLock lock(&m.mutex);
    const SlotKind kind = m.pages.Lookup(PageOf(byte_offset));
    return kind == SlotKind::kMarker || kind == SlotKind::kZeroRange;
  };
  const uint64_t head_end = std::min(end, Bytes(PageCeil(offset)));
  if (offset % kPageSize != 0 && !already_zero(offset)) {
    std::vector<char> zeros(head_end - offset, 0);
    if (Status s = Write(zeros.data(), offset, zeros.size()); s != Status::kOk) return s;
  }
  const uint64_t tail_start = std::max(head_end, Bytes(PageOf(end)));
  if (end % kPageSize != 0 && tail_start < end && tail_start >= offset &&
      !already_zero(tail_start)) {
    std::vector<char> zeros(end - tail_start, 0);
    if (Status s = Write(zeros.data(), tail_start, zeros.size()); s != Status::kOk) return s;
  }
  const uint64_t first = PageCeil(offset);
  uint64_t last = PageOf(end);
  if (first >= last) return Status::kOk;
  MutexLock lock(&m.mutex);
  last = std::min(last, PageOf(m.size));
  if (!source_) {
    for (uint64_t page = first; page < last; ++page) m.pages.RemovePage(page);
    m.PunchHole(first, last);
    m.modified = true;
    return Status::kOk;
  }
  bool zeroed = false;
  for (uint64_t page = first; page < last;) {
    const SlotKind kind = m.pages.Lookup(page);
    if (kind == SlotKind::kMarker || kind == SlotKind::kZeroRange) {
      ++page;  // already zero (10.4: no-op over markers)
      continue;
    }
    const uint64_t run_end = m.pages.RunEnd(
        page, last, [](SlotKind k) { return k != SlotKind::kMarker && k != SlotKind::kZeroRange; });
    // Absent runs were being read: resolve them, their readers now find zeros.
    for (uint64_t p = page; p < run_end;) {
      const bool absent = m.pages.Lookup(p) == SlotKind::kAbsent;
      const uint64_t e = m.pages.RunEnd(
          p, run_end, [absent](SlotKind k) { return (k == SlotKind::kAbsent) == absent; });
      m.pages.AddZeroRange(p, e);
      if (absent) source_->OnPagesSupplied(Bytes(p), Bytes(e - p));
      p = e;
    }
    m.PunchHole(page, run_end);
    zeroed = true;
    page = run_end;
  }
  if (zeroed) m.modified = true;
  return Status::kOk;
}

// ---- Pager side ----

Status VmObjectPaged::SupplyPagesImpl(uint64_t offset, uint64_t len, VmObjectPaged* aux,
                                      uint64_t aux_offset) {
  if (RangeOverflows(aux_offset, len)) return Status::kOutOfRange;
  Impl& m = *impl_;
  Impl& a = *aux->impl_;
  if (aux->source_) {
    // A pager-backed aux is refused before both VMOs are ever locked together: two such
    // supplies in opposite directions would otherwise lock in opposite orders. Zircon
    // checks the aux range first.
    MutexLock aux_lock(&a.mutex);
    return aux_offset + len > a.size ? Status::kOutOfRange : Status::kNotSupported;
  }
  // Lock order between VMOs: pager-backed destination, then the (anonymous) aux.
  MutexLock lock(&m.mutex);
  MutexLock aux_lock(&a.mutex);
  if (aux_offset + len > a.size) return Status::kOutOfRange;
  if (RangeOverflows(offset, len) || offset + len > m.size) return Status::kOutOfRange;
  if (source_->is_detached()) return Status::kBadState;
  const uint64_t first = PageOf(offset);
  const uint64_t count = PageOf(len);
  const uint64_t aux_first = PageOf(aux_offset);
  uint64_t run_start = first;
  Status result = Status::kOk;
  for (uint64_t i = 0; i <= count; ++i) {
    const uint64_t page = first + i;
    const bool fill = i < count && m.pages.Lookup(page) == SlotKind::kAbsent;
    if (fill) {
      // An anonymous aux may also have been written through a mapping, which its page
      // list does not see: its memfd says whether the page has content.
      if (a.pages.IsRealPage(a.pages.Lookup(aux_first + i)) ||
          (!a.mappings.empty() && HasStorage(a.memfd, aux_first + i))) {
        result = CopyFdRange(a.memfd, Bytes(aux_first + i), m.memfd, Bytes(page), kPageSize);
        if (result != Status::kOk) break;
        m.pages.SetPage(page, SlotKind::kClean);
      } else {
        m.pages.SetPage(page, SlotKind::kMarker);  // uncommitted aux page: zeros
      }
      continue;
    }
    // Report each run that was actually filled (4.1).
    if (page > run_start) source_->OnPagesSupplied(Bytes(run_start), Bytes(page - run_start));
    run_start = page + 1;
  }
  // The aux range ends decommitted, whatever was used.
  for (uint64_t i = 0; i < count; ++i) a.pages.RemovePage(aux_first + i);
  a.PunchHole(aux_first, aux_first + count);
  return result;
}

Status VmObjectPaged::SupplyPagesFromBufferImpl(uint64_t offset, uint64_t len, const void* data) {
  Impl& m = *impl_;
  MutexLock lock(&m.mutex);
  if (RangeOverflows(offset, len) || offset + len > m.size) return Status::kOutOfRange;
  if (source_->is_detached()) return Status::kBadState;
  const auto* in = static_cast<const char*>(data);
  const uint64_t first = PageOf(offset);
  const uint64_t last = PageOf(offset + len);
  for (uint64_t page = first; page < last;) {
    const bool absent = m.pages.Lookup(page) == SlotKind::kAbsent;
    const uint64_t run_end = m.pages.RunEnd(
        page, last, [absent](SlotKind k) { return (k == SlotKind::kAbsent) == absent; });
    if (absent) {
      if (Status s = m.Store(page, run_end, in + Bytes(page - first)); s != Status::kOk) {
        ForgetInstalled();
        return s;
      }
      for (uint64_t p = page; p < run_end; ++p) m.pages.SetPage(p, SlotKind::kClean);
      source_->OnPagesSupplied(Bytes(page), Bytes(run_end - page));
      ForgetInstalled();
    }
    page = run_end;
  }
  return Status::kOk;
}

Status VmObjectPaged::FailPages(uint64_t offset, uint64_t len, Status error) {
  Impl& m = *impl_;
  MutexLock lock(&m.mutex);
  if (RangeOverflows(offset, len) || offset + len > m.size) return Status::kOutOfRange;
  if (source_->is_detached()) return Status::kBadState;
  source_->OnPagesFailed(offset, len, error);
  return Status::kOk;
}

Status VmObjectPaged::DirtyPagesImpl(uint64_t offset, uint64_t len) {
  if (!source_->ShouldTrapDirtyTransitions()) return Status::kNotSupported;
  Impl& m = *impl_;
  MutexLock lock(&m.mutex);
  if (RangeOverflows(offset, len) || offset > m.size) return Status::kOutOfRange;
  const uint64_t end = std::min(offset + len, m.size);
  // Errors still wake the DIRTY waiters of the valid part so they re-evaluate (10.6).
  auto wake = [&] {
    if (end > offset) source_->OnPagesDirtied(offset, end - offset);
  };
  if (offset + len > m.size) {
    wake();
    return Status::kOutOfRange;
  }
  if (source_->is_detached()) return Status::kBadState;
  const uint64_t first = PageOf(offset);
  const uint64_t last = PageOf(end);
  if (m.pages.RunEnd(first, last, IsPresentForRead) != last) {
    wake();
    return Status::kNotFound;
  }
  // All present: dirty the whole range at once and report what changed.
  for (uint64_t page = first; page < last;) {
    const bool dirty = m.pages.Lookup(page) == SlotKind::kDirty;
    const uint64_t run_end = m.pages.RunEnd(
        page, last, [dirty](SlotKind k) { return (k == SlotKind::kDirty) == dirty; });
    if (!dirty) {
      for (uint64_t p = page; p < run_end; ++p) m.Materialize(p, SlotKind::kDirty);
      source_->OnPagesDirtied(Bytes(page), Bytes(run_end - page));
    }
    page = run_end;
  }
  return Status::kOk;
}

Status VmObjectPaged::WritebackBegin(uint64_t offset, uint64_t len, bool zero_ranges_only) {
  Impl& m = *impl_;
  MutexLock lock(&m.mutex);
  if (RangeOverflows(offset, len) || offset + len > m.size) return Status::kOutOfRange;
  const uint64_t first = PageOf(offset);
  const uint64_t last = PageOf(offset + len);
  if (!zero_ranges_only) {
    for (auto it = m.pages.pages().lower_bound(first);
         it != m.pages.pages().end() && it->first < last; ++it) {
      if (it->second.kind == SlotKind::kDirty) {
        m.pages.SetPage(it->first, SlotKind::kAwaitingClean);
      }
    }
  }
  // Zero ranges whose start lies in the range await cleaning up to what is covered (10.5).
  for (auto it = m.pages.zero_ranges().lower_bound(first);
       it != m.pages.zero_ranges().end() && it->first < last; ++it) {
    it->second.awaiting_end = std::max(it->second.awaiting_end, std::min(last, it->second.end));
  }
  // Mappings lose write access to the range, so the next store is seen (10.4, 18.7).
  m.WriteProtect(first, last);
  return Status::kOk;
}

Status VmObjectPaged::WritebackEnd(uint64_t offset, uint64_t len) {
  Impl& m = *impl_;
  MutexLock lock(&m.mutex);
  if (RangeOverflows(offset, len) || offset + len > m.size) return Status::kOutOfRange;
  const uint64_t first = PageOf(offset);
  const uint64_t last = PageOf(offset + len);
  for (auto it = m.pages.pages().lower_bound(first);
       it != m.pages.pages().end() && it->first < last; ++it) {
    if (it->second.kind == SlotKind::kAwaitingClean) {
      m.pages.SetPage(it->first, SlotKind::kClean);
    }
  }
  // Written-back zero ranges become absent: the pager owns that content now. Only ranges
  // whose start lies in [first, last) are cleaned (a begin must have seen that start), from
  // their start up to the furthest awaiting-clean extent seen so far, which also covers
  // zero ranges created later inside a written-back span (10.5).
  std::vector<std::pair<uint64_t, uint64_t>> clean;
  auto& ranges = m.pages.zero_ranges();
  uint64_t awaiting = first;
  for (auto it = ranges.lower_bound(first); it != ranges.end() && it->first < last; ++it) {
    awaiting = std::max(awaiting, it->second.awaiting_end);
    const uint64_t to = std::min({last, it->second.end, awaiting});
    if (it->first < to) clean.emplace_back(it->first, to);
  }
  for (const auto& [from, to] : clean) {
    m.pages.RemoveZeroRange(from, to);
    // A mapping may hold zeros there; absent slots must be holes so that access faults.
    m.PunchHole(from, to);
  }
  return Status::kOk;
}

Status VmObjectPaged::QueryDirtyRanges(uint64_t offset, uint64_t len, VmoDirtyRange* buffer,
                                       size_t buffer_entries, size_t* actual, size_t* avail) {
  // The ranges are gathered under the lock and copied out after it: the caller's buffer may
  // be mapped memory whose fault needs this very VMO (or the calling pager) to resolve.
  std::vector<VmoDirtyRange> out;
  size_t found = 0;
  if (Status s = GatherDirtyRanges(offset, len, buffer_entries, &out, avail != nullptr, &found);
      s != Status::kOk) {
    return s;
  }
  if (!out.empty()) std::memcpy(buffer, out.data(), out.size() * sizeof(VmoDirtyRange));
  if (actual) *actual = out.size();
  if (avail) *avail = found;
  return Status::kOk;
}

Status VmObjectPaged::GatherDirtyRanges(uint64_t offset, uint64_t len, size_t buffer_entries,
                                        std::vector<VmoDirtyRange>* buffer_out, bool count_all,
                                        size_t* avail) {
  Impl& m = *impl_;
  MutexLock lock(&m.mutex);
  if (RangeOverflows(offset, len) || offset + len > m.size) return Status::kOutOfRange;
  const uint64_t first = PageOf(offset);
  const uint64_t last = PageCeil(offset + len);
  size_t written = 0;
  size_t found = 0;
  // Walk pages and zero ranges together in offset order, merging runs of the same kind.
  auto pit = m.pages.pages().lower_bound(first);
  auto zit = m.pages.FindZeroRange(first);
  if (zit == m.pages.zero_ranges().end()) zit = m.pages.zero_ranges().lower_bound(first);
  bool have = false;
  VmoDirtyRange current{};
  auto emit = [&]() -> bool {  // false: stop (buffer full and nobody counts)
    if (!have) return true;
    if (written < buffer_entries) {
      buffer_out->push_back(current);
      ++written;
    }
    ++found;
    have = false;
    return count_all || written < buffer_entries;
  };
  auto add = [&](uint64_t from, uint64_t to, uint64_t options) -> bool {
    if (have && current.options == options && current.offset + current.length == Bytes(from)) {
      current.length += Bytes(to - from);
      return true;
    }
    if (!emit()) return false;
    current = VmoDirtyRange{Bytes(from), Bytes(to - from), options};
    have = true;
    return true;
  };
  bool go = true;
  while (go) {
    // Next dirty page at or after the cursor.
    while (pit != m.pages.pages().end() && pit->first < last &&
           (pit->second.kind == SlotKind::kClean || pit->second.kind == SlotKind::kMarker)) {
      ++pit;
    }
    const bool page_next = pit != m.pages.pages().end() && pit->first < last;
    const bool zero_next = zit != m.pages.zero_ranges().end() && zit->first < last;
    if (!page_next && !zero_next) break;
    if (page_next && (!zero_next || pit->first < zit->first)) {
      go = add(pit->first, pit->first + 1, 0);
      ++pit;
    } else {
      go = add(std::max(first, zit->first), std::min(last, zit->second.end), kVmoDirtyRangeIsZero);
      ++zit;
    }
  }
  if (go) emit();
  *avail = found;
  return Status::kOk;
}

Status VmObjectPaged::QueryStats(bool reset, PagerVmoStats* out) {
  Impl& m = *impl_;
  MutexLock lock(&m.mutex);
  out->modified = m.modified ? kPagerVmoStatsModified : 0;
  if (reset && m.modified) {
    m.modified = false;
    // Stores through mappings to pages already Dirty no longer fault; make them fault once
    // more so that the next one is seen as a modification.
    m.WriteProtect(0, PageOf(m.size));
  }
  return Status::kOk;
}

// ---- Memory budget ----
//
// Operations that add real pages to a pager-backed VMO bring the budget back under its
// limit once they hold no lock; a supply first makes room, waiting for memory if nothing
// can be evicted.

Status VmObjectPaged::Write(const void* data, uint64_t offset, uint64_t len) {
  // Writes may commit pages: wait while the budget is exceeded and nothing can be evicted.
  if (source_) {
    if (Status s = PageReclaimer::Default().MakeRoom(0); s != Status::kOk) return s;
  }
  const Status status = WriteImpl(data, offset, len);
  if (source_) PageReclaimer::Default().ReclaimIfOver();
  return status;
}

Status VmObjectPaged::OpRange(uint32_t op, uint64_t offset, uint64_t len) {
  if (source_ && (op == kVmoOpCommit || op == kVmoOpZero)) {
    if (Status s = PageReclaimer::Default().MakeRoom(0); s != Status::kOk) return s;
  }
  const Status status = OpRangeImpl(op, offset, len);
  if (source_) PageReclaimer::Default().ReclaimIfOver();
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
  const Status status = SupplyPagesFromBufferImpl(offset, len, data);
  PageReclaimer::Default().ReclaimIfOver();
  return status;
}

// ---- Mappings ----

int VmObjectPaged::memfd() const { return impl_->memfd; }

void VmObjectPaged::AddMapping(VmMapping* mapping) {
  MutexLock lock(&impl_->mutex);
  impl_->mappings.push_back(mapping);
}

void VmObjectPaged::RemoveMapping(VmMapping* mapping) {
  MutexLock lock(&impl_->mutex);
  std::erase(impl_->mappings, mapping);
}

namespace {
alignas(4096) const char kZeroPage[kPageSize] = {};

struct InstalledRanges {
  struct Range {
    const VmMapping* mapping;
    uint64_t offset;
    uint64_t len;
  };
  size_t count = 0;
  Range ranges[4];
};
thread_local InstalledRanges t_installed;
}  // namespace

void NoteInstalled(const VmMapping* mapping, uint64_t offset, uint64_t len) {
  if (t_installed.count < std::size(t_installed.ranges)) {
    t_installed.ranges[t_installed.count++] = {mapping, offset, len};
  }
}

bool WasJustInstalled(const VmMapping* mapping, uint64_t offset) {
  for (size_t i = 0; i < t_installed.count; ++i) {
    const auto& r = t_installed.ranges[i];
    if (r.mapping == mapping && offset >= r.offset && offset - r.offset < r.len) return true;
  }
  return false;
}

void ForgetInstalled() { t_installed.count = 0; }

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
      ForgetInstalled();
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

bool VmObjectPaged::EvictPage(uint64_t page) {
  Impl& m = *impl_;
  MutexLock lock(&m.mutex);
  const PageList::Page* slot = m.pages.FindPage(page);
  if (slot == nullptr || slot->kind != SlotKind::kClean || slot->always_need) return false;
  m.pages.RemovePage(page);
  m.PunchHole(page, page + 1);
  return true;
}

void VmObjectPaged::Detach() {
  Impl& m = *impl_;
  MutexLock lock(&m.mutex);
  source_->Detach();
  // Clean pages and markers go (the pager can supply them no more); Dirty, AwaitingClean
  // and zero ranges stay so they can still be queried and written back (9.2).
  std::vector<uint64_t> drop;
  for (const auto& [page, slot] : m.pages.pages()) {
    if (slot.kind == SlotKind::kClean || slot.kind == SlotKind::kMarker) drop.push_back(page);
  }
  for (uint64_t page : drop) {
    m.pages.RemovePage(page);
    m.PunchHole(page, page + 1);
  }
}

}  // namespace upager::internal

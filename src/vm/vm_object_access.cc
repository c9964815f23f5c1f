// VmObjectPaged: the VMO operations that need content (read, write, commit, zero), each one
// Zircon's retry loop (18.1) on the calling thread.
// Section numbers refer to docs/zircon-semantics.md.
#include <algorithm>
#include <atomic>
#include <vector>

#include "upager/write_batch.h"
#include "vm/retry_loop.h"
#include "vm/vm_object_impl.h"
#include "vm/vm_object_paged.h"

namespace upager {
namespace {
std::atomic<uint64_t> g_write_batch_pages{kDefaultWriteBatchPages};
}  // namespace

Status SetWriteBatchPages(uint64_t pages) {
  if (pages == 0 || pages > kMaxWriteBatchPages) return Status::kInvalidArgs;
  g_write_batch_pages.store(pages, std::memory_order_relaxed);
  return Status::kOk;
}

uint64_t GetWriteBatchPages() { return g_write_batch_pages.load(std::memory_order_relaxed); }

}  // namespace upager

namespace upager::internal {

uint64_t WriteBatchPages() { return GetWriteBatchPages(); }

// The retry loop (18.1) is in retry_loop.h.

Status VmObjectPaged::Read(void* data, uint64_t offset, uint64_t len) {
  if (reads_through_parent()) return CloneRead(data, offset, len);
  if (RangeOverflows(offset, len)) return Status::kOutOfRange;
  auto* out = static_cast<char*>(data);
  const uint64_t end = offset + len;
  uint64_t pos = offset;
  Impl& m = *impl_;
  return RunRetryLoop(/*early_wake=*/true, [&](LazyPageRequest& req) {
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
    return source_->GetPages(Bytes(first), Bytes(absent_end - first), req.get(),
                             VmoDebugInfo{koid_, "vmo"});
  });
}

Status VmObjectPaged::WriteImpl(const void* data, uint64_t offset, uint64_t len) {
  if (RangeOverflows(offset, len)) return Status::kOutOfRange;
  const auto* in = static_cast<const char*>(data);
  const uint64_t end = offset + len;
  uint64_t pos = offset;
  Impl& m = *impl_;
  return RunRetryLoop(/*early_wake=*/false, [&](LazyPageRequest& req) {
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
      const uint64_t batch_end = std::min(last, first + WriteBatchPages());
      const SlotKind kind = m.pages.Lookup(first);
      if (kind == SlotKind::kAbsent) {
        const uint64_t run_end =
            m.pages.RunEnd(first, batch_end, [](SlotKind k) { return k == SlotKind::kAbsent; });
        return source_->GetPages(Bytes(first), Bytes(run_end - first), req.get(),
                                 VmoDebugInfo{koid_, "vmo"});
      }
      if (kind != SlotKind::kDirty) {
        const uint64_t run_end = m.pages.RunEnd(first, batch_end, IsToBeDirtied);
        if (source_->ShouldTrapDirtyTransitions()) {
          return source_->RequestDirtyTransition(req.get(), Bytes(first), Bytes(run_end - first),
                                                 VmoDebugInfo{koid_, "vmo"});
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
  });
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
      m.pages.RemoveRange(first, last);
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
  return RunRetryLoop(/*early_wake=*/false, [&](LazyPageRequest& req) {
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
        return source_->GetPages(Bytes(page), Bytes(run_end - page), req.get(),
                                 VmoDebugInfo{koid_, "vmo"});
      }
      if (kind == SlotKind::kZeroRange) {
        // Committing a dirty zero range makes real Dirty pages (DIRTY first if trapping).
        const uint64_t run_end =
            m.pages.RunEnd(page, last, [](SlotKind k) { return k == SlotKind::kZeroRange; });
        if (source_->ShouldTrapDirtyTransitions()) {
          return source_->RequestDirtyTransition(req.get(), Bytes(page), Bytes(run_end - page),
                                                 VmoDebugInfo{koid_, "vmo"});
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
  });
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
    m.pages.RemoveRange(first, last);
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

}  // namespace upager::internal

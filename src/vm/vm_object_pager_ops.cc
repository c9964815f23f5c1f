// VmObjectPaged: the pager's side (supply, fail, dirty, writeback, queries, detach).
// Section numbers refer to docs/zircon-semantics.md.
#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "vm/vm_object_impl.h"
#include "vm/vm_object_paged.h"

namespace upager::internal {

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
  // A clone or slice aux has no pages of its own to give, and one in the destination's tree
  // shares its lock (docs/clones.md).
  if (aux->reads_through_parent()) return Status::kNotSupported;
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
    // Report each run that was actually filled (4.1), once the clone mappings waiting for
    // its pages have them (docs/clones.md).
    if (page > run_start && !m.children.empty()) {
      ContinueIntoWaitingClonesLocked(m.children, run_start, page);
    }
    if (page > run_start) source_->OnPagesSupplied(Bytes(run_start), Bytes(page - run_start));
    run_start = page + 1;
  }
  // The aux range ends decommitted, whatever was used.
  a.pages.RemoveRange(aux_first, aux_first + count);
  a.PunchHole(aux_first, aux_first + count);
  return result;
}

Status VmObjectPaged::SupplyPagesFromBufferImpl(uint64_t offset, uint64_t len, const void* data,
                                                uint64_t* supplied) {
  Impl& m = *impl_;
  MutexLock lock(&m.mutex);
  if (RangeOverflows(offset, len) || offset + len > m.size) return Status::kOutOfRange;
  if (source_->is_detached()) return Status::kBadState;
  return m.SupplyAbsent(PageOf(offset), PageOf(offset + len), static_cast<const char*>(data),
                        source_.get(), supplied);
}

Status VmObjectPaged::Impl::SupplyAbsent(uint64_t first, uint64_t last, const char* in,
                                         PageSource* source, uint64_t* supplied) {
  for (uint64_t page = first; page < last;) {
    const bool absent = pages.Lookup(page) == SlotKind::kAbsent;
    const uint64_t run_end = pages.RunEnd(
        page, last, [absent](SlotKind k) { return (k == SlotKind::kAbsent) == absent; });
    if (absent) {
      if (Status s = Store(page, run_end, in + Bytes(page - first)); s != Status::kOk) {
        EndInstalls();
        return s;
      }
      for (uint64_t p = page; p < run_end; ++p) pages.SetPage(p, SlotKind::kClean);
      // Clone mappings waiting for these pages map them now (docs/clones.md).
      if (!children.empty()) ContinueIntoWaitingClonesLocked(children, page, run_end);
      source->OnPagesSupplied(Bytes(page), Bytes(run_end - page));
      EndInstalls();
      *supplied += Bytes(run_end - page);
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

namespace {
bool IsDroppedOnDetach(SlotKind kind) {
  return kind == SlotKind::kClean || kind == SlotKind::kMarker;
}
}  // namespace

void VmObjectPaged::Detach() {
  Impl& m = *impl_;
  MutexLock lock(&m.mutex);
  source_->Detach();
  // Clean pages and markers go (the pager can supply them no more); Dirty, AwaitingClean
  // and zero ranges stay so they can still be queried and written back (9.2). They go a
  // run of consecutive slots at a time, and runs apart only by absent slots (holes in
  // storage already, and nothing can fill them now) share one hole punch.
  uint64_t punch_first = 0;
  uint64_t punch_end = 0;
  uint64_t first;
  uint64_t end;
  for (uint64_t from = 0; m.pages.RemoveNextRun(from, IsDroppedOnDetach, &first, &end);
       from = end) {
    if (punch_end > punch_first && m.pages.IsAbsent(punch_end, first)) {
      punch_end = end;
      continue;
    }
    m.PunchHole(punch_first, punch_end);
    punch_first = first;
    punch_end = end;
  }
  m.PunchHole(punch_first, punch_end);
}

void VmObjectPaged::DetachSoleHandle() {
  {
    MutexLock lock(&impl_->mutex);
    // Another handle may only come from this one (a duplicate), which its holder does not
    // make while closing it, or from a loop thread handing a request to the pager (counted
    // here while it runs, so then this is a plain detach).
    if (impl_->handles.load(std::memory_order_acquire) == 1) {
      source_->Detach();
      return;
    }
  }
  Detach();
}

}  // namespace upager::internal

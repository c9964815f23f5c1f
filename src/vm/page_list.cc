#include "vm/page_list.h"

#include <algorithm>
#include <iterator>

namespace upager::internal {

PageList::~PageList() { Erase(pages_.begin(), pages_.end()); }

PageList::PageMap::iterator PageList::Erase(PageMap::iterator first, PageMap::iterator last) {
  if (first == last) return last;
  uint64_t real = 0;
  for (auto it = first; it != last; ++it) {
    real += IsRealPage(it->second.kind) ? 1 : 0;
    Mirror(it->first, SlotKind::kAbsent);
  }
  real_pages_ -= real;
  if (reclaimer_ != nullptr) {
    reclaimer_->RemoveAll(first, last, [](auto& entry) { return &entry.second.reclaim; });
    if (real != 0) reclaimer_->Release(real);
  }
  return pages_.erase(first, last);
}

void PageList::RemoveRange(uint64_t first, uint64_t end) {
  if (first >= end) return;
  Erase(pages_.lower_bound(first), pages_.lower_bound(end));
}

bool PageList::RemoveNextRun(uint64_t from, bool (*drop)(SlotKind), uint64_t* first,
                             uint64_t* end) {
  auto it = pages_.lower_bound(from);
  while (it != pages_.end() && !drop(it->second.kind)) ++it;
  if (it == pages_.end()) return false;
  auto last = it;
  uint64_t next = it->first;
  while (last != pages_.end() && last->first == next && drop(last->second.kind)) {
    ++last;
    ++next;
  }
  *first = it->first;
  *end = next;
  Erase(it, last);
  return true;
}

void PageList::RemoveTaken(const uint64_t* pages, size_t n) {
  uint64_t real = 0;
  for (size_t i = 0; i < n; ++i) {
    auto it = pages_.find(pages[i]);
    if (it == pages_.end()) continue;
    real += IsRealPage(it->second.kind) ? 1 : 0;
    Mirror(it->first, SlotKind::kAbsent);
    pages_.erase(it);
  }
  real_pages_ -= real;
  if (reclaimer_ != nullptr && real != 0) reclaimer_->Release(real);
}

bool PageList::IsAbsent(uint64_t first, uint64_t end) const {
  if (first >= end) return true;
  auto it = pages_.lower_bound(first);
  if (it != pages_.end() && it->first < end) return false;
  auto z = zero_ranges_.lower_bound(first);
  if (z != zero_ranges_.end() && z->first < end) return false;
  return z == zero_ranges_.begin() || std::prev(z)->second.end <= first;
}

void PageList::Count(SlotKind kind, int delta) {
  if (!IsRealPage(kind)) return;
  real_pages_ += static_cast<uint64_t>(delta);
  if (reclaimer_ != nullptr) {
    if (delta > 0) {
      reclaimer_->Charge(static_cast<uint64_t>(delta));
    } else {
      reclaimer_->Release(static_cast<uint64_t>(-delta));
    }
  }
}

void PageList::UpdateReclaim(uint64_t index, Page* page) {
  if (reclaimer_ == nullptr) return;
  if (page->kind == SlotKind::kClean && !page->always_need) {
    page->reclaim.owner = owner_;
    page->reclaim.page = index;
    reclaimer_->Add(&page->reclaim, mapped_);
  } else {
    reclaimer_->Remove(&page->reclaim);
  }
}

void PageList::Forget(Page* page) {
  if (reclaimer_ != nullptr) reclaimer_->Remove(&page->reclaim);
  Count(page->kind, -1);
}

void PageList::SetAlwaysNeed(uint64_t index) {
  auto it = pages_.find(index);
  if (it == pages_.end()) return;
  it->second.always_need = true;
  UpdateReclaim(index, &it->second);
}

void PageList::Touch(uint64_t first, uint64_t end) {
  if (reclaimer_ == nullptr) return;
  for (auto it = pages_.lower_bound(first); it != pages_.end() && it->first < end; ++it) {
    reclaimer_->Touch(&it->second.reclaim);
  }
}

void PageList::MoveToReclaimFront(uint64_t first, uint64_t end) {
  if (reclaimer_ == nullptr) return;
  for (auto it = pages_.lower_bound(first); it != pages_.end() && it->first < end; ++it) {
    reclaimer_->MoveToFront(&it->second.reclaim);
  }
}

std::map<uint64_t, PageList::ZeroRange>::iterator PageList::FindZeroRange(uint64_t page) {
  auto it = zero_ranges_.upper_bound(page);
  if (it == zero_ranges_.begin()) return zero_ranges_.end();
  --it;
  return page < it->second.end ? it : zero_ranges_.end();
}

std::map<uint64_t, PageList::ZeroRange>::const_iterator PageList::FindZeroRange(
    uint64_t page) const {
  auto it = zero_ranges_.upper_bound(page);
  if (it == zero_ranges_.begin()) return zero_ranges_.end();
  --it;
  return page < it->second.end ? it : zero_ranges_.end();
}

void PageList::Mirror(uint64_t page, SlotKind kind) {
  if (page >= kMirrorPages) return;  // looked up in pages_ (Lookup)
  if (page >= kinds_.size()) {
    if (kind == SlotKind::kAbsent) return;
    kinds_.resize(std::max<uint64_t>(page + 1, kinds_.size() * 2));
  }
  kinds_[page] = static_cast<uint8_t>(kind);
}

SlotKind PageList::Lookup(uint64_t page) const {
  if (page < kinds_.size() && kinds_[page] != 0) return static_cast<SlotKind>(kinds_[page]);
  if (page >= kMirrorPages) {
    if (auto it = pages_.find(page); it != pages_.end()) return it->second.kind;
  }
  if (zero_ranges_.empty()) return SlotKind::kAbsent;
  return FindZeroRange(page) != zero_ranges_.end() ? SlotKind::kZeroRange : SlotKind::kAbsent;
}

void PageList::AbsentRun(uint64_t page, uint64_t low, uint64_t high, uint64_t* first,
                         uint64_t* end) const {
  *first = *end = page;
  if (Lookup(page) != SlotKind::kAbsent) return;
  // Pages and markers: a scan of kinds_ (everything past its end is absent), bounded by the
  // caller's window, which is cheaper than two walks of a large tree.
  const uint64_t n = kinds_.size();
  uint64_t hi = page + 1;
  while (hi < high && hi < n && kinds_[hi] == 0) ++hi;
  if (hi >= n) hi = std::max(hi, high);
  uint64_t lo = page;
  if (lo > n) lo = std::max(low, n);
  while (lo > low && lo <= n && kinds_[lo - 1] == 0) --lo;
  if (HasUnmirroredPages()) {
    // Pages beyond the mirror: the tree's nearest entries bound the run.
    if (auto it = pages_.upper_bound(page); it != pages_.end()) hi = std::min(hi, it->first);
    if (auto it = pages_.lower_bound(page); it != pages_.begin()) {
      lo = std::max(lo, std::prev(it)->first + 1);
    }
  }
  // Zero ranges are disjoint and `page` is in none: the nearest on either side bounds it.
  if (!zero_ranges_.empty()) {
    if (auto it = zero_ranges_.upper_bound(page); it != zero_ranges_.end()) {
      hi = std::min(hi, it->first);
    }
    if (auto it = zero_ranges_.upper_bound(page); it != zero_ranges_.begin()) {
      lo = std::max(lo, std::prev(it)->second.end);
    }
  }
  *first = lo;
  *end = std::min(hi, high);
}

uint64_t PageList::RunEnd(uint64_t page, uint64_t end,
                          const std::function<bool(SlotKind)>& pred) const {
  // Absent slots are not stored: a long absent stretch the run takes in is crossed in one
  // step to the next slot that has content (an unbounded VMO's ranges can be huge).
  constexpr uint64_t kSkipAfter = 256;
  const bool takes_absent = pred(SlotKind::kAbsent);
  while (page < end) {
    const SlotKind kind = Lookup(page);
    if (!pred(kind)) break;
    if (kind == SlotKind::kAbsent && takes_absent && end - page > kSkipAfter) {
      uint64_t next = end;
      if (auto it = pages_.lower_bound(page); it != pages_.end()) next = std::min(next, it->first);
      if (auto it = zero_ranges_.upper_bound(page); it != zero_ranges_.end()) {
        next = std::min(next, it->first);
      }
      page = next;
      continue;
    }
    ++page;
  }
  return page;
}

PageList::Page* PageList::FindPage(uint64_t page) {
  auto it = pages_.find(page);
  return it == pages_.end() ? nullptr : &it->second;
}

void PageList::SetPage(uint64_t page, SlotKind kind) {
  if (FindZeroRange(page) != zero_ranges_.end()) RemoveZeroRange(page, page + 1);
  auto [it, inserted] = pages_.try_emplace(page, Page{kind, false, ReclaimLink{}});
  if (inserted) {
    Count(kind, +1);
  } else if (IsRealPage(it->second.kind) != IsRealPage(kind)) {
    // Only a change between real page and marker moves the count (and the budget); a real
    // page changing state keeps its charge.
    Count(it->second.kind, -1);
    Count(kind, +1);
  }
  it->second.kind = kind;
  Mirror(page, kind);
  UpdateReclaim(page, &it->second);
}

void PageList::RemovePage(uint64_t page) {
  auto it = pages_.find(page);
  if (it == pages_.end()) return;
  Forget(&it->second);
  Mirror(page, SlotKind::kAbsent);
  pages_.erase(it);
}

void PageList::AddZeroRange(uint64_t first, uint64_t end) {
  if (first >= end) return;
  Erase(pages_.lower_bound(first), pages_.lower_bound(end));
  // Absorb every range touching or overlapping [first, end).
  uint64_t new_first = first;
  uint64_t new_end = end;
  // Nothing of a fresh range awaits cleaning; only a range that keeps its start keeps its
  // awaiting-clean extent (docs/zircon-semantics.md 10.5).
  uint64_t awaiting_end = 0;
  auto it = zero_ranges_.upper_bound(first);
  if (it != zero_ranges_.begin() && std::prev(it)->second.end >= first) --it;
  while (it != zero_ranges_.end() && it->first <= end) {
    new_first = std::min(new_first, it->first);
    new_end = std::max(new_end, it->second.end);
    if (it->first == new_first) awaiting_end = std::max(awaiting_end, it->second.awaiting_end);
    it = zero_ranges_.erase(it);
  }
  zero_ranges_[new_first] = ZeroRange{new_end, std::max(awaiting_end, new_first)};
}

void PageList::RemoveZeroRange(uint64_t first, uint64_t end) {
  auto it = zero_ranges_.upper_bound(first);
  if (it != zero_ranges_.begin()) --it;
  while (it != zero_ranges_.end() && it->first < end) {
    const uint64_t r_first = it->first;
    const ZeroRange r = it->second;
    if (r.end <= first) {
      ++it;
      continue;
    }
    it = zero_ranges_.erase(it);
    if (r_first < first) zero_ranges_[r_first] = ZeroRange{first, r.awaiting_end};
    if (r.end > end) {
      // The tail keeps its original awaiting-clean extent (10.5).
      zero_ranges_[end] = ZeroRange{r.end, std::max(end, r.awaiting_end)};
      it = zero_ranges_.find(end);
      ++it;
    }
  }
}

void PageList::Truncate(uint64_t pages) {
  Erase(pages_.lower_bound(pages), pages_.end());
  if (kinds_.size() > pages) kinds_.resize(pages);
  RemoveZeroRange(pages, UINT64_MAX);
}

}  // namespace upager::internal

// PageList: what each page slot of a VMO holds (10.1), without the content itself.
//
// A slot is absent, a real page (Clean, Dirty or AwaitingClean), a zero marker (a clean
// page of zeros with no storage), or part of a dirty zero range (zeros that the pager has
// not written back yet, with no storage). Real pages' bytes live in the VMO's memfd at the
// same offset; every other slot is a hole there.
// Section numbers refer to docs/zircon-semantics.md.
#ifndef UPAGER_SRC_VM_PAGE_LIST_H_
#define UPAGER_SRC_VM_PAGE_LIST_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <map>
#include <vector>

#include "vm/node_pool.h"
#include "vm/page_reclaimer.h"

namespace upager::internal {

enum class SlotKind { kAbsent, kClean, kDirty, kAwaitingClean, kMarker, kZeroRange };

// Pages are counted in page units (index = offset / kPageSize) throughout.
//
// With a PageReclaimer (pager-backed VMOs), the list charges every real page to the budget
// and keeps its evictable pages (Clean, not always-need) in the reclaim order. All calls
// are made with the owning VMO's lock held.
class PageList {
 public:
  struct Page {
    SlotKind kind;  // kClean, kDirty, kAwaitingClean or kMarker
    bool always_need = false;
    ReclaimLink reclaim;
  };

  PageList() = default;
  PageList(PageReclaimer* reclaimer, VmObjectPaged* owner) : reclaimer_(reclaimer), owner_(owner) {}
  ~PageList();
  PageList(const PageList&) = delete;
  PageList& operator=(const PageList&) = delete;
  // A dirty zero range [first, end). Pages before `awaiting_end` were covered by a
  // WRITEBACK_BEGIN that saw this range start (10.5); pieces split off keep the value.
  struct ZeroRange {
    uint64_t end;
    uint64_t awaiting_end;
  };

  SlotKind Lookup(uint64_t page) const;
  bool IsRealPage(SlotKind kind) const {
    return kind == SlotKind::kClean || kind == SlotKind::kDirty || kind == SlotKind::kAwaitingClean;
  }
  // The end of the run starting at `page` (bounded by `end`) whose slots satisfy `pred`.
  uint64_t RunEnd(uint64_t page, uint64_t end, const std::function<bool(SlotKind)>& pred) const;

  // The run of absent slots around `page`, inside [low, high) (low <= page < high): sets
  // [*first, *end) to it, or to the empty run at `page` if that slot is not absent.
  void AbsentRun(uint64_t page, uint64_t low, uint64_t high, uint64_t* first, uint64_t* end) const;

  // Makes `page` a real page or marker of `kind`, taking it out of any zero range.
  void SetPage(uint64_t page, SlotKind kind);
  Page* FindPage(uint64_t page);
  // Makes a page or marker absent (no effect on zero ranges).
  void RemovePage(uint64_t page);
  // Makes every page and marker in [first, end) absent (no effect on zero ranges), in bulk:
  // one lock of the reclaimer and one release of the budget for all of them.
  void RemoveRange(uint64_t first, uint64_t end);
  // Finds the first page or marker at or after `from` whose kind satisfies `drop`, and
  // removes it with the consecutive slots after it that satisfy `drop` too, in bulk (as
  // RemoveRange). Returns false if there is none; otherwise [*first, *end) is the run removed.
  bool RemoveNextRun(uint64_t from, bool (*drop)(SlotKind), uint64_t* first, uint64_t* end);
  // Removes the `n` pages at `pages` (ascending), every one a page the reclaimer has taken
  // out of its order already (PageReclaimer::TakeFront): one release of the budget for all.
  void RemoveTaken(const uint64_t* pages, size_t n);
  // Whether every slot of [first, end) is absent (no page, marker or zero range there).
  bool IsAbsent(uint64_t first, uint64_t end) const;
  // ALWAYS_NEED: the page is never evicted from now on.
  void SetAlwaysNeed(uint64_t page);
  // Whether the VMO has mappings: pages that become evictable then start with the CLOCK's
  // referenced bit set (they may be in a mapping's page tables already, and used there).
  void set_mapped(bool mapped) { mapped_ = mapped; }
  // A read used these pages / DONT_NEED: move them in the reclaim order.
  void Touch(uint64_t first, uint64_t end);
  void MoveToReclaimFront(uint64_t first, uint64_t end);
  // Makes [first, end) a dirty zero range, dropping pages and markers there; merges with
  // touching ranges.
  void AddZeroRange(uint64_t first, uint64_t end);
  // Takes [first, end) out of the zero ranges (the slots become absent unless set again).
  void RemoveZeroRange(uint64_t first, uint64_t end);
  // Drops every slot at or beyond `pages`.
  void Truncate(uint64_t pages);

  uint64_t committed_pages() const { return real_pages_; }

  // The pages and markers by index, their nodes from the list's own pool (node_pool.h).
  using PageMap =
      std::map<uint64_t, Page, std::less<>, PoolAllocator<std::pair<const uint64_t, Page>>>;
  // Direct access for the walks of writeback and dirty-range queries.
  PageMap& pages() { return pages_; }
  const PageMap& pages() const { return pages_; }
  std::map<uint64_t, ZeroRange>& zero_ranges() { return zero_ranges_; }
  const std::map<uint64_t, ZeroRange>& zero_ranges() const { return zero_ranges_; }
  // The zero range containing `page`, or zero_ranges().end().
  std::map<uint64_t, ZeroRange>::iterator FindZeroRange(uint64_t page);
  std::map<uint64_t, ZeroRange>::const_iterator FindZeroRange(uint64_t page) const;

 private:
  // Erases [first, last) of pages_, in bulk; returns `last`.
  PageMap::iterator Erase(PageMap::iterator first, PageMap::iterator last);
  void Count(SlotKind kind, int delta);
  // Records the kind of pages_'s entry at `page` (or its removal) in kinds_.
  void Mirror(uint64_t page, SlotKind kind);
  // Links or unlinks the page in the reclaim order after its state changed.
  void UpdateReclaim(uint64_t index, Page* page);
  // Takes the page out of the reclaim order and uncharges it before it is erased.
  void Forget(Page* page);

  PageReclaimer* const reclaimer_ = nullptr;
  VmObjectPaged* const owner_ = nullptr;
  // The kind of every entry of pages_ by page index (0: none there), so that a lookup, the
  // hottest operation of a fault, is an array read rather than a walk of the tree.
  // Grows as pages are set; kept in step by every change to pages_.
  // Only pages below kMirrorPages are mirrored (an unbounded VMO's pages may be anywhere
  // below kMaxVmoSize); a lookup beyond falls back to the tree.
  static constexpr uint64_t kMirrorPages = uint64_t{1} << 24;  // 64 GiB of VMO, 16 MiB
  std::vector<uint8_t> kinds_;
  // Whether pages_ holds an entry at or beyond kMirrorPages (O(1): the tree's last key).
  bool HasUnmirroredPages() const {
    return !pages_.empty() && std::prev(pages_.end())->first >= kMirrorPages;
  }
  NodePool pool_;  // before pages_, which gives its nodes back to it
  PageMap pages_{PageMap::allocator_type(&pool_)};
  std::map<uint64_t, ZeroRange> zero_ranges_;  // keyed by first page; disjoint
  uint64_t real_pages_ = 0;
  bool mapped_ = false;
};

}  // namespace upager::internal

#endif  // UPAGER_SRC_VM_PAGE_LIST_H_

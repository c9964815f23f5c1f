// PageReclaimer: keeps pager-backed VMOs within a PageBudget by evicting clean pages.
//
// Every real page of a pager-backed VMO (Clean, Dirty, AwaitingClean) is charged to the
// budget. Clean pages that are not flagged always-need sit in one process-wide list in
// reclaim order: least recently supplied, read or checked first, DONT_NEED pages moved to
// the front. When the budget is exceeded, pages are evicted from the front: the slot
// becomes absent, so the next access asks the pager again (15). Dirty and AwaitingClean
// pages are never evicted; if nothing can be evicted, a supplier waits for memory through
// the AnonymousPageRequester.
//
// Loads and stores of a page mapped in a process's page tables are invisible, so with the
// clock on (the fault service's userfaultfd has MINOR faults) the front of the list is a
// CLOCK hand: a page whose referenced bit is set (it may have been used through a mapping
// since the hand last passed) gets a second chance instead: the bit is cleared, the page
// is unmapped from every mapping while it stays in the memfd, and it goes to the back. A
// use through a mapping then takes a MINOR fault, which maps it back and sets the bit.
// Without the clock, the order is the list's alone (docs/eviction.md), and pages go in
// batches: as many pages from the front as are needed and belong to the same VMO, under one
// lock of that VMO, one hole punch a run of consecutive pages (the pages one-at-a-time
// eviction would take).
// Section numbers refer to docs/zircon-semantics.md.
#ifndef UPAGER_SRC_VM_PAGE_RECLAIMER_H_
#define UPAGER_SRC_VM_PAGE_RECLAIMER_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include <boost/intrusive/list.hpp>

#include "upager/anonymous_page_requester.h"
#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"
#include "upager/page_budget.h"
#include "upager/status.h"

namespace upager::internal {

class VmObjectPaged;

// A clean page's place in the reclaim order; lives in the page's PageList entry.
struct ReclaimLink : boost::intrusive::list_base_hook<> {
  VmObjectPaged* owner = nullptr;
  uint64_t page = 0;
  // The CLOCK's referenced bit: the page may have been used through a mapping since the
  // hand last unmapped it. Read and written with the owning VMO's lock held.
  bool referenced = false;
};

// What the hand did with the page at the front (VmObjectPaged::ReclaimStep).
enum class ReclaimStepResult {
  kEvicted,  // the page is gone
  kAged,     // referenced: the bit was cleared, the page unmapped and moved to the back
  kSkipped,  // not evictable any more (its state changed since it was chosen)
};

class PageReclaimer {
 public:
  explicit PageReclaimer(PageBudget* budget);
  // The reclaimer of PageBudget::Default(), used by every pager-backed VMO.
  static PageReclaimer& Default();

  PageBudget* budget() const { return budget_; }

  // Accounting of real pages (called with the owning VMO's lock held).
  void Charge(uint64_t pages) { budget_->Charge(pages); }
  void Release(uint64_t pages) { budget_->Free(pages); }

  // The reclaim order (called with the owning VMO's lock held; lock order VMO -> this).
  // Add: at the back (most recently used), with the referenced bit `referenced` if it was
  // not linked yet.
  void Add(ReclaimLink* link, bool referenced = false);
  void Remove(ReclaimLink* link);       // no-op if not linked
  void Touch(ReclaimLink* link);        // to the back, if linked
  void MoveToFront(ReclaimLink* link);  // DONT_NEED: first to go, bit cleared, if linked

  // Turns the CLOCK's second chance on or off (MappingObject: on when its userfaultfd
  // reports MINOR faults). Off, the hand evicts the front page whatever its bit.
  void SetClock(bool on) { clock_.store(on, std::memory_order_relaxed); }
  bool clock() const { return clock_.load(std::memory_order_relaxed); }
  // Unlinks the link of every element of [first, last) (`link_of(element)`) under one lock;
  // links not linked are skipped.
  template <typename It, typename LinkOf>
  void RemoveAll(It first, It last, LinkOf link_of) {
    MutexLock lock(&mutex_);
    for (; first != last; ++first) UnlinkLocked(link_of(*first));
  }
  // Called with `owner`'s lock held: takes the evictable pages at the front of the order that
  // belong to `owner`, up to `max`, out of the order and stores their indices in `pages`
  // (oldest first). Pages of a VMO being destroyed are passed over (its destructor releases
  // them); the first page of another VMO ends the take. Returns how many were taken.
  size_t TakeFront(const VmObjectPaged* owner, size_t max, uint64_t* pages);

  // Called with no VMO lock held. Evicts until `pages` more fit under the limit (at most
  // the whole limit is asked for); if nothing is evictable, waits until memory is freed.
  // kOk, or kIntrKilled if the thread was killed while waiting.
  Status MakeRoom(uint64_t pages);
  // MakeRoom that never waits: false if `pages` more do not fit once nothing more is
  // evictable. For threads that must not block (a fault thread's fast path).
  bool TryMakeRoom(uint64_t pages);
  // Called with no VMO lock held: evicts while the budget is exceeded.
  void ReclaimIfOver();
  // Evicts the first evictable page; false if there is none.
  bool EvictOne();
  // Evicts the first `max` evictable pages, or as many of them as belong to the VMO of the
  // first one, in one batch (one VMO lock, one hole punch a run of pages): the same pages,
  // in the same order, that `max` calls of EvictOne would evict. With the clock on, it is
  // those calls (the hand decides page by page). Returns how many went.
  uint64_t EvictSome(uint64_t max);
  size_t reclaimable_pages() const;

 private:
  using List = boost::intrusive::list<ReclaimLink, boost::intrusive::constant_time_size<true>>;

  void UnlinkLocked(ReclaimLink* link) UPAGER_REQUIRES(mutex_) {
    if (link->is_linked()) lru_.erase(lru_.iterator_to(*link));
  }
  // The VMO of the first evictable page whose VMO is not being destroyed, or null.
  std::shared_ptr<VmObjectPaged> FirstOwner();

  PageBudget* const budget_;
  const std::shared_ptr<AnonymousPageRequester> requester_;
  std::atomic<bool> clock_{false};
  mutable Mutex mutex_;
  List lru_ UPAGER_GUARDED_BY(mutex_);
};

}  // namespace upager::internal

#endif  // UPAGER_SRC_VM_PAGE_RECLAIMER_H_

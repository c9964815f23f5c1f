// PageBudget: how many pages of memory pager-backed VMOs (and their clones' own pages,
// docs/clones.md) may hold at once.
//
// The budget is the "physical memory" of upager. A VMO reserves a page before it stores
// one and releases it when the page goes (eviction, decommit, VMO destruction). When the
// budget is exhausted an allocation that may wait does so through AnonymousPageRequester,
// and is woken when pages are released or the limit is raised.
//
// Which pages go when the budget is exceeded (docs/eviction.md): clean pages that are not
// ALWAYS_NEED, least recently used first as far as the library can see. Vmo::Read moves a
// page to the back of the order, DONT_NEED to the front. Uses through a mapping are seen
// through a CLOCK with second chance: when the reclaimer's hand meets a page that may have
// been used through a mapping, it unmaps the page (it stays in memory) instead of evicting
// it, and a use after that takes a cheap userfaultfd MINOR fault that marks the page
// referenced; a page not used by the time the hand comes back is evicted. Where the kernel
// lacks MINOR faults on shmem with a write-protecting UFFDIO_CONTINUE (before Linux 6.5),
// or UPAGER_NO_MINOR_FAULTS is set, mapped pages go least recently supplied first (logged
// once). The cost (a madvise per second chance, a MINOR fault per use after one) is paid
// only while pages are being evicted; Counters::minor_faults and pages_aged count it.
#ifndef UPAGER_PAGE_BUDGET_H_
#define UPAGER_PAGE_BUDGET_H_

#include <cstdint>
#include <limits>

#include <boost/intrusive/list.hpp>

#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"
#include "upager/page_request.h"

namespace upager {

class PageBudget {
 public:
  static constexpr uint64_t kUnlimited = std::numeric_limits<uint64_t>::max();

  explicit PageBudget(uint64_t limit_pages = kUnlimited) : limit_(limit_pages) {}
  ~PageBudget();
  PageBudget(const PageBudget&) = delete;
  PageBudget& operator=(const PageBudget&) = delete;

  // The process-wide budget used by default (unlimited until set).
  static PageBudget& Default();

  // Reserves `pages` if they fit under the limit. Never blocks.
  bool TryAllocate(uint64_t pages);
  // Reserves `pages` whatever the limit (pages that exist already, or must); whoever
  // enforces the limit brings usage back under it, e.g. by evicting.
  void Charge(uint64_t pages);
  // Returns `pages` to the budget and wakes every waiter.
  void Free(uint64_t pages);
  // Wakes every waiter so that it retries: memory may have become reclaimable.
  void Poke();
  // Changes the limit; raising it wakes every waiter. Lowering it below what is in use
  // takes effect as pages are freed.
  void SetLimit(uint64_t limit_pages);

  uint64_t limit() const;
  uint64_t used() const;
  // Number of requests currently waiting for memory.
  size_t waiters() const;

 private:
  friend class AnonymousPageRequester;
  using WaiterList =
      boost::intrusive::list<PageRequest, boost::intrusive::base_hook<internal::ProviderListHook>,
                             boost::intrusive::constant_time_size<true>>;

  void WakeWaitersLocked() UPAGER_REQUIRES(mutex_);

  mutable internal::Mutex mutex_;
  uint64_t limit_ UPAGER_GUARDED_BY(mutex_);
  uint64_t used_ UPAGER_GUARDED_BY(mutex_) = 0;
  // Bumped whenever memory may have become available, so a waiter that filled its request
  // before the change does not sleep through it.
  uint64_t generation_ UPAGER_GUARDED_BY(mutex_) = 0;
  WaiterList waiters_ UPAGER_GUARDED_BY(mutex_);
};

}  // namespace upager

#endif  // UPAGER_PAGE_BUDGET_H_

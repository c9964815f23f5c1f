#include "vm/page_reclaimer.h"

#include <algorithm>

#include "vm/vm_object_paged.h"

namespace upager::internal {

PageReclaimer::PageReclaimer(PageBudget* budget)
    : budget_(budget), requester_(std::make_shared<AnonymousPageRequester>(budget)) {}

PageReclaimer& PageReclaimer::Default() {
  // Never destroyed: VMOs may release pages during static destruction.
  static auto* reclaimer = new PageReclaimer(&PageBudget::Default());
  return *reclaimer;
}

void PageReclaimer::Add(ReclaimLink* link, bool referenced) {
  {
    MutexLock lock(&mutex_);
    if (link->is_linked()) return;
    link->referenced = referenced;
    lru_.push_back(*link);
  }
  // A supplier waiting for memory can now evict this page.
  budget_->Poke();
}

void PageReclaimer::Remove(ReclaimLink* link) {
  MutexLock lock(&mutex_);
  if (link->is_linked()) lru_.erase(lru_.iterator_to(*link));
}

void PageReclaimer::Touch(ReclaimLink* link) {
  MutexLock lock(&mutex_);
  if (!link->is_linked()) return;
  lru_.erase(lru_.iterator_to(*link));
  lru_.push_back(*link);
}

void PageReclaimer::MoveToFront(ReclaimLink* link) {
  MutexLock lock(&mutex_);
  if (!link->is_linked()) return;
  link->referenced = false;
  lru_.erase(lru_.iterator_to(*link));
  lru_.push_front(*link);
}

size_t PageReclaimer::reclaimable_pages() const {
  MutexLock lock(&mutex_);
  return lru_.size();
}

std::shared_ptr<VmObjectPaged> PageReclaimer::FirstOwner() {
  MutexLock lock(&mutex_);
  for (ReclaimLink& link : lru_) {
    // A VMO being destroyed cannot be locked; its destructor unlinks its pages.
    if (auto owner = link.owner->weak_from_this().lock()) return owner;
  }
  return nullptr;
}

size_t PageReclaimer::TakeFront(const VmObjectPaged* owner, size_t max, uint64_t* pages) {
  MutexLock lock(&mutex_);
  size_t taken = 0;
  for (auto it = lru_.begin(); it != lru_.end() && taken < max;) {
    ReclaimLink& link = *it;
    if (link.owner != owner) {
      if (!link.owner->weak_from_this().expired()) break;
      ++it;  // its VMO is being destroyed: EvictOne would pass it over too
      continue;
    }
    pages[taken++] = link.page;
    it = lru_.erase(it);
  }
  return taken;
}

bool PageReclaimer::EvictOne() {
  // A page may change state between choosing it and locking its VMO; try a few. The hand
  // gives each page one second chance per call at most (then the bits are ignored), so a
  // storm of uses cannot keep it going round.
  int skipped = 0;
  size_t chances = 0;
  for (;;) {
    std::shared_ptr<VmObjectPaged> owner;
    uint64_t page = 0;
    {
      MutexLock lock(&mutex_);
      if (chances == 0) chances = lru_.size() + 1;
      for (ReclaimLink& link : lru_) {
        // A VMO being destroyed cannot be locked; its destructor unlinks its pages.
        owner = link.owner->weak_from_this().lock();
        if (owner) {
          page = link.page;
          break;
        }
      }
    }
    if (!owner) return false;
    const bool may_age = clock() && chances > 1;
    switch (owner->ReclaimStep(page, may_age)) {
      case ReclaimStepResult::kEvicted: return true;
      case ReclaimStepResult::kAged: --chances; break;
      case ReclaimStepResult::kSkipped:
        if (++skipped >= 8) return false;
        break;
    }
  }
}

uint64_t PageReclaimer::EvictSome(uint64_t max) {
  if (max == 0) return 0;
  if (clock()) {
    // The hand decides page by page (a page may get a second chance instead).
    uint64_t evicted = 0;
    while (evicted < max && EvictOne()) ++evicted;
    return evicted;
  }
  // The front may move to another VMO between choosing it and locking it; try a few.
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::shared_ptr<VmObjectPaged> owner = FirstOwner();
    if (!owner) return 0;
    if (const uint64_t evicted = owner->EvictFront(this, max); evicted != 0) return evicted;
  }
  return 0;
}

void PageReclaimer::ReclaimIfOver() {
  for (;;) {
    const uint64_t used = budget_->used();
    const uint64_t limit = budget_->limit();
    if (used <= limit || EvictSome(used - limit) == 0) return;
  }
}

bool PageReclaimer::TryMakeRoom(uint64_t pages) {
  for (;;) {
    const uint64_t limit = budget_->limit();
    if (pages > limit) return false;
    const uint64_t used = budget_->used();
    if (used <= limit - pages) return true;
    if (EvictSome(used - (limit - pages)) == 0) return false;
  }
}

Status PageReclaimer::MakeRoom(uint64_t pages) {
  for (;;) {
    const uint64_t limit = budget_->limit();
    const uint64_t wanted = std::min(pages, limit);
    const uint64_t used = budget_->used();
    if (used <= limit - wanted) return Status::kOk;
    if (EvictSome(used - (limit - wanted)) != 0) continue;
    PageRequest request;
    if (Status s = requester_->FillRequest(&request); s != Status::kShouldWait) return s;
    // Re-check after arming: memory freed in between wakes the wait at once.
    if (Status s = request.Wait(/*suspendable=*/false); s != Status::kOk) return s;
  }
}

}  // namespace upager::internal

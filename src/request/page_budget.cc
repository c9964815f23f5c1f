#include "upager/page_budget.h"

#include <algorithm>
#include <cassert>

namespace upager {

PageBudget::~PageBudget() {
  internal::MutexLock lock(&mutex_);
  assert(waiters_.empty());
}

PageBudget& PageBudget::Default() {
  // Never destroyed: VMOs may release pages during static destruction.
  static auto* budget = new PageBudget();
  return *budget;
}

bool PageBudget::TryAllocate(uint64_t pages) {
  internal::MutexLock lock(&mutex_);
  if (used_ > limit_ || pages > limit_ - used_) {
    return false;
  }
  used_ += pages;
  return true;
}

void PageBudget::Charge(uint64_t pages) {
  internal::MutexLock lock(&mutex_);
  used_ += pages;
}

void PageBudget::Free(uint64_t pages) {
  internal::MutexLock lock(&mutex_);
  assert(pages <= used_);
  used_ -= std::min(pages, used_);
  WakeWaitersLocked();
}

void PageBudget::Poke() {
  internal::MutexLock lock(&mutex_);
  if (!waiters_.empty()) WakeWaitersLocked();
}

void PageBudget::SetLimit(uint64_t limit_pages) {
  internal::MutexLock lock(&mutex_);
  const bool raised = limit_pages > limit_;
  limit_ = limit_pages;
  if (raised) {
    WakeWaitersLocked();
  }
}

uint64_t PageBudget::limit() const {
  internal::MutexLock lock(&mutex_);
  return limit_;
}

uint64_t PageBudget::used() const {
  internal::MutexLock lock(&mutex_);
  return used_;
}

size_t PageBudget::waiters() const {
  internal::MutexLock lock(&mutex_);
  return waiters_.size();
}

void PageBudget::WakeWaitersLocked() {
  ++generation_;
  while (!waiters_.empty()) {
    PageRequest& req = waiters_.front();
    waiters_.pop_front();
    req.event_.Signal(Status::kOk);
  }
}

}  // namespace upager

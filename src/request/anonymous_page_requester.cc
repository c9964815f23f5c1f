#include "upager/anonymous_page_requester.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "upager/thread.h"

namespace upager {

AnonymousPageRequester::~AnonymousPageRequester() = default;

AnonymousPageRequester& AnonymousPageRequester::Default() {
  // Never destroyed, like the default budget it serves.
  static auto* requester = new std::shared_ptr<AnonymousPageRequester>(
      std::make_shared<AnonymousPageRequester>(&PageBudget::Default()));
  return **requester;
}

Status AnonymousPageRequester::FillRequest(PageRequest* req) {
  if (req == nullptr || req->completion_ != nullptr || req->is_active()) {
    return Status::kInvalidArgs;
  }
  internal::MutexLock lock(&budget_->mutex_);
  PageRequest::Tracking& t = req->tracking_;
  req->event_.Unsignal();
  // A pseudo READ of one page, so that diagnostics can print it like any request.
  t.offset = 0;
  t.len = kPageSize;
  t.type = PageRequestType::kRead;
  t.complete_status = Status::kOk;
  t.budget_generation = budget_->generation_;
  if (req->src_.get() != this) {
    req->src_ = shared_from_this();
  }
  req->active_.store(true, std::memory_order_release);
  return Status::kShouldWait;
}

Status AnonymousPageRequester::WaitOnRequest(PageRequest* req, bool suspendable) {
  {
    internal::MutexLock lock(&budget_->mutex_);
    if (!req->is_active()) {
      return Status::kBadState;
    }
    const bool freed_since_fill = budget_->generation_ != req->tracking_.budget_generation;
    const bool has_room = budget_->used_ < budget_->limit_;
    if (freed_since_fill || has_room) {
      req->tracking_.offset = PageRequest::kUninitialized;
      req->active_.store(false, std::memory_order_release);
      return Status::kOk;
    }
    budget_->waiters_.push_back(*req);
  }

  // No timeout: memory comes back when someone frees it. Log while it takes long.
  const PagerTimeouts timeouts = GetPagerTimeouts();
  const auto start = std::chrono::steady_clock::now();
  Status status;
  for (;;) {
    const Deadline deadline = timeouts.overtime_wait.count() > 0
                                  ? DeadlineAfter(timeouts.overtime_wait)
                                  : kInfiniteDeadline;
    status = req->event_.Wait(deadline, suspendable);
    if (status != Status::kTimedOut) {
      break;
    }
    std::fprintf(stderr, "upager: thread waiting for memory for %lld ms\n",
                 static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::steady_clock::now() - start)
                                            .count()));
  }
  CancelRequest(req);
  return status;
}

void AnonymousPageRequester::CancelRequest(PageRequest* req) {
  internal::MutexLock lock(&budget_->mutex_);
  auto& hook = static_cast<internal::ProviderListHook&>(*req);
  if (hook.is_linked()) {
    budget_->waiters_.erase(budget_->waiters_.iterator_to(*req));
  }
  req->tracking_.offset = PageRequest::kUninitialized;
  req->active_.store(false, std::memory_order_release);
}

}  // namespace upager

// AnonymousPageRequester: "wait until memory can be allocated" through PageRequest::Wait.
//
// It is not a pager and produces no packets. VMO code that failed to reserve a page from
// its PageBudget fills a request here, drops its locks and waits exactly as it would for a
// pager; the wait ends when the budget may have room (pages freed or the limit raised), and
// the code retries its allocation.
#ifndef UPAGER_ANONYMOUS_PAGE_REQUESTER_H_
#define UPAGER_ANONYMOUS_PAGE_REQUESTER_H_

#include <chrono>
#include <memory>

#include "upager/page_budget.h"
#include "upager/page_request.h"
#include "upager/status.h"

namespace upager {

// Create with std::make_shared.
class AnonymousPageRequester final : public PageRequestInterface {
 public:
  explicit AnonymousPageRequester(PageBudget* budget) : budget_(budget) {}
  ~AnonymousPageRequester() override;

  // The requester for PageBudget::Default().
  static AnonymousPageRequester& Default();

  // Arms `req` (which must not be active) to wait for memory; returns kShouldWait, or
  // kInvalidArgs if `req` is active or asynchronous. The caller drops its locks and calls
  // req->Wait: kOk means "retry the allocation"; kIntrKilled / kIntrRetry as for pages.
  // A wait longer than the process's overtime_wait logs a line each time it passes.
  Status FillRequest(PageRequest* req);

  PageBudget* budget() const { return budget_; }

 private:
  void CancelRequest(PageRequest* req) override;
  Status WaitOnRequest(PageRequest* req, bool suspendable) override;

  PageBudget* const budget_;
};

}  // namespace upager

#endif  // UPAGER_ANONYMOUS_PAGE_REQUESTER_H_

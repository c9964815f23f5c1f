// The retry loop (docs/zircon-semantics.md 18.1) that every VMO operation needing content
// runs on the calling thread: look at the page list under the lock; when the pager is
// needed, populate a request, drop the lock, wait, and look again from where it was. A
// suspended waiter gets kIntrRetry: it parks until resumed and then carries on, which
// issues a new request (8). Not for use outside src/vm.
#ifndef UPAGER_SRC_VM_RETRY_LOOP_H_
#define UPAGER_SRC_VM_RETRY_LOOP_H_

#include "base/deferred_wakeups.h"
#include "upager/page_request.h"
#include "upager/status.h"
#include "upager/thread.h"

namespace upager::internal {

inline Status WaitOnRequest(PageRequest* req) {
  Status status = req->Wait(/*suspendable=*/true);
  if (status == Status::kIntrRetry) {
    status = ParkWhileSuspended();
  }
  return status;
}

// Runs `attempt(LazyPageRequest&)` until it is done. An attempt takes the VMO lock itself,
// looks at the page list, and either ends the operation (any status but kShouldWait is
// returned as it is) or populates the request (GetPages, RequestDirtyTransition) and returns
// what that returned: on kShouldWait the loop waits on the request with no lock held and
// tries again (the attempt keeps its progress in its captures); a failed wait ends the
// operation with the wait's status. Packets queued under the lock wake their reader once
// the attempt has let go of it.
template <typename Attempt>
Status RunRetryLoop(bool early_wake, Attempt&& attempt) {
  LazyPageRequest req(early_wake);
  for (;;) {
    Status status;
    {
      DeferredWakeups defer;
      status = attempt(req);
    }
    if (status != Status::kShouldWait) return status;
    if (status = WaitOnRequest(req.get()); status != Status::kOk) return status;
  }
}

}  // namespace upager::internal

#endif  // UPAGER_SRC_VM_RETRY_LOOP_H_

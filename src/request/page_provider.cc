#include "upager/page_provider.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "upager/thread.h"

namespace upager {

PageProvider::~PageProvider() = default;

PageRequestType PageProvider::GetRequestType(const PageRequest* request) {
  return request->tracking_.type;
}
uint64_t PageProvider::GetRequestOffset(const PageRequest* request) {
  return request->tracking_.offset;
}
uint64_t PageProvider::GetRequestLen(const PageRequest* request) { return request->tracking_.len; }
const VmoDebugInfo& PageProvider::GetRequestVmoDebugInfo(const PageRequest* request) {
  return request->tracking_.vmo_debug_info;
}

void PageProvider::Dump(std::ostream& /*os*/, uint32_t /*max_items*/) const {}

Status PageProvider::WaitOnEventWithTimeouts(Event* event, bool suspendable) {
  using std::chrono::milliseconds;
  using std::chrono::steady_clock;
  const PagerTimeouts timeouts = GetPagerTimeouts();
  const steady_clock::time_point start = steady_clock::now();
  const Deadline give_up =
      timeouts.overtime_timeout.count() > 0 ? start + timeouts.overtime_timeout : kInfiniteDeadline;
  for (;;) {
    Deadline deadline = give_up;
    if (timeouts.overtime_wait.count() > 0) {
      deadline = std::min(deadline, DeadlineAfter(timeouts.overtime_wait));
    }
    const Status status = event->Wait(deadline, suspendable);
    if (status != Status::kTimedOut) {
      return status;
    }
    const auto waited =
        std::chrono::duration_cast<milliseconds>(steady_clock::now() - start).count();
    if (steady_clock::now() >= give_up) {
      std::fprintf(stderr, "upager: page request timed out after %lld ms\n",
                   static_cast<long long>(waited));
      return Status::kTimedOut;
    }
    std::fprintf(stderr, "upager: thread blocked on a page request for %lld ms\n",
                 static_cast<long long>(waited));
  }
}

}  // namespace upager

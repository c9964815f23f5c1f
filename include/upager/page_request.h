// PageRequest: one waiter's outstanding need for pages, and the objects around it.
//
// A PageRequest is allocated by the thread that needs pages (usually on its stack) and is
// itself the storage the PageSource uses to track it: it carries the intrusive hooks of the
// source's ordered set, of a primary's overlap list and of a provider's queue. Populating,
// resolving and cancelling a request therefore never allocates.
#ifndef UPAGER_PAGE_REQUEST_H_
#define UPAGER_PAGE_REQUEST_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>

#include <boost/intrusive/list.hpp>
#include <boost/intrusive/set.hpp>

#include "upager/event.h"
#include "upager/status.h"

namespace upager {

enum class PageRequestType : uint32_t { kRead = 0, kDirty = 1, kWriteback = 2 };
inline constexpr size_t kNumPageRequestTypes = 3;
// "READ", "DIRTY" or "WRITEBACK".
const char* PageRequestTypeString(PageRequestType type);

// Identifies the VMO a request is for, in diagnostics only.
struct VmoDebugInfo {
  uint64_t vmo_id;
  char vmo_name[32];
};

// What a PageProvider is; fixed for the provider's lifetime.
struct PageSourceProperties {
  bool is_user_pager;
  bool is_preserving_page_content;
  bool is_providing_specific_physical_pages;
  bool is_handling_free;
};

class PageRequest;

// How an asynchronous waiter learns that its request was signalled. A fault handler must
// never block, so instead of calling Wait it gives its requests a completion.
class PageRequestCompletion {
 public:
  // Called each time `request` is signalled: when it completes (the request is no longer
  // active and its owner may reuse or destroy it) and when it is early-woken (still
  // active). Runs with the source's lock held: it must not block and must not call into
  // the PageSource (queue the work instead).
  virtual void OnPageRequestSignaled(PageRequest* request, Status status) = 0;

 protected:
  virtual ~PageRequestCompletion() = default;
};

// What a PageRequest talks back to: the PageSource that tracks it, or the
// AnonymousPageRequester. Holding a shared reference keeps it alive while a waiter sleeps.
class PageRequestInterface : public std::enable_shared_from_this<PageRequestInterface> {
 public:
  virtual ~PageRequestInterface();

 protected:
  PageRequestInterface() = default;

 private:
  friend class PageRequest;
  virtual void CancelRequest(PageRequest* request) = 0;
  // Called with no locks held.
  virtual Status WaitOnRequest(PageRequest* request, bool suspendable) = 0;
};

namespace internal {
struct SourceSetTag;
struct OverlapListTag;
struct ProviderListTag;
// Membership of a primary in its source's ordered set.
using SourceSetHook = boost::intrusive::set_base_hook<boost::intrusive::tag<SourceSetTag>>;
// Membership of a secondary in its primary's overlap list.
using OverlapListHook = boost::intrusive::list_base_hook<boost::intrusive::tag<OverlapListTag>>;
// Membership in a provider's queue (or a page budget's waiter list).
using ProviderListHook = boost::intrusive::list_base_hook<boost::intrusive::tag<ProviderListTag>>;
}  // namespace internal

// One outstanding need for pages [offset, offset+len) of one type. Not copyable or movable:
// the source links it into its containers by address.
//
// Lifecycle: a VMO operation passes the request to PageSource::GetPages or
// RequestDirtyTransition (which returns kShouldWait), drops its locks and calls Wait. After
// Wait returns kOk the caller re-checks its pages and may populate again. The destructor
// cancels a request that is still active.
//
// An asynchronous request (constructed with a PageRequestCompletion) is never waited on;
// its completion is called instead.
class PageRequest : public internal::SourceSetHook,
                    public internal::OverlapListHook,
                    public internal::ProviderListHook {
 public:
  PageRequest() : PageRequest(false) {}
  explicit PageRequest(bool early_wake) : PageRequest(early_wake, nullptr) {}
  PageRequest(bool early_wake, PageRequestCompletion* completion);
  ~PageRequest();
  PageRequest(const PageRequest&) = delete;
  PageRequest& operator=(const PageRequest&) = delete;

  // Waits until the request is resolved (or early-woken). Returns kOk (re-check the pages),
  // the failure code attributed to the first page this waiter needs, kIntrKilled,
  // kIntrRetry (only if `suspendable`) or kTimedOut. On the last three the request has been
  // cancelled. Waiting on a request that was never populated returns kBadState; waiting on
  // an asynchronous request returns kNotSupported.
  Status Wait(bool suspendable);

  // Withdraws the request from its source. No-op if it is not active.
  void CancelRequest();

  bool early_wake() const { return early_wake_; }
  // True from population until completion or cancellation. Exact when read by the
  // request's owner; from other threads a snapshot.
  bool is_active() const { return active_.load(std::memory_order_acquire); }

 private:
  friend class PageSource;
  friend class PageProvider;
  friend class AnonymousPageRequester;
  friend class PageBudget;

  static constexpr uint64_t kUninitialized = std::numeric_limits<uint64_t>::max();

  using OverlapList =
      boost::intrusive::list<PageRequest, boost::intrusive::base_hook<internal::OverlapListHook>,
                             boost::intrusive::constant_time_size<true>>;

  // The state a source keeps in the request. Guarded by the lock of the source in src_; a
  // PageSource reaches it only through an accessor that requires that lock.
  struct Tracking {
    uint64_t offset = kUninitialized;  // kUninitialized <=> not active
    uint64_t len = 0;
    PageRequestType type = PageRequestType::kRead;
    // Request-relative offset at which an early-wake waiter wants to be woken next;
    // kUninitialized when early wake is off.
    uint64_t wake_offset = kUninitialized;
    // Bytes not yet resolved; meaningful for primaries only.
    uint64_t pending_size = 0;
    // What the waiter will be told.
    Status complete_status = Status::kOk;
    // True between SendAsyncRequest and ClearAsyncRequest/SwapAsyncRequest; offset, len and
    // type must not change meanwhile.
    bool provider_owned = false;
    VmoDebugInfo vmo_debug_info{};
    // For a request waiting on a PageBudget: the budget's generation when it was filled.
    uint64_t budget_generation = 0;
    // Telemetry of a sent request: when it was sent (0: not measured) and its trace id.
    uint64_t sent_ns = 0;
    uint64_t trace_id = 0;
    // Secondaries contained in this primary, in arrival order.
    OverlapList overlap;
  };

  // Signals the waiter: the completion if there is one, else the event.
  void Signal(Status status);

  // Set by the owner when it populates the request; only the owner writes it.
  std::shared_ptr<PageRequestInterface> src_;
  const bool early_wake_;
  PageRequestCompletion* const completion_;
  Event event_;
  // Mirrors tracking_.offset != kUninitialized, readable without the source lock.
  std::atomic<bool> active_{false};
  Tracking tracking_;
};

// A PageRequest constructed on first use, so that the common path that never waits pays
// nothing for it.
class LazyPageRequest {
 public:
  LazyPageRequest() : LazyPageRequest(false) {}
  explicit LazyPageRequest(bool early_wake) : early_wake_(early_wake) {}
  LazyPageRequest(const LazyPageRequest&) = delete;
  LazyPageRequest& operator=(const LazyPageRequest&) = delete;

  PageRequest* get() {
    if (!request_) {
      request_.emplace(early_wake_);
    }
    return &*request_;
  }
  PageRequest* operator->() { return get(); }
  PageRequest& operator*() { return *get(); }
  bool is_initialized() const { return request_.has_value(); }

 private:
  const bool early_wake_;
  std::optional<PageRequest> request_;
};

class AnonymousPageRequester;

// A request to wait for memory plus a (lazy) request to wait for pages; exactly one of the
// two may be active at a time. VMO code that may need to allocate or to ask the pager in one
// step hands this around and waits on whichever it used.
class MultiPageRequest {
 public:
  MultiPageRequest() : MultiPageRequest(false) {}
  explicit MultiPageRequest(bool early_wake) : page_request_(early_wake) {}
  MultiPageRequest(const MultiPageRequest&) = delete;
  MultiPageRequest& operator=(const MultiPageRequest&) = delete;
  ~MultiPageRequest() { CancelRequests(); }

  // Makes the anonymous request active: Wait then blocks until `requester`'s budget may
  // satisfy an allocation. Returns kShouldWait, or kBadState if a page request is active.
  Status MakeAnonymousActive(AnonymousPageRequester& requester);
  bool is_anonymous_active() const { return anonymous_.is_active(); }

  // The page request, for PageSource::GetPages or RequestDirtyTransition. Do not populate
  // it while the anonymous request is active.
  PageRequest* GetPageRequest() { return page_request_.get(); }
  LazyPageRequest* GetLazyRequest() { return &page_request_; }
  bool is_page_request_active() {
    return page_request_.is_initialized() && page_request_->is_active();
  }

  // Waits on the active request; kBadState if none is active.
  Status Wait(bool suspendable = true);
  // Cancels whichever request is active.
  void CancelRequests();

 private:
  PageRequest anonymous_;
  LazyPageRequest page_request_;
};

}  // namespace upager

#endif  // UPAGER_PAGE_REQUEST_H_

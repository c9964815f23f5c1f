// PageSource: tracks the outstanding page requests of one pager-backed VMO.
//
// It is the de-duplication point: requests of one type are kept as disjoint *primaries* in
// an ordered set keyed by end offset; a new request that falls inside a primary waits on it
// as a *secondary*, one that overlaps the start of a primary is clipped to its unique
// prefix. Only primaries reach the PageProvider, so 32 threads faulting one page produce
// one request. When pages arrive (OnPagesSupplied / OnPagesDirtied) or fail, it wakes the
// waiters whose requests are resolved, early-wakes those that asked to be, and attributes
// a failure to a waiter only if it hits the first page that waiter still needs.
#ifndef UPAGER_PAGE_SOURCE_H_
#define UPAGER_PAGE_SOURCE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <ostream>

#include <boost/intrusive/set.hpp>

#include "upager/anonymous_page_requester.h"
#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"
#include "upager/page_provider.h"
#include "upager/page_request.h"
#include "upager/status.h"

namespace upager {

// Create with std::make_shared (a waiting request holds a reference to its source).
class PageSource final : public PageRequestInterface {
 public:
  explicit PageSource(std::shared_ptr<PageProvider> provider);
  ~PageSource() override;
  PageSource(const PageSource&) = delete;
  PageSource& operator=(const PageSource&) = delete;

  // Asks for the content of [offset, offset+len) (READ). Returns kShouldWait: the caller
  // must drop its locks and call req->Wait. Errors: kInvalidArgs for a zero-length or
  // misaligned range, or a request that is still active with another source or type;
  // kOutOfRange if the range overflows; kNotSupported if the provider does not do READ;
  // kBadState once detached. An early-wake request that is still active and whose range
  // contains `offset` is re-armed to wake at `offset` (no new request).
  Status GetPages(uint64_t offset, uint64_t len, PageRequest* req, VmoDebugInfo info);

  // Asks for permission to dirty [offset, offset+len) (DIRTY); as GetPages.
  Status RequestDirtyTransition(PageRequest* req, uint64_t offset, uint64_t len, VmoDebugInfo info);

  // The VMO reports runs that newly became present (READ) or Dirty (DIRTY). Only real state
  // changes may be reported: the source counts resolved bytes, not pages. Ranges that are
  // misaligned or overflow are ignored (and assert in debug builds). No-op after Detach.
  void OnPagesSupplied(uint64_t offset, uint64_t len);
  void OnPagesDirtied(uint64_t offset, uint64_t len);
  // Fails requests of every supported type intersecting the range with `error`, which must
  // be a valid internal failure code; an invalid one is ignored (and asserts in debug
  // builds). No-op after Detach.
  void OnPagesFailed(uint64_t offset, uint64_t len, Status error);

  // Codes a user pager may fail requests with: kIo, kIoDataIntegrity, kBadState, kNoSpace,
  // kBufferTooSmall.
  static bool IsValidExternalFailureCode(Status status);
  // Those plus kNoMemory (kernel-internal providers).
  static bool IsValidInternalFailureCode(Status status);

  // True if the provider handles DIRTY requests (a kVmoTrapDirty VMO).
  bool ShouldTrapDirtyTransitions() const;

  // Completes every outstanding READ and DIRTY request (their waiters retry and then get
  // kBadState), refuses new ones and tells the provider (OnDetach). Idempotent.
  void Detach();
  // Detaches if needed, then tells the provider OnClose. Idempotent.
  void Close();
  bool is_detached() const;
  bool is_closed() const;

  const PageSourceProperties& properties() const;

  // Number of primaries of `type` being tracked (diagnostics and tests).
  size_t OutstandingRequests(PageRequestType type) const;

  // Outstanding requests, at most `max_items` per type: primaries with "[sent]" and their
  // number of secondaries, then the provider's own dump.
  void Dump(std::ostream& os, uint32_t max_items) const;

 private:
  // Orders primaries by end offset.
  struct RequestEnd {
    using type = uint64_t;
    uint64_t operator()(const PageRequest& r) const { return r.tracking_.offset + r.tracking_.len; }
  };
  using RequestSet =
      boost::intrusive::set<PageRequest, boost::intrusive::base_hook<internal::SourceSetHook>,
                            boost::intrusive::key_of_value<RequestEnd>,
                            boost::intrusive::constant_time_size<true>>;

  void CancelRequest(PageRequest* req) override;
  Status WaitOnRequest(PageRequest* req, bool suspendable) override;

  Status PopulateRequest(PageRequest* req, uint64_t offset, uint64_t len, PageRequestType type,
                         const VmoDebugInfo& info);
  void ResolveRequestsLocked(PageRequestType type, uint64_t offset, uint64_t len, Status status)
      UPAGER_REQUIRES(mutex_);
  void EarlyWakeLocked(PageRequest* primary, uint64_t rel_start, uint64_t rel_end)
      UPAGER_REQUIRES(mutex_);
  void CompleteLocked(PageRequest* primary) UPAGER_REQUIRES(mutex_);
  void CancelRequestLocked(PageRequest* req) UPAGER_REQUIRES(mutex_);
  void DetachLocked() UPAGER_REQUIRES(mutex_);
  void Uninitialize(PageRequest* req) UPAGER_REQUIRES(mutex_);

  // The tracking state of a request owned by this source.
  PageRequest::Tracking& T(PageRequest* req) UPAGER_REQUIRES(mutex_) { return req->tracking_; }
  RequestSet& SetFor(PageRequestType type) UPAGER_REQUIRES(mutex_) {
    return outstanding_[static_cast<size_t>(type)];
  }

  const std::shared_ptr<PageProvider> provider_;
  mutable internal::Mutex mutex_;
  bool detached_ UPAGER_GUARDED_BY(mutex_) = false;
  bool closed_ UPAGER_GUARDED_BY(mutex_) = false;
  std::array<RequestSet, kNumPageRequestTypes> outstanding_ UPAGER_GUARDED_BY(mutex_);
};

}  // namespace upager

#endif  // UPAGER_PAGE_SOURCE_H_

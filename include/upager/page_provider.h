// PageProvider: the back end of a PageSource, the thing that actually obtains pages.
//
// The PageSource decides which ranges are worth asking for (only unique ones) and calls the
// provider; the provider delivers those asks somewhere (port packets for a user pager, a
// worker thread, a file) and later someone calls PageSource::OnPagesSupplied / Failed.
// Section numbers refer to docs/zircon-semantics.md.
#ifndef UPAGER_PAGE_PROVIDER_H_
#define UPAGER_PAGE_PROVIDER_H_

#include <cstdint>
#include <ostream>

#include <boost/intrusive/list.hpp>

#include "upager/page_request.h"
#include "upager/status.h"

namespace upager {

// Contract (all calls from the PageSource, with the source's lock held unless noted):
// - SendAsyncRequest(r): r is a new primary; its type/offset/len may be read (through the
//   static getters) until ClearAsyncRequest(r) or SwapAsyncRequest(r, ...) is called.
// - ClearAsyncRequest(r): r is resolved or cancelled; forget it (withdraw anything queued).
// - SwapAsyncRequest(old, new): `new` replaces `old` with identical type/offset/len; keep
//   its place in any queue.
// - OnDetach(), then OnClose(), each at most once; no Send after OnDetach, nothing but
//   WaitOnEvent after OnClose.
// - WaitOnEvent(event, suspendable): called with no lock held by a thread waiting on one
//   of this provider's requests; normally WaitOnEventWithTimeouts.
// A provider may take its own lock inside these calls (lock order: source, then provider),
// and must never call into the PageSource while holding that lock.
class PageProvider {
 public:
  virtual ~PageProvider();

 protected:
  static PageRequestType GetRequestType(const PageRequest* request);
  static uint64_t GetRequestOffset(const PageRequest* request);
  static uint64_t GetRequestLen(const PageRequest* request);
  static const VmoDebugInfo& GetRequestVmoDebugInfo(const PageRequest* request);

  // A FIFO of requests for a provider's own use (a pending queue). It links through a hook
  // every PageRequest carries for its provider, so queueing allocates nothing. A request may
  // be in one such list at a time, between Send and Clear/Swap.
  using RequestList =
      boost::intrusive::list<PageRequest, boost::intrusive::base_hook<internal::ProviderListHook>,
                             boost::intrusive::constant_time_size<true>>;

  // The waiting policy of Zircon's user pager (5.2): marks nothing, waits on `event` in
  // slices of the process's overtime_wait (logging a line each time one passes) until it is
  // signalled, the thread is killed or (if `suspendable`) suspended, or the total wait
  // reaches overtime_timeout (kTimedOut).
  static Status WaitOnEventWithTimeouts(Event* event, bool suspendable);

 private:
  friend class PageSource;
  virtual const PageSourceProperties& properties() const = 0;
  virtual void SendAsyncRequest(PageRequest* request) = 0;
  virtual void ClearAsyncRequest(PageRequest* request) = 0;
  virtual void SwapAsyncRequest(PageRequest* old_request, PageRequest* new_request) = 0;
  virtual void OnDetach() = 0;
  virtual void OnClose() = 0;
  virtual Status WaitOnEvent(Event* event, bool suspendable) = 0;
  virtual bool SupportsPageRequestType(PageRequestType type) const = 0;
  // Optional diagnostics, appended to PageSource::Dump.
  virtual void Dump(std::ostream& os, uint32_t max_items) const;
};

}  // namespace upager

#endif  // UPAGER_PAGE_PROVIDER_H_

#include "pager/pager_proxy.h"

#include <cassert>
#include <chrono>
#include <utility>

#include "base/clock.h"
#include "vm/fault_filler.h"

namespace upager::internal {
namespace {

// A user pager: content is preserved (pages are never discarded behind its back) and it
// does not provide specific physical pages.
constexpr PageSourceProperties kProperties{
    .is_user_pager = true,
    .is_preserving_page_content = true,
    .is_providing_specific_physical_pages = false,
    .is_handling_free = false,
};

// The hook that links a request into a provider's RequestList; linked <=> in pending_,
// since a request sent to this proxy is in no other such list.
bool IsInProviderList(PageRequest* request) {
  return static_cast<ProviderListHook*>(request)->is_linked();
}

}  // namespace

PagerProxy::PagerProxy(std::shared_ptr<PortObject> port, uint64_t key, bool trap_dirty)
    : port_(std::move(port)), key_(key), trap_dirty_(trap_dirty) {
  assert(port_ != nullptr);
}

PagerProxy::~PagerProxy() {
  // Nothing is queued (the port would hold a reference) and the source is gone, so only
  // the COMPLETE sentinel can still be pending; unlink it before it is destroyed.
  MutexLock lock(&mutex_);
  pending_.clear();
}

void PagerProxy::SetSource(std::weak_ptr<PageSource> source) {
  MutexLock lock(&mutex_);
  source_key_ = source.lock().get();
  source_ = std::move(source);
}

const PageSourceProperties& PagerProxy::properties() const { return kProperties; }

bool PagerProxy::SupportsPageRequestType(PageRequestType type) const {
  switch (type) {
    case PageRequestType::kRead: return true;
    case PageRequestType::kDirty: return trap_dirty_;
    case PageRequestType::kWriteback: return false;
  }
  return false;
}

Status PagerProxy::WaitOnEvent(Event* event, bool suspendable) {
  return WaitOnEventWithTimeouts(event, suspendable);
}

void PagerProxy::SendAsyncRequest(PageRequest* request) {
  // The READ of a fault that the VMO's fault filler reads itself (fault_filler.h): the
  // request stays outstanding in the source, which the filler's supply (or failure)
  // resolves, and the pager's threads are not woken for it. Clear and Swap find it in
  // neither the packet nor the pending list, and leave it be.
  if (GetRequestType(request) == PageRequestType::kRead &&
      FillerClaim::Take(source_key_.load(std::memory_order_relaxed), GetRequestOffset(request),
                        GetRequestLen(request))) {
    return;
  }
  MutexLock lock(&mutex_);
  SendLocked(request);
}

void PagerProxy::SendLocked(PageRequest* request) {
  if (pager_closed_) {
    // Nothing is delivered once the pager is gone; the source is being closed, which
    // completes the request.
    return;
  }
  if (packet_busy_) {
    pending_.push_back(*request);
    return;
  }
  QueuePacketLocked(request);
}

void PagerProxy::SendNextLocked() {
  if (packet_busy_ || pending_.empty() || pager_closed_) {
    return;
  }
  PageRequest* next = &pending_.front();
  pending_.pop_front();
  QueuePacketLocked(next);
}

void PagerProxy::QueuePacketLocked(PageRequest* request) {
  assert(!packet_busy_);
  packet_busy_ = true;
  active_ = request;
  // Everything the pager sees is copied now: once cleared, the request may be destroyed
  // while its packet is still queued.
  PortPacket& p = packet_.packet;
  p = PortPacket{};
  p.key = key_;
  p.type = kPktTypePageRequest;
  p.status = Status::kOk;
  packet_.queued_ns = SteadyNowNs();
  if (request == &complete_request_) {
    p.page_request.command = kPagerVmoComplete;
  } else {
    p.page_request.command =
        GetRequestType(request) == PageRequestType::kDirty ? kPagerVmoDirty : kPagerVmoRead;
    p.page_request.offset = GetRequestOffset(request);
    p.page_request.length = GetRequestLen(request);
  }
  port_->QueueOwned(&packet_, shared_from_this());
}

void PagerProxy::OnPacketDequeued(OwnedPacket* packet) {
  MutexLock lock(&mutex_);
  assert(packet == &packet_);
  (void)packet;
  packet_busy_ = false;
  if (active_ == &complete_request_) {
    active_ = nullptr;
    complete_pending_ = false;
    if (source_closed_) {
      FinalCleanupLocked();
    }
    return;
  }
  // The request, if not resolved yet, stays with the source: delivery is at most once.
  active_ = nullptr;
  SendNextLocked();
}

void PagerProxy::ClearAsyncRequest(PageRequest* request) {
  MutexLock lock(&mutex_);
  if (request == active_) {
    active_ = nullptr;
    // Still queued: the pager never sees it, and the packet can carry the next request.
    // Otherwise the pager has it (or is about to be told it read it); nothing to undo.
    if (port_->Withdraw(&packet_)) {
      packet_busy_ = false;
      SendNextLocked();
    }
  } else if (IsInProviderList(request)) {
    pending_.erase(pending_.iterator_to(*request));
  }
}

void PagerProxy::SwapAsyncRequest(PageRequest* old_request, PageRequest* new_request) {
  MutexLock lock(&mutex_);
  if (old_request == active_) {
    // Same type and range, so the queued packet already describes the new request.
    active_ = new_request;
  } else if (IsInProviderList(old_request)) {
    auto it = pending_.iterator_to(*old_request);
    pending_.insert(it, *new_request);
    pending_.erase(it);
  }
}

void PagerProxy::OnDetach() {
  MutexLock lock(&mutex_);
  if (pager_closed_) {
    return;  // the pager is gone: no COMPLETE for it
  }
  complete_pending_ = true;
  // Behind any request still pending, so COMPLETE is the last packet for the key.
  SendLocked(&complete_request_);
}

void PagerProxy::OnClose() {
  MutexLock lock(&mutex_);
  source_closed_ = true;
  if (!complete_pending_) {
    FinalCleanupLocked();
  }
}

void PagerProxy::FinalCleanupLocked() {
  // The pager's list holds proxies weakly and the port's reference is already gone, so
  // all that is left is the link to the source.
  source_.reset();
}

void PagerProxy::OnPagerClosed() {
  std::shared_ptr<PageSource> source;
  {
    MutexLock lock(&mutex_);
    if (pager_closed_) {
      return;
    }
    // From here on nothing is queued, including the COMPLETE of the Close below.
    pager_closed_ = true;
    if (!source_closed_) {
      source = source_.lock();
    }
  }
  // Without mutex_: Close calls back into this proxy (Clear, OnDetach, OnClose) under the
  // source lock, which is ordered before it. Detaching completes every outstanding request
  // and withdraws their packets.
  if (source != nullptr) {
    source->Close();
  }
  MutexLock lock(&mutex_);
  // What may still be queued is a COMPLETE from an earlier detach or close. If the pager
  // already took it off the port, OnPacketDequeued will see to it.
  if (packet_busy_ && port_->Withdraw(&packet_)) {
    packet_busy_ = false;
    active_ = nullptr;
  }
  pending_.clear();  // at most the COMPLETE sentinel: the source has no requests left
  complete_pending_ = false;
  if (source_closed_) {
    FinalCleanupLocked();
  }
}

bool PagerProxy::packet_busy() const {
  MutexLock lock(&mutex_);
  return packet_busy_;
}

size_t PagerProxy::pending_count() const {
  MutexLock lock(&mutex_);
  return pending_.size();
}

void PagerProxy::Dump(std::ostream& os, uint32_t max_items) const {
  MutexLock lock(&mutex_);
  os << "pager proxy key 0x" << std::hex << key_ << std::dec;
  if (packet_busy_) {
    const PageRequestPacket& p = packet_.packet.page_request;
    const char* command = p.command == kPagerVmoComplete ? "COMPLETE"
                          : p.command == kPagerVmoDirty  ? "DIRTY"
                                                         : "READ";
    os << " packet " << command << " [0x" << std::hex << p.offset << ", 0x" << p.offset + p.length
       << std::dec << ")" << (active_ == nullptr ? " (resolved or read)" : "");
  } else {
    os << " packet free";
  }
  os << " pending " << pending_.size();
  uint32_t shown = 0;
  for (const PageRequest& request : pending_) {
    if (shown++ == max_items) {
      os << " ...";
      break;
    }
    if (&request == &complete_request_) {
      os << " COMPLETE";
    } else {
      const uint64_t offset = GetRequestOffset(&request);
      os << " " << PageRequestTypeString(GetRequestType(&request)) << "[0x" << std::hex << offset
         << ", 0x" << offset + GetRequestLen(&request) << std::dec << ")";
    }
  }
  os << (complete_pending_ ? " complete_pending" : "") << (source_closed_ ? " source_closed" : "")
     << (pager_closed_ ? " pager_closed" : "") << "\n";
}

}  // namespace upager::internal

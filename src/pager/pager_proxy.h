// PagerProxy: the PageProvider of a pager-backed VMO. It turns the requests its PageSource
// forwards into packets on the pager's port (docs/zircon-semantics.md 5.1).
#ifndef UPAGER_SRC_PAGER_PAGER_PROXY_H_
#define UPAGER_SRC_PAGER_PAGER_PROXY_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <ostream>

#include "pager/port_object.h"
#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"
#include "upager/page_provider.h"
#include "upager/page_request.h"
#include "upager/page_source.h"
#include "upager/status.h"

namespace upager::internal {

// One per pager-backed VMO. It owns a single embedded packet, so at most one packet of the
// VMO is in the port at a time; requests that arrive meanwhile wait in a FIFO and are sent,
// in order, each time the pager reads the packet. A request resolved before its packet was
// read is withdrawn from the port and never seen. Detach queues one COMPLETE packet behind
// everything else; closing the pager withdraws whatever is still queued and stops delivery.
//
// Lifetime: the PageSource holds the proxy, and the port holds it while its packet is
// queued, so a proxy whose VMO is gone lives until its COMPLETE is read. The proxy holds the
// port (packets keep being queued after the user closed every port handle, section 5.4) and a weak
// reference to its source (the source owns the proxy; there is no cycle to break).
//
// Create with std::make_shared, then SetSource.
class PagerProxy final : public PageProvider,
                         public PacketOwner,
                         public std::enable_shared_from_this<PagerProxy> {
 public:
  // Packets go to `port` with `key`; DIRTY requests are supported iff `trap_dirty`.
  PagerProxy(std::shared_ptr<PortObject> port, uint64_t key, bool trap_dirty);
  ~PagerProxy() override;
  PagerProxy(const PagerProxy&) = delete;
  PagerProxy& operator=(const PagerProxy&) = delete;

  // The source this proxy provides for; needed to close it when the pager closes.
  void SetSource(std::weak_ptr<PageSource> source);

  // The pager's last handle is gone (5.3): closes the source (completing every outstanding
  // request and refusing new ones), takes back any packet still queued, and delivers
  // nothing ever after. Idempotent. Call with no lock held.
  void OnPagerClosed();

  // The port handed the packet back: the pager read it (or cancelled its key).
  void OnPacketDequeued(OwnedPacket* packet) override;

  // For tests and diagnostics.
  bool packet_busy() const;
  size_t pending_count() const;
  uint64_t key() const { return key_; }

 private:
  // PageProvider; called by the source with its lock held (except WaitOnEvent).
  const PageSourceProperties& properties() const override;
  void SendAsyncRequest(PageRequest* request) override;
  void ClearAsyncRequest(PageRequest* request) override;
  void SwapAsyncRequest(PageRequest* old_request, PageRequest* new_request) override;
  void OnDetach() override;
  void OnClose() override;
  Status WaitOnEvent(Event* event, bool suspendable) override;
  bool SupportsPageRequestType(PageRequestType type) const override;
  void Dump(std::ostream& os, uint32_t max_items) const override;

  // Queues `request`'s packet if the packet is free, else appends it to pending_.
  void SendLocked(PageRequest* request) UPAGER_REQUIRES(mutex_);
  // If the packet is free, sends the oldest pending request.
  void SendNextLocked() UPAGER_REQUIRES(mutex_);
  // Fills the packet for `request` and queues it; the packet must be free.
  void QueuePacketLocked(PageRequest* request) UPAGER_REQUIRES(mutex_);
  // The source is closed and no COMPLETE is waiting to be read: nothing more will happen.
  void FinalCleanupLocked() UPAGER_REQUIRES(mutex_);

  const std::shared_ptr<PortObject> port_;
  const uint64_t key_;
  const bool trap_dirty_;

  mutable Mutex mutex_;
  std::weak_ptr<PageSource> source_ UPAGER_GUARDED_BY(mutex_);
  // The source's address, to match fault fillers' claims against (FillerClaim).
  std::atomic<const void*> source_key_{nullptr};
  // Stands for the COMPLETE packet in active_ and pending_; never tracked by a source.
  // Declared before pending_, which may still link it when the proxy is destroyed.
  PageRequest complete_request_;
  // The one packet. Its content is written under mutex_ while the packet is free; while it
  // is queued the port reads it under the port's lock.
  OwnedPacket packet_ UPAGER_GUARDED_BY(mutex_);
  // The packet is queued, or read and not yet handed back.
  bool packet_busy_ UPAGER_GUARDED_BY(mutex_) = false;
  // The request the busy packet stands for; null once it was cleared or the packet read.
  PageRequest* active_ UPAGER_GUARDED_BY(mutex_) = nullptr;
  // Requests sent while the packet was busy, oldest first.
  RequestList pending_ UPAGER_GUARDED_BY(mutex_);
  // A COMPLETE was sent and has not been read yet.
  bool complete_pending_ UPAGER_GUARDED_BY(mutex_) = false;
  bool source_closed_ UPAGER_GUARDED_BY(mutex_) = false;
  bool pager_closed_ UPAGER_GUARDED_BY(mutex_) = false;
};

}  // namespace upager::internal

#endif  // UPAGER_SRC_PAGER_PAGER_PROXY_H_

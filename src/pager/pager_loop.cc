#include "upager/pager_loop.h"

#include <cstdio>
#include <map>

#include "base/handle_access.h"
#include "base/sync_point.h"
#include "base/telemetry.h"
#include "pager/inline_loops.h"
#include "pager/port_object.h"
#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"
#include "vm/vm_object_paged.h"

namespace upager {
namespace {
// A user packet with this key tells one loop thread to exit.
constexpr uint64_t kStopKey = ~0ull;
}  // namespace

class PagerLoop::Handlers {
 public:
  struct Entry {
    Handler* handler;
    std::weak_ptr<internal::VmObjectPaged> vmo;
    size_t active = 0;     // handler calls running for this entry
    bool closing = false;  // COMPLETE seen or handler removed: no new calls
  };

  internal::Mutex mutex;
  uint64_t next_key UPAGER_GUARDED_BY(mutex) = 1;
  std::map<uint64_t, Entry> entries UPAGER_GUARDED_BY(mutex);
  internal::CondVar idle;  // an entry's `active` dropped to 0
};

void PagerLoop::Handler::OnDirty(const Request& request) {
  request.loop->pager().OpRange(kPagerOpDirty, request.vmo, request.offset, request.length, 0);
}

PagerLoop::PagerLoop(size_t threads) : PagerLoop(threads == 0 ? 1 : threads, false) {}

PagerLoop::PagerLoop(size_t threads, bool serve_faults_inline)
    : thread_count_(threads == 0 && !serve_faults_inline ? 1 : threads),
      inline_(serve_faults_inline),
      handlers_(std::make_unique<Handlers>()) {}

PagerLoop::~PagerLoop() { Stop(); }

Status PagerLoop::Start() {
  if (!threads_.empty() || inline_registered_) return Status::kBadState;
  if (!pager_.is_valid()) {
    if (Status s = Pager::Create(0, &pager_); s != Status::kOk) return s;
    if (Status s = Port::Create(0, &port_); s != Status::kOk) return s;
  }
  if (inline_) {
    internal::InlineLoops::Get().Add(this);
    inline_registered_ = true;
  }
  for (size_t i = 0; i < thread_count_; ++i) {
    threads_.emplace_back([this] { Run(); });
  }
  return Status::kOk;
}

void PagerLoop::Stop() {
  if (inline_registered_) {
    internal::InlineLoops::Get().Remove(this);  // waits for a fault thread serving it
    inline_registered_ = false;
  }
  if (threads_.empty()) return;
  PortPacket stop{};
  stop.key = kStopKey;
  stop.type = kPktTypeUser;
  for (size_t i = 0; i < threads_.size(); ++i) port_.Queue(stop);
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

Status PagerLoop::CreateVmo(uint32_t options, uint64_t size, Handler* handler, Vmo* out) {
  if (handler == nullptr || out == nullptr) return Status::kInvalidArgs;
  if (!pager_.is_valid()) return Status::kBadState;
  Handlers& h = *handlers_;
  internal::MutexLock lock(&h.mutex);
  const uint64_t key = h.next_key++;
  if (Status s = pager_.CreateVmo(options, port_, key, size, out); s != Status::kOk) return s;
  h.entries[key] = Handlers::Entry{handler, internal::HandleAccess::Object(*out)};
  return Status::kOk;
}

size_t PagerLoop::Poll() {
  if (!port_.is_valid()) return 0;
  size_t served = 0;
  PortPacket packet{};
  uint64_t queued_ns = 0;
  while (internal::HandleAccess::Object(port_)->Wait(Deadline{}, &packet, &queued_ns) ==
         Status::kOk) {
    if (packet.type == kPktTypeUser && packet.key == kStopKey) {
      port_.Queue(packet);  // meant for a loop thread; put it back and stop here
      break;
    }
    if (packet.type == kPktTypePageRequest) Dispatch(packet, queued_ns);
    ++served;
  }
  return served;
}

void PagerLoop::Run() {
  for (;;) {
    PortPacket packet{};
    uint64_t queued_ns = 0;
    if (internal::HandleAccess::Object(port_)->Wait(kInfiniteDeadline, &packet, &queued_ns) !=
        Status::kOk)
      return;
    if (packet.type == kPktTypeUser && packet.key == kStopKey) return;
    if (packet.type == kPktTypePageRequest) Dispatch(packet, queued_ns);
  }
}

void PagerLoop::Dispatch(const PortPacket& packet, uint64_t queued_ns) {
  internal::telemetry::PacketRead(packet.page_request.command, packet.key,
                                  packet.page_request.offset, packet.page_request.length);
  const bool complete = packet.page_request.command == kPagerVmoComplete;
  Handlers& h = *handlers_;
  Handler* handler = nullptr;
  std::shared_ptr<internal::VmObjectPaged> object;
  {
    internal::MutexLock lock(&h.mutex);
    auto it = h.entries.find(packet.key);
    if (it == h.entries.end() || it->second.closing) return;
    Handlers::Entry& entry = it->second;
    handler = entry.handler;
    if (complete) {
      // OnComplete is the handler's last call for this VMO: let calls still running on
      // other threads finish first.
      entry.closing = true;
      while (it->second.active != 0) {
        internal::ReachSyncPoint(internal::SyncPoint::kLoopCompleteWaits);
        h.idle.Wait(&h.mutex);
        // RemoveHandler may have erased the entry (and its handler may be gone) meanwhile.
        it = h.entries.find(packet.key);
        if (it == h.entries.end()) return;
      }
    } else {
      object = entry.vmo.lock();
      if (object == nullptr) return;  // the VMO is already gone
    }
    // Counted while the call runs, so that RemoveHandler waits for it.
    ++it->second.active;
  }
  if (complete) {
    handler->OnComplete(packet.key);
  } else {
    const Vmo vmo = internal::HandleAccess::Make<Vmo>(std::move(object));
    const Request request{
        this, vmo, packet.key, packet.page_request.offset, packet.page_request.length, queued_ns};
    if (packet.page_request.command == kPagerVmoRead) {
      handler->OnRead(request);
    } else if (packet.page_request.command == kPagerVmoDirty) {
      handler->OnDirty(request);
    }
  }
  internal::MutexLock lock(&h.mutex);
  auto it = h.entries.find(packet.key);  // kept while `active` counts this call
  if (--it->second.active == 0) {
    if (complete) h.entries.erase(it);
    h.idle.NotifyAll();
  }
}

void PagerLoop::RemoveHandler(Handler* handler) {
  Handlers& h = *handlers_;
  internal::MutexLock lock(&h.mutex);
  for (;;) {
    bool busy = false;
    for (auto& item : h.entries) {
      if (item.second.handler != handler) continue;
      item.second.closing = true;
      busy |= item.second.active != 0;
    }
    if (!busy) break;
    internal::ReachSyncPoint(internal::SyncPoint::kLoopRemoveHandlerWaits);
    h.idle.Wait(&h.mutex);
  }
  std::erase_if(h.entries, [handler](const auto& item) { return item.second.handler == handler; });
}

}  // namespace upager

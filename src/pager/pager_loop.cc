#include "upager/pager_loop.h"

#include <cstdio>

#include "base/sync_point.h"
#include "base/telemetry.h"
#include "pager/inline_loops.h"
#include "pager/port_object.h"

namespace upager {
namespace {
// A user packet with this key tells one loop thread to exit.
constexpr uint64_t kStopKey = ~0ull;
}  // namespace

void PagerLoop::Handler::OnDirty(const Request& request) {
  request.loop->pager().OpRange(kPagerOpDirty, request.vmo, request.offset, request.length, 0);
}

PagerLoop::PagerLoop(size_t threads) : thread_count_(threads == 0 ? 1 : threads), inline_(false) {}

PagerLoop::PagerLoop(size_t threads, bool serve_faults_inline)
    : thread_count_(threads == 0 && !serve_faults_inline ? 1 : threads),
      inline_(serve_faults_inline) {}

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
  internal::MutexLock lock(&mutex_);
  const uint64_t key = next_key_++;
  if (Status s = pager_.CreateVmo(options, port_, key, size, out); s != Status::kOk) return s;
  entries_[key] = Entry{handler, out->object()};
  return Status::kOk;
}

size_t PagerLoop::Poll() {
  if (!port_.is_valid()) return 0;
  size_t served = 0;
  PortPacket packet{};
  uint64_t queued_ns = 0;
  while (port_.object()->Wait(Deadline{}, &packet, &queued_ns) == Status::kOk) {
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
    if (port_.object()->Wait(kInfiniteDeadline, &packet, &queued_ns) != Status::kOk) return;
    if (packet.type == kPktTypeUser && packet.key == kStopKey) return;
    if (packet.type == kPktTypePageRequest) Dispatch(packet, queued_ns);
  }
}

void PagerLoop::Dispatch(const PortPacket& packet, uint64_t queued_ns) {
  internal::telemetry::PacketRead(packet.page_request.command, packet.key,
                                  packet.page_request.offset, packet.page_request.length);
  const bool complete = packet.page_request.command == kPagerVmoComplete;
  Handler* handler = nullptr;
  std::shared_ptr<internal::VmObjectPaged> object;
  {
    internal::MutexLock lock(&mutex_);
    auto it = entries_.find(packet.key);
    if (it == entries_.end() || it->second.closing) return;
    Entry& entry = it->second;
    handler = entry.handler;
    if (complete) {
      // OnComplete is the handler's last call for this VMO: let calls still running on
      // other threads finish first.
      entry.closing = true;
      while (it->second.active != 0) {
        internal::ReachSyncPoint(internal::SyncPoint::kLoopCompleteWaits);
        idle_.Wait(&mutex_);
        // RemoveHandler may have erased the entry (and its handler may be gone) meanwhile.
        it = entries_.find(packet.key);
        if (it == entries_.end()) return;
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
    const Vmo vmo(std::move(object));
    const Request request{
        this, vmo, packet.key, packet.page_request.offset, packet.page_request.length, queued_ns};
    if (packet.page_request.command == kPagerVmoRead) {
      handler->OnRead(request);
    } else if (packet.page_request.command == kPagerVmoDirty) {
      handler->OnDirty(request);
    }
  }
  internal::MutexLock lock(&mutex_);
  auto it = entries_.find(packet.key);  // kept while `active` counts this call
  if (--it->second.active == 0) {
    if (complete) entries_.erase(it);
    idle_.NotifyAll();
  }
}

void PagerLoop::RemoveHandler(Handler* handler) {
  internal::MutexLock lock(&mutex_);
  for (;;) {
    bool busy = false;
    for (auto& item : entries_) {
      if (item.second.handler != handler) continue;
      item.second.closing = true;
      busy |= item.second.active != 0;
    }
    if (!busy) break;
    internal::ReachSyncPoint(internal::SyncPoint::kLoopRemoveHandlerWaits);
    idle_.Wait(&mutex_);
  }
  std::erase_if(entries_, [handler](const auto& item) { return item.second.handler == handler; });
}

}  // namespace upager

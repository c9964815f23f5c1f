// Channel endpoints (channel_obj.h).
#include "channel_obj.h"

#include <utility>

#include "base/koid.h"

namespace upager::zx {

ChannelObj::ChannelObj()
    : Object(kType, internal::NextKoid(), true, ZX_USER_SIGNAL_ALL, ZX_CHANNEL_WRITABLE) {}

void ChannelObj::CreatePair(std::shared_ptr<ChannelObj>* a, std::shared_ptr<ChannelObj>* b) {
  auto first = std::make_shared<ChannelObj>();
  auto second = std::make_shared<ChannelObj>();
  first->peer_koid_ = second->koid();
  second->peer_koid_ = first->koid();
  {
    internal::MutexLock lock(&first->mutex_);
    first->peer_ = second;
  }
  {
    internal::MutexLock lock(&second->mutex_);
    second->peer_ = first;
  }
  *a = std::move(first);
  *b = std::move(second);
}

ChannelObj::~ChannelObj() {
  std::shared_ptr<ChannelObj> peer;
  std::deque<ChannelMessage> unread;  // their handles close here, outside our lock
  {
    internal::MutexLock lock(&mutex_);
    peer = peer_.lock();
    peer_.reset();
    unread.swap(messages_);
  }
  if (peer != nullptr) peer->OnPeerClosed();
}

void ChannelObj::OnPeerClosed() {
  internal::MutexLock lock(&mutex_);
  peer_.reset();
  UpdateSignals(ZX_CHANNEL_WRITABLE, ZX_CHANNEL_PEER_CLOSED);
}

zx_status_t ChannelObj::Write(ChannelMessage message) {
  std::shared_ptr<ChannelObj> peer;
  {
    internal::MutexLock lock(&mutex_);
    peer = peer_.lock();
  }
  if (peer == nullptr) return ZX_ERR_PEER_CLOSED;  // `message` and its handles go with us
  peer->Enqueue(std::move(message));
  return ZX_OK;
}

void ChannelObj::Enqueue(ChannelMessage message) {
  internal::MutexLock lock(&mutex_);
  messages_.push_back(std::move(message));
  // Under our lock, so that a reader emptying the queue meanwhile cannot clear it after us.
  UpdateSignals(0, ZX_CHANNEL_READABLE);
}

zx_status_t ChannelObj::Read(uint32_t num_bytes, uint32_t num_handles, bool may_discard,
                             ChannelMessage* out, uint32_t* actual_bytes,
                             uint32_t* actual_handles) {
  ChannelMessage discarded;  // closed after our lock
  internal::MutexLock lock(&mutex_);
  if (messages_.empty()) {
    return peer_.expired() ? ZX_ERR_PEER_CLOSED : ZX_ERR_SHOULD_WAIT;
  }
  ChannelMessage& first = messages_.front();
  *actual_bytes = static_cast<uint32_t>(first.bytes.size());
  *actual_handles = static_cast<uint32_t>(first.handles.size());
  const bool fits = first.bytes.size() <= num_bytes && first.handles.size() <= num_handles;
  if (!fits && !may_discard) return ZX_ERR_BUFFER_TOO_SMALL;
  if (fits) {
    *out = std::move(first);
  } else {
    discarded = std::move(first);
  }
  messages_.pop_front();
  if (messages_.empty()) UpdateSignals(ZX_CHANNEL_READABLE, 0);
  return fits ? ZX_OK : ZX_ERR_BUFFER_TOO_SMALL;
}

}  // namespace upager::zx

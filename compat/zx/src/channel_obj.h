// Channels behind zx handles: two endpoints in this process, each with the queue of messages
// written to it by its peer. A message carries bytes and handle entries; the entries leave
// the writer's handle table at write and enter the reader's at read.
//
// Signals: ZX_CHANNEL_WRITABLE while the peer is open, ZX_CHANNEL_READABLE while a message
// waits, ZX_CHANNEL_PEER_CLOSED once the peer's last handle is gone (messages already queued
// stay readable). Crossing processes is upager::Channel's job (docs/processes.md).
#ifndef UPAGER_COMPAT_ZX_CHANNEL_OBJ_H_
#define UPAGER_COMPAT_ZX_CHANNEL_OBJ_H_

#include <zircon/types.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "handle_table.h"
#include "object.h"
#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"

namespace upager::zx {

struct ChannelMessage {
  std::vector<uint8_t> bytes;
  std::vector<HandleEntry> handles;
};

class ChannelObj final : public Object {
 public:
  static constexpr zx_obj_type_t kType = ZX_OBJ_TYPE_CHANNEL;

  static void CreatePair(std::shared_ptr<ChannelObj>* a, std::shared_ptr<ChannelObj>* b);
  ChannelObj();
  ~ChannelObj() override;

  // Queues `message` at the peer: ZX_ERR_PEER_CLOSED if it is gone (the message is dropped).
  zx_status_t Write(ChannelMessage message);
  // Takes the first message if it fits `num_bytes` and `num_handles`: ZX_ERR_SHOULD_WAIT or
  // ZX_ERR_PEER_CLOSED if there is none, ZX_ERR_BUFFER_TOO_SMALL (its sizes in `*actual_*`,
  // dropped with `may_discard`) if it does not fit.
  zx_status_t Read(uint32_t num_bytes, uint32_t num_handles, bool may_discard, ChannelMessage* out,
                   uint32_t* actual_bytes, uint32_t* actual_handles);
  // The peer's koid, also once it is closed.
  zx_koid_t related_koid() const override { return peer_koid_; }

 private:
  void Enqueue(ChannelMessage message);
  void OnPeerClosed();

  zx_koid_t peer_koid_ = ZX_KOID_INVALID;  // set by CreatePair, before any other thread sees it
  internal::Mutex mutex_;
  std::weak_ptr<ChannelObj> peer_ UPAGER_GUARDED_BY(mutex_);
  std::deque<ChannelMessage> messages_ UPAGER_GUARDED_BY(mutex_);
};

}  // namespace upager::zx

#endif  // UPAGER_COMPAT_ZX_CHANNEL_OBJ_H_

// zx_channel_create, zx_channel_write, zx_channel_read and zx_channel_read_etc.
#include <zircon/syscalls.h>

#include <cstring>
#include <memory>
#include <utility>

#include "channel_obj.h"
#include "handle_table.h"

using namespace upager::zx;  // NOLINT: the C entry points below implement this namespace

namespace {

// zx_channel_write consumes every handle it is given, whatever the outcome; the channel's
// own handle, refused in the list, stays.
void DiscardHandles(zx_handle_t channel, const zx_handle_t* handles, uint32_t num_handles) {
  if (handles == nullptr) return;
  for (uint32_t i = 0; i < num_handles; ++i) {
    if (handles[i] != channel) zx_handle_close(handles[i]);
  }
}

// The two reads: `store(i, entry, value)` records the i-th handle received.
template <typename Store>
zx_status_t ReadMessage(zx_handle_t handle, uint32_t options, void* bytes, bool has_handle_buffer,
                        uint32_t num_bytes, uint32_t num_handles, uint32_t* actual_bytes,
                        uint32_t* actual_handles, Store store) {
  std::shared_ptr<ChannelObj> channel;
  if (zx_status_t s = HandleTable::Get().Get(handle, ZX_RIGHT_READ, &channel); s != ZX_OK) {
    return s;
  }
  if ((options & ~ZX_CHANNEL_READ_MAY_DISCARD) != 0) return ZX_ERR_NOT_SUPPORTED;
  if ((bytes == nullptr && num_bytes > 0) || (!has_handle_buffer && num_handles > 0)) {
    return ZX_ERR_INVALID_ARGS;
  }
  ChannelMessage message;
  uint32_t got_bytes = 0;
  uint32_t got_handles = 0;
  const zx_status_t status =
      channel->Read(num_bytes, num_handles, (options & ZX_CHANNEL_READ_MAY_DISCARD) != 0, &message,
                    &got_bytes, &got_handles);
  if (status == ZX_OK || status == ZX_ERR_BUFFER_TOO_SMALL) {
    if (actual_bytes != nullptr) *actual_bytes = got_bytes;
    if (actual_handles != nullptr) *actual_handles = got_handles;
  }
  if (status != ZX_OK) return status;
  if (!message.bytes.empty()) std::memcpy(bytes, message.bytes.data(), message.bytes.size());
  for (size_t i = 0; i < message.handles.size(); ++i) {
    HandleEntry& entry = message.handles[i];
    const zx_obj_type_t type = entry.object->type();
    const zx_rights_t rights = entry.rights;
    store(i, type, rights, HandleTable::Get().Add(std::move(entry.object), rights));
  }
  return ZX_OK;
}

}  // namespace

extern "C" zx_status_t zx_channel_create(uint32_t options, zx_handle_t* out0, zx_handle_t* out1) {
  if (options != 0 || out0 == nullptr || out1 == nullptr) return ZX_ERR_INVALID_ARGS;
  std::shared_ptr<ChannelObj> a;
  std::shared_ptr<ChannelObj> b;
  ChannelObj::CreatePair(&a, &b);
  *out0 = HandleTable::Get().Add(std::move(a), ZX_DEFAULT_CHANNEL_RIGHTS);
  *out1 = HandleTable::Get().Add(std::move(b), ZX_DEFAULT_CHANNEL_RIGHTS);
  return ZX_OK;
}

extern "C" zx_status_t zx_channel_write(zx_handle_t handle, uint32_t options, const void* bytes,
                                        uint32_t num_bytes, const zx_handle_t* handles,
                                        uint32_t num_handles) {
  if (options != 0) {
    DiscardHandles(handle, handles, num_handles);
    return ZX_ERR_INVALID_ARGS;
  }
  if (num_bytes > ZX_CHANNEL_MAX_MSG_BYTES || num_handles > ZX_CHANNEL_MAX_MSG_HANDLES) {
    DiscardHandles(handle, handles, num_handles);
    return ZX_ERR_OUT_OF_RANGE;
  }
  std::shared_ptr<ChannelObj> channel;
  if (zx_status_t s = HandleTable::Get().Get(handle, ZX_RIGHT_WRITE, &channel); s != ZX_OK) {
    DiscardHandles(handle, handles, num_handles);
    return s;
  }
  if ((bytes == nullptr && num_bytes > 0) || (handles == nullptr && num_handles > 0)) {
    DiscardHandles(handle, handles, num_handles);
    return ZX_ERR_INVALID_ARGS;
  }
  ChannelMessage message;
  if (num_bytes > 0) {
    const auto* from = static_cast<const uint8_t*>(bytes);
    message.bytes.assign(from, from + num_bytes);
  }
  message.handles.reserve(num_handles);
  // Each handle leaves the table, in order; the first problem is the answer, and every
  // handle taken so far closes with the message.
  zx_status_t status = ZX_OK;
  for (uint32_t i = 0; i < num_handles; ++i) {
    if (handles[i] == handle) {
      if (status == ZX_OK) status = ZX_ERR_NOT_SUPPORTED;
      continue;
    }
    HandleEntry entry;
    if (zx_status_t s = HandleTable::Get().Remove(handles[i], &entry); s != ZX_OK) {
      if (status == ZX_OK) status = s;  // absent, or listed twice
      continue;
    }
    entry.object->OnHandleClosed(handles[i]);
    if (status == ZX_OK) {
      if (entry.object.get() == channel.get()) {
        status = ZX_ERR_NOT_SUPPORTED;  // the endpoint written to, through another handle
      } else if ((entry.rights & ZX_RIGHT_TRANSFER) == 0) {
        status = ZX_ERR_ACCESS_DENIED;
      }
    }
    message.handles.push_back(std::move(entry));
  }
  if (status != ZX_OK) return status;  // the message and its handles close here
  return channel->Write(std::move(message));
}

extern "C" zx_status_t zx_channel_read(zx_handle_t handle, uint32_t options, void* bytes,
                                       zx_handle_t* handles, uint32_t num_bytes,
                                       uint32_t num_handles, uint32_t* actual_bytes,
                                       uint32_t* actual_handles) {
  return ReadMessage(
      handle, options, bytes, handles != nullptr, num_bytes, num_handles, actual_bytes,
      actual_handles,
      [handles](size_t i, zx_obj_type_t, zx_rights_t, zx_handle_t value) { handles[i] = value; });
}

extern "C" zx_status_t zx_channel_read_etc(zx_handle_t handle, uint32_t options, void* bytes,
                                           zx_handle_info_t* handles, uint32_t num_bytes,
                                           uint32_t num_handles, uint32_t* actual_bytes,
                                           uint32_t* actual_handles) {
  return ReadMessage(
      handle, options, bytes, handles != nullptr, num_bytes, num_handles, actual_bytes,
      actual_handles,
      [handles](size_t i, zx_obj_type_t type, zx_rights_t rights, zx_handle_t value) {
        handles[i] = zx_handle_info_t{value, type, rights, 0};
      });
}

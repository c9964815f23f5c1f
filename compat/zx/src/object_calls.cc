// zx_object_*, zx_event_create and zx_port_*.
#include <zircon/syscalls.h>

#include <cstring>
#include <memory>

#include "handle_table.h"
#include "object.h"
#include "thread_obj.h"

namespace upager::zx {
namespace {

// The reply of a topic with exactly one record: ZX_ERR_BUFFER_TOO_SMALL (with avail = 1) if
// it does not fit.
template <typename Record>
zx_status_t SingleRecord(const Record& record, void* buffer, size_t buffer_size, size_t* actual,
                         size_t* avail) {
  if (buffer_size < sizeof(Record)) {
    if (actual != nullptr) *actual = 0;
    if (avail != nullptr) *avail = 1;
    return ZX_ERR_BUFFER_TOO_SMALL;
  }
  if (buffer == nullptr) return ZX_ERR_INVALID_ARGS;
  std::memcpy(buffer, &record, sizeof record);
  if (actual != nullptr) *actual = 1;
  if (avail != nullptr) *avail = 1;
  return ZX_OK;
}

zx_status_t VmoInfo(zx_handle_t handle, void* buffer, size_t buffer_size, size_t* actual,
                    size_t* avail) {
  std::shared_ptr<VmoObj> vmo;
  zx_rights_t rights = 0;
  if (zx_status_t s = HandleTable::Get().Get(handle, ZX_RIGHT_INSPECT, &vmo, &rights); s != ZX_OK) {
    return s;
  }
  upager::VmoInfo info{};
  if (zx_status_t s = ToZx(vmo->vmo().GetInfo(&info)); s != ZX_OK) return s;
  zx_info_vmo_t record{};
  record.koid = info.koid;
  record.size_bytes = info.size_bytes;
  record.parent_koid = info.parent_koid;
  record.num_children = info.num_children;
  record.flags = ZX_INFO_VMO_TYPE_PAGED | ZX_INFO_VMO_VIA_HANDLE |
                 (vmo->resizable() ? ZX_INFO_VMO_RESIZABLE : 0u) |
                 (vmo->cow_clone() ? ZX_INFO_VMO_IS_COW_CLONE : 0u) |
                 ((info.flags & kVmoInfoPagerBacked) != 0 ? ZX_INFO_VMO_PAGER_BACKED : 0u);
  record.committed_bytes = info.committed_bytes;
  record.populated_bytes = info.populated_bytes;
  record.handle_rights = rights;
  record.cache_policy = ZX_CACHE_POLICY_CACHED;
  return SingleRecord(record, buffer, buffer_size, actual, avail);
}

}  // namespace

// vmar_calls.cc
zx_status_t VmarInfo(zx_handle_t handle, void* buffer, size_t buffer_size, size_t* actual,
                     size_t* avail);

}  // namespace upager::zx

using namespace upager::zx;  // NOLINT: the C entry points below implement this namespace

extern "C" zx_status_t zx_object_get_info(zx_handle_t handle, uint32_t topic, void* buffer,
                                          size_t buffer_size, size_t* actual, size_t* avail) {
  HandleEntry entry;
  switch (topic) {
    case ZX_INFO_HANDLE_VALID: return HandleTable::Get().Lookup(handle, &entry);
    case ZX_INFO_HANDLE_BASIC: {
      if (zx_status_t s = HandleTable::Get().Lookup(handle, &entry); s != ZX_OK) return s;
      zx_info_handle_basic_t record{};
      record.koid = entry.object->koid();
      record.rights = entry.rights;
      record.type = entry.object->type();
      record.related_koid = entry.object->related_koid();
      return SingleRecord(record, buffer, buffer_size, actual, avail);
    }
    case ZX_INFO_HANDLE_COUNT: {
      if (zx_status_t s = GetAny(handle, ZX_RIGHT_INSPECT, &entry); s != ZX_OK) return s;
      zx_info_handle_count_t record{};
      record.handle_count = HandleTable::Get().CountFor(entry.object.get());
      return SingleRecord(record, buffer, buffer_size, actual, avail);
    }
    case ZX_INFO_VMO: return VmoInfo(handle, buffer, buffer_size, actual, avail);
    case ZX_INFO_THREAD: {
      std::shared_ptr<ThreadObj> thread;
      if (zx_status_t s = HandleTable::Get().Get(handle, ZX_RIGHT_INSPECT, &thread); s != ZX_OK) {
        return s;
      }
      return SingleRecord(thread->Info(), buffer, buffer_size, actual, avail);
    }
    case ZX_INFO_VMAR: return VmarInfo(handle, buffer, buffer_size, actual, avail);
    default:
      if (zx_status_t s = HandleTable::Get().Lookup(handle, &entry); s != ZX_OK) return s;
      return ZX_ERR_NOT_SUPPORTED;
  }
}

extern "C" zx_status_t zx_object_signal(zx_handle_t handle, uint32_t clear_mask,
                                        uint32_t set_mask) {
  HandleEntry entry;
  if (zx_status_t s = GetAny(handle, ZX_RIGHT_SIGNAL, &entry); s != ZX_OK) return s;
  return entry.object->UserSignal(clear_mask, set_mask);
}

extern "C" zx_status_t zx_object_wait_one(zx_handle_t handle, zx_signals_t signals,
                                          zx_time_t deadline, zx_signals_t* observed) {
  HandleEntry entry;
  if (zx_status_t s = GetAny(handle, ZX_RIGHT_WAIT, &entry); s != ZX_OK) return s;
  return entry.object->WaitOne(handle, signals, ToDeadline(deadline), observed);
}

extern "C" zx_status_t zx_object_wait_async(zx_handle_t handle, zx_handle_t port, uint64_t key,
                                            zx_signals_t signals, uint32_t options) {
  if ((options & ~(ZX_WAIT_ASYNC_TIMESTAMP | ZX_WAIT_ASYNC_EDGE)) != 0) {
    return ZX_ERR_INVALID_ARGS;
  }
  std::shared_ptr<PortObj> port_obj;
  if (zx_status_t s = HandleTable::Get().Get(port, ZX_RIGHT_WRITE, &port_obj); s != ZX_OK) {
    return s;
  }
  HandleEntry entry;
  if (zx_status_t s = GetAny(handle, ZX_RIGHT_WAIT, &entry); s != ZX_OK) return s;
  return entry.object->WaitAsync(handle, std::move(port_obj), key, signals, options);
}

extern "C" zx_status_t zx_event_create(uint32_t options, zx_handle_t* out) {
  if (options != 0 || out == nullptr) return ZX_ERR_INVALID_ARGS;
  *out = HandleTable::Get().Add(std::make_shared<EventObj>(), ZX_DEFAULT_EVENT_RIGHTS);
  return ZX_OK;
}

extern "C" zx_status_t zx_port_create(uint32_t options, zx_handle_t* out) {
  if ((options & ~ZX_PORT_BIND_TO_INTERRUPT) != 0 || out == nullptr) return ZX_ERR_INVALID_ARGS;
  if (options != 0) return ZX_ERR_NOT_SUPPORTED;  // no interrupts here
  upager::Port port;
  if (zx_status_t s = ToZx(upager::Port::Create(0, &port)); s != ZX_OK) return s;
  *out = HandleTable::Get().Add(std::make_shared<PortObj>(std::move(port)), ZX_DEFAULT_PORT_RIGHTS);
  return ZX_OK;
}

extern "C" zx_status_t zx_port_queue(zx_handle_t handle, const zx_port_packet_t* packet) {
  std::shared_ptr<PortObj> port;
  if (zx_status_t s = HandleTable::Get().Get(handle, ZX_RIGHT_WRITE, &port); s != ZX_OK) {
    return s;
  }
  if (packet == nullptr) return ZX_ERR_INVALID_ARGS;
  zx_port_packet_t copy = *packet;
  copy.type = ZX_PKT_TYPE_USER;  // whatever the caller wrote, as Zircon
  return port->QueueAnyType(copy);
}

extern "C" zx_status_t zx_port_wait(zx_handle_t handle, zx_time_t deadline,
                                    zx_port_packet_t* packet) {
  std::shared_ptr<PortObj> port;
  if (zx_status_t s = HandleTable::Get().Get(handle, ZX_RIGHT_READ, &port); s != ZX_OK) {
    return s;
  }
  if (packet == nullptr) return ZX_ERR_INVALID_ARGS;
  upager::PortPacket got;
  if (zx_status_t s = ToZx(port->port().Wait(ToDeadline(deadline), &got)); s != ZX_OK) return s;
  std::memcpy(packet, &got, sizeof *packet);
  return ZX_OK;
}

extern "C" zx_status_t zx_port_cancel(zx_handle_t handle, zx_handle_t source, uint64_t key) {
  std::shared_ptr<PortObj> port;
  if (zx_status_t s = HandleTable::Get().Get(handle, ZX_RIGHT_WRITE, &port); s != ZX_OK) {
    return s;
  }
  HandleEntry entry;
  if (zx_status_t s = GetAny(source, ZX_RIGHT_WAIT, &entry); s != ZX_OK) return s;
  if (!entry.object->waitable()) return ZX_ERR_NOT_SUPPORTED;
  // The waits not yet fired, and the packets of fired ones not yet read.
  const bool canceled = entry.object->CancelAsync(source, port.get(), key);
  const bool withdrawn = port->WithdrawSignals(source, key);
  return canceled || withdrawn ? ZX_OK : ZX_ERR_NOT_FOUND;
}

extern "C" zx_status_t zx_port_cancel_key(zx_handle_t handle, uint32_t options, uint64_t key) {
  if (options != 0) return ZX_ERR_INVALID_ARGS;
  std::shared_ptr<PortObj> port;
  if (zx_status_t s = HandleTable::Get().Get(handle, ZX_RIGHT_WRITE, &port); s != ZX_OK) {
    return s;
  }
  return ToZx(port->port().CancelKey(key));
}

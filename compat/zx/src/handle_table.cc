// The handle table and the zx_handle_* calls.
#include "handle_table.h"

#include <zircon/syscalls.h>

#include <utility>

namespace upager::zx {

HandleTable& HandleTable::Get() {
  static HandleTable* const table = new HandleTable();  // never destroyed: used at exit
  return *table;
}

zx_handle_t HandleTable::Add(std::shared_ptr<Object> object, zx_rights_t rights) {
  internal::MutexLock lock(&mutex_);
  zx_handle_t value;
  do {  // after 2^30 handles the counter wraps: skip the values still in use
    value = (next_++ << 2) | ZX_HANDLE_FIXED_BITS_MASK;
  } while (entries_.contains(value));
  entries_.emplace(value, HandleEntry{std::move(object), rights});
  return value;
}

zx_status_t HandleTable::Lookup(zx_handle_t handle, HandleEntry* out) const {
  internal::MutexLock lock(&mutex_);
  auto it = entries_.find(handle);
  if (it == entries_.end()) return ZX_ERR_BAD_HANDLE;
  *out = it->second;
  return ZX_OK;
}

zx_status_t HandleTable::Remove(zx_handle_t handle, HandleEntry* out) {
  internal::MutexLock lock(&mutex_);
  auto it = entries_.find(handle);
  if (it == entries_.end()) return ZX_ERR_BAD_HANDLE;
  *out = std::move(it->second);
  entries_.erase(it);
  return ZX_OK;
}

uint32_t HandleTable::CountFor(const Object* object) const {
  internal::MutexLock lock(&mutex_);
  uint32_t n = 0;
  for (const auto& [value, entry] : entries_) n += entry.object.get() == object ? 1 : 0;
  return n;
}

zx_status_t GetAny(zx_handle_t handle, zx_rights_t rights, HandleEntry* out) {
  if (zx_status_t s = HandleTable::Get().Lookup(handle, out); s != ZX_OK) return s;
  if ((out->rights & rights) != rights) return ZX_ERR_ACCESS_DENIED;
  return ZX_OK;
}

}  // namespace upager::zx

using upager::zx::HandleEntry;
using upager::zx::HandleTable;

extern "C" zx_status_t zx_handle_close(zx_handle_t handle) {
  if (handle == ZX_HANDLE_INVALID) return ZX_OK;
  HandleEntry entry;
  if (zx_status_t s = HandleTable::Get().Remove(handle, &entry); s != ZX_OK) return s;
  entry.object->OnHandleClosed(handle);
  return ZX_OK;  // the object goes with its last handle, here, outside the table lock
}

extern "C" zx_status_t zx_handle_close_many(const zx_handle_t* handles, size_t num_handles) {
  zx_status_t result = ZX_OK;
  for (size_t i = 0; i < num_handles; ++i) {
    if (zx_status_t s = zx_handle_close(handles[i]); s != ZX_OK) result = s;
  }
  return result;
}

extern "C" zx_status_t zx_handle_duplicate(zx_handle_t handle, zx_rights_t rights,
                                           zx_handle_t* out) {
  HandleEntry entry;
  if (zx_status_t s = HandleTable::Get().Lookup(handle, &entry); s != ZX_OK) return s;
  if ((entry.rights & ZX_RIGHT_DUPLICATE) == 0) return ZX_ERR_ACCESS_DENIED;
  if (rights != ZX_RIGHT_SAME_RIGHTS && (rights & ~entry.rights) != 0) {
    return ZX_ERR_INVALID_ARGS;
  }
  if (out == nullptr) return ZX_ERR_INVALID_ARGS;
  const zx_rights_t new_rights = rights == ZX_RIGHT_SAME_RIGHTS ? entry.rights : rights;
  *out = HandleTable::Get().Add(std::move(entry.object), new_rights);
  return ZX_OK;
}

// The source handle is consumed whatever the outcome, except for ZX_ERR_BAD_HANDLE.
extern "C" zx_status_t zx_handle_replace(zx_handle_t handle, zx_rights_t rights, zx_handle_t* out) {
  HandleEntry entry;
  if (zx_status_t s = HandleTable::Get().Remove(handle, &entry); s != ZX_OK) return s;
  entry.object->OnHandleClosed(handle);
  if (rights != ZX_RIGHT_SAME_RIGHTS && (rights & ~entry.rights) != 0) {
    return ZX_ERR_INVALID_ARGS;
  }
  if (out == nullptr) return ZX_ERR_INVALID_ARGS;
  const zx_rights_t new_rights = rights == ZX_RIGHT_SAME_RIGHTS ? entry.rights : rights;
  *out = HandleTable::Get().Add(std::move(entry.object), new_rights);
  return ZX_OK;
}

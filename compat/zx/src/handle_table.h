// The process's handle table: zx_handle_t values to {object, rights}, thread-safe.
//
// Lookups check in Zircon's order: ZX_ERR_BAD_HANDLE (no such handle), ZX_ERR_WRONG_TYPE
// (another kind of object), ZX_ERR_ACCESS_DENIED (a right is missing). Values come from a
// counter, with the two low bits always set as Zircon's: a closed handle's value comes back
// only after 2^30 more handles, and never while it is in use.
#ifndef UPAGER_COMPAT_ZX_HANDLE_TABLE_H_
#define UPAGER_COMPAT_ZX_HANDLE_TABLE_H_

#include <zircon/types.h>

#include <cstdint>
#include <memory>
#include <unordered_map>

#include "object.h"
#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"

namespace upager::zx {

struct HandleEntry {
  std::shared_ptr<Object> object;
  zx_rights_t rights = ZX_RIGHT_NONE;
};

class HandleTable {
 public:
  static HandleTable& Get();

  // A new handle to `object` with `rights`.
  zx_handle_t Add(std::shared_ptr<Object> object, zx_rights_t rights);
  // ZX_ERR_BAD_HANDLE if `handle` is not in the table.
  zx_status_t Lookup(zx_handle_t handle, HandleEntry* out) const;
  // Removes `handle` (ZX_ERR_BAD_HANDLE if absent) and gives its entry to `out`.
  zx_status_t Remove(zx_handle_t handle, HandleEntry* out);
  // How many handles refer to `object`.
  uint32_t CountFor(const Object* object) const;

  // The object of type T behind `handle`, which must carry every right of `rights`.
  template <typename T>
  zx_status_t Get(zx_handle_t handle, zx_rights_t rights, std::shared_ptr<T>* out,
                  zx_rights_t* handle_rights = nullptr) const {
    HandleEntry entry;
    if (zx_status_t s = Lookup(handle, &entry); s != ZX_OK) return s;
    if (entry.object->type() != T::kType) return ZX_ERR_WRONG_TYPE;
    if ((entry.rights & rights) != rights) return ZX_ERR_ACCESS_DENIED;
    *out = std::static_pointer_cast<T>(std::move(entry.object));
    if (handle_rights != nullptr) *handle_rights = entry.rights;
    return ZX_OK;
  }

 private:
  HandleTable() = default;

  mutable internal::Mutex mutex_;
  std::unordered_map<zx_handle_t, HandleEntry> entries_ UPAGER_GUARDED_BY(mutex_);
  uint32_t next_ UPAGER_GUARDED_BY(mutex_) = 1;
};

// The object behind `handle` whatever its type, if it carries `rights`.
zx_status_t GetAny(zx_handle_t handle, zx_rights_t rights, HandleEntry* out);

}  // namespace upager::zx

#endif  // UPAGER_COMPAT_ZX_HANDLE_TABLE_H_

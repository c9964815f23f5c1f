// zx_vmo_*: upager's Vmo behind a handle. The layer holds each VMO with every right and
// checks the zx handle's rights itself, in Zircon's order.
#include <zircon/syscalls.h>

#include <memory>

#include "handle_table.h"
#include "object.h"
#include "upager/vmo.h"

using namespace upager::zx;  // NOLINT: the C entry points below implement this namespace

namespace upager::zx {

// The options are passed on to upager as they are.
static_assert(ZX_VMO_RESIZABLE == kVmoResizable && ZX_VMO_UNBOUNDED == kVmoUnbounded &&
              ZX_VMO_TRAP_DIRTY == kVmoTrapDirty);

zx_rights_t NewVmoRights(bool resizable) {
  return ZX_DEFAULT_VMO_RIGHTS | (resizable ? ZX_RIGHT_RESIZE : 0u);
}

}  // namespace upager::zx

extern "C" zx_status_t zx_vmo_create(uint64_t size, uint32_t options, zx_handle_t* out) {
  constexpr uint32_t kKnown = ZX_VMO_RESIZABLE | ZX_VMO_DISCARDABLE | ZX_VMO_UNBOUNDED;
  if ((options & ~kKnown) != 0) return ZX_ERR_INVALID_ARGS;
  // Neither discardable nor unbounded VMOs can be resizable.
  if ((options & (ZX_VMO_DISCARDABLE | ZX_VMO_UNBOUNDED)) != 0 &&
      (options & ZX_VMO_RESIZABLE) != 0) {
    return ZX_ERR_INVALID_ARGS;
  }
  // Discardable (lockable) VMOs are not in upager yet.
  if ((options & ZX_VMO_DISCARDABLE) != 0) return ZX_ERR_NOT_SUPPORTED;
  upager::Vmo vmo;
  if (zx_status_t s = ToZx(upager::Vmo::Create(size, options, &vmo)); s != ZX_OK) return s;
  if (out == nullptr) return ZX_ERR_INVALID_ARGS;
  const bool resizable = (options & ZX_VMO_RESIZABLE) != 0;
  *out = HandleTable::Get().Add(std::make_shared<VmoObj>(std::move(vmo), resizable, 0),
                                NewVmoRights(resizable));
  return ZX_OK;
}

extern "C" zx_status_t zx_vmo_read(zx_handle_t handle, void* buffer, uint64_t offset,
                                   size_t buffer_size) {
  std::shared_ptr<VmoObj> vmo;
  if (zx_status_t s = HandleTable::Get().Get(handle, ZX_RIGHT_READ, &vmo); s != ZX_OK) return s;
  return ToZx(vmo->vmo().Read(buffer, offset, buffer_size));
}

extern "C" zx_status_t zx_vmo_write(zx_handle_t handle, const void* buffer, uint64_t offset,
                                    size_t buffer_size) {
  std::shared_ptr<VmoObj> vmo;
  if (zx_status_t s = HandleTable::Get().Get(handle, ZX_RIGHT_WRITE, &vmo); s != ZX_OK) {
    return s;
  }
  return ToZx(vmo->vmo().Write(buffer, offset, buffer_size));
}

extern "C" zx_status_t zx_vmo_get_size(zx_handle_t handle, uint64_t* size) {
  std::shared_ptr<VmoObj> vmo;
  if (zx_status_t s = HandleTable::Get().Get(handle, ZX_RIGHT_NONE, &vmo); s != ZX_OK) return s;
  if (size == nullptr) return ZX_ERR_INVALID_ARGS;
  return ToZx(vmo->vmo().GetSize(size));
}

extern "C" zx_status_t zx_vmo_set_size(zx_handle_t handle, uint64_t size) {
  std::shared_ptr<VmoObj> vmo;
  zx_rights_t rights = 0;
  if (zx_status_t s = HandleTable::Get().Get(handle, ZX_RIGHT_WRITE, &vmo, &rights); s != ZX_OK) {
    return s;
  }
  // A VMO that cannot resize answers ZX_ERR_UNAVAILABLE below; only a resizable one needs
  // the RESIZE right.
  if (vmo->resizable() && (rights & ZX_RIGHT_RESIZE) == 0) return ZX_ERR_ACCESS_DENIED;
  return ToZx(vmo->vmo().SetSize(size));
}

extern "C" zx_status_t zx_vmo_get_stream_size(zx_handle_t handle, uint64_t* size) {
  std::shared_ptr<VmoObj> vmo;
  if (zx_status_t s = HandleTable::Get().Get(handle, ZX_RIGHT_READ, &vmo); s != ZX_OK) return s;
  if (size == nullptr) return ZX_ERR_INVALID_ARGS;
  return ToZx(vmo->vmo().GetStreamSize(size));
}

extern "C" zx_status_t zx_vmo_set_stream_size(zx_handle_t handle, uint64_t size) {
  std::shared_ptr<VmoObj> vmo;
  zx_rights_t rights = 0;
  if (zx_status_t s = HandleTable::Get().Get(handle, ZX_RIGHT_WRITE, &vmo, &rights); s != ZX_OK) {
    return s;
  }
  // Growing a resizable VMO resizes it: as zx_vmo_set_size, that needs the RESIZE right.
  if (vmo->resizable() && (rights & ZX_RIGHT_RESIZE) == 0) return ZX_ERR_ACCESS_DENIED;
  return ToZx(vmo->vmo().SetStreamSize(size));
}

extern "C" zx_status_t zx_vmo_op_range(zx_handle_t handle, uint32_t op, uint64_t offset,
                                       uint64_t size, void* buffer, size_t buffer_size) {
  (void)buffer;
  (void)buffer_size;
  std::shared_ptr<VmoObj> vmo;
  zx_rights_t rights = 0;
  if (zx_status_t s = HandleTable::Get().Get(handle, ZX_RIGHT_NONE, &vmo, &rights); s != ZX_OK) {
    return s;
  }
  zx_rights_t needed = ZX_RIGHT_NONE;
  switch (op) {
    case ZX_VMO_OP_COMMIT:
    case ZX_VMO_OP_DECOMMIT:
    case ZX_VMO_OP_ZERO: needed = ZX_RIGHT_WRITE; break;
    case ZX_VMO_OP_PREFETCH: needed = ZX_RIGHT_READ; break;
    case ZX_VMO_OP_DONT_NEED:
    case ZX_VMO_OP_ALWAYS_NEED: break;
    case ZX_VMO_OP_LOCK:
    case ZX_VMO_OP_TRY_LOCK:
    case ZX_VMO_OP_UNLOCK:
    case ZX_VMO_OP_CACHE_SYNC:
    case ZX_VMO_OP_CACHE_INVALIDATE:
    case ZX_VMO_OP_CACHE_CLEAN:
    case ZX_VMO_OP_CACHE_CLEAN_INVALIDATE:
      return ZX_ERR_NOT_SUPPORTED;  // discardable VMOs and cache ops: not in upager yet
    default: return ZX_ERR_INVALID_ARGS;
  }
  if ((rights & needed) != needed) return ZX_ERR_ACCESS_DENIED;
  return ToZx(vmo->vmo().OpRange(op, offset, size));
}

extern "C" zx_status_t zx_vmo_create_child(zx_handle_t handle, uint32_t options, uint64_t offset,
                                           uint64_t size, zx_handle_t* out) {
  // Only a size that cannot be rounded up to pages fails before the handle is looked at;
  // upager refuses other sizes too large after it.
  if (size > UINT64_MAX - (upager::kPageSize - 1)) return ZX_ERR_OUT_OF_RANGE;
  if ((options & ZX_VMO_CHILD_NO_WRITE) != 0 && (options & ZX_VMO_CHILD_RESIZABLE) != 0) {
    return ZX_ERR_INVALID_ARGS;
  }
  const bool no_write = (options & ZX_VMO_CHILD_NO_WRITE) != 0;
  options &= ~ZX_VMO_CHILD_NO_WRITE;  // a property of the new handle, not of the child
  std::shared_ptr<VmoObj> parent;
  zx_rights_t in_rights = 0;
  if (zx_status_t s =
          HandleTable::Get().Get(handle, ZX_RIGHT_DUPLICATE | ZX_RIGHT_READ, &parent, &in_rights);
      s != ZX_OK) {
    return s;
  }
  upager::Vmo child;
  if (zx_status_t s = ToZx(parent->vmo().CreateChild(options, offset, size, &child)); s != ZX_OK) {
    return s;  // upager's own checks and kinds (docs/clones.md)
  }
  if (out == nullptr) return ZX_ERR_INVALID_ARGS;
  const bool resizable = (options & ZX_VMO_CHILD_RESIZABLE) != 0;
  zx_rights_t rights = (in_rights & ~ZX_RIGHT_RESIZE) | (resizable ? ZX_RIGHT_RESIZE : 0u) |
                       ZX_RIGHT_GET_PROPERTY | ZX_RIGHT_SET_PROPERTY;
  constexpr uint32_t kSnapshots = ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE |
                                  ZX_VMO_CHILD_SNAPSHOT_MODIFIED;
  const bool snapshot = (options & kSnapshots) != 0;
  if (no_write) {
    rights &= ~ZX_RIGHT_WRITE;
  } else if (snapshot) {
    rights = (rights & ~ZX_RIGHT_EXECUTE) | ZX_RIGHT_WRITE;
  }
  *out = HandleTable::Get().Add(std::make_shared<VmoObj>(std::move(child), resizable, 0, snapshot),
                                rights);
  parent->RefreshZeroChildren();  // deasserts ZX_VMO_ZERO_CHILDREN
  return ZX_OK;
}

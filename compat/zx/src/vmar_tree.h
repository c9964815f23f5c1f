// The VMAR tree of the zx layer (vmar_calls.cc, vmar_ops.cc): the root VMAR and its
// sub-regions, each region's children (sub-regions and pieces of upager Mappings), under one
// mutex. A sub-region is a PROT_NONE reservation; a mapping in it is made at a fixed address
// over the reservation (Mapping::CreateAt), and an unmapped range goes back to being reserved.
#ifndef UPAGER_COMPAT_ZX_SRC_VMAR_TREE_H_
#define UPAGER_COMPAT_ZX_SRC_VMAR_TREE_H_

#include <zircon/syscalls.h>

#include <map>
#include <memory>
#include <vector>

#include "base/koid.h"
#include "object.h"
#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"
#include "upager/mapping.h"

namespace upager::zx {

// Orders every VMAR operation of the process.
inline internal::Mutex g_vmar_mutex;

class VmarObj;

// A piece of a Mapping: [rel, rel + len) of it, with its protection. Protecting or unmapping
// part of a piece splits it; the pieces of one Mapping share it.
struct VmarPiece {
  std::shared_ptr<Mapping> mapping;
  std::shared_ptr<VmoObj> vmo;
  uint64_t vmo_offset = 0;  // of the piece's first byte
  uint64_t rel = 0;         // from mapping->data()
  zx_vm_option_t perms = 0;
  zx_vm_option_t max_perms = 0;  // what Protect may give (the rights at map time)
};

struct VmarChild {
  uint64_t len = 0;
  std::shared_ptr<VmarObj> vmar;  // a sub-region, or else `piece`
  VmarPiece piece;
};

class VmarObj final : public Object {
 public:
  static constexpr zx_obj_type_t kType = ZX_OBJ_TYPE_VMAR;
  // `flags`: its ZX_VM_CAN_MAP_* (and COMPACT).
  VmarObj(uintptr_t at, uint64_t len, zx_vm_option_t region_flags, std::weak_ptr<VmarObj> up,
          bool is_root)
      : Object(kType, internal::NextKoid(), false, 0, 0),
        base(at),
        size(len),
        flags(region_flags),
        parent(std::move(up)),
        root(is_root) {}

  const uintptr_t base;
  const uint64_t size;
  const zx_vm_option_t flags;
  const std::weak_ptr<VmarObj> parent;
  const bool root;
  bool dead UPAGER_GUARDED_BY(g_vmar_mutex) = false;
  std::map<uintptr_t, VmarChild> children UPAGER_GUARDED_BY(g_vmar_mutex);

  bool InRange(uintptr_t addr, uint64_t len) const {
    return addr >= base && len <= size && addr - base <= size - len;
  }
};

// A piece found by Collect, in address order.
struct PieceRef {
  VmarObj* owner;
  uintptr_t addr;
};

// The mapping pieces in [from, to) at any depth, in order.
void CollectPieces(VmarObj* vmar, uintptr_t from, uintptr_t to, std::vector<PieceRef>* out)
    UPAGER_REQUIRES(g_vmar_mutex);
// Splits the child of `vmar` that straddles `addr` (a piece) in two.
void SplitPieceAt(VmarObj* vmar, uintptr_t addr) UPAGER_REQUIRES(g_vmar_mutex);
// Unmaps and forgets every child of `vmar` and marks it dead (zx_vmar_destroy).
void DestroyLocked(VmarObj* vmar) UPAGER_REQUIRES(g_vmar_mutex);
// Unmaps the child at `addr` of `vmar` (a piece: its range goes back to the reservation, or
// to the system in the root; a sub-region: destroyed) and erases it.
void RemoveChild(VmarObj* vmar, uintptr_t addr) UPAGER_REQUIRES(g_vmar_mutex);

inline constexpr zx_vm_option_t kPermMask = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE | ZX_VM_PERM_EXECUTE;
inline constexpr zx_vm_option_t kCanMapRwx =
    ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_EXECUTE;
// ZX_VM_PERM_* to the matching ZX_VM_CAN_MAP_*.
inline zx_vm_option_t CanMapOf(zx_vm_option_t perms) {
  return ((perms & ZX_VM_PERM_READ) != 0 ? ZX_VM_CAN_MAP_READ : 0) |
         ((perms & ZX_VM_PERM_WRITE) != 0 ? ZX_VM_CAN_MAP_WRITE : 0) |
         ((perms & ZX_VM_PERM_EXECUTE) != 0 ? ZX_VM_CAN_MAP_EXECUTE : 0);
}
inline uint32_t LibraryProtection(zx_vm_option_t perms) {
  if ((perms & ZX_VM_PERM_READ) == 0) return 0;
  return kMapRead | ((perms & ZX_VM_PERM_WRITE) != 0 ? kMapWrite : 0);
}

}  // namespace upager::zx

#endif  // UPAGER_COMPAT_ZX_SRC_VMAR_TREE_H_

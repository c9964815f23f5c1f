// The VMAR tree's helpers, and zx_vmar_unmap / protect / op_range over it (vmar_tree.h).
#include "vmar_tree.h"

#include <sys/mman.h>

#include <utility>

#include "handle_table.h"

namespace upager::zx {

void CollectPieces(VmarObj* vmar, uintptr_t from, uintptr_t to, std::vector<PieceRef>* out) {
  auto it = vmar->children.upper_bound(from);
  if (it != vmar->children.begin()) --it;
  for (; it != vmar->children.end() && it->first < to; ++it) {
    if (it->first + it->second.len <= from) continue;
    if (it->second.vmar) {
      CollectPieces(it->second.vmar.get(), from, to, out);
    } else {
      out->push_back({vmar, it->first});
    }
  }
}

void SplitPieceAt(VmarObj* vmar, uintptr_t addr) {
  auto it = vmar->children.upper_bound(addr);
  if (it == vmar->children.begin()) return;
  --it;
  VmarChild& child = it->second;
  if (child.vmar || it->first == addr || it->first + child.len <= addr) return;
  const uint64_t head = addr - it->first;
  VmarChild tail = child;
  tail.len = child.len - head;
  tail.piece.rel += head;
  tail.piece.vmo_offset += head;
  child.len = head;
  vmar->children.emplace(addr, std::move(tail));
}

void RemoveChild(VmarObj* vmar, uintptr_t addr) {
  auto it = vmar->children.find(addr);
  if (it == vmar->children.end()) return;
  VmarChild child = std::move(it->second);
  vmar->children.erase(it);
  if (child.vmar) {
    DestroyLocked(child.vmar.get());  // gives the root its range back itself
    return;
  }
  // The range goes back to being reserved; in the root, to the system.
  child.piece.mapping->Unmap(child.piece.rel, child.len);
  if (vmar->root) ::munmap(reinterpret_cast<void*>(addr), child.len);
}

void DestroyLocked(VmarObj* vmar) {
  while (!vmar->children.empty()) RemoveChild(vmar, vmar->children.begin()->first);
  vmar->dead = true;
  auto parent = vmar->parent.lock();
  if (parent != nullptr && parent->root) {
    ::munmap(reinterpret_cast<void*>(vmar->base), vmar->size);
  }
  if (parent != nullptr) {
    auto it = parent->children.find(vmar->base);
    if (it != parent->children.end() && it->second.vmar.get() == vmar) parent->children.erase(it);
  }
}

namespace {

bool PageAligned(uint64_t v) { return (v & (kPageSize - 1)) == 0; }
uint64_t RoundUpToPage(uint64_t v) { return (v + kPageSize - 1) & ~(kPageSize - 1); }

}  // namespace
}  // namespace upager::zx

using namespace upager::zx;  // NOLINT: the C entry points below implement this namespace
using upager::kMapRead;
using upager::kMapWrite;
using upager::kPageSize;
using upager::Mapping;
using upager::Status;
namespace internal = upager::internal;

extern "C" zx_status_t zx_vmar_unmap(zx_handle_t handle, zx_vaddr_t addr, size_t len) {
  std::shared_ptr<VmarObj> vmar;
  zx_rights_t rights = 0;
  if (zx_status_t s = HandleTable::Get().Get(handle, ZX_RIGHT_NONE, &vmar, &rights); s != ZX_OK) {
    return s;
  }
  if (!PageAligned(addr)) return ZX_ERR_INVALID_ARGS;
  len = RoundUpToPage(len);
  if (len == 0) return ZX_ERR_INVALID_ARGS;
  internal::MutexLock lock(&g_vmar_mutex);
  if (vmar->dead) return ZX_ERR_BAD_STATE;
  if (!vmar->InRange(addr, len)) return ZX_ERR_INVALID_ARGS;
  const uintptr_t end = addr + len;
  // A sub-region only whole, and only with OP_CHILDREN; checked before anything changes.
  const bool op_children = (rights & ZX_RIGHT_OP_CHILDREN) != 0;
  for (auto& [base, child] : vmar->children) {
    if (!child.vmar || base >= end || base + child.len <= addr) continue;
    if (!op_children || base < addr || base + child.len > end) return ZX_ERR_INVALID_ARGS;
  }
  SplitPieceAt(vmar.get(), addr);
  SplitPieceAt(vmar.get(), end);
  std::vector<uintptr_t> hit;
  for (auto& [base, child] : vmar->children) {
    if (base >= addr && base < end) hit.push_back(base);
  }
  for (uintptr_t base : hit) RemoveChild(vmar.get(), base);
  return ZX_OK;
}

extern "C" zx_status_t zx_vmar_protect(zx_handle_t handle, zx_vm_option_t options, zx_vaddr_t addr,
                                       size_t len) {
  // The VMAR must allow every permission asked for.
  zx_rights_t needed = ZX_RIGHT_NONE;
  if ((options & ZX_VM_PERM_READ) != 0) needed |= ZX_RIGHT_READ;
  if ((options & ZX_VM_PERM_WRITE) != 0) needed |= ZX_RIGHT_WRITE;
  if ((options & ZX_VM_PERM_EXECUTE) != 0) needed |= ZX_RIGHT_EXECUTE;
  std::shared_ptr<VmarObj> vmar;
  zx_rights_t rights = 0;
  if (zx_status_t s = HandleTable::Get().Get(handle, needed, &vmar, &rights); s != ZX_OK) return s;
  if ((options & kPermMask & ~ZX_VM_PERM_READ) != 0 && (options & ZX_VM_PERM_READ) == 0) {
    return ZX_ERR_INVALID_ARGS;
  }
  if (!PageAligned(addr)) return ZX_ERR_INVALID_ARGS;
  if ((options & ~kPermMask) != 0) return ZX_ERR_INVALID_ARGS;  // no region flags, no alignment
  len = RoundUpToPage(len);
  if (len == 0) return ZX_ERR_INVALID_ARGS;
  internal::MutexLock lock(&g_vmar_mutex);
  if (vmar->dead) return ZX_ERR_BAD_STATE;
  if (!vmar->InRange(addr, len)) return ZX_ERR_INVALID_ARGS;
  const uintptr_t end = addr + len;
  std::vector<PieceRef> pieces;
  CollectPieces(vmar.get(), addr, end, &pieces);
  // Every check first: a gap, a permission the mapping may not have, a mapping in a
  // sub-region (needs OP_CHILDREN, and may not gain a permission there).
  uintptr_t expected = addr;
  for (const PieceRef& ref : pieces) {
    const VmarChild& child = ref.owner->children.at(ref.addr);
    if (ref.addr > expected) return ZX_ERR_NOT_FOUND;
    expected = ref.addr + child.len;
    if ((CanMapOf(options) & ~child.piece.max_perms) != 0) return ZX_ERR_ACCESS_DENIED;
    if (ref.owner != vmar.get()) {
      if ((rights & ZX_RIGHT_OP_CHILDREN) == 0) return ZX_ERR_INVALID_ARGS;
      if ((options & ~child.piece.perms) != 0) return ZX_ERR_ACCESS_DENIED;
    }
  }
  if (expected < end) return ZX_ERR_NOT_FOUND;
  if ((options & ZX_VM_PERM_EXECUTE) != 0) return ZX_ERR_NOT_SUPPORTED;  // no executable mappings
  for (const PieceRef& ref : pieces) {
    SplitPieceAt(ref.owner, std::max<uintptr_t>(ref.addr, addr));
    SplitPieceAt(ref.owner, end);
  }
  pieces.clear();
  CollectPieces(vmar.get(), addr, end, &pieces);
  for (const PieceRef& ref : pieces) {
    VmarChild& child = ref.owner->children.at(ref.addr);
    if (zx_status_t s = ToZx(
            child.piece.mapping->Protect(child.piece.rel, child.len, LibraryProtection(options)));
        s != ZX_OK) {
      return s;
    }
    child.piece.perms = options;
  }
  return ZX_OK;
}

extern "C" zx_status_t zx_vmar_op_range(zx_handle_t handle, uint32_t op, zx_vaddr_t addr,
                                        size_t len, void* buffer, size_t buffer_size) {
  std::shared_ptr<VmarObj> vmar;
  zx_rights_t rights = 0;
  if (zx_status_t s = HandleTable::Get().Get(handle, ZX_RIGHT_NONE, &vmar, &rights); s != ZX_OK) {
    return s;
  }
  switch (op) {
    case ZX_VMAR_OP_COMMIT:
    case ZX_VMAR_OP_DECOMMIT:
    case ZX_VMAR_OP_MAP_RANGE:
    case ZX_VMAR_OP_ZERO:
    case ZX_VMAR_OP_DONT_NEED:
    case ZX_VMAR_OP_ALWAYS_NEED:
    case ZX_VMAR_OP_PREFETCH: break;
    default: return ZX_ERR_INVALID_ARGS;
  }
  if (buffer != nullptr || buffer_size != 0) return ZX_ERR_INVALID_ARGS;
  len = RoundUpToPage(len);
  if (len == 0 || !PageAligned(addr)) return ZX_ERR_INVALID_ARGS;
  if (!vmar->InRange(addr, len)) return ZX_ERR_OUT_OF_RANGE;
  internal::MutexLock lock(&g_vmar_mutex);
  if (vmar->dead) return ZX_ERR_BAD_STATE;
  const uintptr_t end = addr + len;
  std::vector<PieceRef> pieces;
  CollectPieces(vmar.get(), addr, end, &pieces);
  // Piece by piece, in order, as Zircon: a gap ends the walk with BAD_STATE.
  uintptr_t expected = addr;
  const bool op_children = (rights & ZX_RIGHT_OP_CHILDREN) != 0;
  for (const PieceRef& ref : pieces) {
    const VmarChild& child = ref.owner->children.at(ref.addr);
    if (ref.addr > expected) return ZX_ERR_BAD_STATE;
    const bool needs_own = op == ZX_VMAR_OP_COMMIT || op == ZX_VMAR_OP_DECOMMIT ||
                           op == ZX_VMAR_OP_PREFETCH || !op_children;
    if (needs_own && ref.owner != vmar.get()) return ZX_ERR_INVALID_ARGS;
    const uint64_t in_piece = expected - ref.addr;
    const uint64_t size = std::min<uint64_t>(end - expected, child.len - in_piece);
    const VmarPiece& piece = child.piece;
    const uint64_t vmo_offset = piece.vmo_offset + in_piece;
    const uint64_t rel = piece.rel + in_piece;
    zx_status_t result = ZX_OK;
    switch (op) {
      case ZX_VMAR_OP_COMMIT:
        if ((piece.max_perms & ZX_VM_CAN_MAP_WRITE) == 0) return ZX_ERR_ACCESS_DENIED;
        result = ToZx(piece.vmo->vmo().OpRange(ZX_VMO_OP_COMMIT, vmo_offset, size));
        if (result == ZX_OK) result = ToZx(piece.mapping->MapRange(rel, size));
        break;
      case ZX_VMAR_OP_DECOMMIT:
        if ((piece.max_perms & ZX_VM_CAN_MAP_WRITE) == 0) return ZX_ERR_ACCESS_DENIED;
        result = ToZx(piece.vmo->vmo().OpRange(ZX_VMO_OP_DECOMMIT, vmo_offset, size));
        break;
      case ZX_VMAR_OP_MAP_RANGE: result = ToZx(piece.mapping->MapRange(rel, size)); break;
      case ZX_VMAR_OP_ALWAYS_NEED:
        result = ToZx(piece.vmo->vmo().OpRange(ZX_VMO_OP_ALWAYS_NEED, vmo_offset, size));
        if (result == ZX_OK) result = ToZx(piece.mapping->MapRange(rel, size));
        break;
      case ZX_VMAR_OP_DONT_NEED:
        result = ToZx(piece.vmo->vmo().OpRange(ZX_VMO_OP_DONT_NEED, vmo_offset, size));
        break;
      case ZX_VMAR_OP_PREFETCH:
        if ((piece.max_perms & ZX_VM_CAN_MAP_READ) == 0) return ZX_ERR_ACCESS_DENIED;
        result = ToZx(piece.vmo->vmo().OpRange(ZX_VMO_OP_PREFETCH, vmo_offset, size));
        if (result == ZX_OK) result = ToZx(piece.mapping->MapRange(rel, size));
        break;
      default: result = ZX_ERR_NOT_SUPPORTED; break;  // ZERO: not through a VMAR, as Zircon
    }
    if (result != ZX_OK) return result;
    expected += size;
  }
  if (expected < end) return ZX_ERR_BAD_STATE;
  return ZX_OK;
}

// zx_vmar_root_self, map, allocate, destroy and ZX_INFO_VMAR over the VMAR tree
// (vmar_tree.h); unmap, protect and op_range are in vmar_tree.cc. The checks follow
// Zircon's order (docs/zx-compat.md).
#include <sys/mman.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

#include <memory>
#include <utility>

#include "handle_table.h"
#include "object.h"
#include "vmar_tree.h"

namespace upager::zx {
namespace {

// The root VMAR stands for the user address space (x86-64 and arm64 with 4-level tables);
// the layer maps only where the kernel lets it, and never over memory it did not map.
constexpr uintptr_t kRootBase = 0x10000;
constexpr uint64_t kRootSize = (uint64_t{1} << 47) - kRootBase - kPageSize;
constexpr zx_vm_option_t kRootFlags = kCanMapRwx | ZX_VM_CAN_MAP_SPECIFIC;

constexpr zx_rights_t kRootVmarRights =
    ZX_DEFAULT_VMAR_RIGHTS | ZX_RIGHT_READ | ZX_RIGHT_WRITE | ZX_RIGHT_EXECUTE;

// Which right each mapping permission needs.
constexpr std::pair<zx_vm_option_t, zx_rights_t> kPermRights[] = {
    {ZX_VM_PERM_READ, ZX_RIGHT_READ},
    {ZX_VM_PERM_WRITE, ZX_RIGHT_WRITE},
    {ZX_VM_PERM_EXECUTE, ZX_RIGHT_EXECUTE}};

// Write and execute need read (no way to express them alone).
bool ValidProtection(zx_vm_option_t perms) {
  return (perms & (ZX_VM_PERM_WRITE | ZX_VM_PERM_EXECUTE)) == 0 || (perms & ZX_VM_PERM_READ) != 0;
}

bool PageAligned(uint64_t v) { return (v & (kPageSize - 1)) == 0; }
uint64_t RoundUpToPage(uint64_t v) { return (v + kPageSize - 1) & ~(kPageSize - 1); }

constexpr zx_vm_option_t kKnownOptions =
    kPermMask | ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED | ZX_VM_COMPACT | ZX_VM_SPECIFIC |
    ZX_VM_SPECIFIC_OVERWRITE | ZX_VM_CAN_MAP_SPECIFIC | kCanMapRwx | ZX_VM_REQUIRE_NON_RESIZABLE |
    ZX_VM_ALLOW_FAULTS | ZX_VM_OFFSET_IS_UPPER_LIMIT | ZX_VM_FAULT_BEYOND_STREAM_SIZE |
    ZX_VM_ALIGN_MASK;

// Unknown bits, a bad alignment: INVALID_ARGS. `*align` is the alignment in bytes (a page at
// least).
zx_status_t SplitOptions(zx_vm_option_t options, uint64_t* align) {
  if ((options & ~kKnownOptions) != 0) return ZX_ERR_INVALID_ARGS;
  const uint32_t pow2 = (options & ZX_VM_ALIGN_MASK) >> ZX_VM_ALIGN_BASE;
  if ((pow2 != 0 && pow2 < 10) || pow2 > 32) return ZX_ERR_INVALID_ARGS;
  *align = pow2 > 12 ? uint64_t{1} << pow2 : kPageSize;
  return ZX_OK;
}

// A free range of `len` bytes in `vmar`, aligned, ending at most at base + `limit`; 0 if none.
uintptr_t FindSpot(VmarObj* vmar, uint64_t len, uint64_t align, uint64_t limit)
    UPAGER_REQUIRES(g_vmar_mutex) {
  const uintptr_t end = vmar->base + std::min<uint64_t>(limit, vmar->size);
  uintptr_t at = (vmar->base + align - 1) & ~(align - 1);
  for (const auto& [base, child] : vmar->children) {
    if (at + len <= base) break;
    if (base + child.len > at) at = (base + child.len + align - 1) & ~(align - 1);
  }
  return at >= vmar->base && at + len <= end ? at : 0;
}

bool Overlaps(VmarObj* vmar, uintptr_t addr, uint64_t len, bool* region)
    UPAGER_REQUIRES(g_vmar_mutex) {
  bool any = false;
  *region = false;
  for (const auto& [base, child] : vmar->children) {
    if (base < addr + len && addr < base + child.len) {
      any = true;
      if (child.vmar) *region = true;
    }
  }
  return any;
}

// Reserves [addr, addr+len) in the root if nothing is mapped there (PROT_NONE).
bool ReserveInRoot(uintptr_t addr, uint64_t len) {
  void* got = ::mmap(reinterpret_cast<void*>(addr), len, PROT_NONE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  if (got == MAP_FAILED) return false;
  if (got != reinterpret_cast<void*>(addr)) {  // a kernel without MAP_FIXED_NOREPLACE
    ::munmap(got, len);
    return false;
  }
  return true;
}

// An aligned PROT_NONE reservation of `len` bytes in the root; 0 if none.
uintptr_t ReserveAnywhere(uint64_t len, uint64_t align) {
  const uint64_t extra = align > kPageSize ? align : 0;
  void* got =
      ::mmap(nullptr, len + extra, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (got == MAP_FAILED) return 0;
  const auto raw = reinterpret_cast<uintptr_t>(got);
  const uintptr_t at = (raw + align - 1) & ~(align - 1);
  if (at > raw) ::munmap(got, at - raw);
  if (raw + len + extra > at + len) {
    ::munmap(reinterpret_cast<void*>(at + len), raw + len + extra - (at + len));
  }
  return at;
}

// The region checks zx_vmar_map and zx_vmar_allocate share (Zircon's order): where the new
// child goes, in `*addr` (0: anywhere in the root, left to the kernel). `overwrite` is
// set when it replaces mappings.
zx_status_t Place(VmarObj* vmar, zx_vm_option_t options, uint64_t offset, uint64_t len,
                  uint64_t align, uintptr_t* addr, bool* overwrite) UPAGER_REQUIRES(g_vmar_mutex) {
  *overwrite = false;
  if (vmar->dead) return ZX_ERR_BAD_STATE;
  if (len == 0) return ZX_ERR_INVALID_ARGS;
  if ((options & kCanMapRwx & ~vmar->flags) != 0) return ZX_ERR_ACCESS_DENIED;
  const bool is_overwrite = (options & ZX_VM_SPECIFIC_OVERWRITE) != 0;
  const bool specific = (options & ZX_VM_SPECIFIC) != 0 || is_overwrite;
  const bool upper = (options & ZX_VM_OFFSET_IS_UPPER_LIMIT) != 0;
  if (specific && upper) return ZX_ERR_INVALID_ARGS;
  if (!specific && !upper && offset != 0) return ZX_ERR_INVALID_ARGS;
  if (!PageAligned(offset)) return ZX_ERR_INVALID_ARGS;
  if ((specific || upper) && (vmar->flags & ZX_VM_CAN_MAP_SPECIFIC) == 0) {
    return ZX_ERR_ACCESS_DENIED;
  }
  if (!upper && (offset >= vmar->size || len > vmar->size - offset)) return ZX_ERR_INVALID_ARGS;
  if (upper && (offset > vmar->size || len > vmar->size || len > offset)) {
    return ZX_ERR_INVALID_ARGS;
  }
  if (specific) {
    *addr = vmar->base + offset;
    if ((*addr & (align - 1)) != 0) return ZX_ERR_INVALID_ARGS;
    bool region = false;
    if (Overlaps(vmar, *addr, len, &region)) {
      if (!is_overwrite) return ZX_ERR_ALREADY_EXISTS;
      if (region) return ZX_ERR_INVALID_ARGS;  // a sub-region is never overwritten
      *overwrite = true;
    }
    // In the root, a range the layer has nothing in may still be somebody else's memory.
    if (vmar->root && !*overwrite && !ReserveInRoot(*addr, len)) {
      return is_overwrite ? ZX_ERR_NOT_SUPPORTED : ZX_ERR_ALREADY_EXISTS;
    }
    if (vmar->root && *overwrite) {
      // Only over what the layer mapped: a gap is somebody else's memory.
      uintptr_t expected = *addr;
      for (const auto& [base, child] : vmar->children) {
        if (base + child.len <= *addr || base >= *addr + len) continue;
        if (base > expected) return ZX_ERR_NOT_SUPPORTED;
        expected = base + child.len;
      }
      if (expected < *addr + len) return ZX_ERR_NOT_SUPPORTED;
    }
    return ZX_OK;
  }
  if (vmar->root) {
    if (upper) return ZX_ERR_NOT_SUPPORTED;  // the kernel places root mappings
    *addr = align > kPageSize ? ReserveAnywhere(len, align) : 0;
    if (align > kPageSize && *addr == 0) return ZX_ERR_NO_RESOURCES;
    return ZX_OK;
  }
  *addr = FindSpot(vmar, len, align, upper ? offset : vmar->size);
  return *addr == 0 ? ZX_ERR_NO_RESOURCES : ZX_OK;
}

// Forgets the pieces of [addr, addr+len) in `vmar` (the library replaced them).
void ForgetReplaced(VmarObj* vmar, uintptr_t addr, uint64_t len) UPAGER_REQUIRES(g_vmar_mutex) {
  SplitPieceAt(vmar, addr);
  SplitPieceAt(vmar, addr + len);
  for (auto it = vmar->children.lower_bound(addr);
       it != vmar->children.end() && it->first < addr + len;) {
    it = vmar->children.erase(it);
  }
}

}  // namespace

zx_status_t VmarInfo(zx_handle_t handle, void* buffer, size_t buffer_size, size_t* actual,
                     size_t* avail) {
  std::shared_ptr<VmarObj> vmar;
  if (zx_status_t s = HandleTable::Get().Get(handle, ZX_RIGHT_INSPECT, &vmar); s != ZX_OK) {
    return s;
  }
  zx_info_vmar_t record{};
  record.base = vmar->base;
  record.len = vmar->size;
  if (actual != nullptr) *actual = 0;
  if (avail != nullptr) *avail = 1;
  if (buffer_size < sizeof record) return ZX_ERR_BUFFER_TOO_SMALL;
  *static_cast<zx_info_vmar_t*>(buffer) = record;
  if (actual != nullptr) *actual = 1;
  return ZX_OK;
}

}  // namespace upager::zx

using namespace upager::zx;  // NOLINT: the C entry points below implement this namespace
using upager::kMapRead;
using upager::kMapWrite;
using upager::kPageSize;
using upager::Mapping;
using upager::Status;
namespace internal = upager::internal;

extern "C" zx_handle_t zx_vmar_root_self(void) {
  static const zx_handle_t root = HandleTable::Get().Add(
      std::make_shared<VmarObj>(kRootBase, kRootSize, kRootFlags, std::weak_ptr<VmarObj>(), true),
      kRootVmarRights);
  return root;
}

extern "C" zx_status_t zx_vmar_map(zx_handle_t handle, zx_vm_option_t options, size_t vmar_offset,
                                   zx_handle_t vmo, uint64_t vmo_offset, size_t len,
                                   zx_vaddr_t* mapped_addr) {
  std::shared_ptr<VmarObj> vmar;
  zx_rights_t vmar_rights = 0;
  if (zx_status_t s = HandleTable::Get().Get(handle, ZX_RIGHT_NONE, &vmar, &vmar_rights);
      s != ZX_OK) {
    return s;
  }
  std::shared_ptr<VmoObj> vmo_obj;
  zx_rights_t vmo_rights = 0;
  if (zx_status_t s = HandleTable::Get().Get(vmo, ZX_RIGHT_NONE, &vmo_obj, &vmo_rights);
      s != ZX_OK) {
    return s;
  }
  if ((vmo_rights & ZX_RIGHT_MAP) == 0) return ZX_ERR_ACCESS_DENIED;
  if ((options & ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED) != 0) options |= ZX_VM_PERM_READ;  // no XOM
  const zx_vm_option_t perms = options & kPermMask;
  if (!ValidProtection(perms)) return ZX_ERR_INVALID_ARGS;
  const bool map_range = (options & ZX_VM_MAP_RANGE) != 0;
  options &= ~ZX_VM_MAP_RANGE;
  if (map_range && (options & ZX_VM_SPECIFIC_OVERWRITE) != 0) return ZX_ERR_INVALID_ARGS;
  // Those describe regions, not mappings.
  if ((options & kCanMapRwx) != 0) return ZX_ERR_INVALID_ARGS;
  // Each permission needs the matching right on both the VMAR and the VMO; what both allow
  // now bounds later protections.
  zx_vm_option_t max_perms = 0;
  for (const auto& [perm, right] : kPermRights) {
    const bool can = (vmar_rights & right) != 0 && (vmo_rights & right) != 0;
    if ((perms & perm) != 0 && !can) return ZX_ERR_ACCESS_DENIED;
    if (can) max_perms |= CanMapOf(perm);
  }
  if ((options & ZX_VM_FAULT_BEYOND_STREAM_SIZE) != 0 && (options & ZX_VM_ALLOW_FAULTS) == 0) {
    return ZX_ERR_INVALID_ARGS;
  }
  uint64_t align = kPageSize;
  if (zx_status_t s = SplitOptions(options, &align); s != ZX_OK) return s;
  if ((options & ZX_VM_REQUIRE_NON_RESIZABLE) != 0 && vmo_obj->resizable()) {
    return ZX_ERR_NOT_SUPPORTED;
  }
  if ((options & (ZX_VM_COMPACT | ZX_VM_CAN_MAP_SPECIFIC)) != 0) return ZX_ERR_INVALID_ARGS;
  if ((CanMapOf(perms) & ~vmar->flags) != 0) return ZX_ERR_ACCESS_DENIED;
  if (!PageAligned(vmo_offset)) return ZX_ERR_INVALID_ARGS;
  const uint64_t size = RoundUpToPage(len);
  if (size < len) return ZX_ERR_OUT_OF_RANGE;
  if (mapped_addr == nullptr) return ZX_ERR_INVALID_ARGS;
  internal::MutexLock lock(&g_vmar_mutex);
  uintptr_t addr = 0;
  bool overwrite = false;
  if (zx_status_t s = Place(vmar.get(), options, vmar_offset, size, align, &addr, &overwrite);
      s != ZX_OK) {
    return s;
  }
  // Not in upager: executable mappings, faults beyond the stream size.
  if ((perms & ZX_VM_PERM_EXECUTE) != 0 || (options & ZX_VM_FAULT_BEYOND_STREAM_SIZE) != 0) {
    if (addr != 0 && !overwrite && vmar->root) ::munmap(reinterpret_cast<void*>(addr), size);
    return ZX_ERR_NOT_SUPPORTED;
  }
  // Writable in the library whenever the rights allow it, so that a protect may give write
  // access later; the protection asked for is then set.
  auto mapping = std::make_shared<Mapping>();
  auto create = [&](uint32_t flags) {
    return addr == 0 ? Mapping::Create(vmo_obj->vmo(), vmo_offset, size, flags, mapping.get())
                     : Mapping::CreateAt(vmo_obj->vmo(), vmo_offset, size, flags,
                                         reinterpret_cast<void*>(addr), mapping.get());
  };
  const bool may_write = (max_perms & ZX_VM_CAN_MAP_WRITE) != 0;
  Status status = create(kMapRead | (may_write ? kMapWrite : 0));
  if (status == Status::kNotSupported && may_write && (perms & ZX_VM_PERM_WRITE) == 0) {
    max_perms &= ~ZX_VM_CAN_MAP_WRITE;  // no write protection here: read-only it stays
    status = create(kMapRead);
  }
  if (overwrite) ForgetReplaced(vmar.get(), addr, size);  // the library took the range
  if (status != Status::kOk) {
    if (addr != 0 && vmar->root) ::munmap(reinterpret_cast<void*>(addr), size);
    return ToZx(status);
  }
  const uint32_t created = kMapRead | ((max_perms & ZX_VM_CAN_MAP_WRITE) != 0 ? kMapWrite : 0);
  if (LibraryProtection(perms) != created) {
    if (zx_status_t s = ToZx(mapping->Protect(0, size, LibraryProtection(perms))); s != ZX_OK) {
      return s;
    }
  }
  if (map_range) mapping->MapRange(0, size);
  addr = reinterpret_cast<uintptr_t>(mapping->data());
  VmarChild child;
  child.len = size;
  child.piece = VmarPiece{std::move(mapping), std::move(vmo_obj), vmo_offset, 0, perms, max_perms};
  vmar->children.emplace(addr, std::move(child));
  *mapped_addr = addr;
  return ZX_OK;
}

extern "C" zx_status_t zx_vmar_allocate(zx_handle_t parent_handle, zx_vm_option_t options,
                                        size_t offset, size_t size, zx_handle_t* child_vmar,
                                        zx_vaddr_t* child_addr) {
  zx_rights_t needed = 0;
  if ((options & ZX_VM_CAN_MAP_READ) != 0) needed |= ZX_RIGHT_READ;
  if ((options & ZX_VM_CAN_MAP_WRITE) != 0) needed |= ZX_RIGHT_WRITE;
  if ((options & ZX_VM_CAN_MAP_EXECUTE) != 0) needed |= ZX_RIGHT_EXECUTE;
  std::shared_ptr<VmarObj> parent;
  if (zx_status_t s = HandleTable::Get().Get(parent_handle, needed, &parent); s != ZX_OK) return s;
  uint64_t align = kPageSize;
  if (zx_status_t s = SplitOptions(options, &align); s != ZX_OK) return s;
  if ((options & (kPermMask | ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED)) != 0) {
    return ZX_ERR_INVALID_ARGS;
  }
  if (!PageAligned(size)) return ZX_ERR_INVALID_ARGS;
  constexpr zx_vm_option_t kRegionOptions = ZX_VM_SPECIFIC | ZX_VM_CAN_MAP_SPECIFIC |
                                            ZX_VM_COMPACT | kCanMapRwx |
                                            ZX_VM_OFFSET_IS_UPPER_LIMIT | ZX_VM_ALIGN_MASK;
  if ((options & ~kRegionOptions) != 0) return ZX_ERR_INVALID_ARGS;
  if (child_vmar == nullptr || child_addr == nullptr) return ZX_ERR_INVALID_ARGS;
  internal::MutexLock lock(&g_vmar_mutex);
  uintptr_t addr = 0;
  bool overwrite = false;
  if (zx_status_t s = Place(parent.get(), options, offset, size, align, &addr, &overwrite);
      s != ZX_OK) {
    return s;
  }
  if (addr == 0) addr = ReserveAnywhere(size, kPageSize);  // in the root, anywhere
  if (addr == 0) return ZX_ERR_NO_RESOURCES;
  const zx_vm_option_t flags = options & (kCanMapRwx | ZX_VM_CAN_MAP_SPECIFIC | ZX_VM_COMPACT);
  auto region = std::make_shared<VmarObj>(addr, size, flags, parent, false);
  zx_rights_t rights = ZX_DEFAULT_VMAR_RIGHTS;
  for (const auto& [perm, right] : kPermRights) {
    if ((flags & CanMapOf(perm)) != 0) rights |= right;
  }
  VmarChild child;
  child.len = size;
  child.vmar = region;
  parent->children.emplace(addr, std::move(child));
  *child_vmar = HandleTable::Get().Add(std::move(region), rights);
  *child_addr = addr;
  return ZX_OK;
}

extern "C" zx_status_t zx_vmar_destroy(zx_handle_t handle) {
  std::shared_ptr<VmarObj> vmar;
  if (zx_status_t s = HandleTable::Get().Get(handle, ZX_RIGHT_OP_CHILDREN, &vmar); s != ZX_OK) {
    return s;
  }
  if (vmar->root) return ZX_ERR_NOT_SUPPORTED;
  internal::MutexLock lock(&g_vmar_mutex);
  if (vmar->dead) return ZX_ERR_BAD_STATE;
  DestroyLocked(vmar.get());
  return ZX_OK;
}

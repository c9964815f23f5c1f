// zx_vmar_*: the root VMAR, whose mappings are upager Mappings. Sub-regions, fixed
// addresses and changing protections are not supported yet (docs/zx-compat.md).
#include <zircon/syscalls.h>

#include <map>
#include <memory>
#include <utility>

#include "base/koid.h"
#include "handle_table.h"
#include "object.h"
#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"
#include "upager/mapping.h"

namespace upager::zx {
namespace {

class VmarObj final : public Object {
 public:
  static constexpr zx_obj_type_t kType = ZX_OBJ_TYPE_VMAR;
  VmarObj() : Object(kType, internal::NextKoid(), false, 0, 0) {}

  zx_vaddr_t Add(Mapping mapping, zx_vm_option_t perms) {
    const auto addr = reinterpret_cast<zx_vaddr_t>(mapping.data());
    internal::MutexLock lock(&mutex_);
    mappings_.emplace(addr, Entry{std::move(mapping), perms});
    return addr;
  }

  // The mapping that is exactly [addr, addr + len): its permissions in `*perms`.
  // ZX_ERR_NOT_FOUND if nothing is mapped there, ZX_ERR_NOT_SUPPORTED for a range that
  // covers part of a mapping or several.
  zx_status_t Find(zx_vaddr_t addr, size_t len, zx_vm_option_t* perms) {
    internal::MutexLock lock(&mutex_);
    auto it = FindLocked(addr, len);
    if (it == mappings_.end()) return Overlaps(addr, len) ? ZX_ERR_NOT_SUPPORTED : ZX_ERR_NOT_FOUND;
    *perms = it->second.perms;
    return ZX_OK;
  }

  zx_status_t Remove(zx_vaddr_t addr, size_t len) {
    Mapping gone;  // unmapped outside the lock: a faulting thread may be woken
    {
      internal::MutexLock lock(&mutex_);
      auto it = FindLocked(addr, len);
      if (it == mappings_.end()) {
        return Overlaps(addr, len) ? ZX_ERR_NOT_SUPPORTED : ZX_ERR_NOT_FOUND;
      }
      gone = std::move(it->second.mapping);
      mappings_.erase(it);
    }
    gone.Reset();
    return ZX_OK;
  }

 private:
  struct Entry {
    Mapping mapping;
    zx_vm_option_t perms;
  };
  using Map = std::map<zx_vaddr_t, Entry>;

  Map::iterator FindLocked(zx_vaddr_t addr, size_t len) UPAGER_REQUIRES(mutex_) {
    auto it = mappings_.find(addr);
    if (it == mappings_.end() || it->second.mapping.size() != len) return mappings_.end();
    return it;
  }
  bool Overlaps(zx_vaddr_t addr, size_t len) UPAGER_REQUIRES(mutex_) {
    for (const auto& [base, entry] : mappings_) {
      if (base < addr + len && addr < base + entry.mapping.size()) return true;
    }
    return false;
  }

  internal::Mutex mutex_;
  Map mappings_ UPAGER_GUARDED_BY(mutex_);
};

constexpr zx_rights_t kRootVmarRights =
    ZX_DEFAULT_VMAR_RIGHTS | ZX_RIGHT_READ | ZX_RIGHT_WRITE | ZX_RIGHT_EXECUTE;

// Which right each mapping permission needs.
constexpr std::pair<zx_vm_option_t, zx_rights_t> kPermRights[] = {
    {ZX_VM_PERM_READ, ZX_RIGHT_READ},
    {ZX_VM_PERM_WRITE, ZX_RIGHT_WRITE},
    {ZX_VM_PERM_EXECUTE, ZX_RIGHT_EXECUTE}};

// A protection the hardware can give: write and execute-only need read here (no
// execute-only memory on the machines upager runs on).
bool ValidProtection(zx_vm_option_t perms) {
  return (perms & (ZX_VM_PERM_WRITE | ZX_VM_PERM_EXECUTE)) == 0 || (perms & ZX_VM_PERM_READ) != 0;
}

bool PageAligned(uint64_t v) { return (v & (kPageSize - 1)) == 0; }
uint64_t RoundUpToPage(uint64_t v) { return (v + kPageSize - 1) & ~(kPageSize - 1); }

}  // namespace
}  // namespace upager::zx

using namespace upager::zx;  // NOLINT: the C entry points below implement this namespace

extern "C" zx_handle_t zx_vmar_root_self(void) {
  static const zx_handle_t root =
      HandleTable::Get().Add(std::make_shared<VmarObj>(), kRootVmarRights);
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
  const zx_vm_option_t perms = options & (ZX_VM_PERM_READ | ZX_VM_PERM_WRITE | ZX_VM_PERM_EXECUTE);
  if (!ValidProtection(perms)) return ZX_ERR_INVALID_ARGS;
  if ((options & ZX_VM_MAP_RANGE) != 0 && (options & ZX_VM_SPECIFIC_OVERWRITE) != 0) {
    return ZX_ERR_INVALID_ARGS;
  }
  // Those describe regions, not mappings.
  if ((options & (ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE | ZX_VM_CAN_MAP_EXECUTE)) != 0) {
    return ZX_ERR_INVALID_ARGS;
  }
  // Each permission needs the matching right on both the VMAR and the VMO.
  for (const auto& [perm, right] : kPermRights) {
    if ((perms & perm) != 0 && ((vmar_rights & right) == 0 || (vmo_rights & right) == 0)) {
      return ZX_ERR_ACCESS_DENIED;
    }
  }
  if ((options & ZX_VM_FAULT_BEYOND_STREAM_SIZE) != 0 && (options & ZX_VM_ALLOW_FAULTS) == 0) {
    return ZX_ERR_INVALID_ARGS;
  }
  if (mapped_addr == nullptr || len == 0 || !PageAligned(vmo_offset)) return ZX_ERR_INVALID_ARGS;
  constexpr zx_vm_option_t kSpecific = ZX_VM_SPECIFIC | ZX_VM_SPECIFIC_OVERWRITE;
  if ((options & kSpecific) == 0 && vmar_offset != 0) return ZX_ERR_INVALID_ARGS;
  // Fixed addresses, MAP_RANGE and execute are not in upager yet.
  constexpr zx_vm_option_t kSupported = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE | ZX_VM_ALLOW_FAULTS |
                                        ZX_VM_REQUIRE_NON_RESIZABLE | ZX_VM_ALIGN_MASK;
  if ((options & ~kSupported) != 0) return ZX_ERR_NOT_SUPPORTED;
  if ((perms & ZX_VM_PERM_READ) == 0) return ZX_ERR_NOT_SUPPORTED;  // no-access mappings
  if ((options & ZX_VM_REQUIRE_NON_RESIZABLE) != 0 && vmo_obj->resizable()) {
    return ZX_ERR_NOT_SUPPORTED;
  }
  upager::Mapping mapping;
  const uint32_t flags =
      upager::kMapRead | ((perms & ZX_VM_PERM_WRITE) != 0 ? upager::kMapWrite : 0);
  if (zx_status_t s = ToZx(
          upager::Mapping::Create(vmo_obj->vmo(), vmo_offset, RoundUpToPage(len), flags, &mapping));
      s != ZX_OK) {
    return s;
  }
  *mapped_addr = vmar->Add(std::move(mapping), perms);
  return ZX_OK;
}

extern "C" zx_status_t zx_vmar_unmap(zx_handle_t handle, zx_vaddr_t addr, size_t len) {
  std::shared_ptr<VmarObj> vmar;
  if (zx_status_t s = HandleTable::Get().Get(handle, ZX_RIGHT_NONE, &vmar); s != ZX_OK) return s;
  if (!PageAligned(addr) || len == 0) return ZX_ERR_INVALID_ARGS;
  return vmar->Remove(addr, RoundUpToPage(len));
}

extern "C" zx_status_t zx_vmar_protect(zx_handle_t handle, zx_vm_option_t options, zx_vaddr_t addr,
                                       size_t len) {
  // The VMAR must allow every permission asked for.
  zx_rights_t needed = ZX_RIGHT_NONE;
  for (const auto& [perm, right] : kPermRights) {
    if ((options & perm) != 0) needed |= right;
  }
  std::shared_ptr<VmarObj> vmar;
  if (zx_status_t s = HandleTable::Get().Get(handle, needed, &vmar); s != ZX_OK) return s;
  const zx_vm_option_t perms = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE | ZX_VM_PERM_EXECUTE;
  if ((options & ~perms) != 0 || !ValidProtection(options)) return ZX_ERR_INVALID_ARGS;
  if (!PageAligned(addr) || len == 0) return ZX_ERR_INVALID_ARGS;
  zx_vm_option_t current = 0;
  if (zx_status_t s = vmar->Find(addr, RoundUpToPage(len), &current); s != ZX_OK) return s;
  // Changing a mapping's protection is not in upager yet; keeping it is.
  return options == current ? ZX_OK : ZX_ERR_NOT_SUPPORTED;
}

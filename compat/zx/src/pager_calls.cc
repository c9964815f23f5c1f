// zx_pager_*: upager's Pager behind a handle, with Zircon's checks in Zircon's order.
#include <zircon/syscalls-next.h>
#include <zircon/syscalls.h>

#include <memory>

#include "handle_table.h"
#include "object.h"
#include "upager/pager.h"

using namespace upager::zx;  // NOLINT: the C entry points below implement this namespace

namespace {

bool PageAligned(uint64_t v) { return (v & (upager::kPageSize - 1)) == 0; }

// The pager with `pager_rights` and its VMO with `vmo_rights`; ZX_ERR_INVALID_ARGS if the
// VMO was not created by this pager.
zx_status_t PagerAndVmo(zx_handle_t pager_handle, zx_rights_t pager_rights, zx_handle_t vmo_handle,
                        zx_rights_t vmo_rights, std::shared_ptr<PagerObj>* pager,
                        std::shared_ptr<VmoObj>* vmo) {
  HandleTable& table = HandleTable::Get();
  if (zx_status_t s = table.Get(pager_handle, pager_rights, pager); s != ZX_OK) return s;
  if (zx_status_t s = table.Get(vmo_handle, vmo_rights, vmo); s != ZX_OK) return s;
  if ((*vmo)->pager_koid() != (*pager)->koid()) return ZX_ERR_INVALID_ARGS;
  return ZX_OK;
}

}  // namespace

extern "C" zx_status_t zx_pager_create(uint32_t options, zx_handle_t* out) {
  if (options != 0 || out == nullptr) return ZX_ERR_INVALID_ARGS;
  upager::Pager pager;
  if (zx_status_t s = ToZx(upager::Pager::Create(0, &pager)); s != ZX_OK) return s;
  *out =
      HandleTable::Get().Add(std::make_shared<PagerObj>(std::move(pager)), ZX_DEFAULT_PAGER_RIGHTS);
  return ZX_OK;
}

extern "C" zx_status_t zx_pager_create_vmo(zx_handle_t pager, uint32_t options, zx_handle_t port,
                                           uint64_t key, uint64_t size, zx_handle_t* out) {
  std::shared_ptr<PagerObj> pager_obj;
  if (zx_status_t s = HandleTable::Get().Get(pager, ZX_RIGHT_ATTACH_VMO, &pager_obj); s != ZX_OK) {
    return s;
  }
  std::shared_ptr<PortObj> port_obj;
  if (zx_status_t s = HandleTable::Get().Get(port, ZX_RIGHT_WRITE, &port_obj); s != ZX_OK) {
    return s;
  }
  // Unknown options first: INVALID_ARGS whatever else is set.
  if ((options & ~(ZX_VMO_RESIZABLE | ZX_VMO_TRAP_DIRTY | ZX_VMO_UNBOUNDED)) != 0) {
    return ZX_ERR_INVALID_ARGS;
  }
  upager::Vmo vmo;
  if (zx_status_t s =
          ToZx(pager_obj->pager().CreateVmo(options, port_obj->port(), key, size, &vmo));
      s != ZX_OK) {
    return s;
  }
  if (out == nullptr) return ZX_ERR_INVALID_ARGS;
  const bool resizable = (options & ZX_VMO_RESIZABLE) != 0;
  *out =
      HandleTable::Get().Add(std::make_shared<VmoObj>(std::move(vmo), resizable, pager_obj->koid()),
                             NewVmoRights(resizable));
  return ZX_OK;
}

extern "C" zx_status_t zx_pager_detach_vmo(zx_handle_t pager, zx_handle_t vmo) {
  std::shared_ptr<PagerObj> p;
  std::shared_ptr<VmoObj> v;
  if (zx_status_t s = PagerAndVmo(pager, ZX_RIGHT_ATTACH_VMO | ZX_RIGHT_MANAGE_VMO, vmo,
                                  ZX_RIGHT_WRITE, &p, &v);
      s != ZX_OK) {
    return s;
  }
  return ToZx(p->pager().DetachVmo(v->vmo()));
}

extern "C" zx_status_t zx_pager_supply_pages(zx_handle_t pager, zx_handle_t pager_vmo,
                                             uint64_t offset, uint64_t length, zx_handle_t aux_vmo,
                                             uint64_t aux_offset) {
  if (!PageAligned(offset) || !PageAligned(length) || !PageAligned(aux_offset)) {
    return ZX_ERR_INVALID_ARGS;
  }
  std::shared_ptr<PagerObj> p;
  std::shared_ptr<VmoObj> v;
  if (zx_status_t s = PagerAndVmo(pager, ZX_RIGHT_MANAGE_VMO, pager_vmo, ZX_RIGHT_WRITE, &p, &v);
      s != ZX_OK) {
    return s;
  }
  std::shared_ptr<VmoObj> aux;
  if (zx_status_t s = HandleTable::Get().Get(aux_vmo, ZX_RIGHT_READ | ZX_RIGHT_WRITE, &aux);
      s != ZX_OK) {
    return s;
  }
  return ToZx(p->pager().SupplyPages(v->vmo(), offset, length, aux->vmo(), aux_offset));
}

extern "C" zx_status_t zx_pager_op_range(zx_handle_t pager, uint32_t op, zx_handle_t pager_vmo,
                                         uint64_t offset, uint64_t length, uint64_t data) {
  if (!PageAligned(offset) || !PageAligned(length)) return ZX_ERR_INVALID_ARGS;
  std::shared_ptr<PagerObj> p;
  std::shared_ptr<VmoObj> v;
  if (zx_status_t s = PagerAndVmo(pager, ZX_RIGHT_MANAGE_VMO, pager_vmo, ZX_RIGHT_WRITE, &p, &v);
      s != ZX_OK) {
    return s;
  }
  return ToZx(p->pager().OpRange(op, v->vmo(), offset, length, data));
}

extern "C" zx_status_t zx_pager_query_dirty_ranges(zx_handle_t pager, zx_handle_t pager_vmo,
                                                   uint64_t offset, uint64_t length, void* buffer,
                                                   size_t buffer_size, size_t* actual,
                                                   size_t* avail) {
  std::shared_ptr<PagerObj> p;
  std::shared_ptr<VmoObj> v;
  if (zx_status_t s = PagerAndVmo(pager, ZX_RIGHT_MANAGE_VMO, pager_vmo, ZX_RIGHT_READ, &p, &v);
      s != ZX_OK) {
    return s;
  }
  return ToZx(
      p->pager().QueryDirtyRanges(v->vmo(), offset, length, buffer, buffer_size, actual, avail));
}

extern "C" zx_status_t zx_pager_query_vmo_stats(zx_handle_t pager, zx_handle_t pager_vmo,
                                                uint32_t options, void* buffer,
                                                size_t buffer_size) {
  std::shared_ptr<PagerObj> p;
  std::shared_ptr<VmoObj> v;
  if (zx_status_t s = PagerAndVmo(pager, ZX_RIGHT_MANAGE_VMO, pager_vmo, ZX_RIGHT_READ, &p, &v);
      s != ZX_OK) {
    return s;
  }
  return ToZx(p->pager().QueryVmoStats(v->vmo(), options, buffer, buffer_size));
}

// The kernel-only calls of zircon/syscalls/iommu.h: none exists on Linux. Arguments are not
// looked at; every call answers ZX_ERR_NOT_SUPPORTED and makes no handle.
#include <zircon/errors.h>
#include <zircon/syscalls/iommu.h>

extern "C" {

zx_status_t zx_iommu_create(zx_handle_t, uint32_t, const void*, size_t, zx_handle_t* out) {
  if (out) *out = ZX_HANDLE_INVALID;
  return ZX_ERR_NOT_SUPPORTED;
}
zx_status_t zx_bti_create(zx_handle_t, uint32_t, uint64_t, zx_handle_t* out) {
  if (out) *out = ZX_HANDLE_INVALID;
  return ZX_ERR_NOT_SUPPORTED;
}
zx_status_t zx_bti_pin(zx_handle_t, uint32_t, zx_handle_t, uint64_t, uint64_t, zx_paddr_t*, size_t,
                       zx_handle_t* pmt) {
  if (pmt) *pmt = ZX_HANDLE_INVALID;
  return ZX_ERR_NOT_SUPPORTED;
}
zx_status_t zx_bti_release_quarantine(zx_handle_t) { return ZX_ERR_NOT_SUPPORTED; }
zx_status_t zx_pmt_unpin(zx_handle_t) { return ZX_ERR_NOT_SUPPORTED; }
zx_status_t zx_vmo_create_physical(zx_handle_t, zx_paddr_t, size_t, zx_handle_t* out) {
  if (out) *out = ZX_HANDLE_INVALID;
  return ZX_ERR_NOT_SUPPORTED;
}
zx_status_t zx_vmo_create_contiguous(zx_handle_t, size_t, uint32_t, zx_handle_t* out) {
  if (out) *out = ZX_HANDLE_INVALID;
  return ZX_ERR_NOT_SUPPORTED;
}

}  // extern "C"

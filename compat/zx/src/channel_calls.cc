// zx_channel_*.
#include <zircon/syscalls.h>

extern "C" zx_status_t zx_channel_create(uint32_t, zx_handle_t*, zx_handle_t*) {
  return ZX_ERR_NOT_SUPPORTED;
}
extern "C" zx_status_t zx_channel_read(zx_handle_t, uint32_t, void*, zx_handle_t*, uint32_t,
                                       uint32_t, uint32_t*, uint32_t*) {
  return ZX_ERR_NOT_SUPPORTED;
}
extern "C" zx_status_t zx_channel_read_etc(zx_handle_t, uint32_t, void*, zx_handle_info_t*,
                                           uint32_t, uint32_t, uint32_t*, uint32_t*) {
  return ZX_ERR_NOT_SUPPORTED;
}
extern "C" zx_status_t zx_channel_write(zx_handle_t, uint32_t, const void*, uint32_t,
                                        const zx_handle_t*, uint32_t) {
  return ZX_ERR_NOT_SUPPORTED;
}

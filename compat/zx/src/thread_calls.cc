// zx_thread_self, zx_task_* and the upager extension upager_zx_thread_current.
#include <zircon/syscalls.h>

extern "C" zx_handle_t zx_thread_self(void) { return ZX_HANDLE_INVALID; }
extern "C" zx_status_t upager_zx_thread_current(zx_handle_t*) { return ZX_ERR_NOT_SUPPORTED; }
extern "C" zx_status_t zx_task_suspend(zx_handle_t, zx_handle_t*) { return ZX_ERR_NOT_SUPPORTED; }
extern "C" zx_status_t zx_task_suspend_token(zx_handle_t, zx_handle_t*) {
  return ZX_ERR_NOT_SUPPORTED;
}
extern "C" zx_status_t zx_task_kill(zx_handle_t) { return ZX_ERR_NOT_SUPPORTED; }
extern "C" zx_status_t zx_task_create_exception_channel(zx_handle_t, uint32_t, zx_handle_t*) {
  return ZX_ERR_NOT_SUPPORTED;
}

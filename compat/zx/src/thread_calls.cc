// zx_thread_self, zx_task_* on threads, and the upager extension upager_zx_thread_current.
#include <zircon/syscalls.h>

#include <memory>
#include <utility>

#include "channel_obj.h"
#include "handle_table.h"
#include "thread_obj.h"

using namespace upager::zx;  // NOLINT: the C entry points below implement this namespace

extern "C" zx_handle_t zx_thread_self(void) {
  zx_handle_t self = ZX_HANDLE_INVALID;
  ThreadObj::Current(&self);
  return self;
}

extern "C" zx_status_t upager_zx_thread_current(zx_handle_t* out) {
  if (out == nullptr) return ZX_ERR_INVALID_ARGS;
  *out = HandleTable::Get().Add(ThreadObj::Current(), ZX_DEFAULT_THREAD_RIGHTS);
  return ZX_OK;
}

extern "C" zx_status_t zx_task_suspend_token(zx_handle_t handle, zx_handle_t* token) {
  std::shared_ptr<ThreadObj> thread;
  if (zx_status_t s = HandleTable::Get().Get(handle, ZX_RIGHT_WRITE, &thread); s != ZX_OK) {
    return s;
  }
  if (token == nullptr) return ZX_ERR_INVALID_ARGS;
  // It could never be handed the token to resume itself.
  if (thread->is_current()) return ZX_ERR_NOT_SUPPORTED;
  std::shared_ptr<Object> object;
  if (zx_status_t s = ThreadObj::Suspend(thread, &object); s != ZX_OK) return s;
  *token = HandleTable::Get().Add(std::move(object), ZX_DEFAULT_SUSPEND_TOKEN_RIGHTS);
  return ZX_OK;
}

extern "C" zx_status_t zx_task_suspend(zx_handle_t handle, zx_handle_t* token) {
  return zx_task_suspend_token(handle, token);
}

extern "C" zx_status_t zx_task_kill(zx_handle_t handle) {
  std::shared_ptr<ThreadObj> thread;
  if (zx_status_t s = HandleTable::Get().Get(handle, ZX_RIGHT_DESTROY, &thread); s != ZX_OK) {
    return s;
  }
  thread->Kill();
  return ZX_OK;
}

extern "C" zx_status_t zx_task_create_exception_channel(zx_handle_t handle, uint32_t options,
                                                        zx_handle_t* out) {
  std::shared_ptr<ThreadObj> thread;
  if (zx_status_t s = HandleTable::Get().Get(
          handle,
          ZX_RIGHT_INSPECT | ZX_RIGHT_DUPLICATE | ZX_RIGHT_TRANSFER | ZX_RIGHT_MANAGE_THREAD,
          &thread);
      s != ZX_OK) {
    return s;
  }
  if ((options & ~ZX_EXCEPTION_CHANNEL_DEBUGGER) != 0 || out == nullptr) {
    return ZX_ERR_INVALID_ARGS;
  }
  // A debugger channel belongs to processes (a thread has none).
  if (options != 0) return ZX_ERR_INVALID_ARGS;
  std::shared_ptr<ChannelObj> channel;
  if (zx_status_t s = thread->CreateExceptionChannel(&channel); s != ZX_OK) return s;
  *out =
      HandleTable::Get().Add(std::move(channel), ZX_RIGHT_TRANSFER | ZX_RIGHT_WAIT | ZX_RIGHT_READ);
  return ZX_OK;
}

// lib/zx's zx::thread (upager's zx layer; docs/zx-compat.md). A thread here is any thread of
// this process: zx::thread::self() names the calling one, as on Fuchsia; a thread hands a
// handle to itself to another with upager_current() (an upager extension).
#ifndef UPAGER_COMPAT_LIB_ZX_THREAD_H_
#define UPAGER_COMPAT_LIB_ZX_THREAD_H_

#include <lib/zx/handle.h>
#include <lib/zx/object.h>
#include <lib/zx/task.h>

namespace zx {

class thread final : public task<thread> {
 public:
  static constexpr zx_obj_type_t TYPE = ZX_OBJ_TYPE_THREAD;

  constexpr thread() = default;
  explicit thread(zx_handle_t value) : task(value) {}
  explicit thread(handle&& h) : task(h.release()) {}
  thread(thread&& other) noexcept : task(other.release()) {}
  thread& operator=(thread&& other) noexcept {
    reset(other.release());
    return *this;
  }

  // The calling thread, borrowed: the handle stays valid for the thread's life.
  static unowned<thread> self() { return unowned<thread>(zx_thread_self()); }

  // upager extension, not in lib/zx: a new handle, owned by `result`, to the calling thread
  // (the object self() names). Hand it to another thread to suspend or watch this one.
  static zx_status_t upager_current(thread* result) {
    return upager_zx_thread_current(result->reset_and_get_address());
  }
};

using unowned_thread = unowned<thread>;

}  // namespace zx

#endif  // UPAGER_COMPAT_LIB_ZX_THREAD_H_

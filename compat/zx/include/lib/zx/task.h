// lib/zx's zx::task<T>: what threads (and, on Fuchsia, processes and jobs) share: kill,
// suspend, exception channels (upager's zx layer; docs/zx-compat.md).
#ifndef UPAGER_COMPAT_LIB_ZX_TASK_H_
#define UPAGER_COMPAT_LIB_ZX_TASK_H_

#include <lib/zx/channel.h>
#include <lib/zx/object.h>
#include <lib/zx/suspend_token.h>

namespace zx {

template <typename T>
class task : public object<T> {
 public:
  constexpr task() = default;
  explicit task(zx_handle_t value) : object<T>(value) {}

  zx_status_t kill() const { return zx_task_kill(this->get()); }

  // The task stays suspended while `result` (or another token) is open.
  zx_status_t suspend(suspend_token* result) const {
    return zx_task_suspend_token(this->get(), result->reset_and_get_address());
  }

  zx_status_t create_exception_channel(uint32_t options, channel* result) const {
    return zx_task_create_exception_channel(this->get(), options, result->reset_and_get_address());
  }
};

}  // namespace zx

#endif  // UPAGER_COMPAT_LIB_ZX_TASK_H_

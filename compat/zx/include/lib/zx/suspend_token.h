// lib/zx's zx::suspend_token: closing it (its last handle) lets the suspended task run again
// (upager's zx layer; docs/zx-compat.md).
#ifndef UPAGER_COMPAT_LIB_ZX_SUSPEND_TOKEN_H_
#define UPAGER_COMPAT_LIB_ZX_SUSPEND_TOKEN_H_

#include <lib/zx/handle.h>
#include <lib/zx/object.h>

namespace zx {

class suspend_token final : public object<suspend_token> {
 public:
  static constexpr zx_obj_type_t TYPE = ZX_OBJ_TYPE_SUSPEND_TOKEN;

  constexpr suspend_token() = default;
  explicit suspend_token(zx_handle_t value) : object(value) {}
  explicit suspend_token(handle&& h) : object(h.release()) {}
  suspend_token(suspend_token&& other) noexcept : object(other.release()) {}
  suspend_token& operator=(suspend_token&& other) noexcept {
    reset(other.release());
    return *this;
  }
};

using unowned_suspend_token = unowned<suspend_token>;

}  // namespace zx

#endif  // UPAGER_COMPAT_LIB_ZX_SUSPEND_TOKEN_H_

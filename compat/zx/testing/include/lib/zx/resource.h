// zx::resource for the zx layer's test support (test-only; docs/zx-compat.md). Linux has
// no kernel resources: no call here makes one, and the only resource handles are invalid
// ones (maybe-standalone.h's root resource).
#ifndef UPAGER_COMPAT_LIB_ZX_RESOURCE_H_
#define UPAGER_COMPAT_LIB_ZX_RESOURCE_H_

#include <lib/zx/handle.h>
#include <lib/zx/object.h>
#include <zircon/syscalls/iommu.h>

namespace zx {

class resource final : public object<resource> {
 public:
  static constexpr zx_obj_type_t TYPE = ZX_OBJ_TYPE_RESOURCE;
  constexpr resource() = default;
  explicit resource(zx_handle_t value) : object(value) {}
  resource(resource&& other) noexcept : object(other.release()) {}
  resource& operator=(resource&& other) noexcept {
    reset(other.release());
    return *this;
  }
};

using unowned_resource = unowned<resource>;

}  // namespace zx

#endif  // UPAGER_COMPAT_LIB_ZX_RESOURCE_H_

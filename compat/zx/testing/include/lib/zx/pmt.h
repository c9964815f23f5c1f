// zx::pmt for the zx layer's test support (test-only; docs/zx-compat.md): kernel-only
// (zircon/syscalls/iommu.h).
#ifndef UPAGER_COMPAT_LIB_ZX_PMT_H_
#define UPAGER_COMPAT_LIB_ZX_PMT_H_

#include <lib/zx/handle.h>
#include <lib/zx/object.h>
#include <zircon/syscalls/iommu.h>

namespace zx {

class pmt final : public object<pmt> {
 public:
  static constexpr zx_obj_type_t TYPE = ZX_OBJ_TYPE_PMT;
  constexpr pmt() = default;
  explicit pmt(zx_handle_t value) : object(value) {}
  pmt(pmt&& other) noexcept : object(other.release()) {}
  pmt& operator=(pmt&& other) noexcept {
    reset(other.release());
    return *this;
  }
  // Unpins and consumes the handle.
  zx_status_t unpin() { return zx_pmt_unpin(release()); }
};

}  // namespace zx

#endif  // UPAGER_COMPAT_LIB_ZX_PMT_H_

// zx::iommu for the zx layer's test support (test-only; docs/zx-compat.md): kernel-only,
// create answers ZX_ERR_NOT_SUPPORTED (zircon/syscalls/iommu.h).
#ifndef UPAGER_COMPAT_LIB_ZX_IOMMU_H_
#define UPAGER_COMPAT_LIB_ZX_IOMMU_H_

#include <lib/zx/resource.h>
#include <zircon/syscalls/iommu.h>

namespace zx {

class iommu final : public object<iommu> {
 public:
  static constexpr zx_obj_type_t TYPE = ZX_OBJ_TYPE_IOMMU;
  constexpr iommu() = default;
  explicit iommu(zx_handle_t value) : object(value) {}
  iommu(iommu&& other) noexcept : object(other.release()) {}
  iommu& operator=(iommu&& other) noexcept {
    reset(other.release());
    return *this;
  }
  static zx_status_t create(const resource& resource, uint32_t type, const void* desc,
                            size_t desc_size, iommu* result) {
    return zx_iommu_create(resource.get(), type, desc, desc_size, result->reset_and_get_address());
  }
};

using unowned_iommu = unowned<iommu>;

}  // namespace zx

#endif  // UPAGER_COMPAT_LIB_ZX_IOMMU_H_

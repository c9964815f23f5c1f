// What Fuchsia's core pager tests take from elsewhere in Fuchsia's tree, written for upager
// (docs/zx-compat.md): the @next-vDSO question of needs-next.h, and the two helpers that
// vmo/helpers.h declares for physical memory and BTIs, which have nothing to work on here.
#include "zircon/system/utest/core/vmo/helpers.h"

// The layer always has its @next calls (zx_pager_query_dirty_ranges ...): never skip.
bool NeedsNextShouldSkip() { return false; }

namespace vmo_test {

// No physical VMOs without the root resource.
zx::result<PhysVmo> GetTestPhysVmo(size_t) { return zx::error(ZX_ERR_NOT_SUPPORTED); }

// No BTIs without an IOMMU, and no IOMMU without the root resource.
zx::bti CreateNamedBti(const zx::iommu&, uint32_t, uint64_t, const char*) { return zx::bti(); }

}  // namespace vmo_test

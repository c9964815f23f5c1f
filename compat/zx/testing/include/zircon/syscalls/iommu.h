/* Kernel-only calls of Zircon that upager cannot provide on Linux: IOMMUs, bus transaction
 * initiators (BTI pinning), physical and contiguous VMOs. Declared for the zx layer's test
 * support (test-only; docs/zx-compat.md) so that Fuchsia's tests that mention them compile;
 * each call returns ZX_ERR_NOT_SUPPORTED, and there is no root resource to make an IOMMU
 * with (maybe-standalone.h hands out an invalid handle), so the tests that need them are
 * listed as kernel-only in compat/zx/fuchsia/expectations.txt. Numbers are Zircon's ABI. */
#ifndef UPAGER_COMPAT_ZIRCON_SYSCALLS_IOMMU_H_
#define UPAGER_COMPAT_ZIRCON_SYSCALLS_IOMMU_H_

#include <zircon/syscalls/object.h>
#include <zircon/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZX_IOMMU_TYPE_DUMMY ((uint32_t)0u)
#define ZX_IOMMU_TYPE_INTEL ((uint32_t)1u)
#define ZX_IOMMU_TYPE_ARM_SMMU ((uint32_t)2u)

#define ZX_IOMMU_MAX_DESC_LEN 4096

typedef struct zx_iommu_desc_dummy {
  uint8_t reserved;
} zx_iommu_desc_dummy_t;

#define ZX_BTI_PERM_READ ((uint32_t)1u << 0)
#define ZX_BTI_PERM_WRITE ((uint32_t)1u << 1)
#define ZX_BTI_PERM_EXECUTE ((uint32_t)1u << 2)
#define ZX_BTI_COMPRESS ((uint32_t)1u << 3)
#define ZX_BTI_CONTIGUOUS ((uint32_t)1u << 4)

#ifndef ZX_OBJ_TYPE_RESOURCE
#define ZX_OBJ_TYPE_RESOURCE ((zx_obj_type_t)15u)
#endif
#ifndef ZX_OBJ_TYPE_IOMMU
#define ZX_OBJ_TYPE_IOMMU ((zx_obj_type_t)23u)
#endif
#ifndef ZX_OBJ_TYPE_BTI
#define ZX_OBJ_TYPE_BTI ((zx_obj_type_t)24u)
#endif
#ifndef ZX_OBJ_TYPE_PMT
#define ZX_OBJ_TYPE_PMT ((zx_obj_type_t)26u)
#endif

/* Ranges of the system resource (zx_resource_create with ZX_RSRC_KIND_SYSTEM). */
#ifndef ZX_RSRC_SYSTEM_HYPERVISOR_BASE
#define ZX_RSRC_SYSTEM_HYPERVISOR_BASE ((uint64_t)0u)
#define ZX_RSRC_SYSTEM_VMEX_BASE ((uint64_t)1u)
#define ZX_RSRC_SYSTEM_DEBUG_BASE ((uint64_t)2u)
#define ZX_RSRC_SYSTEM_INFO_BASE ((uint64_t)3u)
#define ZX_RSRC_SYSTEM_CPU_BASE ((uint64_t)4u)
#define ZX_RSRC_SYSTEM_POWER_BASE ((uint64_t)5u)
#define ZX_RSRC_SYSTEM_MEXEC_BASE ((uint64_t)6u)
#define ZX_RSRC_SYSTEM_ENERGY_INFO_BASE ((uint64_t)7u)
#define ZX_RSRC_SYSTEM_IOMMU_BASE ((uint64_t)8u)
#define ZX_RSRC_SYSTEM_FRAMEBUFFER_BASE ((uint64_t)9u)
#define ZX_RSRC_SYSTEM_PROFILE_BASE ((uint64_t)10u)
#define ZX_RSRC_SYSTEM_MSI_BASE ((uint64_t)11u)
#define ZX_RSRC_SYSTEM_STALL_BASE ((uint64_t)12u)
#define ZX_RSRC_SYSTEM_SAMPLING_BASE ((uint64_t)13u)
#endif

#ifndef ZX_INFO_BTI
#define ZX_INFO_BTI ((zx_object_info_topic_t)28u)
#endif

typedef struct zx_info_bti {
  uint64_t minimum_contiguity;
  uint64_t aspace_size;
  uint64_t pmo_count;
  uint64_t quarantine_count;
} zx_info_bti_t;

zx_status_t zx_iommu_create(zx_handle_t resource, uint32_t type, const void* desc, size_t desc_size,
                            zx_handle_t* out);
zx_status_t zx_bti_create(zx_handle_t iommu, uint32_t options, uint64_t bti_id, zx_handle_t* out);
zx_status_t zx_bti_pin(zx_handle_t handle, uint32_t options, zx_handle_t vmo, uint64_t offset,
                       uint64_t size, zx_paddr_t* addrs, size_t num_addrs, zx_handle_t* pmt);
zx_status_t zx_bti_release_quarantine(zx_handle_t handle);
zx_status_t zx_pmt_unpin(zx_handle_t handle);
zx_status_t zx_vmo_create_physical(zx_handle_t resource, zx_paddr_t paddr, size_t size,
                                   zx_handle_t* out);
zx_status_t zx_vmo_create_contiguous(zx_handle_t bti, size_t size, uint32_t alignment_log2,
                                     zx_handle_t* out);

#ifdef __cplusplus
}
#endif

#endif /* UPAGER_COMPAT_ZIRCON_SYSCALLS_IOMMU_H_ */

/* upager's zx compatibility layer: zx_object_get_info topics and records, laid out as
 * Zircon's. Only the topics the layer answers are declared (docs/zx-compat.md). */
#ifndef UPAGER_ZX_ZIRCON_SYSCALLS_OBJECT_H_
#define UPAGER_ZX_ZIRCON_SYSCALLS_OBJECT_H_

#include <zircon/compiler.h>
#include <zircon/types.h>

__BEGIN_CDECLS

/* clang-format off */
typedef uint32_t zx_object_info_topic_t;
/* A topic's version lives in its top 4 bits. */
#define UPAGER_ZX_INFO_TOPIC_(topic, version) \
  ((zx_object_info_topic_t)((topic) | ((version) << 28)))

#define ZX_INFO_NONE         ((zx_object_info_topic_t)0u)
#define ZX_INFO_HANDLE_VALID ((zx_object_info_topic_t)1u)
#define ZX_INFO_HANDLE_BASIC ((zx_object_info_topic_t)2u)
#define ZX_INFO_VMAR         ((zx_object_info_topic_t)7u)
#define ZX_INFO_THREAD       ((zx_object_info_topic_t)10u)
#define ZX_INFO_HANDLE_COUNT ((zx_object_info_topic_t)19u)
#define ZX_INFO_VMO_V1       UPAGER_ZX_INFO_TOPIC_(23u, 0u)
#define ZX_INFO_VMO_V2       UPAGER_ZX_INFO_TOPIC_(23u, 1u)
#define ZX_INFO_VMO          UPAGER_ZX_INFO_TOPIC_(23u, 2u)

/* zx_info_vmo_t::flags */
#define ZX_INFO_VMO_TYPE_PHYSICAL  (0u << 0)
#define ZX_INFO_VMO_TYPE_PAGED     (1u << 0)
#define ZX_INFO_VMO_TYPE(flags)    ((flags) & (1u << 0))
#define ZX_INFO_VMO_RESIZABLE      (1u << 1)
#define ZX_INFO_VMO_IS_COW_CLONE   (1u << 2)
#define ZX_INFO_VMO_VIA_HANDLE     (1u << 3)
#define ZX_INFO_VMO_VIA_MAPPING    (1u << 4)
#define ZX_INFO_VMO_PAGER_BACKED   (1u << 5)
#define ZX_INFO_VMO_CONTIGUOUS     (1u << 6)
#define ZX_INFO_VMO_DISCARDABLE    (1u << 7)
#define ZX_INFO_VMO_IMMUTABLE      (1u << 8)
#define ZX_INFO_VMO_VIA_IOB_HANDLE (1u << 9)
/* clang-format on */

typedef struct zx_info_handle_basic {
  zx_koid_t koid;
  zx_rights_t rights;
  zx_obj_type_t type;
  zx_koid_t related_koid; /* 0: no related object in this layer yet */
  uint32_t reserved;
  uint8_t padding1[4];
} zx_info_handle_basic_t;

typedef struct zx_info_handle_count {
  uint32_t handle_count;
} zx_info_handle_count_t;

typedef struct zx_info_vmar {
  uintptr_t base;
  size_t len;
} zx_info_vmar_t;

typedef struct zx_info_vmo {
  zx_koid_t koid;
  char name[ZX_MAX_NAME_LEN];
  uint64_t size_bytes;
  zx_koid_t parent_koid;
  size_t num_children;
  size_t num_mappings;
  size_t share_count;
  uint32_t flags;
  uint8_t padding1[4];
  uint64_t committed_bytes;
  zx_rights_t handle_rights;
  uint32_t cache_policy;
  uint64_t metadata_bytes;
  uint64_t committed_change_events;
  uint64_t populated_bytes;
} zx_info_vmo_t;

__END_CDECLS

#endif /* UPAGER_ZX_ZIRCON_SYSCALLS_OBJECT_H_ */

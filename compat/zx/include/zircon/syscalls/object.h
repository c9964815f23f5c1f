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

/* ZX_INFO_THREAD: zx_info_thread_t::state. The low byte is the basic state; a blocked
 * thread's high byte says on what. */
typedef uint32_t zx_thread_state_t;
#define ZX_THREAD_STATE_NEW               ((zx_thread_state_t)0x0000u)
#define ZX_THREAD_STATE_RUNNING           ((zx_thread_state_t)0x0001u)
#define ZX_THREAD_STATE_SUSPENDED         ((zx_thread_state_t)0x0002u)
#define ZX_THREAD_STATE_BLOCKED           ((zx_thread_state_t)0x0003u)
#define ZX_THREAD_STATE_DYING             ((zx_thread_state_t)0x0004u)
#define ZX_THREAD_STATE_DEAD              ((zx_thread_state_t)0x0005u)
#define ZX_THREAD_STATE_BLOCKED_EXCEPTION ((zx_thread_state_t)0x0103u)
#define ZX_THREAD_STATE_BLOCKED_SLEEPING  ((zx_thread_state_t)0x0203u)
#define ZX_THREAD_STATE_BLOCKED_FUTEX     ((zx_thread_state_t)0x0303u)
#define ZX_THREAD_STATE_BLOCKED_PORT      ((zx_thread_state_t)0x0403u)
#define ZX_THREAD_STATE_BLOCKED_CHANNEL   ((zx_thread_state_t)0x0503u)
#define ZX_THREAD_STATE_BLOCKED_WAIT_ONE  ((zx_thread_state_t)0x0603u)
#define ZX_THREAD_STATE_BLOCKED_WAIT_MANY ((zx_thread_state_t)0x0703u)
#define ZX_THREAD_STATE_BLOCKED_INTERRUPT ((zx_thread_state_t)0x0803u)
#define ZX_THREAD_STATE_BLOCKED_PAGER     ((zx_thread_state_t)0x0903u)
#define ZX_THREAD_STATE_BASIC(n)          ((n) & 0xff)

/* zx_info_thread_t::wait_exception_channel_type. */
#define ZX_EXCEPTION_CHANNEL_TYPE_NONE         ((uint32_t)0u)
#define ZX_EXCEPTION_CHANNEL_TYPE_DEBUGGER     ((uint32_t)1u)
#define ZX_EXCEPTION_CHANNEL_TYPE_THREAD       ((uint32_t)2u)
#define ZX_EXCEPTION_CHANNEL_TYPE_PROCESS      ((uint32_t)3u)
#define ZX_EXCEPTION_CHANNEL_TYPE_JOB          ((uint32_t)4u)
#define ZX_EXCEPTION_CHANNEL_TYPE_JOB_DEBUGGER ((uint32_t)5u)

#define ZX_INFO_THREAD_EXCEPTION_REPORT_V1 ((zx_object_info_topic_t)11u)
#define ZX_INFO_THREAD_EXCEPTION_REPORT    UPAGER_ZX_INFO_TOPIC_(11u, 1u)

#define ZX_CPU_SET_MAX_CPUS      512
#define ZX_CPU_SET_BITS_PER_WORD 64
/* clang-format on */

typedef struct zx_cpu_set {
  uint64_t mask[ZX_CPU_SET_MAX_CPUS / ZX_CPU_SET_BITS_PER_WORD];
} zx_cpu_set_t;

typedef struct zx_info_thread {
  zx_thread_state_t state;
  uint32_t wait_exception_channel_type; /* ZX_EXCEPTION_CHANNEL_TYPE_* */
  zx_cpu_set_t cpu_affinity_mask;
} zx_info_thread_t;

typedef struct zx_info_handle_basic {
  zx_koid_t koid;
  zx_rights_t rights;
  zx_obj_type_t type;
  zx_koid_t related_koid; /* a channel endpoint's peer; else 0 in this layer */
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

/* upager's zx compatibility layer: Zircon's basic types and constants.
 *
 * Written for upager from Zircon's public syscall documentation; every number is Zircon's
 * ABI value, so that code written for Fuchsia compiles and behaves the same here. Only
 * what the layer implements or Fuchsia's pager code names is declared (docs/zx-compat.md).
 */
#ifndef UPAGER_ZX_ZIRCON_TYPES_H_
#define UPAGER_ZX_ZIRCON_TYPES_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zircon/compiler.h>
#include <zircon/errors.h>
#include <zircon/limits.h>
#include <zircon/rights.h>
#include <zircon/time.h>

__BEGIN_CDECLS

/* clang-format off */

/* Handles: 0 is never valid; a valid handle has its two low bits set. */
typedef uint32_t zx_handle_t;
#define ZX_HANDLE_INVALID         ((zx_handle_t)0)
#define ZX_HANDLE_FIXED_BITS_MASK ((zx_handle_t)0x3)

typedef int32_t zx_status_t;

typedef uint32_t zx_clock_t;
#define ZX_CLOCK_MONOTONIC ((zx_clock_t)0)
#define ZX_CLOCK_BOOT      ((zx_clock_t)1)

/* Signals: the low 24 bits belong to the object type, the high 8 to users. */
typedef uint32_t zx_signals_t;
#define ZX_SIGNAL_NONE          ((zx_signals_t)0u)
#define ZX_USER_SIGNAL_ALL      ((zx_signals_t)0xff000000u)
#define ZX_USER_SIGNAL_0        ((zx_signals_t)1u << 24)
#define ZX_USER_SIGNAL_1        ((zx_signals_t)1u << 25)
#define ZX_USER_SIGNAL_2        ((zx_signals_t)1u << 26)
#define ZX_USER_SIGNAL_3        ((zx_signals_t)1u << 27)
#define ZX_USER_SIGNAL_4        ((zx_signals_t)1u << 28)
#define ZX_USER_SIGNAL_5        ((zx_signals_t)1u << 29)
#define ZX_USER_SIGNAL_6        ((zx_signals_t)1u << 30)
#define ZX_USER_SIGNAL_7        ((zx_signals_t)1u << 31)
#define ZX_SIGNAL_HANDLE_CLOSED ((zx_signals_t)1u << 23)

#define ZX_EVENT_SIGNALED       ((zx_signals_t)1u << 3)
#define ZX_EVENT_SIGNAL_MASK    (ZX_USER_SIGNAL_ALL | ZX_EVENT_SIGNALED)
#define ZX_CHANNEL_READABLE     ((zx_signals_t)1u << 0)
#define ZX_CHANNEL_WRITABLE     ((zx_signals_t)1u << 1)
#define ZX_CHANNEL_PEER_CLOSED  ((zx_signals_t)1u << 2)
#define ZX_TASK_TERMINATED      ((zx_signals_t)1u << 3)
#define ZX_THREAD_TERMINATED    ((zx_signals_t)1u << 3)
#define ZX_THREAD_RUNNING       ((zx_signals_t)1u << 4)
#define ZX_THREAD_SUSPENDED     ((zx_signals_t)1u << 5)
#define ZX_VMO_ZERO_CHILDREN    ((zx_signals_t)1u << 3)

typedef uint64_t zx_koid_t;
#define ZX_KOID_INVALID ((uint64_t)0)
#define ZX_KOID_KERNEL  ((uint64_t)1)
#define ZX_KOID_FIRST   ((uint64_t)1024)

/* zx_vmo_create / zx_pager_create_vmo options. */
#define ZX_VMO_RESIZABLE   ((uint32_t)1u << 1)
#define ZX_VMO_DISCARDABLE ((uint32_t)1u << 2)
#define ZX_VMO_TRAP_DIRTY  ((uint32_t)1u << 3)
#define ZX_VMO_UNBOUNDED   ((uint32_t)1u << 4)

/* zx_vmo_op_range ops. */
#define ZX_VMO_OP_COMMIT                 ((uint32_t)1u)
#define ZX_VMO_OP_DECOMMIT               ((uint32_t)2u)
#define ZX_VMO_OP_LOCK                   ((uint32_t)3u)
#define ZX_VMO_OP_UNLOCK                 ((uint32_t)4u)
#define ZX_VMO_OP_CACHE_SYNC             ((uint32_t)6u)
#define ZX_VMO_OP_CACHE_INVALIDATE       ((uint32_t)7u)
#define ZX_VMO_OP_CACHE_CLEAN            ((uint32_t)8u)
#define ZX_VMO_OP_CACHE_CLEAN_INVALIDATE ((uint32_t)9u)
#define ZX_VMO_OP_ZERO                   ((uint32_t)10u)
#define ZX_VMO_OP_TRY_LOCK               ((uint32_t)11u)
#define ZX_VMO_OP_DONT_NEED              ((uint32_t)12u)
#define ZX_VMO_OP_ALWAYS_NEED            ((uint32_t)13u)
#define ZX_VMO_OP_PREFETCH               ((uint32_t)14u)

/* zx_vmar_op_range ops (same numbers as the VMO ops they mirror). */
#define ZX_VMAR_OP_COMMIT      ((uint32_t)1u)
#define ZX_VMAR_OP_DECOMMIT    ((uint32_t)2u)
#define ZX_VMAR_OP_MAP_RANGE   ((uint32_t)3u)
#define ZX_VMAR_OP_ZERO        ((uint32_t)10u)
#define ZX_VMAR_OP_DONT_NEED   ((uint32_t)12u)
#define ZX_VMAR_OP_ALWAYS_NEED ((uint32_t)13u)
#define ZX_VMAR_OP_PREFETCH    ((uint32_t)14u)

/* zx_pager_op_range ops. */
#define ZX_PAGER_OP_FAIL            ((uint32_t)1u)
#define ZX_PAGER_OP_DIRTY           ((uint32_t)2u)
#define ZX_PAGER_OP_WRITEBACK_BEGIN ((uint32_t)3u)
#define ZX_PAGER_OP_WRITEBACK_END   ((uint32_t)4u)

/* zx_pager_query_vmo_stats: its output, and its option. */
typedef struct zx_pager_vmo_stats {
  uint32_t modified; /* ZX_PAGER_VMO_STATS_MODIFIED or 0 */
} zx_pager_vmo_stats_t;
#define ZX_PAGER_VMO_STATS_MODIFIED ((uint32_t)1u)
#define ZX_PAGER_RESET_VMO_STATS    ((uint32_t)1u)

/* zx_vmo_create_child options. */
#define ZX_VMO_CHILD_SNAPSHOT                   ((uint32_t)1u << 0)
#define ZX_VMO_CHILD_RESIZABLE                  ((uint32_t)1u << 2)
#define ZX_VMO_CHILD_SLICE                      ((uint32_t)1u << 3)
#define ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE ((uint32_t)1u << 4)
#define ZX_VMO_CHILD_NO_WRITE                   ((uint32_t)1u << 5)
#define ZX_VMO_CHILD_REFERENCE                  ((uint32_t)1u << 6)
#define ZX_VMO_CHILD_SNAPSHOT_MODIFIED          ((uint32_t)1u << 7)

/* zx_vmar_map / zx_vmar_allocate / zx_vmar_protect options. */
typedef uint32_t zx_vm_option_t;
#define ZX_VM_PERM_READ                    ((zx_vm_option_t)(1u << 0))
#define ZX_VM_PERM_WRITE                   ((zx_vm_option_t)(1u << 1))
#define ZX_VM_PERM_EXECUTE                 ((zx_vm_option_t)(1u << 2))
#define ZX_VM_COMPACT                      ((zx_vm_option_t)(1u << 3))
#define ZX_VM_SPECIFIC                     ((zx_vm_option_t)(1u << 4))
#define ZX_VM_SPECIFIC_OVERWRITE           ((zx_vm_option_t)(1u << 5))
#define ZX_VM_CAN_MAP_SPECIFIC             ((zx_vm_option_t)(1u << 6))
#define ZX_VM_CAN_MAP_READ                 ((zx_vm_option_t)(1u << 7))
#define ZX_VM_CAN_MAP_WRITE                ((zx_vm_option_t)(1u << 8))
#define ZX_VM_CAN_MAP_EXECUTE              ((zx_vm_option_t)(1u << 9))
#define ZX_VM_MAP_RANGE                    ((zx_vm_option_t)(1u << 10))
#define ZX_VM_REQUIRE_NON_RESIZABLE        ((zx_vm_option_t)(1u << 11))
#define ZX_VM_ALLOW_FAULTS                 ((zx_vm_option_t)(1u << 12))
#define ZX_VM_OFFSET_IS_UPPER_LIMIT        ((zx_vm_option_t)(1u << 13))
#define ZX_VM_PERM_READ_IF_XOM_UNSUPPORTED ((zx_vm_option_t)(1u << 14))
#define ZX_VM_FAULT_BEYOND_STREAM_SIZE     ((zx_vm_option_t)(1u << 15))
#define ZX_VM_ALIGN_BASE                   24
#define ZX_VM_ALIGN_MASK                   ((zx_vm_option_t)(0x1fu << ZX_VM_ALIGN_BASE))

typedef uintptr_t zx_vaddr_t;
typedef uintptr_t zx_paddr_t;
typedef uint64_t zx_off_t;

#define ZX_MAX_NAME_LEN ((size_t)32u)

/* Object types, as zx_info_handle_basic_t::type gives them. */
typedef uint32_t zx_obj_type_t;
#define ZX_OBJ_TYPE_NONE          ((zx_obj_type_t)0u)
#define ZX_OBJ_TYPE_PROCESS       ((zx_obj_type_t)1u)
#define ZX_OBJ_TYPE_THREAD        ((zx_obj_type_t)2u)
#define ZX_OBJ_TYPE_VMO           ((zx_obj_type_t)3u)
#define ZX_OBJ_TYPE_CHANNEL       ((zx_obj_type_t)4u)
#define ZX_OBJ_TYPE_EVENT         ((zx_obj_type_t)5u)
#define ZX_OBJ_TYPE_PORT          ((zx_obj_type_t)6u)
#define ZX_OBJ_TYPE_VMAR          ((zx_obj_type_t)18u)
#define ZX_OBJ_TYPE_SUSPEND_TOKEN ((zx_obj_type_t)27u)
#define ZX_OBJ_TYPE_PAGER         ((zx_obj_type_t)28u)
#define ZX_OBJ_TYPE_UPPER_BOUND   ((zx_obj_type_t)64u)

/* Channels: zx_channel_read options, message limits, and the handle record of
 * zx_channel_read_etc. */
#define ZX_CHANNEL_READ_MAY_DISCARD ((uint32_t)1u)
#define ZX_CHANNEL_MAX_MSG_BYTES    ((uint32_t)65536u)
#define ZX_CHANNEL_MAX_MSG_HANDLES  ((uint32_t)64u)
typedef struct zx_handle_info {
  zx_handle_t handle;
  zx_obj_type_t type;
  zx_rights_t rights;
  uint32_t unused;
} zx_handle_info_t;

/* Cache policies (zx_info_vmo_t::cache_policy). */
#define ZX_CACHE_POLICY_CACHED ((uint32_t)0u)

/* clang-format on */

__END_CDECLS

#endif /* UPAGER_ZX_ZIRCON_TYPES_H_ */

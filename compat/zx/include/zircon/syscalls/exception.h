/* upager's zx compatibility layer: exception types and reports, laid out as Zircon's.
 *
 * Types and constants only: the layer raises no exceptions, and
 * zx_task_create_exception_channel answers ZX_ERR_NOT_SUPPORTED (docs/zx-compat.md). A
 * fault on a mapping reaches the faulting thread as SIGBUS or SIGSEGV instead; a test
 * harness may describe it with a zx_exception_report_t of its own making. */
#ifndef UPAGER_ZX_ZIRCON_SYSCALLS_EXCEPTION_H_
#define UPAGER_ZX_ZIRCON_SYSCALLS_EXCEPTION_H_

#include <zircon/compiler.h>
#include <zircon/types.h>

__BEGIN_CDECLS

/* clang-format off */
typedef uint32_t zx_excp_type_t;

/* Set in synthetic exception types (not raised by the CPU). */
#define ZX_EXCP_SYNTH ((uint8_t)0x80)

/* Architectural exceptions: report.context.arch says more. */
#define ZX_EXCP_GENERAL               ((zx_excp_type_t)0x008u)
#define ZX_EXCP_FATAL_PAGE_FAULT      ((zx_excp_type_t)0x108u)
#define ZX_EXCP_UNDEFINED_INSTRUCTION ((zx_excp_type_t)0x208u)
#define ZX_EXCP_SW_BREAKPOINT         ((zx_excp_type_t)0x308u)
#define ZX_EXCP_HW_BREAKPOINT         ((zx_excp_type_t)0x408u)
#define ZX_EXCP_UNALIGNED_ACCESS      ((zx_excp_type_t)0x508u)

/* Synthetic exceptions. */
#define ZX_EXCP_THREAD_STARTING  ((zx_excp_type_t)0x8008u)
#define ZX_EXCP_THREAD_EXITING   ((zx_excp_type_t)0x8108u)
#define ZX_EXCP_POLICY_ERROR     ((zx_excp_type_t)0x8208u)
#define ZX_EXCP_PROCESS_STARTING ((zx_excp_type_t)0x8308u)
#define ZX_EXCP_USER             ((zx_excp_type_t)0x8309u)

/* Non-zero when `excp` is architectural. */
#define ZX_EXCP_IS_ARCH(excp) (((excp) & ((zx_excp_type_t)ZX_EXCP_SYNTH << 8)) == 0)

/* zx_task_create_exception_channel option. */
#define ZX_EXCEPTION_CHANNEL_DEBUGGER ((uint32_t)1u)

/* ZX_PROP_EXCEPTION_STATE values. */
#define ZX_EXCEPTION_STATE_TRY_NEXT    ((uint32_t)0u)
#define ZX_EXCEPTION_STATE_HANDLED     ((uint32_t)1u)
#define ZX_EXCEPTION_STATE_THREAD_EXIT ((uint32_t)2u)

/* ZX_PROP_EXCEPTION_STRATEGY values. */
#define ZX_EXCEPTION_STRATEGY_FIRST_CHANCE  ((uint32_t)0u)
#define ZX_EXCEPTION_STRATEGY_SECOND_CHANCE ((uint32_t)1u)
/* clang-format on */

typedef struct zx_x86_64_exc_data {
  uint64_t vector;
  uint64_t err_code;
  uint64_t cr2;
} zx_x86_64_exc_data_t;

typedef struct zx_arm64_exc_data {
  uint32_t esr;
  uint8_t padding1[4];
  uint64_t far;
  uint8_t padding2[8];
} zx_arm64_exc_data_t;

typedef struct zx_riscv64_exc_data {
  uint64_t cause;
  uint64_t tval;
  uint8_t padding1[8];
} zx_riscv64_exc_data_t;

/* What the CPU (arch) or the kernel (synth_code, synth_data: for a page fault, the status
 * that failed it) said about an exception. */
typedef struct zx_exception_context {
  struct {
    union {
      zx_x86_64_exc_data_t x86_64;
      zx_arm64_exc_data_t arm_64;
      zx_riscv64_exc_data_t riscv_64;
    } u;
  } arch;
  uint32_t synth_code;
  uint32_t synth_data;
} zx_exception_context_t;

typedef struct zx_exception_header {
  uint32_t size; /* of the whole report */
  zx_excp_type_t type;
} zx_exception_header_t;

typedef struct zx_exception_report {
  zx_exception_header_t header;
  zx_exception_context_t context;
} zx_exception_report_t;

/* The message an exception channel carries with the exception handle. */
typedef struct zx_exception_info {
  zx_koid_t pid;
  zx_koid_t tid;
  zx_excp_type_t type;
  uint8_t padding1[4];
} zx_exception_info_t;

__END_CDECLS

#endif /* UPAGER_ZX_ZIRCON_SYSCALLS_EXCEPTION_H_ */

/* upager's zx compatibility layer: port packets, laid out byte for byte as Zircon's. */
#ifndef UPAGER_ZX_ZIRCON_SYSCALLS_PORT_H_
#define UPAGER_ZX_ZIRCON_SYSCALLS_PORT_H_

#include <zircon/compiler.h>
#include <zircon/types.h>

__BEGIN_CDECLS

/* clang-format off */
/* zx_object_wait_async options. */
#define ZX_WAIT_ASYNC_ONCE      ((uint32_t)0u)
#define ZX_WAIT_ASYNC_TIMESTAMP ((uint32_t)1u)
#define ZX_WAIT_ASYNC_EDGE      ((uint32_t)2u)

typedef uint32_t zx_packet_type_t;
#define ZX_PKT_TYPE_USER         ((zx_packet_type_t)0x00u)
#define ZX_PKT_TYPE_SIGNAL_ONE   ((zx_packet_type_t)0x01u)
#define ZX_PKT_TYPE_GUEST_BELL   ((zx_packet_type_t)0x03u)
#define ZX_PKT_TYPE_GUEST_MEM    ((zx_packet_type_t)0x04u)
#define ZX_PKT_TYPE_GUEST_IO     ((zx_packet_type_t)0x05u)
#define ZX_PKT_TYPE_GUEST_VCPU   ((zx_packet_type_t)0x06u)
#define ZX_PKT_TYPE_INTERRUPT    ((zx_packet_type_t)0x07u)
#define ZX_PKT_TYPE_PAGE_REQUEST ((zx_packet_type_t)0x09u)

#define ZX_PKT_IS_USER(type)         ((type) == ZX_PKT_TYPE_USER)
#define ZX_PKT_IS_SIGNAL_ONE(type)   ((type) == ZX_PKT_TYPE_SIGNAL_ONE)
#define ZX_PKT_IS_PAGE_REQUEST(type) ((type) == ZX_PKT_TYPE_PAGE_REQUEST)

/* zx_port_create option (interrupts: not supported by upager). */
#define ZX_PORT_BIND_TO_INTERRUPT ((uint32_t)(0x1u << 0))

/* zx_packet_page_request_t::command */
#define ZX_PAGER_VMO_READ     ((uint16_t)0)
#define ZX_PAGER_VMO_COMPLETE ((uint16_t)1)
#define ZX_PAGER_VMO_DIRTY    ((uint16_t)2)
/* clang-format on */

typedef union zx_packet_user {
  uint64_t u64[4];
  uint32_t u32[8];
  uint16_t u16[16];
  uint8_t c8[32];
} zx_packet_user_t;

typedef struct zx_packet_signal {
  zx_signals_t trigger;  /* the signals the wait asked for */
  zx_signals_t observed; /* the object's signals when the packet was queued */
  uint64_t count;        /* always 1 */
  uint64_t timestamp;    /* with ZX_WAIT_ASYNC_TIMESTAMP, when the signal was seen */
  uint64_t reserved1;
} zx_packet_signal_t;

typedef struct zx_packet_page_request {
  uint16_t command; /* ZX_PAGER_VMO_READ, _COMPLETE or _DIRTY */
  uint16_t flags;
  uint32_t reserved0;
  uint64_t offset; /* bytes, page aligned */
  uint64_t length; /* bytes, page aligned */
  uint64_t reserved1;
} zx_packet_page_request_t;

typedef struct zx_packet_interrupt {
  zx_time_t timestamp;
  uint64_t reserved0;
  uint64_t reserved1;
  uint64_t reserved2;
} zx_packet_interrupt_t;

typedef struct zx_port_packet {
  uint64_t key;
  zx_packet_type_t type;
  zx_status_t status;
  union {
    zx_packet_user_t user;
    zx_packet_signal_t signal;
    zx_packet_interrupt_t interrupt;
    zx_packet_page_request_t page_request;
  };
} zx_port_packet_t;

__END_CDECLS

#endif /* UPAGER_ZX_ZIRCON_SYSCALLS_PORT_H_ */

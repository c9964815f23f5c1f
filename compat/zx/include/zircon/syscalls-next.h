/* upager's zx compatibility layer: the calls Zircon still publishes as "next" (not yet in
 * its stable ABI): pager writeback queries. */
#ifndef UPAGER_ZX_ZIRCON_SYSCALLS_NEXT_H_
#define UPAGER_ZX_ZIRCON_SYSCALLS_NEXT_H_

#include <stdint.h>
#include <zircon/compiler.h>
#include <zircon/syscalls.h>
#include <zircon/types.h>

__BEGIN_CDECLS

/* One entry of zx_pager_query_dirty_ranges' output: [offset, offset + length). */
typedef struct zx_vmo_dirty_range {
  uint64_t offset;
  uint64_t length;
  uint64_t options; /* ZX_VMO_DIRTY_RANGE_IS_ZERO or 0 */
} zx_vmo_dirty_range_t;

#define ZX_VMO_DIRTY_RANGE_IS_ZERO ((uint64_t)1u)

zx_status_t zx_pager_query_dirty_ranges(zx_handle_t pager, zx_handle_t pager_vmo, uint64_t offset,
                                        uint64_t length, void* buffer, size_t buffer_size,
                                        size_t* actual, size_t* avail);

__END_CDECLS

#endif /* UPAGER_ZX_ZIRCON_SYSCALLS_NEXT_H_ */

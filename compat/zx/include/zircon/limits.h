/* upager's zx compatibility layer: page size. upager's pages are 4 KiB everywhere. */
#ifndef UPAGER_ZX_ZIRCON_LIMITS_H_
#define UPAGER_ZX_ZIRCON_LIMITS_H_

#include <stdint.h>

#define ZX_PAGE_SHIFT ((uint32_t)12u)
#define ZX_PAGE_SIZE ((uintptr_t)1u << ZX_PAGE_SHIFT)
#define ZX_PAGE_MASK (ZX_PAGE_SIZE - 1u)
#define ZX_MIN_PAGE_SIZE ZX_PAGE_SIZE
#define ZX_MAX_PAGE_SIZE ZX_PAGE_SIZE

#endif /* UPAGER_ZX_ZIRCON_LIMITS_H_ */

// lib/zx's zx::clock::get_monotonic (upager's zx layer; docs/zx-compat.md).
#ifndef UPAGER_COMPAT_LIB_ZX_CLOCK_H_
#define UPAGER_COMPAT_LIB_ZX_CLOCK_H_

#include <lib/zx/time.h>

namespace zx {

class clock final {
 public:
  static time get_monotonic() { return time(zx_clock_get_monotonic()); }
};

}  // namespace zx

#endif  // UPAGER_COMPAT_LIB_ZX_CLOCK_H_

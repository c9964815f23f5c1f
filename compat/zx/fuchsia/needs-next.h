// Used only when the Fuchsia checkout given to -DUPAGER_FUCHSIA_SOURCE_DIR lacks
// zircon/system/utest/core/needs-next.h (its harness includes "../needs-next.h"); written for
// upager. Fuchsia's tests name their @next system calls with these macros so that a test can
// skip when the vDSO lacks them. Here every @next call of the layer is always present.
#ifndef UPAGER_COMPAT_ZX_FUCHSIA_NEEDS_NEXT_H_
#define UPAGER_COMPAT_ZX_FUCHSIA_NEEDS_NEXT_H_

#include <zxtest/zxtest.h>

#define NEEDS_NEXT_SYSCALL(name) static_assert(sizeof(&name) > 0, #name " is declared")
#define NEEDS_NEXT_SKIP(name) \
  do {                        \
  } while (0)

bool NeedsNextShouldSkip();

#endif  // UPAGER_COMPAT_ZX_FUCHSIA_NEEDS_NEXT_H_

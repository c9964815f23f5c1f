// maybe_standalone for the zx layer's test support (test-only; docs/zx-compat.md). On
// Fuchsia a core test run standalone gets the kernel's root resources from here. A Linux
// process has none: every getter returns an invalid handle, so tests that need one skip
// their kernel-only part (the cases are listed in compat/zx/fuchsia/expectations.txt).
#ifndef UPAGER_COMPAT_LIB_MAYBE_STANDALONE_TEST_MAYBE_STANDALONE_H_
#define UPAGER_COMPAT_LIB_MAYBE_STANDALONE_TEST_MAYBE_STANDALONE_H_

#include <lib/zx/resource.h>
#include <lib/zx/result.h>

namespace maybe_standalone {

inline zx::unowned_resource GetRootResource() { return zx::unowned_resource(ZX_HANDLE_INVALID); }
inline zx::unowned_resource GetSystemResource() { return zx::unowned_resource(ZX_HANDLE_INVALID); }
inline zx::unowned_resource GetMmioResource() { return zx::unowned_resource(ZX_HANDLE_INVALID); }
// The system resource narrowed to a range (ZX_RSRC_SYSTEM_*_BASE): there is none to narrow.
inline zx::result<zx::resource> GetSystemResourceWithBase(const zx::unowned_resource&, uint64_t) {
  return zx::error(ZX_ERR_NOT_SUPPORTED);
}
inline zx::unowned_resource GetIommuResource() { return zx::unowned_resource(ZX_HANDLE_INVALID); }

}  // namespace maybe_standalone

#endif  // UPAGER_COMPAT_LIB_MAYBE_STANDALONE_TEST_MAYBE_STANDALONE_H_

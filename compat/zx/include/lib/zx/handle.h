// lib/zx's zx::handle: a handle of any type (upager's zx layer; docs/zx-compat.md).
#ifndef UPAGER_COMPAT_LIB_ZX_HANDLE_H_
#define UPAGER_COMPAT_LIB_ZX_HANDLE_H_

#include <lib/zx/object.h>

namespace zx {

using handle = object<void>;
using unowned_handle = unowned<handle>;

}  // namespace zx

#endif  // UPAGER_COMPAT_LIB_ZX_HANDLE_H_

// Kernel object ids: one process-wide counter shared by every kind of object that has a
// koid (pagers, VMOs), so that a koid names one object for the life of the process.
#ifndef UPAGER_SRC_BASE_KOID_H_
#define UPAGER_SRC_BASE_KOID_H_

#include <cstdint>

namespace upager::internal {

// A fresh koid; never 0 (which stands for "no object", as ZX_KOID_INVALID) and never reused.
// Thread-safe.
uint64_t NextKoid();

}  // namespace upager::internal

#endif  // UPAGER_SRC_BASE_KOID_H_

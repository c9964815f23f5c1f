// Kernel object ids: one counter shared by every kind of object that has a koid (pagers,
// VMOs), so that a koid names one object. Koids are meant to stay unique across processes,
// since a VMO handle sent to another process keeps its koid there: the creating process's
// pid fills the high 32 bits, a per-process counter the low 32.
#ifndef UPAGER_SRC_BASE_KOID_H_
#define UPAGER_SRC_BASE_KOID_H_

#include <cstdint>

namespace upager::internal {

// A fresh koid: (pid << 32) | n, with n counting from 1 in each process. Never 0 (which
// stands for "no object", as ZX_KOID_INVALID). Unique as long as a process creates fewer
// than 2^32 objects and a pid is not reused while objects of its earlier owner live on in
// other processes. A forked child's koids carry its own pid. Thread-safe.
uint64_t NextKoid();

}  // namespace upager::internal

#endif  // UPAGER_SRC_BASE_KOID_H_

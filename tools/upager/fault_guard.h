// Reading from a Mapping without dying of SIGBUS: a failed page request raises SIGBUS on
// the thread that touched the page, and GuardedCopy catches it (sigsetjmp/siglongjmp in a
// process-wide handler, armed per thread) and reports where and why instead.
//
// The copy is a user-space memcpy on purpose: a fault taken inside a system call reading
// from the mapping (write(2) straight from it) happens in kernel mode and cannot be
// interrupted this way.
#ifndef UPAGER_TOOLS_UPAGER_FAULT_GUARD_H_
#define UPAGER_TOOLS_UPAGER_FAULT_GUARD_H_

#include <cstddef>
#include <cstdint>

#include "upager/status.h"

namespace upager::cli {

struct FaultInfo {
  const void* addr = nullptr;   // si_addr of the SIGBUS
  Status status = Status::kOk;  // FaultStatusForAddress(addr)
};

// Installs the SIGBUS handler (once per process). Called by the functions below; call it
// early if you like.
void InstallFaultHandler();

// Copies `len` bytes from `src` (typically a mapping) to `dst`. False if a SIGBUS hit the
// copy; *fault then tells where and why. `dst` must not itself be in a mapping that may
// fault.
bool GuardedCopy(void* dst, const void* src, size_t len, FaultInfo* fault);

// How a copy out of a mapping touches memory. Its order decides which page faults first,
// so neither the result of CopyUntilFailure nor read-ahead may depend on it.
using CopyFunction = void (*)(void* dst, const void* src, size_t len);

// Copies page by page in ascending address order (memcpy within each page): a reader that
// walks a mapping forward, whatever the CPU's memcpy does inside a page.
void CopyAscending(void* dst, const void* src, size_t len);

// Copies `len` bytes from `src` (typically a mapping) to `dst` with `copy`, and returns how
// many bytes at the start of `dst` hold the source: `len` when no page failed; otherwise
// the offset of the first page of the range that fails (the start of `src` if that is the
// first page), with *fault naming it (addr: its first byte in the range; status: why).
// The answer is the same whatever order `copy` touches the pages in: after a SIGBUS the
// range is read again page by page from its start. Failures are not sticky, so if every
// page then reads, the copy has succeeded.
size_t CopyUntilFailure(void* dst, const void* src, size_t len, FaultInfo* fault,
                        CopyFunction copy = &CopyAscending);

// Calls fn(arg) with the guard armed: a SIGBUS during it returns false with *fault set.
// `fn` must not own resources that a jump out of it would leak (no destructors to run).
bool GuardedCall(void (*fn)(void*), void* arg, FaultInfo* fault);

}  // namespace upager::cli

#endif  // UPAGER_TOOLS_UPAGER_FAULT_GUARD_H_

// probe_for_read / probe_for_write for the zx layer's test support (test-only;
// docs/zx-compat.md), with the names of Fuchsia's lib/fzl: would touching `address` fault?
//
// The access is made for real, on a helper thread that catches its own fault
// (upager_zx_testing/fault_catcher.h), so the answer is the one a thread of the test would
// get: on an absent page of a pager-backed mapping the probe waits for the pager like any
// access. ZX_OK if the access completes; otherwise the status a fatal page fault there
// reports (upager::FaultStatusForAddress: ZX_ERR_IO and the like for a failed page request,
// ZX_ERR_OUT_OF_RANGE beyond the end of a shrunk VMO, ZX_ERR_NOT_FOUND where nothing is
// mapped). probe_for_write writes back the byte it read (not atomically, as fzl's).
#ifndef UPAGER_COMPAT_LIB_FZL_MEMORY_PROBE_H_
#define UPAGER_COMPAT_LIB_FZL_MEMORY_PROBE_H_

#include <zircon/compiler.h>
#include <zircon/types.h>

__BEGIN_CDECLS

zx_status_t probe_for_read(const void* address);
zx_status_t probe_for_write(void* address);

__END_CDECLS

#endif  // UPAGER_COMPAT_LIB_FZL_MEMORY_PROBE_H_

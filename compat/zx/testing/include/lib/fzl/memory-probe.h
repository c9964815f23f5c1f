// probe_for_read / probe_for_write for the zx layer's test support (test-only;
// docs/zx-compat.md), with the names of Fuchsia's lib/fzl: would touching `address` fault?
//
// The access is made for real, on a helper thread that catches its own fault
// (upager_zx_testing/fault_catcher.h), so the answer is the one a thread of the test would
// get: on an absent page of a pager-backed mapping the probe waits for the pager like any
// access, and is true only if the access completes (false if the request fails: SIGBUS).
// probe_for_write writes back the byte it read.
#ifndef UPAGER_COMPAT_LIB_FZL_MEMORY_PROBE_H_
#define UPAGER_COMPAT_LIB_FZL_MEMORY_PROBE_H_

bool probe_for_read(const void* address);
bool probe_for_write(void* address);

#endif  // UPAGER_COMPAT_LIB_FZL_MEMORY_PROBE_H_

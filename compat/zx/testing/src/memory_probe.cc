// probe_for_read / probe_for_write (lib/fzl/memory-probe.h) over RunCatchingFaults.
#include <lib/fzl/memory-probe.h>

#include <atomic>
#include <thread>

#include "upager_zx_testing/fault_catcher.h"

namespace {

zx_status_t ProbeOnHelperThread(void* address, bool write) {
  upager_zx_testing::FaultReport report;
  bool completed = false;
  std::thread helper([&] {
    completed = upager_zx_testing::RunCatchingFaults(
        [address, write] {
          volatile unsigned char* byte = static_cast<volatile unsigned char*>(address);
          const unsigned char value = *byte;
          if (write) *byte = value;
          std::atomic_signal_fence(std::memory_order_seq_cst);
        },
        &report);
  });
  helper.join();
  if (completed) return ZX_OK;
  // A fault always reports an error (a fault nothing explains is ZX_ERR_NOT_FOUND).
  return report.status != ZX_OK ? report.status : ZX_ERR_INTERNAL;
}

}  // namespace

zx_status_t probe_for_read(const void* address) {
  return ProbeOnHelperThread(const_cast<void*>(address), false);
}

zx_status_t probe_for_write(void* address) { return ProbeOnHelperThread(address, true); }

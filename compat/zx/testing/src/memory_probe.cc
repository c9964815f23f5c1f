// probe_for_read / probe_for_write (lib/fzl/memory-probe.h) over RunCatchingFaults.
#include <lib/fzl/memory-probe.h>

#include <atomic>
#include <thread>

#include "upager_zx_testing/fault_catcher.h"

namespace {

bool ProbeOnHelperThread(void* address, bool write) {
  bool completed = false;
  std::thread helper([&] {
    upager_zx_testing::FaultReport report;
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
  return completed;
}

}  // namespace

bool probe_for_read(const void* address) {
  return ProbeOnHelperThread(const_cast<void*>(address), false);
}

bool probe_for_write(void* address) { return ProbeOnHelperThread(address, true); }

#include "base/koid.h"

#include <unistd.h>

#include <atomic>

namespace upager::internal {

uint64_t NextKoid() {
  // Only uniqueness matters, not ordering with other memory, hence relaxed. The counter
  // wraps past 2^32 - 1 back to 1, skipping 0.
  static std::atomic<uint32_t> next{0};
  uint32_t n = next.fetch_add(1, std::memory_order_relaxed) + 1;
  if (n == 0) n = next.fetch_add(1, std::memory_order_relaxed) + 1;
  // getpid() at each creation rather than cached: a forked child must not reuse its
  // parent's pid. Creating an object is not on the fault or request path.
  return (static_cast<uint64_t>(static_cast<uint32_t>(::getpid())) << 32) | n;
}

}  // namespace upager::internal

#include "base/koid.h"

#include <atomic>

namespace upager::internal {

uint64_t NextKoid() {
  // Only uniqueness matters, not ordering with other memory, hence relaxed.
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace upager::internal

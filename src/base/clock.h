// The one form the library stamps times in: steady_clock nanoseconds since its epoch (when
// a packet was queued, trace events, latency marks, overtime scans). Comparable across
// threads; never goes back.
#ifndef UPAGER_SRC_BASE_CLOCK_H_
#define UPAGER_SRC_BASE_CLOCK_H_

#include <chrono>
#include <cstdint>

namespace upager::internal {

inline uint64_t SteadyNs(std::chrono::steady_clock::time_point t) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

inline uint64_t SteadyNowNs() { return SteadyNs(std::chrono::steady_clock::now()); }

}  // namespace upager::internal

#endif  // UPAGER_SRC_BASE_CLOCK_H_

// OvertimeScanInterval: how often the threads that hold faults to the overtime limits
// (PagerTimeouts, upager/thread.h) look at them: the fault service for this process's
// mappings, the export service for other processes' mappings of this process's VMOs.
#ifndef UPAGER_SRC_BASE_OVERTIME_H_
#define UPAGER_SRC_BASE_OVERTIME_H_

#include <algorithm>
#include <chrono>

#include "upager/thread.h"

namespace upager::internal {

// A quarter of the shortest limit set (or of a second, if that is shorter), at least
// 10 ms: a fault is then failed or logged at most a quarter late.
inline std::chrono::milliseconds OvertimeScanInterval(const PagerTimeouts& t) {
  std::chrono::milliseconds shortest{1000};
  for (const auto limit : {t.overtime_wait, t.overtime_timeout}) {
    if (limit.count() > 0) shortest = std::min(shortest, limit);
  }
  return std::max(shortest / 4, std::chrono::milliseconds(10));
}

// Whether there is any limit to hold faults to.
inline bool AnyOvertimeLimit(const PagerTimeouts& t) {
  return t.overtime_wait.count() > 0 || t.overtime_timeout.count() > 0;
}

}  // namespace upager::internal

#endif  // UPAGER_SRC_BASE_OVERTIME_H_

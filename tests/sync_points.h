// SyncPointWatch: counts the library's sync points (src/base/sync_point.h) while it lives,
// so that a test can wait for a thread to reach a state nothing else shows (asleep in a
// wait that a suspension does not interrupt, parked, a loop thread waiting for a handler
// call) instead of sleeping a fixed time.
#ifndef UPAGER_TESTS_SYNC_POINTS_H_
#define UPAGER_TESTS_SYNC_POINTS_H_

#include <array>
#include <atomic>
#include <chrono>

#include "base/sync_point.h"
#include "test_util.h"

namespace upager::testing {

class SyncPointWatch {
 public:
  using Point = internal::SyncPoint;

  SyncPointWatch() {
    for (auto& count : Counts()) count.store(0);
    internal::SetSyncPointObserver(&Observe);
  }
  ~SyncPointWatch() { internal::SetSyncPointObserver(nullptr); }
  SyncPointWatch(const SyncPointWatch&) = delete;
  SyncPointWatch& operator=(const SyncPointWatch&) = delete;

  // How many times a thread reached `point` since the watch started.
  int count(Point point) const { return Counts()[Index(point)].load(); }

  // Waits (up to `timeout`) until `point` was reached at least `n` times.
  bool WaitFor(Point point, int n = 1,
               std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    return PollUntil([&] { return count(point) >= n; }, timeout);
  }

 private:
  static size_t Index(Point point) { return static_cast<size_t>(point); }
  static std::array<std::atomic<int>, static_cast<size_t>(Point::kCount)>& Counts() {
    static std::array<std::atomic<int>, static_cast<size_t>(Point::kCount)> counts{};
    return counts;
  }
  static void Observe(Point point) { Counts()[Index(point)].fetch_add(1); }
};

}  // namespace upager::testing

#endif  // UPAGER_TESTS_SYNC_POINTS_H_

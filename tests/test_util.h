// Small helpers shared by the threaded tests.
#ifndef UPAGER_TESTS_TEST_UTIL_H_
#define UPAGER_TESTS_TEST_UTIL_H_

#include <chrono>
#include <functional>
#include <thread>

#include "upager/thread.h"

namespace upager::testing {

// Polls `condition` until it holds or `timeout` passes; returns whether it held.
inline bool PollUntil(const std::function<bool()>& condition,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= give_up) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

// Waits until the thread is inside a page-request wait (Zircon's WaitForBlocked).
inline bool WaitForBlocked(const ThreadHandle& thread) {
  return PollUntil([&] { return thread.IsBlockedOnPager(); });
}

}  // namespace upager::testing

#endif  // UPAGER_TESTS_TEST_UTIL_H_

// UPAGER_SKIP_OR_FAIL: the one way a test gives up for want of something the machine lacks
// (userfaultfd, nginx). A developer without it sees the test skipped, with the reason; in CI
// (the environment variable CI is "true") the same test fails instead, so that a CI machine
// that silently lost a prerequisite cannot pass. ctest's log then lists the skips too;
// tools/ctest_summary.sh counts them.
#ifndef UPAGER_TESTS_SKIP_H_
#define UPAGER_TESTS_SKIP_H_

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace upager::testing {

// Whether a skip must fail the test: CI=true.
inline bool SkipsFail() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::strcmp(ci, "true") == 0;
}

}  // namespace upager::testing

// Returns from the test (or SetUp) as skipped, or as failed in CI. `reason` is a string.
#define UPAGER_SKIP_OR_FAIL(reason)                                                     \
  do {                                                                                  \
    const std::string upager_skip_reason_ = (reason);                                   \
    if (::upager::testing::SkipsFail()) {                                               \
      GTEST_FAIL() << "would skip, but CI=true forbids skips: " << upager_skip_reason_; \
    }                                                                                   \
    GTEST_SKIP() << upager_skip_reason_;                                                \
  } while (0)

#endif  // UPAGER_TESTS_SKIP_H_

// The zxtest front end (<zxtest/zxtest.h>, test-only): Fuchsia-style assertions compile, pass
// when they hold, and fail with the status names and the trailing message when they do not.
#include <gtest/gtest-spi.h>
#include <zircon/assert.h>
#include <zircon/syscalls.h>
#include <zxtest/zxtest.h>

#include <cstdint>
#include <mutex>
#include <string>

namespace {

class ZxtestFixture : public zxtest::Test {
 protected:
  void SetUp() override { ASSERT_OK(zx_event_create(0, &event_)); }
  void TearDown() override { EXPECT_OK(zx_handle_close(event_)); }
  zx_handle_t event_ = ZX_HANDLE_INVALID;
};

TEST_F(ZxtestFixture, PassingAssertions) {
  ASSERT_OK(zx_object_signal(event_, 0, ZX_USER_SIGNAL_0), "signal %d", 0);
  ASSERT_STATUS(zx_object_signal(event_, 0, 1u << 0), ZX_ERR_INVALID_ARGS);  // not settable
  EXPECT_STATUS(zx_handle_close(0x7ffffff3u), ZX_ERR_BAD_HANDLE, "a bogus handle");
  ASSERT_NOT_OK(zx_object_signal(0x7ffffff3u, 0, 0));
  EXPECT_NOT_STATUS(ZX_OK, ZX_ERR_INTERNAL);
  ASSERT_EQ(1, 1, "with %s", "a message");
  EXPECT_NE(1u, 2u);
  EXPECT_LT(1, 2);
  EXPECT_GE(2, 2, "no arguments");
  ASSERT_TRUE(event_ != ZX_HANDLE_INVALID);
  EXPECT_FALSE(false);
  const int* null = nullptr;
  ASSERT_NULL(null);
  ASSERT_NOT_NULL(&event_);
  const uint8_t a[] = {1, 2, 3}, b[] = {1, 2, 3}, c[] = {1, 2, 4};
  ASSERT_BYTES_EQ(a, b, sizeof a);
  EXPECT_BYTES_NE(a, c, sizeof a, "differ at %d", 2);
  EXPECT_STREQ("x", "x");
  ASSERT_NO_FATAL_FAILURE(ASSERT_OK(ZX_OK));
  ASSERT_NO_FAILURES(EXPECT_OK(ZX_OK), "no failure");
  EXPECT_FALSE(CURRENT_TEST_HAS_FAILURES());
}

TEST(Zxtest, FailuresNameStatusesAndCarryTheMessage) {
  EXPECT_NONFATAL_FAILURE(EXPECT_OK(ZX_ERR_NO_MEMORY, "page %d", 7),
                          "is ZX_ERR_NO_MEMORY (-4), expected ZX_OK, ZX_OK (0)\npage 7");
  EXPECT_NONFATAL_FAILURE(EXPECT_STATUS(ZX_OK, ZX_ERR_TIMED_OUT),
                          "ZX_OK is ZX_OK (0), expected ZX_ERR_TIMED_OUT, ZX_ERR_TIMED_OUT (-21)");
  EXPECT_FATAL_FAILURE(ASSERT_STATUS(ZX_ERR_BAD_STATE, ZX_OK, "the %s", "vmo"),
                       "ZX_ERR_BAD_STATE (-20), expected ZX_OK, ZX_OK (0)\nthe vmo");
  EXPECT_FATAL_FAILURE(ASSERT_NOT_OK(ZX_OK), "ZX_OK is ZX_OK (0), expected anything but ZX_OK");
  EXPECT_NONFATAL_FAILURE(EXPECT_EQ(1, 2, "n=%d", 3), "n=3");
  EXPECT_FATAL_FAILURE(ASSERT_TRUE(1 + 1 == 3, "why"),
                       "Value of: 1 + 1 == 3\n  Actual: false\nExpected: true\nwhy");
  EXPECT_NONFATAL_FAILURE(EXPECT_FALSE(ZX_OK == 0),
                          "Value of: ZX_OK == 0\n  Actual: true\nExpected: false");
  EXPECT_NONFATAL_FAILURE(EXPECT_NE(ZX_OK, 0), "Expected: (ZX_OK) != (0)");
  static const uint8_t a[] = {1, 2, 3}, c[] = {1, 2, 4};
  EXPECT_FATAL_FAILURE(ASSERT_BYTES_EQ(a, c, sizeof a), "first difference at byte 2:\n  03\n  04");
  EXPECT_FATAL_FAILURE(ASSERT_NOT_NULL(static_cast<int*>(nullptr), "ptr"), "is null\nptr");
  EXPECT_FATAL_FAILURE(FAIL("stop %d", 1), "stop 1");
}

// <zircon/compiler.h>'s __TA_ annotations are clang's thread-safety attributes: this class
// compiles under clang's -Wthread-safety -Werror only if they are.
class __TA_CAPABILITY("mutex") Lock {
 public:
  void Acquire() __TA_ACQUIRE() { mutex_.lock(); }
  void Release() __TA_RELEASE() { mutex_.unlock(); }

 private:
  std::mutex mutex_;
};

class Counter {
 public:
  void Add(int n) __TA_EXCLUDES(lock_) {
    lock_.Acquire();
    AddLocked(n);
    lock_.Release();
  }
  int Get() __TA_EXCLUDES(lock_) {
    lock_.Acquire();
    const int value = value_;
    lock_.Release();
    return value;
  }

 private:
  void AddLocked(int n) __TA_REQUIRES(lock_) { value_ += n; }
  Lock lock_;
  int value_ __TA_GUARDED(lock_) = 0;
};

TEST(ZxCompiler, ThreadSafetyAnnotations) {
  Counter counter;
  counter.Add(2);
  counter.Add(3);
  EXPECT_EQ(counter.Get(), 5);
}

// <zircon/assert.h>: a failed ZX_ASSERT names the condition and aborts; a true one does nothing.
TEST(ZxAssert, AbortsWithTheCondition) {
  int pages = 2;
  ZX_ASSERT(pages == 2);
  ZX_ASSERT_MSG(pages > 0, "pages %d", pages);
  EXPECT_DEATH(ZX_ASSERT(pages == 3), "ZX_ASSERT failed at .*: pages == 3");
  EXPECT_DEATH(ZX_ASSERT_MSG(pages < 0, "pages %d", pages), "pages < 0: pages 2");
  EXPECT_DEATH(ZX_PANIC("gone %d", 7), "ZX_PANIC at .*: gone 7");
}

// ZXTEST_SKIP ends the test body as skipped, with its message. Observed through a fake
// reporter, so that this test itself passes: a skipped test counts as a failure in CI.
void SkippingBody(bool* went_on) {
  ZXTEST_SKIP("skipped on %s", "purpose");
  *went_on = true;
}

TEST(Zxtest, SkipEndsTheTestWithItsMessage) {
  ::testing::TestPartResultArray results;
  bool went_on = false;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
    SkippingBody(&went_on);
  }
  EXPECT_FALSE(went_on);
  ASSERT_EQ(results.size(), 1);
  EXPECT_TRUE(results.GetTestPartResult(0).skipped());
  EXPECT_NE(std::string(results.GetTestPartResult(0).message()).find("skipped on purpose"),
            std::string::npos)
      << results.GetTestPartResult(0).message();
}

}  // namespace

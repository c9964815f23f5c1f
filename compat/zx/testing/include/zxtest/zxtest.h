// A zxtest front end on GoogleTest, so that tests written for Fuchsia's zxtest compile and run
// here (upager's zx layer, test-only; docs/zx-compat.md). Written for upager from zxtest's
// public macro names: TEST and TEST_F are GoogleTest's, zxtest::Test is ::testing::Test, and
// every assertion takes zxtest's optional trailing printf-style message
// (ASSERT_EQ(a, b, "page %zu", i)), printed only when the assertion fails.
#ifndef UPAGER_COMPAT_ZXTEST_ZXTEST_H_
#define UPAGER_COMPAT_ZXTEST_ZXTEST_H_

#include <gtest/gtest.h>
#include <zircon/assert.h>
#include <zircon/status.h>
#include <zircon/types.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>

namespace zxtest {

using Test = ::testing::Test;

namespace internal {

// The trailing message of an assertion: nothing, or a printf format and its arguments.
inline std::string Message() { return {}; }
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
inline std::string
Message(const char* format, ...) {
  va_list args;
  va_start(args, format);
  va_list copy;
  va_copy(copy, args);
  const int n = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  std::string out(n > 0 ? static_cast<size_t>(n) : 0, '\0');
  if (n > 0) std::vsnprintf(out.data(), out.size() + 1, format, args);
  va_end(args);
  return out;
}

inline std::string StatusName(zx_status_t status) {
  return std::string(zx_status_get_string(status)) + " (" + std::to_string(status) + ")";
}

inline ::testing::AssertionResult StatusEq(const char* actual_expr, const char* expected_expr,
                                           zx_status_t actual, zx_status_t expected) {
  if (actual == expected) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << actual_expr << " is " << StatusName(actual) << ", expected " << expected_expr << ", "
         << StatusName(expected);
}

inline ::testing::AssertionResult StatusNe(const char* actual_expr, const char* other_expr,
                                           zx_status_t actual, zx_status_t other) {
  if (actual != other) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << actual_expr << " is " << StatusName(actual) << ", expected anything but " << other_expr;
}

inline ::testing::AssertionResult IsOk(const char* expr, zx_status_t status) {
  return StatusEq(expr, "ZX_OK", status, ZX_OK);
}

inline ::testing::AssertionResult IsNotOk(const char* expr, zx_status_t status) {
  return StatusNe(expr, "ZX_OK", status, ZX_OK);
}

template <typename T>
::testing::AssertionResult IsNull(const char* expr, const T& value) {
  if (value == nullptr) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << expr << " is not null";
}

template <typename T>
::testing::AssertionResult IsNotNull(const char* expr, const T& value) {
  if (value != nullptr) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << expr << " is null";
}

// The first differing byte, and a few bytes of each side around it.
inline std::string ByteDiff(const uint8_t* a, const uint8_t* b, size_t size) {
  size_t i = 0;
  while (i < size && a[i] == b[i]) ++i;
  std::string out = "first difference at byte " + std::to_string(i) + ":";
  char hex[8];
  for (const uint8_t* side : {a, b}) {
    out += "\n ";
    for (size_t j = i; j < size && j < i + 16; ++j) {
      std::snprintf(hex, sizeof hex, " %02x", side[j]);
      out += hex;
    }
  }
  return out;
}

inline ::testing::AssertionResult BytesEq(const char* a_expr, const char* b_expr,
                                          const char* size_expr, const void* a, const void* b,
                                          size_t size) {
  if (a == b || (a != nullptr && b != nullptr && std::memcmp(a, b, size) == 0)) {
    return ::testing::AssertionSuccess();
  }
  auto failure = ::testing::AssertionFailure()
                 << a_expr << " and " << b_expr << " differ in their first " << size_expr
                 << " bytes";
  if (a == nullptr || b == nullptr) return failure << " (one is null)";
  return failure << "; "
                 << ByteDiff(static_cast<const uint8_t*>(a), static_cast<const uint8_t*>(b), size);
}

inline ::testing::AssertionResult BytesNe(const char* a_expr, const char* b_expr,
                                          const char* size_expr, const void* a, const void* b,
                                          size_t size) {
  if (a != b && (a == nullptr || b == nullptr || std::memcmp(a, b, size) != 0)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << a_expr << " and " << b_expr << " are equal in their first " << size_expr << " bytes";
}

}  // namespace internal
}  // namespace zxtest

// GoogleTest's two-argument forms are replaced by zxtest's, which take a trailing message.
#undef ASSERT_TRUE
#undef ASSERT_FALSE
#undef ASSERT_EQ
#undef ASSERT_NE
#undef ASSERT_LT
#undef ASSERT_LE
#undef ASSERT_GT
#undef ASSERT_GE
#undef ASSERT_STREQ
#undef ASSERT_STRNE
#undef EXPECT_TRUE
#undef EXPECT_FALSE
#undef EXPECT_EQ
#undef EXPECT_NE
#undef EXPECT_LT
#undef EXPECT_LE
#undef EXPECT_GT
#undef EXPECT_GE
#undef EXPECT_STREQ
#undef EXPECT_STRNE
#undef ASSERT_NO_FATAL_FAILURE
#undef EXPECT_NO_FATAL_FAILURE
#undef FAIL

#define UPAGER_ZXTEST_MSG_(...) ::zxtest::internal::Message(__VA_ARGS__)
// Each check stringifies its arguments itself, so that failures print them as written
// (ZX_ERR_TIMED_OUT, not its expansion).
#define UPAGER_ZXTEST_CHECK_(result, fail, ...) \
  GTEST_ASSERT_(result, fail) << UPAGER_ZXTEST_MSG_(__VA_ARGS__)
#define UPAGER_ZXTEST_BOOL_(cond, text, want, other, fail, ...)                 \
  GTEST_TEST_BOOLEAN_(static_cast<bool>(cond) == want, text, other, want, fail) \
      << UPAGER_ZXTEST_MSG_(__VA_ARGS__)

#define ASSERT_TRUE(cond, ...) \
  UPAGER_ZXTEST_BOOL_(cond, #cond, true, false, GTEST_FATAL_FAILURE_, __VA_ARGS__)
#define ASSERT_FALSE(cond, ...) \
  UPAGER_ZXTEST_BOOL_(cond, #cond, false, true, GTEST_FATAL_FAILURE_, __VA_ARGS__)
#define EXPECT_TRUE(cond, ...) \
  UPAGER_ZXTEST_BOOL_(cond, #cond, true, false, GTEST_NONFATAL_FAILURE_, __VA_ARGS__)
#define EXPECT_FALSE(cond, ...) \
  UPAGER_ZXTEST_BOOL_(cond, #cond, false, true, GTEST_NONFATAL_FAILURE_, __VA_ARGS__)

#define ASSERT_EQ(a, b, ...)                                                                       \
  UPAGER_ZXTEST_CHECK_(::testing::internal::EqHelper::Compare(#a, #b, a, b), GTEST_FATAL_FAILURE_, \
                       __VA_ARGS__)
#define ASSERT_NE(a, b, ...)                                                                 \
  UPAGER_ZXTEST_CHECK_(::testing::internal::CmpHelperNE(#a, #b, a, b), GTEST_FATAL_FAILURE_, \
                       __VA_ARGS__)
#define ASSERT_LT(a, b, ...)                                                                 \
  UPAGER_ZXTEST_CHECK_(::testing::internal::CmpHelperLT(#a, #b, a, b), GTEST_FATAL_FAILURE_, \
                       __VA_ARGS__)
#define ASSERT_LE(a, b, ...)                                                                 \
  UPAGER_ZXTEST_CHECK_(::testing::internal::CmpHelperLE(#a, #b, a, b), GTEST_FATAL_FAILURE_, \
                       __VA_ARGS__)
#define ASSERT_GT(a, b, ...)                                                                 \
  UPAGER_ZXTEST_CHECK_(::testing::internal::CmpHelperGT(#a, #b, a, b), GTEST_FATAL_FAILURE_, \
                       __VA_ARGS__)
#define ASSERT_GE(a, b, ...)                                                                 \
  UPAGER_ZXTEST_CHECK_(::testing::internal::CmpHelperGE(#a, #b, a, b), GTEST_FATAL_FAILURE_, \
                       __VA_ARGS__)
#define ASSERT_STREQ(a, b, ...)                                                                 \
  UPAGER_ZXTEST_CHECK_(::testing::internal::CmpHelperSTREQ(#a, #b, a, b), GTEST_FATAL_FAILURE_, \
                       __VA_ARGS__)
#define ASSERT_STRNE(a, b, ...)                                                                 \
  UPAGER_ZXTEST_CHECK_(::testing::internal::CmpHelperSTRNE(#a, #b, a, b), GTEST_FATAL_FAILURE_, \
                       __VA_ARGS__)
#define EXPECT_EQ(a, b, ...)                                                 \
  UPAGER_ZXTEST_CHECK_(::testing::internal::EqHelper::Compare(#a, #b, a, b), \
                       GTEST_NONFATAL_FAILURE_, __VA_ARGS__)
#define EXPECT_NE(a, b, ...)                                                                    \
  UPAGER_ZXTEST_CHECK_(::testing::internal::CmpHelperNE(#a, #b, a, b), GTEST_NONFATAL_FAILURE_, \
                       __VA_ARGS__)
#define EXPECT_LT(a, b, ...)                                                                    \
  UPAGER_ZXTEST_CHECK_(::testing::internal::CmpHelperLT(#a, #b, a, b), GTEST_NONFATAL_FAILURE_, \
                       __VA_ARGS__)
#define EXPECT_LE(a, b, ...)                                                                    \
  UPAGER_ZXTEST_CHECK_(::testing::internal::CmpHelperLE(#a, #b, a, b), GTEST_NONFATAL_FAILURE_, \
                       __VA_ARGS__)
#define EXPECT_GT(a, b, ...)                                                                    \
  UPAGER_ZXTEST_CHECK_(::testing::internal::CmpHelperGT(#a, #b, a, b), GTEST_NONFATAL_FAILURE_, \
                       __VA_ARGS__)
#define EXPECT_GE(a, b, ...)                                                                    \
  UPAGER_ZXTEST_CHECK_(::testing::internal::CmpHelperGE(#a, #b, a, b), GTEST_NONFATAL_FAILURE_, \
                       __VA_ARGS__)
#define EXPECT_STREQ(a, b, ...)                                                                    \
  UPAGER_ZXTEST_CHECK_(::testing::internal::CmpHelperSTREQ(#a, #b, a, b), GTEST_NONFATAL_FAILURE_, \
                       __VA_ARGS__)
#define EXPECT_STRNE(a, b, ...)                                                                    \
  UPAGER_ZXTEST_CHECK_(::testing::internal::CmpHelperSTRNE(#a, #b, a, b), GTEST_NONFATAL_FAILURE_, \
                       __VA_ARGS__)

// Statuses: failures print the status names.
#define ASSERT_OK(status, ...) \
  UPAGER_ZXTEST_CHECK_(::zxtest::internal::IsOk(#status, status), GTEST_FATAL_FAILURE_, __VA_ARGS__)
#define EXPECT_OK(status, ...)                                                             \
  UPAGER_ZXTEST_CHECK_(::zxtest::internal::IsOk(#status, status), GTEST_NONFATAL_FAILURE_, \
                       __VA_ARGS__)
#define ASSERT_NOT_OK(status, ...)                                                         \
  UPAGER_ZXTEST_CHECK_(::zxtest::internal::IsNotOk(#status, status), GTEST_FATAL_FAILURE_, \
                       __VA_ARGS__)
#define EXPECT_NOT_OK(status, ...)                                                            \
  UPAGER_ZXTEST_CHECK_(::zxtest::internal::IsNotOk(#status, status), GTEST_NONFATAL_FAILURE_, \
                       __VA_ARGS__)
#define ASSERT_STATUS(status, expected, ...)                                               \
  UPAGER_ZXTEST_CHECK_(::zxtest::internal::StatusEq(#status, #expected, status, expected), \
                       GTEST_FATAL_FAILURE_, __VA_ARGS__)
#define EXPECT_STATUS(status, expected, ...)                                               \
  UPAGER_ZXTEST_CHECK_(::zxtest::internal::StatusEq(#status, #expected, status, expected), \
                       GTEST_NONFATAL_FAILURE_, __VA_ARGS__)
#define ASSERT_NOT_STATUS(status, other, ...)                                        \
  UPAGER_ZXTEST_CHECK_(::zxtest::internal::StatusNe(#status, #other, status, other), \
                       GTEST_FATAL_FAILURE_, __VA_ARGS__)
#define EXPECT_NOT_STATUS(status, other, ...)                                        \
  UPAGER_ZXTEST_CHECK_(::zxtest::internal::StatusNe(#status, #other, status, other), \
                       GTEST_NONFATAL_FAILURE_, __VA_ARGS__)

#define ASSERT_NULL(value, ...) \
  UPAGER_ZXTEST_CHECK_(::zxtest::internal::IsNull(#value, value), GTEST_FATAL_FAILURE_, __VA_ARGS__)
#define EXPECT_NULL(value, ...)                                                            \
  UPAGER_ZXTEST_CHECK_(::zxtest::internal::IsNull(#value, value), GTEST_NONFATAL_FAILURE_, \
                       __VA_ARGS__)
#define ASSERT_NOT_NULL(value, ...)                                                        \
  UPAGER_ZXTEST_CHECK_(::zxtest::internal::IsNotNull(#value, value), GTEST_FATAL_FAILURE_, \
                       __VA_ARGS__)
#define EXPECT_NOT_NULL(value, ...)                                                           \
  UPAGER_ZXTEST_CHECK_(::zxtest::internal::IsNotNull(#value, value), GTEST_NONFATAL_FAILURE_, \
                       __VA_ARGS__)

#define ASSERT_BYTES_EQ(a, b, size, ...)                                       \
  UPAGER_ZXTEST_CHECK_(::zxtest::internal::BytesEq(#a, #b, #size, a, b, size), \
                       GTEST_FATAL_FAILURE_, __VA_ARGS__)
#define EXPECT_BYTES_EQ(a, b, size, ...)                                       \
  UPAGER_ZXTEST_CHECK_(::zxtest::internal::BytesEq(#a, #b, #size, a, b, size), \
                       GTEST_NONFATAL_FAILURE_, __VA_ARGS__)
#define ASSERT_BYTES_NE(a, b, size, ...)                                       \
  UPAGER_ZXTEST_CHECK_(::zxtest::internal::BytesNe(#a, #b, #size, a, b, size), \
                       GTEST_FATAL_FAILURE_, __VA_ARGS__)
#define EXPECT_BYTES_NE(a, b, size, ...)                                       \
  UPAGER_ZXTEST_CHECK_(::zxtest::internal::BytesNe(#a, #b, #size, a, b, size), \
                       GTEST_NONFATAL_FAILURE_, __VA_ARGS__)

#define ASSERT_NO_FATAL_FAILURE(statement, ...) \
  GTEST_TEST_NO_FATAL_FAILURE_(statement, GTEST_FATAL_FAILURE_) << UPAGER_ZXTEST_MSG_(__VA_ARGS__)
#define EXPECT_NO_FATAL_FAILURE(statement, ...)                    \
  GTEST_TEST_NO_FATAL_FAILURE_(statement, GTEST_NONFATAL_FAILURE_) \
      << UPAGER_ZXTEST_MSG_(__VA_ARGS__)
#define ASSERT_NO_FAILURES(statement, ...)                    \
  do {                                                        \
    statement;                                                \
    ASSERT_FALSE(::testing::Test::HasFailure(), __VA_ARGS__); \
  } while (0)
#define EXPECT_NO_FAILURES(statement, ...)                    \
  do {                                                        \
    statement;                                                \
    EXPECT_FALSE(::testing::Test::HasFailure(), __VA_ARGS__); \
  } while (0)
#define CURRENT_TEST_HAS_FAILURES() (::testing::Test::HasFailure())
#define CURRENT_TEST_HAS_FATAL_FAILURES() (::testing::Test::HasFatalFailure())

#define FAIL(...) GTEST_FAIL() << UPAGER_ZXTEST_MSG_(__VA_ARGS__)
#define ZXTEST_SKIP(...) GTEST_SKIP() << UPAGER_ZXTEST_MSG_(__VA_ARGS__)

#endif  // UPAGER_COMPAT_ZXTEST_ZXTEST_H_

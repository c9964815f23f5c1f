// Helpers of the zx layer's tests: a handle that closes itself, and handles with fewer
// rights.
#ifndef UPAGER_TESTS_ZX_ZX_TEST_UTIL_H_
#define UPAGER_TESTS_ZX_ZX_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <zircon/syscalls.h>

#include <utility>

namespace upager::zx::testing {

// Owns a handle value; closes it (which must succeed) when destroyed.
class Owned {
 public:
  Owned() = default;
  explicit Owned(zx_handle_t h) : h_(h) {}
  ~Owned() {
    if (h_ != ZX_HANDLE_INVALID) {
      EXPECT_EQ(zx_handle_close(h_), ZX_OK);
    }
  }
  Owned(Owned&& o) noexcept : h_(std::exchange(o.h_, ZX_HANDLE_INVALID)) {}
  Owned& operator=(Owned&&) = delete;
  zx_handle_t get() const { return h_; }
  zx_handle_t* out() { return &h_; }
  zx_handle_t release() { return std::exchange(h_, ZX_HANDLE_INVALID); }

 private:
  zx_handle_t h_ = ZX_HANDLE_INVALID;
};

// The rights of `h` (ZX_INFO_HANDLE_BASIC).
inline zx_rights_t RightsOf(zx_handle_t h) {
  zx_info_handle_basic_t info{};
  EXPECT_EQ(zx_object_get_info(h, ZX_INFO_HANDLE_BASIC, &info, sizeof info, nullptr, nullptr),
            ZX_OK);
  return info.rights;
}

// A duplicate of `h` without `removed` (h needs ZX_RIGHT_DUPLICATE).
inline Owned Without(zx_handle_t h, zx_rights_t removed) {
  Owned out;
  EXPECT_EQ(zx_handle_duplicate(h, RightsOf(h) & ~removed, out.out()), ZX_OK);
  return out;
}

// A handle value that is not in the table (its fixed bits set, as a real one's).
inline constexpr zx_handle_t kBogusHandle = 0x7ffffff3u;

}  // namespace upager::zx::testing

#endif  // UPAGER_TESTS_ZX_ZX_TEST_UTIL_H_

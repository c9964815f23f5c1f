// lib/zx's zx::result<T>: a value or a zx_status_t error (upager's zx layer;
// docs/zx-compat.md). Fuchsia builds it on fit::result; here it stands alone, with the
// names code uses: zx::ok(v), zx::ok(), zx::error(status), zx::make_result(status[, v]),
// is_ok, is_error, error_value, status_value, status_string, value, value_or, *, ->.
#ifndef UPAGER_COMPAT_LIB_ZX_RESULT_H_
#define UPAGER_COMPAT_LIB_ZX_RESULT_H_

#include <zircon/status.h>
#include <zircon/types.h>

#include <cassert>
#include <optional>
#include <type_traits>
#include <utility>

namespace zx {

// What zx::ok and zx::error return; a zx::result converts from either.
template <typename... T>
struct success;
template <>
struct success<> {};
template <typename T>
struct success<T> {
  T value;
};
struct failure {
  zx_status_t status;
};

template <typename T>
success<std::decay_t<T>> ok(T&& value) {
  return {std::forward<T>(value)};
}
inline success<> ok() { return {}; }
// A failure: `status` must not be ZX_OK.
inline failure error(zx_status_t status) {
  assert(status != ZX_OK);
  return {status};
}

template <typename... T>
class result;

template <>
class result<> {
 public:
  result(success<>) {}                      // NOLINT: converts as lib/zx's
  result(failure f) : status_(f.status) {}  // NOLINT
  bool is_ok() const { return status_ == ZX_OK; }
  bool is_error() const { return status_ != ZX_OK; }
  zx_status_t error_value() const {
    assert(is_error());
    return status_;
  }
  zx_status_t status_value() const { return status_; }
  const char* status_string() const { return zx_status_get_string(status_); }

 private:
  zx_status_t status_ = ZX_OK;
};

template <typename T>
class result<T> {
 public:
  template <typename U, typename = std::enable_if_t<std::is_constructible_v<T, U&&>>>
  result(success<U> s) : value_(std::move(s.value)) {}  // NOLINT: converts as lib/zx's
  result(failure f) : status_(f.status) {}              // NOLINT
  bool is_ok() const { return status_ == ZX_OK; }
  bool is_error() const { return status_ != ZX_OK; }
  zx_status_t error_value() const {
    assert(is_error());
    return status_;
  }
  zx_status_t status_value() const { return status_; }
  const char* status_string() const { return zx_status_get_string(status_); }
  T& value() & {
    assert(is_ok());
    return *value_;
  }
  const T& value() const& {
    assert(is_ok());
    return *value_;
  }
  T&& value() && {
    assert(is_ok());
    return std::move(*value_);
  }
  template <typename U>
  T value_or(U&& fallback) const& {
    return is_ok() ? *value_ : static_cast<T>(std::forward<U>(fallback));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  zx_status_t status_ = ZX_OK;
  std::optional<T> value_;
};

// zx::ok() for ZX_OK, zx::error(status) otherwise.
inline result<> make_result(zx_status_t status) {
  if (status == ZX_OK) return ok();
  return error(status);
}
// zx::ok(value) for ZX_OK, zx::error(status) otherwise.
template <typename T>
result<std::decay_t<T>> make_result(zx_status_t status, T&& value) {
  if (status == ZX_OK) return ok(std::forward<T>(value));
  return error(status);
}

}  // namespace zx

#endif  // UPAGER_COMPAT_LIB_ZX_RESULT_H_

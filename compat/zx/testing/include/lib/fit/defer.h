// fit::defer for the zx layer's test support (test-only; docs/zx-compat.md): runs a callable
// when the returned guard goes out of scope, unless cancelled. Written for upager.
#ifndef UPAGER_COMPAT_LIB_FIT_DEFER_H_
#define UPAGER_COMPAT_LIB_FIT_DEFER_H_

#include <lib/fit/function.h>

#include <optional>
#include <utility>

namespace fit {

template <typename T>
class deferred_action {
 public:
  deferred_action() = default;
  explicit deferred_action(T target) : target_(std::move(target)) {}
  deferred_action(deferred_action&& other) noexcept : target_(std::move(other.target_)) {
    other.target_.reset();
  }
  deferred_action& operator=(deferred_action&& other) noexcept {
    if (this != &other) {
      call();
      target_ = std::move(other.target_);
      other.target_.reset();
    }
    return *this;
  }
  deferred_action(const deferred_action&) = delete;
  deferred_action& operator=(const deferred_action&) = delete;
  ~deferred_action() { call(); }

  explicit operator bool() const { return target_.has_value(); }

  // Runs the action now (once), then never again.
  void call() {
    if (target_) {
      auto target = std::move(*target_);
      target_.reset();
      target();
    }
  }
  // Drops the action without running it.
  void cancel() { target_.reset(); }

 private:
  std::optional<T> target_;
};

template <typename T>
[[nodiscard]] deferred_action<std::decay_t<T>> defer(T&& target) {
  return deferred_action<std::decay_t<T>>(std::forward<T>(target));
}

using deferred_callback = deferred_action<fit::closure>;

[[nodiscard]] inline deferred_callback defer_callback(fit::closure target) {
  return deferred_callback(std::move(target));
}

}  // namespace fit

#endif  // UPAGER_COMPAT_LIB_FIT_DEFER_H_

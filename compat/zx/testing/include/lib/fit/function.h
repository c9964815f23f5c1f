// fit::function for the zx layer's test support (test-only; docs/zx-compat.md): a move-only
// type-erased callable, as Fuchsia's lib/fit names it. Written for upager; it allocates (the
// tests that use it are not on a request or fault path).
#ifndef UPAGER_COMPAT_LIB_FIT_FUNCTION_H_
#define UPAGER_COMPAT_LIB_FIT_FUNCTION_H_

#include <cstddef>
#include <cstdlib>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

namespace fit {

template <typename Signature>
class function;

template <typename R, typename... Args>
class function<R(Args...)> {
 public:
  using result_type = R;

  function() = default;
  function(std::nullptr_t) {}
  function(function&&) noexcept = default;
  function& operator=(function&&) noexcept = default;
  function(const function&) = delete;
  function& operator=(const function&) = delete;

  template <typename F,
            typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, function> &&
                                        std::is_invocable_r_v<R, std::decay_t<F>&, Args...>>>
  function(F&& f) {  // NOLINT(google-explicit-constructor): as fit::function
    using Stored = std::decay_t<F>;
    if constexpr (std::is_pointer_v<Stored> || std::is_member_pointer_v<Stored>) {
      if (f == nullptr) return;
    }
    target_ = std::make_unique<Holder<Stored>>(std::forward<F>(f));
  }

  function& operator=(std::nullptr_t) {
    target_.reset();
    return *this;
  }

  explicit operator bool() const { return target_ != nullptr; }

  // Calling an empty function aborts, as fit's does.
  R operator()(Args... args) const {
    if (!target_) std::abort();
    return target_->Call(std::forward<Args>(args)...);
  }

  void swap(function& other) noexcept { target_.swap(other.target_); }

 private:
  struct Callable {
    virtual ~Callable() = default;
    virtual R Call(Args... args) = 0;
  };
  template <typename F>
  struct Holder final : Callable {
    template <typename G>
    explicit Holder(G&& g) : f(std::forward<G>(g)) {}
    R Call(Args... args) override {
      if constexpr (std::is_void_v<R>) {
        std::invoke(f, std::forward<Args>(args)...);
      } else {
        return std::invoke(f, std::forward<Args>(args)...);
      }
    }
    F f;
  };

  // const operator() calls a mutable target, as fit::function does.
  std::unique_ptr<Callable> target_;
};

template <typename R, typename... Args>
bool operator==(const function<R(Args...)>& f, std::nullptr_t) {
  return !f;
}
template <typename R, typename... Args>
bool operator!=(const function<R(Args...)>& f, std::nullptr_t) {
  return static_cast<bool>(f);
}

// fit::callback: here the same type (the tests do not rely on the call-once reset).
template <typename Signature>
using callback = function<Signature>;
using closure = function<void()>;

}  // namespace fit

#endif  // UPAGER_COMPAT_LIB_FIT_FUNCTION_H_

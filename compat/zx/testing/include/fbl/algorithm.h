// fbl/algorithm.h for the zx layer's test support (test-only; docs/zx-compat.md): the
// rounding and counting helpers Fuchsia's tests use. Written for upager.
#ifndef UPAGER_COMPAT_FBL_ALGORITHM_H_
#define UPAGER_COMPAT_FBL_ALGORITHM_H_

#include <cstddef>
#include <type_traits>

namespace fbl {

// `value` rounded up / down to a multiple of `multiple` (any positive multiple).
template <typename T, typename U>
constexpr std::common_type_t<T, U> round_up(T value, U multiple) {
  using C = std::common_type_t<T, U>;
  const C m = static_cast<C>(multiple);
  return static_cast<C>((static_cast<C>(value) + m - 1) / m * m);
}
template <typename T, typename U>
constexpr std::common_type_t<T, U> round_down(T value, U multiple) {
  using C = std::common_type_t<T, U>;
  const C m = static_cast<C>(multiple);
  return static_cast<C>(static_cast<C>(value) / m * m);
}

template <typename T>
constexpr bool is_pow2(T value) {
  return value != 0 && (value & (value - 1)) == 0;
}

template <typename T, size_t N>
constexpr size_t count_of(const T (&)[N]) {
  return N;
}

}  // namespace fbl

#endif  // UPAGER_COMPAT_FBL_ALGORITHM_H_

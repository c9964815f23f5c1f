/* upager's zx compatibility layer: times and durations, in nanoseconds of the monotonic
 * clock (CLOCK_MONOTONIC on Linux). The arithmetic saturates, as Zircon's does. */
#ifndef UPAGER_ZX_ZIRCON_TIME_H_
#define UPAGER_ZX_ZIRCON_TIME_H_

#include <stdint.h>

typedef int64_t zx_time_t;
typedef int64_t zx_duration_t;
typedef int64_t zx_instant_mono_t;
typedef int64_t zx_instant_boot_t;
typedef int64_t zx_duration_mono_t;
typedef int64_t zx_duration_boot_t;
typedef uint64_t zx_ticks_t;

#define ZX_TIME_INFINITE INT64_MAX
#define ZX_TIME_INFINITE_PAST INT64_MIN

/* In C++ the helpers are constexpr, so that `constexpr zx_duration_t k = ZX_SEC(1);` holds. */
#ifdef __cplusplus
#define UPAGER_ZX_TIME_CONSTEXPR_ constexpr
#else
#define UPAGER_ZX_TIME_CONSTEXPR_
#endif

static inline UPAGER_ZX_TIME_CONSTEXPR_ zx_duration_t upager_zx_scale_(int64_t n, int64_t unit) {
  zx_duration_t out;
  if (__builtin_mul_overflow(n, unit, &out)) {
    return n < 0 ? ZX_TIME_INFINITE_PAST : ZX_TIME_INFINITE;
  }
  return out;
}

static inline UPAGER_ZX_TIME_CONSTEXPR_ zx_time_t zx_time_add_duration(zx_time_t t,
                                                                       zx_duration_t d) {
  zx_time_t out;
  if (__builtin_add_overflow(t, d, &out)) {
    return d < 0 ? ZX_TIME_INFINITE_PAST : ZX_TIME_INFINITE;
  }
  return out;
}

static inline UPAGER_ZX_TIME_CONSTEXPR_ zx_time_t zx_time_sub_duration(zx_time_t t,
                                                                       zx_duration_t d) {
  zx_time_t out;
  if (__builtin_sub_overflow(t, d, &out)) {
    return d < 0 ? ZX_TIME_INFINITE : ZX_TIME_INFINITE_PAST;
  }
  return out;
}

static inline UPAGER_ZX_TIME_CONSTEXPR_ zx_duration_t zx_time_sub_time(zx_time_t a, zx_time_t b) {
  zx_duration_t out;
  if (__builtin_sub_overflow(a, b, &out)) {
    return b < 0 ? ZX_TIME_INFINITE : ZX_TIME_INFINITE_PAST;
  }
  return out;
}

#define ZX_NSEC(n) ((zx_duration_t)(n))
#define ZX_USEC(n) upager_zx_scale_((int64_t)(n), 1000)
#define ZX_MSEC(n) upager_zx_scale_((int64_t)(n), 1000000)
#define ZX_SEC(n) upager_zx_scale_((int64_t)(n), 1000000000)
#define ZX_MIN(n) upager_zx_scale_((int64_t)(n), 60000000000)
#define ZX_HOUR(n) upager_zx_scale_((int64_t)(n), 3600000000000)

#endif /* UPAGER_ZX_ZIRCON_TIME_H_ */

// lib/zx's durations and times (zx::duration, zx::time, zx::sec, zx::deadline_after ...), on
// <zircon/time.h>'s saturating arithmetic (upager's zx layer; docs/zx-compat.md).
#ifndef UPAGER_COMPAT_LIB_ZX_TIME_H_
#define UPAGER_COMPAT_LIB_ZX_TIME_H_

#include <zircon/syscalls.h>
#include <zircon/time.h>

#include <compare>
#include <cstdint>

namespace zx {

class duration final {
 public:
  constexpr duration() = default;
  explicit constexpr duration(zx_duration_t value) : value_(value) {}
  static constexpr duration infinite() { return duration(ZX_TIME_INFINITE); }
  static constexpr duration infinite_past() { return duration(ZX_TIME_INFINITE_PAST); }
  constexpr zx_duration_t get() const { return value_; }
  constexpr int64_t to_nsecs() const { return value_; }
  constexpr int64_t to_usecs() const { return value_ / 1000; }
  constexpr int64_t to_msecs() const { return value_ / 1000000; }
  constexpr int64_t to_secs() const { return value_ / 1000000000; }
  duration operator+(duration other) const {
    return duration(zx_time_add_duration(value_, other.value_));
  }
  duration operator-(duration other) const {
    return duration(zx_time_sub_duration(value_, other.value_));
  }
  duration operator*(int64_t n) const { return duration(upager_zx_scale_(n, value_)); }
  constexpr auto operator<=>(const duration&) const = default;

 private:
  zx_duration_t value_ = 0;
};

// A point on a clock; zx::time is the monotonic clock's.
template <int kClockId>
class basic_time final {
 public:
  constexpr basic_time() = default;
  explicit constexpr basic_time(zx_time_t value) : value_(value) {}
  static constexpr basic_time infinite() { return basic_time(ZX_TIME_INFINITE); }
  static constexpr basic_time infinite_past() { return basic_time(ZX_TIME_INFINITE_PAST); }
  constexpr zx_time_t get() const { return value_; }
  zx_time_t* get_address() { return &value_; }
  basic_time operator+(duration d) const {
    return basic_time(zx_time_add_duration(value_, d.get()));
  }
  basic_time operator-(duration d) const {
    return basic_time(zx_time_sub_duration(value_, d.get()));
  }
  duration operator-(basic_time other) const {
    return duration(zx_time_sub_time(value_, other.value_));
  }
  constexpr auto operator<=>(const basic_time&) const = default;

 private:
  zx_time_t value_ = 0;
};

using time = basic_time<0>;

constexpr duration nsec(int64_t n) { return duration(n); }
inline duration usec(int64_t n) { return duration(ZX_USEC(n)); }
inline duration msec(int64_t n) { return duration(ZX_MSEC(n)); }
inline duration sec(int64_t n) { return duration(ZX_SEC(n)); }
inline duration min(int64_t n) { return duration(ZX_MIN(n)); }

inline time deadline_after(duration d) { return time(zx_deadline_after(d.get())); }
inline zx_status_t nanosleep(time deadline) { return zx_nanosleep(deadline.get()); }

}  // namespace zx

#endif  // UPAGER_COMPAT_LIB_ZX_TIME_H_

// lib/zx's handle owner, written for upager's zx layer from lib/zx's public API: zx::object<T>
// owns one handle value and closes it when destroyed; zx::unowned<T> borrows one without
// closing it. Every method is a thin call of the <zircon/syscalls.h> entry point it names.
#ifndef UPAGER_COMPAT_LIB_ZX_OBJECT_H_
#define UPAGER_COMPAT_LIB_ZX_OBJECT_H_

#include <lib/zx/time.h>
#include <zircon/syscalls.h>
#include <zircon/types.h>

#include <type_traits>
#include <utility>

namespace zx {

class port;

// The handle value, whatever the object's type.
class object_base {
 public:
  zx_handle_t get() const { return value_; }
  bool is_valid() const { return value_ != ZX_HANDLE_INVALID; }
  explicit operator bool() const { return is_valid(); }
  // Gives the value up: the caller closes it.
  zx_handle_t release() { return std::exchange(value_, ZX_HANDLE_INVALID); }
  void reset(zx_handle_t value = ZX_HANDLE_INVALID) {
    if (value_ != ZX_HANDLE_INVALID) zx_handle_close(value_);
    value_ = value;
  }
  // Closes the handle held, and returns where a call may store a new one.
  zx_handle_t* reset_and_get_address() {
    reset();
    return &value_;
  }

  zx_status_t signal(uint32_t clear_mask, uint32_t set_mask) const {
    return zx_object_signal(value_, clear_mask, set_mask);
  }
  zx_status_t wait_one(zx_signals_t signals, zx::time deadline, zx_signals_t* pending) const {
    return zx_object_wait_one(value_, signals, deadline.get(), pending);
  }
  zx_status_t get_info(uint32_t topic, void* buffer, size_t buffer_size, size_t* actual_count,
                       size_t* avail_count) const {
    return zx_object_get_info(value_, topic, buffer, buffer_size, actual_count, avail_count);
  }

 protected:
  constexpr object_base() = default;
  explicit object_base(zx_handle_t value) : value_(value) {}
  ~object_base() { reset(); }
  object_base(const object_base&) = delete;
  object_base& operator=(const object_base&) = delete;

  zx_handle_t value_ = ZX_HANDLE_INVALID;
};

template <typename T>
class unowned;

// A handle of type T (zx::vmo, zx::port, ...); object<void> is zx::handle.
template <typename T>
class object : public object_base {
 public:
  constexpr object() = default;
  explicit object(zx_handle_t value) : object_base(value) {}
  // From the same type, or into zx::handle from any type.
  template <typename U>
  requires(std::is_void_v<T> || std::is_same_v<T, U>) object(object<U>&& other)
      : object_base(other.release()) {}  // NOLINT: as lib/zx
  template <typename U>
  requires(std::is_void_v<T> || std::is_same_v<T, U>) object& operator=(object<U>&& other) {
    reset(other.release());
    return *this;
  }

  // Another handle to the object with `rights` (ZX_RIGHT_SAME_RIGHTS keeps them).
  zx_status_t duplicate(zx_rights_t rights, object<T>* result) const {
    zx_handle_t out = ZX_HANDLE_INVALID;
    const zx_status_t status = zx_handle_duplicate(value_, rights, &out);
    result->reset(out);
    return status;
  }
  // The same, consuming this handle (`result` may be this object).
  zx_status_t replace(zx_rights_t rights, object<T>* result) {
    zx_handle_t out = ZX_HANDLE_INVALID;
    const zx_status_t status = zx_handle_replace(release(), rights, &out);
    result->reset(out);
    return status;
  }
  template <typename P = port>
  zx_status_t wait_async(const object<P>& port, uint64_t key, zx_signals_t signals,
                         uint32_t options) const {
    return zx_object_wait_async(value_, port.get(), key, signals, options);
  }
  unowned<T> borrow() const { return unowned<T>(value_); }

  friend bool operator==(const object& a, const object& b) { return a.get() == b.get(); }
  friend bool operator!=(const object& a, const object& b) { return a.get() != b.get(); }
};

// A T that does not own its handle: it never closes it.
template <typename T>
class unowned final {
 public:
  explicit unowned(zx_handle_t value) : value_(value) {}
  explicit unowned(const T& owner) : unowned(owner.get()) {}
  unowned(const unowned& other) : unowned(other.value_.get()) {}
  unowned& operator=(const unowned& other) {
    if (this != &other) {
      static_cast<void>(value_.release());
      value_ = T(other.value_.get());
    }
    return *this;
  }
  ~unowned() { static_cast<void>(value_.release()); }

  const T& operator*() const { return value_; }
  const T* operator->() const { return &value_; }
  operator const T&() const { return value_; }  // NOLINT: as lib/zx

 private:
  T value_;
};

}  // namespace zx

#endif  // UPAGER_COMPAT_LIB_ZX_OBJECT_H_

// fbl::Array for the zx layer's test support (test-only; docs/zx-compat.md): an owned array
// that knows its length. Written for upager.
#ifndef UPAGER_COMPAT_FBL_ARRAY_H_
#define UPAGER_COMPAT_FBL_ARRAY_H_

#include <cstddef>
#include <utility>

namespace fbl {

template <typename T>
class Array {
 public:
  constexpr Array() = default;
  Array(T* array, size_t count) : ptr_(array), count_(count) {}
  Array(Array&& other) noexcept : ptr_(other.ptr_), count_(other.count_) {
    other.ptr_ = nullptr;
    other.count_ = 0;
  }
  Array& operator=(Array&& other) noexcept {
    if (this != &other) {
      delete[] ptr_;
      ptr_ = std::exchange(other.ptr_, nullptr);
      count_ = std::exchange(other.count_, 0);
    }
    return *this;
  }
  Array(const Array&) = delete;
  Array& operator=(const Array&) = delete;
  ~Array() { delete[] ptr_; }

  void reset() { *this = Array(); }
  T* release() {
    count_ = 0;
    return std::exchange(ptr_, nullptr);
  }
  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  T* data() const { return ptr_; }
  T* get() const { return ptr_; }
  T& operator[](size_t i) const { return ptr_[i]; }
  T* begin() const { return ptr_; }
  T* end() const { return ptr_ + count_; }
  explicit operator bool() const { return ptr_ != nullptr; }

 private:
  T* ptr_ = nullptr;
  size_t count_ = 0;
};

// fbl::MakeArray<T>(n): value-initialized.
template <typename T>
Array<T> MakeArray(size_t count) {
  return Array<T>(new T[count](), count);
}

}  // namespace fbl

#endif  // UPAGER_COMPAT_FBL_ARRAY_H_

// Handle<T>: what the public handle types (Vmo, Port, Pager) have in common: a counted
// reference to the library object behind them. Move-only; Reset (and the destructor) gives
// the handle back to the object, whose last handle closes it.
//
// The object type stays incomplete here: users never see it. The members that call into it
// are defined in the library (src/base/handle_access.h) and instantiated there for each
// handle type, and only the library reaches the object, through internal::HandleAccess.
#ifndef UPAGER_INTERNAL_HANDLE_H_
#define UPAGER_INTERNAL_HANDLE_H_

#include <memory>
#include <utility>

#include "upager/status.h"

namespace upager::internal {

struct HandleAccess;

template <typename T>
class Handle {
 public:
  Handle() = default;
  ~Handle() { Reset(); }
  Handle(Handle&& other) noexcept = default;
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      Reset();
      object_ = std::move(other.object_);
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  void Reset();
  bool is_valid() const { return object_ != nullptr; }

 protected:
  // Makes `*out` another handle to this object: kBadHandle if this one is invalid,
  // kInvalidArgs if `out` is null.
  Status DuplicateTo(Handle* out) const;
  const std::shared_ptr<T>& object() const { return object_; }

 private:
  friend struct HandleAccess;
  std::shared_ptr<T> object_;
};

}  // namespace upager::internal

#endif  // UPAGER_INTERNAL_HANDLE_H_

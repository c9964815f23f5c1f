// HandleAccess: how the library reaches the object behind a public handle (Vmo, Port,
// Pager) and makes new handles to an object, without either being part of the public API.
// Also the definitions of Handle<T>'s members that call into the object: a .cc file that
// defines a handle type instantiates them (`template class internal::Handle<Object>;`).
//
// The object type must have AddHandle() and RemoveHandle(): the count of public handles,
// whose last RemoveHandle closes it.
#ifndef UPAGER_SRC_BASE_HANDLE_ACCESS_H_
#define UPAGER_SRC_BASE_HANDLE_ACCESS_H_

#include <memory>
#include <utility>

#include "upager/internal/handle.h"
#include "upager/status.h"

namespace upager::internal {

struct HandleAccess {
  // The object behind `handle` (null for an invalid handle).
  template <typename H>
  static const auto& Object(const H& handle) {
    return handle.object_;
  }

  // A new handle of type H to `object`, counted on it; an invalid handle for null. A handle
  // type with rights (Vmo) declares what a new handle carries as H::kMadeRights.
  template <typename H, typename T>
  static H Make(std::shared_ptr<T> object) {
    H handle;
    if (object != nullptr) {
      object->AddHandle();
      handle.object_ = std::move(object);
      if constexpr (requires { H::kMadeRights; }) handle.rights_ = H::kMadeRights;
    }
    return handle;
  }

  // Another handle to a local handle's object with the same rights, whatever they are (for
  // the library's own bookkeeping, never a way around kRightDuplicate for users).
  template <typename H>
  static H CopyLocal(const H& handle) {
    H copy = Make<H>(handle.object_);
    copy.rights_ = handle.rights_;
    return copy;
  }

  // Handles whose object may live in another process (Vmo): the remote object behind one
  // (null for a local or invalid handle), and a new handle to one with `rights`.
  template <typename H>
  static auto* Remote(const H& handle) {
    return handle.remote_.get();
  }
  template <typename H, typename R>
  static H MakeRemote(std::shared_ptr<R> remote, uint32_t rights) {
    H handle;
    handle.remote_ = std::move(remote);
    handle.rights_ = rights;
    return handle;
  }
};

template <typename T>
void Handle<T>::Reset() {
  if (object_ != nullptr) {
    // Keep the object alive through RemoveHandle, which may drop the last other references.
    std::shared_ptr<T> object = std::move(object_);
    object->RemoveHandle();
  }
}

template <typename T>
Status Handle<T>::DuplicateTo(Handle* out) const {
  if (object_ == nullptr) return Status::kBadHandle;
  if (out == nullptr) return Status::kInvalidArgs;
  object_->AddHandle();
  Handle copy;
  copy.object_ = object_;
  *out = std::move(copy);
  return Status::kOk;
}

}  // namespace upager::internal

#endif  // UPAGER_SRC_BASE_HANDLE_ACCESS_H_

// The public Vmo handle: move-only, counted on its object so that the last one closes a
// pager-backed VMO's page source, and carrying the rights checked here (section 11).
// Section numbers refer to docs/zircon-semantics.md.
#include "upager/vmo.h"

#include <utility>

#include "base/handle_access.h"
#include "vm/vm_object_paged.h"
#include "vm/vmo_remote.h"

namespace upager {

template class internal::Handle<internal::VmObjectPaged>;

Status Vmo::Create(uint64_t size, uint32_t options, Vmo* out) {
  if (out == nullptr || (options & ~(kVmoResizable | kVmoUnbounded)) != 0 ||
      options == (kVmoResizable | kVmoUnbounded)) {
    return Status::kInvalidArgs;
  }
  std::shared_ptr<internal::VmObjectPaged> object;
  if (Status s = internal::VmObjectPaged::CreateAnonymous(size, options, &object);
      s != Status::kOk) {
    return s;
  }
  *out = internal::HandleAccess::Make<Vmo>(std::move(object));
  return Status::kOk;
}

Vmo::Vmo(Vmo&& other) noexcept
    : Handle(std::move(other)),
      rights_(std::exchange(other.rights_, kRightNone)),
      remote_(std::move(other.remote_)) {}

Vmo& Vmo::operator=(Vmo&& other) noexcept {
  if (this != &other) {
    Handle::operator=(std::move(other));
    rights_ = std::exchange(other.rights_, kRightNone);
    remote_ = std::move(other.remote_);
  }
  return *this;
}

Status Vmo::Duplicate(Vmo* out) const { return Duplicate(kRightSameRights, out); }

Status Vmo::Duplicate(uint32_t rights, Vmo* out) const {
  // Zircon's order: the handle, its kRightDuplicate, then the rights asked for.
  if (!is_valid()) return Status::kBadHandle;
  if ((rights_ & kRightDuplicate) == 0) return Status::kAccessDenied;
  if (rights == kRightSameRights) rights = rights_;
  if ((rights & ~rights_) != 0 || out == nullptr) return Status::kInvalidArgs;
  if (remote_) return remote_->Duplicate(rights, out);
  if (Status s = DuplicateTo(out); s != Status::kOk) return s;
  out->rights_ = rights;
  return Status::kOk;
}

Status Vmo::Replace(uint32_t rights, Vmo* out) {
  if (!is_valid()) return Status::kBadHandle;
  if (rights == kRightSameRights) rights = rights_;
  // The handle is consumed whatever happens next (zx_handle_replace "always invalidates").
  Vmo consumed = std::move(*this);
  if ((rights & ~consumed.rights_) != 0 || out == nullptr) return Status::kInvalidArgs;
  if (consumed.remote_ && rights != consumed.rights_) {
    // The owner enforces a remote handle's rights: ask it for a handle with fewer.
    return consumed.remote_->Duplicate(rights, out);
  }
  consumed.rights_ = rights;
  *out = std::move(consumed);
  return Status::kOk;
}

uint64_t Vmo::koid() const {
  if (remote_) return remote_->koid();
  return object() ? object()->koid() : 0;
}

Status Vmo::Read(void* data, uint64_t offset, uint64_t len) const {
  if (!is_valid()) return Status::kBadHandle;
  if ((rights_ & kRightRead) == 0) return Status::kAccessDenied;
  if (data == nullptr && len > 0) return Status::kInvalidArgs;
  if (remote_) return remote_->Read(data, offset, len);
  return object()->Read(data, offset, len);
}

Status Vmo::Write(const void* data, uint64_t offset, uint64_t len) const {
  if (!is_valid()) return Status::kBadHandle;
  if ((rights_ & kRightWrite) == 0) return Status::kAccessDenied;
  if (data == nullptr && len > 0) return Status::kInvalidArgs;
  if (remote_) return remote_->Write(data, offset, len);
  return object()->Write(data, offset, len);
}

Status Vmo::GetSize(uint64_t* size) const {
  if (!is_valid()) return Status::kBadHandle;
  if (size == nullptr) return Status::kInvalidArgs;
  if (remote_) return remote_->GetSize(size);
  *size = object()->size();
  return Status::kOk;
}

Status Vmo::SetSize(uint64_t size) const {
  if (!is_valid()) return Status::kBadHandle;
  if ((rights_ & kRightWrite) == 0) return Status::kAccessDenied;
  if (remote_) return remote_->SetSize(size);
  return object()->SetSize(size);
}

Status Vmo::OpRange(uint32_t op, uint64_t offset, uint64_t len) const {
  if (!is_valid()) return Status::kBadHandle;
  // Each op's right, checked before its range (section 11); an unknown op is the VMO's.
  uint32_t needed = kRightNone;
  switch (op) {
    case kVmoOpCommit:
    case kVmoOpDecommit:
    case kVmoOpZero: needed = kRightWrite; break;
    case kVmoOpPrefetch: needed = kRightRead; break;
    default: break;  // DONT_NEED and ALWAYS_NEED are hints, allowed to any handle
  }
  if ((rights_ & needed) != needed) return Status::kAccessDenied;
  if (remote_) return remote_->OpRange(op, offset, len);
  return object()->OpRange(op, offset, len);
}

Status Vmo::CreateChild(uint32_t options, uint64_t offset, uint64_t size, Vmo* out) const {
  // Zircon's order (docs/clones.md): the size, NoWrite with Resizable, the handle and its
  // rights, then the kind, then the object's checks.
  if (size > kMaxVmoSize) return Status::kOutOfRange;
  size = (size + kPageSize - 1) / kPageSize * kPageSize;
  if ((options & kVmoChildNoWrite) != 0 && (options & kVmoChildResizable) != 0) {
    return Status::kInvalidArgs;
  }
  if (!is_valid()) return Status::kBadHandle;
  constexpr uint32_t kNeeded = kRightDuplicate | kRightRead;
  if ((rights_ & kNeeded) != kNeeded) return Status::kAccessDenied;
  if (out == nullptr) return Status::kInvalidArgs;
  const uint32_t asked = options;
  const bool no_write = (options & kVmoChildNoWrite) != 0;
  options &= ~kVmoChildNoWrite;
  using CloneType = internal::VmObjectPaged::CloneType;
  CloneType type;
  bool resizable = false;
  if ((options & kVmoChildSlice) != 0) {
    if (options != kVmoChildSlice) return Status::kInvalidArgs;  // nothing else goes with it
    type = CloneType::kSlice;
  } else if ((options & kVmoChildReference) != 0) {
    if ((options & ~(kVmoChildReference | kVmoChildResizable)) != 0) return Status::kInvalidArgs;
    type = CloneType::kReference;
    resizable = (options & kVmoChildResizable) != 0;
  } else {
    // One kind: a second one is left over below.
    if ((options & kVmoChildSnapshot) != 0) {
      type = CloneType::kSnapshot;
      options &= ~kVmoChildSnapshot;
    } else if ((options & kVmoChildSnapshotAtLeastOnWrite) != 0) {
      type = CloneType::kAtLeastOnWrite;
      options &= ~kVmoChildSnapshotAtLeastOnWrite;
    } else if ((options & kVmoChildSnapshotModified) != 0) {
      type = CloneType::kSnapshotModified;
      options &= ~kVmoChildSnapshotModified;
    } else {
      return Status::kInvalidArgs;
    }
    resizable = (options & kVmoChildResizable) != 0;
    options &= ~kVmoChildResizable;
    if (options != 0) return Status::kInvalidArgs;
  }
  // The owner makes the child with its own handle, and checks everything again (a holder's
  // checks are advisory): the statuses are the same as a local caller's.
  if (remote_) return remote_->CreateChild(asked, offset, size, out);
  std::shared_ptr<internal::VmObjectPaged> child;
  if (Status s = object()->CreateChild(type, offset, size, resizable, &child); s != Status::kOk) {
    return s;
  }
  // The parent handle's rights; a copy-on-write child is writable unless asked otherwise.
  uint32_t rights = rights_ | kRightGetProperty | kRightSetProperty;
  if (no_write) {
    rights &= ~kRightWrite;
  } else if (type != CloneType::kSlice && type != CloneType::kReference) {
    rights |= kRightWrite;
  }
  *out = internal::HandleAccess::Make<Vmo>(std::move(child));
  out->rights_ = rights;
  return Status::kOk;
}

Status Vmo::GetInfo(VmoInfo* out) const {
  if (!is_valid()) return Status::kBadHandle;
  if (out == nullptr) return Status::kInvalidArgs;
  if (remote_) return remote_->GetInfo(out);
  object()->GetInfo(out);
  return Status::kOk;
}

Status Vmo::GetStreamSize(uint64_t* size) const {
  if (!is_valid()) return Status::kBadHandle;
  if ((rights_ & kRightRead) == 0) return Status::kAccessDenied;
  if (size == nullptr) return Status::kInvalidArgs;
  if (remote_) return Status::kNotSupported;
  *size = object()->stream_size();
  return Status::kOk;
}

Status Vmo::SetStreamSize(uint64_t size) const {
  if (!is_valid()) return Status::kBadHandle;
  if ((rights_ & kRightWrite) == 0) return Status::kAccessDenied;
  if (remote_) return Status::kNotSupported;
  return object()->SetStreamSize(size);
}

Status Vmo::SetChildObserver(VmoChildObserver* observer) const {
  if (!is_valid()) return Status::kBadHandle;
  if (remote_) return Status::kNotSupported;
  object()->SetChildObserver(observer);
  return Status::kOk;
}

Status Vmo::RemoveChildObserver(VmoChildObserver* observer) const {
  if (!is_valid()) return Status::kBadHandle;
  if (remote_) return Status::kNotSupported;
  object()->RemoveChildObserver(observer);
  return Status::kOk;
}

namespace internal {

Vmo CopyVmoHandle(const Vmo& vmo) { return HandleAccess::CopyLocal(vmo); }

}  // namespace internal

}  // namespace upager

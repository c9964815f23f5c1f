// The public Vmo handle: move-only, counted on its object so that the last one closes a
// pager-backed VMO's page source.
#include "upager/vmo.h"

#include "vm/vm_object_paged.h"

namespace upager {

Vmo::Vmo() = default;

Vmo::Vmo(std::shared_ptr<internal::VmObjectPaged> object) : object_(std::move(object)) {
  if (object_) object_->AddHandle();
}

Vmo::~Vmo() { Reset(); }

Vmo::Vmo(Vmo&& other) noexcept : object_(std::move(other.object_)) {}

Vmo& Vmo::operator=(Vmo&& other) noexcept {
  if (this != &other) {
    Reset();
    object_ = std::move(other.object_);
  }
  return *this;
}

void Vmo::Reset() {
  if (object_) {
    object_->RemoveHandle();
    object_.reset();
  }
}

Status Vmo::Create(uint64_t size, uint32_t options, Vmo* out) {
  if (out == nullptr || (options & ~kVmoResizable) != 0) return Status::kInvalidArgs;
  std::shared_ptr<internal::VmObjectPaged> object;
  if (Status s = internal::VmObjectPaged::CreateAnonymous(size, options, &object);
      s != Status::kOk) {
    return s;
  }
  *out = Vmo(std::move(object));
  return Status::kOk;
}

Status Vmo::Duplicate(Vmo* out) const {
  if (!object_) return Status::kBadHandle;
  if (out == nullptr) return Status::kInvalidArgs;
  *out = Vmo(object_);
  return Status::kOk;
}

uint64_t Vmo::koid() const { return object_ ? object_->koid() : 0; }

Status Vmo::Read(void* data, uint64_t offset, uint64_t len) const {
  if (!object_) return Status::kBadHandle;
  if (data == nullptr && len > 0) return Status::kInvalidArgs;
  return object_->Read(data, offset, len);
}

Status Vmo::Write(const void* data, uint64_t offset, uint64_t len) const {
  if (!object_) return Status::kBadHandle;
  if (data == nullptr && len > 0) return Status::kInvalidArgs;
  return object_->Write(data, offset, len);
}

Status Vmo::GetSize(uint64_t* size) const {
  if (!object_) return Status::kBadHandle;
  if (size == nullptr) return Status::kInvalidArgs;
  *size = object_->size();
  return Status::kOk;
}

Status Vmo::SetSize(uint64_t size) const {
  if (!object_) return Status::kBadHandle;
  return object_->SetSize(size);
}

Status Vmo::OpRange(uint32_t op, uint64_t offset, uint64_t len) const {
  if (!object_) return Status::kBadHandle;
  return object_->OpRange(op, offset, len);
}

Status Vmo::CreateChild(uint32_t /*options*/, uint64_t /*offset*/, uint64_t /*size*/,
                        Vmo* /*out*/) const {
  if (!object_) return Status::kBadHandle;
  return Status::kNotSupported;  // clones are not built yet (issue 13)
}

Status Vmo::GetInfo(VmoInfo* out) const {
  if (!object_) return Status::kBadHandle;
  if (out == nullptr) return Status::kInvalidArgs;
  object_->GetInfo(out);
  return Status::kOk;
}

}  // namespace upager

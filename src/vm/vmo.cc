// The public Vmo handle: move-only, counted on its object so that the last one closes a
// pager-backed VMO's page source.
#include "upager/vmo.h"

#include "base/handle_access.h"
#include "vm/vm_object_paged.h"

namespace upager {

template class internal::Handle<internal::VmObjectPaged>;

Status Vmo::Create(uint64_t size, uint32_t options, Vmo* out) {
  if (out == nullptr || (options & ~kVmoResizable) != 0) return Status::kInvalidArgs;
  std::shared_ptr<internal::VmObjectPaged> object;
  if (Status s = internal::VmObjectPaged::CreateAnonymous(size, options, &object);
      s != Status::kOk) {
    return s;
  }
  *out = internal::HandleAccess::Make<Vmo>(std::move(object));
  return Status::kOk;
}

Status Vmo::Duplicate(Vmo* out) const { return DuplicateTo(out); }

uint64_t Vmo::koid() const { return object() ? object()->koid() : 0; }

Status Vmo::Read(void* data, uint64_t offset, uint64_t len) const {
  if (!object()) return Status::kBadHandle;
  if (data == nullptr && len > 0) return Status::kInvalidArgs;
  return object()->Read(data, offset, len);
}

Status Vmo::Write(const void* data, uint64_t offset, uint64_t len) const {
  if (!object()) return Status::kBadHandle;
  if (data == nullptr && len > 0) return Status::kInvalidArgs;
  return object()->Write(data, offset, len);
}

Status Vmo::GetSize(uint64_t* size) const {
  if (!object()) return Status::kBadHandle;
  if (size == nullptr) return Status::kInvalidArgs;
  *size = object()->size();
  return Status::kOk;
}

Status Vmo::SetSize(uint64_t size) const {
  if (!object()) return Status::kBadHandle;
  return object()->SetSize(size);
}

Status Vmo::OpRange(uint32_t op, uint64_t offset, uint64_t len) const {
  if (!object()) return Status::kBadHandle;
  return object()->OpRange(op, offset, len);
}

Status Vmo::CreateChild(uint32_t /*options*/, uint64_t /*offset*/, uint64_t /*size*/,
                        Vmo* /*out*/) const {
  if (!object()) return Status::kBadHandle;
  return Status::kNotSupported;  // clones are not built yet (issue 13)
}

Status Vmo::GetInfo(VmoInfo* out) const {
  if (!object()) return Status::kBadHandle;
  if (out == nullptr) return Status::kInvalidArgs;
  object()->GetInfo(out);
  return Status::kOk;
}

}  // namespace upager

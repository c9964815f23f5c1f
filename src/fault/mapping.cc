// The public Mapping handle and the process-wide fault functions.
#include "upager/mapping.h"

#include "base/handle_access.h"
#include "fault/fault_service.h"
#include "fault/mapping_object.h"
#include "fault/remote_mapping.h"

namespace upager {

Mapping::Mapping() = default;
Mapping::~Mapping() = default;
Mapping::Mapping(Mapping&& other) noexcept = default;
Mapping& Mapping::operator=(Mapping&& other) noexcept = default;

Status Mapping::Create(const Vmo& vmo, uint64_t vmo_offset, uint64_t len, uint32_t flags,
                       Mapping* out) {
  if (out == nullptr) return Status::kInvalidArgs;
  if (internal::HandleAccess::Remote(vmo) != nullptr) {
    // A VMO held from another process: MappingObject::Create checks the handle's rights and
    // the arguments first, then says so (kNotSupported), and the owner serves it.
    std::unique_ptr<internal::MappingObject> unused;
    if (Status s = internal::MappingObject::Create(vmo, vmo_offset, len, flags, &unused);
        s != Status::kNotSupported) {
      return s;
    }
    std::unique_ptr<internal::RemoteMapping> remote;
    if (Status s = internal::RemoteMapping::Create(vmo, vmo_offset, len, (flags & kMapWrite) != 0,
                                                   &remote);
        s != Status::kOk) {
      return s;
    }
    out->object_.reset();
    out->remote_ = std::move(remote);
    return Status::kOk;
  }
  std::unique_ptr<internal::MappingObject> object;
  if (Status s = internal::MappingObject::Create(vmo, vmo_offset, len, flags, &object);
      s != Status::kOk) {
    return s;
  }
  out->remote_.reset();
  out->object_ = std::move(object);
  return Status::kOk;
}

Status Mapping::CreateAt(const Vmo& vmo, uint64_t vmo_offset, uint64_t len, uint32_t flags,
                         void* address, Mapping* out) {
  if (out == nullptr || address == nullptr) return Status::kInvalidArgs;
  std::unique_ptr<internal::MappingObject> object;
  if (Status s = internal::MappingObject::Create(vmo, vmo_offset, len, flags, &object,
                                                 reinterpret_cast<uintptr_t>(address));
      s != Status::kOk) {
    return s;
  }
  out->remote_.reset();
  out->object_ = std::move(object);
  return Status::kOk;
}

Status Mapping::Protect(uint64_t offset, uint64_t len, uint32_t flags) {
  if (remote_) return Status::kNotSupported;
  if (!object_) return Status::kBadHandle;
  return object_->Protect(offset, len, flags);
}

Status Mapping::Unmap(uint64_t offset, uint64_t len) {
  if (remote_) return Status::kNotSupported;
  if (!object_) return Status::kBadHandle;
  return object_->UnmapPart(offset, len);
}

Status Mapping::MapRange(uint64_t offset, uint64_t len) {
  if (remote_) return Status::kNotSupported;
  if (!object_) return Status::kBadHandle;
  return object_->MapRange(offset, len);
}

std::byte* Mapping::data() const {
  if (remote_) return remote_->data();
  return object_ ? object_->data() : nullptr;
}
uint64_t Mapping::size() const {
  if (remote_) return remote_->size();
  return object_ ? object_->length() : 0;
}
void Mapping::Reset() {
  object_.reset();
  remote_.reset();
}

Status FaultStatusForAddress(const void* addr) {
  const auto address = reinterpret_cast<uintptr_t>(addr);
  // Not Get: from a signal handler in a process that never mapped anything, making the
  // service would allocate (and start its threads).
  if (internal::FaultService* service = internal::FaultService::IfCreated()) {
    const Status local = service->StatusForAddress(address);
    if (local != Status::kNotFound) return local;
  }
  return internal::RemoteMapping::FailureFor(address);
}

Status MappingSupport(std::string* why) { return internal::FaultService::Get().Support(why); }

Status SetFaultThreads(size_t threads) { return internal::FaultService::Get().SetThreads(threads); }

}  // namespace upager

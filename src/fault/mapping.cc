// The public Mapping handle and the process-wide fault functions.
#include "upager/mapping.h"

#include "fault/fault_service.h"
#include "fault/mapping_object.h"

namespace upager {

Mapping::Mapping() = default;
Mapping::~Mapping() = default;
Mapping::Mapping(Mapping&& other) noexcept = default;
Mapping& Mapping::operator=(Mapping&& other) noexcept = default;

Status Mapping::Create(const Vmo& vmo, uint64_t vmo_offset, uint64_t len, uint32_t flags,
                       Mapping* out) {
  if (out == nullptr) return Status::kInvalidArgs;
  std::unique_ptr<internal::MappingObject> object;
  if (Status s = internal::MappingObject::Create(vmo, vmo_offset, len, flags, &object);
      s != Status::kOk) {
    return s;
  }
  out->object_ = std::move(object);
  return Status::kOk;
}

std::byte* Mapping::data() const { return object_ ? object_->data() : nullptr; }
uint64_t Mapping::size() const { return object_ ? object_->length() : 0; }
void Mapping::Reset() { object_.reset(); }

Status FaultStatusForAddress(const void* addr) {
  return internal::FaultService::Get().StatusForAddress(reinterpret_cast<uintptr_t>(addr));
}

Status MappingSupport(std::string* why) { return internal::FaultService::Get().Support(why); }

Status SetFaultThreads(size_t threads) { return internal::FaultService::Get().SetThreads(threads); }

}  // namespace upager

// The public Pager handle and the zx_pager_* calls, with the argument checks of section 11
// in Zircon's order: misalignment first (before any handle is looked at), then the handles,
// then "is this VMO mine", then the call's own arguments; the VMO checks the ranges.
// Section numbers refer to docs/zircon-semantics.md.
#include "upager/pager.h"

#include <cstring>
#include <limits>
#include <utility>

#include "base/handle_access.h"
#include "base/telemetry.h"
#include "pager/pager_object.h"
#include "pager/port_object.h"
#include "upager/page_source.h"
#include "vm/vm_object_paged.h"

namespace upager {
namespace {

bool IsPageAligned(uint64_t value) { return value % kPageSize == 0; }

internal::VmObjectPaged* VmoObject(const Vmo& vmo) {
  return internal::HandleAccess::Object(vmo).get();
}

bool HasRights(const Vmo& vmo, uint32_t rights) { return (vmo.rights() & rights) == rights; }

// The handle checks shared by every call on (pager, vmo): kBadHandle for an invalid pager or
// VMO handle, kAccessDenied for a VMO handle without `rights`, kInvalidArgs for a VMO this
// pager did not create (anonymous VMOs included).
Status CheckPagerVmo(const std::shared_ptr<internal::PagerObject>& pager, const Vmo& vmo,
                     uint32_t rights) {
  if (pager == nullptr || !vmo.is_valid()) {
    return Status::kBadHandle;
  }
  if (!HasRights(vmo, rights)) {
    return Status::kAccessDenied;
  }
  // A VMO held from another process (channel.h) is never this pager's.
  if (VmoObject(vmo) == nullptr || !VmoObject(vmo)->is_pager_backed() ||
      VmoObject(vmo)->pager_koid() != pager->koid()) {
    return Status::kInvalidArgs;
  }
  return Status::kOk;
}

}  // namespace

template class internal::Handle<internal::PagerObject>;

Status Pager::Create(uint32_t options, Pager* out) {
  if (options != 0 || out == nullptr) {
    return Status::kInvalidArgs;
  }
  *out = internal::HandleAccess::Make<Pager>(std::make_shared<internal::PagerObject>());
  return Status::kOk;
}

Status Pager::Duplicate(Pager* out) const { return DuplicateTo(out); }

Status Pager::CreateVmo(uint32_t options, const Port& port, uint64_t key, uint64_t size,
                        Vmo* out) const {
  if (object() == nullptr || !port.is_valid()) {
    return Status::kBadHandle;
  }
  if (out == nullptr) {
    return Status::kInvalidArgs;
  }
  return object()->CreateVmo(options, internal::HandleAccess::Object(port), key, size, out);
}

Status Pager::DetachVmo(const Vmo& vmo) const {
  if (Status s = CheckPagerVmo(object(), vmo, kRightWrite); s != Status::kOk) {
    return s;
  }
  VmoObject(vmo)->Detach();
  return Status::kOk;
}

Status Pager::SupplyPages(const Vmo& vmo, uint64_t offset, uint64_t len, const Vmo& aux,
                          uint64_t aux_offset) const {
  if (!IsPageAligned(offset) || !IsPageAligned(len) || !IsPageAligned(aux_offset)) {
    return Status::kInvalidArgs;
  }
  // Zircon's order: the pager and its VMO (kBadHandle, kAccessDenied, then kInvalidArgs for
  // a VMO of another pager), and only then the aux handle (kBadHandle, kAccessDenied).
  if (Status s = CheckPagerVmo(object(), vmo, kRightWrite); s != Status::kOk) {
    return s;
  }
  if (!aux.is_valid()) {
    return Status::kBadHandle;
  }
  if (!HasRights(aux, kRightRead | kRightWrite)) {
    return Status::kAccessDenied;  // the supply takes the aux pages away
  }
  if (VmoObject(aux) == nullptr) {
    return Status::kNotSupported;  // an aux VMO held from another process: its pages are there
  }
  // The aux range (kOutOfRange) and an aux VMO with a page source (kNotSupported) are the
  // VMO's to check.
  const Status status = VmoObject(vmo)->SupplyPages(offset, len, VmoObject(aux), aux_offset);
  if (status == Status::kOk) internal::telemetry::Supplied(vmo.koid(), offset, len);
  return status;
}

Status Pager::SupplyPagesFromBuffer(const Vmo& vmo, uint64_t offset, uint64_t len,
                                    const void* data) const {
  if (!IsPageAligned(offset) || !IsPageAligned(len)) {
    return Status::kInvalidArgs;
  }
  if (Status s = CheckPagerVmo(object(), vmo, kRightWrite); s != Status::kOk) {
    return s;
  }
  if (data == nullptr) {
    return Status::kInvalidArgs;
  }
  const Status status = VmoObject(vmo)->SupplyPagesFromBuffer(offset, len, data);
  if (status == Status::kOk) internal::telemetry::Supplied(vmo.koid(), offset, len);
  return status;
}

Status Pager::OpRange(uint32_t op, const Vmo& vmo, uint64_t offset, uint64_t len,
                      uint64_t data) const {
  if (!IsPageAligned(offset) || !IsPageAligned(len)) {
    return Status::kInvalidArgs;
  }
  if (Status s = CheckPagerVmo(object(), vmo, kRightWrite); s != Status::kOk) {
    return s;
  }
  internal::VmObjectPaged* target = VmoObject(vmo);
  switch (op) {
    case kPagerOpFail: {
      // `data` is a zx_status_t sign-extended to 64 bits; anything else is not a status.
      const auto value = static_cast<int64_t>(data);
      if (value < std::numeric_limits<int32_t>::min() ||
          value > std::numeric_limits<int32_t>::max()) {
        return Status::kInvalidArgs;
      }
      const auto error = static_cast<Status>(static_cast<int32_t>(value));
      if (!PageSource::IsValidExternalFailureCode(error)) {
        return Status::kInvalidArgs;
      }
      const Status status = target->FailPages(offset, len, error);
      if (status == Status::kOk) internal::telemetry::Failed(vmo.koid(), offset, len, error);
      return status;
    }
    case kPagerOpDirty:
      if (data != 0) {
        return Status::kInvalidArgs;
      }
      return target->DirtyPages(offset, len);
    case kPagerOpWritebackBegin:
      if (data != 0 && data != kVmoDirtyRangeIsZero) {
        return Status::kInvalidArgs;
      }
      return target->WritebackBegin(offset, len, data == kVmoDirtyRangeIsZero);
    case kPagerOpWritebackEnd:
      if (data != 0) {
        return Status::kInvalidArgs;
      }
      return target->WritebackEnd(offset, len);
    default: return Status::kNotSupported;
  }
}

Status Pager::QueryDirtyRanges(const Vmo& vmo, uint64_t offset, uint64_t len, void* buffer,
                               size_t buffer_size, size_t* actual, size_t* avail) const {
  // No alignment requirement: the VMO rounds the range outward after checking its bounds.
  if (Status s = CheckPagerVmo(object(), vmo, kRightRead); s != Status::kOk) {
    return s;
  }
  if (buffer == nullptr && buffer_size > 0) {
    return Status::kInvalidArgs;  // what Zircon reports for an unwritable buffer
  }
  return VmoObject(vmo)->QueryDirtyRanges(offset, len, static_cast<VmoDirtyRange*>(buffer),
                                          buffer_size / sizeof(VmoDirtyRange), actual, avail);
}

Status Pager::QueryVmoStats(const Vmo& vmo, uint32_t options, void* buffer,
                            size_t buffer_size) const {
  if (Status s = CheckPagerVmo(object(), vmo, kRightRead); s != Status::kOk) {
    return s;
  }
  if (buffer_size < sizeof(PagerVmoStats)) {
    return Status::kBufferTooSmall;
  }
  if (options != 0 && options != kPagerResetVmoStats) {
    return Status::kInvalidArgs;
  }
  if (buffer == nullptr) {
    return Status::kInvalidArgs;
  }
  PagerVmoStats stats{};
  if (Status s = VmoObject(vmo)->QueryStats(options == kPagerResetVmoStats, &stats);
      s != Status::kOk) {
    return s;
  }
  // The caller's buffer need not be aligned for the struct.
  std::memcpy(buffer, &stats, sizeof(stats));
  return Status::kOk;
}

}  // namespace upager

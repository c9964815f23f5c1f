// VmObjectPaged: the stream size (Zircon's content size, zx_vmo_get/set_stream_size), and
// what changing it does to the content (vmo.h).
// Section numbers refer to docs/zircon-semantics.md.
#include <algorithm>

#include "vm/vm_object_impl.h"
#include "vm/vm_object_paged.h"

namespace upager::internal {

void VmObjectPaged::InitStreamSize(uint64_t stream_size) {
  MutexLock lock(&impl_->mutex);
  impl_->stream_size = stream_size;
}

uint64_t VmObjectPaged::stream_size() const {
  if (reference_) return parent_->stream_size();  // one stream size for both
  MutexLock lock(&impl_->mutex);
  return impl_->stream_size;
}

Status VmObjectPaged::SetStreamSize(uint64_t new_stream_size) {
  if (reference_) return parent_->SetStreamSize(new_stream_size);
  Impl& m = *impl_;
  uint64_t old_stream_size;
  uint64_t size;
  {
    MutexLock lock(&m.mutex);
    old_stream_size = m.stream_size;
    size = m.size;
  }
  if (new_stream_size > size) {
    if (!is_resizable()) return Status::kOutOfRange;
    // Grows the VMO (rounded up to pages); the stream size is set with it.
    return SetSize(new_stream_size);
  }
  if (new_stream_size < old_stream_size) {
    // What the VMO holds beyond the new end is zeroed, as ZX_VMO_OP_ZERO does (10.4), so
    // that a later grow shows zeros there. Only up to the old stream size: nothing beyond
    // it was visible through the stream.
    const uint64_t end = std::min(old_stream_size, size);
    if (end > new_stream_size) {
      if (Status s = OpRange(kVmoOpZero, new_stream_size, end - new_stream_size);
          s != Status::kOk) {
        return s;
      }
    }
  }
  MutexLock lock(&m.mutex);
  m.stream_size = std::min(new_stream_size, m.size);  // a shrink meanwhile wins
  return Status::kOk;
}

}  // namespace upager::internal

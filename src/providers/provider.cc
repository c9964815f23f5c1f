#include "upager/providers/provider.h"

#include <algorithm>

#include "base/handle_access.h"
#include "vm/vm_object_paged.h"

namespace upager {

Provider::~Provider() { Shutdown(); }

Status Provider::Init(PagerLoop* loop, uint64_t content_size, uint32_t vmo_options) {
  if (loop == nullptr) return Status::kInvalidArgs;
  if (content_size > UINT64_MAX - kPageSize) return Status::kOutOfRange;
  loop_ = loop;
  content_size_ = content_size;
  vmo_size_ = PageRoundUp(content_size);
  return loop->CreateVmo(vmo_options, vmo_size_, this, &vmo_);
}

void Provider::Shutdown() {
  if (shut_down_ || loop_ == nullptr) return;
  shut_down_ = true;
  // Holding the VMO's only handle (no duplicate, no mapping), this provider is its last
  // user: the pages go with the VMO when that handle closes, off this thread, rather than
  // being dropped here one run at a time (VmObjectPaged::DetachSoleHandle).
  if (vmo_.is_valid()) internal::HandleAccess::Object(vmo_)->DetachSoleHandle();
  loop_->RemoveHandler(this);
}

ProviderStats Provider::stats() const {
  ProviderStats s;
  // First: the counters bumped before it (release) are seen with it.
  s.bytes_supplied = bytes_supplied_.load(std::memory_order_acquire);
  s.requests = requests_.load(std::memory_order_relaxed);
  s.reads = reads_.load(std::memory_order_relaxed);
  s.bytes_read = bytes_read_.load(std::memory_order_relaxed);
  s.failures = failures_.load(std::memory_order_relaxed);
  s.retries = retries_.load(std::memory_order_relaxed);
  s.fault_fills = fault_fills_.load(std::memory_order_relaxed);
  s.fault_reads = fault_reads_.load(std::memory_order_relaxed);
  s.cache_hits = cache_hits_.load(std::memory_order_relaxed);
  s.cache_misses = cache_misses_.load(std::memory_order_relaxed);
  return s;
}

void Provider::SetAccessPattern(AccessPattern pattern) {
  if (read_ahead_ != nullptr) read_ahead_->SetAccessPattern(pattern);
}

AccessPattern Provider::access_pattern() const {
  return read_ahead_ != nullptr ? read_ahead_->access_pattern() : AccessPattern::kNormal;
}

ReadAheadGap Provider::AbsentRun(uint64_t offset, uint64_t low, uint64_t high) const {
  ReadAheadGap gap{offset, offset};
  const auto& object = internal::HandleAccess::Object(vmo_);
  if (object != nullptr) object->AbsentRun(offset, low, high, &gap.low, &gap.high);
  return gap;
}

uint64_t Provider::FirstAbsent(uint64_t offset, uint64_t end) const {
  end = std::min(end, vmo_size_);
  for (uint64_t page = offset & ~(kPageSize - 1); page < end; page += kPageSize) {
    const ReadAheadGap gap = AbsentRun(page, page, page + kPageSize);
    if (gap.high > gap.low) return page;
  }
  return end;
}

Status Provider::Supply(uint64_t offset, uint64_t length, const void* data) {
  if (offset >= vmo_size_) return Status::kOutOfRange;
  length = std::min(length, vmo_size_ - offset);
  const Status s = loop_->pager().SupplyPagesFromBuffer(vmo_, offset, length, data);
  if (s == Status::kOk) bytes_supplied_.fetch_add(length, std::memory_order_relaxed);
  return s;
}

Status Provider::Fail(uint64_t offset, uint64_t length, Status error) {
  if (offset >= vmo_size_) return Status::kOutOfRange;
  length = std::min(length, vmo_size_ - offset);
  failures_.fetch_add(1, std::memory_order_relaxed);
  return loop_->pager().OpRange(kPagerOpFail, vmo_, offset, length,
                                static_cast<uint64_t>(static_cast<int64_t>(error)));
}

}  // namespace upager

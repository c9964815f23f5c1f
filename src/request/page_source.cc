#include "upager/page_source.h"

#include <algorithm>
#include <cassert>
#include <limits>

#include "base/telemetry.h"
#include "base/thread_state.h"

namespace upager {
namespace {

constexpr uint64_t kUninitialized = std::numeric_limits<uint64_t>::max();

bool IsPageAligned(uint64_t value) { return value % kPageSize == 0; }

// A well-formed range: page aligned and not wrapping around.
bool IsValidRange(uint64_t offset, uint64_t len) {
  return IsPageAligned(offset) && IsPageAligned(len) &&
         offset <= std::numeric_limits<uint64_t>::max() - len;
}

// The request types a provider can be asked to resolve; WRITEBACK is never generated.
constexpr PageRequestType kTrackedTypes[] = {PageRequestType::kRead, PageRequestType::kDirty};

}  // namespace

PageSource::PageSource(std::shared_ptr<PageProvider> provider) : provider_(std::move(provider)) {
  assert(provider_ != nullptr);
}

PageSource::~PageSource() {
  // Every active request holds a reference to this source, so none is left; closing tells
  // a provider that was never closed explicitly.
  Close();
}

Status PageSource::GetPages(uint64_t offset, uint64_t len, PageRequest* req, VmoDebugInfo info) {
  return PopulateRequest(req, offset, len, PageRequestType::kRead, info);
}

Status PageSource::RequestDirtyTransition(PageRequest* req, uint64_t offset, uint64_t len,
                                          VmoDebugInfo info) {
  return PopulateRequest(req, offset, len, PageRequestType::kDirty, info);
}

Status PageSource::PopulateRequest(PageRequest* req, uint64_t offset, uint64_t len,
                                   PageRequestType type, const VmoDebugInfo& info) {
  if (req == nullptr || len == 0 || !IsPageAligned(offset) || !IsPageAligned(len)) {
    return Status::kInvalidArgs;
  }
  if (offset > std::numeric_limits<uint64_t>::max() - len) {
    return Status::kOutOfRange;
  }
  if (!provider_->SupportsPageRequestType(type)) {
    return Status::kNotSupported;
  }
  // A request still tracked by someone else cannot be re-targeted here; its tracking state
  // belongs to the other source's lock.
  if (req->is_active() && req->src_.get() != this) {
    return Status::kInvalidArgs;
  }

  internal::MutexLock lock(&mutex_);
  if (detached_) {
    return Status::kBadState;
  }
  PageRequest::Tracking& t = T(req);
  if (t.offset != kUninitialized) {
    // Re-use of an (early-woken) request that is still outstanding.
    if (t.type != type) {
      return Status::kInvalidArgs;
    }
    if (offset >= t.offset && offset - t.offset < t.len) {
      if (req->early_wake_) {
        t.wake_offset = offset - t.offset;
      }
      return Status::kShouldWait;
    }
    CancelRequestLocked(req);
  }

  req->event_.Unsignal();
  t.offset = offset;
  t.len = len;
  t.type = type;
  t.complete_status = Status::kOk;
  t.wake_offset = req->early_wake_ ? 0 : kUninitialized;
  t.pending_size = 0;
  t.provider_owned = false;
  t.vmo_debug_info = info;
  if (req->src_.get() != this) {
    req->src_ = shared_from_this();
  }
  req->active_.store(true, std::memory_order_release);

  // Clip against the primary N with the smallest end beyond `offset` (docs/zircon-semantics.md 4).
  RequestSet& set = SetFor(type);
  const uint64_t end = offset + len;
  auto next = set.upper_bound(offset);
  if (next != set.end() && T(&*next).offset < end) {
    PageRequest::Tracking& nt = T(&*next);
    if (nt.offset <= offset) {
      // Starts inside N: wait on N for the part N covers; the rest is asked for after
      // the waiter is woken and retries.
      t.len = std::min(end, nt.offset + nt.len) - offset;
      nt.overlap.push_back(*req);
      internal::telemetry::RequestJoined(type == PageRequestType::kDirty, info.vmo_id, offset,
                                         t.len);
      return Status::kShouldWait;
    }
    // Starts before N: only the unique prefix is new.
    t.len = nt.offset - offset;
  }
  t.pending_size = t.len;
  t.provider_owned = true;
  const internal::telemetry::RequestMark mark = internal::telemetry::RequestSent(
      type == PageRequestType::kDirty, info.vmo_id, t.offset, t.len);
  t.sent_ns = mark.sent_ns;
  t.trace_id = mark.trace_id;
  provider_->SendAsyncRequest(req);
  // `next` is the first primary ending after this one: insert in front of it, which saves
  // a second descent of the tree.
  set.insert_before(next, *req);
  return Status::kShouldWait;
}

void PageSource::OnPagesSupplied(uint64_t offset, uint64_t len) {
  if (!IsValidRange(offset, len)) {
    assert(!"OnPagesSupplied: invalid range");
    return;
  }
  internal::MutexLock lock(&mutex_);
  ResolveRequestsLocked(PageRequestType::kRead, offset, len, Status::kOk);
}

void PageSource::OnPagesDirtied(uint64_t offset, uint64_t len) {
  if (!IsValidRange(offset, len)) {
    assert(!"OnPagesDirtied: invalid range");
    return;
  }
  internal::MutexLock lock(&mutex_);
  ResolveRequestsLocked(PageRequestType::kDirty, offset, len, Status::kOk);
}

void PageSource::OnPagesFailed(uint64_t offset, uint64_t len, Status error) {
  if (!IsValidRange(offset, len) || !IsValidInternalFailureCode(error)) {
    assert(!"OnPagesFailed: invalid range or failure code");
    return;
  }
  internal::MutexLock lock(&mutex_);
  for (PageRequestType type : kTrackedTypes) {
    if (provider_->SupportsPageRequestType(type)) {
      ResolveRequestsLocked(type, offset, len, error);
    }
  }
}

void PageSource::ResolveRequestsLocked(PageRequestType type, uint64_t offset, uint64_t len,
                                       Status status) {
  if (detached_ || len == 0) {
    return;
  }
  const uint64_t end = offset + len;
  RequestSet& set = SetFor(type);
  auto it = set.upper_bound(offset);
  while (it != set.end() && T(&*it).offset < end) {
    PageRequest* primary = &*it;
    ++it;  // before `primary` may leave the set
    PageRequest::Tracking& pt = T(primary);
    const uint64_t rel_start = std::max(offset, pt.offset) - pt.offset;
    const uint64_t rel_end = std::min(end, pt.offset + pt.len) - pt.offset;

    if (status != Status::kOk) {
      // A failure is only the waiter's business if it hits the first page it still needs.
      if (rel_start == 0 || rel_start == pt.wake_offset) {
        pt.complete_status = status;
      }
      for (PageRequest& secondary : pt.overlap) {
        PageRequest::Tracking& st = T(&secondary);
        if (st.offset >= end || st.offset + st.len <= offset) {
          continue;
        }
        const uint64_t sec_start = std::max(offset, st.offset) - st.offset;
        if (sec_start == 0 || sec_start == st.wake_offset) {
          st.complete_status = status;
        }
      }
    }

    const uint64_t fulfilled = rel_end - rel_start;
    if (fulfilled < pt.pending_size) {
      if (rel_start == pt.wake_offset) {
        EarlyWakeLocked(primary, rel_start, rel_end);
      }
      pt.pending_size -= fulfilled;
    } else {
      set.erase(set.iterator_to(*primary));
      CompleteLocked(primary);
    }
  }
}

void PageSource::EarlyWakeLocked(PageRequest* primary, uint64_t rel_start, uint64_t rel_end) {
  PageRequest::Tracking& pt = T(primary);
  pt.wake_offset = rel_end;
  primary->Signal(pt.complete_status);

  const uint64_t start = pt.offset + rel_start;
  const uint64_t end = pt.offset + rel_end;
  for (PageRequest& secondary : pt.overlap) {
    if (!secondary.early_wake_) {
      continue;  // woken by completion only
    }
    PageRequest::Tracking& st = T(&secondary);
    if (start > st.offset && start - st.offset > st.wake_offset) {
      // The primary was filled past this waiter's wake point out of order: wake it now and
      // never early again; it re-arms itself if it still misses pages.
      st.wake_offset = pt.len;
      secondary.Signal(st.complete_status);
      continue;
    }
    const uint64_t sec_end = st.offset + st.len;
    if (end <= st.offset || start >= sec_end) {
      continue;
    }
    const uint64_t overlap_start = std::max(start, st.offset) - st.offset;
    const uint64_t overlap_end = std::min(end, sec_end) - st.offset;
    if (overlap_start <= st.wake_offset && st.wake_offset < overlap_end) {
      st.wake_offset = overlap_end;
      secondary.Signal(st.complete_status);
    }
  }
}

void PageSource::CompleteLocked(PageRequest* primary) {
  PageRequest::Tracking& pt = T(primary);
  provider_->ClearAsyncRequest(primary);
  pt.provider_owned = false;
  internal::telemetry::RequestCompleted({pt.sent_ns, pt.trace_id}, pt.complete_status,
                                        1 + pt.overlap.size());
  while (!pt.overlap.empty()) {
    PageRequest* secondary = &pt.overlap.front();
    pt.overlap.pop_front();
    const Status status = T(secondary).complete_status;
    Uninitialize(secondary);
    secondary->Signal(status);  // the owner may destroy it from here on
  }
  const Status status = pt.complete_status;
  Uninitialize(primary);
  primary->Signal(status);
}

void PageSource::Uninitialize(PageRequest* req) {
  PageRequest::Tracking& t = T(req);
  t.offset = kUninitialized;
  t.len = 0;
  t.wake_offset = kUninitialized;
  t.pending_size = 0;
  req->active_.store(false, std::memory_order_release);
}

void PageSource::CancelRequest(PageRequest* req) {
  internal::MutexLock lock(&mutex_);
  CancelRequestLocked(req);
}

void PageSource::CancelRequestLocked(PageRequest* req) {
  PageRequest::Tracking& t = T(req);
  if (t.offset == kUninitialized) {
    return;
  }
  RequestSet& set = SetFor(t.type);
  if (static_cast<internal::OverlapListHook*>(req)->is_linked()) {
    // A secondary: its primary is the first one ending after its start.
    auto primary = set.upper_bound(t.offset);
    assert(primary != set.end());
    PageRequest::Tracking& pt = T(&*primary);
    pt.overlap.erase(pt.overlap.iterator_to(*req));
  } else if (!t.overlap.empty()) {
    // A primary with waiters behind it: the first secondary takes its place, and the
    // packet already sent for the primary now stands for it.
    PageRequest* heir = &t.overlap.front();
    t.overlap.pop_front();
    PageRequest::Tracking& ht = T(heir);
    ht.overlap.swap(t.overlap);
    ht.offset = t.offset;
    ht.len = t.len;
    ht.pending_size = t.pending_size;
    set.replace_node(set.iterator_to(*req), *heir);
    provider_->SwapAsyncRequest(req, heir);
    ht.provider_owned = true;
    t.provider_owned = false;
  } else {
    set.erase(set.iterator_to(*req));
    provider_->ClearAsyncRequest(req);
    t.provider_owned = false;
  }
  Uninitialize(req);
}

Status PageSource::WaitOnRequest(PageRequest* req, bool suspendable) {
  {
    internal::MutexLock lock(&mutex_);
    if (T(req).offset == kUninitialized && !req->event_.is_signaled()) {
      return Status::kBadState;  // nothing outstanding and nothing to report: would hang
    }
  }
  Status status;
  {
    internal::BlockedOnPagerScope blocked;
    status = provider_->WaitOnEvent(&req->event_, suspendable);
  }
  if (status != Status::kOk && !IsValidInternalFailureCode(status)) {
    // Killed, suspended or timed out: the waiter walks away, so must its request.
    CancelRequest(req);
  }
  return status;
}

bool PageSource::IsValidExternalFailureCode(Status status) {
  switch (status) {
    case Status::kIo:
    case Status::kIoDataIntegrity:
    case Status::kBadState:
    case Status::kNoSpace:
    case Status::kBufferTooSmall: return true;
    default: return false;
  }
}

bool PageSource::IsValidInternalFailureCode(Status status) {
  return IsValidExternalFailureCode(status) || status == Status::kNoMemory;
}

bool PageSource::ShouldTrapDirtyTransitions() const {
  return provider_->SupportsPageRequestType(PageRequestType::kDirty);
}

void PageSource::Detach() {
  internal::MutexLock lock(&mutex_);
  DetachLocked();
}

void PageSource::DetachLocked() {
  if (detached_) {
    return;
  }
  detached_ = true;
  for (PageRequestType type : kTrackedTypes) {
    RequestSet& set = SetFor(type);
    while (!set.empty()) {
      PageRequest* primary = &*set.begin();
      set.erase(set.begin());
      CompleteLocked(primary);
    }
  }
  assert(SetFor(PageRequestType::kWriteback).empty());
  provider_->OnDetach();
}

void PageSource::Close() {
  internal::MutexLock lock(&mutex_);
  if (closed_) {
    return;
  }
  DetachLocked();
  closed_ = true;
  provider_->OnClose();
}

bool PageSource::is_detached() const {
  internal::MutexLock lock(&mutex_);
  return detached_;
}

bool PageSource::is_closed() const {
  internal::MutexLock lock(&mutex_);
  return closed_;
}

const PageSourceProperties& PageSource::properties() const { return provider_->properties(); }

size_t PageSource::OutstandingRequests(PageRequestType type) const {
  internal::MutexLock lock(&mutex_);
  return outstanding_[static_cast<size_t>(type)].size();
}

void PageSource::Dump(std::ostream& os, uint32_t max_items) const {
  internal::MutexLock lock(&mutex_);
  os << "page source " << static_cast<const void*>(this) << (detached_ ? " detached" : "")
     << (closed_ ? " closed" : "") << "\n";
  for (PageRequestType type : kTrackedTypes) {
    const RequestSet& set = outstanding_[static_cast<size_t>(type)];
    os << "  " << PageRequestTypeString(type) << " requests: " << set.size() << "\n";
    uint32_t shown = 0;
    for (const PageRequest& req : set) {
      if (shown++ == max_items) {
        os << "    ...\n";
        break;
      }
      const PageRequest::Tracking& t = req.tracking_;
      os << "    [0x" << std::hex << t.offset << ", 0x" << t.offset + t.len << std::dec
         << ") pending " << t.pending_size << (t.provider_owned ? " [sent]" : "") << " overlap "
         << t.overlap.size() << "\n";
    }
  }
  provider_->Dump(os, max_items);
}

}  // namespace upager

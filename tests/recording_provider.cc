#include "recording_provider.h"

#include <algorithm>
#include <cassert>

namespace upager::testing {

std::string RangeString(PageRequestType type, uint64_t offset, uint64_t len) {
  const char* letter = type == PageRequestType::kRead    ? "R"
                       : type == PageRequestType::kDirty ? "D"
                                                         : "W";
  return std::string(letter) + "[" + std::to_string(offset / kPageSize) + "," +
         std::to_string((offset + len) / kPageSize) + ")";
}

std::string ProviderCall::ToString() const {
  switch (kind) {
    case kSend: return "send " + RangeString(type, offset, len);
    case kClear: return "clear " + RangeString(type, offset, len);
    case kSwap: return "swap " + RangeString(type, offset, len);
    case kDetach: return "detach";
    case kClose: return "close";
  }
  return "?";
}

RecordingProvider::RecordingProvider(bool trap_dirty) : trap_dirty_(trap_dirty) {}

ProviderCall RecordingProvider::Describe(ProviderCall::Kind kind,
                                         const PageRequest* request) const {
  ProviderCall call{kind};
  call.request = request;
  if (request != nullptr) {
    call.type = GetRequestType(request);
    call.offset = GetRequestOffset(request);
    call.len = GetRequestLen(request);
  }
  return call;
}

void RecordingProvider::SendAsyncRequest(PageRequest* request) {
  std::lock_guard lock(mutex_);
  ProviderCall call = Describe(ProviderCall::kSend, request);
  assert(std::find(owned_.begin(), owned_.end(), request) == owned_.end());
  owned_.push_back(request);
  owned_ranges_.emplace_back(request, RangeString(call.type, call.offset, call.len));
  calls_.push_back(call);
}

void RecordingProvider::ClearAsyncRequest(PageRequest* request) {
  std::lock_guard lock(mutex_);
  calls_.push_back(Describe(ProviderCall::kClear, request));
  auto it = std::find(owned_.begin(), owned_.end(), request);
  assert(it != owned_.end());
  owned_ranges_.erase(owned_ranges_.begin() + (it - owned_.begin()));
  owned_.erase(it);
}

void RecordingProvider::SwapAsyncRequest(PageRequest* old_request, PageRequest* new_request) {
  std::lock_guard lock(mutex_);
  ProviderCall call = Describe(ProviderCall::kSwap, old_request);
  call.new_request = new_request;
  calls_.push_back(call);
  auto it = std::find(owned_.begin(), owned_.end(), old_request);
  assert(it != owned_.end());
  *it = new_request;
  owned_ranges_[it - owned_.begin()].first = new_request;
}

void RecordingProvider::OnDetach() {
  std::lock_guard lock(mutex_);
  calls_.push_back(ProviderCall{ProviderCall::kDetach});
}

void RecordingProvider::OnClose() {
  std::lock_guard lock(mutex_);
  calls_.push_back(ProviderCall{ProviderCall::kClose});
}

Status RecordingProvider::WaitOnEvent(Event* event, bool suspendable) {
  return WaitOnEventWithTimeouts(event, suspendable);
}

bool RecordingProvider::SupportsPageRequestType(PageRequestType type) const {
  return type == PageRequestType::kRead || (trap_dirty_ && type == PageRequestType::kDirty);
}

std::vector<ProviderCall> RecordingProvider::calls() const {
  std::lock_guard lock(mutex_);
  return calls_;
}

std::vector<std::string> RecordingProvider::TakeCallStrings() {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  out.reserve(calls_.size());
  for (const ProviderCall& call : calls_) {
    out.push_back(call.ToString());
  }
  calls_.clear();
  return out;
}

std::vector<std::string> RecordingProvider::OwnedRequests() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [request, range] : owned_ranges_) {
    out.push_back(range);
  }
  return out;
}

size_t RecordingProvider::owned_count() const {
  std::lock_guard lock(mutex_);
  return owned_.size();
}

}  // namespace upager::testing

// RecordingProvider: a PageProvider for tests that records every call the PageSource makes.
#ifndef UPAGER_TESTS_RECORDING_PROVIDER_H_
#define UPAGER_TESTS_RECORDING_PROVIDER_H_

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "upager/page_provider.h"
#include "upager/page_request.h"

namespace upager::testing {

struct ProviderCall {
  enum Kind { kSend, kClear, kSwap, kDetach, kClose };
  Kind kind;
  PageRequestType type = PageRequestType::kRead;
  uint64_t offset = 0;  // bytes
  uint64_t len = 0;     // bytes
  const PageRequest* request = nullptr;
  const PageRequest* new_request = nullptr;  // kSwap only

  // "send R[0,8)", "clear D[2,4)", "swap R[0,1)", "detach", "close"; ranges in pages.
  std::string ToString() const;
};

// Records Send/Clear/Swap/OnDetach/OnClose in order. Supports READ, and DIRTY if
// constructed with trap_dirty. Waits use WaitOnEventWithTimeouts, so the process's
// PagerTimeouts apply. Thread-safe.
class RecordingProvider : public PageProvider {
 public:
  explicit RecordingProvider(bool trap_dirty = false);

  std::vector<ProviderCall> calls() const;
  // The calls so far as strings, and forgets them.
  std::vector<std::string> TakeCallStrings();
  // Requests sent and not yet cleared or swapped away, in send order ("R[0,8)").
  std::vector<std::string> OwnedRequests() const;
  size_t owned_count() const;

 private:
  const PageSourceProperties& properties() const override { return properties_; }
  void SendAsyncRequest(PageRequest* request) override;
  void ClearAsyncRequest(PageRequest* request) override;
  void SwapAsyncRequest(PageRequest* old_request, PageRequest* new_request) override;
  void OnDetach() override;
  void OnClose() override;
  Status WaitOnEvent(Event* event, bool suspendable) override;
  bool SupportsPageRequestType(PageRequestType type) const override;

  ProviderCall Describe(ProviderCall::Kind kind, const PageRequest* request) const;

  const bool trap_dirty_;
  const PageSourceProperties properties_{true, true, false, false};
  mutable std::mutex mutex_;
  std::vector<ProviderCall> calls_;                                       // guarded by mutex_
  std::vector<const PageRequest*> owned_;                                 // guarded by mutex_
  std::vector<std::pair<const PageRequest*, std::string>> owned_ranges_;  // guarded by mutex_
};

// "R[0,8)" for a READ of pages 0..7.
std::string RangeString(PageRequestType type, uint64_t offset, uint64_t len);

}  // namespace upager::testing

#endif  // UPAGER_TESTS_RECORDING_PROVIDER_H_

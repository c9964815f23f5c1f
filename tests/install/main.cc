// A program outside the upager tree: it only sees the installed headers and library.
// Built twice by the install test, once through find_package(upager) and once through
// pkg-config. Populates one request, supplies its page and waits for it.
#include <upager/upager.h>

#include <cstdio>
#include <memory>

namespace {

// The smallest useful provider: remembers the range of the last request it was sent.
class TrivialProvider final : public upager::PageProvider {
 public:
  uint64_t sent_offset = 0;
  uint64_t sent_len = 0;
  int sends = 0;
  int clears = 0;

 private:
  const upager::PageSourceProperties& properties() const override { return properties_; }
  void SendAsyncRequest(upager::PageRequest* request) override {
    ++sends;
    sent_offset = GetRequestOffset(request);
    sent_len = GetRequestLen(request);
  }
  void ClearAsyncRequest(upager::PageRequest* /*request*/) override { ++clears; }
  void SwapAsyncRequest(upager::PageRequest* /*old_request*/,
                        upager::PageRequest* /*new_request*/) override {}
  void OnDetach() override {}
  void OnClose() override {}
  upager::Status WaitOnEvent(upager::Event* event, bool suspendable) override {
    return WaitOnEventWithTimeouts(event, suspendable);
  }
  bool SupportsPageRequestType(upager::PageRequestType type) const override {
    return type == upager::PageRequestType::kRead;
  }

  const upager::PageSourceProperties properties_{false, true, false, false};
};

int Fail(const char* what) {
  std::fprintf(stderr, "upager consumer: FAILED: %s\n", what);
  return 1;
}

}  // namespace

int main() {
  auto provider = std::make_shared<TrivialProvider>();
  auto source = std::make_shared<upager::PageSource>(provider);
  {
    upager::PageRequest request;
    const upager::Status status =
        source->GetPages(upager::kPageSize, upager::kPageSize, &request, {7, "consumer"});
    if (status != upager::Status::kShouldWait) {
      return Fail("GetPages did not return kShouldWait");
    }
    if (provider->sends != 1 || provider->sent_offset != upager::kPageSize ||
        provider->sent_len != upager::kPageSize) {
      return Fail("the provider was not sent the request");
    }
    source->OnPagesSupplied(upager::kPageSize, upager::kPageSize);
    if (provider->clears != 1) {
      return Fail("the provider was not told the request was resolved");
    }
    const upager::Status waited = request.Wait(/*suspendable=*/false);
    if (waited != upager::Status::kOk) {
      std::fprintf(stderr, "Wait returned %s\n", upager::StatusString(waited));
      return Fail("Wait did not return kOk");
    }
  }
  source->Close();
  std::printf("upager consumer: OK (%s)\n", upager::StatusString(upager::Status::kOk));
  return 0;
}

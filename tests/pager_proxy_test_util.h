// The fixture of the PagerProxy tests (pager_proxy_test.cc, pager_proxy_close_test.cc): a
// proxy with a real PageSource and PortObject, no VMO, and packets read as short strings.
#ifndef UPAGER_TESTS_PAGER_PROXY_TEST_UTIL_H_
#define UPAGER_TESTS_PAGER_PROXY_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "pager/pager_proxy.h"
#include "pager/port_object.h"
#include "upager/page_source.h"
#include "upager/port.h"

namespace upager::testing {

using internal::PagerProxy;
using internal::PortObject;

inline constexpr uint64_t P(uint64_t pages) { return pages * kPageSize; }
inline constexpr uint64_t kKey = 0x1234;
inline constexpr Deadline kPoll{};
inline const VmoDebugInfo kInfo{1, "proxy-test"};

// Records the last signal of each request: "done OK", "done IO", "woken OK".
class SignalLog : public PageRequestCompletion {
 public:
  void OnPageRequestSignaled(PageRequest* request, Status status) override {
    std::lock_guard lock(mutex_);
    last_[request] = std::string(request->is_active() ? "woken " : "done ") + StatusString(status);
  }
  std::string Last(PageRequest* request) {
    std::lock_guard lock(mutex_);
    auto it = last_.find(request);
    return it == last_.end() ? "waiting" : it->second;
  }

 private:
  std::mutex mutex_;
  std::map<const PageRequest*, std::string> last_;
};

// A packet as "R[0,1)", "D[2,4)" or "C" (pages), prefixed with "<key>:" unless the key is
// kKey; "none" for an empty port. Checks the fields every page-request packet must have.
inline std::string Describe(Status wait_status, const PortPacket& p) {
  if (wait_status == Status::kTimedOut) {
    return "none";
  }
  EXPECT_EQ(wait_status, Status::kOk);
  EXPECT_EQ(p.type, kPktTypePageRequest);
  EXPECT_EQ(p.status, Status::kOk);
  EXPECT_EQ(p.page_request.flags, 0);
  EXPECT_EQ(p.page_request.reserved0, 0u);
  EXPECT_EQ(p.page_request.reserved1, 0u);
  std::ostringstream os;
  if (p.key != kKey) {
    os << p.key << ":";
  }
  switch (p.page_request.command) {
    case kPagerVmoComplete:
      EXPECT_EQ(p.page_request.offset, 0u);
      EXPECT_EQ(p.page_request.length, 0u);
      os << "C";
      return os.str();
    case kPagerVmoRead: os << "R"; break;
    case kPagerVmoDirty: os << "D"; break;
    default: os << "?" << p.page_request.command;
  }
  EXPECT_GT(p.page_request.length, 0u);
  os << "[" << p.page_request.offset / kPageSize << ","
     << (p.page_request.offset + p.page_request.length) / kPageSize << ")";
  return os.str();
}

// A proxy, its source and its port, wired as PagerObject::CreateVmo wires them.
struct ProxyVmo {
  ProxyVmo(std::shared_ptr<PortObject> port, uint64_t key, bool trap_dirty)
      : proxy(std::make_shared<PagerProxy>(std::move(port), key, trap_dirty)),
        source(std::make_shared<PageSource>(proxy)) {
    proxy->SetSource(source);
  }
  std::shared_ptr<PagerProxy> proxy;
  std::shared_ptr<PageSource> source;
};

class PagerProxyTest : public ::testing::Test {
 protected:
  void SetUp() override { Make(false); }
  // Reading the last COMPLETE off the port lets its proxy go: a queued packet keeps its
  // owner alive, and the owner keeps the port.
  void TearDown() override {
    requests_.clear();
    vmo_.reset();
    proxy_.reset();
    source_.reset();
    while (port_->queued_count() > 0) {
      Next();
    }
  }

  // A fresh VMO; the previous one (if any) is closed and its COMPLETE discarded.
  void Make(bool trap_dirty) {
    requests_.clear();
    vmo_.reset();
    proxy_.reset();
    source_.reset();
    while (port_->queued_count() > 0) {
      Next();
    }
    vmo_ = std::make_unique<ProxyVmo>(port_, kKey, trap_dirty);
    proxy_ = vmo_->proxy;
    source_ = vmo_->source;
  }

  PageRequest* NewRequest() {
    requests_.push_back(std::make_unique<PageRequest>(false, &log_));
    return requests_.back().get();
  }
  PageRequest* Read(uint64_t first, uint64_t count, PageSource* source = nullptr) {
    PageRequest* req = NewRequest();
    EXPECT_EQ((source ? source : source_.get())->GetPages(P(first), P(count), req, kInfo),
              Status::kShouldWait);
    return req;
  }
  PageRequest* Dirty(uint64_t first, uint64_t count) {
    PageRequest* req = NewRequest();
    EXPECT_EQ(source_->RequestDirtyTransition(req, P(first), P(count), kInfo), Status::kShouldWait);
    return req;
  }
  void Supply(uint64_t first, uint64_t count) { source_->OnPagesSupplied(P(first), P(count)); }

  // Reads one packet off the port, without waiting.
  std::string Next() {
    PortPacket p{};
    const Status s = port_->Wait(kPoll, &p);
    return Describe(s, p);
  }
  std::string Last(PageRequest* req) { return log_.Last(req); }

  std::shared_ptr<PortObject> port_ = std::make_shared<PortObject>();
  SignalLog log_;
  std::unique_ptr<ProxyVmo> vmo_;
  std::shared_ptr<PagerProxy> proxy_;
  std::shared_ptr<PageSource> source_;
  // Last, so requests are cancelled while their sources exist.
  std::vector<std::unique_ptr<PageRequest>> requests_;
};

}  // namespace upager::testing

#endif  // UPAGER_TESTS_PAGER_PROXY_TEST_UTIL_H_

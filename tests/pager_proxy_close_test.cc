// PagerProxy with a real PageSource and PortObject, no VMO (see pager_proxy_test.cc): closing
// the pager (5.3) and dead ports (5.4) (moved out of pager_proxy_test.cc).
// Section numbers refer to docs/zircon-semantics.md.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "base/handle_access.h"
#include "pager/pager_proxy.h"
#include "pager/port_object.h"
#include "pager_proxy_test_util.h"
#include "upager/page_source.h"
#include "upager/port.h"

namespace upager::testing {
namespace {

// Scenario 11, section 5.3: closing the pager closes the source, completes the requests and
// delivers nothing more, not even COMPLETE.
TEST_F(PagerProxyTest, ReadCloseInterruptEarlyTest) {
  PageRequest* a = Read(0, 1);
  PageRequest* b = Read(1, 1);
  proxy_->OnPagerClosed();
  EXPECT_EQ(Last(a), "done ZX_OK");
  EXPECT_EQ(Last(b), "done ZX_OK");
  EXPECT_TRUE(source_->is_closed());
  EXPECT_EQ(Next(), "none");
  PageRequest req;
  EXPECT_EQ(source_->GetPages(0, P(1), &req, kInfo), Status::kBadState);
  proxy_->OnPagerClosed();  // idempotent
  EXPECT_EQ(Next(), "none");
}

TEST_F(PagerProxyTest, ReadCloseInterruptLateTest) {
  PageRequest* req = Read(0, 1);
  EXPECT_EQ(Next(), "R[0,1)");
  proxy_->OnPagerClosed();
  EXPECT_EQ(Last(req), "done ZX_OK");
  EXPECT_EQ(Next(), "none");
}

// Detach, then close the pager (9.1, 5.3). The detach completes every outstanding request
// (their waiters retry and Populate refuses them with kBadState), withdraws the READ packet
// still queued and the one pending behind it, and queues COMPLETE; the close withdraws that
// COMPLETE, so nothing at all is delivered.
TEST_F(PagerProxyTest, DetachClosePagerTest) {
  Make(true);
  PageRequest* a = Read(0, 1);
  EXPECT_EQ(Next(), "R[0,1)");   // read by the pager: the request stays outstanding
  PageRequest* b = Read(2, 1);   // its packet is queued
  PageRequest* d = Dirty(1, 1);  // pending behind it
  source_->Detach();
  EXPECT_EQ(Last(a), "done ZX_OK");
  EXPECT_EQ(Last(b), "done ZX_OK");
  EXPECT_EQ(Last(d), "done ZX_OK");
  EXPECT_EQ(port_->queued_count(), 1u);  // the COMPLETE only
  proxy_->OnPagerClosed();
  EXPECT_EQ(port_->queued_count(), 0u);
  EXPECT_EQ(Next(), "none");
  PageRequest req;
  EXPECT_EQ(source_->GetPages(0, P(1), &req, kInfo), Status::kBadState);
  EXPECT_EQ(source_->RequestDirtyTransition(&req, 0, P(1), kInfo), Status::kBadState);
  source_->Close();
  EXPECT_EQ(Next(), "none");
}

// The same for a VMO already gone: withdrawing its COMPLETE releases the proxy.
TEST_F(PagerProxyTest, ClosePagerAfterVmoGone) {
  std::weak_ptr<PagerProxy> weak = proxy_;
  source_.reset();
  vmo_->source.reset();
  EXPECT_EQ(port_->queued_count(), 1u);
  proxy_->OnPagerClosed();
  EXPECT_EQ(Next(), "none");
  proxy_.reset();
  vmo_.reset();
  EXPECT_TRUE(weak.expired());
}

// 5.4: with every port handle gone, packets are queued into the void, yet supply, detach
// and close keep working, and nothing is leaked through the port.
TEST_F(PagerProxyTest, ClosePortTest) {
  Port port;
  ASSERT_EQ(Port::Create(0, &port), Status::kOk);
  std::weak_ptr<PortObject> weak_port = internal::HandleAccess::Object(port);
  ProxyVmo vmo(internal::HandleAccess::Object(port), kKey, false);
  {
    // Local requests: a request keeps its source referenced even once done.
    PageRequest a(false, &log_), b(false, &log_), c(false, &log_);
    ASSERT_EQ(vmo.source->GetPages(0, P(1), &a, kInfo), Status::kShouldWait);
    port.Reset();                       // dead port: the queued packet is dropped
    EXPECT_FALSE(weak_port.expired());  // the proxy holds it
    ASSERT_EQ(vmo.source->GetPages(P(1), P(1), &b, kInfo), Status::kShouldWait);
    vmo.source->OnPagesSupplied(0, P(1));
    EXPECT_EQ(Last(&a), "done ZX_OK");
    vmo.source->OnPagesSupplied(P(1), P(1));
    EXPECT_EQ(Last(&b), "done ZX_OK");
    ASSERT_EQ(vmo.source->GetPages(P(2), P(1), &c, kInfo), Status::kShouldWait);
    vmo.source->Detach();
    EXPECT_EQ(Last(&c), "done ZX_OK");
  }
  std::weak_ptr<PagerProxy> weak_proxy = vmo.proxy;
  vmo.proxy.reset();
  vmo.source.reset();
  EXPECT_TRUE(weak_proxy.expired());
  EXPECT_TRUE(weak_port.expired());
}

}  // namespace
}  // namespace upager::testing

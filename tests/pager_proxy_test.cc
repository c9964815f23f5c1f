// PagerProxy with a real PageSource and PortObject, no VMO: the packet rules of section 5.1
// (one packet per VMO in the port, FIFO behind it, withdraw on resolve, COMPLETE once and
// last) and the exact packet format (12); pager close (5.3) and dead ports (5.4) are in
// pager_proxy_close_test.cc. Requests are asynchronous (a completion instead of a waiting
// thread), so most tests need no threads.
// Test names follow Zircon's pager tests where they check the same behaviour.
// Section numbers refer to docs/zircon-semantics.md.
#include "pager/pager_proxy.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pager/port_object.h"
#include "pager_proxy_test_util.h"
#include "upager/page_source.h"
#include "upager/port.h"

namespace upager::testing {
namespace {

TEST_F(PagerProxyTest, Properties) {
  EXPECT_TRUE(source_->properties().is_user_pager);
  EXPECT_TRUE(source_->properties().is_preserving_page_content);
  EXPECT_FALSE(source_->properties().is_providing_specific_physical_pages);
  EXPECT_FALSE(source_->ShouldTrapDirtyTransitions());
  PageRequest req;
  EXPECT_EQ(source_->RequestDirtyTransition(&req, 0, P(1), kInfo), Status::kNotSupported);
  Make(true);
  EXPECT_TRUE(source_->ShouldTrapDirtyTransitions());
}

// The whole packet, byte for byte, as Zircon's tests compare it.
TEST_F(PagerProxyTest, PacketContents) {
  Make(true);
  PageRequest* read = Read(3, 2);
  PortPacket got;
  std::memset(&got, 0xa5, sizeof(got));
  ASSERT_EQ(port_->Wait(kPoll, &got), Status::kOk);
  PortPacket want;
  std::memset(&want, 0, sizeof(want));
  want.key = kKey;
  want.type = kPktTypePageRequest;
  want.status = Status::kOk;
  want.page_request.command = kPagerVmoRead;
  want.page_request.offset = P(3);
  want.page_request.length = P(2);
  EXPECT_EQ(std::memcmp(&got, &want, sizeof(got)), 0);

  Supply(3, 2);
  EXPECT_EQ(Last(read), "done ZX_OK");
  Dirty(7, 1);
  std::memset(&got, 0xa5, sizeof(got));
  ASSERT_EQ(port_->Wait(kPoll, &got), Status::kOk);
  want.page_request.command = kPagerVmoDirty;
  want.page_request.offset = P(7);
  want.page_request.length = P(1);
  EXPECT_EQ(std::memcmp(&got, &want, sizeof(got)), 0);

  source_->Detach();
  std::memset(&got, 0xa5, sizeof(got));
  ASSERT_EQ(port_->Wait(kPoll, &got), Status::kOk);
  want.page_request.command = kPagerVmoComplete;
  want.page_request.offset = 0;
  want.page_request.length = 0;
  EXPECT_EQ(std::memcmp(&got, &want, sizeof(got)), 0);
}

// Scenario 1.
TEST_F(PagerProxyTest, SinglePageTest) {
  PageRequest* req = Read(0, 1);
  EXPECT_EQ(Next(), "R[0,1)");
  EXPECT_EQ(Next(), "none");
  EXPECT_EQ(Last(req), "waiting");
  Supply(0, 1);
  EXPECT_EQ(Last(req), "done ZX_OK");
  EXPECT_EQ(Next(), "none");
}

// Scenario 4 with 20 requests: one packet in the port at a time, in creation order, the
// next one queued as soon as the previous one is read.
TEST_F(PagerProxyTest, ManyRequestTest) {
  constexpr uint64_t kCount = 20;
  std::vector<PageRequest*> reqs;
  for (uint64_t i = 0; i < kCount; ++i) {
    reqs.push_back(Read(i, 1));
    EXPECT_EQ(port_->queued_count(), 1u);
  }
  EXPECT_EQ(proxy_->pending_count(), kCount - 1);
  for (uint64_t i = 0; i < kCount; ++i) {
    EXPECT_EQ(port_->queued_count(), 1u);
    EXPECT_EQ(Next(), "R[" + std::to_string(i) + "," + std::to_string(i + 1) + ")");
    EXPECT_EQ(Last(reqs[i]), "waiting");  // delivery does not resolve
    Supply(i, 1);
    EXPECT_EQ(Last(reqs[i]), "done ZX_OK");
  }
  EXPECT_EQ(Next(), "none");
  EXPECT_FALSE(proxy_->packet_busy());
}

// Scenario 2: resolved before its packet was read, the request is never seen.
TEST_F(PagerProxyTest, EarlySupplyTest) {
  PageRequest* req = Read(0, 1);
  EXPECT_EQ(port_->queued_count(), 1u);
  Supply(0, 1);
  EXPECT_EQ(Last(req), "done ZX_OK");
  EXPECT_EQ(port_->queued_count(), 0u);
  EXPECT_EQ(Next(), "none");
  // The packet is free again.
  Read(1, 1);
  EXPECT_EQ(Next(), "R[1,2)");
}

// Withdrawing the queued packet frees it for the next pending request at once.
TEST_F(PagerProxyTest, EarlySupplySendsNextPending) {
  Read(0, 1);
  Read(1, 1);
  Supply(0, 1);
  EXPECT_EQ(port_->queued_count(), 1u);
  EXPECT_EQ(Next(), "R[1,2)");
  EXPECT_EQ(Next(), "none");
}

// A request resolved while it waits behind another is dropped from the queue.
TEST_F(PagerProxyTest, ResolvedWhilePendingIsNeverSent) {
  Read(0, 1);
  PageRequest* second = Read(1, 1);
  Read(2, 1);
  Supply(1, 1);
  EXPECT_EQ(Last(second), "done ZX_OK");
  EXPECT_EQ(proxy_->pending_count(), 1u);
  EXPECT_EQ(Next(), "R[0,1)");
  EXPECT_EQ(Next(), "R[2,3)");
  EXPECT_EQ(Next(), "none");
}

// A failure resolves too: the failed request's packet is withdrawn like a supplied one.
TEST_F(PagerProxyTest, FailedBeforeReadIsWithdrawn) {
  PageRequest* req = Read(0, 2);
  Read(4, 1);
  source_->OnPagesFailed(0, P(2), Status::kIo);
  EXPECT_EQ(Last(req), "done ZX_ERR_IO");
  EXPECT_EQ(Next(), "R[4,5)");
  EXPECT_EQ(Next(), "none");
}

// Cancelling a primary with a waiter behind it hands the packet to that waiter (swap): the
// queued packet stays and still describes the range.
TEST_F(PagerProxyTest, CancelWithPromotionKeepsThePacket) {
  PageRequest* primary = Read(0, 1);
  PageRequest* secondary = Read(0, 1);
  EXPECT_EQ(port_->queued_count(), 1u);
  primary->CancelRequest();
  EXPECT_EQ(port_->queued_count(), 1u);
  EXPECT_EQ(Next(), "R[0,1)");
  Supply(0, 1);
  EXPECT_EQ(Last(secondary), "done ZX_OK");
  EXPECT_EQ(Next(), "none");
}

// The same while the primary is still waiting in the queue: the heir takes its place.
TEST_F(PagerProxyTest, CancelWithPromotionKeepsQueuePosition) {
  Read(5, 1);
  PageRequest* primary = Read(0, 1);
  PageRequest* secondary = Read(0, 1);
  Read(9, 1);
  primary->CancelRequest();
  EXPECT_EQ(proxy_->pending_count(), 2u);
  EXPECT_EQ(Next(), "R[5,6)");
  EXPECT_EQ(Next(), "R[0,1)");
  EXPECT_EQ(Next(), "R[9,10)");
  Supply(0, 1);
  EXPECT_EQ(Last(secondary), "done ZX_OK");
}

// Cancelling the only waiter withdraws its packet.
TEST_F(PagerProxyTest, CancelWithdrawsThePacket) {
  PageRequest* req = Read(0, 1);
  Read(3, 1);
  req->CancelRequest();
  EXPECT_EQ(Next(), "R[3,4)");
  EXPECT_EQ(Next(), "none");
}

// A packet already read stays read: clearing its request sends nothing, and the next
// request goes out at once.
TEST_F(PagerProxyTest, ResolvedAfterReadSendsNothing) {
  PageRequest* req = Read(0, 1);
  EXPECT_EQ(Next(), "R[0,1)");
  Supply(0, 1);
  EXPECT_EQ(Last(req), "done ZX_OK");
  EXPECT_EQ(Next(), "none");
  Read(1, 1);
  EXPECT_EQ(Next(), "R[1,2)");
}

// READ and DIRTY requests of one VMO share its packet and its FIFO.
TEST_F(PagerProxyTest, ReadAndDirtyInCreationOrder) {
  Make(true);
  Read(0, 1);
  Dirty(4, 2);
  Read(8, 1);
  Dirty(1, 1);
  EXPECT_EQ(Next(), "R[0,1)");
  EXPECT_EQ(Next(), "D[4,6)");
  EXPECT_EQ(Next(), "R[8,9)");
  EXPECT_EQ(Next(), "D[1,2)");
  EXPECT_EQ(Next(), "none");
}

// Scenario 10: detach completes every request and queues exactly one COMPLETE, the last
// packet; requests withdrawn on the way are never seen.
TEST_F(PagerProxyTest, DetachPageCompleteTest) {
  PageRequest* a = Read(0, 1);
  PageRequest* b = Read(1, 1);
  PageRequest* c = Read(2, 1);
  source_->Detach();
  EXPECT_EQ(Last(a), "done ZX_OK");  // the waiter retries and gets kBadState from the VMO
  EXPECT_EQ(Last(b), "done ZX_OK");
  EXPECT_EQ(Last(c), "done ZX_OK");
  EXPECT_EQ(Next(), "C");
  EXPECT_EQ(Next(), "none");
  source_->Detach();
  source_->Close();
  EXPECT_EQ(Next(), "none");
  PageRequest req;
  EXPECT_EQ(source_->GetPages(0, P(1), &req, kInfo), Status::kBadState);
}

// Detach with the previous packet already read: COMPLETE follows it.
TEST_F(PagerProxyTest, ReadDetachInterruptLateTest) {
  PageRequest* req = Read(0, 1);
  EXPECT_EQ(Next(), "R[0,1)");
  source_->Detach();
  EXPECT_EQ(Last(req), "done ZX_OK");
  EXPECT_EQ(Next(), "C");
  EXPECT_EQ(Next(), "none");
}

// COMPLETE queues behind whatever is pending. A PageSource clears its requests before
// OnDetach, so the only way to have something ahead of COMPLETE is a packet that is still
// being handed back; check the ordering through a second VMO's packets instead: COMPLETE
// of one VMO does not jump other VMOs' packets queued earlier.
TEST_F(PagerProxyTest, CompleteIsQueuedInOrder) {
  ProxyVmo other(port_, 7, false);
  Read(0, 1, other.source.get());
  source_->Detach();
  EXPECT_EQ(Next(), "7:R[0,1)");
  EXPECT_EQ(Next(), "C");
}

// Scenario 20: closing the source (the VMO going away) also sends one COMPLETE.
TEST_F(PagerProxyTest, ClosePageCompleteTest) {
  PageRequest* req = Read(0, 1);
  source_->Close();
  EXPECT_EQ(Last(req), "done ZX_OK");
  EXPECT_EQ(Next(), "C");
  EXPECT_EQ(Next(), "none");
}

// Close after detach: the COMPLETE of the detach is the only one.
TEST_F(PagerProxyTest, CloseAfterDetach) {
  source_->Detach();
  source_->Close();
  EXPECT_EQ(Next(), "C");
  EXPECT_EQ(Next(), "none");

  // And with the COMPLETE read in between.
  Make(false);
  source_->Detach();
  EXPECT_EQ(Next(), "C");
  source_->Close();
  EXPECT_EQ(Next(), "none");
}

// The port keeps a proxy whose VMO is gone alive until its COMPLETE is read.
TEST_F(PagerProxyTest, CompleteKeepsProxyAlive) {
  std::weak_ptr<PagerProxy> weak = proxy_;
  proxy_.reset();
  vmo_.reset();
  source_.reset();  // closes the source: COMPLETE queued
  EXPECT_FALSE(weak.expired());
  EXPECT_EQ(Next(), "C");
  EXPECT_TRUE(weak.expired());
}

// Removing a queued READ with CancelKey behaves as reading it: the request stays
// outstanding, later packets still flow, and a supply still resolves it.
TEST_F(PagerProxyTest, CancelKeyDoesNotWedgeThePager) {
  PageRequest* first = Read(0, 1);
  PageRequest* second = Read(1, 1);
  EXPECT_EQ(port_->CancelKey(kKey), Status::kOk);
  EXPECT_EQ(source_->OutstandingRequests(PageRequestType::kRead), 2u);
  EXPECT_EQ(Last(first), "waiting");
  EXPECT_EQ(Next(), "R[1,2)");
  Supply(0, 1);
  EXPECT_EQ(Last(first), "done ZX_OK");
  Supply(1, 1);
  EXPECT_EQ(Last(second), "done ZX_OK");
  Read(2, 1);
  EXPECT_EQ(Next(), "R[2,3)");
  EXPECT_EQ(port_->CancelKey(kKey), Status::kNotFound);
}

// CancelKey of a queued COMPLETE counts as reading it.
TEST_F(PagerProxyTest, CancelKeyOfComplete) {
  std::weak_ptr<PagerProxy> weak = proxy_;
  proxy_.reset();
  vmo_.reset();
  source_.reset();
  EXPECT_EQ(port_->CancelKey(kKey), Status::kOk);
  EXPECT_TRUE(weak.expired());
  EXPECT_EQ(Next(), "none");
}

// Different VMOs sharing a port have independent packets, one each in the port.
TEST_F(PagerProxyTest, TwoVmosInterleave) {
  ProxyVmo other(port_, 7, false);
  Read(0, 1);
  Read(1, 1);
  Read(5, 1, other.source.get());
  Read(6, 1, other.source.get());
  EXPECT_EQ(port_->queued_count(), 2u);
  EXPECT_EQ(Next(), "R[0,1)");
  EXPECT_EQ(Next(), "7:R[5,6)");
  EXPECT_EQ(Next(), "R[1,2)");
  other.source->OnPagesSupplied(P(6), P(1));  // withdrawn: never seen
  EXPECT_EQ(Next(), "none");
  other.source->Detach();
  source_->Detach();
  EXPECT_EQ(Next(), "7:C");
  EXPECT_EQ(Next(), "C");
}

TEST_F(PagerProxyTest, Dump) {
  Read(0, 1);
  Read(2, 2);
  std::ostringstream os;
  source_->Dump(os, 10);
  EXPECT_NE(os.str().find("pager proxy key 0x1234 packet READ [0x0, 0x1000) pending 1 "
                          "READ[0x2000, 0x4000)"),
            std::string::npos)
      << os.str();
}

// Blocking readers on many threads and a pager thread answering packets, now and then
// cancelling the key (and then supplying every page, as a pager that lost track would):
// every reader finishes and every packet names a range someone asked for.
TEST_F(PagerProxyTest, ThreadedReadersAndPager) {
  constexpr int kReaders = 8;
  constexpr int kRounds = 200;
  constexpr uint64_t kPages = 37;
  std::atomic<bool> stop{false};
  std::thread pager([&] {
    int n = 0;
    while (!stop.load()) {
      PortPacket p{};
      if (port_->Wait(DeadlineAfter(std::chrono::milliseconds(1)), &p) != Status::kOk) {
        continue;
      }
      EXPECT_EQ(p.page_request.command, kPagerVmoRead);
      EXPECT_LT(p.page_request.offset, P(kPages));
      if (++n % 7 == 0) {
        port_->CancelKey(kKey);  // drops the next packet, if queued, as if it was read
        source_->OnPagesSupplied(0, P(kPages));
      } else {
        source_->OnPagesSupplied(p.page_request.offset, p.page_request.length);
      }
    }
  });
  std::vector<std::thread> readers;
  for (int t = 0; t < kReaders; ++t) {
    readers.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        PageRequest req;
        const uint64_t page = static_cast<uint64_t>(t * 5 + round) % kPages;
        ASSERT_EQ(source_->GetPages(P(page), P(1), &req, kInfo), Status::kShouldWait);
        ASSERT_EQ(req.Wait(false), Status::kOk);
      }
    });
  }
  for (std::thread& t : readers) {
    t.join();
  }
  stop = true;
  pager.join();
  EXPECT_EQ(source_->OutstandingRequests(PageRequestType::kRead), 0u);
  EXPECT_EQ(port_->queued_count(), 0u);
}

}  // namespace
}  // namespace upager::testing

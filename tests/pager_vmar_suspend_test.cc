// Suspending a thread asleep in a fault on a Mapping (ThreadHandle::Suspend, held_faults.cc):
// the mapped variants of Zircon's suspension tests (see pager_vmar_test.cc for the
// conventions, pager_detach_test.cc for the Vmo::Read variants).
// Section numbers refer to docs/zircon-semantics.md.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>

#include "pager_vmar_util.h"
#include "test_util.h"
#include "upager/mapping.h"
#include "upager/thread.h"
#include "upager/vmo.h"
#include "user_pager.h"

namespace upager::testing {
namespace {

// Suspends `t`, asleep in a mapped fault, and waits until it is held there: suspended, not
// blocked on the pager.
void SuspendHeld(TestThread& t) {
  t.handle().Suspend();
  ASSERT_TRUE(PollUntil([&] { return t.handle().IsParked() && !t.handle().IsBlockedOnPager(); }));
}

// The wait is abandoned and its request cancelled; after resume the thread takes the fault
// again and a second READ for the same page arrives (8, 19.12).
TEST(PagerVmar, SuspendReadTestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*vmo, &map), Status::kOk);

  TestThread t([&] { return CheckMapped(map, *vmo, 0, 1); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_TRUE(t.WaitForBlocked());

  ASSERT_NO_FATAL_FAILURE(SuspendHeld(t));
  EXPECT_FALSE(pager.AnyPacket());
  t.handle().Resume();
  EXPECT_FALSE(t.handle().IsParked());

  ASSERT_TRUE(t.WaitForBlocked());
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_FALSE(pager.AnyPacket());
}

// The pager answers the first READ while the thread is held: the thread stays suspended
// (a supply from a VMO wakes only the faults that wait for it), and once resumed it finds
// the page there and asks for nothing.
TEST(PagerVmar, AHeldThreadStaysSuspendedWhenItsPageIsSuppliedVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*vmo, &map), Status::kOk);

  std::atomic<bool> done{false};
  TestThread t([&] {
    const bool ok = CheckMapped(map, *vmo, 0, 1);
    done.store(true);
    return ok;
  });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_TRUE(t.WaitForBlocked());
  ASSERT_NO_FATAL_FAILURE(SuspendHeld(t));

  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  EXPECT_TRUE(t.handle().IsParked());
  EXPECT_FALSE(done.load());
  t.handle().Resume();
  ASSERT_TRUE(t.Wait());
  EXPECT_FALSE(t.handle().IsParked());
  EXPECT_FALSE(pager.AnyPacket());
}

// Two threads fault on one page and one is suspended: the other's wait keeps the request, so
// no packet comes, and one supply ends both faults.
TEST(PagerVmar, SuspendingOneOfTwoWaitersKeepsTheRequestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*vmo, &map), Status::kOk);

  TestThread t1([&] { return CheckMapped(map, *vmo, 0, 1); });
  TestThread t2([&] { return CheckMapped(map, *vmo, 0, 1); });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_TRUE(t1.WaitForBlocked());
  t2.Start();
  ASSERT_TRUE(t2.WaitForBlocked());

  ASSERT_NO_FATAL_FAILURE(SuspendHeld(t1));
  EXPECT_TRUE(t2.handle().IsBlockedOnPager());
  EXPECT_FALSE(pager.AnyPacket());
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t2.Wait());
  ASSERT_TRUE(t1.Wait());
  t1.handle().Resume();
  EXPECT_FALSE(pager.AnyPacket());
}

// A thread parked at a safe point is suspended too (ZX_THREAD_STATE_SUSPENDED).
TEST(PagerVmar, AThreadParkedAtASafePointIsParked) {
  std::atomic<bool> go{false};
  TestThread t([&] {
    while (!go.load()) {
    }
    return ParkWhileSuspended() == Status::kOk;
  });
  t.Start();
  t.handle().Suspend();
  EXPECT_FALSE(t.handle().IsParked());  // not yet at its safe point
  go.store(true);
  ASSERT_TRUE(PollUntil([&] { return t.handle().IsParked(); }));
  EXPECT_FALSE(t.handle().IsBlockedOnPager());
  t.handle().Resume();
  ASSERT_TRUE(t.Wait());
  EXPECT_FALSE(t.handle().IsParked());
}

// A thread suspended while it runs its own code, which then faults on an absent page of a
// mapping, is held in that fault at once: parked, not blocked on the pager, no READ. Once
// resumed it asks the pager. (Before FaultService::HoldIfSuspended, such a fault waited for
// the pager, the suspension unseen.)
TEST(PagerVmar, AThreadSuspendedBeforeItFaultsIsHeldVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*vmo, &map), Status::kOk);

  std::atomic<bool> go{false};
  TestThread t([&] {
    while (!go.load()) {
    }
    return CheckMapped(map, *vmo, 0, 1);
  });
  t.Start();
  t.handle().Suspend();
  go.store(true);
  ASSERT_TRUE(PollUntil([&] { return t.handle().IsParked(); }));
  EXPECT_FALSE(t.handle().IsBlockedOnPager());
  EXPECT_FALSE(pager.AnyPacket());
  t.handle().Resume();
  ASSERT_TRUE(t.WaitForBlocked());
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_FALSE(pager.AnyPacket());
}

}  // namespace
}  // namespace upager::testing

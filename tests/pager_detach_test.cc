// Zircon's core pager tests through Vmo::Read/Write/OpRange (see pager_test.cc for the
// conventions): resize under waiters, thread suspension, detach, pager and port close.
// Section numbers refer to docs/zircon-semantics.md.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "pager/pager_object.h"
#include "pager_test_util.h"
#include "test_util.h"
#include "upager/pager.h"
#include "upager/port.h"
#include "upager/thread.h"
#include "upager/vmo.h"
#include "user_pager.h"

namespace upager::testing {
namespace {

// ---- Mappings and resize interaction (the parts without mappings) ----

// Shrinking the VMO under a blocked reader ends the read with kOutOfRange (18.6).
TEST(Pager, ReadResizeTestVmo) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoResizable);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return ReadPages(*v, 0, 1); });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(vmo->vmo.SetSize(0), Status::kOk);

  ASSERT_TRUE(t.WaitForFailure(Status::kOutOfRange));
}

// A commit blocked on READ[0,3): page 2 supplied, then the VMO shrunk to one page. The
// shrink resolves only the still-missing page 1, so the request waits for page 0 (4.1), and
// the commit then succeeds without asking for anything else.
TEST(Pager, ResizeCommitTest) {
  UserPager pager;
  auto vmo = pager.CreateVmo(3, kVmoResizable);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return CommitPages(*v, 0, 3); });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 3));
  ASSERT_EQ(pager.SupplyPages(*vmo, 2, 1), Status::kOk);
  ASSERT_EQ(vmo->vmo.SetSize(P(1)), Status::kOk);

  ASSERT_TRUE(t.WaitForBlocked());
  uint64_t offset = 0;
  uint64_t length = 0;
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));

  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());

  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

// ---- Thread suspension ----

// A suspended wait is abandoned and its request cancelled; after resume the read asks again
// and a second READ for the same page arrives (8, 19.12).
TEST(Pager, SuspendReadTestVmo) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return CheckVmo(*v, 0, 1); });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_TRUE(t.WaitForBlocked());

  ASSERT_NO_FATAL_FAILURE(SuspendAndResume(t));

  ASSERT_TRUE(t.WaitForBlocked());
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());
}

TEST(Pager, SuspendCommitTest) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return CommitPages(*v, 0, 1); });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_TRUE(t.WaitForBlocked());

  ASSERT_NO_FATAL_FAILURE(SuspendAndResume(t));

  ASSERT_TRUE(t.WaitForBlocked());
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());
}

// ---- Detach, close and port lifetime ----

TEST(Pager, DetachPageCompleteTest) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);

  ASSERT_EQ(pager.DetachVmo(*vmo), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageComplete(vmo->key));

  // Detach is idempotent and COMPLETE comes once, also when the VMO goes later (9.1, 12).
  EXPECT_EQ(pager.DetachVmo(*vmo), Status::kOk);
  vmo.reset();
  EXPECT_FALSE(pager.AnyPacket());
}

// Detach drops clean pages; later reads, through the VMO or through a clone of it, fail with
// kBadState without a request (9.2). The page is read in through the clone, and is the
// root's (the clone forked nothing).
TEST(Pager, DecommitOnDetachTestVmo) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  TestVmo clone;
  clone.key = vmo->key;
  ASSERT_EQ(vmo->vmo.CreateChild(kVmoChildSnapshotAtLeastOnWrite, 0, P(2), &clone.vmo),
            Status::kOk);

  TestThread t1([&clone] { return CheckVmo(clone, 0, 1); });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t1.Wait());

  VmoInfo info{};
  ASSERT_EQ(vmo->vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, kPageSize);
  ASSERT_EQ(clone.vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, 0u);

  ASSERT_EQ(pager.DetachVmo(*vmo), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageComplete(vmo->key));

  ASSERT_EQ(vmo->vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, 0u);

  // The page that was supplied, and the one that never was, through the VMO and the clone.
  EXPECT_EQ(ReadPages(*vmo, 0, 1), Status::kBadState);
  EXPECT_EQ(ReadPages(clone, 0, 1), Status::kBadState);
  EXPECT_EQ(ReadPages(*vmo, 1, 1), Status::kBadState);
  EXPECT_EQ(ReadPages(clone, 1, 1), Status::kBadState);

  uint64_t offset = 0;
  uint64_t length = 0;
  EXPECT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
  EXPECT_FALSE(pager.AnyPacket());
}

TEST(Pager, ClosePageCompleteTest) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);

  const uint64_t key = vmo->key;
  vmo.reset();
  ASSERT_TRUE(pager.WaitForPageComplete(key));
  EXPECT_FALSE(pager.AnyPacket());
}

// A read straddling two pages asks for both at once; page 0 supplied, then detach: the read
// fails with kBadState.
TEST(Pager, DetachNonMappingAccess) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] {
    uint64_t val;
    return v->vmo.Read(&val, kPageSize - sizeof(uint64_t) / 2, sizeof(uint64_t));
  });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 2));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_EQ(pager.DetachVmo(*vmo), Status::kOk);
  ASSERT_TRUE(t.WaitForFailure(Status::kBadState));

  uint64_t offset = 0;
  uint64_t length = 0;
  EXPECT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

// Detaching the VMO or closing the pager while a reader waits fails the reader with
// kBadState (9.2, 5.3); a detach also queues COMPLETE. `late`: the pager has read the READ
// packet; otherwise it is still queued.
void ReadInterruptTest(bool late, bool detach) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return ReadPages(*v, 0, 1); });
  t.Start();

  if (late) {
    ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  } else {
    ASSERT_TRUE(t.WaitForBlocked());
  }

  if (detach) {
    ASSERT_EQ(pager.DetachVmo(*vmo), Status::kOk);
  } else {
    pager.pager().Reset();
  }

  ASSERT_TRUE(t.WaitForFailure(Status::kBadState));

  if (detach) {
    ASSERT_TRUE(pager.WaitForPageComplete(vmo->key));
  }
  if (!late) {
    // The queued READ was withdrawn (and, for a closed pager, everything else too).
    uint64_t offset = 0;
    uint64_t length = 0;
    EXPECT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
  }
  if (!detach) {
    EXPECT_FALSE(pager.AnyPacket());
  }
}

TEST(Pager, ReadCloseInterruptLateTestVmo) { ReadInterruptTest(/*late=*/true, /*detach=*/false); }

TEST(Pager, ReadDetachInterruptLateTestVmo) { ReadInterruptTest(/*late=*/true, /*detach=*/true); }

TEST(Pager, ReadCloseInterruptEarlyTestVmo) { ReadInterruptTest(/*late=*/false, /*detach=*/false); }

TEST(Pager, ReadDetachInterruptEarlyTestVmo) { ReadInterruptTest(/*late=*/false, /*detach=*/true); }

// Closing the pager fails a blocked reader with kBadState; pages supplied before stay
// readable (9.4).
TEST(Pager, ClosePagerTest) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return ReadPages(*v, 0, 1); });
  ASSERT_EQ(pager.SupplyPages(*vmo, 1, 1), Status::kOk);

  t.Start();
  ASSERT_TRUE(t.WaitForBlocked());

  pager.pager().Reset();

  ASSERT_TRUE(t.WaitForFailure(Status::kBadState));
  EXPECT_TRUE(CheckVmo(*vmo, 1, 1));
  // Nothing more is delivered for a closed pager's VMOs, not even COMPLETE (5.3).
  EXPECT_FALSE(pager.AnyPacket());
  vmo.reset();
  EXPECT_FALSE(pager.AnyPacket());
}

// Detach, then close the pager (9.2, 9.4, 5.3): the blocked reader fails with kBadState,
// the supplied clean page is dropped, and the COMPLETE the detach queued is the last packet:
// if the pager has not read it before closing, the close withdraws it. Afterwards every
// access fails with kBadState and nothing more is delivered, also when the VMO goes.
void DetachClosePager(bool read_complete) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);

  TestThread t([v = vmo.get()] { return ReadPages(*v, 1, 1); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_TRUE(t.WaitForBlocked());

  ASSERT_EQ(pager.DetachVmo(*vmo), Status::kOk);
  ASSERT_TRUE(t.WaitForFailure(Status::kBadState));
  if (read_complete) {
    ASSERT_TRUE(pager.WaitForPageComplete(vmo->key));
  }

  pager.pager().Reset();
  EXPECT_FALSE(pager.AnyPacket());

  VmoInfo info{};
  ASSERT_EQ(vmo->vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, 0u);
  EXPECT_EQ(ReadPages(*vmo, 0, 1), Status::kBadState);
  EXPECT_EQ(ReadPages(*vmo, 1, 1), Status::kBadState);
  EXPECT_EQ(CommitPages(*vmo, 0, 2), Status::kBadState);
  // ALWAYS_NEED is best effort (9.2).
  EXPECT_EQ(vmo->vmo.OpRange(kVmoOpAlwaysNeed, 0, P(2)), Status::kOk);
  EXPECT_FALSE(pager.AnyPacket());

  vmo.reset();
  EXPECT_FALSE(pager.AnyPacket());
}

TEST(Pager, DetachClosePagerTest) {
  {
    SCOPED_TRACE("COMPLETE still queued at the close");
    DetachClosePager(/*read_complete=*/false);
  }
  {
    SCOPED_TRACE("COMPLETE read before the close");
    DetachClosePager(/*read_complete=*/true);
  }
}

// Closing the port handle does not stop supply (5.4); a detach still fails the blocked
// reader with kBadState.
TEST(Pager, ClosePortTest) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return ReadPages(*v, 0, 1); });
  t.Start();
  ASSERT_TRUE(t.WaitForBlocked());

  pager.port().Reset();

  ASSERT_EQ(pager.SupplyPages(*vmo, 1, 1), Status::kOk);
  EXPECT_TRUE(CheckVmo(*vmo, 1, 1));

  ASSERT_EQ(pager.DetachVmo(*vmo), Status::kOk);
  ASSERT_TRUE(t.WaitForFailure(Status::kBadState));
}

TEST(Pager, SupplyAfterDetach) {
  UserPager pager;
  constexpr uint64_t kNumPages = 11;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  ASSERT_EQ(pager.DetachVmo(*vmo), Status::kOk);

  uint64_t offset = 0;
  uint64_t length = 0;
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));

  EXPECT_EQ(pager.SupplyPages(*vmo, 0, kNumPages), Status::kBadState);

  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

TEST(Pager, FailAfterDetach) {
  UserPager pager;
  constexpr uint64_t kNumPages = 11;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return CommitPages(*v, 0, kNumPages); });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));
  ASSERT_EQ(pager.DetachVmo(*vmo), Status::kOk);
  ASSERT_TRUE(t.WaitForFailure(Status::kBadState));

  uint64_t offset = 0;
  uint64_t length = 0;
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));

  EXPECT_EQ(pager.FailPages(*vmo, 0, kNumPages), Status::kBadState);

  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

// ALWAYS_NEED is best effort: on a detached VMO it still returns kOk (15).
TEST(Pager, DetachAndAlwaysNeed) {
  Pager pager;
  ASSERT_EQ(Pager::Create(0, &pager), Status::kOk);
  Port port;
  ASSERT_EQ(Port::Create(0, &port), Status::kOk);
  Vmo vmo;
  ASSERT_EQ(pager.CreateVmo(0, port, 1, P(2), &vmo), Status::kOk);

  EXPECT_EQ(pager.DetachVmo(vmo), Status::kOk);
  EXPECT_EQ(vmo.OpRange(kVmoOpAlwaysNeed, 0, P(2)), Status::kOk);
}

}  // namespace
}  // namespace upager::testing

// Zircon's core pager tests through Vmo::Read/Write/OpRange (see pager_test.cc for the
// conventions): commit, batching and overlap, eviction hints, argument validation.
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

// ---- Commit, batching and overlap ----

// A commit asks for the whole absent run at once (10.2).
TEST(Pager, SimpleCommitTest) {
  UserPager pager;
  constexpr uint64_t kNumPages = 555;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return CommitPages(*v, 0, kNumPages); });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, kNumPages), Status::kOk);
  ASSERT_TRUE(t.Wait());
}

TEST(Pager, SplitCommitTest) {
  UserPager pager;
  constexpr uint64_t kNumPages = 33;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  ASSERT_EQ(pager.SupplyPages(*vmo, kNumPages / 2, 1), Status::kOk);

  TestThread t([v = vmo.get()] { return CommitPages(*v, 0, kNumPages); });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages / 2));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, kNumPages / 2), Status::kOk);

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, kNumPages / 2 + 1, kNumPages / 2));
  ASSERT_EQ(pager.SupplyPages(*vmo, kNumPages / 2 + 1, kNumPages / 2), Status::kOk);

  ASSERT_TRUE(t.Wait());
}

// Commit[8,24) asks for [8,24); Commit[0,32) only for the unique prefix [0,8); once [0,24)
// is supplied the big commit retries and asks for [24,32) (4, 19.6).
TEST(Pager, OverlapCommitTest) {
  UserPager pager;
  constexpr uint64_t kNumPages = 32;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  TestThread t1([v = vmo.get()] { return CommitPages(*v, kNumPages / 4, kNumPages / 2); });
  TestThread t2([v = vmo.get()] { return CommitPages(*v, 0, kNumPages); });

  t1.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, kNumPages / 4, kNumPages / 2));

  t2.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages / 4));

  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 3 * kNumPages / 4), Status::kOk);

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 3 * kNumPages / 4, kNumPages / 4));
  ASSERT_EQ(pager.SupplyPages(*vmo, 3 * kNumPages / 4, kNumPages / 4), Status::kOk);

  ASSERT_TRUE(t1.Wait());
  ASSERT_TRUE(t2.Wait());
}

// 7-page commits each get a READ; 5-page commits inside them add none; 3-page supplies
// straddling both finish everything.
TEST(Pager, OverlapCommitSupplyTest) {
  UserPager pager;
  constexpr uint64_t kSupplyLen = 3;
  constexpr uint64_t kCommitLenA = 7;
  constexpr uint64_t kCommitLenB = 5;
  constexpr uint64_t kNumPages = kCommitLenA * kCommitLenB * kSupplyLen;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  std::vector<std::unique_ptr<TestThread>> threads_a;
  for (uint64_t i = 0; i < kNumPages / kCommitLenA; ++i) {
    threads_a.push_back(std::make_unique<TestThread>(
        [v = vmo.get(), i] { return CommitPages(*v, i * kCommitLenA, kCommitLenA); }));
    threads_a.back()->Start();
    ASSERT_TRUE(pager.WaitForPageRead(*vmo, i * kCommitLenA, kCommitLenA));
  }

  std::vector<std::unique_ptr<TestThread>> threads_b;
  for (uint64_t i = 0; i < kNumPages / kCommitLenB; ++i) {
    threads_b.push_back(std::make_unique<TestThread>(
        [v = vmo.get(), i] { return CommitPages(*v, i * kCommitLenB, kCommitLenB); }));
    threads_b.back()->Start();
    ASSERT_TRUE(threads_b.back()->WaitForBlocked());
  }
  ASSERT_FALSE(pager.AnyPacket());

  for (uint64_t i = 0; i < kNumPages / kSupplyLen; ++i) {
    ASSERT_EQ(pager.SupplyPages(*vmo, i * kSupplyLen, kSupplyLen), Status::kOk);
  }

  for (auto& t : threads_a) {
    ASSERT_TRUE(t->Wait());
  }
  for (auto& t : threads_b) {
    ASSERT_TRUE(t->Wait());
  }
  ASSERT_FALSE(pager.AnyPacket());
}

TEST(Pager, MultisupplyCommitTest) {
  UserPager pager;
  constexpr uint64_t kNumPages = 32;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return CommitPages(*v, 0, kNumPages); });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));
  for (uint64_t i = 0; i < kNumPages; ++i) {
    ASSERT_EQ(pager.SupplyPages(*vmo, i, 1), Status::kOk);
  }
  ASSERT_TRUE(t.Wait());
}

TEST(Pager, MulticommitSupplyTest) {
  UserPager pager;
  constexpr uint64_t kNumCommits = 5;
  constexpr uint64_t kNumSupplies = 7;
  auto vmo = pager.CreateVmo(kNumCommits * kNumSupplies);
  ASSERT_NE(vmo, nullptr);

  std::vector<std::unique_ptr<TestThread>> threads;
  for (uint64_t i = 0; i < kNumCommits; ++i) {
    threads.push_back(std::make_unique<TestThread>(
        [v = vmo.get(), i] { return CommitPages(*v, i * kNumSupplies, kNumSupplies); }));
    threads.back()->Start();
    ASSERT_TRUE(pager.WaitForPageRead(*vmo, i * kNumSupplies, kNumSupplies));
  }

  for (uint64_t i = 0; i < kNumSupplies; ++i) {
    ASSERT_EQ(pager.SupplyPages(*vmo, kNumCommits * i, kNumCommits), Status::kOk);
  }

  for (auto& t : threads) {
    ASSERT_TRUE(t->Wait());
  }
}

// Supplies [0,i) for growing i: only the new page of each counts (4.1), no errors.
TEST(Pager, CommitRedundantSupplyTest) {
  UserPager pager;
  constexpr uint64_t kNumPages = 8;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return CommitPages(*v, 0, kNumPages); });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));
  for (uint64_t i = 1; i <= kNumPages; ++i) {
    ASSERT_EQ(pager.SupplyPages(*vmo, 0, i), Status::kOk);
  }
  ASSERT_TRUE(t.Wait());
}

// Page 2 present: Commit[0,5) asks for [0,2), then [3,5) (10.2, 19.7).
TEST(Pager, PresentPageSplitsRange) {
  UserPager pager;
  constexpr uint64_t kNumPages = 5;
  constexpr uint64_t kSuppliedPage = 2;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  ASSERT_EQ(pager.SupplyPages(*vmo, kSuppliedPage, 1), Status::kOk);

  TestThread t([v = vmo.get()] { return CommitPages(*v, 0, kNumPages); });
  t.Start();

  ASSERT_TRUE(t.WaitForBlocked());
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kSuppliedPage));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, kSuppliedPage), Status::kOk);

  ASSERT_TRUE(t.WaitForBlocked());
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, kSuppliedPage + 1, kNumPages - kSuppliedPage - 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, kSuppliedPage + 1, kNumPages - kSuppliedPage - 1), Status::kOk);

  ASSERT_TRUE(t.Wait());
}

// PREFETCH on the root asks for the missing page (15). The slice and clone parts of the
// peer test need children.
TEST(Pager, Prefetch) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return v->vmo.OpRange(kVmoOpPrefetch, 0, P(1)); });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());
}

// PREFETCH returns the pager's failure verbatim (7.3, 15).
TEST(Pager, PrefetchReturnsFailure) {
  UserPager pager;
  auto vmo = pager.CreateVmo(3);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return v->vmo.OpRange(kVmoOpPrefetch, 0, P(3)); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 3));
  ASSERT_EQ(pager.FailPages(*vmo, 0, 3, Status::kIoDataIntegrity), Status::kOk);
  ASSERT_TRUE(t.WaitForFailure(Status::kIoDataIntegrity));

  VmoInfo info{};
  ASSERT_EQ(vmo->vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, 0u);
  EXPECT_FALSE(pager.AnyPacket());
}

// ALWAYS_NEED is best effort: a failed READ ends the hint with kOk, and the hint does not
// ask again for the failed pages (7.3, 15).
TEST(Pager, AlwaysNeedIgnoresFailure) {
  UserPager pager;
  auto vmo = pager.CreateVmo(3);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return v->vmo.OpRange(kVmoOpAlwaysNeed, 0, P(3)); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 3));
  ASSERT_EQ(pager.FailPages(*vmo, 0, 3, Status::kIo), Status::kOk);
  ASSERT_TRUE(t.Wait());  // kOk

  VmoInfo info{};
  ASSERT_EQ(vmo->vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, 0u);
  EXPECT_FALSE(pager.AnyPacket());
}

// COMMIT does not use early wake (6.1): its request is [0,3); page 0 supplied, then page 1
// failed. The failure does not start at the request's first page and the request has no
// wake offset, so it is not the committer's (7.2): the commit stays blocked until page 2
// completes the request, then retries and asks for page 1 alone. An early-woken commit
// would instead have ended with kIo before page 2 was supplied, and never asked again.
TEST(Pager, NoEarlyWakeForCommit) {
  UserPager pager;
  auto vmo = pager.CreateVmo(3);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return CommitPages(*v, 0, 3); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 3));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_EQ(pager.FailPages(*vmo, 1, 1, Status::kIo), Status::kOk);
  ASSERT_TRUE(t.WaitForBlocked());
  ASSERT_EQ(pager.SupplyPages(*vmo, 2, 1), Status::kOk);

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 1, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_TRUE(CheckVmo(*vmo, 0, 3));
  EXPECT_FALSE(pager.AnyPacket());
}

// ---- Eviction hints ----

// ALWAYS_NEED commits the range as a read would (15).
TEST(Pager, EvictionHintAlwaysNeed) {
  UserPager pager;
  constexpr uint64_t kNumPages = 30;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return v->vmo.OpRange(kVmoOpAlwaysNeed, P(10), P(5)); });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 10, 5));
  ASSERT_EQ(pager.SupplyPages(*vmo, 10, 5), Status::kOk);
  ASSERT_TRUE(t.Wait());
}

// Hints round ranges outward to pages, check them against the size (and for overflow) on
// pager VMOs, and succeed without looking on other VMOs (11, 15).
TEST(Pager, EvictionHintsOpRange) {
  UserPager pager;
  constexpr uint64_t kNumPages = 20;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 10), Status::kOk);

  EXPECT_EQ(vmo->vmo.OpRange(kVmoOpAlwaysNeed, 0, P(10)), Status::kOk);
  EXPECT_EQ(vmo->vmo.OpRange(kVmoOpDontNeed, 0, P(20)), Status::kOk);

  // [15p-8, 15p+8) is pages 14 and 15.
  TestThread t([v = vmo.get()] { return v->vmo.OpRange(kVmoOpAlwaysNeed, P(15) - 8, 16); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 14, 2));
  ASSERT_EQ(pager.SupplyPages(*vmo, 14, 2), Status::kOk);
  ASSERT_TRUE(t.Wait());

  EXPECT_EQ(vmo->vmo.OpRange(kVmoOpDontNeed, 32, P(20) - 64), Status::kOk);

  EXPECT_EQ(vmo->vmo.OpRange(kVmoOpAlwaysNeed, P(15), P(10)), Status::kOutOfRange);
  EXPECT_EQ(vmo->vmo.OpRange(kVmoOpDontNeed, P(kNumPages), P(20)), Status::kOutOfRange);
  EXPECT_EQ(vmo->vmo.OpRange(kVmoOpAlwaysNeed, P(1), std::numeric_limits<uint64_t>::max()),
            Status::kOutOfRange);
  EXPECT_EQ(vmo->vmo.OpRange(kVmoOpDontNeed, P(1), std::numeric_limits<uint64_t>::max()),
            Status::kOutOfRange);

  // Not pager-backed: accepted whatever the range (the peer test's VMO is 20 bytes).
  Vmo vmo2;
  ASSERT_EQ(Vmo::Create(kNumPages, 0, &vmo2), Status::kOk);
  EXPECT_EQ(vmo2.OpRange(kVmoOpAlwaysNeed, 0, P(kNumPages)), Status::kOk);
  EXPECT_EQ(vmo2.OpRange(kVmoOpDontNeed, 0, P(kNumPages)), Status::kOk);

  uint64_t offset = 0;
  uint64_t length = 0;
  EXPECT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

// Shrinking the VMO under a blocked ALWAYS_NEED ends the hint successfully (15).
TEST(Pager, EvictionHintsWithResize) {
  UserPager pager;
  constexpr uint64_t kNumPages = 20;
  auto vmo = pager.CreateVmo(kNumPages, kVmoResizable);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return v->vmo.OpRange(kVmoOpAlwaysNeed, P(10), P(10)); });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 10, 10));
  ASSERT_EQ(pager.SupplyPages(*vmo, 10, 2), Status::kOk);
  ASSERT_EQ(vmo->vmo.SetSize(P(12)), Status::kOk);

  ASSERT_TRUE(t.Wait());

  uint64_t offset = 0;
  uint64_t length = 0;
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

// ---- Argument validation (handles are typed; rights: rights_test.cc) ----

TEST(Pager, InvalidPagerCreate) {
  Pager pager;
  EXPECT_EQ(Pager::Create(1, &pager), Status::kInvalidArgs);
  EXPECT_FALSE(pager.is_valid());
}

TEST(Pager, InvalidPagerCreateVmo) {
  Pager pager;
  ASSERT_EQ(Pager::Create(0, &pager), Status::kOk);
  Port port;
  ASSERT_EQ(Port::Create(0, &port), Status::kOk);
  Vmo vmo;

  // Bad options.
  EXPECT_EQ(pager.CreateVmo(~0u, port, 0, kPageSize, &vmo), Status::kInvalidArgs);

  // Bad handles for the pager and the port.
  EXPECT_EQ(Pager().CreateVmo(0, port, 0, kPageSize, &vmo), Status::kBadHandle);
  EXPECT_EQ(pager.CreateVmo(0, Port(), 0, kPageSize, &vmo), Status::kBadHandle);

  // A size that cannot be rounded up to pages, and one above the limit.
  const uint64_t kBadSize = (std::numeric_limits<uint64_t>::max() / kPageSize) * kPageSize + 1;
  EXPECT_EQ(pager.CreateVmo(0, port, 0, kBadSize, &vmo), Status::kOutOfRange);
  EXPECT_EQ(pager.CreateVmo(0, port, 0, kMaxVmoSize + kPageSize, &vmo), Status::kOutOfRange);

  EXPECT_FALSE(vmo.is_valid());
}

TEST(Pager, InvalidPagerDetachVmo) {
  Pager pager;
  ASSERT_EQ(Pager::Create(0, &pager), Status::kOk);
  Port port;
  ASSERT_EQ(Port::Create(0, &port), Status::kOk);
  Vmo vmo;
  ASSERT_EQ(pager.CreateVmo(0, port, 0, kPageSize, &vmo), Status::kOk);

  // Bad handles.
  EXPECT_EQ(Pager().DetachVmo(vmo), Status::kBadHandle);
  EXPECT_EQ(pager.DetachVmo(Vmo()), Status::kBadHandle);

  // A VMO that is not pager-backed.
  Vmo tmp_vmo;
  ASSERT_EQ(Vmo::Create(kPageSize, 0, &tmp_vmo), Status::kOk);
  EXPECT_EQ(pager.DetachVmo(tmp_vmo), Status::kInvalidArgs);

  // Another pager's VMO.
  Pager pager2;
  ASSERT_EQ(Pager::Create(0, &pager2), Status::kOk);
  EXPECT_EQ(pager2.DetachVmo(vmo), Status::kInvalidArgs);
}

TEST(Pager, InvalidPagerSupplyPages) {
  Pager pager;
  ASSERT_EQ(Pager::Create(0, &pager), Status::kOk);
  Port port;
  ASSERT_EQ(Port::Create(0, &port), Status::kOk);
  Vmo vmo;
  ASSERT_EQ(pager.CreateVmo(0, port, 0, kPageSize, &vmo), Status::kOk);
  Vmo aux_vmo;
  ASSERT_EQ(Vmo::Create(kPageSize, 0, &aux_vmo), Status::kOk);

  // Bad handles.
  EXPECT_EQ(Pager().SupplyPages(vmo, 0, 0, aux_vmo, 0), Status::kBadHandle);
  EXPECT_EQ(pager.SupplyPages(Vmo(), 0, 0, aux_vmo, 0), Status::kBadHandle);
  EXPECT_EQ(pager.SupplyPages(vmo, 0, 0, Vmo(), 0), Status::kBadHandle);

  // A VMO that is not pager-backed.
  EXPECT_EQ(pager.SupplyPages(aux_vmo, 0, 0, aux_vmo, 0), Status::kInvalidArgs);

  // Another pager's VMO: refused before the aux handle is looked at (11).
  Pager pager2;
  ASSERT_EQ(Pager::Create(0, &pager2), Status::kOk);
  EXPECT_EQ(pager2.SupplyPages(vmo, 0, 0, Vmo(), 0), Status::kInvalidArgs);

  // Misaligned offset, length or aux offset.
  EXPECT_EQ(pager.SupplyPages(vmo, 1, 0, aux_vmo, 0), Status::kInvalidArgs);
  EXPECT_EQ(pager.SupplyPages(vmo, 0, 1, aux_vmo, 0), Status::kInvalidArgs);
  EXPECT_EQ(pager.SupplyPages(vmo, 0, 0, aux_vmo, 1), Status::kInvalidArgs);
  // Alignment is checked before any handle (11).
  EXPECT_EQ(Pager().SupplyPages(Vmo(), 1, 0, Vmo(), 0), Status::kInvalidArgs);

  // Pages cannot come from a pager-backed VMO (one that holds a supplied page).
  {
    Vmo pager_aux;
    ASSERT_EQ(pager.CreateVmo(0, port, 0, kPageSize, &pager_aux), Status::kOk);
    Vmo alt_vmo;
    ASSERT_EQ(Vmo::Create(kPageSize, 0, &alt_vmo), Status::kOk);
    ASSERT_EQ(alt_vmo.OpRange(kVmoOpCommit, 0, kPageSize), Status::kOk);
    ASSERT_EQ(pager.SupplyPages(pager_aux, 0, kPageSize, alt_vmo, 0), Status::kOk);
    EXPECT_EQ(pager.SupplyPages(vmo, 0, kPageSize, pager_aux, 0), Status::kNotSupported);
    EXPECT_EQ(pager.SupplyPages(vmo, 0, kPageSize, vmo, 0), Status::kNotSupported);
  }

  // The pager VMO's range is out of range.
  ASSERT_EQ(aux_vmo.OpRange(kVmoOpCommit, 0, kPageSize), Status::kOk);
  EXPECT_EQ(pager.SupplyPages(vmo, kPageSize, kPageSize, aux_vmo, 0), Status::kOutOfRange);

  // The aux VMO's range is out of range.
  ASSERT_EQ(Vmo::Create(kPageSize, 0, &aux_vmo), Status::kOk);
  ASSERT_EQ(aux_vmo.OpRange(kVmoOpCommit, 0, kPageSize), Status::kOk);
  EXPECT_EQ(pager.SupplyPages(vmo, 0, kPageSize, aux_vmo, kPageSize), Status::kOutOfRange);
}

// upager: a pager-backed aux is refused (kNotSupported) without locking both VMOs, so two
// such supplies in opposite directions cannot deadlock.
TEST(Pager, SupplyFromPagerBackedAuxInBothDirectionsDoesNotDeadlock) {
  UserPager pager;
  auto a = pager.CreateVmo(1);
  auto b = pager.CreateVmo(1);
  ASSERT_TRUE(a && b);
  std::atomic<int> wrong{0};
  auto supply = [&](const TestVmo& to, const TestVmo& from) {
    for (int i = 0; i < 2000; ++i) {
      if (pager.pager().SupplyPages(to.vmo, 0, kPageSize, from.vmo, 0) != Status::kNotSupported) {
        wrong++;
      }
    }
  };
  std::thread one([&] { supply(*a, *b); });
  std::thread two([&] { supply(*b, *a); });
  one.join();
  two.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(pager.pager().SupplyPages(a->vmo, 0, kPageSize, b->vmo, kPageSize),
            Status::kOutOfRange);  // the aux range is checked first
}

}  // namespace
}  // namespace upager::testing

// Zircon's core pager tests through Vmo::Read/Write/OpRange (see pager_test.cc for the
// conventions): failure reporting (ZX_PAGER_OP_FAIL) and early wake.
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

// ---- Failure reporting (ZX_PAGER_OP_FAIL) ----

TEST(Pager, FailSinglePageVmo) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return ReadPages(*v, 0, 1); });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.FailPages(*vmo, 0, 1), Status::kOk);

  ASSERT_TRUE(t.WaitForFailure(Status::kIo));

  uint64_t offset = 0;
  uint64_t length = 0;
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

TEST(Pager, FailExactRange) {
  UserPager pager;
  constexpr uint64_t kNumPages = 11;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return CommitPages(*v, 0, kNumPages); });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));
  ASSERT_EQ(pager.FailPages(*vmo, 0, kNumPages), Status::kOk);
  ASSERT_TRUE(t.WaitForFailure(Status::kIo));

  uint64_t offset = 0;
  uint64_t length = 0;
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

TEST(Pager, FailMultipleCommits) {
  UserPager pager;
  constexpr uint64_t kNumPages = 11;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);
  uint64_t offset = 0;
  uint64_t length = 0;

  // Disjoint ranges: one request each.
  std::vector<std::unique_ptr<TestThread>> threads;
  for (uint64_t i = 0; i < kNumPages; ++i) {
    threads.push_back(
        std::make_unique<TestThread>([v = vmo.get(), i] { return CommitPages(*v, i, 1); }));
    threads.back()->Start();
  }
  for (uint64_t i = 0; i < kNumPages; ++i) {
    ASSERT_TRUE(threads[i]->WaitForBlocked());
    ASSERT_TRUE(pager.WaitForPageRead(*vmo, i, 1));
  }

  ASSERT_EQ(pager.FailPages(*vmo, 0, kNumPages), Status::kOk);
  for (auto& t : threads) {
    ASSERT_TRUE(t->WaitForFailure(Status::kIo));
  }
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));

  // The same range: one request shared by all.
  threads.clear();
  for (uint64_t i = 0; i < kNumPages; ++i) {
    threads.push_back(
        std::make_unique<TestThread>([v = vmo.get()] { return CommitPages(*v, 0, kNumPages); }));
    threads.back()->Start();
  }
  for (auto& t : threads) {
    ASSERT_TRUE(t->WaitForBlocked());
  }

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));

  ASSERT_EQ(pager.FailPages(*vmo, 0, kNumPages), Status::kOk);
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));

  for (auto& t : threads) {
    ASSERT_TRUE(t->WaitForFailure(Status::kIo));
  }
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

TEST(Pager, FailMultipleVmos) {
  UserPager pager;
  auto vmo1 = pager.CreateVmo(1);
  ASSERT_NE(vmo1, nullptr);
  TestThread t1([v = vmo1.get()] { return CommitPages(*v, 0, 1); });
  auto vmo2 = pager.CreateVmo(1);
  ASSERT_NE(vmo2, nullptr);
  TestThread t2([v = vmo2.get()] { return CommitPages(*v, 0, 1); });
  uint64_t offset = 0;
  uint64_t length = 0;

  t1.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo1, 0, 1));
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo2, kPoll, &offset, &length));

  t2.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo2, 0, 1));

  ASSERT_EQ(pager.FailPages(*vmo1, 0, 1), Status::kOk);
  ASSERT_TRUE(t1.WaitForFailure(Status::kIo));
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo1, kPoll, &offset, &length));

  ASSERT_EQ(pager.FailPages(*vmo2, 0, 1), Status::kOk);
  ASSERT_TRUE(t2.WaitForFailure(Status::kIo));
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo1, kPoll, &offset, &length));
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo2, kPoll, &offset, &length));
}

// Requests [0,2), [9,11), [5,7); supply 0, fail [1,10), supply 10: [5,7) and [9,11) fail;
// [0,2) completes OK (the failure missed its first page: section 7.2) and asks again for [1,2),
// which is then failed (19.8).
TEST(Pager, FailOverlappingRangeCommit) {
  UserPager pager;
  constexpr uint64_t kNumPages = 11;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  TestThread t1([v = vmo.get()] { return CommitPages(*v, 0, 2); });
  TestThread t2([v = vmo.get()] { return CommitPages(*v, 9, 2); });
  TestThread t3([v = vmo.get()] { return CommitPages(*v, 5, 2); });

  t1.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 2));
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 9, 2));
  t3.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 5, 2));

  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_EQ(pager.FailPages(*vmo, 1, 9), Status::kOk);
  ASSERT_EQ(pager.SupplyPages(*vmo, 10, 1), Status::kOk);

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_EQ(pager.FailPages(*vmo, 1, 9), Status::kOk);

  ASSERT_TRUE(t1.WaitForFailure(Status::kIo));
  ASSERT_TRUE(t2.WaitForFailure(Status::kIo));
  ASSERT_TRUE(t3.WaitForFailure(Status::kIo));

  uint64_t offset = 0;
  uint64_t length = 0;
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

// The same with early-wake readers and the failure first.
TEST(Pager, FailOverlappingRangeRead) {
  UserPager pager;
  constexpr uint64_t kNumPages = 11;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  TestThread t1([v = vmo.get()] { return ReadPages(*v, 0, 2); });
  TestThread t2([v = vmo.get()] { return ReadPages(*v, 9, 2); });
  TestThread t3([v = vmo.get()] { return ReadPages(*v, 5, 2); });

  t1.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 2));
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 9, 2));
  t3.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 5, 2));

  ASSERT_EQ(pager.FailPages(*vmo, 1, 9), Status::kOk);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_EQ(pager.SupplyPages(*vmo, 10, 1), Status::kOk);

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_EQ(pager.FailPages(*vmo, 1, 9), Status::kOk);

  ASSERT_TRUE(t1.WaitForFailure(Status::kIo));
  ASSERT_TRUE(t2.WaitForFailure(Status::kIo));
  ASSERT_TRUE(t3.WaitForFailure(Status::kIo));

  uint64_t offset = 0;
  uint64_t length = 0;
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

// Failing page by page: a failure counts as a resolution (3.6), the rest are no-ops.
TEST(Pager, FailRedundant) {
  UserPager pager;
  constexpr uint64_t kNumPages = 11;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return CommitPages(*v, 0, kNumPages); });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));
  for (uint64_t i = 0; i < kNumPages; ++i) {
    ASSERT_EQ(pager.FailPages(*vmo, i, 1), Status::kOk);
  }
  ASSERT_TRUE(t.WaitForFailure(Status::kIo));

  uint64_t offset = 0;
  uint64_t length = 0;
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

// Read of 3 pages: page 0 supplied (early wake, the reader takes it), then page 1 failed:
// that is the page the reader needs next, so the read fails although page 2 was never
// resolved (6.4).
TEST(Pager, FailEarlyWake) {
  UserPager pager;
  auto vmo = pager.CreateVmo(3);
  ASSERT_NE(vmo, nullptr);

  SharedBuffer data(P(3));
  ASSERT_TRUE(data.ok());
  TestThread t([v = vmo.get(), &data] { return v->vmo.Read(data.data(), 0, P(3)); });
  t.Start();
  ASSERT_TRUE(t.WaitForBlocked());
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 3));

  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  // The reader has taken page 0 and waits again.
  const std::vector<char> expected = Expected(*vmo, 0, 1);
  ASSERT_TRUE(data.WaitFor(expected.data(), 0, P(1)));
  ASSERT_TRUE(t.WaitForBlocked());

  ASSERT_EQ(pager.FailPages(*vmo, 1, 1, Status::kIo), Status::kOk);
  ASSERT_TRUE(t.WaitForFailure(Status::kIo));
}

// A secondary reader gets the failure recorded for its first page; the primary completes OK
// and asks again for the failed page (7.2, 19.9).
TEST(Pager, FailOverlapRequest) {
  UserPager pager;
  auto vmo = pager.CreateVmo(4);
  ASSERT_NE(vmo, nullptr);
  uint64_t offset = 0;
  uint64_t length = 0;

  TestThread t1([v = vmo.get()] { return CheckVmo(*v, 0, 4); });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 4));

  TestThread t2([v = vmo.get()] { return ReadPages(*v, 1, 1); });
  t2.Start();
  ASSERT_TRUE(t2.WaitForBlocked());
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));

  // Recorded for the secondary; it will hear when the primary completes.
  ASSERT_EQ(pager.FailPages(*vmo, 1, 1, Status::kIo), Status::kOk);

  // Early wake of the primary, which then waits for the rest.
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1, 0), Status::kOk);
  ASSERT_TRUE(t1.WaitForBlocked());
  ASSERT_TRUE(t2.WaitForBlocked());

  ASSERT_EQ(pager.SupplyPages(*vmo, 2, 2, 2), Status::kOk);

  ASSERT_TRUE(t2.WaitForFailure(Status::kIo));
  ASSERT_TRUE(pager.GetPageReadRequest(*vmo, kLong, &offset, &length));
  EXPECT_EQ(offset, 1u);
  EXPECT_EQ(length, 1u);  // pages 2 and 3 are present: the run of absent pages ends at 2 (10.2)

  ASSERT_EQ(pager.SupplyPages(*vmo, 1, 3, 1), Status::kOk);
  ASSERT_TRUE(t1.Wait());
}

// Failures are not sticky (7.2).
TEST(Pager, SupplyAfterFail) {
  UserPager pager;
  constexpr uint64_t kNumPages = 11;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);
  uint64_t offset = 0;
  uint64_t length = 0;

  TestThread t1([v = vmo.get()] { return CommitPages(*v, 0, kNumPages); });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));
  ASSERT_EQ(pager.FailPages(*vmo, 0, kNumPages), Status::kOk);
  ASSERT_TRUE(t1.WaitForFailure(Status::kIo));
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));

  TestThread t2([v = vmo.get()] { return CommitPages(*v, 0, kNumPages); });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, kNumPages), Status::kOk);
  ASSERT_TRUE(t2.Wait());
  EXPECT_TRUE(CheckVmo(*vmo, 0, kNumPages));

  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

// Each permitted failure code comes back verbatim from COMMIT and from a read (7.1, 7.3).
TEST(Pager, FailErrorCode) {
  constexpr Status kValidErrors[] = {Status::kIo, Status::kIoDataIntegrity, Status::kBadState,
                                     Status::kNoSpace, Status::kBufferTooSmall};
  for (const Status error : kValidErrors) {
    SCOPED_TRACE(StatusString(error));
    UserPager pager;
    constexpr uint64_t kNumPages = 11;
    auto vmo = pager.CreateVmo(kNumPages);
    ASSERT_NE(vmo, nullptr);

    TestThread t_commit([v = vmo.get()] { return CommitPages(*v, 0, kNumPages); });
    TestThread t_read([v = vmo.get()] { return ReadPages(*v, 0, kNumPages); });

    t_commit.Start();
    ASSERT_TRUE(t_commit.WaitForBlocked());
    t_read.Start();
    ASSERT_TRUE(t_read.WaitForBlocked());
    ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));

    ASSERT_EQ(pager.FailPages(*vmo, 0, kNumPages, error), Status::kOk);

    ASSERT_TRUE(t_commit.WaitForFailure(error));
    ASSERT_TRUE(t_read.WaitForFailure(error));

    uint64_t offset = 0;
    uint64_t length = 0;
    ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
  }
}

// ---- Early wake ----

// A 128-page read from page 2 sees its data arrive in 32-page steps, each as soon as it is
// supplied (6).
TEST(Pager, EarlyWakeOnSupply) {
  UserPager pager;
  constexpr uint64_t kNumPages = 128;
  constexpr uint64_t kPageSteps = 32;
  static_assert(kNumPages % kPageSteps == 0);
  // The request's offset in the VMO differs from offsets relative to the request.
  constexpr uint64_t kStartOffset = 2;
  auto vmo = pager.CreateVmo(kNumPages + kStartOffset);
  ASSERT_NE(vmo, nullptr);

  const std::vector<char> expected = Expected(*vmo, kStartOffset, kNumPages);
  SharedBuffer data(P(kNumPages));
  ASSERT_TRUE(data.ok());

  TestThread t(
      [v = vmo.get(), &data] { return v->vmo.Read(data.data(), P(kStartOffset), P(kNumPages)); });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, kStartOffset, kNumPages));

  for (uint64_t i = 0; i < kNumPages; i += kPageSteps) {
    ASSERT_TRUE(t.WaitForBlocked());
    ASSERT_EQ(pager.SupplyPages(*vmo, i + kStartOffset, kPageSteps), Status::kOk);
    ASSERT_TRUE(data.WaitFor(expected.data() + P(i), P(i), P(kPageSteps)));
  }
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(std::memcmp(expected.data(), data.data(), P(kNumPages)), 0);

  uint64_t offset = 0;
  uint64_t length = 0;
  EXPECT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

// Supplies that do not start at the reader's next page do not wake it; once the page it
// needs arrives it takes everything present up to the next gap (6.2, 6.3).
TEST(Pager, EarlyWakeNonLinearSupply) {
  UserPager pager;
  constexpr uint64_t kNumPages = 128;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  const std::vector<char> expected = Expected(*vmo, 0, kNumPages);
  SharedBuffer data(P(kNumPages));
  ASSERT_TRUE(data.ok());

  TestThread t([v = vmo.get(), &data] { return v->vmo.Read(data.data(), 0, P(kNumPages)); });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));

  ASSERT_EQ(pager.SupplyPages(*vmo, 16, 16), Status::kOk);
  ASSERT_EQ(pager.SupplyPages(*vmo, 48, 16), Status::kOk);

  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 16), Status::kOk);
  ASSERT_TRUE(data.WaitFor(expected.data(), 0, P(32)));

  ASSERT_EQ(pager.SupplyPages(*vmo, 32, 16), Status::kOk);
  ASSERT_TRUE(data.WaitFor(expected.data(), 0, P(64)));

  ASSERT_EQ(pager.SupplyPages(*vmo, 64, kNumPages - 64), Status::kOk);
  ASSERT_TRUE(t.Wait());

  uint64_t offset = 0;
  uint64_t length = 0;
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
  EXPECT_EQ(std::memcmp(expected.data(), data.data(), P(kNumPages)), 0);
}

// Reads [16,42), [0,32), [48,64) and [82,128) start while [0,92) is outstanding: no new
// packets; each wakes as its own next page arrives (6.2); the tail reader asks for [100,128)
// once [0,92) completes.
TEST(Pager, EarlyWakeOverlappingRequests) {
  UserPager pager;
  constexpr uint64_t kVmoPages = 128;
  auto vmo = pager.CreateVmo(kVmoPages);
  ASSERT_NE(vmo, nullptr);

  struct Request {
    uint64_t start;
    uint64_t end;
    std::unique_ptr<SharedBuffer> data;
    std::unique_ptr<TestThread> thread;
  };
  Request requests[] = {
      {0, 92, {}, {}}, {16, 42, {}, {}}, {0, 32, {}, {}}, {48, 64, {}, {}}, {82, 128, {}, {}}};
  const std::vector<char> expected = Expected(*vmo, 0, kVmoPages);
  for (Request& req : requests) {
    req.data = std::make_unique<SharedBuffer>(P(req.end - req.start));
    ASSERT_TRUE(req.data->ok());
    req.thread = std::make_unique<TestThread>([v = vmo.get(), r = &req] {
      return v->vmo.Read(r->data->data(), P(r->start), P(r->end - r->start));
    });
  }

  requests[0].thread->Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, requests[0].end - requests[0].start));

  for (size_t i = 1; i < std::size(requests); ++i) {
    requests[i].thread->Start();
    ASSERT_TRUE(requests[i].thread->WaitForBlocked());
  }
  uint64_t offset = 0;
  uint64_t length = 0;
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));

  // Every reader starting at or before `max_page` (and before `cutoff`) has its data up to
  // `max_page`; a reader whose range is complete has finished.
  auto validate_requests = [&](uint64_t max_page,
                               uint64_t cutoff = std::numeric_limits<uint64_t>::max()) {
    for (Request& req : requests) {
      if (max_page < req.start || req.start >= cutoff) {
        continue;
      }
      const uint64_t pages = std::min(max_page, req.end) - req.start;
      ASSERT_TRUE(req.data->WaitFor(expected.data() + P(req.start), 0, P(pages)))
          << "request [" << req.start << ", " << req.end << ") up to " << max_page;
      if (max_page >= req.end && req.thread != nullptr) {
        ASSERT_TRUE(req.thread->Wait());
        req.thread.reset();
      }
    }
  };

  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 8), Status::kOk);
  ASSERT_NO_FATAL_FAILURE(validate_requests(8));

  // A later page at the start of an overlapping read, ahead of the primary's wake point.
  ASSERT_EQ(pager.SupplyPages(*vmo, 16, 1), Status::kOk);

  ASSERT_EQ(pager.SupplyPages(*vmo, 8, 8), Status::kOk);
  // Up to page 16 for the readers starting before it; the one at 16 may still sleep.
  ASSERT_NO_FATAL_FAILURE(validate_requests(17, 16));

  // The next page wakes the reader at 16 too.
  ASSERT_EQ(pager.SupplyPages(*vmo, 17, 1), Status::kOk);
  ASSERT_NO_FATAL_FAILURE(validate_requests(18));

  // A later page before the end of an overlapping read.
  ASSERT_EQ(pager.SupplyPages(*vmo, 30, 2), Status::kOk);

  ASSERT_EQ(pager.SupplyPages(*vmo, 18, 30 - 18), Status::kOk);
  ASSERT_NO_FATAL_FAILURE(validate_requests(32));

  // Into the start of the next overlapping read.
  ASSERT_EQ(pager.SupplyPages(*vmo, 32, 50 - 32), Status::kOk);
  ASSERT_NO_FATAL_FAILURE(validate_requests(50));

  // Past the end of the first request, completing it.
  ASSERT_EQ(pager.SupplyPages(*vmo, 50, 100 - 50), Status::kOk);
  ASSERT_NO_FATAL_FAILURE(validate_requests(100));

  // The tail reader now has a request of its own.
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 100, kVmoPages - 100));
  for (Request& req : requests) {
    if (req.thread != nullptr) {
      ASSERT_TRUE(req.thread->WaitForBlocked());
    }
  }

  ASSERT_EQ(pager.SupplyPages(*vmo, 100, kVmoPages - 100), Status::kOk);
  ASSERT_NO_FATAL_FAILURE(validate_requests(kVmoPages));
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

// After an early wake the VMO shrinks below the read's end: once the rest of the request is
// resolved the read fails (18.6).
TEST(Pager, EarlyWakeWithResize) {
  UserPager pager;
  constexpr uint64_t kNumPages = 16;
  auto vmo = pager.CreateVmo(kNumPages, kVmoResizable);
  ASSERT_NE(vmo, nullptr);

  SharedBuffer data(P(kNumPages));
  ASSERT_TRUE(data.ok());
  TestThread t([v = vmo.get(), &data] { return v->vmo.Read(data.data(), 0, P(kNumPages)); });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);

  const std::vector<char> expected = Expected(*vmo, 0, 1);
  ASSERT_TRUE(data.WaitFor(expected.data(), 0, P(1)));
  ASSERT_TRUE(t.WaitForBlocked());

  ASSERT_EQ(vmo->vmo.SetSize(P(kNumPages / 2)), Status::kOk);
  ASSERT_EQ(pager.SupplyPages(*vmo, 1, kNumPages / 2 - 1), Status::kOk);

  ASSERT_TRUE(t.WaitForFailure(Status::kOutOfRange));
}

}  // namespace
}  // namespace upager::testing

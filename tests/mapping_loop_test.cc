// Mappings served by a PagerLoop: many faulting threads in any order, faults served inline
// on the faulting thread, several fault threads, a tight page budget (moved out of
// mapping_test.cc).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <random>
#include <thread>
#include <vector>

#include "base/handle_access.h"
#include "fault/fault_service.h"
#include "mapping_util.h"
#include "mapping_word.h"
#include "test_util.h"
#include "upager/mapping.h"
#include "upager/page_budget.h"
#include "upager/pager_loop.h"
#include "user_pager.h"
#include "vm/vm_object_paged.h"

namespace upager::testing {
namespace {

// Supplies every READ from a pattern computed on the fly (the same as UserPager's).
class PatternHandler : public PagerLoop::Handler {
 public:
  explicit PatternHandler(uint64_t key) : key_(key) {}
  void OnRead(const PagerLoop::Request& r) override {
    reads.fetch_add(1);
    std::vector<char> data(r.length);
    for (uint64_t i = 0; i < r.length / kPageSize; ++i) {
      UserPager::Pattern(key_, r.offset / kPageSize + i, data.data() + i * kPageSize);
    }
    r.loop->pager().SupplyPagesFromBuffer(r.vmo, r.offset, r.length, data.data());
  }
  std::atomic<uint64_t> reads{0};

 private:
  const uint64_t key_;
};

// Threads load one word of every page, in sequential or random order, and check it.
bool ScanAndCheck(const std::byte* base, uint64_t pages, uint64_t key, int threads, bool random) {
  std::atomic<bool> ok{true};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::vector<uint64_t> order;
      for (uint64_t p = static_cast<uint64_t>(t); p < pages; p += static_cast<uint64_t>(threads)) {
        order.push_back(p);
      }
      if (random) std::shuffle(order.begin(), order.end(), std::mt19937_64(42 + t));
      for (uint64_t p : order) {
        const uint64_t word = p % 512;
        const uint64_t v =
            *reinterpret_cast<const volatile uint64_t*>(base + p * kPageSize + word * 8);
        if (v != Word(key, p, word)) ok = false;
      }
    });
  }
  for (auto& w : workers) w.join();
  return ok;
}

TEST(Mapping, PagerLoopServesThreadsInAnyOrder) {
  UPAGER_REQUIRE_MAPPINGS();
  PagerLoop loop(2);
  ASSERT_EQ(loop.Start(), Status::kOk);
  constexpr uint64_t kPages = 512;
  PatternHandler handler(1);  // PagerLoop keys start at 1
  Vmo vmo;
  ASSERT_EQ(loop.CreateVmo(0, kPages * kPageSize, &handler, &vmo), Status::kOk);
  Mapping map;
  ASSERT_EQ(Mapping::Create(vmo, 0, kPages * kPageSize, kMapRead, &map), Status::kOk);
  EXPECT_TRUE(ScanAndCheck(map.data(), kPages, 1, 2, /*random=*/true));
  // Every page asked for exactly once (one page per fault; no duplicates).
  EXPECT_EQ(handler.reads.load(), kPages);
  EXPECT_TRUE(ScanAndCheck(map.data(), kPages, 1, 2, /*random=*/false));
  EXPECT_EQ(handler.reads.load(), kPages);
  map.Reset();
  vmo.Reset();
  loop.Stop();
}

TEST(Mapping, InlineLoopServesFaultsOnTheFaultThread) {
  UPAGER_REQUIRE_MAPPINGS();
  PagerLoop loop(0, /*serve_faults_inline=*/true);
  ASSERT_EQ(loop.Start(), Status::kOk);
  constexpr uint64_t kPages = 256;
  PatternHandler handler(1);
  Vmo vmo;
  ASSERT_EQ(loop.CreateVmo(0, kPages * kPageSize, &handler, &vmo), Status::kOk);
  Mapping map;
  ASSERT_EQ(Mapping::Create(vmo, 0, kPages * kPageSize, kMapRead, &map), Status::kOk);
  EXPECT_TRUE(ScanAndCheck(map.data(), kPages, 1, 2, /*random=*/true));
  EXPECT_EQ(handler.reads.load(), kPages);
  // No loop thread: a Vmo::Read of a missing page waits for Poll.
  ASSERT_TRUE(internal::HandleAccess::Object(vmo)->EvictPage(3));
  std::promise<ThreadHandle> reader_handle;
  std::thread reader([&] {
    reader_handle.set_value(ThreadHandle::Current());
    uint64_t v = 0;
    EXPECT_EQ(vmo.Read(&v, 3 * kPageSize, 8), Status::kOk);
    EXPECT_EQ(v, Word(1, 3));
  });
  // Blocked: its READ is queued, and a Poll serves it. The fault thread may still be in the
  // Poll that ended the scan's last fault and take this READ too (an inline loop is served
  // wherever it is polled), so the reader is seen blocked or already served, and this thread
  // Polls until the read is served, not exactly once.
  const ThreadHandle reader_thread = reader_handle.get_future().get();
  EXPECT_TRUE(PollUntil(
      [&] { return reader_thread.IsBlockedOnPager() || handler.reads.load() == kPages + 1; }));
  EXPECT_TRUE(PollUntil([&] {
    loop.Poll();
    return handler.reads.load() == kPages + 1;
  }));
  reader.join();
  map.Reset();
  vmo.Reset();
  loop.Stop();
}

TEST(Mapping, SeveralFaultThreadsServeConcurrentFaults) {
  UPAGER_REQUIRE_MAPPINGS();
  EXPECT_EQ(SetFaultThreads(0), Status::kInvalidArgs);
  EXPECT_EQ(SetFaultThreads(65), Status::kInvalidArgs);
  ASSERT_EQ(SetFaultThreads(3), Status::kOk);  // used from the next start of the service
  {
    PagerLoop loop(2);
    ASSERT_EQ(loop.Start(), Status::kOk);
    constexpr uint64_t kPages = 384;
    PatternHandler handler(1);
    Vmo vmo;
    ASSERT_EQ(loop.CreateVmo(0, kPages * kPageSize, &handler, &vmo), Status::kOk);
    Mapping map;
    ASSERT_EQ(Mapping::Create(vmo, 0, kPages * kPageSize, kMapRead, &map), Status::kOk);
    EXPECT_TRUE(ScanAndCheck(map.data(), kPages, 1, 4, /*random=*/true));
    EXPECT_EQ(handler.reads.load(), kPages);
    map.Reset();
    vmo.Reset();
    loop.Stop();
  }
  EXPECT_EQ(SetFaultThreads(1), Status::kOk);
}

// Each fault thread reads its own userfaultfd; mappings go to the one with the fewest, so
// that two threads never compete for one fault and a second thread is never slower.
TEST(Mapping, FaultThreadsServeMappingsOnLanes) {
  UPAGER_REQUIRE_MAPPINGS();
  ASSERT_EQ(SetFaultThreads(2), Status::kOk);
  {
    PagerLoop loop(2);
    ASSERT_EQ(loop.Start(), Status::kOk);
    constexpr uint64_t kPages = 64;
    PatternHandler handler(1);
    Vmo vmo;
    ASSERT_EQ(loop.CreateVmo(0, kPages * kPageSize, &handler, &vmo), Status::kOk);
    Mapping a, b, c;
    ASSERT_EQ(Mapping::Create(vmo, 0, kPages * kPageSize, kMapRead, &a), Status::kOk);
    ASSERT_EQ(Mapping::Create(vmo, 0, kPages * kPageSize, kMapRead, &b), Status::kOk);
    EXPECT_EQ(internal::FaultService::LaneForTesting(a.data()), 0);
    EXPECT_EQ(internal::FaultService::LaneForTesting(b.data()), 1);
    ASSERT_EQ(Mapping::Create(vmo, 0, kPages * kPageSize, kMapRead, &c), Status::kOk);
    EXPECT_EQ(internal::FaultService::LaneForTesting(c.data()), 0);
    b.Reset();  // lane 1 is free again
    Mapping d;
    ASSERT_EQ(Mapping::Create(vmo, 0, kPages * kPageSize, kMapRead, &d), Status::kOk);
    EXPECT_EQ(internal::FaultService::LaneForTesting(d.data()), 1);
    // Both lanes serve: concurrent faults in a (lane 0) and d (lane 1).
    std::thread other([&] { EXPECT_TRUE(ScanAndCheck(d.data(), kPages, 1, 2, true)); });
    EXPECT_TRUE(ScanAndCheck(a.data(), kPages, 1, 2, true));
    other.join();
    EXPECT_TRUE(ScanAndCheck(c.data(), kPages, 1, 1, false));
    EXPECT_EQ(handler.reads.load(), kPages);  // one VMO: each page read once
    a.Reset();
    c.Reset();
    d.Reset();
    vmo.Reset();
    loop.Stop();
  }
  EXPECT_EQ(SetFaultThreads(1), Status::kOk);
}

// A mapping of several stripes is dealt out to every lane: its faults are served by all the
// fault threads, supplies and write protection that cross a stripe go to each stripe's
// userfaultfd, and every byte is right.
TEST(Mapping, ABigMappingIsStripedOverEveryLane) {
  UPAGER_REQUIRE_MAPPINGS();
  ASSERT_EQ(SetFaultThreads(2), Status::kOk);
  {
    PagerLoop loop(2);
    ASSERT_EQ(loop.Start(), Status::kOk);
    constexpr uint64_t kStripe = internal::FaultService::kMinStripe;
    constexpr uint64_t kPages = 4 * kStripe / kPageSize;  // four stripes
    PatternHandler handler(1);
    Vmo vmo;
    ASSERT_EQ(loop.CreateVmo(0, kPages * kPageSize, &handler, &vmo), Status::kOk);
    Mapping map;
    ASSERT_EQ(Mapping::Create(vmo, 0, kPages * kPageSize, kMapRead | kMapWrite, &map), Status::kOk);
    uint64_t stripe = 0;
    EXPECT_EQ(internal::FaultService::StripesForTesting(map.data(), &stripe), 2u);
    EXPECT_EQ(stripe, kStripe);
    // A small mapping keeps to one lane.
    Mapping small;
    ASSERT_EQ(Mapping::Create(vmo, 0, kStripe, kMapRead, &small), Status::kOk);
    EXPECT_EQ(internal::FaultService::StripesForTesting(small.data(), &stripe), 1u);
    EXPECT_EQ(stripe, 0u);
    small.Reset();
    // A supply across the first stripe boundary installs on both sides without a fault.
    const uint64_t across = kStripe - 2 * kPageSize;
    std::vector<char> data(4 * kPageSize);
    for (uint64_t i = 0; i < 4; ++i) {
      UserPager::Pattern(1, across / kPageSize + i, data.data() + i * kPageSize);
    }
    ASSERT_EQ(loop.pager().SupplyPagesFromBuffer(vmo, across, data.size(), data.data()),
              Status::kOk);
    const uint64_t lane0 = internal::FaultService::LaneFaultsForTesting(0);
    const uint64_t lane1 = internal::FaultService::LaneFaultsForTesting(1);
    for (uint64_t p = across / kPageSize; p < across / kPageSize + 4; ++p) {
      const auto* word = reinterpret_cast<const volatile uint64_t*>(map.data() + p * kPageSize);
      EXPECT_EQ(*word, Word(1, p, 0)) << "page " << p;
    }
    EXPECT_EQ(internal::FaultService::LaneFaultsForTesting(0), lane0);
    EXPECT_EQ(internal::FaultService::LaneFaultsForTesting(1), lane1);
    // Random faults of four threads over the whole mapping: both lanes serve some.
    EXPECT_TRUE(ScanAndCheck(map.data(), kPages, 1, 4, /*random=*/true));
    EXPECT_EQ(handler.reads.load(), kPages - 4);  // each page once; four were supplied
    EXPECT_GT(internal::FaultService::LaneFaultsForTesting(0), lane0);
    EXPECT_GT(internal::FaultService::LaneFaultsForTesting(1), lane1);
    // Stores on both sides of every boundary: write protection is lifted stripe by stripe.
    for (uint64_t s = 1; s < 4; ++s) {
      for (uint64_t p : {s * kStripe / kPageSize - 1, s * kStripe / kPageSize}) {
        *reinterpret_cast<volatile uint64_t*>(map.data() + p * kPageSize) = ~p;
      }
    }
    for (uint64_t s = 1; s < 4; ++s) {
      for (uint64_t p : {s * kStripe / kPageSize - 1, s * kStripe / kPageSize}) {
        uint64_t v = 0;
        ASSERT_EQ(vmo.Read(&v, p * kPageSize, sizeof(v)), Status::kOk);
        EXPECT_EQ(v, ~p) << "page " << p;
      }
    }
    map.Reset();
    vmo.Reset();
    loop.Stop();
  }
  EXPECT_EQ(SetFaultThreads(1), Status::kOk);
}

TEST(Mapping, TightBudgetEvictsAndMappedReadsStayCorrect) {
  UPAGER_REQUIRE_MAPPINGS();
  constexpr uint64_t kPages = 256;
  PageBudget::Default().SetLimit(kPages / 2);
  {
    PagerLoop loop(1);
    ASSERT_EQ(loop.Start(), Status::kOk);
    PatternHandler handler(1);
    Vmo vmo;
    ASSERT_EQ(loop.CreateVmo(0, kPages * kPageSize, &handler, &vmo), Status::kOk);
    Mapping map;
    ASSERT_EQ(Mapping::Create(vmo, 0, kPages * kPageSize, kMapRead, &map), Status::kOk);
    EXPECT_TRUE(ScanAndCheck(map.data(), kPages, 1, 2, false));
    EXPECT_TRUE(ScanAndCheck(map.data(), kPages, 1, 2, true));
    // Pages were evicted and asked for again.
    EXPECT_GT(handler.reads.load(), kPages);
    EXPECT_LE(PageBudget::Default().used(), kPages / 2);
    map.Reset();
    vmo.Reset();
    loop.Stop();
  }
  PageBudget::Default().SetLimit(PageBudget::kUnlimited);
}

}  // namespace
}  // namespace upager::testing

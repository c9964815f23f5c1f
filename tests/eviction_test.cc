// Memory budget and eviction (15): pager-backed pages count against the process's
// PageBudget; clean pages are evicted oldest first (DONT_NEED first, ALWAYS_NEED never,
// Dirty never), an evicted page is asked for again on the next access, and a supplier
// waits for memory when nothing can be evicted.
// Section numbers refer to docs/zircon-semantics.md.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <vector>

#include "upager/page_budget.h"
#include "upager/pager_loop.h"
#include "user_pager.h"

namespace upager::testing {
namespace {

constexpr uint64_t P(uint64_t pages) { return pages * kPageSize; }
constexpr std::chrono::milliseconds kPoll{0};

// Sets the default budget's limit for one test and restores "unlimited" afterwards.
class EvictionTest : public ::testing::Test {
 protected:
  void Limit(uint64_t pages) { PageBudget::Default().SetLimit(pages); }
  void TearDown() override { PageBudget::Default().SetLimit(PageBudget::kUnlimited); }
  uint64_t Used() { return PageBudget::Default().used(); }
};

// Serves the UserPager pattern and counts the pages it was asked for.
class CountingHandler : public PagerLoop::Handler {
 public:
  void OnRead(const PagerLoop::Request& r) override {
    std::vector<char> data(r.length);
    for (uint64_t i = 0; i < r.length / kPageSize; ++i) {
      UserPager::Pattern(r.key, r.offset / kPageSize + i, data.data() + P(i));
    }
    pages_requested += r.length / kPageSize;
    r.loop->pager().SupplyPagesFromBuffer(r.vmo, r.offset, r.length, data.data());
  }
  std::atomic<uint64_t> pages_requested{0};
};

TEST_F(EvictionTest, ReaderOfTwiceTheBudgetSeesCorrectDataAndPagerSeesReRequests) {
  CountingHandler handler;
  PagerLoop loop(1);
  ASSERT_EQ(loop.Start(), Status::kOk);
  const uint64_t base = Used();
  Limit(base + 16);
  Vmo vmo;
  ASSERT_EQ(loop.CreateVmo(0, P(32), &handler, &vmo), Status::kOk);
  std::vector<char> page(kPageSize);
  for (int pass = 0; pass < 2; ++pass) {
    for (uint64_t i = 0; i < 32; ++i) {
      ASSERT_EQ(vmo.Read(page.data(), P(i), kPageSize), Status::kOk);
      ASSERT_TRUE(UserPager::CheckPattern(1, i, 1, page.data())) << "page " << i;
    }
    EXPECT_LE(Used(), base + 16);
  }
  // Every page was asked for in the first pass, and evicted pages again in the second.
  EXPECT_GE(handler.pages_requested.load(), 32u + 16u);
  VmoInfo info{};
  ASSERT_EQ(vmo.GetInfo(&info), Status::kOk);
  EXPECT_LE(info.committed_bytes, P(16));
}

TEST_F(EvictionTest, DontNeedIsEvictedFirstAlwaysNeedNeverDirtyNever) {
  UserPager pager;
  auto vmo = pager.CreateVmo(8);
  ASSERT_TRUE(vmo);
  const uint64_t base = Used();
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 4), Status::kOk);  // pages 0-3, oldest first
  ASSERT_EQ(vmo->vmo.Write("d", P(3), 1), Status::kOk);   // page 3 Dirty
  ASSERT_EQ(vmo->vmo.OpRange(kVmoOpAlwaysNeed, 0, P(1)), Status::kOk);
  ASSERT_EQ(vmo->vmo.OpRange(kVmoOpDontNeed, P(2), P(1)), Status::kOk);
  Limit(base + 4);
  ASSERT_EQ(pager.SupplyPages(*vmo, 4, 1), Status::kOk);  // needs one page: page 2 goes
  std::vector<char> buf(kPageSize);
  for (uint64_t p : {0u, 1u, 3u, 4u}) {
    EXPECT_EQ(vmo->vmo.Read(buf.data(), P(p), kPageSize), Status::kOk);  // present
  }
  EXPECT_FALSE(pager.AnyPacket(kPoll));
  ASSERT_EQ(pager.SupplyPages(*vmo, 5, 1), Status::kOk);  // next oldest clean: page 1
  TestThread reader([&] { return vmo->vmo.Read(buf.data(), P(2), 1) == Status::kOk; });
  reader.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 2, 1));  // page 2 was evicted: asked again
  ASSERT_EQ(pager.SupplyPages(*vmo, 2, 1), Status::kOk);
  ASSERT_TRUE(reader.Wait());
  // Page 0 (always-need) and page 3 (dirty) survived everything.
  EXPECT_EQ(vmo->vmo.Read(buf.data(), P(0), kPageSize), Status::kOk);
  EXPECT_EQ(vmo->vmo.Read(buf.data(), P(3), 1), Status::kOk);
  EXPECT_EQ(buf[0], 'd');
  EXPECT_FALSE(pager.AnyPacket(kPoll));
}

// DONT_NEED moves a page to the front of the reclaim order but does not clear its
// always-need flag: it is still never evicted (15).
TEST_F(EvictionTest, DontNeedDoesNotClearAlwaysNeed) {
  UserPager pager;
  auto vmo = pager.CreateVmo(4);
  ASSERT_TRUE(vmo);
  const uint64_t base = Used();
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);  // pages 0-1, oldest first
  ASSERT_EQ(vmo->vmo.OpRange(kVmoOpAlwaysNeed, P(1), P(1)), Status::kOk);
  ASSERT_EQ(vmo->vmo.OpRange(kVmoOpDontNeed, 0, P(2)), Status::kOk);
  Limit(base + 2);
  ASSERT_EQ(pager.SupplyPages(*vmo, 2, 1), Status::kOk);  // one page must go: page 0
  ASSERT_EQ(pager.SupplyPages(*vmo, 3, 1), Status::kOk);  // and again: page 2, not page 1
  EXPECT_EQ(Used(), base + 2);

  std::vector<char> buf(kPageSize);
  ASSERT_EQ(vmo->vmo.Read(buf.data(), P(1), kPageSize), Status::kOk);  // present: no READ
  EXPECT_TRUE(UserPager::CheckPattern(vmo->key, 1, 1, buf.data()));
  EXPECT_FALSE(pager.AnyPacket(kPoll));
  for (uint64_t page : {0u, 2u}) {
    TestThread reader([&] { return vmo->vmo.Read(buf.data(), P(page), 1); });
    reader.Start();
    ASSERT_TRUE(pager.WaitForPageRead(*vmo, page, 1)) << "page " << page;  // evicted
    ASSERT_EQ(pager.SupplyPages(*vmo, page, 1), Status::kOk);
    ASSERT_TRUE(reader.Wait());
  }
  EXPECT_FALSE(pager.AnyPacket(kPoll));
}

// Eviction skips a page accessed since it was queued for reclaim: a page read after DONT_NEED
// put it first, or after it was supplied, is no longer the next to go (15).
TEST_F(EvictionTest, EvictionSkipsPagesAccessedSinceQueued) {
  UserPager pager;
  auto vmo = pager.CreateVmo(5);
  ASSERT_TRUE(vmo);
  const uint64_t base = Used();
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 3), Status::kOk);                 // pages 0-2, oldest first
  ASSERT_EQ(vmo->vmo.OpRange(kVmoOpDontNeed, P(1), P(1)), Status::kOk);  // order 1, 0, 2
  std::vector<char> buf(kPageSize);
  ASSERT_EQ(vmo->vmo.Read(buf.data(), P(1), 1), Status::kOk);  // accessed: order 0, 2, 1
  ASSERT_EQ(vmo->vmo.Read(buf.data(), P(0), 1), Status::kOk);  // accessed: order 2, 1, 0
  Limit(base + 3);
  ASSERT_EQ(pager.SupplyPages(*vmo, 3, 1), Status::kOk);  // one page must go: page 2
  EXPECT_EQ(Used(), base + 3);

  for (uint64_t page : {0u, 1u, 3u}) {
    ASSERT_EQ(vmo->vmo.Read(buf.data(), P(page), kPageSize), Status::kOk) << "page " << page;
    EXPECT_TRUE(UserPager::CheckPattern(vmo->key, page, 1, buf.data())) << "page " << page;
  }
  EXPECT_FALSE(pager.AnyPacket(kPoll));
  TestThread reader([&] { return vmo->vmo.Read(buf.data(), P(2), 1); });
  reader.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 2, 1));  // page 2 was evicted
  ASSERT_EQ(pager.SupplyPages(*vmo, 2, 1), Status::kOk);
  ASSERT_TRUE(reader.Wait());
  EXPECT_FALSE(pager.AnyPacket(kPoll));
}

TEST_F(EvictionTest, SupplierWaitsForMemoryUntilPagesCanBeEvicted) {
  UserPager pager;
  auto vmo = pager.CreateVmo(4);
  ASSERT_TRUE(vmo);
  const uint64_t base = Used();
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  ASSERT_EQ(vmo->vmo.Write("ab", 0, 2), Status::kOk);
  ASSERT_EQ(vmo->vmo.Write("cd", P(1), 2), Status::kOk);  // both pages Dirty
  Limit(base + 2);
  std::future<Status> supplier =
      std::async(std::launch::async, [&] { return pager.SupplyPages(*vmo, 2, 1); });
  ASSERT_TRUE(PollUntil([] { return PageBudget::Default().waiters() == 1; }));
  EXPECT_EQ(supplier.wait_for(std::chrono::milliseconds(20)), std::future_status::timeout);
  // Writing page 0 back makes it clean, hence evictable: the supplier proceeds.
  ASSERT_EQ(pager.WritebackBeginPages(*vmo, 0, 1), Status::kOk);
  ASSERT_EQ(pager.WritebackEndPages(*vmo, 0, 1), Status::kOk);
  EXPECT_EQ(supplier.get(), Status::kOk);
  EXPECT_LE(Used(), base + 2);
  char c = 0;
  ASSERT_EQ(vmo->vmo.Read(&c, P(1), 1), Status::kOk);  // the dirty page is still there
  EXPECT_EQ(c, 'c');
}

TEST_F(EvictionTest, WriterWaitsWhileTheBudgetIsExceededByDirtyPages) {
  UserPager pager;
  auto vmo = pager.CreateVmo(4, kVmoResizable);
  ASSERT_TRUE(vmo);
  const uint64_t base = Used();
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  ASSERT_EQ(vmo->vmo.Write("ab", 0, 2), Status::kOk);
  ASSERT_EQ(vmo->vmo.Write("cd", P(1), 2), Status::kOk);  // both pages Dirty
  Limit(base + 1);                                        // now over the budget
  std::future<Status> writer = std::async(std::launch::async, [&] {
    return vmo->vmo.Write("e", P(1) + 5, 1);  // waits for memory before it may commit
  });
  ASSERT_TRUE(PollUntil([] { return PageBudget::Default().waiters() == 1; }));
  // Shrinking drops page 1: memory is freed and the writer goes on (and finds the VMO
  // shorter).
  ASSERT_EQ(vmo->vmo.SetSize(P(1)), Status::kOk);
  EXPECT_EQ(writer.get(), Status::kOutOfRange);
  EXPECT_LE(Used(), base + 1);
}

TEST_F(EvictionTest, DestroyingAVmoReturnsItsPages) {
  UserPager pager;
  const uint64_t base = Used();
  {
    auto vmo = pager.CreateVmo(8);
    ASSERT_EQ(pager.SupplyPages(*vmo, 0, 8), Status::kOk);
    EXPECT_EQ(Used(), base + 8);
  }
  EXPECT_EQ(Used(), base);
}

}  // namespace
}  // namespace upager::testing

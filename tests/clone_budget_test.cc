// Forked pages and the memory budget (docs/clones.md, Memory): a page a read-through clone
// owns (a fork, a committed copy) is charged to the process's PageBudget like its root's
// pages, released when the clone lets it go, and never evicted; making room for it evicts the
// root's clean pages, oldest first. A Vmo::Write on a clone waits for memory as a write on
// its root does; a store through a mapping never waits (it evicts what it can).
// Section numbers refer to docs/zircon-semantics.md.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "pager_vmar_util.h"
#include "test_util.h"
#include "upager/mapping.h"
#include "upager/page_budget.h"
#include "upager/vmo.h"
#include "user_pager.h"

namespace upager::testing {
namespace {

class CloneBudgetTest : public ::testing::Test {
 protected:
  void Limit(uint64_t pages) { PageBudget::Default().SetLimit(pages); }
  void TearDown() override { PageBudget::Default().SetLimit(PageBudget::kUnlimited); }
  uint64_t Used() { return PageBudget::Default().used(); }
};

std::unique_ptr<TestVmo> Clone(const TestVmo& parent, uint64_t pages, uint32_t extra = 0) {
  auto child = std::make_unique<TestVmo>();
  child->key = parent.key;
  if (parent.vmo.CreateChild(kVmoChildSnapshotAtLeastOnWrite | extra, 0, P(pages), &child->vmo) !=
      Status::kOk) {
    return nullptr;
  }
  return child;
}

uint64_t Committed(const Vmo& vmo) {
  VmoInfo info{};
  EXPECT_EQ(vmo.GetInfo(&info), Status::kOk);
  return info.committed_bytes;
}

// Reading `page` of the root asks the pager for it again (it was evicted), and gets it.
bool RootAsksAgainFor(UserPager& pager, const TestVmo& vmo, uint64_t page) {
  std::vector<char> buf(kPageSize);
  TestThread reader([&] {
    return vmo.vmo.Read(buf.data(), P(page), kPageSize) == Status::kOk &&
           UserPager::CheckPattern(vmo.key, page, 1, buf.data());
  });
  reader.Start();
  if (!pager.WaitForPageRead(vmo, page, 1)) return false;
  if (pager.SupplyPages(vmo, page, 1) != Status::kOk) return false;
  return reader.Wait();
}

TEST_F(CloneBudgetTest, ForksAreChargedAndReleasedWithTheClone) {
  UserPager pager;
  auto vmo = pager.CreateVmo(8);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 8), Status::kOk);
  const uint64_t base = Used();
  auto clone = Clone(*vmo, 8);
  ASSERT_NE(clone, nullptr);
  EXPECT_EQ(Used(), base);  // unforked pages are the root's
  for (uint64_t page : {1u, 2u, 6u}) {
    ASSERT_EQ(clone->vmo.Write("x", P(page), 1), Status::kOk);
  }
  EXPECT_EQ(Used(), base + 3);
  EXPECT_EQ(Committed(clone->vmo), P(3));
  ASSERT_EQ(clone->vmo.Write("y", P(2) + 7, 1), Status::kOk);  // a forked page again
  EXPECT_EQ(Used(), base + 3);
  clone.reset();
  EXPECT_EQ(Used(), base);
  EXPECT_EQ(Committed(vmo->vmo), P(8));
}

// Making room for a fork evicts the root's oldest clean page; the fork itself never goes.
TEST_F(CloneBudgetTest, AForkEvictsTheRootsOldestCleanPage) {
  UserPager pager;
  auto vmo = pager.CreateVmo(4);
  ASSERT_NE(vmo, nullptr);
  for (uint64_t page = 0; page < 4; ++page) {  // supplied in order: page 0 is the oldest
    ASSERT_EQ(pager.SupplyPages(*vmo, page, 1), Status::kOk);
  }
  auto clone = Clone(*vmo, 4);
  ASSERT_NE(clone, nullptr);
  Limit(Used());
  ASSERT_EQ(clone->vmo.Write("f", P(3), 1), Status::kOk);
  EXPECT_EQ(Committed(vmo->vmo), P(3));
  EXPECT_EQ(Committed(clone->vmo), P(1));
  EXPECT_TRUE(RootAsksAgainFor(pager, *vmo, 0));  // evicted: and page 1 goes for it now
  EXPECT_EQ(Committed(vmo->vmo), P(3));
  char byte = 0;
  ASSERT_EQ(clone->vmo.Read(&byte, P(3), 1), Status::kOk);
  EXPECT_EQ(byte, 'f');  // the fork stayed
}

// A store through a mapping of the clone forks the page, charged and making room the same
// way, without waiting.
TEST_F(CloneBudgetTest, AStoreThroughAMappedCloneChargesItsFork) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(4);
  ASSERT_NE(vmo, nullptr);
  for (uint64_t page = 0; page < 4; ++page) {
    ASSERT_EQ(pager.SupplyPages(*vmo, page, 1), Status::kOk);
  }
  auto clone = Clone(*vmo, 4);
  ASSERT_NE(clone, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*clone, &map), Status::kOk);
  const uint64_t base = Used();
  ASSERT_TRUE(ProbeStore(map.data() + P(2), 0xf0f0).ok);
  EXPECT_EQ(Used(), base + 1);
  EXPECT_EQ(Committed(clone->vmo), P(1));
  Limit(Used());
  ASSERT_TRUE(ProbeStore(map.data() + P(1), 0x0f0f).ok);
  EXPECT_EQ(Used(), base + 1);  // the root's page 0 went for it
  EXPECT_EQ(Committed(vmo->vmo), P(3));
  EXPECT_TRUE(RootAsksAgainFor(pager, *vmo, 0));
  uint64_t word = 0;
  ASSERT_EQ(clone->vmo.Read(&word, P(2), sizeof(word)), Status::kOk);
  EXPECT_EQ(word, 0xf0f0u);
  ASSERT_EQ(clone->vmo.Read(&word, P(1), sizeof(word)), Status::kOk);
  EXPECT_EQ(word, 0x0f0fu);
}

// Forks survive the root's detach (16) and stay charged until the clone goes; a shrink of
// the clone releases the forks it cuts.
TEST_F(CloneBudgetTest, ForksStayChargedAfterDetachAndGoWithAShrink) {
  UserPager pager;
  auto vmo = pager.CreateVmo(4);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 4), Status::kOk);
  auto clone = Clone(*vmo, 4, kVmoChildResizable);
  ASSERT_NE(clone, nullptr);
  ASSERT_EQ(clone->vmo.Write("ab", P(0), 2), Status::kOk);
  ASSERT_EQ(clone->vmo.Write("cd", P(3), 2), Status::kOk);
  ASSERT_EQ(pager.DetachVmo(*vmo), Status::kOk);
  const uint64_t after_detach = Used();  // the root's clean pages are gone
  EXPECT_EQ(Committed(clone->vmo), P(2));
  ASSERT_EQ(clone->vmo.SetSize(P(2)), Status::kOk);
  EXPECT_EQ(Used(), after_detach - 1);
  char bytes[2] = {};
  ASSERT_EQ(clone->vmo.Read(bytes, 0, 2), Status::kOk);
  EXPECT_EQ(bytes[0], 'a');
  EXPECT_EQ(bytes[1], 'b');
  clone.reset();
  EXPECT_EQ(Used(), after_detach - 2);
}

// With nothing left to evict and the budget already exceeded, a Vmo::Write on the clone
// waits for memory, as a write on the root does, and goes on once the limit is raised.
TEST_F(CloneBudgetTest, AWriteWaitsForMemoryWhenNothingCanBeEvicted) {
  UserPager pager;
  auto vmo = pager.CreateVmo(4);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 4), Status::kOk);
  ASSERT_EQ(vmo->vmo.OpRange(kVmoOpAlwaysNeed, 0, P(4)), Status::kOk);  // never evicted
  auto clone = Clone(*vmo, 4);
  ASSERT_NE(clone, nullptr);
  const uint64_t base = Used();
  Limit(base);
  // Not over the limit yet: the fork goes over it, there being nothing to evict.
  ASSERT_EQ(clone->vmo.Write("1", P(0), 1), Status::kOk);
  EXPECT_EQ(Used(), base + 1);
  EXPECT_EQ(Committed(vmo->vmo), P(4));
  TestThread writer([&] { return clone->vmo.Write("2", P(1), 1); });
  writer.Start();
  ASSERT_TRUE(PollUntil([] { return PageBudget::Default().waiters() == 1; }));
  EXPECT_EQ(Committed(clone->vmo), P(1));  // nothing forked while it waits
  Limit(base + 2);
  ASSERT_TRUE(writer.Wait());
  EXPECT_EQ(Used(), base + 2);
  char byte = 0;
  ASSERT_EQ(clone->vmo.Read(&byte, P(1), 1), Status::kOk);
  EXPECT_EQ(byte, '2');
}

}  // namespace
}  // namespace upager::testing

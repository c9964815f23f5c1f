// Pages dropped in runs (detach, eviction): runs of clean pages go with one hole punch, and
// the slots interleaved with them (Dirty, AwaitingClean, zero markers, dirty zero ranges,
// absent, always-need, other VMOs' pages) come out exactly as one page at a time would
// leave them. Every test checks each page's state three ways: what the pager can query
// (dirty ranges, committed bytes), what a read returns (content, kBadState, or a READ
// request), and whether the VMO's storage still holds the page.
// Section numbers refer to docs/zircon-semantics.md.
#include <gtest/gtest.h>
#include <unistd.h>

#include <set>
#include <vector>

#include "base/handle_access.h"
#include "skip.h"
#include "upager/mapping.h"
#include "upager/page_budget.h"
#include "user_pager.h"
#include "vm/vm_object_paged.h"

namespace upager::testing {
namespace {

constexpr uint64_t P(uint64_t pages) { return pages * kPageSize; }
constexpr std::chrono::milliseconds kPoll{0};
constexpr uint64_t kDirtyBytes = 100;  // written at the start of a page to dirty it

// The pages of `vmo`'s storage that hold data (not holes).
std::set<uint64_t> StoredPages(const Vmo& vmo, uint64_t pages) {
  const int fd = internal::HandleAccess::Object(vmo)->memfd();
  std::set<uint64_t> stored;
  for (uint64_t page = 0; page < pages; ++page) {
    if (lseek(fd, static_cast<off_t>(P(page)), SEEK_DATA) == static_cast<off_t>(P(page))) {
      stored.insert(page);
    }
  }
  return stored;
}

uint64_t Committed(const TestVmo& vmo) {
  VmoInfo info{};
  vmo.vmo.GetInfo(&info);
  return info.committed_bytes;
}

// The content a dirtied page has: the pattern, its first bytes overwritten.
std::vector<char> DirtiedPage(const TestVmo& vmo, uint64_t page) {
  std::vector<char> data(kPageSize);
  UserPager::Pattern(vmo.key, page, data.data());
  for (uint64_t i = 0; i < kDirtyBytes; ++i) data[i] = static_cast<char>('A' + page + i);
  return data;
}

Status Dirty(const TestVmo& vmo, uint64_t page) {
  const std::vector<char> data = DirtiedPage(vmo, page);
  return vmo.vmo.Write(data.data(), P(page), kDirtyBytes);
}

Status SupplyZeroPages(UserPager& pager, const TestVmo& vmo, uint64_t first, uint64_t count) {
  Vmo aux;  // nothing committed: the supply leaves zero markers (10.1)
  if (Status s = Vmo::Create(P(count), 0, &aux); s != Status::kOk) return s;
  return pager.pager().SupplyPages(vmo.vmo, P(first), P(count), aux, 0);
}

// Builds, over 20 pages, clean runs interleaved with every other kind of slot:
//   0-2 clean, 3 Dirty, 4 absent, 5-6 clean, 7 AwaitingClean, 8 marker, 9 clean,
//   10-11 dirty zero range, 12 Dirty, 13 clean, 14 absent, 15 clean, 16 marker, 17 Dirty,
//   18 absent, 19 clean.
constexpr uint64_t kMixedPages = 20;
void BuildMixed(UserPager& pager, const TestVmo& vmo) {
  for (auto [first, count] : std::vector<std::pair<uint64_t, uint64_t>>{
           {0, 4}, {5, 3}, {9, 5}, {15, 1}, {17, 1}, {19, 1}}) {
    ASSERT_EQ(pager.SupplyPages(vmo, first, count), Status::kOk);
  }
  ASSERT_EQ(SupplyZeroPages(pager, vmo, 8, 1), Status::kOk);
  ASSERT_EQ(SupplyZeroPages(pager, vmo, 16, 1), Status::kOk);
  for (uint64_t page : {3u, 7u, 12u, 17u}) ASSERT_EQ(Dirty(vmo, page), Status::kOk);
  ASSERT_EQ(pager.WritebackBeginPages(vmo, 7, 1), Status::kOk);
  ASSERT_EQ(vmo.vmo.OpRange(kVmoOpZero, P(10), P(2)), Status::kOk);
  ASSERT_TRUE(DirtyRangesAre(
      pager, vmo, {{3, 1, 0}, {7, 1, 0}, {10, 2, kVmoDirtyRangeIsZero}, {12, 1, 0}, {17, 1, 0}}));
  ASSERT_EQ(Committed(vmo), P(13));  // 0-3, 5-7, 9, 12-13, 15, 17, 19
}

// After a detach of the mixed layout: Dirty and AwaitingClean pages and the zero range are
// all that is left (9.2), with their content, in storage; everything else is a hole (but
// for zero pages a mapping's faults installed: `stored`).
void ExpectDetachedMixed(UserPager& pager, const TestVmo& vmo,
                         const std::set<uint64_t>& stored = {3, 7, 12, 17}) {
  EXPECT_TRUE(DirtyRangesAre(
      pager, vmo, {{3, 1, 0}, {7, 1, 0}, {10, 2, kVmoDirtyRangeIsZero}, {12, 1, 0}, {17, 1, 0}}));
  EXPECT_EQ(Committed(vmo), P(4));
  EXPECT_EQ(StoredPages(vmo.vmo, kMixedPages), stored);
  std::vector<char> buf(kPageSize);
  for (uint64_t page = 0; page < kMixedPages; ++page) {
    const Status s = vmo.vmo.Read(buf.data(), P(page), kPageSize);
    if (page == 3 || page == 7 || page == 12 || page == 17) {
      ASSERT_EQ(s, Status::kOk) << "page " << page;
      EXPECT_EQ(buf, DirtiedPage(vmo, page)) << "page " << page;
    } else if (page == 10 || page == 11) {
      ASSERT_EQ(s, Status::kOk) << "page " << page;
      EXPECT_EQ(buf, std::vector<char>(kPageSize, 0)) << "page " << page;
    } else {
      EXPECT_EQ(s, Status::kBadState) << "page " << page;
    }
  }
}

TEST(RunDropTest, DetachOfMixedRunsKeepsExactlyTheDirtySlots) {
  UserPager pager;
  auto vmo = pager.CreateVmo(kMixedPages);
  ASSERT_TRUE(vmo);
  BuildMixed(pager, *vmo);
  if (HasFatalFailure()) return;
  EXPECT_EQ(StoredPages(vmo->vmo, kMixedPages),
            (std::set<uint64_t>{0, 1, 2, 3, 5, 6, 7, 9, 12, 13, 15, 17, 19}));

  ASSERT_EQ(pager.DetachVmo(*vmo), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageComplete(vmo->key));
  ExpectDetachedMixed(pager, *vmo);
  EXPECT_FALSE(pager.AnyPacket(kPoll));
}

// The same while mapped: the hole punches drop the clean pages from the mapping and leave
// the dirty ones in it (a dropped dirty page would come back as zeros).
TEST(RunDropTest, DetachOfMixedRunsWhileMappedKeepsDirtyPagesMapped) {
  std::string why;
  if (MappingSupport(&why) != Status::kOk) UPAGER_SKIP_OR_FAIL(why);
  UserPager pager;
  auto vmo = pager.CreateVmo(kMixedPages);
  ASSERT_TRUE(vmo);
  Mapping map;
  ASSERT_EQ(Mapping::Create(vmo->vmo, 0, P(kMixedPages), kMapRead | kMapWrite, &map), Status::kOk);
  BuildMixed(pager, *vmo);
  if (HasFatalFailure()) return;
  const auto* mapped = reinterpret_cast<const char*>(map.data());
  // Dirty pages read through the mapping before the detach, and a store through it.
  for (uint64_t page : {3u, 12u}) {
    EXPECT_EQ(std::vector<char>(mapped + P(page), mapped + P(page + 1)), DirtiedPage(*vmo, page));
  }
  reinterpret_cast<volatile char*>(map.data())[P(17)] =
      static_cast<char>('A' + 17);  // the byte it holds already

  ASSERT_EQ(pager.DetachVmo(*vmo), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageComplete(vmo->key));
  for (uint64_t page : {3u, 7u, 12u, 17u}) {
    EXPECT_EQ(std::vector<char>(mapped + P(page), mapped + P(page + 1)), DirtiedPage(*vmo, page))
        << "page " << page;
  }
  for (uint64_t page : {10u, 11u}) {
    EXPECT_EQ(std::vector<char>(mapped + P(page), mapped + P(page + 1)),
              std::vector<char>(kPageSize, 0))
        << "page " << page;
  }
  // Those reads of the zero range installed zero pages, in storage too.
  ExpectDetachedMixed(pager, *vmo, {3, 7, 10, 11, 12, 17});
  EXPECT_FALSE(pager.AnyPacket(kPoll));
}

class RunEvictionTest : public ::testing::Test {
 protected:
  void Limit(uint64_t pages) { PageBudget::Default().SetLimit(pages); }
  void TearDown() override { PageBudget::Default().SetLimit(PageBudget::kUnlimited); }
  uint64_t Used() { return PageBudget::Default().used(); }
  // Brings the budget back under its limit now (a commit of present pages evicts first,
  // and asks the pager for nothing).
  void Reclaim(const TestVmo& vmo, uint64_t present_page) {
    ASSERT_EQ(vmo.vmo.OpRange(kVmoOpCommit, P(present_page), P(1)), Status::kOk);
  }
  // Reading `page` asks the pager for it (it was evicted); the read then completes.
  void ExpectEvicted(UserPager& pager, const TestVmo& vmo, uint64_t page) {
    std::vector<char> buf(kPageSize);
    TestThread reader([&] { return vmo.vmo.Read(buf.data(), P(page), kPageSize); });
    reader.Start();
    ASSERT_TRUE(pager.WaitForPageRead(vmo, page, 1)) << "page " << page;
    ASSERT_EQ(pager.SupplyPages(vmo, page, 1), Status::kOk);
    ASSERT_TRUE(reader.Wait());
    EXPECT_TRUE(UserPager::CheckPattern(vmo.key, page, 1, buf.data())) << "page " << page;
  }
};

// Evicting many pages at once takes exactly the pages one-at-a-time eviction would (oldest
// first, DONT_NEED first, never Dirty, AwaitingClean or always-need) and punches only them.
TEST_F(RunEvictionTest, BatchEvictsExactlyTheOldestCleanPagesOfMixedRuns) {
  UserPager pager;
  auto vmo = pager.CreateVmo(16);
  ASSERT_TRUE(vmo);
  const uint64_t base = Used();
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 16), Status::kOk);  // reclaim order 0..15
  for (uint64_t page : {2u, 5u, 6u, 11u}) ASSERT_EQ(Dirty(*vmo, page), Status::kOk);
  ASSERT_EQ(pager.WritebackBeginPages(*vmo, 11, 1), Status::kOk);  // 11 AwaitingClean
  ASSERT_EQ(vmo->vmo.OpRange(kVmoOpAlwaysNeed, P(9), P(1)), Status::kOk);
  ASSERT_EQ(vmo->vmo.OpRange(kVmoOpDontNeed, P(13), P(1)), Status::kOk);
  // Order now: 13, 0, 1, 3, 4, 7, 8, 10, 12, 14, 15 (2, 5, 6, 11 dirty, 9 always-need).
  ASSERT_EQ(Used(), base + 16);
  Limit(base + 9);
  Reclaim(*vmo, 2);  // 7 pages must go: 13, 0, 1, 3, 4, 7, 8
  EXPECT_EQ(Used(), base + 9);
  EXPECT_EQ(Committed(*vmo), P(9));
  const std::set<uint64_t> kept{2, 5, 6, 9, 10, 11, 12, 14, 15};
  EXPECT_EQ(StoredPages(vmo->vmo, 16), kept);
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{2, 1, 0}, {5, 2, 0}, {11, 1, 0}}));
  std::vector<char> buf(kPageSize);
  for (uint64_t page : kept) {
    ASSERT_EQ(vmo->vmo.Read(buf.data(), P(page), kPageSize), Status::kOk) << "page " << page;
    if (page == 2 || page == 5 || page == 6 || page == 11) {
      EXPECT_EQ(buf, DirtiedPage(*vmo, page)) << "page " << page;
    } else {
      EXPECT_TRUE(UserPager::CheckPattern(vmo->key, page, 1, buf.data())) << "page " << page;
    }
  }
  EXPECT_FALSE(pager.AnyPacket(kPoll));  // none of those reads needed the pager
  Limit(PageBudget::kUnlimited);
  for (uint64_t page : {0u, 1u, 3u, 4u, 7u, 8u, 13u}) {
    ExpectEvicted(pager, *vmo, page);
    if (HasFatalFailure()) return;
  }
  EXPECT_FALSE(pager.AnyPacket(kPoll));
}

// A batch stops at the first page of another VMO in the reclaim order: the pages that go
// are the oldest ones whichever VMO they belong to.
TEST_F(RunEvictionTest, BatchFollowsTheOrderAcrossVmos) {
  UserPager pager;
  auto a = pager.CreateVmo(8);
  auto b = pager.CreateVmo(4);
  ASSERT_TRUE(a && b);
  const uint64_t base = Used();
  ASSERT_EQ(pager.SupplyPages(*a, 0, 4), Status::kOk);
  ASSERT_EQ(pager.SupplyPages(*b, 0, 4), Status::kOk);
  ASSERT_EQ(pager.SupplyPages(*a, 4, 4), Status::kOk);  // order: a0-3, b0-3, a4-7
  Limit(base + 6);
  Reclaim(*a, 7);  // 6 must go: a0-3, b0-1
  EXPECT_EQ(Used(), base + 6);
  EXPECT_EQ(StoredPages(a->vmo, 8), (std::set<uint64_t>{4, 5, 6, 7}));
  EXPECT_EQ(StoredPages(b->vmo, 4), (std::set<uint64_t>{2, 3}));
  EXPECT_EQ(Committed(*a), P(4));
  EXPECT_EQ(Committed(*b), P(2));
  std::vector<char> buf(P(4));
  ASSERT_EQ(a->vmo.Read(buf.data(), P(4), P(4)), Status::kOk);
  EXPECT_TRUE(UserPager::CheckPattern(a->key, 4, 4, buf.data()));
  ASSERT_EQ(b->vmo.Read(buf.data(), P(2), P(2)), Status::kOk);
  EXPECT_TRUE(UserPager::CheckPattern(b->key, 2, 2, buf.data()));
  EXPECT_FALSE(pager.AnyPacket(kPoll));
  Limit(PageBudget::kUnlimited);
  for (uint64_t page : {0u, 3u}) {
    ExpectEvicted(pager, *a, page);
    if (HasFatalFailure()) return;
  }
  ExpectEvicted(pager, *b, 1);
}

// Destroying a pager-backed VMO returns every real page to the budget at once.
TEST_F(RunEvictionTest, DestroyingAVmoWithMixedPagesReturnsEveryPage) {
  UserPager pager;
  const uint64_t base = Used();
  {
    auto vmo = pager.CreateVmo(kMixedPages);
    ASSERT_TRUE(vmo);
    BuildMixed(pager, *vmo);
    if (HasFatalFailure()) return;
    EXPECT_EQ(Used(), base + 13);
  }
  EXPECT_EQ(Used(), base);
}

// Decommit drops the whole range of an anonymous VMO, and nothing outside it.
TEST(RunDropTest, DecommitDropsTheRangeOnly) {
  Vmo vmo;
  ASSERT_EQ(Vmo::Create(P(8), 0, &vmo), Status::kOk);
  const std::vector<char> data(P(8), 'x');
  ASSERT_EQ(vmo.Write(data.data(), 0, data.size()), Status::kOk);
  ASSERT_EQ(vmo.OpRange(kVmoOpDecommit, P(2), P(5)), Status::kOk);
  VmoInfo info{};
  ASSERT_EQ(vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, P(3));
  EXPECT_EQ(StoredPages(vmo, 8), (std::set<uint64_t>{0, 1, 7}));
  std::vector<char> buf(P(8));
  ASSERT_EQ(vmo.Read(buf.data(), 0, buf.size()), Status::kOk);
  for (uint64_t i = 0; i < P(8); ++i) {
    ASSERT_EQ(buf[i], i >= P(2) && i < P(7) ? 0 : 'x') << "byte " << i;
  }
}

}  // namespace
}  // namespace upager::testing

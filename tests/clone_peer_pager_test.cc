// Clone entries of Zircon's pager.cc (zircon-peer-tests.md) that had no test of their own name
// or lacked their mapped variant: CloneResizeParentOK (a mapped test in Zircon), and the VMAR
// halves of the VMO_VMAR_TESTs CloneSimultaneousReadTest, CloneSimultaneousChildReadTest and
// CloneWriteToCloneTest (their Vmo halves are in clone_test.cc); and pager-writeback.cc's
// SliceWrite in full (both trap-dirty variants, a write through the slice and then a store
// through a mapping of it). Exact packets, statuses and bytes. (DecommitOnDetachTest's clone
// half is in pager_detach_test.cc and pager_vmar_detach_test.cc, with the rest of that test.)
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "pager_vmar_util.h"
#include "test_util.h"
#include "upager/mapping.h"
#include "upager/vmo.h"
#include "user_pager.h"

namespace upager::testing {
namespace {

std::unique_ptr<TestVmo> Clone(const TestVmo& parent, uint64_t pages) {
  auto child = std::make_unique<TestVmo>();
  child->key = parent.key;
  if (parent.vmo.CreateChild(kVmoChildSnapshotAtLeastOnWrite, 0, P(pages), &child->vmo) !=
      Status::kOk) {
    return nullptr;
  }
  return child;
}

VmoInfo Info(const TestVmo& vmo) {
  VmoInfo info{};
  EXPECT_EQ(vmo.vmo.GetInfo(&info), Status::kOk);
  return info;
}

std::vector<char> PatternPage(const TestVmo& vmo, uint64_t page) {
  std::vector<char> data(P(1));
  UserPager::Pattern(vmo.key, page, data.data());
  return data;
}

uint64_t PatternWord(const TestVmo& vmo, uint64_t page) {
  uint64_t word = 0;
  std::memcpy(&word, PatternPage(vmo, page).data(), sizeof(word));
  return word;
}

// Shrinking the parent to nothing under a mapped at-least-on-write clone: loads and stores
// through the clone's mapping still work (what the parent no longer has reads as zeros), and
// the store forks a zero page in the clone only.
TEST(Pager, CloneResizeParentOK) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2, kVmoResizable);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  auto clone = Clone(*vmo, 2);
  ASSERT_NE(clone, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*clone, &map), Status::kOk);
  uint64_t word = 0;
  ASSERT_TRUE(Load(map.data(), &word).ok);
  EXPECT_EQ(word, PatternWord(*vmo, 0));

  ASSERT_EQ(vmo->vmo.SetSize(0), Status::kOk);

  word = ~0ull;
  ASSERT_TRUE(Load(map.data(), &word).ok);
  EXPECT_EQ(word, 0u);
  ASSERT_TRUE(ProbeStore(map.data(), 0x5e7).ok);
  ASSERT_TRUE(Load(map.data(), &word).ok);
  EXPECT_EQ(word, 0x5e7u);

  std::vector<char> expected(P(2), 0);
  const uint64_t stored = 0x5e7;
  std::memcpy(expected.data(), &stored, sizeof(stored));
  std::vector<char> data(P(2));
  ASSERT_EQ(clone->vmo.Read(data.data(), 0, P(2)), Status::kOk);
  EXPECT_EQ(data, expected);
  EXPECT_TRUE(CheckMappedData(map, 0, 2, expected.data()));
  EXPECT_EQ(Info(*clone).committed_bytes, P(1));
  EXPECT_EQ(Info(*vmo).committed_bytes, 0u);
  EXPECT_FALSE(pager.AnyPacket());
}

// Loads of the same absent page through the root's mapping and a clone's, both blocked,
// make one READ.
TEST(PagerVmar, CloneSimultaneousReadTestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  auto clone = Clone(*vmo, 1);
  ASSERT_NE(clone, nullptr);
  Mapping root_map;
  ASSERT_EQ(MapVmo(*vmo, &root_map), Status::kOk);
  Mapping clone_map;
  ASSERT_EQ(MapVmo(*clone, &clone_map), Status::kOk);

  TestThread t1([&] { return CheckMapped(root_map, *vmo, 0, 1); });
  TestThread t2([&] { return CheckMapped(clone_map, *vmo, 0, 1); });
  t1.Start();
  t2.Start();
  ASSERT_TRUE(t1.WaitForBlocked());
  ASSERT_TRUE(t2.WaitForBlocked());
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t1.Wait());
  ASSERT_TRUE(t2.Wait());
  EXPECT_FALSE(pager.AnyPacket());
  EXPECT_EQ(Info(*clone).committed_bytes, 0u);
}

// Loads of the same absent page through two sibling clones' mappings make one READ.
TEST(PagerVmar, CloneSimultaneousChildReadTestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  auto a = Clone(*vmo, 1);
  auto b = Clone(*vmo, 1);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  Mapping map_a;
  ASSERT_EQ(MapVmo(*a, &map_a), Status::kOk);
  Mapping map_b;
  ASSERT_EQ(MapVmo(*b, &map_b), Status::kOk);

  TestThread t1([&] { return CheckMapped(map_a, *vmo, 0, 1); });
  TestThread t2([&] { return CheckMapped(map_b, *vmo, 0, 1); });
  t1.Start();
  t2.Start();
  ASSERT_TRUE(t1.WaitForBlocked());
  ASSERT_TRUE(t2.WaitForBlocked());
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t1.Wait());
  ASSERT_TRUE(t2.Wait());
  EXPECT_FALSE(pager.AnyPacket());
  EXPECT_EQ(Info(*a).committed_bytes, 0u);
  EXPECT_EQ(Info(*b).committed_bytes, 0u);
}

// A store through a clone's mapping to an absent page: one READ on the root, then the page
// forks; the root's mapping keeps the supplied content, and the rest of the clone's page is
// the root's content.
TEST(PagerVmar, CloneWriteToCloneTestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  auto clone = Clone(*vmo, 1);
  ASSERT_NE(clone, nullptr);
  Mapping root_map;
  ASSERT_EQ(MapVmo(*vmo, &root_map), Status::kOk);
  Mapping clone_map;
  ASSERT_EQ(MapVmo(*clone, &clone_map), Status::kOk);

  TestThread t([&] { return ProbeStore(clone_map.data(), 0xdeadbeef).ok; });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());

  EXPECT_TRUE(CheckMapped(root_map, *vmo, 0, 1));
  uint64_t word = 0;
  ASSERT_TRUE(Load(clone_map.data(), &word).ok);
  EXPECT_EQ(word, 0xdeadbeefu);
  // Putting the pattern's word back makes the clone's page the pattern again.
  ASSERT_TRUE(ProbeStore(clone_map.data(), PatternWord(*vmo, 0)).ok);
  EXPECT_TRUE(CheckMapped(clone_map, *vmo, 0, 1));
  EXPECT_EQ(Info(*clone).committed_bytes, P(1));
  EXPECT_EQ(Info(*vmo).committed_bytes, P(1));
  EXPECT_FALSE(pager.IsModified(*vmo));
  EXPECT_FALSE(pager.AnyPacket());
}

// Writes through a slice, with Vmo::Write and then with a store through a mapping of the
// slice, are the parent's: its DIRTY request when it traps them, its modified flag, its dirty
// range; the pager's queries on the slice itself fail.
void SliceWriteTest(uint32_t create_option) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  EXPECT_TRUE(pager.DirtyRanges(*vmo).empty());
  EXPECT_FALSE(pager.IsModified(*vmo));
  TestVmo slice;
  slice.key = vmo->key;
  ASSERT_EQ(vmo->vmo.CreateChild(kVmoChildSlice, 0, P(1), &slice.vmo), Status::kOk);
  const bool trap = (create_option & kVmoTrapDirty) != 0;
  std::vector<char> expected = PatternPage(*vmo, 0);

  auto check_written = [&](char byte) {
    EXPECT_TRUE(pager.IsModified(*vmo));
    EXPECT_FALSE(pager.IsModified(*vmo));  // the query reset it
    expected[0] = byte;
    std::vector<char> data(P(1));
    ASSERT_EQ(vmo->vmo.Read(data.data(), 0, P(1)), Status::kOk);
    EXPECT_EQ(data, expected);
    const std::vector<VmoDirtyRange> dirty = pager.DirtyRanges(*vmo);
    ASSERT_EQ(dirty.size(), 1u);
    EXPECT_EQ(dirty[0].offset, 0u);
    EXPECT_EQ(dirty[0].length, 1u);
    EXPECT_EQ(dirty[0].options, 0u);
    PagerVmoStats stats{};
    EXPECT_EQ(pager.pager().QueryVmoStats(slice.vmo, 0, &stats, sizeof(stats)),
              Status::kInvalidArgs);
    size_t actual = 0;
    EXPECT_EQ(pager.pager().QueryDirtyRanges(slice.vmo, 0, P(1), nullptr, 0, &actual, nullptr),
              Status::kInvalidArgs);
  };

  const char direct = static_cast<char>(0xaa);
  TestThread t1([&] { return slice.vmo.Write(&direct, 0, 1) == Status::kOk; });
  t1.Start();
  if (trap) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
    ASSERT_EQ(pager.DirtyPages(*vmo, 0, 1), Status::kOk);
  }
  ASSERT_TRUE(t1.Wait());
  check_written(direct);

  ASSERT_EQ(pager.WritebackBeginPages(*vmo, 0, 1), Status::kOk);
  ASSERT_EQ(pager.WritebackEndPages(*vmo, 0, 1), Status::kOk);
  EXPECT_TRUE(pager.DirtyRanges(*vmo).empty());
  EXPECT_FALSE(pager.IsModified(*vmo));

  Mapping map;
  ASSERT_EQ(MapVmo(slice, &map), Status::kOk);
  const char mapped = static_cast<char>(0xbb);
  uint64_t word = 0;
  std::memcpy(&word, expected.data(), sizeof(word));
  std::memcpy(&word, &mapped, 1);  // the first byte, the rest of the word as it is
  TestThread t2([&] { return ProbeStore(map.data(), word).ok; });
  t2.Start();
  if (trap) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
    ASSERT_EQ(pager.DirtyPages(*vmo, 0, 1), Status::kOk);
  }
  ASSERT_TRUE(t2.Wait());
  check_written(mapped);
  EXPECT_FALSE(pager.AnyPacket());
}

TEST(PagerWriteback, SliceWriteTrapDirty) { SliceWriteTest(kVmoTrapDirty); }
TEST(PagerWriteback, SliceWriteNoTrapDirty) { SliceWriteTest(0); }

}  // namespace
}  // namespace upager::testing

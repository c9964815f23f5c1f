// Mappings of slices of clones, continued (clone_slice_vmar_test.cc has the overview): root
// eviction under a slice's mapping, concurrent stores, and a mapping keeping its slice.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstring>
#include <memory>
#include <vector>

#include "base/handle_access.h"
#include "clone_slice_util.h"
#include "pager_vmar_util.h"
#include "test_util.h"
#include "upager/mapping.h"
#include "upager/pager.h"
#include "upager/vmo.h"
#include "user_pager.h"
#include "vm/vm_object_paged.h"

namespace upager::testing {
namespace {

// The root evicting a clean page: the slice's mapping faults it back through the root (a
// READ on the root's key at the root's offset), while the clone's fork stays.
TEST(CloneSliceVmar, CloneReadAfterRootEvictionVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(4);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 4), Status::kOk);
  auto clone = Clone(*vmo, 1, 3);  // root pages 1..3
  ASSERT_NE(clone, nullptr);
  auto slice = Slice(*clone, 1, 2);  // clone pages 1..2: root pages 2..3
  ASSERT_NE(slice, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*slice, &map), Status::kOk);
  EXPECT_EQ(MappedPages(map, 0, 2), Pattern(*vmo, 2, 2));
  ASSERT_TRUE(ProbeStore(map.data() + P(1), 0x33).ok);
  ASSERT_TRUE(internal::HandleAccess::Object(vmo->vmo)->EvictPage(2));
  ASSERT_TRUE(internal::HandleAccess::Object(vmo->vmo)->EvictPage(3));

  std::vector<char> data;
  TestThread t([&] { return LoadMapped(map.data(), 0, 1, &data).ok; });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 2, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 2, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(data, Pattern(*vmo, 2, 1));
  EXPECT_EQ(MappedPages(map, 1, 1), WithWord(Pattern(*vmo, 3, 1), 0, 0x33));
  EXPECT_EQ(VmoPages(*clone, 2, 1), WithWord(Pattern(*vmo, 3, 1), 0, 0x33));
  EXPECT_FALSE(pager.AnyPacket());
}

// Threads storing at once to the unforked pages of a clone, through a slice's mapping, the
// clone's mapping and Vmo::Write on the slice: each page forks once and no store is lost;
// the root's mapping sees none of them.
TEST(CloneSliceVmar, ConcurrentStoresForkOnceVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  constexpr uint64_t kPages = 16;
  constexpr int kThreads = 3;
  UserPager pager;
  auto vmo = pager.CreateVmo(kPages + 1);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, kPages + 1), Status::kOk);
  auto clone = Clone(*vmo, 0, kPages + 1);
  ASSERT_NE(clone, nullptr);
  auto slice = Slice(*clone, 1, kPages);  // clone pages 1..kPages
  ASSERT_NE(slice, nullptr);
  Mapping root_map;
  ASSERT_EQ(MapVmo(*vmo, &root_map, kMapRead), Status::kOk);
  Mapping slice_map;
  ASSERT_EQ(MapVmo(*slice, &slice_map), Status::kOk);
  Mapping clone_map;
  ASSERT_EQ(MapVmo(*clone, &clone_map), Status::kOk);

  std::vector<std::unique_ptr<TestThread>> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.push_back(std::make_unique<TestThread>([&, i] {
      bool ok = true;
      for (uint64_t p = 0; p < kPages; ++p) {  // slice page p
        const uint64_t value = (p << 8) | static_cast<uint64_t>(i + 1);
        const uint64_t at = P(p) + 8 * static_cast<uint64_t>(i + 1);
        if (i == 0) {
          ok &= ProbeStore(slice_map.data() + at, value).ok;
        } else if (i == 1) {
          ok &= ProbeStore(clone_map.data() + P(1) + at, value).ok;
        } else {
          ok &= slice->vmo.Write(&value, at, sizeof(value)) == Status::kOk;
        }
      }
      return ok;
    }));
  }
  for (auto& t : threads) t->Start();
  for (auto& t : threads) ASSERT_TRUE(t->Wait());

  for (uint64_t p = 0; p < kPages; ++p) {
    std::vector<char> expected = Pattern(*vmo, p + 1, 1);
    for (int i = 0; i < kThreads; ++i) {
      expected = WithWord(expected, 8 * static_cast<uint64_t>(i + 1),
                          (p << 8) | static_cast<uint64_t>(i + 1));
    }
    EXPECT_EQ(MappedPages(slice_map, p, 1), expected) << "page " << p;
    EXPECT_EQ(MappedPages(clone_map, p + 1, 1), expected) << "page " << p;
    EXPECT_EQ(VmoPages(*clone, p + 1, 1), expected) << "page " << p;
  }
  VmoInfo info{};
  ASSERT_EQ(clone->vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, P(kPages));
  EXPECT_EQ(MappedPages(root_map, 0, kPages + 1), Pattern(*vmo, 0, kPages + 1));
  EXPECT_FALSE(pager.AnyPacket());
}

// A mapping keeps the VMO it was made of open, as Zircon's does: with a slice's handle
// closed, the slice lives on while mapped (its parent still counts it as a child), and a slice
// of a clone's mapping still maps the clone's pages and forks the clone's page; the slice goes
// with the mapping. The same for a slice of the root, mapped as the root.
TEST(CloneSliceVmar, MappingKeepsTheSlice) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  auto clone = Clone(*vmo, 0, 2);
  ASSERT_NE(clone, nullptr);
  auto slice = Slice(*clone, 1, 1);
  auto root_slice = Slice(*vmo, 1, 1);
  ASSERT_NE(slice, nullptr);
  ASSERT_NE(root_slice, nullptr);
  auto map = std::make_unique<Mapping>();
  ASSERT_EQ(MapVmo(*slice, map.get()), Status::kOk);
  auto root_map = std::make_unique<Mapping>();
  ASSERT_EQ(MapVmo(*root_slice, root_map.get(), kMapRead), Status::kOk);
  slice.reset();
  root_slice.reset();
  auto children = [](const TestVmo& node) {
    VmoInfo info{};
    EXPECT_EQ(node.vmo.GetInfo(&info), Status::kOk);
    return info.num_children;
  };
  EXPECT_EQ(children(*clone), 1u);
  EXPECT_EQ(children(*vmo), 2u);
  EXPECT_EQ(MappedPages(*map, 0, 1), Pattern(*vmo, 1, 1));
  EXPECT_EQ(MappedPages(*root_map, 0, 1), Pattern(*vmo, 1, 1));
  ASSERT_TRUE(ProbeStore(map->data(), 0x77).ok);
  EXPECT_EQ(Word(clone->vmo, P(1)), 0x77u);
  EXPECT_EQ(MappedPages(*root_map, 0, 1), Pattern(*vmo, 1, 1));
  map.reset();
  EXPECT_EQ(children(*clone), 0u);
  EXPECT_EQ(Word(clone->vmo, P(1)), 0x77u);
  root_map.reset();
  EXPECT_EQ(children(*vmo), 1u);
  EXPECT_FALSE(pager.AnyPacket());
}

}  // namespace
}  // namespace upager::testing

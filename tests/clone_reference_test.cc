// Reference children (kVmoChildReference, docs/clones.md): a reference is the whole parent
// under another koid. Reads, writes, ranges and mappings are the parent's own (its READ and
// DIRTY requests, its modified flag), the stream size is one for both, and the parent counts
// it as a child. Exact statuses, packets and bytes.
// Section numbers refer to docs/zircon-semantics.md.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "pager_vmar_util.h"
#include "test_util.h"
#include "upager/mapping.h"
#include "upager/pager.h"
#include "upager/rights.h"
#include "upager/vmo.h"
#include "user_pager.h"

namespace upager::testing {
namespace {

std::unique_ptr<TestVmo> Child(const TestVmo& parent, uint32_t options, Status* status = nullptr) {
  auto child = std::make_unique<TestVmo>();
  child->key = parent.key;
  const Status s = parent.vmo.CreateChild(options, 0, 0, &child->vmo);
  if (status != nullptr) *status = s;
  return s == Status::kOk ? std::move(child) : nullptr;
}

VmoInfo Info(const Vmo& vmo) {
  VmoInfo info{};
  EXPECT_EQ(vmo.GetInfo(&info), Status::kOk);
  return info;
}

// Zircon's rules: no range, nothing but RESIZABLE (and NO_WRITE, a handle property) with it,
// not of a slice, RESIZABLE only of a resizable VMO.
TEST(CloneReference, Arguments) {
  UserPager pager;
  auto vmo = pager.CreateVmo(4);
  ASSERT_NE(vmo, nullptr);
  Vmo out;
  EXPECT_EQ(vmo->vmo.CreateChild(kVmoChildReference, kPageSize, 0, &out), Status::kInvalidArgs);
  EXPECT_EQ(vmo->vmo.CreateChild(kVmoChildReference, 0, P(4), &out), Status::kInvalidArgs);
  EXPECT_EQ(vmo->vmo.CreateChild(kVmoChildReference | kVmoChildSnapshotAtLeastOnWrite, 0, 0, &out),
            Status::kInvalidArgs);
  EXPECT_EQ(vmo->vmo.CreateChild(kVmoChildReference | kVmoChildSlice, 0, 0, &out),
            Status::kInvalidArgs);
  EXPECT_EQ(vmo->vmo.CreateChild(kVmoChildReference | kVmoChildResizable, 0, 0, &out),
            Status::kNotSupported);  // the parent is not resizable
  Vmo slice;
  ASSERT_EQ(vmo->vmo.CreateChild(kVmoChildSlice, 0, P(2), &slice), Status::kOk);
  EXPECT_EQ(slice.CreateChild(kVmoChildReference, 0, 0, &out), Status::kNotSupported);
  EXPECT_FALSE(out.is_valid());

  Vmo reference;
  ASSERT_EQ(vmo->vmo.CreateChild(kVmoChildReference | kVmoChildNoWrite, 0, 0, &reference),
            Status::kOk);
  EXPECT_EQ(reference.rights() & kRightWrite, 0u);
  EXPECT_EQ(reference.Write("x", 0, 1), Status::kAccessDenied);
  Vmo writable;
  ASSERT_EQ(vmo->vmo.CreateChild(kVmoChildReference, 0, 0, &writable), Status::kOk);
  EXPECT_EQ(writable.rights(), vmo->vmo.rights() | kRightGetProperty | kRightSetProperty);
}

// A reference of a reference is allowed, and a slice of a reference.
TEST(CloneReference, ReferencesOfReferencesAndSlicesOfThem) {
  UserPager pager;
  auto vmo = pager.CreateVmo(4);
  ASSERT_NE(vmo, nullptr);
  auto reference = Child(*vmo, kVmoChildReference);
  ASSERT_NE(reference, nullptr);
  auto second = Child(*reference, kVmoChildReference);
  ASSERT_NE(second, nullptr);
  Vmo slice;
  ASSERT_EQ(second->vmo.CreateChild(kVmoChildSlice, P(1), P(2), &slice), Status::kOk);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 4), Status::kOk);
  std::vector<char> data(P(2));
  ASSERT_EQ(slice.Read(data.data(), 0, P(2)), Status::kOk);
  EXPECT_TRUE(UserPager::CheckPattern(vmo->key, 1, 2, data.data()));
  EXPECT_EQ(Info(second->vmo).parent_koid, reference->vmo.koid());
  EXPECT_EQ(Info(reference->vmo).num_children, 1u);
}

// Reads through a reference are the parent's: a READ on the parent's key, its exact range.
TEST(CloneReference, ReadIsTheParentsRead) {
  UserPager pager;
  auto vmo = pager.CreateVmo(4);
  ASSERT_NE(vmo, nullptr);
  auto reference = Child(*vmo, kVmoChildReference);
  ASSERT_NE(reference, nullptr);
  std::vector<char> data(P(2));
  TestThread reader([&] { return reference->vmo.Read(data.data(), P(1), P(2)); });
  reader.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 2));
  ASSERT_EQ(pager.SupplyPages(*vmo, 1, 2), Status::kOk);
  ASSERT_TRUE(reader.Wait());
  EXPECT_TRUE(UserPager::CheckPattern(vmo->key, 1, 2, data.data()));
  EXPECT_FALSE(pager.AnyPacket());
  // The pages are the parent's: committed there, none in the reference.
  EXPECT_EQ(Info(vmo->vmo).committed_bytes, P(2));
  EXPECT_EQ(Info(reference->vmo).committed_bytes, 0u);
}

// A write through a reference is the parent's write: its DIRTY request, its modified flag,
// its dirty range; the parent reads the bytes.
TEST(CloneReference, WriteIsTheParentsWrite) {
  UserPager pager;
  auto vmo = pager.CreateVmo(4, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 4), Status::kOk);
  auto reference = Child(*vmo, kVmoChildReference);
  ASSERT_NE(reference, nullptr);
  EXPECT_FALSE(pager.IsModified(*vmo));
  TestThread writer([&] { return reference->vmo.Write("ref", P(2) + 5, 3); });
  writer.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 2, 1));
  ASSERT_EQ(pager.DirtyPages(*vmo, 2, 1), Status::kOk);
  ASSERT_TRUE(writer.Wait());
  char bytes[3] = {};
  ASSERT_EQ(vmo->vmo.Read(bytes, P(2) + 5, 3), Status::kOk);
  EXPECT_EQ(std::string(bytes, 3), "ref");
  EXPECT_TRUE(pager.IsModified(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{2, 1, 0}}));
  // And the other way: the parent's write is the reference's content.
  ASSERT_EQ(vmo->vmo.Write("par", P(2), 3), Status::kOk);
  ASSERT_EQ(reference->vmo.Read(bytes, P(2), 3), Status::kOk);
  EXPECT_EQ(std::string(bytes, 3), "par");
}

// One stream size for the parent and its references, whichever sets it.
TEST(CloneReference, SharesTheStreamSize) {
  UserPager pager;
  auto vmo = pager.CreateVmo(4);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 4), Status::kOk);
  auto reference = Child(*vmo, kVmoChildReference);
  ASSERT_NE(reference, nullptr);
  uint64_t size = 0;
  ASSERT_EQ(reference->vmo.GetStreamSize(&size), Status::kOk);
  EXPECT_EQ(size, P(4));
  ASSERT_EQ(reference->vmo.SetStreamSize(P(2) + 100), Status::kOk);
  ASSERT_EQ(vmo->vmo.GetStreamSize(&size), Status::kOk);
  EXPECT_EQ(size, P(2) + 100);
  ASSERT_EQ(vmo->vmo.SetStreamSize(P(3)), Status::kOk);
  ASSERT_EQ(reference->vmo.GetStreamSize(&size), Status::kOk);
  EXPECT_EQ(size, P(3));
  // What the shrink cut was zeroed in the parent, as its own shrink does.
  std::vector<char> data(kPageSize);
  ASSERT_EQ(vmo->vmo.Read(data.data(), P(2), kPageSize), Status::kOk);
  std::vector<char> expected(kPageSize);
  UserPager::Pattern(vmo->key, 2, expected.data());
  std::fill(expected.begin() + 100, expected.end(), 0);
  EXPECT_EQ(data, expected);
  EXPECT_EQ(reference->vmo.SetStreamSize(P(5)), Status::kOutOfRange);  // not resizable
}

// Info: its own koid, the parent's koid, the parent's size, no pages; the parent counts it
// until it is gone.
TEST(CloneReference, Info) {
  UserPager pager;
  auto vmo = pager.CreateVmo(3);
  ASSERT_NE(vmo, nullptr);
  auto reference = Child(*vmo, kVmoChildReference);
  ASSERT_NE(reference, nullptr);
  const VmoInfo info = Info(reference->vmo);
  EXPECT_NE(reference->vmo.koid(), vmo->vmo.koid());
  EXPECT_EQ(info.parent_koid, vmo->vmo.koid());
  EXPECT_EQ(info.size_bytes, P(3));
  EXPECT_EQ(info.committed_bytes, 0u);
  EXPECT_EQ(Info(vmo->vmo).num_children, 1u);
  reference.reset();
  EXPECT_EQ(Info(vmo->vmo).num_children, 0u);
}

// A mapping of a reference is a mapping of the parent: the fault is the parent's READ, a
// store the parent's write.
TEST(CloneReference, MappingIsTheParentsMapping) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  auto reference = Child(*vmo, kVmoChildReference);
  ASSERT_NE(reference, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*reference, &map), Status::kOk);
  uint64_t word = 0;
  TestThread reader([&] { return Load(map.data() + P(1), &word).ok; });
  reader.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 1, 1), Status::kOk);
  ASSERT_TRUE(reader.Wait());
  std::vector<char> expected(kPageSize);
  UserPager::Pattern(vmo->key, 1, expected.data());
  EXPECT_EQ(std::memcmp(&word, expected.data(), sizeof word), 0);
  ASSERT_TRUE(ProbeStore(map.data() + P(1), 0x5eed).ok);
  ASSERT_EQ(vmo->vmo.Read(&word, P(1), sizeof word), Status::kOk);
  EXPECT_EQ(word, 0x5eedu);
  EXPECT_TRUE(pager.IsModified(*vmo));
}

// A copy-on-write child of a reference is made as one of the parent (its parent koid is the
// reference's): it reads through to the parent's pages and forks its own.
TEST(CloneReference, CloneOfAReference) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  auto reference = Child(*vmo, kVmoChildReference);
  ASSERT_NE(reference, nullptr);
  Vmo clone;
  ASSERT_EQ(reference->vmo.CreateChild(kVmoChildSnapshotAtLeastOnWrite, 0, P(2), &clone),
            Status::kOk);
  EXPECT_EQ(Info(clone).parent_koid, reference->vmo.koid());
  std::vector<char> data(P(2));
  ASSERT_EQ(clone.Read(data.data(), 0, P(2)), Status::kOk);
  EXPECT_TRUE(UserPager::CheckPattern(vmo->key, 0, 2, data.data()));
  ASSERT_EQ(clone.Write("c", 0, 1), Status::kOk);
  ASSERT_EQ(reference->vmo.Read(data.data(), 0, P(2)), Status::kOk);
  EXPECT_TRUE(UserPager::CheckPattern(vmo->key, 0, 2, data.data()));  // the parent unchanged
  EXPECT_FALSE(pager.IsModified(*vmo));
}

// A reference of a resizable VMO follows its resizes; only a reference created resizable may
// resize the parent through itself; a slice of it is refused as of its parent.
TEST(CloneReference, FollowsItsParentsResizes) {
  UserPager pager;
  auto vmo = pager.CreateVmo(4, kVmoResizable);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 4), Status::kOk);
  auto reference = Child(*vmo, kVmoChildReference);
  ASSERT_NE(reference, nullptr);
  auto resizer = Child(*vmo, kVmoChildReference | kVmoChildResizable);
  ASSERT_NE(resizer, nullptr);
  Vmo slice;
  EXPECT_EQ(reference->vmo.CreateChild(kVmoChildSlice, 0, P(1), &slice), Status::kNotSupported);

  ASSERT_EQ(vmo->vmo.SetSize(P(2)), Status::kOk);
  uint64_t size = 0;
  ASSERT_EQ(reference->vmo.GetSize(&size), Status::kOk);
  EXPECT_EQ(size, P(2));
  std::vector<char> data(kPageSize);
  EXPECT_EQ(reference->vmo.Read(data.data(), P(2), kPageSize), Status::kOutOfRange);

  EXPECT_EQ(reference->vmo.SetSize(P(3)), Status::kUnavailable);  // not created resizable
  ASSERT_EQ(resizer->vmo.SetSize(P(3)), Status::kOk);
  ASSERT_EQ(vmo->vmo.GetSize(&size), Status::kOk);
  EXPECT_EQ(size, P(3));
  ASSERT_EQ(vmo->vmo.GetStreamSize(&size), Status::kOk);
  EXPECT_EQ(size, P(3));
  ASSERT_EQ(reference->vmo.GetSize(&size), Status::kOk);
  EXPECT_EQ(size, P(3));
  // The grown page is the parent's dirty zero range: zeros through the reference, no READ.
  ASSERT_EQ(reference->vmo.Read(data.data(), P(2), kPageSize), Status::kOk);
  EXPECT_EQ(data, std::vector<char>(kPageSize, 0));
  ASSERT_EQ(reference->vmo.Read(data.data(), P(1), kPageSize), Status::kOk);
  EXPECT_TRUE(UserPager::CheckPattern(vmo->key, 1, 1, data.data()));
  EXPECT_FALSE(pager.AnyPacket());
}

// A copy-on-write child of a reference keeps what a shrink of the parent cut hidden for good,
// as a child of the parent itself does (16), while the reference sees the parent grow again.
TEST(CloneReference, CloneOfAReferenceKeepsTheCutForGood) {
  UserPager pager;
  auto vmo = pager.CreateVmo(4, kVmoResizable);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 4), Status::kOk);
  auto reference = Child(*vmo, kVmoChildReference);
  ASSERT_NE(reference, nullptr);
  Vmo clone;
  ASSERT_EQ(reference->vmo.CreateChild(kVmoChildSnapshotAtLeastOnWrite, 0, P(4), &clone),
            Status::kOk);
  ASSERT_EQ(vmo->vmo.SetSize(P(2)), Status::kOk);
  ASSERT_EQ(vmo->vmo.SetSize(P(4)), Status::kOk);
  ASSERT_EQ(vmo->vmo.Write("new", P(3), 3), Status::kOk);
  char bytes[3] = {};
  ASSERT_EQ(reference->vmo.Read(bytes, P(3), 3), Status::kOk);
  EXPECT_EQ(std::string(bytes, 3), "new");
  ASSERT_EQ(clone.Read(bytes, P(3), 3), Status::kOk);
  EXPECT_EQ(std::string(bytes, 3), std::string(3, '\0'));
  std::vector<char> data(kPageSize);
  ASSERT_EQ(clone.Read(data.data(), P(1), kPageSize), Status::kOk);
  EXPECT_TRUE(UserPager::CheckPattern(vmo->key, 1, 1, data.data()));
}

}  // namespace
}  // namespace upager::testing

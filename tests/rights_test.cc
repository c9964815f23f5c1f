// Rights on Vmo handles (issue 11): Zircon's values, what each handle is made with,
// Duplicate(rights) and Replace, every kAccessDenied check of the Vmo, Mapping and Pager calls
// in Zircon's check order (docs/zircon-semantics.md section 11), and koids.
#include "upager/rights.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <utility>
#include <vector>

#include "base/handle_access.h"
#include "mapping_util.h"
#include "mapping_word.h"
#include "pager_test_util.h"
#include "upager/mapping.h"
#include "upager/upager.h"
#include "user_pager.h"
#include "vm/vm_object_paged.h"

namespace upager::testing {
namespace {

constexpr uint32_t kReadOnly = kRightRead | kRightMap | kRightDuplicate;

// An anonymous VMO of `pages` pages whose page i starts with the word i + 1.
Vmo NumberedVmo(uint64_t pages, uint32_t options = 0) {
  Vmo vmo;
  EXPECT_EQ(Vmo::Create(P(pages), options, &vmo), Status::kOk);
  for (uint64_t i = 0; i < pages; ++i) {
    const uint64_t word = i + 1;
    EXPECT_EQ(vmo.Write(&word, P(i), sizeof(word)), Status::kOk);
  }
  return vmo;
}

uint64_t WordAt(const Vmo& vmo, uint64_t offset) {
  uint64_t word = ~0ull;
  EXPECT_EQ(vmo.Read(&word, offset, sizeof(word)), Status::kOk);
  return word;
}

Vmo WithRights(const Vmo& vmo, uint32_t rights) {
  Vmo out;
  EXPECT_EQ(vmo.Duplicate(rights, &out), Status::kOk);
  EXPECT_EQ(out.rights(), rights);
  return out;
}

TEST(Rights, ZirconValues) {
  EXPECT_EQ(kRightDuplicate, 0x1u);
  EXPECT_EQ(kRightTransfer, 0x2u);
  EXPECT_EQ(kRightRead, 0x4u);
  EXPECT_EQ(kRightWrite, 0x8u);
  EXPECT_EQ(kRightMap, 0x20u);
  EXPECT_EQ(kRightGetProperty, 0x40u);
  EXPECT_EQ(kRightSetProperty, 0x80u);
  EXPECT_EQ(kRightSignal, 0x1000u);
  EXPECT_EQ(kRightWait, 0x4000u);
  EXPECT_EQ(kRightInspect, 0x8000u);
  EXPECT_EQ(kRightSameRights, 0x80000000u);
  // ZX_DEFAULT_VMO_RIGHTS: basic, io, property, map and signal.
  EXPECT_EQ(kDefaultVmoRights, 0xd0efu);
}

TEST(Rights, HandlesAreMadeWithTheDefaultRights) {
  EXPECT_EQ(Vmo().rights(), 0u);
  Vmo anonymous;
  ASSERT_EQ(Vmo::Create(kPageSize, 0, &anonymous), Status::kOk);
  EXPECT_EQ(anonymous.rights(), kDefaultVmoRights);
  Vmo resizable;
  ASSERT_EQ(Vmo::Create(kPageSize, kVmoResizable, &resizable), Status::kOk);
  EXPECT_EQ(resizable.rights(), kDefaultVmoRights);
  UserPager pager;
  auto paged = pager.CreateVmo(1, kVmoTrapDirty | kVmoResizable);
  ASSERT_NE(paged, nullptr);
  EXPECT_EQ(paged->vmo.rights(), kDefaultVmoRights);
  // Every handle the library makes (PagerLoop's request handles among them).
  const Vmo made = internal::HandleAccess::Make<Vmo>(internal::HandleAccess::Object(anonymous));
  EXPECT_EQ(made.rights(), kDefaultVmoRights);
  Vmo dup;
  ASSERT_EQ(anonymous.Duplicate(&dup), Status::kOk);
  EXPECT_EQ(dup.rights(), kDefaultVmoRights);
}

TEST(Rights, DuplicateWithFewerRights) {
  Vmo vmo = NumberedVmo(2);
  Vmo reader;
  ASSERT_EQ(vmo.Duplicate(kRightRead | kRightMap, &reader), Status::kOk);
  EXPECT_EQ(reader.rights(), kRightRead | kRightMap);
  EXPECT_EQ(vmo.rights(), kDefaultVmoRights);  // the source keeps its rights
  EXPECT_EQ(reader.koid(), vmo.koid());
  EXPECT_EQ(WordAt(reader, P(1)), 2u);

  // Without kRightDuplicate: no handle, whatever the rights asked for; `out` untouched.
  Vmo keep;
  ASSERT_EQ(Vmo::Create(kPageSize, 0, &keep), Status::kOk);
  const uint64_t keep_koid = keep.koid();
  EXPECT_EQ(reader.Duplicate(kRightRead, &keep), Status::kAccessDenied);
  EXPECT_EQ(reader.Duplicate(kRightSameRights, &keep), Status::kAccessDenied);
  EXPECT_EQ(reader.Duplicate(&keep), Status::kAccessDenied);
  EXPECT_EQ(keep.koid(), keep_koid);

  // A right the handle lacks cannot be added back: kInvalidArgs, `out` untouched.
  Vmo narrow = WithRights(vmo, kRightRead | kRightDuplicate);
  EXPECT_EQ(narrow.Duplicate(kRightRead | kRightWrite, &keep), Status::kInvalidArgs);
  EXPECT_EQ(narrow.Duplicate(kRightMap, &keep), Status::kInvalidArgs);
  EXPECT_EQ(narrow.Duplicate(kDefaultVmoRights, &keep), Status::kInvalidArgs);
  // kRightSameRights is only itself: mixed with other rights it is a right nobody has.
  EXPECT_EQ(narrow.Duplicate(kRightSameRights | kRightRead, &keep), Status::kInvalidArgs);
  EXPECT_EQ(keep.koid(), keep_koid);
  EXPECT_EQ(narrow.Duplicate(kRightRead, nullptr), Status::kInvalidArgs);

  // A subset, the same rights, or none at all.
  Vmo same;
  ASSERT_EQ(narrow.Duplicate(kRightSameRights, &same), Status::kOk);
  EXPECT_EQ(same.rights(), kRightRead | kRightDuplicate);
  ASSERT_EQ(narrow.Duplicate(&same), Status::kOk);
  EXPECT_EQ(same.rights(), kRightRead | kRightDuplicate);
  Vmo none;
  ASSERT_EQ(narrow.Duplicate(kRightNone, &none), Status::kOk);
  EXPECT_TRUE(none.is_valid());
  EXPECT_EQ(none.rights(), 0u);
  EXPECT_EQ(none.koid(), vmo.koid());

  // Onto itself: the handle now has the rights asked for.
  ASSERT_EQ(narrow.Duplicate(kRightRead, &narrow), Status::kOk);
  EXPECT_EQ(narrow.rights(), kRightRead);

  EXPECT_EQ(Vmo().Duplicate(kRightRead, &keep), Status::kBadHandle);
  EXPECT_EQ(keep.koid(), keep_koid);
}

TEST(Rights, ReplaceConsumesTheHandle) {
  Vmo vmo = NumberedVmo(1);
  const uint64_t koid = vmo.koid();
  Vmo reader;
  ASSERT_EQ(vmo.Replace(kRightRead | kRightMap, &reader), Status::kOk);
  EXPECT_FALSE(vmo.is_valid());
  EXPECT_EQ(vmo.rights(), 0u);
  EXPECT_EQ(reader.rights(), kRightRead | kRightMap);
  EXPECT_EQ(reader.koid(), koid);
  EXPECT_EQ(WordAt(reader, 0), 1u);

  // Needs no kRightDuplicate; kRightSameRights keeps the rights; onto itself works.
  Vmo same;
  ASSERT_EQ(reader.Replace(kRightSameRights, &same), Status::kOk);
  EXPECT_FALSE(reader.is_valid());
  EXPECT_EQ(same.rights(), kRightRead | kRightMap);
  ASSERT_EQ(same.Replace(kRightRead, &same), Status::kOk);
  ASSERT_TRUE(same.is_valid());
  EXPECT_EQ(same.rights(), kRightRead);
  EXPECT_EQ(same.koid(), koid);

  // Adding a right: kInvalidArgs, and the handle is gone all the same (zx_handle_replace
  // always invalidates it); `out` keeps what it held.
  Vmo other;
  ASSERT_EQ(Vmo::Create(kPageSize, 0, &other), Status::kOk);
  const uint64_t other_koid = other.koid();
  EXPECT_EQ(same.Replace(kRightRead | kRightWrite, &other), Status::kInvalidArgs);
  EXPECT_FALSE(same.is_valid());
  EXPECT_EQ(other.koid(), other_koid);
  EXPECT_EQ(other.rights(), kDefaultVmoRights);
  EXPECT_EQ(other.Replace(kRightRead, nullptr), Status::kInvalidArgs);
  EXPECT_FALSE(other.is_valid());

  EXPECT_EQ(Vmo().Replace(kRightRead, &other), Status::kBadHandle);
}

// The handle a failed Replace consumed was the VMO's last: the VMO closes (COMPLETE).
TEST(Rights, FailedReplaceOfTheLastHandleClosesTheVmo) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  Vmo reader = WithRights(vmo->vmo, kRightRead);
  vmo->vmo.Reset();
  EXPECT_FALSE(pager.AnyPacket());
  Vmo out;
  EXPECT_EQ(reader.Replace(kRightRead | kRightWrite, &out), Status::kInvalidArgs);
  EXPECT_FALSE(reader.is_valid());
  EXPECT_FALSE(out.is_valid());
  EXPECT_TRUE(pager.WaitForPageComplete(vmo->key));
}

TEST(Rights, RightsMoveWithTheHandle) {
  Vmo vmo = NumberedVmo(1);
  Vmo reader = WithRights(vmo, kRightRead | kRightDuplicate);
  Vmo moved = std::move(reader);
  EXPECT_EQ(moved.rights(), kRightRead | kRightDuplicate);
  EXPECT_FALSE(reader.is_valid());  // NOLINT(bugprone-use-after-move): the rule under test
  EXPECT_EQ(reader.rights(), 0u);   // NOLINT(bugprone-use-after-move)
  Vmo assigned;
  ASSERT_EQ(Vmo::Create(kPageSize, 0, &assigned), Status::kOk);
  assigned = std::move(moved);
  EXPECT_EQ(assigned.rights(), kRightRead | kRightDuplicate);
  EXPECT_EQ(moved.rights(), 0u);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(assigned.koid(), vmo.koid());
  EXPECT_EQ(assigned.Write(&assigned, 0, 8), Status::kAccessDenied);
  Vmo& self = assigned;
  assigned = std::move(self);  // onto itself: nothing changes
  EXPECT_EQ(assigned.rights(), kRightRead | kRightDuplicate);
  assigned.Reset();
  EXPECT_FALSE(assigned.is_valid());
  EXPECT_EQ(assigned.rights(), 0u);
}

// Each Vmo call through a handle without its right; the object is left as it was.
TEST(Rights, VmoCallsCheckTheirRight) {
  Vmo vmo = NumberedVmo(4, kVmoResizable);
  const Vmo none = WithRights(vmo, kRightNone);
  const Vmo reader = WithRights(vmo, kRightRead);
  const Vmo writer = WithRights(vmo, kRightWrite);
  uint64_t word = 0;
  const uint64_t nine = 9;

  // Read: kRightRead, checked before the arguments.
  EXPECT_EQ(none.Read(&word, 0, sizeof(word)), Status::kAccessDenied);
  EXPECT_EQ(writer.Read(&word, 0, sizeof(word)), Status::kAccessDenied);
  EXPECT_EQ(writer.Read(nullptr, 0, sizeof(word)), Status::kAccessDenied);
  EXPECT_EQ(writer.Read(&word, P(100), sizeof(word)), Status::kAccessDenied);
  EXPECT_EQ(reader.Read(&word, P(2), sizeof(word)), Status::kOk);
  EXPECT_EQ(word, 3u);

  // Write: kRightWrite.
  EXPECT_EQ(reader.Write(&nine, 0, sizeof(nine)), Status::kAccessDenied);
  EXPECT_EQ(reader.Write(nullptr, P(100), sizeof(nine)), Status::kAccessDenied);
  EXPECT_EQ(WordAt(vmo, 0), 1u);
  EXPECT_EQ(writer.Write(&nine, 0, sizeof(nine)), Status::kOk);
  EXPECT_EQ(WordAt(vmo, 0), 9u);

  // SetSize: kRightWrite.
  uint64_t size = 0;
  EXPECT_EQ(reader.SetSize(P(1)), Status::kAccessDenied);
  ASSERT_EQ(vmo.GetSize(&size), Status::kOk);
  EXPECT_EQ(size, P(4));
  EXPECT_EQ(writer.SetSize(P(3)), Status::kOk);
  ASSERT_EQ(vmo.GetSize(&size), Status::kOk);
  EXPECT_EQ(size, P(3));

  // OpRange: COMMIT, DECOMMIT and ZERO need kRightWrite, before their range is looked at.
  for (const uint32_t op : {kVmoOpCommit, kVmoOpDecommit, kVmoOpZero}) {
    SCOPED_TRACE(op);
    EXPECT_EQ(reader.OpRange(op, 0, P(1)), Status::kAccessDenied);
    EXPECT_EQ(reader.OpRange(op, P(100), P(1)), Status::kAccessDenied);
    EXPECT_EQ(none.OpRange(op, 0, P(1)), Status::kAccessDenied);
  }
  EXPECT_EQ(WordAt(vmo, P(1)), 2u);  // neither zeroed nor decommitted
  EXPECT_EQ(writer.OpRange(kVmoOpZero, P(1), P(1)), Status::kOk);
  EXPECT_EQ(WordAt(vmo, P(1)), 0u);
  EXPECT_EQ(writer.OpRange(kVmoOpDecommit, P(2), P(1)), Status::kOk);
  EXPECT_EQ(WordAt(vmo, P(2)), 0u);
  EXPECT_EQ(writer.OpRange(kVmoOpCommit, 0, P(1)), Status::kOk);
  // PREFETCH needs kRightRead; the hints need nothing.
  EXPECT_EQ(writer.OpRange(kVmoOpPrefetch, 0, P(1)), Status::kAccessDenied);
  EXPECT_EQ(none.OpRange(kVmoOpPrefetch, P(100), P(1)), Status::kAccessDenied);
  EXPECT_EQ(reader.OpRange(kVmoOpPrefetch, 0, P(1)), Status::kOk);
  EXPECT_EQ(none.OpRange(kVmoOpDontNeed, 0, P(1)), Status::kOk);
  EXPECT_EQ(none.OpRange(kVmoOpAlwaysNeed, 0, P(1)), Status::kOk);
  // An unknown op is refused as with any handle.
  Status unknown_full = vmo.OpRange(7, 0, P(1));
  EXPECT_NE(unknown_full, Status::kOk);
  EXPECT_EQ(none.OpRange(7, 0, P(1)), unknown_full);

  // GetSize, GetInfo and koid need no right.
  ASSERT_EQ(none.GetSize(&size), Status::kOk);
  EXPECT_EQ(size, P(3));
  VmoInfo info{};
  ASSERT_EQ(none.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.koid, vmo.koid());
  EXPECT_EQ(info.size_bytes, P(3));
  EXPECT_EQ(none.koid(), vmo.koid());
}

// Refused calls on a pager VMO send no request: the check comes before any page is looked
// at. A read-only handle reads supplied content.
TEST(Rights, PagerVmoCallsCheckBeforeRequesting) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  const Vmo reader = WithRights(vmo->vmo, kRightRead | kRightMap);
  const Vmo writer = WithRights(vmo->vmo, kRightWrite);
  std::vector<char> data(P(1));
  EXPECT_EQ(writer.Read(data.data(), 0, P(1)), Status::kAccessDenied);
  EXPECT_EQ(reader.Write(data.data(), 0, P(1)), Status::kAccessDenied);
  EXPECT_EQ(reader.OpRange(kVmoOpCommit, 0, P(2)), Status::kAccessDenied);
  EXPECT_EQ(writer.OpRange(kVmoOpPrefetch, 0, P(2)), Status::kAccessDenied);
  EXPECT_FALSE(pager.AnyPacket());

  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  std::vector<char> both(P(2));
  ASSERT_EQ(reader.Read(both.data(), 0, P(2)), Status::kOk);
  EXPECT_TRUE(UserPager::CheckPattern(vmo->key, 0, 2, both.data()));
  // A refused write leaves the clean pages clean: no DIRTY request, content unchanged.
  EXPECT_EQ(reader.Write(data.data(), 0, P(1)), Status::kAccessDenied);
  EXPECT_FALSE(pager.AnyPacket());
  EXPECT_TRUE(CheckVmo(*vmo, 0, 2));
}

TEST(Rights, MappingChecksMapReadAndWrite) {
  Vmo vmo = NumberedVmo(2);
  const Vmo reader = WithRights(vmo, kRightRead | kRightMap);
  Mapping map;
  // kRightMap first, then the flags, then the rights the flags need, then the range.
  EXPECT_EQ(Mapping::Create(WithRights(vmo, kRightRead | kRightWrite), 0, P(1), kMapRead, &map),
            Status::kAccessDenied);
  EXPECT_EQ(Mapping::Create(WithRights(vmo, kRightRead), 0, P(1), 0x10, &map),
            Status::kAccessDenied);
  const Vmo map_only = WithRights(vmo, kRightMap | kRightWrite);
  EXPECT_EQ(Mapping::Create(map_only, 0, P(1), kMapRead, &map), Status::kAccessDenied);
  EXPECT_EQ(Mapping::Create(map_only, 0, P(1), kMapRead | 0x10, &map), Status::kInvalidArgs);
  EXPECT_EQ(Mapping::Create(map_only, 1, P(1), kMapRead, &map), Status::kAccessDenied);
  EXPECT_EQ(Mapping::Create(reader, 0, P(1), kMapRead | kMapWrite, &map), Status::kAccessDenied);
  EXPECT_EQ(Mapping::Create(reader, 0, 0, kMapRead | kMapWrite, &map), Status::kAccessDenied);
  EXPECT_EQ(Mapping::Create(reader, 1, P(1), kMapRead, &map), Status::kInvalidArgs);
  EXPECT_FALSE(map.is_valid());

  // Read-only: maps, reads the VMO's bytes, and keeps working once the handle is gone.
  Vmo last = WithRights(vmo, kRightRead | kRightMap);
  ASSERT_EQ(Mapping::Create(last, 0, P(2), kMapRead, &map), Status::kOk);
  last.Reset();
  uint64_t word = 0;
  std::memcpy(&word, map.data() + P(1), sizeof(word));
  EXPECT_EQ(word, 2u);

  // Writable with kRightWrite.
  Mapping writable;
  ASSERT_EQ(Mapping::Create(WithRights(vmo, kRightRead | kRightWrite | kRightMap), 0, P(1),
                            kMapRead | kMapWrite, &writable),
            Status::kOk);
  const uint64_t seven = 7;
  std::memcpy(writable.data(), &seven, sizeof(seven));
  EXPECT_EQ(WordAt(vmo, 0), 7u);
}

// The same on a pager VMO: the read-only mapping faults its pages in from the pager.
TEST(Rights, ReadOnlyMappingOfAPagerVmo) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  const Vmo reader = WithRights(vmo->vmo, kRightRead | kRightMap);
  Mapping map;
  EXPECT_EQ(Mapping::Create(reader, 0, P(2), kMapRead | kMapWrite, &map), Status::kAccessDenied);
  ASSERT_EQ(Mapping::Create(reader, 0, P(2), kMapRead, &map), Status::kOk);
  uint64_t value = 0;
  TestThread t([&] { return ProbeLoad(map.data() + P(1) + 16, &value).ok; });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_TRUE(t.WaitForBlocked());
  ASSERT_EQ(pager.SupplyPages(*vmo, 1, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(value, Word(vmo->key, 1, 2));
  EXPECT_FALSE(pager.AnyPacket());
}

TEST(Rights, PagerCallsCheckTheVmoHandle) {
  UserPager pager;
  Pager& p = pager.pager();
  auto vmo = pager.CreateVmo(2, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  const Vmo reader = WithRights(vmo->vmo, kReadOnly);
  const Vmo writer = WithRights(vmo->vmo, kRightWrite);
  Vmo aux = NumberedVmo(2);
  std::vector<char> page(P(1));

  // Misalignment comes first, then the handle and its rights, then "is it mine".
  EXPECT_EQ(p.SupplyPages(reader, 1, P(1), aux, 0), Status::kInvalidArgs);
  EXPECT_EQ(p.SupplyPages(Vmo(), 1, P(1), aux, 0), Status::kInvalidArgs);
  EXPECT_EQ(p.SupplyPages(reader, 0, P(1), aux, 0), Status::kAccessDenied);
  EXPECT_EQ(p.SupplyPages(WithRights(aux, kRightRead), 0, P(1), aux, 0), Status::kAccessDenied);
  EXPECT_EQ(p.SupplyPages(Vmo(), 0, P(1), aux, 0), Status::kBadHandle);
  // The aux handle needs kRightRead and kRightWrite, checked after the VMO.
  EXPECT_EQ(p.SupplyPages(writer, 0, P(1), WithRights(aux, kRightRead), 0), Status::kAccessDenied);
  EXPECT_EQ(p.SupplyPages(writer, 0, P(1), WithRights(aux, kRightWrite), 0), Status::kAccessDenied);
  EXPECT_EQ(p.SupplyPages(reader, 0, P(1), WithRights(aux, kRightRead), 0), Status::kAccessDenied);
  EXPECT_EQ(p.SupplyPages(WithRights(aux, kRightWrite), 0, P(1), WithRights(aux, kRightRead), 0),
            Status::kInvalidArgs);  // not this pager's VMO, before the aux rights
  EXPECT_EQ(p.SupplyPages(writer, 0, P(1), Vmo(), 0), Status::kBadHandle);
  EXPECT_EQ(p.SupplyPagesFromBuffer(reader, 1, P(1), page.data()), Status::kInvalidArgs);
  EXPECT_EQ(p.SupplyPagesFromBuffer(reader, 0, P(1), page.data()), Status::kAccessDenied);
  EXPECT_EQ(p.SupplyPagesFromBuffer(reader, 0, P(1), nullptr), Status::kAccessDenied);

  // OpRange, every op: kRightWrite, after the alignment check.
  const uint64_t fail = static_cast<uint64_t>(static_cast<int64_t>(Status::kIo));
  const std::pair<uint32_t, uint64_t> ops[] = {{kPagerOpFail, fail},
                                               {kPagerOpDirty, 0},
                                               {kPagerOpWritebackBegin, 0},
                                               {kPagerOpWritebackEnd, 0}};
  for (const auto& [op, data] : ops) {
    SCOPED_TRACE(op);
    EXPECT_EQ(p.OpRange(op, reader, 1, P(1), data), Status::kInvalidArgs);
    EXPECT_EQ(p.OpRange(op, reader, 0, P(1), data), Status::kAccessDenied);
    EXPECT_EQ(p.OpRange(op, reader, 0, P(1), 12345), Status::kAccessDenied);
  }
  EXPECT_EQ(p.OpRange(99, reader, 0, P(1), 0), Status::kAccessDenied);  // before the op

  // The queries need kRightRead, checked before their other arguments.
  size_t actual = 0, avail = 0;
  VmoDirtyRange range{};
  EXPECT_EQ(p.QueryDirtyRanges(writer, 0, P(2), &range, sizeof(range), &actual, &avail),
            Status::kAccessDenied);
  EXPECT_EQ(p.QueryDirtyRanges(writer, 0, P(2), nullptr, 1, &actual, &avail),
            Status::kAccessDenied);
  EXPECT_EQ(p.QueryDirtyRanges(reader, 0, P(2), &range, sizeof(range), &actual, &avail),
            Status::kOk);
  EXPECT_EQ(actual, 0u);
  PagerVmoStats stats{};
  EXPECT_EQ(p.QueryVmoStats(writer, 0, &stats, sizeof(stats)), Status::kAccessDenied);
  EXPECT_EQ(p.QueryVmoStats(writer, 0, &stats, 1), Status::kAccessDenied);
  EXPECT_EQ(p.QueryVmoStats(reader, 0, &stats, sizeof(stats)), Status::kOk);

  // DetachVmo: kRightWrite.
  EXPECT_EQ(p.DetachVmo(reader), Status::kAccessDenied);

  // Nothing above reached the VMO: no page supplied, failed or dirtied, still attached.
  EXPECT_FALSE(pager.AnyPacket());
  TestThread t([&] { return ReadPages(*vmo, 0, 2); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 2));
  // A handle with only kRightWrite supplies (the aux VMO with only read and write).
  Vmo pattern;
  ASSERT_EQ(Vmo::Create(P(2), 0, &pattern), Status::kOk);
  for (uint64_t i = 0; i < 2; ++i) {
    UserPager::Pattern(vmo->key, i, page.data());
    ASSERT_EQ(pattern.Write(page.data(), P(i), P(1)), Status::kOk);
  }
  ASSERT_EQ(p.SupplyPages(writer, 0, P(2), WithRights(pattern, kRightRead | kRightWrite), 0),
            Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_TRUE(CheckVmo(*vmo, 0, 2));
  EXPECT_EQ(p.DetachVmo(writer), Status::kOk);
  EXPECT_TRUE(pager.WaitForPageComplete(vmo->key));
}

TEST(Rights, SupplyFromBufferAndDirtyThroughAWriteOnlyHandle) {
  UserPager pager;
  Pager& p = pager.pager();
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  const Vmo writer = WithRights(vmo->vmo, kRightWrite);
  std::vector<char> page(P(1));
  UserPager::Pattern(vmo->key, 0, page.data());
  ASSERT_EQ(p.SupplyPagesFromBuffer(writer, 0, P(1), page.data()), Status::kOk);
  EXPECT_TRUE(CheckVmo(*vmo, 0, 1));
  ASSERT_EQ(p.OpRange(kPagerOpDirty, writer, 0, P(1), 0), Status::kOk);
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
}

TEST(Rights, KoidNamesTheObjectInEveryProcess) {
  Vmo a;
  Vmo b;
  ASSERT_EQ(Vmo::Create(kPageSize, 0, &a), Status::kOk);
  ASSERT_EQ(Vmo::Create(kPageSize, 0, &b), Status::kOk);
  UserPager pager;
  auto paged = pager.CreateVmo(1);
  ASSERT_NE(paged, nullptr);
  EXPECT_NE(a.koid(), b.koid());
  EXPECT_NE(a.koid(), paged->vmo.koid());
  EXPECT_NE(b.koid(), paged->vmo.koid());
  // The creating process's pid above a per-process count that never gives 0.
  for (const Vmo* vmo : {&a, &b, &paged->vmo}) {
    EXPECT_EQ(vmo->koid() >> 32, static_cast<uint64_t>(::getpid()));
    EXPECT_NE(vmo->koid() & 0xffffffffu, 0u);
  }
  // Every handle to the object gives its koid, whatever its rights.
  Vmo dup = WithRights(a, kRightNone);
  EXPECT_EQ(dup.koid(), a.koid());
  Vmo replaced;
  const uint64_t koid = b.koid();
  ASSERT_EQ(b.Replace(kRightRead, &replaced), Status::kOk);
  EXPECT_EQ(replaced.koid(), koid);
  EXPECT_EQ(b.koid(), 0u);
  EXPECT_EQ(Vmo().koid(), 0u);
}

}  // namespace
}  // namespace upager::testing

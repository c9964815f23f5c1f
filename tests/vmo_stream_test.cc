// Unbounded VMOs (kVmoUnbounded) and the stream size (Vmo::GetStreamSize / SetStreamSize):
// sizes, statuses, what a shrink zeroes and how a pager hears of it (exact packets and dirty
// ranges), and that pages far into an unbounded VMO cost only themselves.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "pager_writeback_util.h"
#include "test_util.h"
#include "upager/mapping.h"
#include "upager/pager.h"
#include "upager/vmo.h"
#include "user_pager.h"

namespace upager::testing {
namespace {

uint64_t SizeOf(const Vmo& vmo) {
  uint64_t size = 0;
  EXPECT_EQ(Status::kOk, vmo.GetSize(&size));
  return size;
}

uint64_t StreamSizeOf(const Vmo& vmo) {
  uint64_t size = 0;
  EXPECT_EQ(Status::kOk, vmo.GetStreamSize(&size));
  return size;
}

std::vector<uint8_t> ReadBytes(const Vmo& vmo, uint64_t offset, uint64_t len) {
  std::vector<uint8_t> out(len, 0xee);
  EXPECT_EQ(Status::kOk, vmo.Read(out.data(), offset, len));
  return out;
}

TEST(VmoStream, CreateOptions) {
  Vmo vmo;
  EXPECT_EQ(Status::kInvalidArgs, Vmo::Create(0, kVmoUnbounded | kVmoResizable, &vmo));
  EXPECT_EQ(Status::kOutOfRange, Vmo::Create(kMaxVmoSize + 1, kVmoUnbounded, &vmo));
  EXPECT_FALSE(vmo.is_valid());
  ASSERT_EQ(Status::kOk, Vmo::Create(100, kVmoUnbounded, &vmo));
  EXPECT_EQ(kMaxVmoSize, SizeOf(vmo));
  EXPECT_EQ(100u, StreamSizeOf(vmo));
  EXPECT_EQ(Status::kUnavailable, vmo.SetSize(kPageSize));  // never resizable

  UserPager pager;
  TestVmo bad;
  EXPECT_EQ(Status::kInvalidArgs,
            pager.pager().CreateVmo(kVmoUnbounded | kVmoResizable, pager.port(), 1, 0, &bad.vmo));
  EXPECT_EQ(Status::kOutOfRange,
            pager.pager().CreateVmo(kVmoUnbounded, pager.port(), 1, kMaxVmoSize + 1, &bad.vmo));
  Vmo paged;
  ASSERT_EQ(Status::kOk, pager.pager().CreateVmo(kVmoUnbounded | kVmoTrapDirty, pager.port(), 1,
                                                 3 * kPageSize + 7, &paged));
  EXPECT_EQ(kMaxVmoSize, SizeOf(paged));
  EXPECT_EQ(3 * kPageSize + 7, StreamSizeOf(paged));
  VmoInfo info{};
  ASSERT_EQ(Status::kOk, paged.GetInfo(&info));
  EXPECT_EQ(kMaxVmoSize, info.size_bytes);
  EXPECT_EQ(0u, info.committed_bytes);
}

// An ordinary VMO's stream size is its size as given; SetSize sets it too; SetStreamSize
// beyond the size grows a resizable VMO and is kOutOfRange for any other.
TEST(VmoStream, BoundedVmos) {
  Vmo fixed;
  ASSERT_EQ(Status::kOk, Vmo::Create(100, 0, &fixed));
  EXPECT_EQ(kPageSize, SizeOf(fixed));
  EXPECT_EQ(100u, StreamSizeOf(fixed));
  EXPECT_EQ(Status::kOutOfRange, fixed.SetStreamSize(kPageSize + 1));
  EXPECT_EQ(100u, StreamSizeOf(fixed));
  ASSERT_EQ(Status::kOk, fixed.SetStreamSize(kPageSize));
  EXPECT_EQ(kPageSize, StreamSizeOf(fixed));
  EXPECT_EQ(kPageSize, SizeOf(fixed));

  Vmo resizable;
  ASSERT_EQ(Status::kOk, Vmo::Create(kPageSize, kVmoResizable, &resizable));
  ASSERT_EQ(Status::kOk, resizable.SetStreamSize(2 * kPageSize + 5));
  EXPECT_EQ(3 * kPageSize, SizeOf(resizable));
  EXPECT_EQ(2 * kPageSize + 5, StreamSizeOf(resizable));
  ASSERT_EQ(Status::kOk, resizable.SetSize(kPageSize - 1));
  EXPECT_EQ(kPageSize, SizeOf(resizable));
  EXPECT_EQ(kPageSize - 1, StreamSizeOf(resizable));
  EXPECT_EQ(Status::kOutOfRange, resizable.SetStreamSize(kMaxVmoSize + 1));
}

TEST(VmoStream, Rights) {
  Vmo vmo;
  ASSERT_EQ(Status::kOk, Vmo::Create(kPageSize, kVmoUnbounded, &vmo));
  Vmo no_read, no_write;
  ASSERT_EQ(Status::kOk, vmo.Duplicate(vmo.rights() & ~kRightRead, &no_read));
  ASSERT_EQ(Status::kOk, vmo.Duplicate(vmo.rights() & ~kRightWrite, &no_write));
  uint64_t size = 0;
  EXPECT_EQ(Status::kAccessDenied, no_read.GetStreamSize(&size));
  EXPECT_EQ(Status::kOk, no_read.SetStreamSize(0));
  EXPECT_EQ(Status::kOk, no_write.GetStreamSize(&size));
  EXPECT_EQ(0u, size);
  EXPECT_EQ(Status::kAccessDenied, no_write.SetStreamSize(kPageSize));
  EXPECT_EQ(Status::kInvalidArgs, vmo.GetStreamSize(nullptr));
  Vmo invalid;
  EXPECT_EQ(Status::kBadHandle, invalid.GetStreamSize(&size));
  EXPECT_EQ(Status::kBadHandle, invalid.SetStreamSize(0));
}

// A shrink zeroes [new, old stream size) of an anonymous VMO, partial pages included; a grow
// then shows those zeros; what lay beyond the old stream size is left alone.
TEST(VmoStream, AnonymousShrinkZeroesAndGrowShowsZeros) {
  Vmo vmo;
  ASSERT_EQ(Status::kOk, Vmo::Create(3 * kPageSize, kVmoUnbounded, &vmo));
  std::vector<uint8_t> x(4 * kPageSize, 'x');
  ASSERT_EQ(Status::kOk, vmo.Write(x.data(), 0, x.size()));
  ASSERT_EQ(Status::kOk, vmo.SetStreamSize(100));
  EXPECT_EQ(100u, StreamSizeOf(vmo));
  std::vector<uint8_t> expected(4 * kPageSize, 0);
  std::memset(expected.data(), 'x', 100);
  std::memset(expected.data() + 3 * kPageSize, 'x', kPageSize);  // beyond the old stream size
  EXPECT_EQ(expected, ReadBytes(vmo, 0, expected.size()));
  ASSERT_EQ(Status::kOk, vmo.SetStreamSize(3 * kPageSize));
  EXPECT_EQ(3 * kPageSize, StreamSizeOf(vmo));
  EXPECT_EQ(expected, ReadBytes(vmo, 0, expected.size()));
  VmoInfo info{};
  ASSERT_EQ(Status::kOk, vmo.GetInfo(&info));
  EXPECT_EQ(2 * kPageSize, info.committed_bytes);  // pages 1 and 2 were given back
}

// Pager-backed, trapping dirty: the partial pages at either end of the zeroed range are
// written, so each asks for DIRTY (clean pages) before the shrink returns.
TEST(VmoStream, PagerShrinkDirtiesPartialPages) {
  UserPager pager;
  TestVmo vmo;
  vmo.key = 77;
  ASSERT_EQ(Status::kOk, pager.pager().CreateVmo(kVmoUnbounded | kVmoTrapDirty, pager.port(),
                                                 vmo.key, 2 * kPageSize + 100, &vmo.vmo));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(vmo, 0, 4));
  TestThread t([&] { return vmo.vmo.SetStreamSize(kPageSize + 10); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(vmo, 1, 1));
  EXPECT_FALSE(pager.AnyPacket());
  ASSERT_EQ(Status::kOk, pager.DirtyPages(vmo, 1, 1));
  ASSERT_TRUE(pager.WaitForPageDirty(vmo, 2, 1));
  EXPECT_FALSE(pager.AnyPacket());
  ASSERT_EQ(Status::kOk, pager.DirtyPages(vmo, 2, 1));
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(Status::kOk, t.status());
  EXPECT_TRUE(NoRequests(pager, vmo));
  EXPECT_EQ(kPageSize + 10, StreamSizeOf(vmo.vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, vmo, {{1, 2, 0}}));
  std::vector<uint8_t> expected = Pattern(vmo, 0, 4);
  std::memset(expected.data() + kPageSize + 10, 0, kPageSize - 10 + 100);
  EXPECT_EQ(expected, ReadBytes(vmo.vmo, 0, P(4)));
}

// Whole pages of a pager-backed VMO become a dirty zero range, without a request; a grow
// then reads zeros there without asking the pager.
TEST(VmoStream, PagerShrinkWholePagesIsADirtyZeroRange) {
  UserPager pager;
  auto vmo = pager.CreateVmo(4, kVmoUnbounded | kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, vmo->vmo.SetStreamSize(P(1)));
  EXPECT_TRUE(NoRequests(pager, *vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 3, kVmoDirtyRangeIsZero}}));
  ASSERT_EQ(Status::kOk, vmo->vmo.SetStreamSize(P(4)));
  EXPECT_EQ(P(4), StreamSizeOf(vmo->vmo));
  EXPECT_EQ(std::vector<uint8_t>(P(3), 0), ReadBytes(vmo->vmo, P(1), P(3)));
  EXPECT_TRUE(NoRequests(pager, *vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 3, kVmoDirtyRangeIsZero}}));
  EXPECT_EQ(0u, CommittedBytes(*vmo));
}

// Pages at the far end of an unbounded VMO: exact requests, and only they are committed.
TEST(VmoStream, FarPagesOfAnUnboundedVmo) {
  const uint64_t last_page = kMaxVmoSize / kPageSize - 1;
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoUnbounded | kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  TestThread t([&] { return WriteByte(*vmo, P(last_page) + 5, 0x42); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, last_page, 1));
  EXPECT_FALSE(pager.AnyPacket());
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, last_page, 1));
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, last_page, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, last_page, 1));
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(P(1), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{last_page, 1, 0}}));
  std::vector<uint8_t> expected = Pattern(*vmo, last_page, 1);
  expected[5] = 0x42;
  EXPECT_EQ(expected, ReadBytes(vmo->vmo, P(last_page), P(1)));
  // One past the end.
  uint8_t byte = 0;
  EXPECT_EQ(Status::kOutOfRange, vmo->vmo.Read(&byte, kMaxVmoSize, 1));
  // Half way, and past the lookup mirror: a read asks for that page alone.
  const uint64_t mid = last_page / 2;
  TestThread t2([&] { return ReadPages(*vmo, mid, 2); });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, mid, 2));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, mid, 2));
  ASSERT_TRUE(t2.Wait());
  EXPECT_TRUE(NoRequests(pager, *vmo));
  EXPECT_EQ(P(3), CommittedBytes(*vmo));
  EXPECT_TRUE(CheckData(*vmo, mid, 2, Pattern(*vmo, mid, 2)));
}

// A stream size the whole VMO long, shrunk to one page: one dirty zero range to the end,
// made without visiting each page (the test would not finish otherwise).
TEST(VmoStream, PagerShrinkOfTheWholeRange) {
  const uint64_t pages = kMaxVmoSize / kPageSize;
  UserPager pager;
  TestVmo vmo;
  vmo.key = 5;
  ASSERT_EQ(Status::kOk,
            pager.pager().CreateVmo(kVmoUnbounded, pager.port(), vmo.key, kMaxVmoSize, &vmo.vmo));
  EXPECT_EQ(kMaxVmoSize, StreamSizeOf(vmo.vmo));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(vmo, 0, 2));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(vmo, pages / 2, 1));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(vmo, pages - 1, 1));
  ASSERT_EQ(Status::kOk, vmo.vmo.SetStreamSize(P(1)));
  EXPECT_TRUE(NoRequests(pager, vmo));
  EXPECT_EQ(P(1), StreamSizeOf(vmo.vmo));
  EXPECT_EQ(P(1), CommittedBytes(vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, vmo, {{1, pages - 1, kVmoDirtyRangeIsZero}}));
  EXPECT_EQ(std::vector<uint8_t>(P(1), 0), ReadBytes(vmo.vmo, P(pages - 1), P(1)));
  EXPECT_TRUE(CheckData(vmo, 0, 1, Pattern(vmo, 0, 1)));
  EXPECT_TRUE(NoRequests(pager, vmo));
}

// Anonymous: a write at the far end commits that page alone.
TEST(VmoStream, AnonymousFarWrite) {
  Vmo vmo;
  ASSERT_EQ(Status::kOk, Vmo::Create(0, kVmoUnbounded, &vmo));
  const uint64_t offset = kMaxVmoSize - 3;
  const uint8_t data[3] = {1, 2, 3};
  ASSERT_EQ(Status::kOk, vmo.Write(data, offset, 3));
  EXPECT_EQ(std::vector<uint8_t>({0, 1, 2, 3}), ReadBytes(vmo, offset - 1, 4));
  VmoInfo info{};
  ASSERT_EQ(Status::kOk, vmo.GetInfo(&info));
  EXPECT_EQ(kPageSize, info.committed_bytes);
  EXPECT_EQ(Status::kOutOfRange, vmo.Write(data, kMaxVmoSize - 2, 3));
}

// Mapping part of an unbounded VMO works as for any VMO, at its start and at its far end;
// a mapping of the whole VMO is refused cleanly (no address space that large).
TEST(VmoStream, MapPartsOfAnUnboundedVmo) {
  Vmo vmo;
  ASSERT_EQ(Status::kOk, Vmo::Create(kPageSize, kVmoUnbounded, &vmo));
  const uint64_t far = kMaxVmoSize - kPageSize;
  const uint8_t data[2] = {9, 8};
  ASSERT_EQ(Status::kOk, vmo.Write(data, far, 2));
  Mapping low, high;
  ASSERT_EQ(Status::kOk, Mapping::Create(vmo, 0, kPageSize, kMapRead | kMapWrite, &low));
  ASSERT_EQ(Status::kOk, Mapping::Create(vmo, far, kPageSize, kMapRead | kMapWrite, &high));
  EXPECT_EQ(std::byte{9}, high.data()[0]);
  EXPECT_EQ(std::byte{8}, high.data()[1]);
  low.data()[7] = std::byte{0x31};
  EXPECT_EQ(std::vector<uint8_t>({0x31}), ReadBytes(vmo, 7, 1));
  Mapping all;
  EXPECT_EQ(Status::kNoMemory, Mapping::Create(vmo, 0, kMaxVmoSize, kMapRead, &all));
  EXPECT_FALSE(all.is_valid());
}

}  // namespace
}  // namespace upager::testing

// VmObjectPaged below the pager layer: anonymous VMOs, and pager-backed VMOs whose page
// source has a RecordingProvider, driven by a test thread standing in for the pager.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <future>
#include <thread>
#include <vector>

#include "base/handle_access.h"
#include "recording_provider.h"
#include "test_util.h"
#include "upager/vmo.h"
#include "vm/page_list.h"
#include "vm/storage_reaper.h"
#include "vm/vm_object_paged.h"

namespace upager {
namespace {

using internal::VmObjectPaged;
using testing::PollUntil;
using testing::RecordingProvider;
using Lines = std::vector<std::string>;

constexpr uint64_t P(uint64_t pages) { return pages * kPageSize; }

std::vector<char> Pattern(uint64_t pages, char seed) {
  std::vector<char> data(P(pages));
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(seed + i / kPageSize);
  return data;
}

// A memfd of `pages` written pages.
int FilledMemfd(uint64_t pages) {
  const int fd = memfd_create("reaper-test", MFD_CLOEXEC);
  const std::vector<char> data = Pattern(pages, 'r');
  if (fd < 0 || pwrite(fd, data.data(), data.size(), 0) != static_cast<ssize_t>(data.size())) {
    return -1;
  }
  return fd;
}

bool IsOpen(int fd) { return fcntl(fd, F_GETFD) != -1; }

// A small memfd is closed by the caller; a large one by the reaper's thread, by the time a
// drain returns; each its own memfd (no other descriptor closed by mistake).
TEST(StorageReaperTest, ClosesSmallAtOnceAndLargeByDrain) {
  internal::StorageReaper& reaper = internal::StorageReaper::Default();
  const int small = FilledMemfd(2);
  const int large = FilledMemfd(internal::StorageReaper::kMinPages);
  const int kept = FilledMemfd(1);
  ASSERT_GE(small, 0);
  ASSERT_GE(large, 0);
  ASSERT_GE(kept, 0);
  reaper.Close(small, 2);
  EXPECT_FALSE(IsOpen(small));
  reaper.Close(large, internal::StorageReaper::kMinPages);
  reaper.Drain();
  EXPECT_FALSE(IsOpen(large));
  EXPECT_TRUE(IsOpen(kept));
  close(kept);
}

// A destroyed pager-backed VMO with pages hands its storage to the reaper: after a drain
// the memfd is closed.
TEST(StorageReaperTest, DestroyedVmoStorageIsClosed) {
  auto provider = std::make_shared<RecordingProvider>();
  std::shared_ptr<VmObjectPaged> vmo;
  ASSERT_EQ(
      VmObjectPaged::CreatePagerBacked(P(300), 0, std::make_shared<PageSource>(provider), 1, &vmo),
      Status::kOk);
  const std::vector<char> data = Pattern(300, 'a');
  ASSERT_EQ(vmo->SupplyPagesFromBuffer(0, P(300), data.data()), Status::kOk);
  const int fd = vmo->memfd();
  ASSERT_TRUE(IsOpen(fd));
  vmo.reset();
  internal::StorageReaper::Default().Drain();
  EXPECT_FALSE(IsOpen(fd));
}

TEST(AnonymousVmoTest, ZeroFilledReadWriteSize) {
  Vmo vmo;
  ASSERT_EQ(Vmo::Create(P(4) - 100, 0, &vmo), Status::kOk);
  uint64_t size = 0;
  ASSERT_EQ(vmo.GetSize(&size), Status::kOk);
  EXPECT_EQ(size, P(4));
  std::vector<char> buf(P(4), 'x');
  ASSERT_EQ(vmo.Read(buf.data(), 0, buf.size()), Status::kOk);
  EXPECT_EQ(buf, std::vector<char>(P(4), 0));
  const char hello[] = "hello";
  ASSERT_EQ(vmo.Write(hello, P(1) + 10, sizeof(hello)), Status::kOk);
  char back[sizeof(hello)] = {};
  ASSERT_EQ(vmo.Read(back, P(1) + 10, sizeof(back)), Status::kOk);
  EXPECT_STREQ(back, "hello");
  VmoInfo info{};
  ASSERT_EQ(vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, P(1));
  EXPECT_EQ(info.flags & kVmoInfoPagerBacked, 0u);
  EXPECT_EQ(vmo.Read(buf.data(), P(3), P(2)), Status::kOutOfRange);
  EXPECT_EQ(vmo.SetSize(P(8)), Status::kUnavailable);
  EXPECT_EQ(Vmo::Create(P(1), kVmoTrapDirty, &vmo), Status::kInvalidArgs);
  EXPECT_EQ(vmo.OpRange(kVmoOpDecommit, 0, P(4)), Status::kOk);
  ASSERT_EQ(vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, 0u);
  Vmo invalid;
  EXPECT_EQ(invalid.Read(buf.data(), 0, 1), Status::kBadHandle);
}

class PagerBackedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = std::make_shared<PageSource>(provider_);
    ASSERT_EQ(VmObjectPaged::CreatePagerBacked(P(16), kVmoResizable, source_, 99, &object_),
              Status::kOk);
    vmo_ = internal::HandleAccess::Make<Vmo>(object_);
  }
  Lines Calls() { return provider_->TakeCallStrings(); }

  std::shared_ptr<RecordingProvider> provider_ = std::make_shared<RecordingProvider>(true);
  std::shared_ptr<PageSource> source_;
  std::shared_ptr<VmObjectPaged> object_;
  Vmo vmo_;
};

TEST_F(PagerBackedTest, ReadRequestsTheAbsentRunAndSeesSuppliedData) {
  const std::vector<char> data = Pattern(4, 'a');
  std::vector<char> buf(P(4));
  std::future<Status> reader =
      std::async(std::launch::async, [&] { return vmo_.Read(buf.data(), 0, buf.size()); });
  ASSERT_TRUE(PollUntil([&] { return provider_->owned_count() == 1; }));
  EXPECT_EQ(Calls(), (Lines{"send R[0,4)"}));
  ASSERT_EQ(object_->SupplyPagesFromBuffer(0, P(4), data.data()), Status::kOk);
  EXPECT_EQ(reader.get(), Status::kOk);
  EXPECT_EQ(buf, data);
  // Supplying again is ignored: content already there wins.
  const std::vector<char> other = Pattern(4, 'q');
  ASSERT_EQ(object_->SupplyPagesFromBuffer(0, P(4), other.data()), Status::kOk);
  ASSERT_EQ(vmo_.Read(buf.data(), 0, buf.size()), Status::kOk);
  EXPECT_EQ(buf, data);
}

TEST_F(PagerBackedTest, TrapDirtyWriteAsksForDirtyThenWrites) {
  const std::vector<char> data = Pattern(1, 'a');
  ASSERT_EQ(object_->SupplyPagesFromBuffer(0, P(1), data.data()), Status::kOk);
  std::future<Status> writer =
      std::async(std::launch::async, [&] { return vmo_.Write("z", 5, 1); });
  ASSERT_TRUE(PollUntil([&] { return provider_->owned_count() == 1; }));
  EXPECT_EQ(Calls(), (Lines{"send D[0,1)"}));
  ASSERT_EQ(object_->DirtyPages(0, P(1)), Status::kOk);
  EXPECT_EQ(writer.get(), Status::kOk);
  VmoDirtyRange ranges[4];
  size_t actual = 0;
  size_t avail = 0;
  ASSERT_EQ(object_->QueryDirtyRanges(0, P(16), ranges, 4, &actual, &avail), Status::kOk);
  ASSERT_EQ(actual, 1u);
  EXPECT_EQ(ranges[0].offset, 0u);
  EXPECT_EQ(ranges[0].length, P(1));
  EXPECT_EQ(ranges[0].options, 0u);
  PagerVmoStats stats{};
  ASSERT_EQ(object_->QueryStats(true, &stats), Status::kOk);
  EXPECT_EQ(stats.modified, kPagerVmoStatsModified);
  ASSERT_EQ(object_->QueryStats(true, &stats), Status::kOk);
  EXPECT_EQ(stats.modified, 0u);
}

TEST_F(PagerBackedTest, GrowthIsADirtyZeroRange) {
  ASSERT_EQ(object_->SetSize(P(18)), Status::kOk);
  std::vector<char> buf(P(2), 'x');
  ASSERT_EQ(vmo_.Read(buf.data(), P(16), P(2)), Status::kOk);  // zeros, no request
  EXPECT_EQ(buf, std::vector<char>(P(2), 0));
  EXPECT_EQ(Calls(), Lines{});
  VmoDirtyRange ranges[4];
  size_t actual = 0;
  ASSERT_EQ(object_->QueryDirtyRanges(0, P(18), ranges, 4, &actual, nullptr), Status::kOk);
  ASSERT_EQ(actual, 1u);
  EXPECT_EQ(ranges[0].offset, P(16));
  EXPECT_EQ(ranges[0].length, P(2));
  EXPECT_EQ(ranges[0].options, kVmoDirtyRangeIsZero);
  ASSERT_EQ(object_->WritebackBegin(P(16), P(2), true), Status::kOk);
  ASSERT_EQ(object_->WritebackEnd(P(16), P(2)), Status::kOk);
  ASSERT_EQ(object_->QueryDirtyRanges(0, P(18), ranges, 4, &actual, nullptr), Status::kOk);
  EXPECT_EQ(actual, 0u);
}

TEST_F(PagerBackedTest, DetachFailsWaitersWithBadStateAndKeepsDirtyPages) {
  const std::vector<char> data = Pattern(2, 'a');
  ASSERT_EQ(object_->SupplyPagesFromBuffer(0, P(2), data.data()), Status::kOk);
  ASSERT_EQ(object_->DirtyPages(P(1), P(1)), Status::kOk);
  std::vector<char> buf(P(1));
  std::future<Status> reader =
      std::async(std::launch::async, [&] { return vmo_.Read(buf.data(), P(5), P(1)); });
  ASSERT_TRUE(PollUntil([&] { return provider_->owned_count() == 1; }));
  object_->Detach();
  EXPECT_EQ(reader.get(), Status::kBadState);
  EXPECT_EQ(vmo_.Read(buf.data(), 0, P(1)), Status::kBadState);  // clean page dropped
  ASSERT_EQ(vmo_.Read(buf.data(), P(1), P(1)), Status::kOk);     // dirty page kept
  EXPECT_EQ(buf, std::vector<char>(data.begin() + P(1), data.end()));
  EXPECT_EQ(object_->SupplyPagesFromBuffer(0, P(1), data.data()), Status::kBadState);
}

TEST_F(PagerBackedTest, LastHandleClosesTheSource) {
  vmo_.Reset();
  EXPECT_TRUE(source_->is_closed());
}

// PageList::AbsentRun: the run of absent slots around a page, bounded by pages, markers and
// dirty zero ranges on either side, and by the bounds asked.
TEST(PageListTest, AbsentRunIsBoundedByAnythingNotAbsent) {
  internal::PageList list;
  list.SetPage(3, internal::SlotKind::kClean);
  list.SetPage(10, internal::SlotKind::kMarker);
  list.AddZeroRange(20, 25);
  uint64_t first = 99, end = 99;
  list.AbsentRun(5, 0, 100, &first, &end);
  EXPECT_EQ(first, 4u);
  EXPECT_EQ(end, 10u);
  list.AbsentRun(15, 0, 100, &first, &end);
  EXPECT_EQ(first, 11u);
  EXPECT_EQ(end, 20u);
  list.AbsentRun(30, 0, 100, &first, &end);
  EXPECT_EQ(first, 25u);
  EXPECT_EQ(end, 100u);
  list.AbsentRun(1, 0, 100, &first, &end);
  EXPECT_EQ(first, 0u);
  EXPECT_EQ(end, 3u);
  list.AbsentRun(15, 13, 17, &first, &end);  // the bounds asked
  EXPECT_EQ(first, 13u);
  EXPECT_EQ(end, 17u);
  // Not absent: an empty run at the page.
  for (uint64_t page : {3u, 10u, 22u}) {
    list.AbsentRun(page, 0, 100, &first, &end);
    EXPECT_EQ(first, page);
    EXPECT_EQ(end, page);
  }
}

// VmObjectPaged::AbsentRun, in bytes: supplied pages bound it; it stops at the VMO's end.
TEST(VmObjectTest, AbsentRunInBytes) {
  auto provider = std::make_shared<RecordingProvider>();
  auto source = std::make_shared<PageSource>(provider);
  std::shared_ptr<internal::VmObjectPaged> vmo;
  ASSERT_EQ(internal::VmObjectPaged::CreatePagerBacked(16 * kPageSize, 0, source, 0, &vmo),
            Status::kOk);
  std::vector<uint8_t> data(kPageSize, 7);
  ASSERT_EQ(vmo->SupplyPagesFromBuffer(4 * kPageSize, kPageSize, data.data()), Status::kOk);
  uint64_t first = 0, end = 0;
  vmo->AbsentRun(8 * kPageSize + 100, 0, UINT64_MAX, &first, &end);
  EXPECT_EQ(first, 5 * kPageSize);
  EXPECT_EQ(end, 16 * kPageSize);
  vmo->AbsentRun(kPageSize, 0, 16 * kPageSize, &first, &end);
  EXPECT_EQ(first, 0u);
  EXPECT_EQ(end, 4 * kPageSize);
  vmo->AbsentRun(4 * kPageSize, 0, 16 * kPageSize, &first, &end);
  EXPECT_EQ(first, 4 * kPageSize);
  EXPECT_EQ(end, 4 * kPageSize);
}

}  // namespace
}  // namespace upager

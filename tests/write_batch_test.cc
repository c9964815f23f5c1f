// The write batch (upager/write_batch.h): a Vmo::Write asks for at most GetWriteBatchPages()
// pages per READ or DIRTY request, with upager's default (256, the spec's revision) and with
// Zircon's current value (16, misttech/mist-os 1b3a1e61), exact packets each.
#include "upager/write_batch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "pager_writeback_util.h"
#include "test_util.h"
#include "upager/pager.h"
#include "upager/vmo.h"
#include "user_pager.h"

namespace upager::testing {
namespace {

// Sets the batch for one test and puts the default back.
class WriteBatch : public ::testing::TestWithParam<uint64_t> {
 protected:
  void SetUp() override { ASSERT_EQ(Status::kOk, SetWriteBatchPages(GetParam())); }
  void TearDown() override { ASSERT_EQ(Status::kOk, SetWriteBatchPages(kDefaultWriteBatchPages)); }
};

TEST(WriteBatchSetting, DefaultAndLimits) {
  EXPECT_EQ(256u, kDefaultWriteBatchPages);
  EXPECT_EQ(16u, kZirconLookupBatchPages);
  EXPECT_EQ(kDefaultWriteBatchPages, GetWriteBatchPages());
  EXPECT_EQ(Status::kInvalidArgs, SetWriteBatchPages(0));
  EXPECT_EQ(Status::kInvalidArgs, SetWriteBatchPages(kMaxWriteBatchPages + 1));
  EXPECT_EQ(kDefaultWriteBatchPages, GetWriteBatchPages());
  ASSERT_EQ(Status::kOk, SetWriteBatchPages(kMaxWriteBatchPages));
  EXPECT_EQ(kMaxWriteBatchPages, GetWriteBatchPages());
  ASSERT_EQ(Status::kOk, SetWriteBatchPages(kDefaultWriteBatchPages));
}

// A write over absent pages: READ per batch, then DIRTY for the supplied batch; a write over
// clean pages: DIRTY per batch. A read of the same length asks for all of it at once.
TEST_P(WriteBatch, ReadAndDirtyPerBatch) {
  const uint64_t batch = GetParam();
  const uint64_t pages = 2 * batch + 5;
  UserPager pager;
  auto vmo = pager.CreateVmo(pages, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);

  TestThread t1([&] { return WriteFill(*vmo, 0, pages, 0xaa); });
  t1.Start();
  for (uint64_t first = 0; first < pages; first += batch) {
    const uint64_t count = std::min(batch, pages - first);
    ASSERT_TRUE(t1.WaitForBlocked());
    ASSERT_TRUE(pager.WaitForPageRead(*vmo, first, count)) << "page " << first;
    EXPECT_FALSE(pager.AnyPacket());
    ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, first, count));
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, first, count)) << "page " << first;
    EXPECT_FALSE(pager.AnyPacket());
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, first, count));
  }
  ASSERT_TRUE(t1.Wait());
  EXPECT_TRUE(NoRequests(pager, *vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, pages, 0}}));
  std::vector<uint8_t> expected(P(pages), 0xaa);
  EXPECT_TRUE(CheckData(*vmo, 0, pages, expected));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 0, pages));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, pages));
  TestThread t2([&] { return WriteFill(*vmo, 0, pages, 0xbb); });
  t2.Start();
  for (uint64_t first = 0; first < pages; first += batch) {
    const uint64_t count = std::min(batch, pages - first);
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, first, count)) << "page " << first;
    EXPECT_FALSE(pager.AnyPacket());
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, first, count));
  }
  ASSERT_TRUE(t2.Wait());
  EXPECT_TRUE(NoRequests(pager, *vmo));
  std::fill(expected.begin(), expected.end(), 0xbb);
  EXPECT_TRUE(CheckData(*vmo, 0, pages, expected));

  auto vmo2 = pager.CreateVmo(pages);
  ASSERT_NE(vmo2, nullptr);
  TestThread t3([&] { return ReadPages(*vmo2, 0, pages); });
  t3.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo2, 0, pages));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo2, 0, pages));
  ASSERT_TRUE(t3.Wait());
  EXPECT_TRUE(NoRequests(pager, *vmo2));
}

// A present run inside a batch splits it: with pages [batch+4, batch+8) supplied, a write of
// [0, 2*batch+8) asks READ[0,batch), DIRTY[0,batch), READ[batch,batch+4), DIRTY[batch,batch+8)
// (the supplied pages joined by the clean ones before them), then READ and DIRTY of the batch
// from batch+8.
TEST_P(WriteBatch, PresentPagesSplitABatch) {
  const uint64_t batch = GetParam();
  const uint64_t pages = 2 * batch + 8;
  UserPager pager;
  auto vmo = pager.CreateVmo(pages, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, batch + 4, 4));

  TestThread t([&] { return WriteFill(*vmo, 0, pages, 0x5c); });
  t.Start();
  struct Step {
    bool read;
    uint64_t first, count;
  };
  const Step steps[] = {{true, 0, batch},  {false, 0, batch},        {true, batch, 4},
                        {false, batch, 8}, {true, batch + 8, batch}, {false, batch + 8, batch}};
  for (const Step& s : steps) {
    if (s.read) {
      ASSERT_TRUE(pager.WaitForPageRead(*vmo, s.first, s.count)) << "READ at " << s.first;
      EXPECT_FALSE(pager.AnyPacket());
      ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, s.first, s.count));
    } else {
      ASSERT_TRUE(pager.WaitForPageDirty(*vmo, s.first, s.count)) << "DIRTY at " << s.first;
      EXPECT_FALSE(pager.AnyPacket());
      ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, s.first, s.count));
    }
  }
  ASSERT_TRUE(t.Wait());
  EXPECT_TRUE(NoRequests(pager, *vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, pages, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, pages, std::vector<uint8_t>(P(pages), 0x5c)));
}

// A write of exactly one batch is one READ and one DIRTY; one page more is a second pair.
TEST_P(WriteBatch, BatchBoundary) {
  const uint64_t batch = GetParam();
  UserPager pager;
  auto vmo = pager.CreateVmo(batch + 1, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  TestThread t([&] { return WriteFill(*vmo, 0, batch, 0x11); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, batch));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, batch));
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, batch));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, batch));
  ASSERT_TRUE(t.Wait());
  EXPECT_TRUE(NoRequests(pager, *vmo));

  // Pages [0, batch) dirty already: a write of [0, batch+1) only asks for the last page.
  TestThread t2([&] { return WriteFill(*vmo, 0, batch + 1, 0x22); });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, batch, 1));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, batch, 1));
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, batch, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, batch, 1));
  ASSERT_TRUE(t2.Wait());
  EXPECT_TRUE(NoRequests(pager, *vmo));
  EXPECT_TRUE(CheckData(*vmo, 0, batch + 1, std::vector<uint8_t>(P(batch + 1), 0x22)));
}

// Through a snapshot-at-least-on-write clone of a pager-backed VMO, the clone's write forks
// batch by batch: READs at the root are capped the same way.
TEST_P(WriteBatch, CloneWriteReadsPerBatch) {
  const uint64_t batch = GetParam();
  const uint64_t pages = batch + 3;
  UserPager pager;
  auto vmo = pager.CreateVmo(pages);
  ASSERT_NE(vmo, nullptr);
  Vmo clone;
  ASSERT_EQ(Status::kOk,
            vmo->vmo.CreateChild(kVmoChildSnapshotAtLeastOnWrite, 0, P(pages), &clone));
  std::vector<uint8_t> data(P(pages), 0x3d);
  TestThread t([&] { return clone.Write(data.data(), 0, data.size()); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, batch));
  EXPECT_FALSE(pager.AnyPacket());
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, batch));
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, batch, 3));
  EXPECT_FALSE(pager.AnyPacket());
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, batch, 3));
  ASSERT_TRUE(t.Wait());
  EXPECT_TRUE(NoRequests(pager, *vmo));
  std::vector<uint8_t> out(data.size());
  ASSERT_EQ(Status::kOk, clone.Read(out.data(), 0, out.size()));
  EXPECT_EQ(data, out);
}

INSTANTIATE_TEST_SUITE_P(Batches, WriteBatch,
                         ::testing::Values(kDefaultWriteBatchPages, kZirconLookupBatchPages),
                         [](const ::testing::TestParamInfo<uint64_t>& p) {
                           return "Pages" + std::to_string(p.param);
                         });

}  // namespace
}  // namespace upager::testing

// PagerLoop: requests reach the VMO's handler on a loop thread; supplies and failures reach
// the reader; DIRTY is acknowledged by default; COMPLETE reaches OnComplete.
#include "upager/pager_loop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "test_util.h"

namespace upager {
namespace {

constexpr uint64_t P(uint64_t pages) { return pages * kPageSize; }

// Serves byte i of the VMO as (i / kPageSize + key) and fails page 13.
class PatternHandler : public PagerLoop::Handler {
 public:
  void OnRead(const PagerLoop::Request& r) override {
    reads++;
    for (uint64_t page = r.offset / kPageSize; page < (r.offset + r.length) / kPageSize; ++page) {
      if (page == 13) {
        r.loop->pager().OpRange(kPagerOpFail, r.vmo, P(page), P(1),
                                static_cast<uint64_t>(static_cast<int64_t>(Status::kIo)));
        continue;
      }
      std::vector<char> data(kPageSize, static_cast<char>(page + r.key));
      r.loop->pager().SupplyPagesFromBuffer(r.vmo, P(page), P(1), data.data());
    }
  }
  void OnComplete(uint64_t key) override {
    std::lock_guard lock(mutex);
    completed.push_back(key);
  }
  std::atomic<int> reads{0};
  std::mutex mutex;
  std::vector<uint64_t> completed;
};

TEST(PagerLoopTest, ServesReadsFromSeveralThreads) {
  PatternHandler handler;  // outlives the loop, which may still deliver its COMPLETE
  PagerLoop loop(2);
  ASSERT_EQ(loop.Start(), Status::kOk);
  Vmo vmo;
  ASSERT_EQ(loop.CreateVmo(0, P(32), &handler, &vmo), Status::kOk);
  std::vector<std::thread> readers;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      for (uint64_t page = t; page < 32; page += 4) {
        if (page == 13) continue;
        char c = 0;
        if (vmo.Read(&c, P(page) + 7, 1) != Status::kOk) bad++;
        if (c != static_cast<char>(page + 1)) bad++;  // the first VMO gets key 1
      }
    });
  }
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(bad.load(), 0);
  char c;
  EXPECT_EQ(vmo.Read(&c, P(13), 1), Status::kIo);
  EXPECT_GT(handler.reads.load(), 0);
  vmo.Reset();  // last handle: COMPLETE
  ASSERT_TRUE(testing::PollUntil([&] {
    std::lock_guard lock(handler.mutex);
    return handler.completed.size() == 1;
  }));
  loop.Stop();
}

TEST(PagerLoopTest, DirtyIsAcknowledgedByDefault) {
  PatternHandler handler;
  PagerLoop loop;
  ASSERT_EQ(loop.Start(), Status::kOk);
  Vmo vmo;
  ASSERT_EQ(loop.CreateVmo(kVmoTrapDirty, P(4), &handler, &vmo), Status::kOk);
  ASSERT_EQ(vmo.Write("x", P(2), 1), Status::kOk);  // READ, then DIRTY, both answered
  char c = 0;
  ASSERT_EQ(vmo.Read(&c, P(2), 1), Status::kOk);
  EXPECT_EQ(c, 'x');
  size_t actual = 0;
  VmoDirtyRange range{};
  ASSERT_EQ(loop.pager().QueryDirtyRanges(vmo, 0, P(4), &range, sizeof(range), &actual, nullptr),
            Status::kOk);
  ASSERT_EQ(actual, 1u);
  EXPECT_EQ(range.offset, P(2));
}

TEST(PagerLoopTest, UseBeforeStartIsRefused) {
  PatternHandler handler;
  PagerLoop loop;
  Vmo vmo;
  EXPECT_EQ(loop.CreateVmo(0, P(1), &handler, &vmo), Status::kBadState);
  ASSERT_EQ(loop.Start(), Status::kOk);
  EXPECT_EQ(loop.Start(), Status::kBadState);
  EXPECT_EQ(loop.CreateVmo(0, P(1), nullptr, &vmo), Status::kInvalidArgs);
}

}  // namespace
}  // namespace upager

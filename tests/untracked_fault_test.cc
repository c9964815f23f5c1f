// The untracked-fault watch (src/fault/untracked_faults.h): a thread asleep in a mapped
// fault that the library lost track of is found within the overtime interval, counted,
// and woken to retry, instead of sleeping for ever; a fault that is tracked and merely
// slow is never taken for one.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "fault/fault_service.h"
#include "mapping_util.h"
#include "upager/mapping.h"
#include "upager/pager_loop.h"
#include "upager/stats.h"
#include "upager/thread.h"

namespace upager {
namespace {

using internal::FaultService;
using namespace std::chrono_literals;

constexpr uint64_t kSize = 4 * kPageSize;

uint64_t WordAt(uint64_t offset) { return offset * 0x9E3779B97F4A7C15ull; }

// Supplies words WordAt(offset); with `hold`, waits for Release() before answering.
class Handler : public PagerLoop::Handler {
 public:
  explicit Handler(bool hold) : hold_(hold) {}
  void OnRead(const PagerLoop::Request& r) override {
    reads_.fetch_add(1);
    if (hold_) {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return released_; });
    }
    std::vector<uint64_t> words(r.length / sizeof(uint64_t));
    for (size_t i = 0; i < words.size(); ++i) words[i] = WordAt(r.offset + i * sizeof(uint64_t));
    ASSERT_EQ(r.loop->pager().SupplyPagesFromBuffer(r.vmo, r.offset, r.length, words.data()),
              Status::kOk);
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mutex_);
    released_ = true;
    cv_.notify_all();
  }
  int reads() const { return reads_.load(); }

 private:
  const bool hold_;
  std::atomic<int> reads_{0};
  std::mutex mutex_;
  std::condition_variable cv_;
  bool released_ = false;
};

// Waits for `done` (bounded). A reader that never finishes cannot be joined: the process
// ends with the failure rather than hanging.
void AwaitOrDie(const std::atomic<bool>& done, std::thread* reader) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!done.load() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  if (!done.load()) {
    ADD_FAILURE() << "the reader is still asleep in its fault after 60 s";
    std::fprintf(stderr, "untracked_fault_test: giving up on a hung reader\n");
    std::_Exit(1);
  }
  reader->join();
}

class UntrackedFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    UPAGER_REQUIRE_MAPPINGS();
    saved_ = GetPagerTimeouts();
    // Log after 200 ms (the watch then runs every 100 ms), never time out.
    SetPagerTimeouts({200ms, 0ms});
  }
  void TearDown() override { SetPagerTimeouts(saved_); }
  PagerTimeouts saved_;
};

TEST_F(UntrackedFaultTest, LostFaultIsFoundCountedAndRetried) {
  PagerLoop loop(1);
  ASSERT_EQ(loop.Start(), Status::kOk);
  Handler handler(/*hold=*/false);
  Vmo vmo;
  ASSERT_EQ(loop.CreateVmo(0, kSize, &handler, &vmo), Status::kOk);
  Mapping map;
  ASSERT_EQ(Mapping::Create(vmo, 0, kSize, kMapRead, &map), Status::kOk);
  const uint64_t untracked_before = GetCounters().untracked_faults;

  FaultService::DropNextFaultForTesting();
  std::atomic<bool> done{false};
  uint64_t value = 0;
  std::thread reader([&] {
    value = *reinterpret_cast<const volatile uint64_t*>(map.data() + kPageSize + 16);
    done.store(true);
  });
  AwaitOrDie(done, &reader);
  EXPECT_EQ(value, WordAt(kPageSize + 16));
  EXPECT_EQ(GetCounters().untracked_faults - untracked_before, 1u);
  // The lost fault made no request; the retried one made exactly one.
  EXPECT_EQ(handler.reads(), 1);
  map.Reset();
  loop.pager().DetachVmo(vmo);
  loop.RemoveHandler(&handler);
}

// A fault waiting on a slow pager is tracked: however many times the watch looks, it is
// not reported, and it is answered once, by the pager.
TEST_F(UntrackedFaultTest, SlowTrackedFaultIsNotReported) {
  PagerLoop loop(1);
  ASSERT_EQ(loop.Start(), Status::kOk);
  Handler handler(/*hold=*/true);
  Vmo vmo;
  ASSERT_EQ(loop.CreateVmo(0, kSize, &handler, &vmo), Status::kOk);
  Mapping map;
  ASSERT_EQ(Mapping::Create(vmo, 0, kSize, kMapRead, &map), Status::kOk);
  const uint64_t untracked_before = GetCounters().untracked_faults;

  std::atomic<bool> done{false};
  uint64_t value = 0;
  std::thread reader([&] {
    value = *reinterpret_cast<const volatile uint64_t*>(map.data() + 8);
    done.store(true);
  });
  // The request reached the pager; now let the watch look at the sleeping reader (it
  // needs two scans to confirm a thread: wait for four).
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (handler.reads() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(handler.reads(), 1);
  const uint64_t scans = FaultService::WatchScansForTesting();
  while (FaultService::WatchScansForTesting() < scans + 4 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_GE(FaultService::WatchScansForTesting(), scans + 4);
  EXPECT_FALSE(done.load());
  handler.Release();
  AwaitOrDie(done, &reader);
  EXPECT_EQ(value, WordAt(8));
  EXPECT_EQ(GetCounters().untracked_faults, untracked_before);
  EXPECT_EQ(handler.reads(), 1);
  map.Reset();
  loop.pager().DetachVmo(vmo);
  loop.RemoveHandler(&handler);
}

}  // namespace
}  // namespace upager

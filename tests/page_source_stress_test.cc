// Many threads against one PageSource: readers and writers running Zircon's retry loop
// over a fake VMO, supplier threads answering requests (supplying, failing, deferring),
// an evictor, a write-back thread, random cancels, suspends and a kill, then detach.
// Checks that every waiter finishes with an allowed status, nothing is left outstanding,
// and that the provider's invariants hold throughout: only disjoint requests per type,
// Clear/Swap only of what it owns, nothing sent after detach. Meant for TSAN and ASAN.
// Section numbers refer to docs/zircon-semantics.md.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "test_util.h"
#include "upager/page_source.h"
#include "upager/thread.h"

namespace upager {
namespace {

constexpr uint64_t kPages = 48;

struct Range {
  PageRequestType type;
  uint64_t offset;
  uint64_t len;
};

// Pages of a pretend VMO: present (supplied) and dirty bits under one lock, taken before
// the source's lock as a VMO's would be.
class FakeVmo {
 public:
  std::mutex mutex;
  std::vector<bool> present = std::vector<bool>(kPages, false);
  std::vector<bool> dirty = std::vector<bool>(kPages, false);
};

class StressProvider : public PageProvider {
 public:
  // Next request to answer; nothing if none came within `timeout` or once stopped.
  // Nothing is handed out while held.
  std::optional<Range> Pop(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, timeout, [&] { return stopped_ || (!held_ && !queue_.empty()); });
    if (held_ || queue_.empty()) {
      return std::nullopt;
    }
    PageRequest& request = queue_.front();
    queue_.pop_front();
    // Copied under our lock: once it leaves the queue it may be cleared and destroyed.
    return Range{GetRequestType(&request), GetRequestOffset(&request), GetRequestLen(&request)};
  }
  bool stopped() const {
    std::lock_guard lock(mutex_);
    return stopped_;
  }
  void Stop() {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    cv_.notify_all();
  }
  // Holds back every request from the suppliers (they still answer what they deferred).
  void Hold() {
    std::lock_guard lock(mutex_);
    held_ = true;
  }
  size_t owned() const {
    std::lock_guard lock(mutex_);
    return owned_.size();
  }
  bool detached() const {
    std::lock_guard lock(mutex_);
    return detached_;
  }
  // First violated invariant, if any.
  std::string error() const {
    std::lock_guard lock(mutex_);
    return error_;
  }

 private:
  void Fail(const std::string& what) {
    if (error_.empty()) error_ = what;
  }
  const PageSourceProperties& properties() const override { return properties_; }
  void SendAsyncRequest(PageRequest* request) override {
    std::lock_guard lock(mutex_);
    if (detached_) Fail("send after detach");
    const Range range{GetRequestType(request), GetRequestOffset(request), GetRequestLen(request)};
    for (const auto& [other, other_range] : owned_) {
      if (other == request) Fail("sent twice");
      if (other_range.type == range.type && other_range.offset < range.offset + range.len &&
          range.offset < other_range.offset + other_range.len) {
        Fail("overlapping primaries");
      }
    }
    owned_[request] = range;
    queue_.push_back(*request);
    cv_.notify_one();
  }
  void ClearAsyncRequest(PageRequest* request) override {
    std::lock_guard lock(mutex_);
    if (owned_.erase(request) != 1) Fail("clear of a request not owned");
    if (static_cast<internal::ProviderListHook*>(request)->is_linked()) {
      queue_.erase(queue_.iterator_to(*request));
    }
  }
  void SwapAsyncRequest(PageRequest* old_request, PageRequest* new_request) override {
    std::lock_guard lock(mutex_);
    auto it = owned_.find(old_request);
    if (it == owned_.end()) {
      Fail("swap of a request not owned");
      return;
    }
    const Range range = it->second;
    if (range.offset != GetRequestOffset(new_request) || range.len != GetRequestLen(new_request)) {
      Fail("swap changed the range");
    }
    owned_.erase(it);
    owned_[new_request] = range;
    if (static_cast<internal::ProviderListHook*>(old_request)->is_linked()) {
      auto pos = queue_.iterator_to(*old_request);
      queue_.insert(pos, *new_request);
      queue_.erase(pos);
    }
  }
  void OnDetach() override {
    std::lock_guard lock(mutex_);
    detached_ = true;
  }
  void OnClose() override {}
  Status WaitOnEvent(Event* event, bool suspendable) override {
    return WaitOnEventWithTimeouts(event, suspendable);
  }
  bool SupportsPageRequestType(PageRequestType type) const override {
    return type != PageRequestType::kWriteback;
  }

  const PageSourceProperties properties_{true, true, false, false};
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  RequestList queue_;
  std::map<const PageRequest*, Range> owned_;
  bool stopped_ = false;
  bool held_ = false;
  bool detached_ = false;
  std::string error_;
};

const VmoDebugInfo kInfo{3, "stress"};

class Stress {
 public:
  Stress() { SetPagerTimeouts({std::chrono::milliseconds(0), std::chrono::seconds(30)}); }
  ~Stress() { SetPagerTimeouts(PagerTimeouts{}); }

  // Marks absent pages of the range present and reports each newly filled run.
  void SupplyLocked(uint64_t first, uint64_t end) {
    uint64_t run = first;
    for (uint64_t page = first; page <= end; ++page) {
      if (page < end && !vmo_.present[page]) {
        vmo_.present[page] = true;
        continue;
      }
      if (page > run) source_->OnPagesSupplied(run * kPageSize, (page - run) * kPageSize);
      run = page + 1;
    }
  }
  // Marks present clean pages dirty, reporting newly dirtied runs; like OP_DIRTY hitting
  // an absent page, wakes the range anyway if some page is gone so its waiters retry.
  void DirtyLocked(uint64_t first, uint64_t end) {
    bool all_present = true;
    uint64_t run = first;
    for (uint64_t page = first; page <= end; ++page) {
      if (page < end && vmo_.present[page] && !vmo_.dirty[page]) {
        vmo_.dirty[page] = true;
        continue;
      }
      if (page < end && !vmo_.present[page]) all_present = false;
      if (page > run) source_->OnPagesDirtied(run * kPageSize, (page - run) * kPageSize);
      run = page + 1;
    }
    if (!all_present) source_->OnPagesDirtied(first * kPageSize, (end - first) * kPageSize);
  }

  void Supplier(unsigned seed) {
    std::mt19937 rng(seed);
    std::deque<Range> deferred;
    for (;;) {
      std::optional<Range> next = provider_->Pop(std::chrono::milliseconds(1));
      if (!next) {
        // Idle: answer what was held back, so that deferral never starves a waiter.
        if (provider_->stopped()) break;
        if (!deferred.empty()) {
          Answer(deferred.front(), false, rng);
          deferred.pop_front();
        }
        continue;
      }
      const int choice = static_cast<int>(rng() % 100);
      if (choice < 10) {
        deferred.push_back(*next);
        if (deferred.size() < 4) continue;
        next = deferred.front();
        deferred.pop_front();
      }
      Answer(*next, choice >= 10 && choice < 30, rng);
      if (!deferred.empty() && rng() % 2 == 0) {
        Answer(deferred.front(), false, rng);
        deferred.pop_front();
      }
    }
    for (const Range& range : deferred) Answer(range, false, rng);
  }

  void Answer(const Range& range, bool fail, std::mt19937& rng) {
    const uint64_t first = range.offset / kPageSize;
    const uint64_t end = first + range.len / kPageSize;
    if (fail) {
      static constexpr Status kCodes[] = {
          Status::kIo,      Status::kIoDataIntegrity, Status::kBadState,
          Status::kNoSpace, Status::kBufferTooSmall,  Status::kNoMemory};
      // Sometimes only part of the range.
      const uint64_t fail_first = first + rng() % (end - first);
      source_->OnPagesFailed(fail_first * kPageSize, (end - fail_first) * kPageSize,
                             kCodes[rng() % 6]);
      if (fail_first > first) {
        std::lock_guard lock(vmo_.mutex);
        if (range.type == PageRequestType::kRead) {
          SupplyLocked(first, fail_first);
        } else {
          DirtyLocked(first, fail_first);
        }
      }
      return;
    }
    std::lock_guard lock(vmo_.mutex);
    if (range.type == PageRequestType::kRead) {
      SupplyLocked(first, end);
    } else {
      DirtyLocked(first, end);
    }
  }

  // Zircon's retry loop over [first, end): READ absent pages, then (for writes) DIRTY
  // clean ones. Returns the final status.
  Status Access(std::mt19937& rng, uint64_t first, uint64_t end, bool write, bool early_wake,
                bool suspendable) {
    PageRequest req(early_wake);
    uint64_t pos = first;
    for (;;) {
      Status status;
      {
        std::lock_guard lock(vmo_.mutex);
        while (pos < end && vmo_.present[pos] && (!write || vmo_.dirty[pos])) ++pos;
        if (pos == end) return Status::kOk;
        uint64_t run_end = pos;
        if (!vmo_.present[pos]) {
          while (run_end < end && !vmo_.present[run_end]) ++run_end;
          status = source_->GetPages(pos * kPageSize, (run_end - pos) * kPageSize, &req, kInfo);
        } else {
          while (run_end < end && vmo_.present[run_end] && !vmo_.dirty[run_end]) ++run_end;
          status = source_->RequestDirtyTransition(&req, pos * kPageSize,
                                                   (run_end - pos) * kPageSize, kInfo);
        }
      }
      if (status != Status::kShouldWait) return status;
      if (rng() % 50 == 0) {
        req.CancelRequest();  // walk away sometimes; the destructor would do the same
        return Status::kCanceled;
      }
      status = req.Wait(suspendable);
      waits_++;
      if (status == Status::kIntrRetry) {
        retries_++;
        if (ParkWhileSuspended() != Status::kOk) return Status::kIntrKilled;
        continue;
      }
      if (status != Status::kOk) return status;
    }
  }

  void Waiter(unsigned seed, int iterations, std::vector<int>* histogram) {
    std::mt19937 rng(seed);
    for (int i = 0; i < iterations; ++i) {
      const uint64_t first = rng() % kPages;
      const uint64_t end = std::min(kPages, first + 1 + rng() % 8);
      if (rng() % 2 == 0) {
        // Write back and evict the range first, so that accesses keep needing the pager.
        std::lock_guard lock(vmo_.mutex);
        for (uint64_t page = first; page < end; ++page) {
          vmo_.dirty[page] = false;
          vmo_.present[page] = false;
        }
      }
      // Writes never use early wake (6.1): they may switch between READ and DIRTY, and an
      // early-woken request cannot change type.
      const bool write = rng() % 3 == 0;
      const Status status =
          Access(rng, first, end, write, !write && rng() % 2 == 0, rng() % 2 == 0);
      if (Bucket(status) == 6) {
        std::printf("unexpected status %s\n", StatusString(status));
      }
      (*histogram)[Bucket(status)]++;
      // kBadState is also a failure code a pager may use; it ends the loop only after detach.
      if (status == Status::kIntrKilled || status == Status::kTimedOut ||
          (status == Status::kBadState && source_->is_detached())) {
        return;
      }
    }
  }

  static int Bucket(Status status) {
    switch (status) {
      case Status::kOk: return 0;
      case Status::kCanceled: return 1;
      case Status::kIntrKilled: return 2;
      case Status::kBadState: return 3;  // a failure code, or refused after detach
      case Status::kTimedOut: return 5;
      default: return PageSource::IsValidInternalFailureCode(status) ? 4 : 6;
    }
  }

  void Evictor(unsigned seed, std::atomic<bool>* stop) {
    std::mt19937 rng(seed);
    while (!stop->load()) {
      {
        std::lock_guard lock(vmo_.mutex);
        const uint64_t page = rng() % kPages;
        const int choice = static_cast<int>(rng() % 16);
        if (choice < 6) {
          // Evict a run of clean pages.
          for (uint64_t p = page; p < std::min(kPages, page + 8); ++p) {
            if (!vmo_.dirty[p]) vmo_.present[p] = false;
          }
        } else if (choice < 12) {
          vmo_.dirty[page] = false;  // written back
        } else if (choice == 12) {
          const uint64_t end = std::min(kPages, page + 1 + rng() % 4);
          SupplyLocked(page, end);  // prefetch nobody asked for
        }
      }
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }

  std::atomic<int> waits_{0};
  std::atomic<int> retries_{0};
  FakeVmo vmo_;
  std::shared_ptr<StressProvider> provider_ = std::make_shared<StressProvider>();
  std::shared_ptr<PageSource> source_ = std::make_shared<PageSource>(provider_);
};

TEST(PageSourceStressTest, ConcurrentWaitersSuppliersCancelsSuspendsAndDetach) {
  constexpr int kWaiters = 6;
  constexpr int kIterations = 1000;
  Stress stress;
  std::atomic<bool> stop_background{false};
  std::vector<std::thread> suppliers;
  for (unsigned i = 0; i < 2; ++i) {
    suppliers.emplace_back([&, i] { stress.Supplier(100 + i); });
  }
  std::thread evictor([&] { stress.Evictor(7, &stop_background); });

  std::vector<std::vector<int>> histograms(kWaiters + 1, std::vector<int>(7, 0));
  std::vector<ThreadHandle> handles(kWaiters + 1);
  std::vector<std::thread> waiters;
  std::atomic<int> started{0};
  for (int i = 0; i <= kWaiters; ++i) {
    waiters.emplace_back([&, i] {
      handles[i] = ThreadHandle::Current();
      started++;
      // The last waiter never stops on its own; it is killed.
      stress.Waiter(1000 + i, i == kWaiters ? 1 << 30 : kIterations, &histograms[i]);
    });
  }
  while (started.load() <= kWaiters) std::this_thread::yield();

  // Suspend and resume waiters at random while they run.
  std::mt19937 rng(5);
  for (int round = 0; round < 200; ++round) {
    ThreadHandle& target = handles[rng() % kWaiters];
    target.Suspend();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    target.Resume();
  }
  handles[kWaiters].Kill();
  for (std::thread& waiter : waiters) waiter.join();

  // All waiters are done: nothing may be left outstanding.
  EXPECT_EQ(stress.source_->OutstandingRequests(PageRequestType::kRead), 0u);
  EXPECT_EQ(stress.source_->OutstandingRequests(PageRequestType::kDirty), 0u);
  EXPECT_EQ(stress.provider_->owned(), 0u);

  // Detach while a last wave of waiters is blocked: with the evictor stopped and the
  // suppliers holding every request back, each waiter ends up waiting on one for good.
  stop_background = true;
  evictor.join();
  stress.provider_->Hold();
  constexpr int kLastWave = 4;
  std::vector<std::thread> last_wave;
  std::vector<ThreadHandle> last_handles(kLastWave);
  std::vector<std::vector<int>> last_histograms(kLastWave, std::vector<int>(7, 0));
  std::atomic<int> last_started{0};
  for (int i = 0; i < kLastWave; ++i) {
    last_wave.emplace_back([&, i] {
      last_handles[i] = ThreadHandle::Current();
      last_started++;
      stress.Waiter(2000 + i, 1 << 30, &last_histograms[i]);
    });
  }
  while (last_started.load() < kLastWave) std::this_thread::yield();
  // All at once: answers the suppliers still held back from before may wake one for a
  // moment, but nothing can once those are out.
  EXPECT_TRUE(testing::PollUntil([&] {
    for (const ThreadHandle& handle : last_handles) {
      if (!handle.IsBlockedOnPager()) return false;
    }
    return true;
  })) << "the last wave never was blocked all at once";
  stress.source_->Detach();
  for (std::thread& waiter : last_wave) waiter.join();

  stress.provider_->Stop();
  for (std::thread& supplier : suppliers) supplier.join();

  EXPECT_EQ(stress.provider_->error(), "");
  EXPECT_TRUE(stress.provider_->detached());
  EXPECT_EQ(stress.provider_->owned(), 0u);
  int completed = 0;
  int failed = 0;
  for (int i = 0; i < kWaiters; ++i) {
    const std::vector<int>& h = histograms[i];
    EXPECT_EQ(h[2], 0) << "killed without being killed, waiter " << i;
    EXPECT_EQ(h[5], 0) << "timed out (lost wakeup?), waiter " << i;
    EXPECT_EQ(h[6], 0) << "unexpected status, waiter " << i;
    EXPECT_EQ(h[0] + h[1] + h[3] + h[4] + h[5], kIterations) << "waiter " << i;
    completed += h[0];
    failed += h[3] + h[4];
  }
  EXPECT_EQ(histograms[kWaiters][2], 1) << "the killed waiter ends with kIntrKilled";
  // Each was blocked at the detach: woken, it was refused with kBadState, which ended its
  // loop (nobody killed it, nothing timed out).
  for (int i = 0; i < kLastWave; ++i) {
    const std::vector<int>& h = last_histograms[i];
    EXPECT_GE(h[3], 1) << "last-wave waiter " << i << " never saw the detach";
    EXPECT_EQ(h[2], 0) << "last-wave waiter " << i;
    EXPECT_EQ(h[5] + h[6], 0) << "last-wave waiter " << i;
  }
  int canceled = 0;
  for (int i = 0; i < kWaiters; ++i) canceled += histograms[i][1];
  std::printf(
      "accesses %d: completed %d, failed %d, walked away %d; waits %d, restarts after "
      "suspend %d\n",
      kWaiters * kIterations, completed, failed, canceled, stress.waits_.load(),
      stress.retries_.load());
  // The run really exercised both outcomes.
  EXPECT_GT(completed, kWaiters * kIterations / 2);
  EXPECT_GT(failed, 0);
}

}  // namespace
}  // namespace upager

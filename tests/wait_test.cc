// Blocking waits (3.3, 5.2, 8): waking, killing, suspending, timing out, and the
// "blocked on pager" state, with real threads.
// Section numbers refer to docs/zircon-semantics.md.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "recording_provider.h"
#include "sync_points.h"
#include "test_util.h"
#include "upager/page_source.h"
#include "upager/thread.h"

namespace upager {
namespace {

using testing::RecordingProvider;
using testing::SyncPointWatch;
using SyncPoint = internal::SyncPoint;
using testing::WaitForBlocked;
using Lines = std::vector<std::string>;

const VmoDebugInfo kInfo{7, "wait"};

// A thread that asks for one range and waits for it, reporting what Wait returned.
class Waiter {
 public:
  Waiter(std::shared_ptr<PageSource> source, uint64_t page, uint64_t count, bool suspendable)
      : thread_([this, source, page, count, suspendable] {
          handle_promise_.set_value(ThreadHandle::Current());
          PageRequest req;
          populate_ = source->GetPages(page * kPageSize, count * kPageSize, &req, kInfo);
          status_ = populate_ == Status::kShouldWait ? req.Wait(suspendable) : populate_;
          still_active_ = req.is_active();
        }) {
    handle_ = handle_promise_.get_future().get();
  }
  ~Waiter() { Join(); }
  const ThreadHandle& handle() const { return handle_; }
  Status Join() {
    if (thread_.joinable()) {
      thread_.join();
    }
    return status_;
  }
  bool still_active() const { return still_active_; }

 private:
  std::promise<ThreadHandle> handle_promise_;
  ThreadHandle handle_;
  Status populate_ = Status::kOk;
  Status status_ = Status::kInternal;
  bool still_active_ = false;
  std::thread thread_;
};

class WaitTest : public ::testing::Test {
 protected:
  void TearDown() override { SetPagerTimeouts(PagerTimeouts{}); }
  Lines Calls() { return provider_->TakeCallStrings(); }

  std::shared_ptr<RecordingProvider> provider_ = std::make_shared<RecordingProvider>();
  std::shared_ptr<PageSource> source_ = std::make_shared<PageSource>(provider_);
};

TEST_F(WaitTest, SupplyWakesBlockedWaiter) {
  Waiter waiter(source_, 0, 1, true);
  ASSERT_TRUE(WaitForBlocked(waiter.handle()));
  source_->OnPagesSupplied(0, kPageSize);
  EXPECT_EQ(waiter.Join(), Status::kOk);
  EXPECT_EQ(Calls(), (Lines{"send R[0,1)", "clear R[0,1)"}));
}

TEST_F(WaitTest, BlockedOnPagerExactlyWhileWaiting) {
  std::atomic<bool> go{false};
  std::promise<ThreadHandle> handle_promise;
  std::thread thread([&] {
    handle_promise.set_value(ThreadHandle::Current());
    while (!go.load()) std::this_thread::yield();
    PageRequest req;
    ASSERT_EQ(source_->GetPages(0, kPageSize, &req, kInfo), Status::kShouldWait);
    EXPECT_EQ(req.Wait(false), Status::kOk);
  });
  ThreadHandle handle = handle_promise.get_future().get();
  EXPECT_FALSE(handle.IsBlockedOnPager());
  go = true;
  ASSERT_TRUE(WaitForBlocked(handle));
  source_->OnPagesSupplied(0, kPageSize);
  thread.join();
  EXPECT_FALSE(handle.IsBlockedOnPager());
  EXPECT_FALSE(ThreadHandle().IsBlockedOnPager());
}

// Scenario 3 (ConcurrentOverlappingAccess at this layer): 32 threads, one page, one request.
TEST_F(WaitTest, Scenario3_ManyThreadsOnOnePageShareOneRequest) {
  std::vector<std::unique_ptr<Waiter>> waiters;
  for (int i = 0; i < 32; ++i) {
    waiters.push_back(std::make_unique<Waiter>(source_, 0, 1, true));
  }
  for (auto& waiter : waiters) {
    ASSERT_TRUE(WaitForBlocked(waiter->handle()));
  }
  EXPECT_EQ(Calls(), (Lines{"send R[0,1)"}));
  source_->OnPagesSupplied(0, kPageSize);
  for (auto& waiter : waiters) {
    EXPECT_EQ(waiter->Join(), Status::kOk);
  }
  EXPECT_EQ(Calls(), (Lines{"clear R[0,1)"}));
}

TEST_F(WaitTest, KillInterruptsWaitAndCancelsRequest) {
  Waiter waiter(source_, 2, 1, false);
  ASSERT_TRUE(WaitForBlocked(waiter.handle()));
  ThreadHandle handle = waiter.handle();
  handle.Kill();
  EXPECT_EQ(waiter.Join(), Status::kIntrKilled);
  EXPECT_FALSE(waiter.still_active());
  EXPECT_TRUE(handle.is_killed());
  EXPECT_EQ(Calls(), (Lines{"send R[2,3)", "clear R[2,3)"}));
}

TEST_F(WaitTest, KilledThreadsLaterWaitsReturnKilledAtOnce) {
  std::thread thread([&] {
    ThreadHandle::Current().Kill();
    PageRequest req;
    ASSERT_EQ(source_->GetPages(0, kPageSize, &req, kInfo), Status::kShouldWait);
    EXPECT_EQ(req.Wait(false), Status::kIntrKilled);
    EXPECT_FALSE(req.is_active());
    // An already-signalled request still reports its answer.
    ASSERT_EQ(source_->GetPages(kPageSize, kPageSize, &req, kInfo), Status::kShouldWait);
    source_->OnPagesSupplied(kPageSize, kPageSize);
    EXPECT_EQ(req.Wait(false), Status::kOk);
  });
  thread.join();
  EXPECT_EQ(Calls(), (Lines{"send R[0,1)", "clear R[0,1)", "send R[1,2)", "clear R[1,2)"}));
}

// Killing the primary's waiter hands its request to the secondary (3.7) without a packet.
TEST_F(WaitTest, KillPrimaryWaiterPromotesSecondary) {
  Waiter primary(source_, 0, 4, false);
  ASSERT_TRUE(WaitForBlocked(primary.handle()));
  Waiter secondary(source_, 1, 1, false);
  ASSERT_TRUE(WaitForBlocked(secondary.handle()));
  ThreadHandle(primary.handle()).Kill();
  EXPECT_EQ(primary.Join(), Status::kIntrKilled);
  EXPECT_EQ(Calls(), (Lines{"send R[0,4)", "swap R[0,4)"}));
  source_->OnPagesSupplied(0, 4 * kPageSize);
  EXPECT_EQ(secondary.Join(), Status::kOk);
  EXPECT_EQ(Calls(), (Lines{"clear R[0,4)"}));
}

// Scenario 12: a suspended waiter's request is cancelled; after resume the operation is
// restarted and a second request for the same page is sent.
TEST_F(WaitTest, Scenario12_SuspendCancelsAndResumeRestarts) {
  SyncPointWatch watch;
  std::promise<ThreadHandle> handle_promise;
  std::vector<Status> statuses;
  std::thread thread([&] {
    handle_promise.set_value(ThreadHandle::Current());
    for (;;) {  // the restart loop of a Vmo operation
      PageRequest req;
      ASSERT_EQ(source_->GetPages(0, kPageSize, &req, kInfo), Status::kShouldWait);
      const Status status = req.Wait(true);
      statuses.push_back(status);
      if (status != Status::kIntrRetry) {
        break;
      }
      ASSERT_EQ(ParkWhileSuspended(), Status::kOk);
    }
  });
  ThreadHandle handle = handle_promise.get_future().get();
  ASSERT_TRUE(WaitForBlocked(handle));
  EXPECT_EQ(Calls(), (Lines{"send R[0,1)"}));
  handle.Suspend();
  ASSERT_TRUE(testing::PollUntil([&] { return provider_->calls().size() == 1; }));
  EXPECT_EQ(Calls(), (Lines{"clear R[0,1)"}));
  EXPECT_FALSE(handle.IsBlockedOnPager());
  // Parked, not asking for anything.
  ASSERT_TRUE(watch.WaitFor(SyncPoint::kThreadParks)) << "the thread never parked";
  EXPECT_EQ(Calls(), Lines{});
  handle.Resume();
  ASSERT_TRUE(WaitForBlocked(handle));
  EXPECT_EQ(Calls(), (Lines{"send R[0,1)"}));
  source_->OnPagesSupplied(0, kPageSize);
  thread.join();
  EXPECT_EQ(statuses, (std::vector<Status>{Status::kIntrRetry, Status::kOk}));
}

// SuspendInKernel: a non-suspendable wait keeps waiting while suspended; no extra request.
TEST_F(WaitTest, SuspendDoesNotInterruptNonSuspendableWait) {
  Waiter waiter(source_, 0, 1, false);
  ASSERT_TRUE(WaitForBlocked(waiter.handle()));
  ThreadHandle handle = waiter.handle();
  SyncPointWatch watch;
  handle.Suspend();
  // The wait saw the suspension and went back to sleep.
  ASSERT_TRUE(watch.WaitFor(SyncPoint::kThreadSleepsSuspended))
      << "the suspension never reached the waiting thread, or ended its wait";
  EXPECT_TRUE(handle.IsBlockedOnPager());
  source_->OnPagesSupplied(0, kPageSize);
  EXPECT_EQ(waiter.Join(), Status::kOk);
  handle.Resume();
  EXPECT_EQ(Calls(), (Lines{"send R[0,1)", "clear R[0,1)"}));
}

TEST_F(WaitTest, KillWhileParkedReturnsKilled) {
  SyncPointWatch watch;
  std::promise<ThreadHandle> handle_promise;
  Status parked = Status::kOk;
  std::thread thread([&] {
    handle_promise.set_value(ThreadHandle::Current());
    ThreadHandle::Current().Suspend();
    parked = ParkWhileSuspended();
  });
  ThreadHandle handle = handle_promise.get_future().get();
  ASSERT_TRUE(watch.WaitFor(SyncPoint::kThreadParks)) << "the thread never parked";
  handle.Kill();
  thread.join();
  EXPECT_EQ(parked, Status::kIntrKilled);
}

// 5.2: the overtime timeout ends an unanswered wait with kTimedOut and cancels it.
TEST_F(WaitTest, OvertimeTimeoutCancelsRequest) {
  SetPagerTimeouts({std::chrono::milliseconds(10), std::chrono::milliseconds(50)});
  Waiter waiter(source_, 5, 1, true);
  EXPECT_EQ(waiter.Join(), Status::kTimedOut);
  EXPECT_FALSE(waiter.still_active());
  EXPECT_EQ(Calls(), (Lines{"send R[5,6)", "clear R[5,6)"}));
  EXPECT_EQ(source_->OutstandingRequests(PageRequestType::kRead), 0u);
}

TEST_F(WaitTest, ZeroTimeoutsMeanNever) {
  SetPagerTimeouts({std::chrono::milliseconds(0), std::chrono::milliseconds(0)});
  EXPECT_EQ(GetPagerTimeouts().overtime_timeout.count(), 0);
  Waiter waiter(source_, 0, 1, true);
  ASSERT_TRUE(WaitForBlocked(waiter.handle()));
  // A second waiter, started after the first blocked, with a short timeout: once it has
  // timed out, the first one has waited longer than that, and is still waiting.
  SetPagerTimeouts({std::chrono::milliseconds(0), std::chrono::milliseconds(50)});
  Waiter control(source_, 1, 1, true);
  EXPECT_EQ(control.Join(), Status::kTimedOut);
  EXPECT_TRUE(waiter.handle().IsBlockedOnPager());
  source_->OnPagesSupplied(0, kPageSize);
  EXPECT_EQ(waiter.Join(), Status::kOk);
}

TEST_F(WaitTest, DetachWakesWaitersWhoThenGetBadState) {
  std::promise<ThreadHandle> handle_promise;
  std::vector<Status> statuses;
  std::thread thread([&] {
    handle_promise.set_value(ThreadHandle::Current());
    PageRequest req;
    Status status;
    while ((status = source_->GetPages(0, kPageSize, &req, kInfo)) == Status::kShouldWait) {
      statuses.push_back(req.Wait(true));
    }
    statuses.push_back(status);
  });
  ThreadHandle handle = handle_promise.get_future().get();
  ASSERT_TRUE(WaitForBlocked(handle));
  source_->Detach();
  thread.join();
  EXPECT_EQ(statuses, (std::vector<Status>{Status::kOk, Status::kBadState}));
}

TEST_F(WaitTest, FailureReachesBlockedWaiter) {
  Waiter waiter(source_, 0, 2, true);
  ASSERT_TRUE(WaitForBlocked(waiter.handle()));
  source_->OnPagesFailed(0, 2 * kPageSize, Status::kIoDataIntegrity);
  EXPECT_EQ(waiter.Join(), Status::kIoDataIntegrity);
}

// Event (the auto-reset event under every wait).
TEST(EventTest, SignalBeforeWaitIsConsumedOnce) {
  Event event;
  event.Signal(Status::kIo);
  EXPECT_TRUE(event.is_signaled());
  EXPECT_EQ(event.Wait(kInfiniteDeadline, false), Status::kIo);
  EXPECT_FALSE(event.is_signaled());
  EXPECT_EQ(event.Wait(DeadlineAfter(std::chrono::nanoseconds(0)), false), Status::kTimedOut);
}

TEST(EventTest, WaitTimesOutAtDeadline) {
  Event event;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(event.Wait(DeadlineAfter(std::chrono::milliseconds(20)), true), Status::kTimedOut);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(20));
}

TEST(EventTest, SignalFromAnotherThreadWakes) {
  SyncPointWatch watch;
  Event event;
  std::thread signaller([&] {
    // Only once the waiter sleeps, so that the signal has to wake it.
    EXPECT_TRUE(watch.WaitFor(SyncPoint::kThreadSleeps));
    event.Signal(Status::kOk);
  });
  EXPECT_EQ(event.Wait(kInfiniteDeadline, false), Status::kOk);
  signaller.join();
}

TEST(StatusTest, ZirconSpellings) {
  EXPECT_STREQ(StatusString(Status::kOk), "ZX_OK");
  EXPECT_STREQ(StatusString(Status::kIoDataIntegrity), "ZX_ERR_IO_DATA_INTEGRITY");
  EXPECT_STREQ(StatusString(Status::kIntrKilled), "ZX_ERR_INTERNAL_INTR_KILLED");
  EXPECT_STREQ(StatusString(static_cast<Status>(-9999)), "(unknown)");
  EXPECT_EQ(static_cast<int32_t>(Status::kShouldWait), -22);
  EXPECT_EQ(DeadlineAfter(std::chrono::nanoseconds::max()), kInfiniteDeadline);
}

}  // namespace
}  // namespace upager

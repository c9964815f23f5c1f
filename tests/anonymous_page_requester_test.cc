// AnonymousPageRequester and PageBudget (17): waiting for memory through PageRequest::Wait,
// and MultiPageRequest choosing between that and a page request.
// Section numbers refer to docs/zircon-semantics.md.
#include "upager/anonymous_page_requester.h"

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <thread>

#include "recording_provider.h"
#include "test_util.h"
#include "upager/page_budget.h"
#include "upager/page_source.h"

namespace upager {
namespace {

using testing::PollUntil;

TEST(PageBudgetTest, AllocateAndFreeWithinLimit) {
  PageBudget budget(4);
  EXPECT_TRUE(budget.TryAllocate(3));
  EXPECT_FALSE(budget.TryAllocate(2));
  EXPECT_TRUE(budget.TryAllocate(1));
  EXPECT_EQ(budget.used(), 4u);
  budget.Free(2);
  EXPECT_EQ(budget.used(), 2u);
  budget.SetLimit(1);
  EXPECT_FALSE(budget.TryAllocate(1));  // over the lowered limit until pages are freed
  budget.Free(2);
  EXPECT_TRUE(budget.TryAllocate(1));
  EXPECT_EQ(PageBudget::Default().limit(), PageBudget::kUnlimited);
}

class AnonymousTest : public ::testing::Test {
 protected:
  PageBudget budget_{2};
  std::shared_ptr<AnonymousPageRequester> requester_ =
      std::make_shared<AnonymousPageRequester>(&budget_);
};

TEST_F(AnonymousTest, WaitsUntilPagesAreFreed) {
  ASSERT_TRUE(budget_.TryAllocate(2));
  std::promise<ThreadHandle> handle_promise;
  Status status = Status::kInternal;
  std::thread waiter([&] {
    handle_promise.set_value(ThreadHandle::Current());
    PageRequest req;
    ASSERT_EQ(requester_->FillRequest(&req), Status::kShouldWait);
    status = req.Wait(true);
    EXPECT_FALSE(req.is_active());
  });
  ThreadHandle handle = handle_promise.get_future().get();
  ASSERT_TRUE(PollUntil([&] { return budget_.waiters() == 1; }));
  EXPECT_FALSE(handle.IsBlockedOnPager());  // waiting for memory is not waiting for a pager
  budget_.Free(1);
  waiter.join();
  EXPECT_EQ(status, Status::kOk);
  EXPECT_EQ(budget_.waiters(), 0u);
  EXPECT_TRUE(budget_.TryAllocate(1));
}

TEST_F(AnonymousTest, FreedBetweenFillAndWaitDoesNotSleep) {
  ASSERT_TRUE(budget_.TryAllocate(2));
  PageRequest req;
  ASSERT_EQ(requester_->FillRequest(&req), Status::kShouldWait);
  budget_.Free(2);
  ASSERT_TRUE(budget_.TryAllocate(2));  // full again, but something was freed meanwhile
  EXPECT_EQ(req.Wait(false), Status::kOk);
}

TEST_F(AnonymousTest, RaisingTheLimitWakes) {
  ASSERT_TRUE(budget_.TryAllocate(2));
  std::thread waiter([&] {
    PageRequest req;
    ASSERT_EQ(requester_->FillRequest(&req), Status::kShouldWait);
    EXPECT_EQ(req.Wait(false), Status::kOk);
  });
  ASSERT_TRUE(PollUntil([&] { return budget_.waiters() == 1; }));
  budget_.SetLimit(3);
  waiter.join();
}

TEST_F(AnonymousTest, KillAndSuspendInterruptTheWait) {
  ASSERT_TRUE(budget_.TryAllocate(2));
  for (bool kill : {false, true}) {
    std::promise<ThreadHandle> handle_promise;
    Status status = Status::kInternal;
    std::thread waiter([&] {
      handle_promise.set_value(ThreadHandle::Current());
      PageRequest req;
      ASSERT_EQ(requester_->FillRequest(&req), Status::kShouldWait);
      status = req.Wait(true);
      EXPECT_FALSE(req.is_active());
    });
    ThreadHandle handle = handle_promise.get_future().get();
    ASSERT_TRUE(PollUntil([&] { return budget_.waiters() == 1; }));
    if (kill) {
      handle.Kill();
    } else {
      handle.Suspend();
    }
    waiter.join();
    EXPECT_EQ(status, kill ? Status::kIntrKilled : Status::kIntrRetry);
    EXPECT_EQ(budget_.waiters(), 0u);
  }
}

TEST_F(AnonymousTest, BadRequestsAreRejected) {
  PageRequest req;
  ASSERT_EQ(requester_->FillRequest(&req), Status::kShouldWait);
  EXPECT_EQ(requester_->FillRequest(&req), Status::kInvalidArgs);  // already active
  req.CancelRequest();
  EXPECT_FALSE(req.is_active());
  EXPECT_EQ(req.Wait(false), Status::kBadState);
  EXPECT_EQ(requester_->FillRequest(nullptr), Status::kInvalidArgs);
}

TEST_F(AnonymousTest, MultiPageRequestWaitsOnWhicheverIsActive) {
  auto provider = std::make_shared<testing::RecordingProvider>();
  auto source = std::make_shared<PageSource>(provider);
  const VmoDebugInfo info{1, "multi"};

  MultiPageRequest multi;
  EXPECT_EQ(multi.Wait(), Status::kBadState);  // nothing active

  // Memory first: the budget has room, so the wait returns at once.
  ASSERT_EQ(multi.MakeAnonymousActive(*requester_), Status::kShouldWait);
  EXPECT_TRUE(multi.is_anonymous_active());
  EXPECT_EQ(multi.Wait(), Status::kOk);
  EXPECT_FALSE(multi.is_anonymous_active());

  // Then pages.
  ASSERT_EQ(source->GetPages(0, kPageSize, multi.GetPageRequest(), info), Status::kShouldWait);
  EXPECT_TRUE(multi.is_page_request_active());
  EXPECT_EQ(multi.MakeAnonymousActive(*requester_), Status::kBadState);  // one at a time
  source->OnPagesSupplied(0, kPageSize);
  EXPECT_EQ(multi.Wait(), Status::kOk);

  // CancelRequests withdraws an outstanding page request.
  ASSERT_EQ(source->GetPages(kPageSize, kPageSize, multi.GetPageRequest(), info),
            Status::kShouldWait);
  multi.CancelRequests();
  EXPECT_FALSE(multi.is_page_request_active());
  EXPECT_EQ(provider->TakeCallStrings(), (std::vector<std::string>{"send R[0,1)", "clear R[0,1)",
                                                                   "send R[1,2)", "clear R[1,2)"}));
}

TEST(LazyPageRequestTest, ConstructedOnFirstUse) {
  LazyPageRequest lazy(true);
  EXPECT_FALSE(lazy.is_initialized());
  EXPECT_TRUE(lazy->early_wake());
  EXPECT_TRUE(lazy.is_initialized());
  EXPECT_EQ(lazy.get(), &*lazy);
}

}  // namespace
}  // namespace upager

// The request path allocates nothing: a PageRequest is the storage for its own tracking.
// This binary replaces the global allocator with a counting one and runs every request
// path (primary, secondary, clipping, early wake, failure, cancel with promotion, waits,
// asynchronous completion, memory waits, cancel by destructor) between two readings of the counter.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>

#include "counting_allocator.h"
#include "upager/anonymous_page_requester.h"
#include "upager/page_budget.h"
#include "upager/page_source.h"

namespace upager {
namespace {

// A provider that queues what it is sent on an intrusive list, like a real one would.
class QueueingProvider : public PageProvider {
 public:
  size_t queued() const { return queue_.size(); }

 private:
  const PageSourceProperties& properties() const override { return properties_; }
  void SendAsyncRequest(PageRequest* request) override { queue_.push_back(*request); }
  void ClearAsyncRequest(PageRequest* request) override {
    queue_.erase(queue_.iterator_to(*request));
  }
  void SwapAsyncRequest(PageRequest* old_request, PageRequest* new_request) override {
    auto it = queue_.iterator_to(*old_request);
    queue_.insert(it, *new_request);
    queue_.erase(it);
  }
  void OnDetach() override {}
  void OnClose() override {}
  Status WaitOnEvent(Event* event, bool suspendable) override {
    return WaitOnEventWithTimeouts(event, suspendable);
  }
  bool SupportsPageRequestType(PageRequestType type) const override {
    return type != PageRequestType::kWriteback;
  }

  const PageSourceProperties properties_{true, true, false, false};
  RequestList queue_;  // only touched under the source lock in this test
};

class CompletionCounter : public PageRequestCompletion {
 public:
  void OnPageRequestSignaled(PageRequest*, Status) override { ++signals; }
  int signals = 0;
};

constexpr uint64_t P(uint64_t pages) { return pages * kPageSize; }
const VmoDebugInfo kInfo{1, "alloc"};

void RunEveryRequestPath(PageSource& source, AnonymousPageRequester& requester,
                         CompletionCounter& counter) {
  // Primary, secondary (case C), clipped secondary (B), clipped primary (D).
  PageRequest primary;
  PageRequest secondary;
  PageRequest clipped;
  PageRequest prefix;
  EXPECT_EQ(source.GetPages(P(8), P(8), &primary, kInfo), Status::kShouldWait);
  EXPECT_EQ(source.GetPages(P(9), P(2), &secondary, kInfo), Status::kShouldWait);
  EXPECT_EQ(source.GetPages(P(12), P(8), &clipped, kInfo), Status::kShouldWait);
  EXPECT_EQ(source.GetPages(P(0), P(10), &prefix, kInfo), Status::kShouldWait);
  source.OnPagesSupplied(P(0), P(16));
  EXPECT_EQ(primary.Wait(false), Status::kOk);
  EXPECT_EQ(secondary.Wait(false), Status::kOk);
  EXPECT_EQ(clipped.Wait(false), Status::kOk);
  EXPECT_EQ(prefix.Wait(false), Status::kOk);

  // Early wake, then failure during early wake.
  PageRequest reader(true);
  EXPECT_EQ(source.GetPages(P(0), P(3), &reader, kInfo), Status::kShouldWait);
  source.OnPagesSupplied(P(0), P(1));
  EXPECT_EQ(reader.Wait(false), Status::kOk);
  EXPECT_EQ(source.GetPages(P(1), P(2), &reader, kInfo), Status::kShouldWait);
  source.OnPagesFailed(P(1), P(1), Status::kIo);
  EXPECT_EQ(reader.Wait(false), Status::kIo);
  reader.CancelRequest();

  // Cancel with promotion, DIRTY requests, asynchronous completion.
  PageRequest first;
  PageRequest heir;
  PageRequest async(false, &counter);
  EXPECT_EQ(source.RequestDirtyTransition(&first, P(0), P(4), kInfo), Status::kShouldWait);
  EXPECT_EQ(source.RequestDirtyTransition(&heir, P(1), P(1), kInfo), Status::kShouldWait);
  EXPECT_EQ(source.RequestDirtyTransition(&async, P(2), P(1), kInfo), Status::kShouldWait);
  first.CancelRequest();
  source.OnPagesDirtied(P(0), P(4));
  EXPECT_EQ(heir.Wait(false), Status::kOk);

  // A memory wait that is satisfied at once.
  PageRequest memory;
  EXPECT_EQ(requester.FillRequest(&memory), Status::kShouldWait);
  EXPECT_EQ(memory.Wait(false), Status::kOk);

  // A request abandoned by its owner: the destructor cancels it.
  PageRequest ignored;
  EXPECT_EQ(source.GetPages(P(30), P(1), &ignored, kInfo), Status::kShouldWait);
}

TEST(AllocationTest, RequestPathsDoNotAllocate) {
  auto provider = std::make_shared<QueueingProvider>();
  auto source = std::make_shared<PageSource>(provider);
  PageBudget budget;
  auto requester = std::make_shared<AnonymousPageRequester>(&budget);
  CompletionCounter counter;

  // Warm up: thread-local state, lazily created objects.
  RunEveryRequestPath(*source, *requester, counter);

  const uint64_t before = testing::AllocationCount();
  for (int i = 0; i < 100; ++i) {
    RunEveryRequestPath(*source, *requester, counter);
  }
  const uint64_t after = testing::AllocationCount();
  EXPECT_EQ(after - before, 0u) << "allocations on the request path";
  EXPECT_EQ(counter.signals, 101);
  EXPECT_EQ(provider->queued(), 0u);
}

TEST(AllocationTest, CounterSeesAllocations) {
  // The counter is live: a heap allocation here is counted.
  const uint64_t before = testing::AllocationCount();
  auto p = std::make_unique<int>(1);
  EXPECT_GT(testing::AllocationCount(), before);
  EXPECT_EQ(*p, 1);
}

}  // namespace
}  // namespace upager

// The zx test support's small helpers (compat/zx/testing/include): fit::function and
// fit::defer, fbl's list, rounding and array, sync_completion_t. Fuchsia's pager harness uses
// them; these checks run without any Fuchsia file.
#include <fbl/algorithm.h>
#include <fbl/array.h>
#include <fbl/intrusive_double_list.h>
#include <gtest/gtest.h>
#include <lib/fit/defer.h>
#include <lib/fit/function.h>
#include <lib/sync/completion.h>

#include <memory>
#include <thread>
#include <vector>

namespace {

TEST(FitFunction, HoldsMoveOnlyCallablesAndMoves) {
  auto owned = std::make_unique<int>(41);
  fit::function<int(int)> f = [p = std::move(owned)](int x) { return *p + x; };
  ASSERT_TRUE(static_cast<bool>(f));
  EXPECT_EQ(f(1), 42);
  fit::function<int(int)> g = std::move(f);
  EXPECT_FALSE(static_cast<bool>(f));  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ(g(2), 43);
  g = nullptr;
  EXPECT_TRUE(g == nullptr);
  int calls = 0;
  fit::function<void()> counter = [&calls] { ++calls; };
  counter();
  counter();
  EXPECT_EQ(calls, 2);
}

TEST(FitDefer, RunsOnceUnlessCancelled) {
  int runs = 0;
  {
    auto d = fit::defer([&runs] { ++runs; });
  }
  EXPECT_EQ(runs, 1);
  {
    auto d = fit::defer([&runs] { ++runs; });
    d.cancel();
  }
  EXPECT_EQ(runs, 1);
  {
    auto d = fit::defer([&runs] { ++runs; });
    d.call();
    EXPECT_EQ(runs, 2);
    auto moved = std::move(d);  // nothing left to run
  }
  EXPECT_EQ(runs, 2);
  {
    fit::deferred_callback c = fit::defer_callback([&runs] { runs += 10; });
  }
  EXPECT_EQ(runs, 12);
}

struct Node : fbl::DoublyLinkedListable<std::unique_ptr<Node>> {
  explicit Node(int v, int* freed) : value(v), freed_count(freed) {}
  ~Node() { ++*freed_count; }
  int value;
  int* freed_count;
};

std::vector<int> Values(const fbl::DoublyLinkedList<std::unique_ptr<Node>>& list) {
  std::vector<int> out;
  for (const Node& n : list) out.push_back(n.value);
  return out;
}

TEST(FblList, PushEraseIterateAndFree) {
  int freed = 0;
  {
    fbl::DoublyLinkedList<std::unique_ptr<Node>> list;
    EXPECT_TRUE(list.is_empty());
    list.push_back(std::make_unique<Node>(2, &freed));
    list.push_back(std::make_unique<Node>(3, &freed));
    list.push_front(std::make_unique<Node>(1, &freed));
    EXPECT_EQ(Values(list), (std::vector<int>{1, 2, 3}));
    EXPECT_EQ(list.size_slow(), 3u);
    // Erase the middle one while iterating, as userpager's request matcher does.
    for (Node& n : list) {
      if (n.value == 2) {
        std::unique_ptr<Node> taken = list.erase(n);
        EXPECT_FALSE(taken->InContainer());
        break;
      }
    }
    EXPECT_EQ(freed, 1);
    EXPECT_EQ(Values(list), (std::vector<int>{1, 3}));
    std::unique_ptr<Node> front = list.pop_front();
    ASSERT_NE(front, nullptr);
    EXPECT_EQ(front->value, 1);
    EXPECT_EQ(Values(list), (std::vector<int>{3}));
    list.push_back(std::move(front));
    EXPECT_EQ(Values(list), (std::vector<int>{3, 1}));
    EXPECT_EQ(list.erase_if([](const Node& n) { return n.value == 3; })->value, 3);
    EXPECT_EQ(freed, 2);
  }
  EXPECT_EQ(freed, 3);  // the list frees what it still holds
}

TEST(FblAlgorithm, RoundingAndArray) {
  EXPECT_EQ(fbl::round_up(0u, 4096u), 0u);
  EXPECT_EQ(fbl::round_up(1u, 4096u), 4096u);
  EXPECT_EQ(fbl::round_up(4096ul, 4096u), 4096ul);
  EXPECT_EQ(fbl::round_down(8191ul, 4096u), 4096ul);
  EXPECT_EQ(fbl::round_up(10, 3), 12);
  EXPECT_TRUE(fbl::is_pow2(4096u));
  EXPECT_FALSE(fbl::is_pow2(12u));
  fbl::Array<int> a = fbl::MakeArray<int>(4);
  EXPECT_EQ(a.size(), 4u);
  for (int v : a) EXPECT_EQ(v, 0);
  a[2] = 7;
  fbl::Array<int> b = std::move(a);
  EXPECT_EQ(b[2], 7);
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move)
}

TEST(SyncCompletion, WaitsForTheSignal) {
  sync_completion_t c;
  EXPECT_EQ(sync_completion_wait(&c, ZX_MSEC(1)), ZX_ERR_TIMED_OUT);
  EXPECT_FALSE(sync_completion_signaled(&c));
  std::thread signaller([&c] { sync_completion_signal(&c); });
  EXPECT_EQ(sync_completion_wait(&c, ZX_TIME_INFINITE), ZX_OK);
  signaller.join();
  EXPECT_TRUE(sync_completion_signaled(&c));
  EXPECT_EQ(sync_completion_wait_deadline(&c, 0), ZX_OK);  // stays signalled
  sync_completion_reset(&c);
  EXPECT_EQ(sync_completion_wait_deadline(&c, zx_clock_get_monotonic()), ZX_ERR_TIMED_OUT);
}

}  // namespace

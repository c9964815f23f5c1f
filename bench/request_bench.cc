// Benchmarks of the page-request core: PageSource + PageRequest + a PageProvider.
//
//   BM_SyncCycle/random:R/outstanding:N
//       One thread: GetPages on one page -> SendAsyncRequest -> OnPagesSupplied -> the
//       request is completed and signalled -> PageRequest::Wait returns kOk at once. N other
//       disjoint one-page requests are outstanding on the same source (even pages 0, 2, ...,
//       2N-2); the measured cycle is on an odd page between them: the middle one (R=0: the
//       same tree path every cycle, cache-warm) or a pseudo-random one (R=1: a different
//       path every cycle, so cache, TLB and branch misses count).
//   BM_AsyncCycle/random:R/outstanding:N
//       The same without Wait: the request has a PageRequestCompletion recording the status.
//   BM_ControlIntrusiveSet/random:R/outstanding:N
//       Control without upager: the same ordered-set operations on a bare
//       boost::intrusive::set of PageRequest-sized nodes, to tell the set's inherent cost
//       from upager's own.
//   BM_CrossThread_PageRequest/pinning:P/timed_waits:T
//       A waiter (the benchmark thread) does GetPages + Wait; the provider's worker thread
//       receives the request through the provider's queue and calls OnPagesSupplied.
//       T=1: default PagerTimeouts (each wait sleeps with a deadline, as in production);
//       T=0: timeouts off (the waiter sleeps without a deadline), for comparison.
//   BM_CrossThread_CondVarPingPong/pinning:P/notify_under_lock:L
//       Baseline: A signals B, B signals A with a bare std::mutex + condition variables.
//       L=0 is the baseline proper; L=1 notifies with the mutex held, the pattern upager's
//       signal path uses, for comparison.
//   Pinning P: 0 = OS placement, 1 = both threads on one CPU, 2 = one CPU each. Cross-thread
//   benchmarks report real time per round trip, round trips per second, and the process's
//   voluntary (blocks_per_round_trip) and involuntary (preempts_per_round_trip) context
//   switches per round trip.
//
// Every benchmark reports allocs_per_cycle: the heap allocations (any operator new, any
// thread) made during the measured loop, per cycle. It must be 0; if it is not, or a cycle
// returns an unexpected status, the binary exits with status 1 after running everything.
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include <boost/intrusive/set.hpp>

#include "alloc_counter.h"
#include "request_bench_util.h"
#include "upager/page_provider.h"
#include "upager/page_request.h"
#include "upager/page_source.h"
#include "upager/status.h"
#include "upager/thread.h"

namespace {

using upager::kPageSize;
using upager::PageProvider;
using upager::PageRequest;
using upager::PageRequestCompletion;
using upager::PageRequestType;
using upager::PageSource;
using upager::PageSourceProperties;
using upager::Status;
using upager::VmoDebugInfo;
using upager_bench::ChooseCpus;
using upager_bench::ContextSwitches;
using upager_bench::CountContextSwitches;
using upager_bench::Fail;
using upager_bench::kDebugInfo;
using upager_bench::kUserPagerProperties;
using upager_bench::PinCurrentThread;
using upager_bench::Pinning;
using upager_bench::ReportAllocations;
using upager_bench::ReportContextSwitches;
using upager_bench::ScopedPin;

// A provider that only counts what the source tells it (no queue, no allocation). Its
// callbacks all run under the source lock, which is what guards the counters.
class CountingProvider final : public PageProvider {
 public:
  uint64_t sends() const { return sends_; }
  uint64_t clears() const { return clears_; }

 private:
  const PageSourceProperties& properties() const override { return kUserPagerProperties; }
  void SendAsyncRequest(PageRequest* /*request*/) override { ++sends_; }
  void ClearAsyncRequest(PageRequest* /*request*/) override { ++clears_; }
  void SwapAsyncRequest(PageRequest* /*old_request*/, PageRequest* /*new_request*/) override {}
  void OnDetach() override {}
  void OnClose() override {}
  Status WaitOnEvent(upager::Event* event, bool suspendable) override {
    return WaitOnEventWithTimeouts(event, suspendable);
  }
  bool SupportsPageRequestType(PageRequestType type) const override {
    return type == PageRequestType::kRead;
  }

  uint64_t sends_ = 0;
  uint64_t clears_ = 0;
};

// A provider with a worker thread, as a real back end would have: SendAsyncRequest queues
// the request (intrusively, no allocation) under the provider's mutex and wakes the worker;
// the worker takes the request and copies its range under that mutex, then supplies the
// range through PageSource::OnPagesSupplied with the provider's mutex released.
class WorkerProvider final : public PageProvider {
 public:
  ~WorkerProvider() override { Stop(); }

  // `source` must outlive Stop(). The worker runs on `cpu` if it is >= 0.
  void Start(PageSource* source, int cpu) {
    source_ = source;
    stop_ = false;
    worker_ = std::thread([this, cpu] {
      PinCurrentThread(cpu);
      Run();
    });
  }
  void Stop() {
    if (!worker_.joinable()) {
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_one();
    worker_.join();
  }
  uint64_t supplied() const { return supplied_.load(std::memory_order_relaxed); }

 private:
  const PageSourceProperties& properties() const override { return kUserPagerProperties; }
  void SendAsyncRequest(PageRequest* request) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(*request);
    }
    cv_.notify_one();
  }
  void ClearAsyncRequest(PageRequest* request) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (IsQueued(request)) {
      queue_.erase(queue_.iterator_to(*request));
    }
  }
  void SwapAsyncRequest(PageRequest* old_request, PageRequest* new_request) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (IsQueued(old_request)) {
      auto it = queue_.iterator_to(*old_request);
      queue_.insert(it, *new_request);
      queue_.erase(it);
    }
  }
  void OnDetach() override {}
  void OnClose() override {}
  Status WaitOnEvent(upager::Event* event, bool suspendable) override {
    return WaitOnEventWithTimeouts(event, suspendable);
  }
  bool SupportsPageRequestType(PageRequestType type) const override {
    return type == PageRequestType::kRead;
  }

  static bool IsQueued(PageRequest* request) {
    return static_cast<upager::internal::ProviderListHook*>(request)->is_linked();
  }

  void Run() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) {
        return;
      }
      PageRequest& request = queue_.front();
      queue_.pop_front();
      const uint64_t offset = GetRequestOffset(&request);
      const uint64_t len = GetRequestLen(&request);
      lock.unlock();
      // Never call into the source with the provider's lock held.
      source_->OnPagesSupplied(offset, len);
      supplied_.fetch_add(1, std::memory_order_relaxed);
      lock.lock();
    }
  }

  PageSource* source_ = nullptr;
  std::mutex mutex_;
  std::condition_variable cv_;
  RequestList queue_;  // guarded by mutex_
  bool stop_ = false;  // guarded by mutex_
  std::atomic<uint64_t> supplied_{0};
  std::thread worker_;
};

// Records what it was told; runs under the source lock.
class RecordingCompletion final : public PageRequestCompletion {
 public:
  void OnPageRequestSignaled(PageRequest* /*request*/, Status status) override {
    last_status = status;
    ++signals;
  }
  Status last_status = Status::kInternal;
  uint64_t signals = 0;
};

enum class Placement : int64_t { kMiddle = 0, kRandom = 1 };

// N outstanding one-page READ requests on the even pages 0, 2, ..., 2N-2.
bool PopulateOutstanding(PageSource& source, int64_t n,
                         std::vector<std::unique_ptr<PageRequest>>& requests) {
  requests.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    auto request = std::make_unique<PageRequest>();
    if (source.GetPages(static_cast<uint64_t>(2 * i) * kPageSize, kPageSize, request.get(),
                        kDebugInfo) != Status::kShouldWait) {
      return false;
    }
    requests.push_back(std::move(request));
  }
  return source.OutstandingRequests(PageRequestType::kRead) == static_cast<size_t>(n);
}

// Byte offsets of the odd pages the measured cycle uses, cycled through with a mask. All lie
// strictly between two outstanding requests: pages 1, 3, ..., 2N-3.
constexpr size_t kOffsetTableSize = 1 << 14;
std::vector<uint64_t> MakeOffsets(Placement placement, int64_t n) {
  std::vector<uint64_t> offsets(kOffsetTableSize);
  const uint64_t gaps = static_cast<uint64_t>(n - 1);  // odd pages between the evens
  std::mt19937_64 rng(0x5eed);
  std::uniform_int_distribution<uint64_t> dist(0, gaps - 1);
  for (uint64_t& offset : offsets) {
    const uint64_t gap = placement == Placement::kMiddle ? gaps / 2 : dist(rng);
    offset = (2 * gap + 1) * kPageSize;
  }
  return offsets;
}

// (1) + (2): the uncontended synchronous cycle.
void BM_SyncCycle(benchmark::State& state) {
  const auto placement = static_cast<Placement>(state.range(0));
  const int64_t n = state.range(1);
  // Positive control for the allocation counter: setting up does allocate (at least one
  // PageRequest per outstanding request), and setup_allocs shows that it was counted.
  const uint64_t setup_allocs_before = upager_bench::AllocationCount();
  auto provider = std::make_shared<CountingProvider>();
  auto source = std::make_shared<PageSource>(provider);
  std::vector<std::unique_ptr<PageRequest>> outstanding;
  if (!PopulateOutstanding(*source, n, outstanding)) {
    Fail(state, "populating the outstanding requests failed");
    return;
  }
  state.counters["setup_allocs"] = benchmark::Counter(
      static_cast<double>(upager_bench::AllocationCount() - setup_allocs_before));
  const std::vector<uint64_t> offsets = MakeOffsets(placement, n);
  PageRequest request;

  // Warm-up cycle: creates this thread's ThreadState and points the request at the source,
  // both one-time allocations/reference counts that are not part of a cycle.
  if (source->GetPages(offsets[0], kPageSize, &request, kDebugInfo) != Status::kShouldWait) {
    Fail(state, "warm-up GetPages failed");
    return;
  }
  source->OnPagesSupplied(offsets[0], kPageSize);
  if (request.Wait(false) != Status::kOk) {
    Fail(state, "warm-up Wait failed");
    return;
  }

  const uint64_t sends_before = provider->sends();
  const uint64_t clears_before = provider->clears();
  size_t i = 0;
  bool ok = true;
  const uint64_t allocs_before = upager_bench::AllocationCount();
  for (auto _ : state) {
    const uint64_t offset = offsets[i++ & (kOffsetTableSize - 1)];
    ok &= source->GetPages(offset, kPageSize, &request, kDebugInfo) == Status::kShouldWait;
    source->OnPagesSupplied(offset, kPageSize);
    ok &= request.Wait(false) == Status::kOk;
  }
  ReportAllocations(state, allocs_before, "BM_SyncCycle");

  const auto iterations = static_cast<uint64_t>(state.iterations());
  if (!ok || provider->sends() - sends_before != iterations ||
      provider->clears() - clears_before != iterations ||
      source->OutstandingRequests(PageRequestType::kRead) != static_cast<size_t>(n)) {
    Fail(state, "BM_SyncCycle: a cycle did not go GetPages -> Send -> Clear -> Wait kOk");
  }
  state.counters["outstanding"] = benchmark::Counter(static_cast<double>(n));
  state.SetItemsProcessed(state.iterations());
}

// The asynchronous variant: no Wait; the completion records the status.
void BM_AsyncCycle(benchmark::State& state) {
  const auto placement = static_cast<Placement>(state.range(0));
  const int64_t n = state.range(1);
  auto provider = std::make_shared<CountingProvider>();
  auto source = std::make_shared<PageSource>(provider);
  std::vector<std::unique_ptr<PageRequest>> outstanding;
  if (!PopulateOutstanding(*source, n, outstanding)) {
    Fail(state, "populating the outstanding requests failed");
    return;
  }
  const std::vector<uint64_t> offsets = MakeOffsets(placement, n);
  RecordingCompletion completion;
  PageRequest request(false, &completion);

  if (source->GetPages(offsets[0], kPageSize, &request, kDebugInfo) != Status::kShouldWait) {
    Fail(state, "warm-up GetPages failed");
    return;
  }
  source->OnPagesSupplied(offsets[0], kPageSize);

  const uint64_t signals_before = completion.signals;
  size_t i = 0;
  bool ok = true;
  const uint64_t allocs_before = upager_bench::AllocationCount();
  for (auto _ : state) {
    const uint64_t offset = offsets[i++ & (kOffsetTableSize - 1)];
    ok &= source->GetPages(offset, kPageSize, &request, kDebugInfo) == Status::kShouldWait;
    source->OnPagesSupplied(offset, kPageSize);
    ok &= completion.last_status == Status::kOk;
    completion.last_status = Status::kInternal;
  }
  ReportAllocations(state, allocs_before, "BM_AsyncCycle");

  if (!ok || completion.signals - signals_before != static_cast<uint64_t>(state.iterations()) ||
      request.is_active()) {
    Fail(state, "BM_AsyncCycle: a cycle did not complete with kOk exactly once");
  }
  state.counters["outstanding"] = benchmark::Counter(static_cast<double>(n));
  state.SetItemsProcessed(state.iterations());
}

// (3): waiter thread <-> provider worker thread. Argument pinning: 0 leaves placement to the
// OS, 1 pins both threads to one CPU, 2 pins them to two different CPUs.
void BM_CrossThread_PageRequest(benchmark::State& state) {
  int main_cpu;
  int worker_cpu;
  if (!ChooseCpus(static_cast<Pinning>(state.range(0)), &main_cpu, &worker_cpu)) {
    state.SkipWithError("this placement needs more CPUs");
    return;
  }
  ScopedPin pin(main_cpu);
  // timed_waits:0 turns the overtime log/timeout off, so the waiter sleeps without a
  // deadline (no timer armed per wait).
  const bool timed_waits = state.range(1) != 0;
  const upager::PagerTimeouts saved_timeouts = upager::GetPagerTimeouts();
  if (!timed_waits) {
    upager::SetPagerTimeouts({std::chrono::milliseconds(0), std::chrono::milliseconds(0)});
  }
  auto provider = std::make_shared<WorkerProvider>();
  auto source = std::make_shared<PageSource>(provider);
  provider->Start(source.get(), worker_cpu);
  PageRequest request;
  constexpr uint64_t kOffset = 7 * kPageSize;

  bool ok = source->GetPages(kOffset, kPageSize, &request, kDebugInfo) == Status::kShouldWait &&
            request.Wait(false) == Status::kOk;  // warm-up
  const ContextSwitches switches_before = CountContextSwitches();
  const uint64_t allocs_before = upager_bench::AllocationCount();
  for (auto _ : state) {
    ok &= source->GetPages(kOffset, kPageSize, &request, kDebugInfo) == Status::kShouldWait;
    ok &= request.Wait(false) == Status::kOk;
  }
  ReportAllocations(state, allocs_before, "BM_CrossThread_PageRequest");
  ReportContextSwitches(state, switches_before);
  // The worker counts a supply after OnPagesSupplied returns, which may be after the waiter
  // has already woken: read the count once the worker has been joined.
  provider->Stop();
  upager::SetPagerTimeouts(saved_timeouts);
  const uint64_t supplied = provider->supplied();

  if (!ok || supplied != static_cast<uint64_t>(state.iterations()) + 1) {  // + warm-up
    Fail(state, "BM_CrossThread_PageRequest: a round trip failed");
  }
  state.counters["round_trips_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// Baseline: one round trip = A wakes B, B wakes A, with one std::mutex and two condition
// variables. Argument pinning: as for BM_CrossThread_PageRequest. Argument notify_under_lock:
// 0 notifies after unlocking (the cheapest correct
// form, the baseline proper); 1 notifies while still holding the mutex, as upager's signal
// path does (PageSource lock -> Event lock -> ThreadState lock -> notify), which on glibc
// can wake the other thread only for it to block on the mutex at once.
void BM_CrossThread_CondVarPingPong(benchmark::State& state) {
  int main_cpu;
  int b_cpu;
  if (!ChooseCpus(static_cast<Pinning>(state.range(0)), &main_cpu, &b_cpu)) {
    state.SkipWithError("this placement needs more CPUs");
    return;
  }
  ScopedPin pin(main_cpu);
  const bool notify_under_lock = state.range(1) != 0;
  std::mutex mutex;
  std::condition_variable to_b;
  std::condition_variable to_a;
  bool b_turn = false;  // guarded by mutex
  bool stop = false;    // guarded by mutex
  uint64_t rounds = 0;  // guarded by mutex

  std::thread b([&] {
    PinCurrentThread(b_cpu);
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      to_b.wait(lock, [&] { return b_turn || stop; });
      if (stop) {
        return;
      }
      b_turn = false;
      ++rounds;
      if (notify_under_lock) {
        to_a.notify_one();
      } else {
        lock.unlock();
        to_a.notify_one();
        lock.lock();
      }
    }
  });

  auto round_trip = [&] {
    std::unique_lock<std::mutex> lock(mutex);
    b_turn = true;
    if (notify_under_lock) {
      to_b.notify_one();
    } else {
      lock.unlock();
      to_b.notify_one();
      lock.lock();
    }
    to_a.wait(lock, [&] { return !b_turn; });
  };

  round_trip();  // warm-up
  const ContextSwitches switches_before = CountContextSwitches();
  const uint64_t allocs_before = upager_bench::AllocationCount();
  for (auto _ : state) {
    round_trip();
  }
  ReportAllocations(state, allocs_before, "BM_CrossThread_CondVarPingPong");
  ReportContextSwitches(state, switches_before);
  {
    std::lock_guard<std::mutex> lock(mutex);
    stop = true;
  }
  to_b.notify_one();
  b.join();
  if (rounds != static_cast<uint64_t>(state.iterations()) + 1) {
    Fail(state, "BM_CrossThread_CondVarPingPong: lost a round trip");
  }
  state.counters["round_trips_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// Control (no upager code): the ordered-set work of one cycle done on a bare
// boost::intrusive::set shaped like PageSource's (keyed by end offset, nodes the size of a
// PageRequest, the same N nodes on the even pages): upper_bound + insert (GetPages),
// upper_bound + erase (OnPagesSupplied). What remains of BM_SyncCycle's growth with N after
// subtracting this is upager's own.
struct ControlNode : boost::intrusive::set_base_hook<> {
  uint64_t offset = 0;
  uint64_t len = 0;
  unsigned char padding[sizeof(PageRequest) - sizeof(boost::intrusive::set_base_hook<>) -
                        2 * sizeof(uint64_t)] = {};
};
static_assert(sizeof(ControlNode) == sizeof(PageRequest));
struct ControlNodeEnd {
  using type = uint64_t;
  uint64_t operator()(const ControlNode& node) const { return node.offset + node.len; }
};
using ControlSet =
    boost::intrusive::set<ControlNode, boost::intrusive::key_of_value<ControlNodeEnd>,
                          boost::intrusive::constant_time_size<true>>;

void BM_ControlIntrusiveSet(benchmark::State& state) {
  const auto placement = static_cast<Placement>(state.range(0));
  const int64_t n = state.range(1);
  std::vector<std::unique_ptr<ControlNode>> nodes;
  ControlSet set;
  for (int64_t i = 0; i < n; ++i) {
    nodes.push_back(std::make_unique<ControlNode>());
    nodes.back()->offset = static_cast<uint64_t>(2 * i) * kPageSize;
    nodes.back()->len = kPageSize;
    set.insert(*nodes.back());
  }
  const std::vector<uint64_t> offsets = MakeOffsets(placement, n);
  ControlNode node;
  size_t i = 0;
  bool ok = true;
  const uint64_t allocs_before = upager_bench::AllocationCount();
  for (auto _ : state) {
    const uint64_t offset = offsets[i++ & (kOffsetTableSize - 1)];
    const uint64_t end = offset + kPageSize;
    // GetPages: clip against the next primary, then insert.
    auto next = set.upper_bound(offset);
    ok &= next == set.end() || next->offset >= end;
    node.offset = offset;
    node.len = kPageSize;
    set.insert(node);
    // OnPagesSupplied: find the first primary ending after `offset`; it is complete.
    auto it = set.upper_bound(offset);
    while (it != set.end() && it->offset < end) {
      it = set.erase(it);
    }
  }
  ReportAllocations(state, allocs_before, "BM_ControlIntrusiveSet");
  if (!ok || set.size() != static_cast<size_t>(n)) {
    Fail(state, "BM_ControlIntrusiveSet: bad set state");
  }
  set.clear();
  state.counters["outstanding"] = benchmark::Counter(static_cast<double>(n));
}

void CycleArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"random", "outstanding"});
  for (Placement placement : {Placement::kMiddle, Placement::kRandom}) {
    for (int64_t n : {10, 1000, 10000, 100000}) {
      b->Args({static_cast<int64_t>(placement), n});
    }
  }
}

BENCHMARK(BM_SyncCycle)->Apply(CycleArgs);
BENCHMARK(BM_AsyncCycle)->Apply(CycleArgs);
BENCHMARK(BM_ControlIntrusiveSet)->Apply(CycleArgs);
BENCHMARK(BM_CrossThread_PageRequest)
    ->ArgNames({"pinning", "timed_waits"})
    ->ArgsProduct({{0, 1, 2}, {1, 0}})
    ->UseRealTime();
BENCHMARK(BM_CrossThread_CondVarPingPong)
    ->ArgNames({"pinning", "notify_under_lock"})
    ->ArgsProduct({{0, 1, 2}, {0, 1}})
    ->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (upager_bench::g_failed.load()) {
    std::fprintf(stderr,
                 "request_bench: FAILED (allocations in a measured loop or a broken cycle; "
                 "see above)\n");
    return 1;
  }
  return 0;
}

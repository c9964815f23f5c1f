// page_source_demo: a PageSource, a provider with its own worker thread, and several
// threads that need overlapping pages at the same time.
//
// The cast, as in Zircon:
//   - DemoVmo: a 24-page "VMO" that only knows which pages are present. Its mutex plays the
//     role of the VMO lock: a reader checks for a missing page and calls GetPages under it,
//     and the worker marks pages present and calls OnPagesSupplied under it, so a supply can
//     never slip in between "page is missing" and "request is tracked".
//   - WorkerProvider: a PageProvider that queues the requests the PageSource sends it and
//     serves them from a worker thread, pretending to read each one from a slow disk. Page
//     kBadPage cannot be read: the worker fails it with ZX_ERR_IO.
//   - reader threads: each wants a range of pages and loops as a Zircon VMO operation does:
//     find the first missing page, ask for it (GetPages returns kShouldWait), drop the VMO
//     lock, Wait, and re-check, because a woken waiter is not promised its pages.
//
// The PageSource only forwards ranges nobody has asked for yet, so the provider sees far
// fewer requests than the readers make. Lock order is VMO -> source -> provider; the
// provider never calls into the PageSource while holding its own lock.
#include <upager/upager.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <latch>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace {

using upager::Event;
using upager::kPageSize;
using upager::PageProvider;
using upager::PageRequest;
using upager::PageRequestType;
using upager::PageSource;
using upager::PageSourceProperties;
using upager::Status;
using upager::StatusString;

constexpr uint64_t kNumPages = 24;
constexpr uint64_t kBadPage = 13;  // reading this page from "disk" fails with ZX_ERR_IO
constexpr auto kDiskLatency = std::chrono::milliseconds(3);
const upager::VmoDebugInfo kVmoInfo{1, "demo-vmo"};

// Which pages of the VMO hold content.
struct DemoVmo {
  std::mutex mutex;                       // the "VMO lock"; taken before the source's lock
  std::array<bool, kNumPages> present{};  // guarded by mutex
  std::array<int, kNumPages> supplied{};  // times each page was supplied; guarded by mutex
};

// A provider with a worker thread. The PageSource calls Send/Clear/Swap with its own lock
// held; they only touch the queue, under the provider's lock. The worker takes requests
// off the queue and resolves them by calling the source with no provider lock held.
class WorkerProvider final : public PageProvider {
 public:
  explicit WorkerProvider(DemoVmo* vmo) : vmo_(vmo) {}
  ~WorkerProvider() override { Stop(); }
  WorkerProvider(const WorkerProvider&) = delete;
  WorkerProvider& operator=(const WorkerProvider&) = delete;

  // The provider exists before its source (the source is constructed from it), so the
  // worker learns about the source afterwards. A weak reference avoids a cycle.
  void Start(const std::shared_ptr<PageSource>& source) {
    source_ = source;
    worker_ = std::thread([this] { WorkerLoop(); });
  }

  // Stops the worker and waits for it. Call with no PageSource or VMO lock held (the
  // worker may be waiting for those to finish a request).
  void Stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (worker_.joinable()) {
      worker_.join();
    }
  }

  int sends() const { return sends_.load(); }
  int swaps() const { return swaps_.load(); }
  int clears_while_queued() const { return clears_while_queued_.load(); }
  bool detached() const { return detached_.load(); }
  bool closed() const { return closed_.load(); }

 private:
  // What the worker copies out of a request before letting go of the provider lock.
  struct Job {
    PageRequestType type;
    uint64_t offset;
    uint64_t len;
  };

  // True while `request` sits in queue_ (the hook is a safe-mode Boost.Intrusive hook,
  // unlinked as soon as the request leaves the list).
  static bool IsQueued(const PageRequest* request) {
    return static_cast<const upager::internal::ProviderListHook*>(request)->is_linked();
  }

  // --- Called by the PageSource, with the source's lock held. ---

  const PageSourceProperties& properties() const override { return kProperties; }

  bool SupportsPageRequestType(PageRequestType type) const override {
    return type == PageRequestType::kRead;
  }

  void SendAsyncRequest(PageRequest* request) override {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(*request);
    }
    sends_.fetch_add(1);
    cv_.notify_one();
  }

  void ClearAsyncRequest(PageRequest* request) override {
    // The request was resolved or cancelled. If the worker has not taken it yet, withdraw
    // it; if the worker already took it, the worker holds only a copy of its range.
    std::lock_guard lock(mutex_);
    if (IsQueued(request)) {
      queue_.erase(queue_.iterator_to(*request));
      clears_while_queued_.fetch_add(1);
    }
  }

  void SwapAsyncRequest(PageRequest* old_request, PageRequest* new_request) override {
    // `new_request` takes over `old_request` (same range) and keeps its place in line.
    std::lock_guard lock(mutex_);
    swaps_.fetch_add(1);
    if (IsQueued(old_request)) {
      auto it = queue_.iterator_to(*old_request);
      queue_.insert(it, *new_request);
      queue_.erase(it);
    }
  }

  void OnDetach() override { detached_.store(true); }
  void OnClose() override { closed_.store(true); }

  // Called with no lock held by a thread waiting on one of our requests.
  Status WaitOnEvent(Event* event, bool suspendable) override {
    return WaitOnEventWithTimeouts(event, suspendable);
  }

  // --- The worker thread. ---

  void WorkerLoop() {
    for (;;) {
      Job job{};
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_) {
          return;
        }
        // Pop the head under the lock and copy its range out: once the request is off the
        // queue, the source may clear it and its owner may destroy it at any moment.
        PageRequest* request = &queue_.front();
        queue_.pop_front();
        job = {GetRequestType(request), GetRequestOffset(request), GetRequestLen(request)};
      }
      std::this_thread::sleep_for(kDiskLatency);  // "read it from disk", no lock held
      Resolve(job);
    }
  }

  void Resolve(const Job& job) {
    std::shared_ptr<PageSource> source = source_.lock();
    if (!source) {
      return;
    }
    const uint64_t first = job.offset / kPageSize;
    const uint64_t end = first + job.len / kPageSize;
    std::printf("  provider: %s pages [%2" PRIu64 ",%2" PRIu64 ")",
                upager::PageRequestTypeString(job.type), first, end);

    // Install the pages in the VMO, then tell the source. Only pages that newly became
    // present may be reported (the source counts bytes), hence the runs.
    std::lock_guard vmo_lock(vmo_->mutex);
    uint64_t run_start = first;
    auto flush = [&](uint64_t run_end) {
      if (run_end > run_start) {
        source->OnPagesSupplied(run_start * kPageSize, (run_end - run_start) * kPageSize);
      }
    };
    for (uint64_t page = first; page < end; ++page) {
      if (page == kBadPage) {
        flush(page);
        source->OnPagesFailed(page * kPageSize, kPageSize, Status::kIo);
        std::printf(", page %" PRIu64 " failed (ZX_ERR_IO)", page);
        run_start = page + 1;
      } else if (vmo_->present[page]) {
        flush(page);  // already there: not a state change, do not report it
        run_start = page + 1;
      } else {
        vmo_->present[page] = true;
        ++vmo_->supplied[page];
      }
    }
    flush(end);
    std::printf("\n");
  }

  static constexpr PageSourceProperties kProperties{/*is_user_pager=*/false,
                                                    /*is_preserving_page_content=*/true,
                                                    /*is_providing_specific_physical_pages=*/false,
                                                    /*is_handling_free=*/false};

  DemoVmo* const vmo_;
  std::weak_ptr<PageSource> source_;
  std::thread worker_;

  std::mutex mutex_;  // the provider lock; always taken after the source's lock
  std::condition_variable cv_;
  RequestList queue_;      // guarded by mutex_
  bool stopping_ = false;  // guarded by mutex_

  std::atomic<int> sends_{0};
  std::atomic<int> swaps_{0};
  std::atomic<int> clears_while_queued_{0};
  std::atomic<bool> detached_{false};
  std::atomic<bool> closed_{false};
};

struct Reader {
  uint64_t first;  // pages [first, first + count)
  uint64_t count;
  // Results.
  Status status = Status::kInternal;
  int get_pages_calls = 0;
  int waits = 0;
};

// Makes pages [first, first+count) present, the way a VMO read does: retry until every page
// is there or a wait reports a failure for the first page still needed.
Status ReadPages(DemoVmo& vmo, PageSource& source, Reader& reader) {
  PageRequest request;  // on the stack, reused for every round
  const uint64_t end = reader.first + reader.count;
  for (;;) {
    {
      std::lock_guard vmo_lock(vmo.mutex);
      uint64_t missing = reader.first;
      while (missing < end && vmo.present[missing]) {
        ++missing;
      }
      if (missing == end) {
        return Status::kOk;  // everything is present
      }
      // Ask for the run of missing pages starting there.
      uint64_t run_end = missing + 1;
      while (run_end < end && !vmo.present[run_end]) {
        ++run_end;
      }
      ++reader.get_pages_calls;
      const Status status =
          source.GetPages(missing * kPageSize, (run_end - missing) * kPageSize, &request, kVmoInfo);
      if (status != Status::kShouldWait) {
        return status;  // e.g. ZX_ERR_BAD_STATE once the source is detached
      }
    }  // drop the VMO lock before waiting: the worker needs it to supply
    ++reader.waits;
    // Not suspendable: nobody suspends threads in this demo (a suspendable wait could
    // return kIntrRetry, after which the caller parks and restarts).
    const Status status = request.Wait(/*suspendable=*/false);
    if (status != Status::kOk) {
      return status;  // the failure hit the first page this reader still needed
    }
    // kOk: re-check; some pages may have been clipped off the request or failed for
    // another waiter.
  }
}

}  // namespace

int main() {
  DemoVmo vmo;
  auto provider = std::make_shared<WorkerProvider>(&vmo);
  auto source = std::make_shared<PageSource>(provider);
  provider->Start(source);

  // Overlapping ranges, started at the same moment. Four readers want the same page.
  std::vector<Reader> readers = {{0, 8},  {2, 4},  {4, 8},  {0, 16}, {12, 4},
                                 {13, 1}, {20, 1}, {20, 1}, {20, 1}, {20, 1}};
  std::printf("page_source_demo: %" PRIu64 "-page VMO, %zu readers, page %" PRIu64
              " fails with ZX_ERR_IO\n",
              kNumPages, readers.size(), kBadPage);

  const auto start = std::chrono::steady_clock::now();
  std::latch ready(static_cast<std::ptrdiff_t>(readers.size()));
  std::vector<std::thread> threads;
  threads.reserve(readers.size());
  for (Reader& reader : readers) {
    threads.emplace_back([&vmo, &source, &reader, &ready] {
      ready.arrive_and_wait();
      reader.status = ReadPages(vmo, *source, reader);
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);

  // Report, and check that what happened is what Zircon's rules promise.
  bool ok = true;
  int get_pages_calls = 0;
  int waits = 0;
  for (size_t i = 0; i < readers.size(); ++i) {
    const Reader& r = readers[i];
    get_pages_calls += r.get_pages_calls;
    waits += r.waits;
    const bool wants_bad_page = r.first <= kBadPage && kBadPage < r.first + r.count;
    const Status expected = wants_bad_page ? Status::kIo : Status::kOk;
    std::printf("reader %zu pages [%2" PRIu64 ",%2" PRIu64
                "): %-14s after %d GetPages / %d waits%s\n",
                i, r.first, r.first + r.count, StatusString(r.status), r.get_pages_calls, r.waits,
                r.status == expected ? "" : "  <-- UNEXPECTED");
    ok = ok && r.status == expected;
  }
  {
    std::lock_guard vmo_lock(vmo.mutex);
    // However many readers wanted a page, it was read from "disk" at most once...
    for (uint64_t page = 0; page < kNumPages; ++page) {
      if (vmo.supplied[page] > 1 || (page == kBadPage && vmo.present[page])) {
        std::printf("page %" PRIu64 " supplied %d times\n", page, vmo.supplied[page]);
        ok = false;
      }
    }
    // ...and a reader told ZX_OK has all its pages.
    for (const Reader& r : readers) {
      for (uint64_t page = r.first; r.status == Status::kOk && page < r.first + r.count; ++page) {
        ok = ok && vmo.present[page];
      }
    }
  }
  std::printf(
      "readers: %d GetPages calls, %d waits; provider: %d requests (%d swaps, %d withdrawn "
      "from its queue); %lld ms\n",
      get_pages_calls, waits, provider->sends(), provider->swaps(), provider->clears_while_queued(),
      static_cast<long long>(elapsed.count()));
  std::printf("de-duplication: %d of %d GetPages calls waited on a request already sent\n",
              get_pages_calls - provider->sends(), get_pages_calls);

  // Tear down: Close detaches the source (completing anything outstanding) and tells the
  // provider OnDetach then OnClose. After that the source refuses new requests.
  source->Close();
  PageRequest late;
  const Status after_close = source->GetPages(0, kPageSize, &late, kVmoInfo);
  std::printf("after Close: provider detached=%d closed=%d, GetPages returns %s\n",
              provider->detached(), provider->closed(), StatusString(after_close));
  ok = ok && provider->detached() && provider->closed() && after_close == Status::kBadState;
  provider->Stop();  // no locks held here: the worker can finish and exit

  std::printf("%s\n", ok ? "OK" : "FAILED");
  return ok ? 0 : 1;
}

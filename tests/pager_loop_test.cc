// PagerLoop: requests reach the VMO's handler on a loop thread; supplies and failures reach
// the reader; DIRTY is acknowledged by default; COMPLETE reaches OnComplete.
#include "upager/pager_loop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "sync_points.h"
#include "test_util.h"

namespace upager {
namespace {

constexpr uint64_t P(uint64_t pages) { return pages * kPageSize; }

using testing::SyncPointWatch;
using SyncPoint = internal::SyncPoint;

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

// Holds every OnRead until Release() (bounded, so that a failed test cannot hang the loop's
// Stop), then supplies zeros (which fails harmlessly on a detached VMO). Records whether
// OnComplete ever ran while an OnRead was still running.
class GateHandler : public PagerLoop::Handler {
 public:
  void OnRead(const PagerLoop::Request& r) override {
    {
      std::unique_lock lock(mutex_);
      ++calls_;
      ++running_;
      cv_.notify_all();
      cv_.wait_for(lock, std::chrono::seconds(60), [&] { return released_; });
    }
    std::vector<char> zeros(r.length, 0);
    r.loop->pager().SupplyPagesFromBuffer(r.vmo, r.offset, r.length, zeros.data());
    std::lock_guard lock(mutex_);
    --running_;
    cv_.notify_all();
  }
  void OnComplete(uint64_t /*key*/) override {
    std::lock_guard lock(mutex_);
    ++completes_;
    if (running_ != 0) complete_during_read_ = true;
    cv_.notify_all();
  }

  // Bounded waits; false if the condition did not come in time.
  bool WaitRunning(int n, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return running_ >= n; });
  }
  bool WaitCompletes(int n, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return completes_ >= n; });
  }
  void Release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    cv_.notify_all();
  }

  int calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  int running() {
    std::lock_guard lock(mutex_);
    return running_;
  }
  int completes() {
    std::lock_guard lock(mutex_);
    return completes_;
  }
  bool complete_during_read() {
    std::lock_guard lock(mutex_);
    return complete_during_read_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int calls_ = 0;
  int running_ = 0;
  int completes_ = 0;
  bool released_ = false;
  bool complete_during_read_ = false;
};

// Bounds every page-request wait of the test (a lost wake-up then fails, not hangs).
class TimeoutScope {
 public:
  explicit TimeoutScope(std::chrono::milliseconds timeout) : saved_(GetPagerTimeouts()) {
    SetPagerTimeouts({std::chrono::milliseconds(0), timeout});
  }
  ~TimeoutScope() { SetPagerTimeouts(saved_); }
  TimeoutScope(const TimeoutScope&) = delete;
  TimeoutScope& operator=(const TimeoutScope&) = delete;

 private:
  const PagerTimeouts saved_;
};

// RemoveHandler on its own thread, recording what was running when it returned.
class Remover {
 public:
  Remover(PagerLoop* loop, GateHandler* handler)
      : thread_([this, loop, handler] {
          loop->RemoveHandler(handler);
          running_at_return_ = handler->running();
          completes_at_return_ = handler->completes();
          returned_.store(true);
        }) {}
  ~Remover() { Join(); }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  bool returned() const { return returned_.load(); }
  // Valid after Join.
  int running_at_return() const { return running_at_return_; }
  int completes_at_return() const { return completes_at_return_; }

 private:
  std::atomic<bool> returned_{false};
  int running_at_return_ = -1;
  int completes_at_return_ = -1;
  std::thread thread_;
};

TEST(PagerLoopTest, RemoveHandlerWaitsForARunningCallAndNoCallFollows) {
  SyncPointWatch watch;
  GateHandler handler;
  PatternHandler witness;
  PagerLoop loop(1);  // one thread: packets are dispatched in the order they were queued
  ASSERT_EQ(loop.Start(), Status::kOk);
  Vmo vmo;
  Vmo other;  // a second VMO of the same handler
  Vmo witness_vmo;
  ASSERT_EQ(loop.CreateVmo(0, P(4), &handler, &vmo), Status::kOk);
  ASSERT_EQ(loop.CreateVmo(0, P(4), &handler, &other), Status::kOk);
  ASSERT_EQ(loop.CreateVmo(0, P(4), &witness, &witness_vmo), Status::kOk);

  Status read_status = Status::kOk;
  std::thread reader([&] {
    char c;
    read_status = vmo.Read(&c, 0, 1);
  });
  const bool running = handler.WaitRunning(1);
  EXPECT_TRUE(running) << "the READ never reached the handler";
  // Detached, the VMO fails its waiters rather than leaving them to a removed handler.
  EXPECT_EQ(loop.pager().DetachVmo(vmo), Status::kOk);
  reader.join();
  EXPECT_EQ(read_status, Status::kBadState);
  ASSERT_TRUE(running);

  {
    Remover remover(&loop, &handler);
    EXPECT_TRUE(watch.WaitFor(SyncPoint::kLoopRemoveHandlerWaits))
        << "RemoveHandler did not wait for the running OnRead";
    EXPECT_FALSE(remover.returned()) << "RemoveHandler returned while OnRead was still running";
    EXPECT_EQ(handler.running(), 1);
    handler.Release();
    remover.Join();
    EXPECT_EQ(remover.running_at_return(), 0);
  }
  EXPECT_EQ(handler.running(), 0);
  EXPECT_EQ(handler.calls(), 1);

  // The detached VMO fails at once; a READ of the other VMO reaches the loop and is dropped.
  char c;
  EXPECT_EQ(vmo.Read(&c, P(1), 1), Status::kBadState);
  std::promise<ThreadHandle> late_handle;
  Status late_status = Status::kOk;
  std::thread late([&] {
    late_handle.set_value(ThreadHandle::Current());
    char d;
    late_status = other.Read(&d, P(2), 1);
  });
  EXPECT_TRUE(testing::WaitForBlocked(late_handle.get_future().get()));  // its READ is queued
  // The witness's READ is queued behind it (and behind the COMPLETE of `vmo`): once it is
  // served, the loop has been through both.
  EXPECT_EQ(witness_vmo.Read(&c, 0, 1), Status::kOk);
  EXPECT_EQ(handler.calls(), 1);
  EXPECT_EQ(loop.pager().DetachVmo(other), Status::kOk);
  late.join();
  EXPECT_EQ(late_status, Status::kBadState);
  EXPECT_EQ(witness_vmo.Read(&c, P(1), 1), Status::kOk);  // behind the COMPLETE of `other`
  EXPECT_EQ(handler.calls(), 1);
  EXPECT_EQ(handler.completes(), 0);
}

TEST(PagerLoopTest, OnCompleteIsNotCalledAfterRemoveHandler) {
  PatternHandler removed;
  PatternHandler kept;
  PagerLoop loop(2);
  ASSERT_EQ(loop.Start(), Status::kOk);
  Vmo detached;
  Vmo closed;
  Vmo control;
  ASSERT_EQ(loop.CreateVmo(0, P(4), &removed, &detached), Status::kOk);
  ASSERT_EQ(loop.CreateVmo(0, P(4), &removed, &closed), Status::kOk);
  ASSERT_EQ(loop.CreateVmo(0, P(4), &kept, &control), Status::kOk);
  char c = 0;
  ASSERT_EQ(closed.Read(&c, 0, 1), Status::kOk);  // served before the removal
  const int reads = removed.reads.load();
  EXPECT_GT(reads, 0);

  loop.RemoveHandler(&removed);
  EXPECT_EQ(loop.pager().DetachVmo(detached), Status::kOk);  // queues a COMPLETE
  closed.Reset();                                            // last handle: COMPLETE
  control.Reset();                                           // queued after both
  ASSERT_TRUE(testing::PollUntil([&] {
    std::lock_guard lock(kept.mutex);
    return kept.completed.size() == 1;
  })) << "the other handler's COMPLETE never came";
  loop.Stop();  // joins: every packet taken before the control's is fully dispatched
  {
    std::lock_guard lock(removed.mutex);
    EXPECT_TRUE(removed.completed.empty());
  }
  EXPECT_EQ(removed.reads.load(), reads);
}

// COMPLETE is a handler's last call for a VMO: the loop thread that takes it waits for the
// OnRead running on the other one.
TEST(PagerLoopTest, OnCompleteWaitsForRunningOnReadAfterDetach) {
  SyncPointWatch watch;
  GateHandler handler;
  PagerLoop loop(2);
  ASSERT_EQ(loop.Start(), Status::kOk);
  Vmo vmo;
  ASSERT_EQ(loop.CreateVmo(0, P(4), &handler, &vmo), Status::kOk);
  Status read_status = Status::kOk;
  std::thread reader([&] {
    char c;
    read_status = vmo.Read(&c, 0, 1);
  });
  const bool running = handler.WaitRunning(1);
  EXPECT_TRUE(running) << "the READ never reached the handler";
  EXPECT_EQ(loop.pager().DetachVmo(vmo), Status::kOk);  // COMPLETE queued now
  reader.join();
  EXPECT_EQ(read_status, Status::kBadState);
  // The free loop thread has the COMPLETE; it must hold it while OnRead runs.
  EXPECT_TRUE(watch.WaitFor(SyncPoint::kLoopCompleteWaits))
      << "the COMPLETE did not wait for the running OnRead";
  EXPECT_EQ(handler.completes(), 0) << "OnComplete was called while OnRead was running";
  handler.Release();
  EXPECT_TRUE(handler.WaitCompletes(1)) << "OnComplete never came";
  EXPECT_FALSE(handler.complete_during_read());
  EXPECT_EQ(handler.running(), 0);
}

TEST(PagerLoopTest, OnCompleteWaitsForRunningOnReadAfterLastHandleCloses) {
  SyncPointWatch watch;
  GateHandler handler;
  PatternHandler witness;  // outlives the loop, which may still deliver its COMPLETE
  PagerLoop loop(2);
  ASSERT_EQ(loop.Start(), Status::kOk);
  Vmo vmo;
  ASSERT_EQ(loop.CreateVmo(0, P(4), &handler, &vmo), Status::kOk);
  Vmo reader_vmo;
  ASSERT_EQ(vmo.Duplicate(&reader_vmo), Status::kOk);
  Vmo witness_vmo;
  ASSERT_EQ(loop.CreateVmo(0, P(4), &witness, &witness_vmo), Status::kOk);
  const uint64_t witness_key = 2;  // PagerLoop keys count from 1
  const TimeoutScope timeouts(std::chrono::seconds(5));
  char c = 0;
  std::promise<ThreadHandle> reader_handle;
  Status read_status = Status::kOk;
  std::thread reader([&] {
    reader_handle.set_value(ThreadHandle::Current());
    char d;
    read_status = reader_vmo.Read(&d, 0, 1);
    reader_vmo.Reset();
  });
  ThreadHandle reader_thread = reader_handle.get_future().get();
  const bool running = handler.WaitRunning(1);
  EXPECT_TRUE(running) << "the READ never reached the handler";
  reader_thread.Kill();  // the reader gives up waiting and closes its handle
  reader.join();
  EXPECT_EQ(read_status, Status::kIntrKilled);
  vmo.Reset();  // the test's last handle: COMPLETE (once the handler's own one is closed too)
  // The handle OnRead was given still lives, so the COMPLETE is not queued yet: a READ of
  // another VMO queued now is served by the free loop thread (a COMPLETE queued before it
  // would either reach OnComplete or hold that thread until OnRead returns, and the read
  // would time out).
  EXPECT_EQ(witness_vmo.Read(&c, 0, 1), Status::kOk);
  EXPECT_EQ(c, static_cast<char>(witness_key));
  EXPECT_EQ(handler.completes(), 0) << "OnComplete was called while OnRead was running";
  EXPECT_EQ(watch.count(SyncPoint::kLoopCompleteWaits), 0) << "COMPLETE queued at Reset";
  handler.Release();
  EXPECT_TRUE(handler.WaitCompletes(1)) << "OnComplete never came";
  EXPECT_FALSE(handler.complete_during_read());
}

// A COMPLETE waiting in one loop thread for an OnRead on the other, and RemoveHandler waiting
// for the same OnRead: when it returns, exactly one of them may have removed the entry, and
// OnComplete must not come after RemoveHandler returned. Sync points put both in their wait
// before OnRead is released, every time.
// Regression test: before d0399af both erased the entry (use after free, a segfault here).
TEST(PagerLoopTest, RemoveHandlerWhileCompleteWaitsForRunningOnRead) {
  SyncPointWatch watch;
  GateHandler handler;
  PagerLoop loop(2);
  ASSERT_EQ(loop.Start(), Status::kOk);
  Vmo vmo;
  ASSERT_EQ(loop.CreateVmo(0, P(4), &handler, &vmo), Status::kOk);
  Status read_status = Status::kOk;
  std::thread reader([&] {
    char c;
    read_status = vmo.Read(&c, 0, 1);
  });
  const bool running = handler.WaitRunning(1);
  EXPECT_TRUE(running) << "the READ never reached the handler";
  EXPECT_EQ(loop.pager().DetachVmo(vmo), Status::kOk);  // COMPLETE queued now
  reader.join();
  EXPECT_EQ(read_status, Status::kBadState);
  ASSERT_TRUE(running);
  // The free loop thread took the COMPLETE and waits for OnRead inside Dispatch.
  EXPECT_TRUE(watch.WaitFor(SyncPoint::kLoopCompleteWaits))
      << "the COMPLETE did not wait for the running OnRead";
  EXPECT_EQ(handler.completes(), 0);

  Remover remover(&loop, &handler);
  // RemoveHandler waits for the same OnRead.
  EXPECT_TRUE(watch.WaitFor(SyncPoint::kLoopRemoveHandlerWaits))
      << "RemoveHandler did not wait for the running OnRead";
  EXPECT_FALSE(remover.returned()) << "RemoveHandler returned while OnRead was still running";
  handler.Release();
  remover.Join();
  EXPECT_EQ(remover.running_at_return(), 0);
  const int completes_at_return = remover.completes_at_return();
  loop.Stop();
  EXPECT_EQ(handler.completes(), completes_at_return)
      << "OnComplete was called after RemoveHandler returned";
  EXPECT_LE(handler.completes(), 1);
  EXPECT_FALSE(handler.complete_during_read());
}

}  // namespace
}  // namespace upager

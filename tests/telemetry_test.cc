// Counters, request latency and tracing (upager/stats.h, upager/trace.h) as seen through a
// PagerLoop serving Vmo::Read calls of test threads.
//
// The counters and the trace buffer are process-wide: every test starts by resetting them
// (the fixture), and the tests of this file run one after the other in one process.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"
#include "upager/pager_loop.h"
#include "upager/stats.h"
#include "upager/trace.h"

namespace upager {
namespace {

constexpr uint64_t P(uint64_t pages) { return pages * kPageSize; }
constexpr uint64_t kNoPage = ~uint64_t{0};

char PatternByte(uint64_t page) { return static_cast<char>('a' + page % 26); }

// Supplies page i as PatternByte(i), page by page; fails `fail_page` with kIo. With
// `block_first`, the first OnRead waits until Release() (bounded, so that a failed test does
// not hang the loop's Stop). With `delay`, every OnRead sleeps that long before answering.
class TestHandler : public PagerLoop::Handler {
 public:
  void OnRead(const PagerLoop::Request& r) override {
    const int call = reads++;
    if (block_first && call == 0) {
      std::unique_lock lock(mutex_);
      entered_ = true;
      cv_.notify_all();
      cv_.wait_for(lock, std::chrono::seconds(60), [&] { return released_; });
    }
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    for (uint64_t page = r.offset / kPageSize; page < (r.offset + r.length) / kPageSize; ++page) {
      if (page == fail_page) {
        r.loop->pager().OpRange(kPagerOpFail, r.vmo, P(page), P(1),
                                static_cast<uint64_t>(static_cast<int64_t>(Status::kIo)));
        continue;
      }
      const std::vector<char> data(kPageSize, PatternByte(page));
      r.loop->pager().SupplyPagesFromBuffer(r.vmo, P(page), P(1), data.data());
    }
  }

  // Waits (bounded) until the first OnRead is blocked.
  bool WaitEntered() {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, std::chrono::seconds(30), [&] { return entered_; });
  }
  void Release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    cv_.notify_all();
  }

  std::atomic<int> reads{0};
  bool block_first = false;
  uint64_t fail_page = kNoPage;
  std::chrono::microseconds delay{0};

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool entered_ = false;
  bool released_ = false;
};

// Reads one byte of `page` and checks it.
::testing::AssertionResult ReadPage(const Vmo& vmo, uint64_t page) {
  char c = 0;
  const Status s = vmo.Read(&c, P(page) + 7, 1);
  if (s != Status::kOk) {
    return ::testing::AssertionFailure() << "reading page " << page << ": " << StatusString(s);
  }
  if (c != PatternByte(page)) {
    return ::testing::AssertionFailure() << "page " << page << " holds '" << c << "'";
  }
  return ::testing::AssertionSuccess();
}

// Two readers of `page`: the first one's request is held in the handler (block_first) until
// the second one has joined it. Returns whether the join was seen.
bool ReadDeduplicated(TestHandler* handler, const Vmo& vmo, uint64_t page) {
  Status first = Status::kInternal;
  Status second = Status::kInternal;
  std::thread a([&] {
    char c;
    first = vmo.Read(&c, P(page), 1);
  });
  const bool entered = handler->WaitEntered();
  const uint64_t joined_before = GetCounters().requests_deduplicated;
  std::thread b([&] {
    char c;
    second = vmo.Read(&c, P(page) + 100, 1);
  });
  const bool joined = entered && testing::PollUntil([&] {
                        return GetCounters().requests_deduplicated > joined_before;
                      });
  handler->Release();
  a.join();
  b.join();
  EXPECT_TRUE(entered) << "the first READ never reached the handler";
  EXPECT_TRUE(joined) << "the second reader never joined the outstanding request";
  EXPECT_EQ(first, Status::kOk);
  EXPECT_EQ(second, Status::kOk);
  return joined;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

class TelemetryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StopTracing();
    EnableRequestLatency(false);
    ResetCounters();
  }
  void TearDown() override {
    StopTracing();
    EnableRequestLatency(false);
  }
};

TEST_F(TelemetryTest, SinglePageReadsAreCounted) {
  constexpr uint64_t kReads = 10;
  TestHandler handler;
  PagerLoop loop(2);
  ASSERT_EQ(loop.Start(), Status::kOk);
  Vmo vmo;
  ASSERT_EQ(loop.CreateVmo(0, P(32), &handler, &vmo), Status::kOk);
  ResetCounters();
  for (uint64_t i = 0; i < kReads; ++i) ASSERT_TRUE(ReadPage(vmo, 2 * i + 1));
  for (uint64_t i = 0; i < kReads; ++i) ASSERT_TRUE(ReadPage(vmo, 2 * i + 1));  // now present
  loop.Stop();  // every handler call (and its supply hook) has finished
  const Counters c = GetCounters();
  EXPECT_EQ(c.read_requests, kReads);
  EXPECT_EQ(c.pages_requested, kReads);
  EXPECT_EQ(c.dirty_requests, 0u);
  EXPECT_EQ(c.requests_deduplicated, 0u);
  EXPECT_EQ(c.requests_completed, kReads);
  EXPECT_EQ(c.requests_failed, 0u);
  EXPECT_EQ(c.waiters_woken, kReads);
  EXPECT_GE(c.supply_calls, kReads);
  EXPECT_GE(c.bytes_supplied, kReads * kPageSize);
  EXPECT_EQ(c.fail_calls, 0u);
  EXPECT_EQ(c.faults, 0u);

  ResetCounters();
  const Counters zero = GetCounters();
  EXPECT_EQ(zero.read_requests, 0u);
  EXPECT_EQ(zero.requests_completed, 0u);
  EXPECT_EQ(zero.bytes_supplied, 0u);
}

TEST_F(TelemetryTest, DeduplicatedRequestIsCountedOnce) {
  TestHandler handler;
  handler.block_first = true;
  PagerLoop loop(1);
  ASSERT_EQ(loop.Start(), Status::kOk);
  Vmo vmo;
  ASSERT_EQ(loop.CreateVmo(0, P(8), &handler, &vmo), Status::kOk);
  ASSERT_TRUE(ReadDeduplicated(&handler, vmo, 3));
  loop.Stop();
  EXPECT_EQ(handler.reads.load(), 1);
  const Counters c = GetCounters();
  EXPECT_EQ(c.read_requests, 1u);
  EXPECT_EQ(c.pages_requested, 1u);
  EXPECT_EQ(c.requests_deduplicated, 1u);
  EXPECT_EQ(c.requests_completed, 1u);
  EXPECT_EQ(c.waiters_woken, 2u);
  EXPECT_EQ(c.supply_calls, 1u);
  EXPECT_EQ(c.bytes_supplied, kPageSize);
}

TEST_F(TelemetryTest, FailedRequestIsCounted) {
  TestHandler handler;
  handler.fail_page = 5;
  PagerLoop loop(1);
  ASSERT_EQ(loop.Start(), Status::kOk);
  Vmo vmo;
  ASSERT_EQ(loop.CreateVmo(0, P(8), &handler, &vmo), Status::kOk);
  char c = 0;
  EXPECT_EQ(vmo.Read(&c, P(5), 1), Status::kIo);
  ASSERT_TRUE(ReadPage(vmo, 4));
  loop.Stop();
  const Counters counters = GetCounters();
  EXPECT_EQ(counters.read_requests, 2u);
  EXPECT_EQ(counters.requests_completed, 2u);
  EXPECT_EQ(counters.requests_failed, 1u);
  EXPECT_EQ(counters.fail_calls, 1u);
  EXPECT_EQ(counters.supply_calls, 1u);
}

TEST_F(TelemetryTest, RequestLatencyIsMeasuredWhenEnabled) {
  constexpr uint64_t kReads = 12;
  TestHandler handler;
  PagerLoop loop(1);
  ASSERT_EQ(loop.Start(), Status::kOk);
  Vmo vmo;
  ASSERT_EQ(loop.CreateVmo(0, P(kReads), &handler, &vmo), Status::kOk);
  EnableRequestLatency(true);
  for (uint64_t page = 0; page < kReads; ++page) ASSERT_TRUE(ReadPage(vmo, page));
  const LatencySummary l = GetRequestLatency();
  EXPECT_EQ(l.count, kReads);
  EXPECT_GT(l.max_ns, 0u);
  EXPECT_LE(l.p50_ns, l.p90_ns);
  EXPECT_LE(l.p90_ns, l.p99_ns);
  EXPECT_LE(l.p99_ns, l.max_ns);

  ResetCounters();  // also clears the histogram
  const LatencySummary cleared = GetRequestLatency();
  EXPECT_EQ(cleared.count, 0u);
  EXPECT_EQ(cleared.max_ns, 0u);
  EXPECT_EQ(cleared.p50_ns, 0u);
}

TEST_F(TelemetryTest, SlowHandlerShowsInLatency) {
  constexpr uint64_t kReads = 5;
  TestHandler handler;
  handler.delay = std::chrono::milliseconds(2);
  PagerLoop loop(1);
  ASSERT_EQ(loop.Start(), Status::kOk);
  Vmo vmo;
  ASSERT_EQ(loop.CreateVmo(0, P(kReads), &handler, &vmo), Status::kOk);
  EnableRequestLatency(true);
  for (uint64_t page = 0; page < kReads; ++page) ASSERT_TRUE(ReadPage(vmo, page));
  const LatencySummary l = GetRequestLatency();
  EXPECT_EQ(l.count, kReads);
  EXPECT_GE(l.p50_ns, 1'000'000u);
  EXPECT_GE(l.max_ns, 2'000'000u);
  EXPECT_LE(l.p50_ns, l.p99_ns);
  EXPECT_LE(l.p99_ns, l.max_ns);
}

TEST_F(TelemetryTest, NoLatencyWhenDisabled) {
  TestHandler handler;
  PagerLoop loop(1);
  ASSERT_EQ(loop.Start(), Status::kOk);
  Vmo vmo;
  ASSERT_EQ(loop.CreateVmo(0, P(8), &handler, &vmo), Status::kOk);
  for (uint64_t page = 0; page < 4; ++page) ASSERT_TRUE(ReadPage(vmo, page));
  EXPECT_EQ(GetRequestLatency().count, 0u);
  EXPECT_EQ(GetCounters().read_requests, 4u);  // counters are kept regardless
  // Turning it off again stops measuring.
  EnableRequestLatency(true);
  ASSERT_TRUE(ReadPage(vmo, 4));
  EnableRequestLatency(false);
  ASSERT_TRUE(ReadPage(vmo, 5));
  EXPECT_EQ(GetRequestLatency().count, 1u);
}

TEST_F(TelemetryTest, StatsToJsonHasEveryField) {
  Counters c;
  c.read_requests = 101;
  c.dirty_requests = 102;
  c.pages_requested = 103;
  c.requests_deduplicated = 104;
  c.requests_completed = 105;
  c.requests_failed = 106;
  c.waiters_woken = 107;
  c.supply_calls = 108;
  c.bytes_supplied = 109;
  c.fail_calls = 110;
  c.faults = 111;
  c.untracked_faults = 112;
  c.minor_faults = 113;
  c.pages_aged = 114;
  c.pages_evicted = 115;
  LatencySummary l;
  l.count = 201;
  l.p50_ns = 202;
  l.p90_ns = 203;
  l.p99_ns = 204;
  l.max_ns = 205;
  const std::string json = StatsToJson(c, l);
  for (const char* field : {"\"read_requests\": 101",
                            "\"dirty_requests\": 102",
                            "\"pages_requested\": 103",
                            "\"requests_deduplicated\": 104",
                            "\"requests_completed\": 105",
                            "\"requests_failed\": 106",
                            "\"waiters_woken\": 107",
                            "\"supply_calls\": 108",
                            "\"bytes_supplied\": 109",
                            "\"fail_calls\": 110",
                            "\"faults\": 111",
                            "\"untracked_faults\": 112",
                            "\"minor_faults\": 113",
                            "\"pages_aged\": 114",
                            "\"pages_evicted\": 115",
                            "\"request_latency_ns\": {",
                            "\"count\": 201",
                            "\"p50\": 202",
                            "\"p90\": 203",
                            "\"p99\": 204",
                            "\"max\": 205"}) {
    EXPECT_NE(json.find(field), std::string::npos) << field << " missing from " << json;
  }
  EXPECT_EQ(json.front(), '{');
  EXPECT_EQ(json.back(), '}');

  // The live counters, formatted the same way.
  const std::string live = StatsToJson(GetCounters(), GetRequestLatency());
  EXPECT_NE(live.find("\"read_requests\": 0"), std::string::npos) << live;
  EXPECT_NE(live.find("\"request_latency_ns\""), std::string::npos) << live;
}

TEST_F(TelemetryTest, TraceRecordsRequestsPacketsSuppliesAndFailures) {
  TestHandler handler;
  handler.block_first = true;
  handler.fail_page = 13;
  PagerLoop loop(2);
  ASSERT_EQ(loop.Start(), Status::kOk);
  Vmo vmo;
  ASSERT_EQ(loop.CreateVmo(0, P(16), &handler, &vmo), Status::kOk);
  StartTracing();
  EXPECT_TRUE(TracingEnabled());
  ASSERT_TRUE(ReadDeduplicated(&handler, vmo, 3));
  for (uint64_t page = 4; page < 8; ++page) ASSERT_TRUE(ReadPage(vmo, page));
  char c;
  EXPECT_EQ(vmo.Read(&c, P(13), 1), Status::kIo);
  loop.Stop();  // the supply and failure events are recorded after the readers wake
  StopTracing();
  EXPECT_FALSE(TracingEnabled());

  const TraceSummary summary = GetTraceSummary();
  EXPECT_GT(summary.events, 0u);
  EXPECT_EQ(summary.dropped, 0u);

  const std::string path =
      ::testing::TempDir() + "upager_telemetry_trace_" + std::to_string(getpid()) + ".json";
  ASSERT_EQ(WriteTrace(path), Status::kOk);
  const std::string trace = ReadFile(path);
  std::remove(path.c_str());
  ASSERT_EQ(trace.rfind("{\"traceEvents\"", 0), 0u) << trace.substr(0, 100);
  for (const char* needle :
       {"\"name\":\"READ request\"", "\"name\":\"packet READ\"", "\"name\":\"supplied\"",
        "\"name\":\"failed\"", "\"name\":\"deduplicated READ\"", "\"name\":\"request end\""}) {
    EXPECT_NE(trace.find(needle), std::string::npos) << needle << " missing from\n" << trace;
  }

  // Every begun request slice ends, with the same id, and ids are not reused.
  const std::regex id_re("\"id\":([0-9]+)");
  std::multiset<std::string> begins;
  std::multiset<std::string> ends;
  std::istringstream lines(trace);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch m;
    const bool begin = line.find("\"ph\":\"b\"") != std::string::npos;
    const bool end = line.find("\"ph\":\"e\"") != std::string::npos;
    if (!begin && !end) continue;
    ASSERT_TRUE(std::regex_search(line, m, id_re)) << line;
    (begin ? begins : ends).insert(m[1].str());
  }
  // 1 for the deduplicated page, 4 single pages, 1 failed.
  EXPECT_EQ(begins.size(), 6u);
  EXPECT_EQ(begins, ends);
  EXPECT_EQ(std::set<std::string>(begins.begin(), begins.end()).size(), begins.size());
}

TEST_F(TelemetryTest, TraceKeepsAtMostMaxEvents) {
  TestHandler handler;
  PagerLoop loop(1);
  ASSERT_EQ(loop.Start(), Status::kOk);
  Vmo vmo;
  ASSERT_EQ(loop.CreateVmo(0, P(20), &handler, &vmo), Status::kOk);
  StartTracing(5);
  for (uint64_t page = 0; page < 20; ++page) ASSERT_TRUE(ReadPage(vmo, page));
  loop.Stop();
  StopTracing();
  const TraceSummary summary = GetTraceSummary();
  EXPECT_EQ(summary.events, 5u);
  EXPECT_GT(summary.dropped, 0u);
  // The dropped count reaches the file too.
  const std::string path =
      ::testing::TempDir() + "upager_telemetry_limit_" + std::to_string(getpid()) + ".json";
  ASSERT_EQ(WriteTrace(path), Status::kOk);
  const std::string trace = ReadFile(path);
  std::remove(path.c_str());
  EXPECT_NE(trace.find("\"dropped_events\": " + std::to_string(summary.dropped)), std::string::npos)
      << trace;

  // StartTracing clears the earlier events and the dropped count.
  StartTracing();
  const TraceSummary fresh = GetTraceSummary();
  EXPECT_EQ(fresh.events, 0u);
  EXPECT_EQ(fresh.dropped, 0u);
}

TEST_F(TelemetryTest, WriteTraceToAnUnwritablePathFails) {
  StartTracing();
  StopTracing();
  EXPECT_EQ(WriteTrace("/nonexistent/dir/x.json"), Status::kIo);
}

TEST_F(TelemetryTest, NothingIsRecordedAfterStopTracing) {
  TestHandler handler;
  {
    PagerLoop loop(1);
    ASSERT_EQ(loop.Start(), Status::kOk);
    Vmo vmo;
    ASSERT_EQ(loop.CreateVmo(0, P(8), &handler, &vmo), Status::kOk);
    StartTracing();
    for (uint64_t page = 0; page < 3; ++page) ASSERT_TRUE(ReadPage(vmo, page));
    loop.Stop();  // no hook of this loop runs any more
    StopTracing();
  }
  const TraceSummary before = GetTraceSummary();
  ASSERT_GT(before.events, 0u);
  {
    PagerLoop loop(1);
    ASSERT_EQ(loop.Start(), Status::kOk);
    Vmo vmo;
    ASSERT_EQ(loop.CreateVmo(0, P(8), &handler, &vmo), Status::kOk);
    for (uint64_t page = 0; page < 4; ++page) ASSERT_TRUE(ReadPage(vmo, page));
    char c;
    handler.fail_page = 6;
    EXPECT_EQ(vmo.Read(&c, P(6), 1), Status::kIo);
    loop.Stop();
  }
  const TraceSummary after = GetTraceSummary();
  EXPECT_EQ(after.events, before.events);
  EXPECT_EQ(after.dropped, before.dropped);
  EXPECT_GE(GetCounters().read_requests, 8u);  // the counters did go on
}

}  // namespace
}  // namespace upager

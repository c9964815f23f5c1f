// Counters, request-latency histogram and trace buffer behind upager/stats.h, upager/trace.h
// and the hooks of base/telemetry.h.
#include "base/telemetry.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <vector>

#include "base/clock.h"
#include "upager/internal/mutex.h"
#include "upager/packet.h"
#include "upager/stats.h"
#include "upager/trace.h"

namespace upager {
namespace internal::telemetry {
namespace {

enum CounterId : size_t {
  kReadRequests,
  kDirtyRequests,
  kPagesRequested,
  kDeduplicated,
  kCompleted,
  kFailed,
  kWaitersWoken,
  kSupplyCalls,
  kBytesSupplied,
  kFailCalls,
  kFaults,
  kUntrackedFaults,
  kMinorFaults,
  kPagesAged,
  kPagesEvicted,
  kCounterCount,
};

// Each counter on its own cache line: the fault thread and loop threads bump different
// ones at the same time.
struct alignas(64) PaddedCounter {
  std::atomic<uint64_t> value{0};
};
std::array<PaddedCounter, kCounterCount> g_counters;

void Add(CounterId id, uint64_t n = 1) {
  g_counters[id].value.fetch_add(n, std::memory_order_relaxed);
}

// Log-linear latency histogram: values below 8 have a bucket each, then every power of two
// is split into 8 equal buckets.
constexpr size_t kBuckets = 8 + 61 * 8;
std::array<std::atomic<uint64_t>, kBuckets> g_latency{};
std::atomic<uint64_t> g_latency_max{0};
std::atomic<bool> g_measure_latency{false};

size_t BucketOf(uint64_t v) {
  if (v < 8) return v;
  const int e = 63 - std::countl_zero(v);  // >= 3
  return 8 + (e - 3) * 8 + ((v >> (e - 3)) & 7);
}

// The middle of bucket `i`.
uint64_t BucketValue(size_t i) {
  if (i < 8) return i;
  const int e = static_cast<int>((i - 8) / 8) + 3;
  const uint64_t sub = (i - 8) % 8;
  const uint64_t low = (8 + sub) << (e - 3);
  return low + (uint64_t{1} << (e - 3)) / 2;
}

int ThisTid() {
  thread_local const int tid = static_cast<int>(syscall(SYS_gettid));
  return tid;
}

enum class EventKind : uint8_t {
  kIssued,
  kJoined,
  kCompleted,
  kPacket,
  kSupplied,
  kFailed,
  kFault,
};

struct Event {
  uint64_t ts_ns;
  uint64_t id;  // request id (issued/completed), VMO id or key otherwise
  uint64_t a;
  uint64_t b;
  int64_t c;
  int tid;
  EventKind kind;
  uint8_t flag;  // dirty request / packet command / write fault
};

// The trace buffer. Recording takes a mutex: tracing is a diagnostic mode and its cost is
// visible in the trace itself, which is preferable to losing ordering.
struct TraceBuffer {
  Mutex mutex;
  std::vector<Event> events UPAGER_GUARDED_BY(mutex);
  size_t max_events UPAGER_GUARDED_BY(mutex) = 0;
  uint64_t dropped UPAGER_GUARDED_BY(mutex) = 0;
  uint64_t start_ns UPAGER_GUARDED_BY(mutex) = 0;
};
TraceBuffer& Trace() {
  static TraceBuffer* buffer = new TraceBuffer();  // never destroyed: hooks may run at exit
  return *buffer;
}
std::atomic<bool> g_tracing{false};
std::atomic<uint64_t> g_next_trace_id{1};

void Record(const Event& event) {
  TraceBuffer& trace = Trace();
  MutexLock lock(&trace.mutex);
  if (!g_tracing.load(std::memory_order_relaxed)) return;
  if (trace.events.size() >= trace.max_events) {
    ++trace.dropped;
    return;
  }
  trace.events.push_back(event);
}

bool Tracing() { return g_tracing.load(std::memory_order_relaxed); }

}  // namespace

RequestMark RequestSent(bool dirty, uint64_t vmo_id, uint64_t offset, uint64_t len) {
  Add(dirty ? kDirtyRequests : kReadRequests);
  if (!dirty) Add(kPagesRequested, len / kPageSize);
  RequestMark mark;
  const bool tracing = Tracing();
  if (tracing || g_measure_latency.load(std::memory_order_relaxed)) mark.sent_ns = SteadyNowNs();
  if (tracing) {
    mark.trace_id = g_next_trace_id.fetch_add(1, std::memory_order_relaxed);
    Record({mark.sent_ns, mark.trace_id, offset, len, static_cast<int64_t>(vmo_id), ThisTid(),
            EventKind::kIssued, static_cast<uint8_t>(dirty)});
  }
  return mark;
}

void RequestJoined(bool dirty, uint64_t vmo_id, uint64_t offset, uint64_t len) {
  Add(kDeduplicated);
  if (Tracing()) {
    Record({SteadyNowNs(), vmo_id, offset, len, 0, ThisTid(), EventKind::kJoined,
            static_cast<uint8_t>(dirty)});
  }
}

void RequestCompleted(const RequestMark& mark, Status status, uint64_t waiters) {
  Add(kCompleted);
  if (status != Status::kOk) Add(kFailed);
  Add(kWaitersWoken, waiters);
  if (mark.sent_ns == 0) return;
  const uint64_t now = SteadyNowNs();
  const uint64_t latency = now > mark.sent_ns ? now - mark.sent_ns : 0;
  if (g_measure_latency.load(std::memory_order_relaxed)) {
    g_latency[BucketOf(latency)].fetch_add(1, std::memory_order_relaxed);
    uint64_t max = g_latency_max.load(std::memory_order_relaxed);
    while (latency > max &&
           !g_latency_max.compare_exchange_weak(max, latency, std::memory_order_relaxed)) {
    }
  }
  if (mark.trace_id != 0 && Tracing()) {
    Record({now, mark.trace_id, waiters, 0, static_cast<int64_t>(status), ThisTid(),
            EventKind::kCompleted, 0});
  }
}

void PacketRead(uint16_t command, uint64_t key, uint64_t offset, uint64_t len) {
  if (Tracing()) {
    Record({SteadyNowNs(), key, offset, len, 0, ThisTid(), EventKind::kPacket,
            static_cast<uint8_t>(command)});
  }
}

void Supplied(uint64_t vmo_id, uint64_t offset, uint64_t len) {
  Add(kSupplyCalls);
  Add(kBytesSupplied, len);
  if (Tracing()) {
    Record({SteadyNowNs(), vmo_id, offset, len, 0, ThisTid(), EventKind::kSupplied, 0});
  }
}

void Failed(uint64_t vmo_id, uint64_t offset, uint64_t len, Status status) {
  Add(kFailCalls);
  if (Tracing()) {
    Record({SteadyNowNs(), vmo_id, offset, len, static_cast<int64_t>(status), ThisTid(),
            EventKind::kFailed, 0});
  }
}

void UntrackedFault() { Add(kUntrackedFaults); }
void MinorFault() { Add(kMinorFaults); }
void PageAged() { Add(kPagesAged); }
void PageEvicted() { Add(kPagesEvicted); }

void Fault(uintptr_t address, bool write) {
  Add(kFaults);
  if (Tracing()) {
    Record({SteadyNowNs(), 0, address, 0, 0, ThisTid(), EventKind::kFault,
            static_cast<uint8_t>(write)});
  }
}

namespace {

const char* CommandName(uint8_t command) {
  switch (command) {
    case kPagerVmoRead: return "READ";
    case kPagerVmoDirty: return "DIRTY";
    case kPagerVmoComplete: return "COMPLETE";
    default: return "?";
  }
}

// One event as a JSON object (Chrome trace-event format; times in microseconds).
void WriteEvent(FILE* f, const Event& e, uint64_t start_ns, bool first) {
  const double ts = static_cast<double>(e.ts_ns - std::min(e.ts_ns, start_ns)) / 1000.0;
  if (!first) std::fputs(",\n", f);
  switch (e.kind) {
    case EventKind::kIssued:
      std::fprintf(f,
                   "{\"name\":\"%s request\",\"cat\":\"request\",\"ph\":\"b\",\"id\":%" PRIu64
                   ",\"ts\":%.3f,\"pid\":1,\"tid\":%d,\"args\":{\"vmo\":%" PRId64
                   ",\"offset\":%" PRIu64 ",\"length\":%" PRIu64 "}}",
                   e.flag ? "DIRTY" : "READ", e.id, ts, e.tid, e.c, e.a, e.b);
      break;
    case EventKind::kCompleted:
      // The end of an async slice matches its begin by category and id; the name is
      // repeated as "request" for viewers that also match on name.
      std::fprintf(f,
                   "{\"name\":\"request end\",\"cat\":\"request\",\"ph\":\"e\",\"id\":%" PRIu64
                   ",\"ts\":%.3f,\"pid\":1,\"tid\":%d,\"args\":{\"status\":\"%s\","
                   "\"waiters_woken\":%" PRIu64 "}}",
                   e.id, ts, e.tid, StatusString(static_cast<Status>(e.c)), e.a);
      break;
    case EventKind::kJoined:
      std::fprintf(f,
                   "{\"name\":\"deduplicated %s\",\"cat\":\"request\",\"ph\":\"i\",\"s\":\"t\","
                   "\"ts\":%.3f,\"pid\":1,\"tid\":%d,\"args\":{\"vmo\":%" PRIu64
                   ",\"offset\":%" PRIu64 ",\"length\":%" PRIu64 "}}",
                   e.flag ? "DIRTY" : "READ", ts, e.tid, e.id, e.a, e.b);
      break;
    case EventKind::kPacket:
      std::fprintf(f,
                   "{\"name\":\"packet %s\",\"cat\":\"pager\",\"ph\":\"i\",\"s\":\"t\","
                   "\"ts\":%.3f,\"pid\":1,\"tid\":%d,\"args\":{\"key\":%" PRIu64
                   ",\"offset\":%" PRIu64 ",\"length\":%" PRIu64 "}}",
                   CommandName(e.flag), ts, e.tid, e.id, e.a, e.b);
      break;
    case EventKind::kSupplied:
      std::fprintf(f,
                   "{\"name\":\"supplied\",\"cat\":\"pager\",\"ph\":\"i\",\"s\":\"t\","
                   "\"ts\":%.3f,\"pid\":1,\"tid\":%d,\"args\":{\"vmo\":%" PRIu64
                   ",\"offset\":%" PRIu64 ",\"length\":%" PRIu64 "}}",
                   ts, e.tid, e.id, e.a, e.b);
      break;
    case EventKind::kFailed:
      std::fprintf(f,
                   "{\"name\":\"failed\",\"cat\":\"pager\",\"ph\":\"i\",\"s\":\"t\","
                   "\"ts\":%.3f,\"pid\":1,\"tid\":%d,\"args\":{\"vmo\":%" PRIu64
                   ",\"offset\":%" PRIu64 ",\"length\":%" PRIu64 ",\"status\":\"%s\"}}",
                   ts, e.tid, e.id, e.a, e.b, StatusString(static_cast<Status>(e.c)));
      break;
    case EventKind::kFault:
      std::fprintf(f,
                   "{\"name\":\"%s fault\",\"cat\":\"fault\",\"ph\":\"i\",\"s\":\"t\","
                   "\"ts\":%.3f,\"pid\":1,\"tid\":%d,\"args\":{\"address\":\"0x%" PRIx64 "\"}}",
                   e.flag ? "write" : "read", ts, e.tid, e.a);
      break;
  }
}

}  // namespace
}  // namespace internal::telemetry

using namespace internal::telemetry;  // NOLINT(google-build-using-namespace): this file's own

Counters GetCounters() {
  auto get = [](CounterId id) { return g_counters[id].value.load(std::memory_order_relaxed); };
  Counters c;
  c.read_requests = get(kReadRequests);
  c.dirty_requests = get(kDirtyRequests);
  c.pages_requested = get(kPagesRequested);
  c.requests_deduplicated = get(kDeduplicated);
  c.requests_completed = get(kCompleted);
  c.requests_failed = get(kFailed);
  c.waiters_woken = get(kWaitersWoken);
  c.supply_calls = get(kSupplyCalls);
  c.bytes_supplied = get(kBytesSupplied);
  c.fail_calls = get(kFailCalls);
  c.faults = get(kFaults);
  c.untracked_faults = get(kUntrackedFaults);
  c.minor_faults = get(kMinorFaults);
  c.pages_aged = get(kPagesAged);
  c.pages_evicted = get(kPagesEvicted);
  return c;
}

void ResetCounters() {
  for (PaddedCounter& c : g_counters) c.value.store(0, std::memory_order_relaxed);
  for (auto& b : g_latency) b.store(0, std::memory_order_relaxed);
  g_latency_max.store(0, std::memory_order_relaxed);
}

void EnableRequestLatency(bool enable) {
  g_measure_latency.store(enable, std::memory_order_relaxed);
}

LatencySummary GetRequestLatency() {
  std::array<uint64_t, kBuckets> counts{};
  LatencySummary s;
  for (size_t i = 0; i < kBuckets; ++i) {
    counts[i] = g_latency[i].load(std::memory_order_relaxed);
    s.count += counts[i];
  }
  s.max_ns = g_latency_max.load(std::memory_order_relaxed);
  if (s.count == 0) return s;
  auto percentile = [&](double p) {
    const uint64_t rank = static_cast<uint64_t>(p * static_cast<double>(s.count - 1)) + 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += counts[i];
      if (seen >= rank) return std::min(BucketValue(i), s.max_ns);
    }
    return s.max_ns;
  };
  s.p50_ns = percentile(0.50);
  s.p90_ns = percentile(0.90);
  s.p99_ns = percentile(0.99);
  return s;
}

std::string StatsToJson(const Counters& c, const LatencySummary& l) {
  char buf[1024];
  std::snprintf(
      buf, sizeof(buf),
      "{\"read_requests\": %" PRIu64 ", \"dirty_requests\": %" PRIu64
      ", \"pages_requested\": %" PRIu64 ", \"requests_deduplicated\": %" PRIu64
      ", \"requests_completed\": %" PRIu64 ", \"requests_failed\": %" PRIu64
      ", \"waiters_woken\": %" PRIu64 ", \"supply_calls\": %" PRIu64
      ", \"bytes_supplied\": %" PRIu64 ", \"fail_calls\": %" PRIu64 ", \"faults\": %" PRIu64
      ", \"untracked_faults\": %" PRIu64 ", \"minor_faults\": %" PRIu64 ", \"pages_aged\": %" PRIu64
      ", \"pages_evicted\": %" PRIu64 ", \"request_latency_ns\": {\"count\": %" PRIu64
      ", \"p50\": %" PRIu64 ", \"p90\": %" PRIu64 ", \"p99\": %" PRIu64 ", \"max\": %" PRIu64 "}}",
      c.read_requests, c.dirty_requests, c.pages_requested, c.requests_deduplicated,
      c.requests_completed, c.requests_failed, c.waiters_woken, c.supply_calls, c.bytes_supplied,
      c.fail_calls, c.faults, c.untracked_faults, c.minor_faults, c.pages_aged, c.pages_evicted,
      l.count, l.p50_ns, l.p90_ns, l.p99_ns, l.max_ns);
  return buf;
}

void StartTracing(size_t max_events) {
  TraceBuffer& trace = Trace();
  internal::MutexLock lock(&trace.mutex);
  trace.events.clear();
  trace.max_events = max_events;
  trace.dropped = 0;
  trace.start_ns = internal::SteadyNowNs();
  g_tracing.store(true, std::memory_order_relaxed);
}

void StopTracing() { g_tracing.store(false, std::memory_order_relaxed); }

bool TracingEnabled() { return Tracing(); }

TraceSummary GetTraceSummary() {
  TraceBuffer& trace = Trace();
  internal::MutexLock lock(&trace.mutex);
  return {trace.events.size(), trace.dropped};
}

Status WriteTrace(const std::string& path) {
  std::vector<Event> events;
  uint64_t start_ns = 0;
  uint64_t dropped = 0;
  {
    TraceBuffer& trace = Trace();
    internal::MutexLock lock(&trace.mutex);
    events = trace.events;
    start_ns = trace.start_ns;
    dropped = trace.dropped;
  }
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return Status::kIo;
  std::fputs("{\"traceEvents\": [\n", f);
  std::fputs("{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{\"name\":\"upager\"}}",
             f);
  for (const Event& e : events) WriteEvent(f, e, start_ns, false);
  std::fprintf(
      f, "\n], \"displayTimeUnit\": \"ns\", \"otherData\": {\"dropped_events\": %" PRIu64 "}}\n",
      dropped);
  const bool ok = std::ferror(f) == 0;
  return std::fclose(f) == 0 && ok ? Status::kOk : Status::kIo;
}

}  // namespace upager

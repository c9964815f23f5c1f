// Process-wide counters of the page-request machinery, and a request-latency histogram.
//
// The counters are always kept (one relaxed atomic add per event, next to work that costs
// microseconds). Request latency, the time from a request being sent to its pager until
// the range is supplied or failed, needs a clock reading per request and is only measured
// after EnableRequestLatency(true).
//
//   upager::EnableRequestLatency(true);
//   ... run a workload ...
//   std::puts(upager::StatsToJson(upager::GetCounters(), upager::GetRequestLatency()).c_str());
#ifndef UPAGER_STATS_H_
#define UPAGER_STATS_H_

#include <cstdint>
#include <string>

namespace upager {

struct Counters {
  uint64_t read_requests = 0;          // READ requests sent to a pager (unique ranges)
  uint64_t dirty_requests = 0;         // DIRTY requests sent to a pager
  uint64_t pages_requested = 0;        // pages in the READ requests sent
  uint64_t requests_deduplicated = 0;  // requests that waited on an outstanding one instead
  uint64_t requests_completed = 0;     // sent requests resolved (supplied, failed, detached)
  uint64_t requests_failed = 0;        // ... of which with an error
  uint64_t waiters_woken = 0;          // waiters woken by completions (primary + joined)
  uint64_t supply_calls = 0;           // successful supply operations by pagers
  uint64_t bytes_supplied = 0;         // bytes those supplies covered
  uint64_t fail_calls = 0;             // kPagerOpFail operations
  uint64_t faults = 0;                 // mapped page faults handled (userfaultfd)
  // Threads found asleep in a mapped fault the library had no record of, and woken to
  // retry it (a lost fault or wake-up: a bug; it should stay 0). See mapping.h.
  uint64_t untracked_faults = 0;
  // The reclaimer's clock (docs/eviction.md): mapped faults on pages in memory that the
  // clock had unmapped (or that reached memory without passing through the mapping),
  // resolved without the pager; pages given a second chance (unmapped to watch for use);
  // pages evicted by the reclaimer.
  uint64_t minor_faults = 0;
  uint64_t pages_aged = 0;
  uint64_t pages_evicted = 0;
};

// A snapshot of the counters (each read atomically, not all at one instant).
Counters GetCounters();
void ResetCounters();  // also clears the latency histogram

// Turns request-latency measurement on or off (off by default).
void EnableRequestLatency(bool enable);

struct LatencySummary {
  uint64_t count = 0;  // requests measured
  // Percentiles from a log-linear histogram (8 buckets per power of two: within 12.5%).
  uint64_t p50_ns = 0;
  uint64_t p90_ns = 0;
  uint64_t p99_ns = 0;
  uint64_t max_ns = 0;
};
LatencySummary GetRequestLatency();

// {"read_requests": ..., ..., "request_latency_ns": {"count": .., "p50": .., ...}}
std::string StatsToJson(const Counters& counters, const LatencySummary& latency);

}  // namespace upager

#endif  // UPAGER_STATS_H_

// Request tracing: a timeline of the page-request machinery as Chrome trace-event JSON,
// which Perfetto (ui.perfetto.dev) and chrome://tracing open.
//
// What is recorded, while tracing is on:
//  - each request sent to a pager, as an async slice from "issued" to its completion
//    (arguments: VMO koid, offset, length; at the end: status and waiters woken);
//  - requests that joined an outstanding one instead of being sent ("deduplicated");
//  - each packet a PagerLoop thread reads ("packet READ/DIRTY/COMPLETE");
//  - each supply and failure by a pager, and each mapped page fault.
// Events are kept in memory up to a limit (then counted as dropped) and written at the end.
//
//   upager::StartTracing();
//   ... work ...
//   upager::StopTracing();
//   upager::WriteTrace("/tmp/upager-trace.json");
#ifndef UPAGER_TRACE_H_
#define UPAGER_TRACE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "upager/status.h"

namespace upager {

// Clears earlier events and starts recording, keeping at most `max_events`.
void StartTracing(size_t max_events = 1 << 20);
// Stops recording; the events stay until the next StartTracing.
void StopTracing();
bool TracingEnabled();

struct TraceSummary {
  uint64_t events = 0;
  uint64_t dropped = 0;
};
TraceSummary GetTraceSummary();

// Writes the recorded events to `path` as {"traceEvents": [...]}. kIo if the file cannot be
// written.
Status WriteTrace(const std::string& path);

}  // namespace upager

#endif  // UPAGER_TRACE_H_

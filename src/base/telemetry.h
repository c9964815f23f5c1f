// Telemetry hooks: where the request machinery reports to the counters (upager/stats.h)
// and the trace (upager/trace.h). Each hook costs a relaxed atomic add or two when
// latency measurement and tracing are off.
#ifndef UPAGER_SRC_BASE_TELEMETRY_H_
#define UPAGER_SRC_BASE_TELEMETRY_H_

#include <cstdint>

#include "upager/status.h"

namespace upager::internal::telemetry {

// What a sent request carries so its completion can be measured and traced.
struct RequestMark {
  uint64_t sent_ns = 0;   // 0: not measured
  uint64_t trace_id = 0;  // 0: not traced
};

// A request of `len` bytes at `offset` was sent to the pager of VMO `vmo_id`.
// `dirty`: a DIRTY request (else READ).
RequestMark RequestSent(bool dirty, uint64_t vmo_id, uint64_t offset, uint64_t len);
// A request waited on an outstanding one instead of being sent.
void RequestJoined(bool dirty, uint64_t vmo_id, uint64_t offset, uint64_t len);
// A sent request was resolved, waking `waiters` threads.
void RequestCompleted(const RequestMark& mark, Status status, uint64_t waiters);

// A PagerLoop read a packet (`command`: kPagerVmoRead/Dirty/Complete).
void PacketRead(uint16_t command, uint64_t key, uint64_t offset, uint64_t len);
// A pager supplied (or failed) a range.
void Supplied(uint64_t vmo_id, uint64_t offset, uint64_t len);
void Failed(uint64_t vmo_id, uint64_t offset, uint64_t len, Status status);
// The fault service took a fault at `address`.
void Fault(uintptr_t address, bool write);
// The fault service found a thread asleep in a fault it had no record of, and woke it.
void UntrackedFault();
// The reclaimer's clock (docs/eviction.md): a MINOR fault resolved, a page given a second
// chance (unmapped), a page evicted.
void MinorFault();
void PageAged();
void PageEvicted();

}  // namespace upager::internal::telemetry

#endif  // UPAGER_SRC_BASE_TELEMETRY_H_

// The write batch: the most pages one Vmo::Write (zx_vmo_write) asks the pager for in one
// READ or DIRTY request. A longer write asks batch by batch: READ (or DIRTY) of the first
// batch, the copy, then the next batch (docs/zircon-semantics.md 10.2, 10.3).
//
// Zircon's value changed between revisions, so it is a process-wide setting:
//   - kDefaultWriteBatchPages (256), upager's default: the Zircon revision the spec
//     (docs/zircon-semantics.md 10.2) was written against.
//   - kZirconLookupBatchPages (16): Zircon at misttech/mist-os 1b3a1e61, the revision the
//     zx layer's Fuchsia harness targets, where a write looks up at most
//     VmObject::LookupInfo::kMaxPages (16) pages at a time.
// Page faults through a mapping (1 page), reads, commits and hints are not affected.
#ifndef UPAGER_WRITE_BATCH_H_
#define UPAGER_WRITE_BATCH_H_

#include <cstdint>

#include "upager/status.h"

namespace upager {

inline constexpr uint64_t kDefaultWriteBatchPages = 256;
inline constexpr uint64_t kZirconLookupBatchPages = 16;
// The largest batch SetWriteBatchPages accepts.
inline constexpr uint64_t kMaxWriteBatchPages = 1u << 20;

// Sets the batch for the writes that start after the call (a write in progress keeps the
// value it read for each batch). kInvalidArgs for 0 or above kMaxWriteBatchPages.
Status SetWriteBatchPages(uint64_t pages);
uint64_t GetWriteBatchPages();

}  // namespace upager

#endif  // UPAGER_WRITE_BATCH_H_

// What a pager learns about the dirty state of its VMOs: the dirty ranges (13) and the
// "modified" statistic (14), as Pager::QueryDirtyRanges and Pager::QueryVmoStats return them.
// Section numbers refer to docs/zircon-semantics.md.
//
// At the VMO layer (the VMO's page list produces them); pager.h includes this header, so code
// that names these types through pager.h keeps working.
#ifndef UPAGER_DIRTY_STATE_H_
#define UPAGER_DIRTY_STATE_H_

#include <cstdint>

namespace upager {

// VmoDirtyRange::options: the range reads as zero and has no pages (a dirty zero range).
inline constexpr uint64_t kVmoDirtyRangeIsZero = 1;

struct VmoDirtyRange {
  uint64_t offset;
  uint64_t length;
  uint64_t options;
};

// QueryVmoStats option, and PagerVmoStats::modified's value when the VMO was modified.
inline constexpr uint32_t kPagerResetVmoStats = 1, kPagerVmoStatsModified = 1;

struct PagerVmoStats {
  uint32_t modified;
};

}  // namespace upager

#endif  // UPAGER_DIRTY_STATE_H_

// Status codes, the page size and deadlines.
//
// Status carries the same numeric values as Zircon's zx_status_t, so a status printed by
// upager can be looked up in Zircon's documentation and vice versa.
#ifndef UPAGER_STATUS_H_
#define UPAGER_STATUS_H_

#include <chrono>
#include <cstdint>
#include <ostream>

namespace upager {

enum class Status : int32_t {
  kOk = 0,
  kInternal = -1,
  kNotSupported = -2,
  kNoResources = -3,
  kNoMemory = -4,
  kIntrRetry = -6,  // ZX_ERR_INTERNAL_INTR_RETRY: the thread was suspended; restart the operation.
  kInvalidArgs = -10,
  kBadHandle = -11,
  kWrongType = -12,
  kOutOfRange = -14,
  kBufferTooSmall = -15,
  kBadState = -20,
  kTimedOut = -21,
  kShouldWait = -22,
  kCanceled = -23,
  kPeerClosed = -24,
  kNotFound = -25,
  kAlreadyExists = -26,
  kUnavailable = -28,
  kAccessDenied = -30,
  kIo = -40,
  kIoDataIntegrity = -42,
  kNoSpace = -54,
  kIntrKilled = -502,  // ZX_ERR_INTERNAL_INTR_KILLED: the thread is being killed.
};

// The Zircon spelling of `s`: "ZX_OK", "ZX_ERR_IO", ... Unknown values give "(unknown)".
const char* StatusString(Status s);
// For messages to people: a few words, then the Zircon name, e.g. "data integrity error
// (ZX_ERR_IO_DATA_INTEGRITY)". The same table as StatusString.
const char* StatusDescription(Status s);

// Prints StatusString(s), so that test failures show readable codes.
std::ostream& operator<<(std::ostream& os, Status s);

inline constexpr uint64_t kPageSize = 4096;

using Deadline = std::chrono::steady_clock::time_point;
inline constexpr Deadline kInfiniteDeadline = Deadline::max();

// A deadline `d` from now. A deadline at or before now means "poll": waits return at once.
// Saturates at kInfiniteDeadline.
Deadline DeadlineAfter(std::chrono::nanoseconds d);

}  // namespace upager

#endif  // UPAGER_STATUS_H_

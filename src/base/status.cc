#include "upager/status.h"

namespace upager {

// The one table of status texts: the enumerator, its Zircon name, and a few words for
// people.
#define UPAGER_STATUS_TEXTS(X)                                            \
  X(kOk, "ZX_OK", "ok")                                                   \
  X(kInternal, "ZX_ERR_INTERNAL", "internal error")                       \
  X(kNotSupported, "ZX_ERR_NOT_SUPPORTED", "not supported")               \
  X(kNoResources, "ZX_ERR_NO_RESOURCES", "out of resources")              \
  X(kNoMemory, "ZX_ERR_NO_MEMORY", "out of memory")                       \
  X(kIntrRetry, "ZX_ERR_INTERNAL_INTR_RETRY", "interrupted")              \
  X(kInvalidArgs, "ZX_ERR_INVALID_ARGS", "invalid argument")              \
  X(kBadHandle, "ZX_ERR_BAD_HANDLE", "invalid handle")                    \
  X(kWrongType, "ZX_ERR_WRONG_TYPE", "wrong type")                        \
  X(kOutOfRange, "ZX_ERR_OUT_OF_RANGE", "out of range")                   \
  X(kBufferTooSmall, "ZX_ERR_BUFFER_TOO_SMALL", "buffer too small")       \
  X(kBadState, "ZX_ERR_BAD_STATE", "detached or closed")                  \
  X(kTimedOut, "ZX_ERR_TIMED_OUT", "timed out")                           \
  X(kShouldWait, "ZX_ERR_SHOULD_WAIT", "would block")                     \
  X(kCanceled, "ZX_ERR_CANCELED", "canceled")                             \
  X(kPeerClosed, "ZX_ERR_PEER_CLOSED", "peer closed")                     \
  X(kNotFound, "ZX_ERR_NOT_FOUND", "not found")                           \
  X(kAlreadyExists, "ZX_ERR_ALREADY_EXISTS", "already exists")            \
  X(kUnavailable, "ZX_ERR_UNAVAILABLE", "unreachable")                    \
  X(kAccessDenied, "ZX_ERR_ACCESS_DENIED", "permission denied")           \
  X(kIo, "ZX_ERR_IO", "I/O error")                                        \
  X(kIoDataIntegrity, "ZX_ERR_IO_DATA_INTEGRITY", "data integrity error") \
  X(kNoSpace, "ZX_ERR_NO_SPACE", "no space left")                         \
  X(kIntrKilled, "ZX_ERR_INTERNAL_INTR_KILLED", "thread killed")

const char* StatusString(Status s) {
  switch (s) {
#define UPAGER_STATUS_NAME(status, name, words) \
  case Status::status: return name;
    UPAGER_STATUS_TEXTS(UPAGER_STATUS_NAME)
#undef UPAGER_STATUS_NAME
  }
  return "(unknown)";
}

const char* StatusDescription(Status s) {
  switch (s) {
#define UPAGER_STATUS_DESCRIPTION(status, name, words) \
  case Status::status: return words " (" name ")";
    UPAGER_STATUS_TEXTS(UPAGER_STATUS_DESCRIPTION)
#undef UPAGER_STATUS_DESCRIPTION
  }
  return "(unknown)";
}

#undef UPAGER_STATUS_TEXTS

std::ostream& operator<<(std::ostream& os, Status s) { return os << StatusString(s); }

Deadline DeadlineAfter(std::chrono::nanoseconds d) {
  const Deadline now = std::chrono::steady_clock::now();
  if (d.count() <= 0) {
    return now;
  }
  if (d >= kInfiniteDeadline - now) {
    return kInfiniteDeadline;
  }
  return now + std::chrono::duration_cast<Deadline::duration>(d);
}

}  // namespace upager

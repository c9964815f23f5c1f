#include "upager/status.h"

namespace upager {

const char* StatusString(Status s) {
  switch (s) {
    case Status::kOk: return "ZX_OK";
    case Status::kInternal: return "ZX_ERR_INTERNAL";
    case Status::kNotSupported: return "ZX_ERR_NOT_SUPPORTED";
    case Status::kNoResources: return "ZX_ERR_NO_RESOURCES";
    case Status::kNoMemory: return "ZX_ERR_NO_MEMORY";
    case Status::kIntrRetry: return "ZX_ERR_INTERNAL_INTR_RETRY";
    case Status::kInvalidArgs: return "ZX_ERR_INVALID_ARGS";
    case Status::kBadHandle: return "ZX_ERR_BAD_HANDLE";
    case Status::kWrongType: return "ZX_ERR_WRONG_TYPE";
    case Status::kOutOfRange: return "ZX_ERR_OUT_OF_RANGE";
    case Status::kBufferTooSmall: return "ZX_ERR_BUFFER_TOO_SMALL";
    case Status::kBadState: return "ZX_ERR_BAD_STATE";
    case Status::kTimedOut: return "ZX_ERR_TIMED_OUT";
    case Status::kShouldWait: return "ZX_ERR_SHOULD_WAIT";
    case Status::kCanceled: return "ZX_ERR_CANCELED";
    case Status::kPeerClosed: return "ZX_ERR_PEER_CLOSED";
    case Status::kNotFound: return "ZX_ERR_NOT_FOUND";
    case Status::kAlreadyExists: return "ZX_ERR_ALREADY_EXISTS";
    case Status::kUnavailable: return "ZX_ERR_UNAVAILABLE";
    case Status::kAccessDenied: return "ZX_ERR_ACCESS_DENIED";
    case Status::kIo: return "ZX_ERR_IO";
    case Status::kIoDataIntegrity: return "ZX_ERR_IO_DATA_INTEGRITY";
    case Status::kNoSpace: return "ZX_ERR_NO_SPACE";
    case Status::kIntrKilled: return "ZX_ERR_INTERNAL_INTR_KILLED";
  }
  return "(unknown)";
}

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

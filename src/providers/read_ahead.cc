#include "upager/providers/read_ahead.h"

#include <algorithm>

namespace upager {

Status ParseReadAheadMode(std::string_view text, ReadAheadMode* out) {
  if (text == "off") {
    *out = ReadAheadMode::kOff;
  } else if (text == "fixed") {
    *out = ReadAheadMode::kFixed;
  } else if (text == "adaptive") {
    *out = ReadAheadMode::kAdaptive;
  } else {
    return Status::kInvalidArgs;
  }
  return Status::kOk;
}

const char* ReadAheadModeName(ReadAheadMode mode) {
  switch (mode) {
    case ReadAheadMode::kOff: return "off";
    case ReadAheadMode::kFixed: return "fixed";
    case ReadAheadMode::kAdaptive: return "adaptive";
  }
  return "?";
}

Status ReadAhead::Validate(const ReadAheadOptions& options) {
  if (options.window % kPageSize != 0 || options.max_window % kPageSize != 0) {
    return Status::kInvalidArgs;
  }
  if (options.mode == ReadAheadMode::kAdaptive && options.max_window < options.window) {
    return Status::kInvalidArgs;
  }
  return Status::kOk;
}

ReadAhead::ReadAhead(const ReadAheadOptions& options) : options_(options) {}

void ReadAhead::Reset() {
  internal::MutexLock lock(&mutex_);
  streams_.fill(Stream{});
}

uint64_t ReadAhead::Extend(uint64_t offset, uint64_t length, uint64_t limit) {
  if (offset >= limit) return length;
  const uint64_t room = limit - offset;
  uint64_t extra = 0;
  switch (options_.mode) {
    case ReadAheadMode::kOff: break;
    case ReadAheadMode::kFixed: extra = options_.window; break;
    case ReadAheadMode::kAdaptive: {
      internal::MutexLock lock(&mutex_);
      ++clock_;
      Stream* hit = nullptr;
      Stream* victim = &streams_[0];
      for (Stream& s : streams_) {
        // A hit: the request starts where the stream's last supply ended, or inside the
        // part of it that was read ahead (the reader overtook a supply still in flight).
        if (s.valid && offset <= s.next && s.next - offset <= s.window) {
          hit = &s;
          break;
        }
        if (!s.valid || s.last_use < victim->last_use) victim = &s;
      }
      if (hit != nullptr) {
        hit->window =
            hit->window == 0 ? options_.window : std::min(options_.max_window, hit->window * 2);
        extra = hit->window;
      } else {
        hit = victim;
        hit->valid = true;
        hit->window = offset == 0 ? options_.window : 0;
        extra = hit->window;
      }
      hit->next = offset + std::min(room, length + extra);
      hit->last_use = clock_;
      break;
    }
  }
  return std::min(room, length + extra);
}

}  // namespace upager

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

ReadAhead::Stream* ReadAhead::FindStreamLocked(uint64_t offset, uint64_t end,
                                               Direction* direction) {
  for (Stream& s : streams_) {
    if (!s.valid) continue;
    // Ascending: the request starts where the stream's last supply ended, or inside the
    // part of it that was read ahead (the reader overtook a supply still in flight).
    if (s.direction != Direction::kDown && offset <= s.next && s.next - offset <= s.window) {
      *direction = Direction::kUp;
      return &s;
    }
    // Descending, mirrored: the request ends where the last supply began, or inside the
    // part of it that was read ahead below.
    if (s.direction != Direction::kUp && end >= s.low && end - s.low <= s.window) {
      *direction = Direction::kDown;
      return &s;
    }
  }
  return nullptr;
}

ReadAheadRange ReadAhead::Plan(uint64_t offset, uint64_t length, uint64_t limit) {
  if (offset >= limit) return {offset, 0};
  const uint64_t end = offset + std::min(length, limit - offset);
  switch (options_.mode) {
    case ReadAheadMode::kOff: return {offset, end - offset};
    case ReadAheadMode::kFixed:
      return {offset, end - offset + std::min(options_.window, limit - end)};
    case ReadAheadMode::kAdaptive: break;
  }
  internal::MutexLock lock(&mutex_);
  ++clock_;
  Direction direction = Direction::kUnknown;
  Stream* stream = FindStreamLocked(offset, end, &direction);
  if (stream != nullptr) {
    stream->direction = direction;
    stream->window =
        stream->window == 0 ? options_.window : std::min(options_.max_window, stream->window * 2);
  } else {
    // A new stream, in place of the least recently used one. Only one at offset 0 gets a
    // window at once (and is taken to ascend).
    stream = &streams_[0];
    for (Stream& s : streams_) {
      if (!s.valid || (stream->valid && s.last_use < stream->last_use)) stream = &s;
      if (!stream->valid) break;
    }
    *stream = Stream{};
    stream->valid = true;
    if (offset == 0) {
      stream->window = options_.window;
      stream->direction = Direction::kUp;
    }
  }
  ReadAheadRange range{offset, end - offset};
  if (stream->direction == Direction::kDown) {
    const uint64_t extra = std::min(offset, stream->window);
    range.offset -= extra;
    range.length += extra;
  } else {
    range.length += std::min(stream->window, limit - end);
  }
  stream->low = range.offset;
  stream->next = range.end();
  stream->last_use = clock_;
  return range;
}

uint64_t ReadAhead::Extend(uint64_t offset, uint64_t length, uint64_t limit) {
  if (offset >= limit) return length;
  return Plan(offset, length, limit).end() - offset;
}

}  // namespace upager

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

Status ParseAccessPattern(std::string_view text, AccessPattern* out) {
  if (text == "normal") {
    *out = AccessPattern::kNormal;
  } else if (text == "random") {
    *out = AccessPattern::kRandom;
  } else if (text == "sequential") {
    *out = AccessPattern::kSequential;
  } else {
    return Status::kInvalidArgs;
  }
  return Status::kOk;
}

const char* AccessPatternName(AccessPattern pattern) {
  switch (pattern) {
    case AccessPattern::kNormal: return "normal";
    case AccessPattern::kRandom: return "random";
    case AccessPattern::kSequential: return "sequential";
  }
  return "?";
}

Status ReadAhead::Validate(const ReadAheadOptions& options) {
  if (options.window % kPageSize != 0 || options.max_window % kPageSize != 0 ||
      options.around % kPageSize != 0) {
    return Status::kInvalidArgs;
  }
  if (options.mode == ReadAheadMode::kAdaptive && options.max_window < options.window) {
    return Status::kInvalidArgs;
  }
  return Status::kOk;
}

ReadAhead::ReadAhead(const ReadAheadOptions& options)
    : options_(options), around_(options.around) {}

void ReadAhead::Reset() {
  internal::MutexLock lock(&mutex_);
  streams_.fill(Stream{});
  around_ = options_.around;
  misses_ = 0;
  near_run_ = 0;
}

void ReadAhead::SetAccessPattern(AccessPattern pattern) {
  pattern_.store(pattern, std::memory_order_relaxed);
}

AccessPattern ReadAhead::access_pattern() const { return pattern_.load(std::memory_order_relaxed); }

uint64_t ReadAhead::around_window() {
  internal::MutexLock lock(&mutex_);
  return around_;
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

ReadAheadRange ReadAhead::AroundLocked(uint64_t offset, uint64_t end, uint64_t limit,
                                       const ReadAheadGap& gap) {
  // Near or far: is a page supplied earlier within half a window of the request?
  const uint64_t reach = (around_ != 0 ? around_ : options_.around) / 2;
  const bool near = (gap.low > 0 && gap.low <= offset && offset - gap.low < reach) ||
                    (gap.high < limit && gap.high >= end && gap.high - end < reach);
  if (near) {
    misses_ = misses_ > kHitWeight ? misses_ - kHitWeight : 0;
    ++near_run_;
    if (around_ == 0) {
      if (misses_ == 0) around_ = options_.around;
      near_run_ = 0;
    } else if (near_run_ >= kGrowAfter) {
      around_ = std::min(std::max(options_.around, options_.max_window), around_ * 2);
      near_run_ = 0;
    }
  } else {
    ++misses_;
    near_run_ = 0;
    if (misses_ > kLotsOfMisses) {
      const uint64_t half = around_ / 2 / kPageSize * kPageSize;
      around_ = half >= 2 * kPageSize ? half : 0;
      misses_ = kLotsOfMisses / 2;
    }
  }
  if (around_ == 0) return {offset, end - offset};
  const uint64_t half = around_ / 2 / kPageSize * kPageSize;
  uint64_t low = offset > half ? offset - half : 0;
  uint64_t high = std::min(limit, low + around_);
  // Inside the absent run around the request, and never less than the request.
  if (gap.low <= offset) low = std::max(low, gap.low);
  if (gap.high >= end) high = std::min(high, gap.high);
  high = std::max(high, end);
  return {low, high - low};
}

ReadAheadRange ReadAhead::Plan(uint64_t offset, uint64_t length, uint64_t limit,
                               const ReadAheadGap& gap) {
  if (offset >= limit) return {offset, 0};
  const uint64_t end = offset + std::min(length, limit - offset);
  const AccessPattern pattern = pattern_.load(std::memory_order_relaxed);
  if (options_.mode == ReadAheadMode::kOff || pattern == AccessPattern::kRandom) {
    return {offset, end - offset};
  }
  if (options_.mode == ReadAheadMode::kFixed) {
    return {offset, end - offset + std::min(options_.window, limit - end)};
  }
  if (pattern == AccessPattern::kSequential) {
    return {offset, end - offset + std::min(options_.max_window, limit - end)};
  }
  internal::MutexLock lock(&mutex_);
  ++clock_;
  Direction direction = Direction::kUnknown;
  Stream* stream = FindStreamLocked(offset, end, &direction);
  ReadAheadRange range{offset, end - offset};
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
    } else {
      // Read-around. Its edges are where a reader that turns out sequential faults next:
      // there the new stream continues, either way.
      range = AroundLocked(offset, end, limit, gap);
      stream->low = range.offset;
      stream->next = range.end();
      stream->last_use = clock_;
      return range;
    }
  }
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

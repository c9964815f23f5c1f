// ReadAhead: how far past a requested range a provider supplies, so that a sequential scan
// needs few requests. Shared by FileProvider, BlobProvider and HttpProvider.
//
//  - kOff: supply exactly what was asked.
//  - kFixed: always add `window` bytes.
//  - kAdaptive: like Linux's readahead. Requests that continue where an earlier one ended
//    form a stream; each hit of a stream doubles its window (from `window` up to
//    `max_window`); a request that continues no stream gets no read-ahead, so random
//    access costs nothing extra. A request at offset 0 starts a stream (a file's start is
//    usually read on). Eight streams are followed at once (LRU), so several sequential
//    readers of one VMO each keep their own window.
//
// Windows are in bytes, multiples of the page size. Thread-safe.
#ifndef UPAGER_PROVIDERS_READ_AHEAD_H_
#define UPAGER_PROVIDERS_READ_AHEAD_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "upager/internal/mutex.h"
#include "upager/status.h"

namespace upager {

enum class ReadAheadMode { kOff, kFixed, kAdaptive };

struct ReadAheadOptions {
  ReadAheadMode mode = ReadAheadMode::kAdaptive;
  uint64_t window = 128 * 1024;           // kFixed: the window; kAdaptive: the first one
  uint64_t max_window = 4 * 1024 * 1024;  // kAdaptive: the largest window
};

// "off", "fixed" or "adaptive" (kInvalidArgs otherwise).
Status ParseReadAheadMode(std::string_view text, ReadAheadMode* out);
const char* ReadAheadModeName(ReadAheadMode mode);

class ReadAhead {
 public:
  // kInvalidArgs for windows that are not page multiples, or max_window < window.
  static Status Validate(const ReadAheadOptions& options);

  // `options` must be valid (Validate).
  explicit ReadAhead(const ReadAheadOptions& options = {});
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  // A request for [offset, offset + length) arrived. Returns the length to supply from
  // `offset`: at least `length`, no more than `limit - offset` (`limit`: the VMO's size),
  // a page multiple when its inputs are.
  uint64_t Extend(uint64_t offset, uint64_t length, uint64_t limit);

  // Forgets all streams.
  void Reset();

  const ReadAheadOptions& options() const { return options_; }

 private:
  struct Stream {
    uint64_t next = 0;    // where the stream's next request is expected
    uint64_t window = 0;  // read-ahead given at its last hit
    uint64_t last_use = 0;
    bool valid = false;
  };

  const ReadAheadOptions options_;
  internal::Mutex mutex_;
  std::array<Stream, 8> streams_ UPAGER_GUARDED_BY(mutex_);
  uint64_t clock_ UPAGER_GUARDED_BY(mutex_) = 0;
};

}  // namespace upager

#endif  // UPAGER_PROVIDERS_READ_AHEAD_H_

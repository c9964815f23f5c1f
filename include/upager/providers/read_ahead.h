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
//    Streams run either way. A request that ends where an earlier one began continues a
//    descending stream, whose window extends below the request: a reader that walks a
//    mapping backward (glibc's memcpy does, on some CPUs and alignments) is read ahead as
//    well as one that walks it forward. A stream's direction is set by its first hit.
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

// A byte range to supply: [offset, offset + length).
struct ReadAheadRange {
  uint64_t offset = 0;
  uint64_t length = 0;
  uint64_t end() const { return offset + length; }
  bool operator==(const ReadAheadRange&) const = default;
};

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

  // A request for [offset, offset + length) arrived. Returns the range to supply: it holds
  // the request's part below `limit` (the VMO's size), lies inside [0, limit), and is made
  // of page multiples when the inputs are. It reaches below `offset` only for a descending
  // stream (kAdaptive).
  ReadAheadRange Plan(uint64_t offset, uint64_t length, uint64_t limit);

  // Plan()'s part from `offset` on, as a length: at least `length`, no more than
  // `limit - offset`. For providers that read ahead only forward; it updates the streams
  // as Plan() does.
  uint64_t Extend(uint64_t offset, uint64_t length, uint64_t limit);

  // Forgets all streams.
  void Reset();

  const ReadAheadOptions& options() const { return options_; }

 private:
  enum class Direction : uint8_t { kUnknown, kUp, kDown };
  struct Stream {
    uint64_t low = 0;     // the start of its last supply: a descending stream goes on below
    uint64_t next = 0;    // the end of its last supply: an ascending stream goes on here
    uint64_t window = 0;  // read-ahead given at its last hit
    uint64_t last_use = 0;
    Direction direction = Direction::kUnknown;
    bool valid = false;
  };
  // The stream that the request [offset, end) continues, and which way; nullptr if none.
  Stream* FindStreamLocked(uint64_t offset, uint64_t end, Direction* direction)
      UPAGER_REQUIRES(mutex_);

  const ReadAheadOptions options_;
  internal::Mutex mutex_;
  std::array<Stream, 8> streams_ UPAGER_GUARDED_BY(mutex_);
  uint64_t clock_ UPAGER_GUARDED_BY(mutex_) = 0;
};

}  // namespace upager

#endif  // UPAGER_PROVIDERS_READ_AHEAD_H_

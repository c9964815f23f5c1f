// ReadAhead: how far around a requested range a provider supplies, so that a sequential
// scan needs few requests and a random one few reads. Shared by FileProvider, BlobProvider
// and HttpProvider.
//
//  - kOff: supply exactly what was asked (whatever the access pattern says).
//  - kFixed: always add `window` bytes.
//  - kAdaptive: like Linux's readahead. Requests that continue where an earlier one ended
//    form a stream; each hit of a stream doubles its window (from `window` up to
//    `max_window`). A request at offset 0 starts a stream (a file's start is usually read
//    on). Eight streams are followed at once (LRU), so several sequential readers of one
//    VMO each keep their own window.
//    Streams run either way. A request that ends where an earlier one began continues a
//    descending stream, whose window extends below the request: a reader that walks a
//    mapping backward (glibc's memcpy does, on some CPUs and alignments) is read ahead as
//    well as one that walks it forward. A stream's direction is set by its first hit.
//
// Read-around (kAdaptive): a request that continues no stream gets a window of `around`
// bytes centred on it, as Linux's mmap read-around does for a random fault: a cold disk
// costs about as much for 128 KiB as for 4 KiB, and random readers often use neighbours
// (records, tensors, B-tree nodes). It lies inside [0, limit) and inside the run of absent
// pages the provider says holds the request (ReadAheadGap): it never reaches a page that
// is already there.
//    Whether neighbours are used cannot be seen directly: a present page does not fault.
//    The signal taken instead is where the next random requests land. A request with a
//    present page (an earlier supply) within half a window of it is "near": the reader
//    works among the pages supplied before, so what was read around them is being used,
//    and the request that misses is filling the gaps between them. A request with none
//    is "far". Linux counts faults on read-around pages as hits; this is their shadow: a
//    reader that uses neighbours leaves few absent pages near its supplies, so its later
//    misses are near them. A near request takes kHitWeight off a miss counter (it stands
//    for the several neighbours that were used without faulting); a far one adds 1. More
//    than kLotsOfMisses halves the window (below two pages it is none: read-around off);
//    kGrowAfter near requests in a row double it (up to max(around, max_window)). While
//    it is off, near requests (judged with half of `around`) that bring the counter back
//    to 0 turn it on again at `around`. The counter is per ReadAhead (per VMO) and starts
//    at 0, so a fresh VMO gets read-around for its first faults, as Linux's mmap_miss.
//    The signal needs the gap: Plan() without one treats every request as far.
//    Why this signal: the VMO's page list remembers every supply, where a table of recent
//    windows would forget them (a reader of an eighth of a 1 GiB file lands near none of
//    the last few dozen). Why a tolerance of kLotsOfMisses: early on every reader looks far
//    (few pages are present yet), and a uniform reader of an eighth of the pages uses about
//    four of a 32-page window, which is the weight a near request carries. Simulated, that
//    reader keeps 128 KiB windows; one of a page in sixty-four loses them after ~100 faults.
//    Why a run of only kGrowAfter, 3: a run of near requests is rare while few pages are
//    present, even for a reader that uses every neighbour, so a longer run leaves a random
//    scan of a whole file on the first window until most of it is in. Simulated on 1 GiB
//    (4 KiB faults, 1 thread), a run of 3 takes the scan from 8.5K faults to 4.1K, the
//    reader of an eighth from 7.5K to 4.0K faults for 1% more bytes read, and leaves the
//    reader of a page in sixty-four or in a thousand as it was (same faults, same bytes).
//
// Access patterns (SetAccessPattern, the MADV_* equivalents; honoured from the next Plan):
//  - kNormal: the above.
//  - kRandom: no read-around and no read-ahead: every request is supplied as asked (kFixed
//    and kAdaptive alike), and no stream is started or continued.
//  - kSequential: every request is taken as part of an ascending stream at once: it gets
//    max_window of read-ahead from the first fault (kAdaptive; kFixed keeps `window`).
//
// Windows are in bytes, multiples of the page size. Thread-safe; Plan() allocates nothing
// and takes one short lock, so fault threads may call it concurrently with an I/O thread.
#ifndef UPAGER_PROVIDERS_READ_AHEAD_H_
#define UPAGER_PROVIDERS_READ_AHEAD_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "upager/internal/mutex.h"
#include "upager/status.h"

namespace upager {

enum class ReadAheadMode { kOff, kFixed, kAdaptive };

// How a VMO is going to be read (Provider::SetAccessPattern): see above.
enum class AccessPattern { kNormal, kRandom, kSequential };

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
  uint64_t around = 128 * 1024;           // kAdaptive: the first read-around window (0: none)
};

// The run of absent pages around a request, [low, high) in bytes, as the provider saw the
// VMO just before planning (low <= request offset < high). Read-around stays inside it, and
// a present page just outside it within reach makes the request "near". The default says
// nothing: all absent, as far as ReadAhead knows.
struct ReadAheadGap {
  uint64_t low = 0;
  uint64_t high = UINT64_MAX;
};

// "off", "fixed" or "adaptive" (kInvalidArgs otherwise).
Status ParseReadAheadMode(std::string_view text, ReadAheadMode* out);
const char* ReadAheadModeName(ReadAheadMode mode);
// "normal", "random" or "sequential" (kInvalidArgs otherwise).
Status ParseAccessPattern(std::string_view text, AccessPattern* out);
const char* AccessPatternName(AccessPattern pattern);

class ReadAhead {
 public:
  // Tuning of read-around (see above).
  static constexpr uint32_t kHitWeight = 4;
  static constexpr uint32_t kLotsOfMisses = 100;
  static constexpr uint32_t kGrowAfter = 3;

  // kInvalidArgs for windows that are not page multiples, or max_window < window.
  static Status Validate(const ReadAheadOptions& options);

  // `options` must be valid (Validate).
  explicit ReadAhead(const ReadAheadOptions& options = {});
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  // A request for [offset, offset + length) arrived. Returns the range to supply: it holds
  // the request's part below `limit` (the VMO's size), lies inside [0, limit), and is made
  // of page multiples when the inputs are. It reaches below `offset` only for a descending
  // stream or read-around (kAdaptive). Read-around stays inside `gap` (which must hold
  // `offset`), and judges the request near or far by it.
  ReadAheadRange Plan(uint64_t offset, uint64_t length, uint64_t limit,
                      const ReadAheadGap& gap = {});

  // Plan()'s part from `offset` on, as a length: at least `length`, no more than
  // `limit - offset`. For providers that read ahead only forward; it updates the streams
  // as Plan() does.
  uint64_t Extend(uint64_t offset, uint64_t length, uint64_t limit);

  // Forgets all streams and the read-around history (the window is `around` again).
  void Reset();

  // Takes effect from the next Plan(); streams are kept (kRandom ignores them meanwhile).
  void SetAccessPattern(AccessPattern pattern);
  AccessPattern access_pattern() const;
  // The read-around window a request that continues no stream gets now (0: none).
  uint64_t around_window();

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

  // Read-around for a request [offset, end) that continues no stream; updates the signal.
  ReadAheadRange AroundLocked(uint64_t offset, uint64_t end, uint64_t limit,
                              const ReadAheadGap& gap) UPAGER_REQUIRES(mutex_);

  const ReadAheadOptions options_;
  std::atomic<AccessPattern> pattern_{AccessPattern::kNormal};
  internal::Mutex mutex_;
  std::array<Stream, 8> streams_ UPAGER_GUARDED_BY(mutex_);
  uint64_t clock_ UPAGER_GUARDED_BY(mutex_) = 0;
  uint64_t around_ UPAGER_GUARDED_BY(mutex_);  // the read-around window now
  uint32_t misses_ UPAGER_GUARDED_BY(mutex_) = 0;
  uint32_t near_run_ UPAGER_GUARDED_BY(mutex_) = 0;  // near requests in a row
};

}  // namespace upager

#endif  // UPAGER_PROVIDERS_READ_AHEAD_H_

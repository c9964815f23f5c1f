// Provider: the common shape of upager's ready-made pagers (FileProvider, BlobProvider,
// HttpProvider). A provider is a PagerLoop handler that owns one pager-backed VMO and fills
// it from a source: the VMO's READ requests reach OnRead on a loop thread, and the provider
// answers them, often from its own I/O thread, with SupplyPagesFromBuffer (or a failure).
//
// The VMO's size is the content's size rounded up to whole pages; bytes past the content
// read as zeros. Use vmo() through Vmo::Read or a Mapping; a Duplicate of it, or a Mapping,
// may outlive the provider: destroying the provider detaches the VMO (as Zircon's detach:
// clean pages are dropped and dirty ones kept, and reads that would need the pager fail
// with kBadState, in a mapping as SIGBUS), and then no call reaches it.
//
// Access patterns: SetAccessPattern tells the provider how the VMO will be read, as
// madvise(MADV_RANDOM / MADV_SEQUENTIAL / MADV_NORMAL) does for a mapped file, and takes
// effect from the next request. kRandom turns read-around and read-ahead off (each fault
// reads just its pages: for sparse lookups in a big file); kSequential gives every request
// the largest read-ahead window at once (for a scan); kNormal, the default, is the adaptive
// policy of the provider's ReadAheadOptions (read_ahead.h). A provider whose read-ahead
// mode is kOff reads exactly what is asked whatever the pattern.
//
// Writing a provider of your own: derive, call Init() from your factory once the source is
// open, serve OnRead, and call Shutdown() first thing in your destructor (before the
// members your OnRead uses go away). Call UseReadAhead() if it has a read-ahead policy.
#ifndef UPAGER_PROVIDERS_PROVIDER_H_
#define UPAGER_PROVIDERS_PROVIDER_H_

#include <atomic>
#include <cstdint>

#include "upager/pager_loop.h"
#include "upager/providers/read_ahead.h"
#include "upager/status.h"
#include "upager/vmo.h"

namespace upager {

// What a provider did; all counters since it was created.
struct ProviderStats {
  uint64_t requests = 0;        // READ packets received
  uint64_t reads = 0;           // reads from the source (after merging and read-ahead)
  uint64_t bytes_read = 0;      // bytes those reads brought (compressed bytes for a blob)
  uint64_t bytes_supplied = 0;  // bytes supplied to the VMO, read-ahead included
  uint64_t failures = 0;        // ranges failed
  uint64_t retries = 0;         // reads retried (HttpProvider)
  // Mapped faults served on the fault-handling thread itself, with no READ packet (data at
  // hand: a file in memory or the page cache, FileProviderOptions::fill_faults; a chunk in
  // BlobProvider's cache).
  uint64_t fault_fills = 0;
  // Reads for mapped faults that could not be filled at once (a cold page cache), made on
  // the fault-handling thread's own io_uring and supplied there, with no READ packet
  // (FileProvider); counted in `reads` too.
  uint64_t fault_reads = 0;
  // Chunks served from the decompressed-chunk cache, and chunks that had to be read and
  // decompressed (BlobProvider; 0 elsewhere).
  uint64_t cache_hits = 0;
  uint64_t cache_misses = 0;
};

class Provider : public PagerLoop::Handler {
 public:
  ~Provider() override;
  Provider(const Provider&) = delete;
  Provider& operator=(const Provider&) = delete;

  // The VMO this provider serves.
  const Vmo& vmo() const { return vmo_; }
  // Bytes of content; vmo()'s size is this rounded up to a page multiple.
  uint64_t content_size() const { return content_size_; }
  // Bytes of the VMO (a page multiple).
  uint64_t vmo_size() const { return vmo_size_; }
  ProviderStats stats() const;

  // The read policy for this VMO from the next request on (see above). Thread-safe.
  void SetAccessPattern(AccessPattern pattern);
  AccessPattern access_pattern() const;

  // The first page (its offset) in [offset, end) that is absent from the VMO now, or `end`
  // (at most vmo_size()) if every page there is present; `offset` is rounded down to its
  // page. A snapshot, for
  // a reader whose Vmo::Read failed to find where without asking for the pages again.
  uint64_t FirstAbsent(uint64_t offset, uint64_t end) const;

 protected:
  Provider() = default;

  // Creates the VMO (kVmo* options) on `loop`, which must be started.
  Status Init(PagerLoop* loop, uint64_t content_size, uint32_t vmo_options);
  // Detaches the VMO and waits until no loop thread is in this handler. Idempotent.
  void Shutdown();

  PagerLoop* loop() const { return loop_; }
  // The read-ahead policy SetAccessPattern reaches (owned by the subclass; set once, before
  // the first request).
  void UseReadAhead(ReadAhead* read_ahead) { read_ahead_ = read_ahead; }
  // The run of pages absent from the VMO now around `offset` (< vmo_size()), inside
  // [low, high) (page-aligned bytes): empty, at `offset`'s page, if that page is present.
  // For planning reads that never fetch a page twice; a snapshot (a supply may fill it
  // right after). Allocates nothing; takes the VMO's lock, so never call it with that held.
  ReadAheadGap AbsentRun(uint64_t offset, uint64_t low, uint64_t high) const;
  // Supplies [offset, offset + length) from `data` (length a page multiple; the part past
  // the content must be zeros) and counts it. Ranges beyond the VMO are clipped.
  Status Supply(uint64_t offset, uint64_t length, const void* data);
  // Fails [offset, offset + length) with `error` (a valid pager failure code) and counts it.
  Status Fail(uint64_t offset, uint64_t length, Status error);

  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> reads_{0};
  std::atomic<uint64_t> bytes_read_{0};
  std::atomic<uint64_t> bytes_supplied_{0};
  std::atomic<uint64_t> failures_{0};
  std::atomic<uint64_t> retries_{0};
  std::atomic<uint64_t> fault_fills_{0};
  std::atomic<uint64_t> fault_reads_{0};
  std::atomic<uint64_t> cache_hits_{0};
  std::atomic<uint64_t> cache_misses_{0};

 private:
  PagerLoop* loop_ = nullptr;
  ReadAhead* read_ahead_ = nullptr;
  Vmo vmo_;
  uint64_t content_size_ = 0;
  uint64_t vmo_size_ = 0;
  bool shut_down_ = false;
};

// Rounds up to a page multiple.
inline constexpr uint64_t PageRoundUp(uint64_t n) { return (n + kPageSize - 1) & ~(kPageSize - 1); }

}  // namespace upager

#endif  // UPAGER_PROVIDERS_PROVIDER_H_

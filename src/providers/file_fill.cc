#include "providers/file_fill.h"

#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/full_io.h"
#include "base/handle_access.h"
#include "vm/vm_object_paged.h"

// cachestat(2) (Linux 6.5): counts the pages of a file range that are in the page cache,
// without reading anything. Its number is one of the unified ones (the same on every
// architecture but alpha), for C libraries whose headers predate it.
#if defined(SYS_cachestat)
#define UPAGER_SYS_CACHESTAT SYS_cachestat
#elif !defined(__alpha__)
#define UPAGER_SYS_CACHESTAT 451
#endif

namespace upager {
namespace {

// How a read of [lo, hi) around `page` is cut: first the piece holding the page (at most
// `first` bytes, on the side the stream goes), then the rest in pieces of at most `piece`.
struct Pieces {
  uint64_t first_lo;
  uint64_t first_hi;
  bool descending;
};

Pieces CutAround(uint64_t page, uint64_t lo, uint64_t hi, uint64_t first) {
  Pieces p;
  p.descending = page - lo > hi - (page + kPageSize);
  p.first_lo =
      p.descending ? std::max(lo, page + kPageSize > first ? page + kPageSize - first : 0) : page;
  p.first_hi = p.descending ? page + kPageSize : std::min(hi, page + first);
  return p;
}

// Calls visit(offset, length) for the rest of [lo, hi) after the first piece, nearest first:
// up from it, then down from it (or the other way when the stream descends). A direction
// ends when visit returns false.
template <typename Visit>
void VisitRest(const Pieces& p, uint64_t lo, uint64_t hi, uint64_t piece, Visit visit) {
  auto up = [&] {
    for (uint64_t at = p.first_hi; at < hi;) {
      const uint64_t n = std::min(piece, hi - at);
      if (!visit(at, n)) return;
      at += n;
    }
  };
  auto down = [&] {
    for (uint64_t at = p.first_lo; at > lo;) {
      const uint64_t n = std::min(piece, at - lo);
      if (!visit(at - n, n)) return;
      at -= n;
    }
  };
  if (p.descending) {
    down();
    up();
  } else {
    up();
    down();
  }
}

}  // namespace

FileProvider::Filler::Filler(FileProvider* owner, int fd, uint64_t max_io, ReadAhead* read_ahead,
                             internal::RequestQueue* queue)
    : owner_(owner),
      fd_(fd),
      max_io_(max_io),
      memory_file_(IsMemoryFile(fd)),
      read_ahead_(read_ahead),
      queue_(queue) {}

bool FileProvider::Filler::IsMemoryFile(int fd) {
  struct statfs fs {};
  if (fstatfs(fd, &fs) != 0) return false;
  return static_cast<uint64_t>(fs.f_type) == TMPFS_MAGIC ||
         static_cast<uint64_t>(fs.f_type) == RAMFS_MAGIC;
}

bool FileProvider::Filler::MaybeCached(uint64_t offset) {
#ifdef UPAGER_SYS_CACHESTAT
  if (!cachestat_works_.load(std::memory_order_relaxed)) return true;
  struct {
    uint64_t offset, length;
  } range{offset, kPageSize};
  struct {
    uint64_t cache, dirty, writeback, evicted, recently_evicted;
  } stat{};
  if (syscall(UPAGER_SYS_CACHESTAT, fd_, &range, &stat, 0) == 0) return stat.cache > 0;
  // An older kernel (ENOSYS), a file it cannot tell about (EOPNOTSUPP), a filter that
  // forbids it: never again (it never fails for a passing reason).
  cachestat_works_.store(false, std::memory_order_relaxed);
#endif
  return true;
}

int64_t FileProvider::Filler::ReadNow(std::byte* buffer, uint64_t length, uint64_t offset) {
  if (memory_file_) {
    const internal::IoResult r = internal::PreadFull(fd_, buffer, length, offset);
    return r.error != 0 ? -1 : static_cast<int64_t>(r.done);
  }
  if (!nowait_works_.load(std::memory_order_relaxed)) return -1;
  iovec iov{buffer, length};
  for (;;) {
    const ssize_t n = preadv2(fd_, &iov, 1, static_cast<off_t>(offset), RWF_NOWAIT);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    // Not in the page cache (EAGAIN), or a file system that cannot tell (then never again).
    if (errno == EOPNOTSUPP || errno == EINVAL) {
      nowait_works_.store(false, std::memory_order_relaxed);
    }
    return -1;
  }
}

bool FileProvider::Filler::ReadAndSupply(uint64_t offset, uint64_t length, uint64_t must_hold,
                                         std::byte* buffer, Sink* sink) {
  const uint64_t content = owner_->content_size();
  const uint64_t read_end = std::min(offset + length, std::max(content, offset));
  int64_t n = 0;
  if (read_end > offset) {
    n = ReadNow(buffer, read_end - offset, offset);
    if (n < 0) return false;
  }
  const auto got = static_cast<uint64_t>(n);
  owner_->reads_.fetch_add(1, std::memory_order_relaxed);
  owner_->bytes_read_.fetch_add(got, std::memory_order_relaxed);
  bool whole = true;
  if (offset + got < read_end) {
    // Cut short (a page-cache miss further on, or a file that shrank): whole pages only.
    whole = false;
    length = got & ~(kPageSize - 1);
    if (length == 0 || (must_hold != ~0ull && offset + length <= must_hold)) return false;
  } else if (got < length) {
    std::memset(buffer + got, 0, length - got);  // past the content: zeros
  }
  uint64_t supplied = 0;
  const bool go_on = sink->Supply({offset, length}, buffer, &supplied);
  // Counted after the supply, which may already have resumed the faulting thread; the
  // fill first, so that whoever sees the bytes (acquire) sees the fill too.
  if (go_on && must_hold != ~0ull) owner_->fault_fills_.fetch_add(1, std::memory_order_relaxed);
  if (supplied > 0) owner_->bytes_supplied_.fetch_add(supplied, std::memory_order_release);
  return go_on && whole;
}

void FileProvider::Filler::FillNow(uint64_t page, Range run, std::byte* buffer, uint64_t capacity,
                                   Sink* sink) {
  const uint64_t content = owner_->content_size();
  // What the I/O thread is reading is its to supply.
  const internal::ByteRange clear = queue_->ClearOfFlights(page, {run.offset, run.length});
  if (clear.length == 0) return;
  // The page alone first, unless the file is in memory: a miss must not move the read-ahead
  // streams, since the request that follows it is planned by them. Nor is a page that is
  // surely not in the page cache tried at all: the read would miss and, missing, start a
  // disk read of the page (the kernel's read-ahead) that splits the read the request then
  // makes around it into three.
  if (!memory_file_ && page < content) {
    if (!MaybeCached(page)) return;
    const uint64_t want = std::min(kPageSize, content - page);
    if (ReadNow(buffer, want, page) != static_cast<int64_t>(want)) return;
  }
  // The run of absent pages is the gap read-around stays in and judges the fault by.
  const ReadAheadRange plan =
      read_ahead_->Plan(page, kPageSize, owner_->vmo_size(), ReadAheadGap{run.offset, run.end()});
  const uint64_t lo = std::max(plan.offset, clear.offset);
  const uint64_t hi = std::min(plan.end(), clear.end());
  const uint64_t piece = std::min(max_io_, capacity);
  // First the piece holding the page: a small one, so that the faulting thread resumes
  // soon, on the side the stream goes.
  const Pieces p = CutAround(page, lo, hi, std::min<uint64_t>(piece, 64 * 1024));
  if (!ReadAndSupply(p.first_lo, p.first_hi - p.first_lo, page, buffer, sink)) return;
  // The rest; a miss or a stop ends the whole fill.
  bool stopped = false;
  VisitRest(p, lo, hi, piece, [&](uint64_t offset, uint64_t length) {
    stopped = stopped || !ReadAndSupply(offset, length, ~0ull, buffer, sink);
    return !stopped;
  });
}

void FileProvider::Filler::Missed(uint64_t page, Range run) {
  // The request exists: whatever reads the page from now on resolves it, and its packet
  // (queued before this) is dropped by a flight started here, or by one that ends after
  // this push.
  internal::LaneRing* ring = internal::LaneRing::ForThisThread();
  if (ring == nullptr || ring->free_slots() == 0) {
    queue_->Push(page, kPageSize, 0);
    return;
  }
  // The read the I/O thread would make for the request: the page and its read-ahead,
  // within the pages still absent and not being read.
  const uint64_t limit = owner_->vmo_size();
  if (page >= limit) {
    queue_->Push(page, kPageSize, 0);
    return;
  }
  const ReadAheadRange plan =
      read_ahead_->Plan(page, kPageSize, limit, ReadAheadGap{run.offset, run.end()});
  const ReadAheadGap absent =
      owner_->AbsentRun(page, std::min(plan.offset, page), std::max(plan.end(), page + kPageSize));
  if (absent.high <= page) return;  // supplied meanwhile
  const internal::ByteRange clear =
      queue_->ClearOfFlights(page, {absent.low, absent.high - absent.low});
  if (clear.length == 0) return;  // being read: that read answers the request
  const uint64_t lo = std::max(plan.offset, clear.offset);
  const uint64_t hi = std::min(std::max(plan.end(), page + kPageSize), clear.end());
  const uint64_t piece = std::min(max_io_, internal::LaneRing::kSlotBytes);
  // The piece holding the page first, on the side the stream goes; then the rest, nearest
  // first, while the ring has room (what does not fit is not read ahead this time).
  const Pieces p = CutAround(page, lo, hi, piece);
  const uint64_t started = StartLaneRead(ring, p.first_lo, p.first_hi - p.first_lo);
  if (p.first_lo + started <= page) {
    // Cut short before the page by a read that began meanwhile, or refused: the I/O
    // thread reads it (a push after any flight ended, so it is not dropped).
    queue_->Push(page, kPageSize, 0);
    return;
  }
  // A direction ends at a range being read already (the read is cut short there).
  VisitRest(p, lo, hi, piece, [&](uint64_t offset, uint64_t length) {
    return ring->free_slots() > 0 && StartLaneRead(ring, offset, length) == length;
  });
}

uint64_t FileProvider::Filler::StartLaneRead(internal::LaneRing* ring, uint64_t offset,
                                             uint64_t length) {
  const uint64_t marked = queue_->StartFlight(offset, length);
  if (marked == 0) return 0;
  {
    internal::MutexLock lock(&lane_mutex_);
    ++lane_reads_;
  }
  if (ring->Start(this, fd_, offset, marked)) return marked;
  {
    internal::MutexLock lock(&lane_mutex_);
    if (--lane_reads_ == 0) lane_idle_.NotifyAll();
  }
  // Requests for these pages may have been dropped because of the flight: hand the range
  // to the I/O thread, after the flight's end, so that they are answered.
  queue_->EndFlight(offset, marked);
  queue_->Push(offset, marked, 0);
  return 0;
}

void FileProvider::Filler::ReadDone(uint64_t offset, uint64_t length, std::byte* data,
                                    uint64_t done, int error) {
  owner_->reads_.fetch_add(1, std::memory_order_relaxed);
  owner_->fault_reads_.fetch_add(1, std::memory_order_relaxed);
  owner_->bytes_read_.fetch_add(done, std::memory_order_relaxed);
  queue_->EndFlight(offset, length);  // before the supply: see RequestQueue
  if (error != 0) {
    owner_->Fail(offset, length, Status::kIo);
  } else {
    if (done < length) std::memset(data + done, 0, length - done);  // past the end: zeros
    uint64_t supplied = 0;
    const Status s = internal::HandleAccess::Object(owner_->vmo())
                         ->TrySupplyPagesFromBuffer(offset, length, data, &supplied);
    if (s == Status::kShouldWait) {
      // No room without waiting, which a fault thread must not do: the I/O thread reads
      // it again and waits for room.
      queue_->Push(offset, length, 0);
    }
    if (supplied > 0) owner_->bytes_supplied_.fetch_add(supplied, std::memory_order_release);
  }
  internal::MutexLock lock(&lane_mutex_);
  if (--lane_reads_ == 0) lane_idle_.NotifyAll();
}

void FileProvider::Filler::WaitForLaneReads() {
  for (;;) {
    internal::LaneRing* own = internal::LaneRing::IfThisThread();
    {
      internal::MutexLock lock(&lane_mutex_);
      if (lane_reads_ == 0) return;
      if (own == nullptr || own->busy() == 0) {
        lane_idle_.Wait(&lane_mutex_);
        continue;
      }
    }
    // On a fault thread whose ring may hold some of them: nobody else would reap it.
    own->ReapOnce();
  }
}

}  // namespace upager

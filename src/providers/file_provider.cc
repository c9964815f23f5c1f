#include "upager/providers/file_provider.h"

#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "base/full_io.h"
#include "base/handle_access.h"
#include "providers/file_fill.h"
#include "providers/file_io.h"
#include "providers/request_queue.h"
#include "upager/pager.h"
#include "vm/vm_object_paged.h"

namespace upager {
namespace {

void SetWhy(std::string* why, const std::string& text) {
  if (why != nullptr) *why = text;
}

// Page-aligned scratch memory (O_DIRECT needs it; page alignment costs nothing otherwise).
struct AlignedBuffer {
  explicit AlignedBuffer(size_t size)
      : data(static_cast<char*>(std::aligned_alloc(kPageSize, size))), capacity(size) {}
  ~AlignedBuffer() { std::free(data); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  char* data;
  size_t capacity;
};

// user_data of the eventfd poll; buffer slots use their index.
constexpr uint64_t kWakeTag = ~0ull;

}  // namespace

// The I/O side of a FileProvider: the request queue, read-ahead and one thread that reads
// the file (io_uring or pread) and supplies what it read.
class FileProvider::Io {
 public:
  Io(FileProvider* owner, const FileProviderOptions& options)
      : owner_(owner),
        options_(options),
        queue_(options.max_io * 16),
        read_ahead_(options.read_ahead) {}

  ReadAhead* read_ahead() { return &read_ahead_; }

  ~Io() { Stop(); }

  // Sets up io_uring if `want_uring` (false if it cannot), then starts the thread.
  bool Start(bool want_uring) {
    if (want_uring) uring_ = SetUpUring();
    const size_t slots = uring_ ? options_.queue_depth : 1;
    for (size_t i = 0; i < slots; ++i) {
      slots_.push_back(Slot{std::make_unique<AlignedBuffer>(options_.max_io), {}, false});
      if (slots_.back().buffer->data == nullptr) return false;
    }
    // The thread starts with the first read queued (by a request, or by a fault the fault
    // thread could not fill): a file whose faults are all filled on the fault thread
    // (tmpfs, the page cache) never needs it, and its provider comes and goes without a
    // thread's start and join.
    queue_.SetNotifier([this] {
      std::call_once(start_once_, [this] { thread_ = std::thread([this] { Run(); }); });
      if (uring_) {
        const uint64_t one = 1;
        [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
      }
    });
    return true;
  }

  void Stop() {
    // No read is queued now (the provider is shut down): a thread never started stays so
    // (Close notifies too).
    std::call_once(start_once_, [] {});
    queue_.Close();
    if (thread_.joinable()) thread_.join();
    if (uring_) {
      io_uring_queue_exit(&ring_);
      close(wake_fd_);
      uring_ = false;
    }
  }

  void Push(uint64_t offset, uint64_t length, uint64_t queued_ns) {
    queue_.Push(offset, length, queued_ns);
  }
  bool uses_uring() const { return uring_; }
  internal::RequestQueue* queue() { return &queue_; }

 private:
  struct Slot {
    std::unique_ptr<AlignedBuffer> buffer;
    internal::ByteRange range;  // the read in this slot
    bool busy;
  };

  bool SetUpUring() {
    if (io_uring_queue_init(std::max<uint32_t>(8, options_.queue_depth * 2), &ring_, 0) < 0) {
      return false;
    }
    wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) {
      io_uring_queue_exit(&ring_);
      return false;
    }
    return true;
  }

  // Turns what is pending into reads of at most max_io bytes each, every one marked in
  // flight, appended to `backlog`: each request's own range first (its first read holds
  // the page the reader waits for), then its read-ahead or read-around, nearest first.
  // No read covers a page that is present in the VMO or in flight: the request's own range
  // skips them, read-ahead stops at the first one (what lies beyond is another reader's).
  void PlanReads(std::deque<internal::ByteRange>* backlog) {
    const std::vector<internal::ByteRange> ranges = queue_.TakeMerged();
    const uint64_t limit = owner_->vmo_size();
    for (size_t i = 0; i < ranges.size(); ++i) {
      const internal::ByteRange& r = ranges[i];
      if (r.offset >= limit) continue;
      const uint64_t request_end = r.offset + std::min(r.length, limit - r.offset);
      const ReadAheadRange plan =
          read_ahead_.Plan(r.offset, r.length, limit, owner_->AbsentRun(r.offset, 0, limit));
      // Read-ahead stops where a neighbouring request of this batch is: that one gets its
      // own reads.
      uint64_t end = plan.end();
      if (i + 1 < ranges.size()) end = std::min(end, ranges[i + 1].offset);
      end = std::max(end, request_end);
      uint64_t low = plan.offset;
      if (i > 0) low = std::max(low, std::min(r.offset, ranges[i - 1].end()));
      // The part just below the request (read-around, a descending stream) goes in the
      // request's own read when both fit in one: a cold disk seeks once.
      uint64_t from = r.offset;
      if (low < r.offset) {
        const uint64_t below = owner_->AbsentRun(r.offset, low, request_end).low;
        if (request_end - below <= options_.max_io) from = below;
      }
      StartReadsUp(from, request_end, end, backlog);
      StartReadsDown(from, low, backlog);
    }
  }

  // Reads of the absent pages of [from, end) not in flight, upward. Before `must` (the
  // request) present or in-flight pages are stepped over; from there on (read-ahead) the
  // first one ends it.
  void StartReadsUp(uint64_t from, uint64_t must, uint64_t end,
                    std::deque<internal::ByteRange>* backlog) {
    for (uint64_t pos = from; pos < end;) {
      const ReadAheadGap run = owner_->AbsentRun(pos, pos, end);
      const uint64_t piece = std::min(options_.max_io, run.high - pos);
      const uint64_t marked = piece == 0 ? 0 : queue_.StartFlight(pos, piece);
      if (marked == 0) {
        if (pos >= must) return;
        pos += kPageSize;  // present or in flight: its supply answers the request
        continue;
      }
      backlog->push_back({pos, marked});
      pos += marked;
    }
  }

  // Reads of [low, top) below a request (a descending stream, read-around), down from it,
  // nearest first; it stops at the first page present or in flight.
  void StartReadsDown(uint64_t top, uint64_t low, std::deque<internal::ByteRange>* backlog) {
    while (top > low) {
      const ReadAheadGap run = owner_->AbsentRun(top - kPageSize, low, top);
      if (run.high <= run.low) return;  // present
      const uint64_t piece = std::min(options_.max_io, top - run.low);
      const uint64_t marked = queue_.StartFlight(top - piece, piece);
      if (marked > 0) backlog->push_back({top - piece, marked});  // marked: read it
      if (marked != piece) return;
      top -= piece;
    }
  }

  // Reads what the slot's range needs from the file into its buffer; past the end of the
  // file (which may have shrunk) the buffer is zero-filled. Returns 0 or an errno.
  static void ZeroTail(char* data, uint64_t from, uint64_t length) {
    if (from < length) std::memset(data + from, 0, length - from);
  }

  // Supplies (or fails) a completed read and frees its slot.
  void Finish(Slot* slot, int error) {
    const internal::ByteRange r = slot->range;
    queue_.EndFlight(r.offset, r.length);  // before the supply: see RequestQueue
    if (error != 0) {
      owner_->Fail(r.offset, r.length, Status::kIo);
    } else {
      // Zeros past the content (the last page's tail).
      const uint64_t content = owner_->content_size();
      if (r.end() > content) {
        ZeroTail(slot->buffer->data, content > r.offset ? content - r.offset : 0, r.length);
      }
      owner_->Supply(r.offset, r.length, slot->buffer->data);
    }
    slot->busy = false;
  }

  void RunPread() {
    std::deque<internal::ByteRange> backlog;
    Slot& slot = slots_[0];
    for (;;) {
      if (backlog.empty()) {
        if (!queue_.WaitPending()) return;
        PlanReads(&backlog);
        continue;
      }
      slot.range = backlog.front();
      backlog.pop_front();
      slot.busy = true;
      const internal::IoResult io =
          internal::PreadFull(owner_->fd_, slot.buffer->data, slot.range.length, slot.range.offset);
      const int error = io.error;
      const uint64_t got = io.error != 0 ? 0 : io.done;
      owner_->reads_.fetch_add(1, std::memory_order_relaxed);
      owner_->bytes_read_.fetch_add(got, std::memory_order_relaxed);
      ZeroTail(slot.buffer->data, got, slot.range.length);
      Finish(&slot, error);
    }
  }

  void Run() { uring_ ? RunUring() : RunPread(); }

  void ArmWakePoll() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    io_uring_prep_poll_add(sqe, wake_fd_, POLLIN);
    io_uring_sqe_set_data64(sqe, kWakeTag);
  }

  // Queues the read of slot `i` from `from` bytes into its range.
  void SubmitRead(size_t i, uint64_t from) {
    Slot& slot = slots_[i];
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    io_uring_prep_read(sqe, owner_->fd_, slot.buffer->data + from,
                       static_cast<unsigned>(slot.range.length - from), slot.range.offset + from);
    io_uring_sqe_set_data64(sqe, i);
  }

  void RunUring() {
    std::deque<internal::ByteRange> backlog;
    std::vector<uint64_t> got(slots_.size(), 0);  // bytes read so far, per slot
    size_t busy = 0;
    ArmWakePoll();
    io_uring_submit(&ring_);
    for (;;) {
      PlanReads(&backlog);
      for (size_t i = 0; i < slots_.size() && !backlog.empty(); ++i) {
        if (slots_[i].busy) continue;
        slots_[i].range = backlog.front();
        slots_[i].busy = true;
        backlog.pop_front();
        got[i] = 0;
        ++busy;
        SubmitRead(i, 0);
      }
      if (queue_.closed() && busy == 0) return;
      io_uring_cqe* cqe = nullptr;
      if (io_uring_submit_and_wait(&ring_, 1) < 0 && errno != EINTR) {
        // Cannot wait on the ring any more: fall back to finishing nothing; the VMO's
        // requests are failed by the provider's shutdown.
      }
      if (io_uring_peek_cqe(&ring_, &cqe) != 0) continue;
      unsigned head;
      unsigned seen = 0;
      io_uring_for_each_cqe(&ring_, head, cqe) {
        ++seen;
        const uint64_t tag = io_uring_cqe_get_data64(cqe);
        const int res = cqe->res;
        if (tag == kWakeTag) {
          uint64_t value;
          [[maybe_unused]] ssize_t n = read(wake_fd_, &value, sizeof(value));
          ArmWakePoll();
          continue;
        }
        const size_t i = static_cast<size_t>(tag);
        Slot& slot = slots_[i];
        if (res == -EINTR || res == -EAGAIN) {
          SubmitRead(i, got[i]);
          continue;
        }
        if (res > 0 && got[i] + static_cast<uint64_t>(res) < slot.range.length) {
          got[i] += static_cast<uint64_t>(res);  // short read: ask for the rest
          SubmitRead(i, got[i]);
          continue;
        }
        if (res > 0) got[i] += static_cast<uint64_t>(res);
        owner_->reads_.fetch_add(1, std::memory_order_relaxed);
        owner_->bytes_read_.fetch_add(got[i], std::memory_order_relaxed);
        if (res >= 0) ZeroTail(slot.buffer->data, got[i], slot.range.length);
        Finish(&slot, res < 0 ? -res : 0);
        --busy;
      }
      io_uring_cq_advance(&ring_, seen);
    }
  }

  FileProvider* const owner_;
  const FileProviderOptions options_;
  internal::RequestQueue queue_;
  ReadAhead read_ahead_;
  std::vector<Slot> slots_;
  std::once_flag start_once_;  // the thread's start (or, at Stop, that it never starts)
  std::thread thread_;
  bool uring_ = false;
  io_uring ring_{};
  int wake_fd_ = -1;
};

Status FileProvider::Create(PagerLoop* loop, const std::string& path,
                            const FileProviderOptions& options, std::unique_ptr<FileProvider>* out,
                            std::string* why) {
  if (loop == nullptr || out == nullptr) return Status::kInvalidArgs;
  if (Status s = ReadAhead::Validate(options.read_ahead); s != Status::kOk) {
    SetWhy(why, "read-ahead windows must be page multiples, max_window >= window");
    return s;
  }
  if (options.queue_depth == 0 || options.queue_depth > 4096 || options.max_io == 0 ||
      options.max_io % kPageSize != 0 || options.max_io > (64u << 20)) {
    SetWhy(why, "queue_depth must be 1..4096 and max_io a page multiple up to 64 MiB");
    return Status::kInvalidArgs;
  }
  int flags = (options.writable ? O_RDWR : O_RDONLY) | O_CLOEXEC;
  if (options.direct) flags |= O_DIRECT;
  const int fd = open(path.c_str(), flags);
  if (fd < 0) {
    const int err = errno;
    SetWhy(why, "cannot open '" + path + "': " + std::strerror(err));
    return internal::StatusFromErrno(err);
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    SetWhy(why, "'" + path + "' is not a regular file");
    return Status::kWrongType;
  }
  std::unique_ptr<FileProvider> provider(new FileProvider());
  provider->fd_ = fd;
  provider->options_ = options;
  provider->io_ = std::make_unique<Io>(provider.get(), options);
  provider->UseReadAhead(provider->io_->read_ahead());
  if (Status s = provider->Init(loop, static_cast<uint64_t>(st.st_size), 0); s != Status::kOk) {
    SetWhy(why, std::string("cannot create the VMO: ") + StatusString(s));
    return s;
  }
  const bool want_uring = options.io != FileIo::kPread;
  if (!provider->io_->Start(want_uring)) {
    SetWhy(why, "out of memory for I/O buffers");
    return Status::kNoMemory;
  }
  if (options.io == FileIo::kIoUring && !provider->io_->uses_uring()) {
    SetWhy(why, "io_uring is not available here");
    return Status::kNotSupported;
  }
  if (options.fill_faults && !options.direct) {
    provider->filler_ = std::make_unique<Filler>(
        provider.get(), fd, options.max_io, provider->io_->read_ahead(), provider->io_->queue());
    internal::HandleAccess::Object(provider->vmo())->SetFaultFiller(provider->filler_.get());
  }
  *out = std::move(provider);
  return Status::kOk;
}

FileProvider::~FileProvider() {
  // No fault thread reads the file for the VMO from here on.
  if (filler_) {
    internal::HandleAccess::Object(vmo())->ClearFaultFiller();
    filler_->WaitForLaneReads();  // they use the file, the queue and the VMO
  }
  if (options_.writable && vmo().is_valid()) Flush();
  Shutdown();  // no loop thread calls OnRead after this
  io_.reset();
  if (fd_ >= 0) close(fd_);
}

bool FileProvider::uses_io_uring() const { return io_ != nullptr && io_->uses_uring(); }

void FileProvider::OnRead(const PagerLoop::Request& request) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  io_->Push(request.offset, request.length, request.queued_ns);
}

Status FileProvider::Flush() {
  if (!options_.writable) return Status::kBadState;
  internal::MutexLock lock(&flush_mutex_);
  const Pager& pager = loop()->pager();
  // Gather every dirty range first (in batches of what fits the buffer).
  std::vector<VmoDirtyRange> ranges;
  {
    VmoDirtyRange batch[64];
    uint64_t from = 0;
    while (from < vmo_size()) {
      size_t actual = 0;
      size_t avail = 0;
      if (Status s = pager.QueryDirtyRanges(vmo(), from, vmo_size() - from, batch, sizeof(batch),
                                            &actual, &avail);
          s != Status::kOk) {
        return s;
      }
      if (actual == 0) break;
      ranges.insert(ranges.end(), batch, batch + actual);
      from = batch[actual - 1].offset + batch[actual - 1].length;
      if (actual == avail) break;
    }
  }
  if (ranges.empty()) return Status::kOk;
  // Begin: from here, a store to these pages makes them dirty again and WRITEBACK_END
  // leaves them dirty, so nothing written after this point is lost.
  for (const VmoDirtyRange& r : ranges) {
    pager.OpRange(kPagerOpWritebackBegin, vmo(), r.offset, r.length,
                  r.options & kVmoDirtyRangeIsZero);
  }
  constexpr uint64_t kChunk = 1 << 20;
  AlignedBuffer buffer(kChunk);
  if (buffer.data == nullptr) return Status::kNoMemory;
  Status result = Status::kOk;
  for (const VmoDirtyRange& r : ranges) {
    // Never past the file's size: the VMO's last page may reach beyond it.
    const uint64_t end = std::min(r.offset + r.length, content_size());
    for (uint64_t pos = r.offset; pos < end && result == Status::kOk;) {
      const uint64_t n = std::min(kChunk, end - pos);
      if (r.options & kVmoDirtyRangeIsZero) {
        std::memset(buffer.data, 0, n);
      } else if (Status s = vmo().Read(buffer.data, pos, PageRoundUp(n)); s != Status::kOk) {
        result = s;
        break;
      }
      if (internal::PwriteFull(fd_, buffer.data, n, pos).error != 0) {
        result = Status::kIo;
        break;
      }
      pos += n;
    }
  }
  if (result == Status::kOk && fdatasync(fd_) != 0) result = Status::kIo;
  if (result != Status::kOk) return result;  // pages stay dirty (AwaitingClean -> retried)
  for (const VmoDirtyRange& r : ranges) {
    pager.OpRange(kPagerOpWritebackEnd, vmo(), r.offset, r.length, 0);
  }
  return Status::kOk;
}

}  // namespace upager

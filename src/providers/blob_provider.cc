// BlobProvider: serves READ requests of a blob's VMO by decompressing whole chunks on the
// loop thread that received the request.
#include "upager/providers/blob_provider.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <vector>

#include "providers/blob_layout.h"
#include "providers/file_io.h"
#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"

namespace upager {

class BlobProvider::Blob {
 public:
  Blob(int file, const ReadAheadOptions& options) : fd(file), read_ahead(options) {}
  ~Blob() { close(fd); }
  Blob(const Blob&) = delete;
  Blob& operator=(const Blob&) = delete;

  // Marks chunk `chunk` as being decompressed; false if another thread already is.
  bool StartChunk(uint64_t chunk) {
    internal::MutexLock lock(&mutex_);
    if (busy_[chunk]) return false;
    busy_[chunk] = true;
    return true;
  }
  void EndChunk(uint64_t chunk) {
    internal::MutexLock lock(&mutex_);
    busy_[chunk] = false;
  }
  // Once the index is read: no chunk is busy.
  void ResetChunks() {
    internal::MutexLock lock(&mutex_);
    busy_.assign(header.chunk_count, 0);
  }

  const int fd;
  // Set by Create before any request; immutable afterwards, so read without locks.
  blob::Header header;
  std::vector<blob::IndexEntry> index;
  ReadAhead read_ahead;

 private:
  internal::Mutex mutex_;
  std::vector<uint8_t> busy_ UPAGER_GUARDED_BY(mutex_);  // one flag a chunk
};

Status BlobProvider::Create(PagerLoop* loop, const std::string& path,
                            const BlobProviderOptions& options, std::unique_ptr<BlobProvider>* out,
                            std::string* why) {
  if (loop == nullptr || out == nullptr) return Status::kInvalidArgs;
  if (ReadAhead::Validate(options.read_ahead) != Status::kOk) {
    if (why != nullptr) *why = "read-ahead windows must be page multiples, max >= first";
    return Status::kInvalidArgs;
  }
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (why != nullptr) *why = "open " + path + ": " + std::strerror(err);
    return internal::StatusFromErrno(err);
  }
  // From here `opened` owns fd: its destructor closes it on every path.
  auto opened = std::make_unique<Blob>(fd, options.read_ahead);
  std::string index_why;
  Status s = blob::ReadIndex(fd, &opened->header, &opened->index, &index_why);
  if (s != Status::kOk) {
    if (why != nullptr) *why = path + ": " + index_why;
    return s;
  }
  opened->ResetChunks();
  const uint64_t content_size = opened->header.content_size;
  std::unique_ptr<BlobProvider> provider(new BlobProvider(std::move(opened)));
  provider->UseReadAhead(&provider->blob_->read_ahead);
  s = provider->Init(loop, content_size, 0);
  if (s != Status::kOk) {
    if (why != nullptr) *why = path + ": cannot create the VMO";
    return s;
  }
  *out = std::move(provider);
  return Status::kOk;
}

BlobProvider::BlobProvider(std::unique_ptr<Blob> blob) : blob_(std::move(blob)) {}

BlobProvider::~BlobProvider() {
  // No loop thread may be in OnRead (which uses the blob) once this returns; the blob (and
  // its file) goes after.
  Shutdown();
}

uint32_t BlobProvider::chunk_size() const { return blob_->header.chunk_size; }
uint64_t BlobProvider::chunk_count() const { return blob_->header.chunk_count; }

Status BlobProvider::SupplyChunk(uint64_t chunk, void* buffer) {
  const blob::IndexEntry& entry = blob_->index[chunk];
  uint64_t bytes = 0;
  const Status s = blob::ReadChunk(blob_->fd, entry, buffer, &bytes);
  reads_.fetch_add(1, std::memory_order_relaxed);
  bytes_read_.fetch_add(bytes, std::memory_order_relaxed);
  if (s != Status::kOk) {
    blob_->EndChunk(chunk);
    return s;
  }
  // Only the last chunk can be short; the VMO holds it up to a page boundary, as zeros.
  const uint64_t padded = PageRoundUp(entry.raw_size);
  std::memset(static_cast<char*>(buffer) + entry.raw_size, 0, padded - entry.raw_size);
  // A supply can only fail if the VMO was detached meanwhile; nobody is left to tell.
  blob_->EndChunk(chunk);  // before the supply: a request arriving after this decompresses again
  (void)Supply(chunk * blob_->header.chunk_size, padded, buffer);
  return Status::kOk;
}

void BlobProvider::OnRead(const PagerLoop::Request& request) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  const uint64_t size = vmo_size();
  const blob::Header& header = blob_->header;
  const uint64_t chunk = header.chunk_size;
  if (request.length == 0 || request.offset >= size || header.chunk_count == 0) return;

  // The requested chunks [first, last_requested], then read-ahead. Read-ahead is planned
  // from the chunk-aligned range, so that a sequential reader's next request (which starts
  // where the last supplied chunk ended, or ends where it began) continues its stream.
  const uint64_t request_end = std::min(size, request.offset + request.length);
  const uint64_t first = request.offset / chunk;
  const uint64_t last_requested = (request_end - 1) / chunk;
  const uint64_t start = first * chunk;
  const uint64_t aligned_end = std::min(size, (last_requested + 1) * chunk);
  const ReadAheadRange plan =
      blob_->read_ahead.Plan(start, aligned_end - start, size, AbsentRun(request.offset, 0, size));
  const uint64_t end = std::min<uint64_t>(header.chunk_count, (plan.end() + chunk - 1) / chunk);
  const uint64_t below = plan.offset / chunk;  // read-ahead of a descending stream

  // One chunk's worth of output per thread, reused (zero-padding needs a page multiple,
  // which a chunk size is).
  thread_local std::vector<uint8_t> t_chunk;
  if (t_chunk.size() < chunk) t_chunk.resize(chunk);

  const auto serve = [&](uint64_t c) {
    // A chunk another thread is decompressing now needs nothing more: its supply or its
    // failure resolves this request too, which is outstanding since before its packet.
    if (!blob_->StartChunk(c)) return;
    const Status s = SupplyChunk(c, t_chunk.data());
    if (s == Status::kOk) return;
    // Only this chunk fails; the others of the request are still supplied. A bad chunk is
    // failed even when it was only read ahead: a request for it may have arrived on
    // another thread while it was busy and been left to this one (see above). Failing a
    // range nobody waits for does nothing (docs/zircon-semantics.md 7.2), so this costs
    // nothing otherwise.
    const Status error = s == Status::kIoDataIntegrity ? Status::kIoDataIntegrity : Status::kIo;
    (void)Fail(c * chunk, PageRoundUp(blob_->index[c].raw_size), error);
  };
  // A chunk is supplied whole, so one whose first and last pages are present was supplied
  // already: read-ahead stops there rather than decompress it again.
  const auto present = [&](uint64_t c) {
    const uint64_t low = c * chunk;
    const uint64_t last = std::min(size, low + chunk) - kPageSize;
    const ReadAheadGap a = AbsentRun(low, low, low + kPageSize);
    const ReadAheadGap b = AbsentRun(last, last, last + kPageSize);
    return a.high <= a.low && b.high <= b.low;
  };
  // The requested chunks and what is read ahead above them, then what is read ahead below
  // (a descending stream or read-around), nearest first: in the order the reader will want
  // them.
  for (uint64_t c = first; c < end; ++c) {
    if (c > last_requested && present(c)) break;
    serve(c);
  }
  for (uint64_t c = first; c > below;) {
    if (present(--c)) break;
    serve(c);
  }
}

}  // namespace upager

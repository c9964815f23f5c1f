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

#include "providers/file_io.h"

namespace upager {

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
  // From here the provider owns fd: its destructor closes it on every path.
  std::unique_ptr<BlobProvider> provider(new BlobProvider(options));
  provider->fd_ = fd;
  std::string index_why;
  Status s = blob::ReadIndex(fd, &provider->header_, &provider->index_, &index_why);
  if (s != Status::kOk) {
    if (why != nullptr) *why = path + ": " + index_why;
    return s;
  }
  {
    internal::MutexLock lock(&provider->chunks_mutex_);
    provider->chunk_busy_.assign(provider->header_.chunk_count, 0);
  }
  s = provider->Init(loop, provider->header_.content_size, 0);
  if (s != Status::kOk) {
    if (why != nullptr) *why = path + ": cannot create the VMO";
    return s;
  }
  *out = std::move(provider);
  return Status::kOk;
}

BlobProvider::~BlobProvider() {
  // No loop thread may be in OnRead (which uses fd_ and index_) once this returns.
  Shutdown();
  if (fd_ >= 0) close(fd_);
}

bool BlobProvider::StartChunk(uint64_t chunk) {
  internal::MutexLock lock(&chunks_mutex_);
  if (chunk_busy_[chunk]) return false;
  chunk_busy_[chunk] = true;
  return true;
}

void BlobProvider::EndChunk(uint64_t chunk) {
  internal::MutexLock lock(&chunks_mutex_);
  chunk_busy_[chunk] = false;
}

Status BlobProvider::SupplyChunk(uint64_t chunk, void* buffer) {
  const blob::IndexEntry& entry = index_[chunk];
  uint64_t bytes = 0;
  const Status s = blob::ReadChunk(fd_, entry, buffer, &bytes);
  reads_.fetch_add(1, std::memory_order_relaxed);
  bytes_read_.fetch_add(bytes, std::memory_order_relaxed);
  if (s != Status::kOk) {
    EndChunk(chunk);
    return s;
  }
  // Only the last chunk can be short; the VMO holds it up to a page boundary, as zeros.
  const uint64_t padded = PageRoundUp(entry.raw_size);
  std::memset(static_cast<char*>(buffer) + entry.raw_size, 0, padded - entry.raw_size);
  // A supply can only fail if the VMO was detached meanwhile; nobody is left to tell.
  EndChunk(chunk);  // before the supply: a request arriving after this decompresses again
  (void)Supply(chunk * header_.chunk_size, padded, buffer);
  return Status::kOk;
}

void BlobProvider::OnRead(const PagerLoop::Request& request) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  const uint64_t size = vmo_size();
  const uint64_t chunk = header_.chunk_size;
  if (request.length == 0 || request.offset >= size || header_.chunk_count == 0) return;

  // The requested chunks [first, last_requested], then read-ahead. Read-ahead is planned
  // from the chunk-aligned range, so that a sequential reader's next request (which starts
  // where the last supplied chunk ended, or ends where it began) continues its stream.
  const uint64_t request_end = std::min(size, request.offset + request.length);
  const uint64_t first = request.offset / chunk;
  const uint64_t last_requested = (request_end - 1) / chunk;
  const uint64_t start = first * chunk;
  const uint64_t aligned_end = std::min(size, (last_requested + 1) * chunk);
  const ReadAheadRange plan = read_ahead_.Plan(start, aligned_end - start, size);
  const uint64_t end = std::min<uint64_t>(header_.chunk_count, (plan.end() + chunk - 1) / chunk);
  const uint64_t below = plan.offset / chunk;  // read-ahead of a descending stream

  // One chunk's worth of output per thread, reused (zero-padding needs a page multiple,
  // which a chunk size is).
  thread_local std::vector<uint8_t> t_chunk;
  if (t_chunk.size() < chunk) t_chunk.resize(chunk);

  const auto serve = [&](uint64_t c) {
    // A chunk another thread is decompressing now needs nothing more: its supply or its
    // failure resolves this request too, which is outstanding since before its packet.
    if (!StartChunk(c)) return;
    const Status s = SupplyChunk(c, t_chunk.data());
    if (s == Status::kOk) return;
    // Only this chunk fails; the others of the request are still supplied. A bad chunk is
    // failed even when it was only read ahead: a request for it may have arrived on
    // another thread while it was busy and been left to this one (see above). Failing a
    // range nobody waits for does nothing (docs/zircon-semantics.md 7.2), so this costs
    // nothing otherwise.
    const Status error = s == Status::kIoDataIntegrity ? Status::kIoDataIntegrity : Status::kIo;
    (void)Fail(c * chunk, PageRoundUp(index_[c].raw_size), error);
  };
  // The requested chunks and what is read ahead above them, then what is read ahead below
  // (a descending stream), nearest first: in the order the reader will want them.
  for (uint64_t c = first; c < end; ++c) serve(c);
  for (uint64_t c = first; c > below;) serve(--c);
}

}  // namespace upager

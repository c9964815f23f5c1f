// BlobProvider: serves READ requests of a blob's VMO by decompressing whole chunks on the
// loop thread that received the request, from its chunk cache when it can.
#include "upager/providers/blob_provider.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "base/full_io.h"
#include "base/handle_access.h"
#include "providers/blob_layout.h"
#include "providers/chunk_cache.h"
#include "providers/chunk_ring.h"
#include "providers/file_io.h"
#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"
#include "vm/vm_object_paged.h"

namespace upager {
namespace {

// A thread's scratch buffer: grows, and is never zero-filled, so that its pages cost
// nothing until they are written (a fresh loop thread would otherwise fault in and clear
// the whole of it on its first request).
class Scratch {
 public:
  uint8_t* Get(size_t bytes) {
    if (size_ < bytes) {
      data_.reset(new uint8_t[bytes]);
      size_ = bytes;
    }
    return data_.get();
  }

 private:
  std::unique_ptr<uint8_t[]> data_;
  size_t size_ = 0;
};

}  // namespace

class BlobProvider::Blob {
 public:
  Blob(int file, const BlobProviderOptions& options)
      : fd(file),
        read_ahead(options.read_ahead),
        io(options.io),
        cache_bytes(options.cache_bytes) {}
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
  // Once the index is read: no chunk is busy, no group has missed.
  void ResetChunks() {
    internal::MutexLock lock(&mutex_);
    busy_.assign(header.chunk_count, 0);
    group_chunks = std::max<uint64_t>(1, kPrefetchGroupBytes / header.chunk_size);
    group_misses = std::make_unique<std::atomic<uint8_t>[]>(
        (header.chunk_count + group_chunks - 1) / group_chunks);
  }

  // Compressed read-around. A chunk that must be read from the file counts as a miss of its
  // group (kPrefetchGroupBytes of content); the second miss of a group shows that its
  // neighbours are used too, and the compressed bytes of the whole group are asked of the
  // kernel then (POSIX_FADV_WILLNEED: read into the page cache in the background), so that
  // the group's later chunks are read from memory rather than one disk read each. Nothing is
  // decompressed ahead: this costs disk reads of compressed bytes only, as the kernel's
  // read-around for a mapped file does. Only a hint: what it reads is read again, checked,
  // by the chunk's own read.
  static constexpr uint64_t kPrefetchGroupBytes = 2 * 1024 * 1024;
  void NoteMiss(uint64_t chunk) {
    const uint64_t group = chunk / group_chunks;
    if (group_misses[group].fetch_add(1, std::memory_order_relaxed) != 1) return;
    const uint64_t first = group * group_chunks;
    const uint64_t last = std::min<uint64_t>(header.chunk_count, first + group_chunks) - 1;
    const uint64_t from = index[first].offset;
    const uint64_t to = index[last].offset + index[last].compressed_size;
    if (to > from) {
      (void)posix_fadvise(fd, static_cast<off_t>(from), static_cast<off_t>(to - from),
                          POSIX_FADV_WILLNEED);
    }
  }

  const int fd;
  // Set by Create before any request; immutable afterwards, so read without locks.
  blob::Header header;
  std::vector<blob::IndexEntry> index;
  uint32_t max_compressed = 0;  // the largest compressed chunk
  ReadAhead read_ahead;
  const FileIo io;
  const uint64_t cache_bytes;
  std::unique_ptr<internal::ChunkCache> cache;  // made by Create; never null afterwards
  uint64_t group_chunks = 1;                    // chunks a read-around group (set with the index)
  // Misses a group saw, modulo 256: the second acts, and every 256th after it (a group
  // read that often is being evicted and read again; asking for it again is right).
  std::unique_ptr<std::atomic<uint8_t>[]> group_misses;

 private:
  internal::Mutex mutex_;
  std::vector<uint8_t> busy_ UPAGER_GUARDED_BY(mutex_);  // one flag a chunk
};

// A mapped fault on a page of a chunk in the cache is supplied from the cache on the fault
// thread: the chunk's part in the absent run, straight from the cache slot (pinned while
// the supply copies it), with no packet and no loop thread. Any other fault goes the
// request's way, and its chunk is read and decompressed on a loop thread.
class BlobProvider::Filler final : public internal::FaultFiller {
 public:
  explicit Filler(BlobProvider* owner) : owner_(owner) {}

  void FillNow(uint64_t page, Range run, std::byte* /*buffer*/, uint64_t /*capacity*/,
               Sink* sink) override {
    Blob& blob = *owner_->blob_;
    const uint64_t chunk_bytes = blob.header.chunk_size;
    const uint64_t chunk = page / chunk_bytes;
    if (chunk >= blob.header.chunk_count) return;
    internal::ChunkCache::Ref ref;
    if (!blob.cache->Acquire(chunk, &ref)) return;
    const uint64_t start = chunk * chunk_bytes;
    const uint64_t chunk_end = start + PageRoundUp(blob.index[chunk].raw_size);
    const uint64_t lo = std::max(start, run.offset);
    const uint64_t hi = std::min(chunk_end, run.end());
    uint64_t supplied = 0;
    const bool ok =
        lo <= page && page < hi &&
        sink->Supply({lo, hi - lo}, reinterpret_cast<const std::byte*>(ref.data + (lo - start)),
                     &supplied);
    blob.cache->Release(&ref);
    owner_->cache_hits_.fetch_add(1, std::memory_order_relaxed);
    if (!ok) return;
    // The read-ahead streams follow the reader through cached chunks too, so that the next
    // chunk it misses is read ahead as a continuation.
    blob.read_ahead.Plan(start, chunk_end - start, owner_->vmo_size(),
                         ReadAheadGap{run.offset, run.end()});
    owner_->fault_fills_.fetch_add(1, std::memory_order_relaxed);
    owner_->bytes_supplied_.fetch_add(supplied, std::memory_order_release);
  }
  void Missed(uint64_t /*page*/, Range /*run*/) override {}
  bool ReadsMisses() const override { return false; }  // its loop thread reads chunks

 private:
  BlobProvider* const owner_;
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
  auto opened = std::make_unique<Blob>(fd, options);
  std::string index_why;
  Status s = blob::ReadIndex(fd, &opened->header, &opened->index, &index_why);
  if (s != Status::kOk) {
    if (why != nullptr) *why = path + ": " + index_why;
    return s;
  }
  opened->ResetChunks();
  for (const blob::IndexEntry& e : opened->index) {
    opened->max_compressed = std::max(opened->max_compressed, e.compressed_size);
  }
  const uint64_t chunk_bytes = opened->header.chunk_size;
  size_t cache_chunks = static_cast<size_t>(
      std::min<uint64_t>(options.cache_bytes / chunk_bytes, opened->header.chunk_count));
  if (options.cache_bytes > 0 && cache_chunks == 0 && opened->header.chunk_count > 0) {
    cache_chunks = 1;
  }
  opened->cache =
      std::make_unique<internal::ChunkCache>(cache_chunks, chunk_bytes, opened->header.chunk_count);
  const uint64_t content_size = opened->header.content_size;
  std::unique_ptr<BlobProvider> provider(new BlobProvider(std::move(opened)));
  provider->UseReadAhead(&provider->blob_->read_ahead);
  s = provider->Init(loop, content_size, 0);
  if (s != Status::kOk) {
    if (why != nullptr) *why = path + ": cannot create the VMO";
    return s;
  }
  provider->filler_ = std::make_unique<Filler>(provider.get());
  internal::HandleAccess::Object(provider->vmo())->SetFaultFiller(provider->filler_.get());
  *out = std::move(provider);
  return Status::kOk;
}

BlobProvider::BlobProvider(std::unique_ptr<Blob> blob) : blob_(std::move(blob)) {}

BlobProvider::~BlobProvider() {
  // No fault thread copies out of the cache for the VMO from here on.
  if (filler_) internal::HandleAccess::Object(vmo())->ClearFaultFiller();
  // No loop thread may be in OnRead (which uses the blob) once this returns; the blob (and
  // its file) goes after.
  Shutdown();
}

uint32_t BlobProvider::chunk_size() const { return blob_->header.chunk_size; }
uint64_t BlobProvider::chunk_count() const { return blob_->header.chunk_count; }

size_t BlobProvider::cache_capacity() const { return blob_->cache->capacity(); }
size_t BlobProvider::cached_chunks() const { return blob_->cache->cached_chunks(); }

bool BlobProvider::CopyIfCached(uint64_t offset, uint64_t len, void* dst) {
  const uint64_t chunk_bytes = blob_->header.chunk_size;
  const uint64_t chunk = offset / chunk_bytes;
  if (chunk >= blob_->header.chunk_count) return false;
  // The cached bytes end with the chunk's last page (zero-padded past its content).
  const uint64_t in_chunk = offset - chunk * chunk_bytes;
  const uint64_t cached = PageRoundUp(blob_->index[chunk].raw_size);
  if (in_chunk > cached || len > cached - in_chunk) return false;
  if (!blob_->cache->CopyIfCached(chunk, in_chunk, len, dst)) return false;
  cache_hits_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool BlobProvider::SupplyCached(uint64_t chunk) {
  internal::ChunkCache::Ref ref;
  if (!blob_->cache->Acquire(chunk, &ref)) return false;
  cache_hits_.fetch_add(1, std::memory_order_relaxed);
  // A supply can only fail if the VMO was detached meanwhile; nobody is left to tell.
  (void)Supply(chunk * blob_->header.chunk_size, PageRoundUp(blob_->index[chunk].raw_size),
               ref.data);
  blob_->cache->Release(&ref);
  return true;
}

struct BlobProvider::Job {
  uint64_t chunk;
  internal::ChunkCache::Ref slot;  // the cache slot it is decompressed into, if any
  uint8_t* out;                    // where it is decompressed (the slot, or scratch)
};

void BlobProvider::RunJobs(Job* jobs, size_t n) {
  if (n == 0) return;
  const uint64_t chunk_bytes = blob_->header.chunk_size;
  // Compressed bytes, per thread and reused: one chunk's worth per job of a batch.
  thread_local Scratch t_compressed;
  const size_t stride = blob_->max_compressed;
  uint8_t* const compressed = t_compressed.Get(stride * internal::ChunkRing::kDepth);
  internal::ChunkRing::Read reads[internal::ChunkRing::kDepth];
  for (size_t i = 0; i < n; ++i) {
    const blob::IndexEntry& entry = blob_->index[jobs[i].chunk];
    reads[i].fd = blob_->fd;
    reads[i].offset = entry.offset;
    reads[i].length = entry.compressed_size;
    reads[i].buffer = compressed + i * stride;
  }
  internal::ChunkRing* ring =
      blob_->io == FileIo::kPread ? nullptr : internal::ChunkRing::ForThisThread();
  if (ring != nullptr) ring->Submit(reads, n);
  // In order (the requested chunks first), each as soon as its read is in.
  for (size_t i = 0; i < n; ++i) {
    internal::ChunkRing::Read& read = reads[i];
    if (ring != nullptr) {
      ring->WaitFor(&read);
    } else {
      const internal::IoResult r =
          internal::PreadFull(read.fd, read.buffer, read.length, read.offset);
      read.done = r.done;
      read.error = r.error;
    }
    Job& job = jobs[i];
    const blob::IndexEntry& entry = blob_->index[job.chunk];
    reads_.fetch_add(1, std::memory_order_relaxed);
    bytes_read_.fetch_add(read.error != 0 ? 0 : read.done, std::memory_order_relaxed);
    const Status s =
        read.error != 0 ? Status::kIo : blob::DecodeChunk(entry, read.buffer, read.done, job.out);
    if (s != Status::kOk) {
      blob_->cache->Release(&job.slot);  // never published: a bad chunk is not cached
      blob_->EndChunk(job.chunk);
      // Only this chunk fails; the others of the request are still supplied. A bad chunk
      // is failed even when it was only read ahead: a request for it may have arrived on
      // another thread while it was busy and been left to this one (see OnRead). Failing a
      // range nobody waits for does nothing (docs/zircon-semantics.md 7.2), so this costs
      // nothing otherwise.
      const Status error = s == Status::kIoDataIntegrity ? Status::kIoDataIntegrity : Status::kIo;
      (void)Fail(job.chunk * chunk_bytes, PageRoundUp(entry.raw_size), error);
      continue;
    }
    // Only the last chunk can be short; the VMO holds it up to a page boundary, as zeros.
    const uint64_t padded = PageRoundUp(entry.raw_size);
    std::memset(job.out + entry.raw_size, 0, padded - entry.raw_size);
    if (job.slot.slot >= 0) blob_->cache->Publish(job.slot);
    // Before the supply: a request arriving after this finds the chunk cached (or, with
    // no room in the cache, decompresses it again).
    blob_->EndChunk(job.chunk);
    // A supply can only fail if the VMO was detached meanwhile; nobody is left to tell.
    (void)Supply(job.chunk * chunk_bytes, padded, job.out);
    blob_->cache->Release(&job.slot);
  }
  if (ring != nullptr) ring->WaitAll();
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

  // Decompression scratch for chunks the cache has no room for: one chunk's worth per job
  // of a batch, per thread, reused (zero-padding needs a page multiple, which a chunk size
  // is).
  thread_local Scratch t_chunks;
  uint8_t* const scratch = t_chunks.Get(chunk * internal::ChunkRing::kDepth);
  Job jobs[internal::ChunkRing::kDepth];
  size_t pending = 0;
  const auto serve = [&](uint64_t c) {
    if (SupplyCached(c)) return;
    // A chunk another thread is decompressing now needs nothing more: its supply or its
    // failure resolves this request too, which is outstanding since before its packet.
    if (!blob_->StartChunk(c)) return;
    if (SupplyCached(c)) {  // it was cached between the two looks
      blob_->EndChunk(c);
      return;
    }
    cache_misses_.fetch_add(1, std::memory_order_relaxed);
    blob_->NoteMiss(c);
    Job& job = jobs[pending];
    job.chunk = c;
    job.slot = {};
    job.out = blob_->cache->Reserve(c, &job.slot) ? job.slot.data : scratch + pending * chunk;
    if (++pending == internal::ChunkRing::kDepth) {
      RunJobs(jobs, pending);
      pending = 0;
    }
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
  RunJobs(jobs, pending);
}

}  // namespace upager

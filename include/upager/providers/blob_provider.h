// BlobProvider: a read-only VMO whose content is an upager blob (blob_format.h), chunks
// decompressed on demand.
//
// A READ request is answered chunk by chunk (plus read-ahead, in whole chunks): the
// compressed chunk is read, its checksum checked, it is decompressed and the result's
// checksum checked, and only then supplied. A chunk that fails either check, or does not
// decompress, fails the request with kIoDataIntegrity (as blobfs does on Fuchsia): bad
// bytes are never supplied. Requests are served on the loop's threads, so a loop with N
// threads decompresses N chunks at once. A request's chunk reads go to the kernel together
// (io_uring, else pread) and each chunk is decompressed as soon as it is read.
//
// Decompressed chunks are kept in a bounded cache (least recently used out first), so that
// a page evicted from the VMO and asked for again costs a copy, not a read and a
// decompression of its whole chunk. Only chunks that passed every check are cached.
#ifndef UPAGER_PROVIDERS_BLOB_PROVIDER_H_
#define UPAGER_PROVIDERS_BLOB_PROVIDER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "upager/providers/blob_format.h"
#include "upager/providers/file_provider.h"
#include "upager/providers/provider.h"
#include "upager/providers/read_ahead.h"

namespace upager {

struct BlobProviderOptions {
  // Read-ahead in bytes past the requested chunks (rounded up to whole chunks). No
  // read-around by default: a fault already decompresses its whole chunk, which is the
  // window around it; a non-zero `around` adds whole chunks on either side.
  ReadAheadOptions read_ahead{ReadAheadMode::kAdaptive, 128 * 1024, 2 * 1024 * 1024, 0};
  // Bytes of decompressed chunks kept for later requests (whole chunks: rounded down, but
  // at least one chunk unless 0); 0: no cache. Allocated once, at Create.
  uint64_t cache_bytes = 4 * 1024 * 1024;
  // How chunks are read: kAuto and kIoUring use io_uring if the kernel allows (else pread),
  // kPread always preads.
  FileIo io = FileIo::kAuto;
};

class BlobProvider : public Provider {
 public:
  // Opens the blob at `path`, checks its header and index, and creates the VMO on `loop`.
  // kNotFound, kAccessDenied, kWrongType (not a blob), kIoDataIntegrity (damaged header or
  // index), kNotSupported (unknown version), kIo.
  static Status Create(PagerLoop* loop, const std::string& path, const BlobProviderOptions& options,
                       std::unique_ptr<BlobProvider>* out, std::string* why = nullptr);
  ~BlobProvider() override;

  uint32_t chunk_size() const;
  uint64_t chunk_count() const;
  // Chunks the cache can hold, and holds now.
  size_t cache_capacity() const;
  size_t cached_chunks() const;

  // Copies [offset, offset + len) of the VMO's content to `dst` if it lies in one chunk and
  // that chunk is in the cache (counted as a cache hit); false otherwise, with nothing
  // copied. Thread-safe and cheap: it never reads, decompresses or waits for either, and
  // allocates nothing. For a fault handler that serves a page without a request.
  bool CopyIfCached(uint64_t offset, uint64_t len, void* dst);

  void OnRead(const PagerLoop::Request& request) override;

 private:
  class Blob;    // the open file, its header and index, and the chunks being decompressed
  class Filler;  // the fault fast path: pages of cached chunks, on the fault thread
  explicit BlobProvider(std::unique_ptr<Blob> blob);
  struct Job;  // a chunk being read and decompressed
  // Supplies chunk `chunk` from the cache if it is there (true).
  bool SupplyCached(uint64_t chunk);
  // Reads, checks, decompresses and supplies (or fails) the chunks of `jobs`, each marked
  // as being decompressed by the caller.
  void RunJobs(Job* jobs, size_t n);

  const std::unique_ptr<Blob> blob_;
  std::unique_ptr<Filler> filler_;
};

}  // namespace upager

#endif  // UPAGER_PROVIDERS_BLOB_PROVIDER_H_

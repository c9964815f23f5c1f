// BlobProvider: a read-only VMO whose content is an upager blob (blob_format.h), chunks
// decompressed on demand.
//
// A READ request is answered chunk by chunk (plus read-ahead, in whole chunks): the
// compressed chunk is read, its checksum checked, it is decompressed and the result's
// checksum checked, and only then supplied. A chunk that fails either check, or does not
// decompress, fails the request with kIoDataIntegrity (as blobfs does on Fuchsia): bad
// bytes are never supplied. Requests are served on the loop's threads, so a loop with N
// threads decompresses N chunks at once.
#ifndef UPAGER_PROVIDERS_BLOB_PROVIDER_H_
#define UPAGER_PROVIDERS_BLOB_PROVIDER_H_

#include <memory>
#include <string>
#include <vector>

#include "upager/providers/blob_format.h"
#include "upager/providers/provider.h"
#include "upager/providers/read_ahead.h"

namespace upager {

struct BlobProviderOptions {
  // Read-ahead in bytes past the requested chunks (rounded up to whole chunks).
  ReadAheadOptions read_ahead{ReadAheadMode::kAdaptive, 128 * 1024, 2 * 1024 * 1024};
};

class BlobProvider : public Provider {
 public:
  // Opens the blob at `path`, checks its header and index, and creates the VMO on `loop`.
  // kNotFound, kAccessDenied, kWrongType (not a blob), kIoDataIntegrity (damaged header or
  // index), kNotSupported (unknown version), kIo.
  static Status Create(PagerLoop* loop, const std::string& path, const BlobProviderOptions& options,
                       std::unique_ptr<BlobProvider>* out, std::string* why = nullptr);
  ~BlobProvider() override;

  uint32_t chunk_size() const { return header_.chunk_size; }
  uint64_t chunk_count() const { return header_.chunk_count; }

  void OnRead(const PagerLoop::Request& request) override;

 private:
  explicit BlobProvider(const BlobProviderOptions& options) : read_ahead_(options.read_ahead) {}
  // Reads, checks and supplies chunk `chunk`; returns what blob::ReadChunk returned (or the
  // supply's status). Does not fail the range: the caller decides.
  Status SupplyChunk(uint64_t chunk, void* buffer);
  // Marks chunk `chunk` as being decompressed; false if another thread already is.
  bool StartChunk(uint64_t chunk);
  void EndChunk(uint64_t chunk);

  int fd_ = -1;
  blob::Header header_;
  std::vector<blob::IndexEntry> index_;  // immutable after Create: read without locks
  ReadAhead read_ahead_;
  internal::Mutex chunks_mutex_;
  std::vector<uint8_t> chunk_busy_ UPAGER_GUARDED_BY(chunks_mutex_);  // one flag a chunk
};

}  // namespace upager

#endif  // UPAGER_PROVIDERS_BLOB_PROVIDER_H_

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

#include <cstdint>
#include <memory>
#include <string>

#include "upager/providers/blob_format.h"
#include "upager/providers/provider.h"
#include "upager/providers/read_ahead.h"

namespace upager {

struct BlobProviderOptions {
  // Read-ahead in bytes past the requested chunks (rounded up to whole chunks). No
  // read-around by default: a fault already decompresses its whole chunk, which is the
  // window around it; a non-zero `around` adds whole chunks on either side.
  ReadAheadOptions read_ahead{ReadAheadMode::kAdaptive, 128 * 1024, 2 * 1024 * 1024, 0};
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

  void OnRead(const PagerLoop::Request& request) override;

 private:
  class Blob;  // the open file, its header and index, and the chunks being decompressed
  explicit BlobProvider(std::unique_ptr<Blob> blob);
  // Reads, checks and supplies chunk `chunk` (marked as being decompressed by the caller);
  // returns the read's status. Does not fail the range: the caller decides.
  Status SupplyChunk(uint64_t chunk, void* buffer);

  const std::unique_ptr<Blob> blob_;
};

}  // namespace upager

#endif  // UPAGER_PROVIDERS_BLOB_PROVIDER_H_

// The upager blob: a seekable compressed file format, made by `upager pack` (PackBlob) and
// served by BlobProvider. The layout is documented in docs/blob-format.md.
//
// Content is cut into chunks of `chunk_size` bytes (the last may be shorter), each
// compressed on its own with zstd, so any chunk can be read without the others. An index
// at the end of the file gives each chunk's place, sizes and XXH3-64 checksums (of the
// compressed and of the uncompressed bytes); the header and the index carry checksums of
// their own. A reader verifies both checksums of a chunk on every use. (Reading is
// BlobProvider's; the layout stays inside the library.)
#ifndef UPAGER_PROVIDERS_BLOB_FORMAT_H_
#define UPAGER_PROVIDERS_BLOB_FORMAT_H_

#include <cstdint>
#include <string>

#include "upager/status.h"

namespace upager {

struct PackOptions {
  uint32_t chunk_size = 128 * 1024;  // a page multiple, 4 KiB .. 64 MiB
  int level = 3;                     // zstd level, 1 .. 19
};

struct PackResult {
  uint64_t content_size = 0;
  uint64_t blob_size = 0;
  uint64_t chunks = 0;
};

// Packs the file `in` into a blob at `out` (written to a temporary name, then renamed).
// kNotFound / kAccessDenied / kIo for file errors, kInvalidArgs for bad options.
Status PackBlob(const std::string& in, const std::string& out, const PackOptions& options,
                PackResult* result = nullptr, std::string* why = nullptr);

// True if `path` starts with the blob magic (does not validate the rest).
bool LooksLikeBlob(const std::string& path);

namespace blob {

// The chunk sizes a blob may use (PackOptions::chunk_size): page multiples in
// [kMinChunkSize, kMaxChunkSize].
inline constexpr uint32_t kMinChunkSize = 4 * 1024;
inline constexpr uint32_t kMaxChunkSize = 64 * 1024 * 1024;

}  // namespace blob
}  // namespace upager

#endif  // UPAGER_PROVIDERS_BLOB_FORMAT_H_

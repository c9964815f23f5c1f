// The on-disk layout of an upager blob (docs/blob-format.md) and the two reads BlobProvider
// makes of it: the header and index, checked once, and a chunk, checked on every use.
// Internal: users make blobs with PackBlob and read them through BlobProvider.
#ifndef UPAGER_SRC_PROVIDERS_BLOB_LAYOUT_H_
#define UPAGER_SRC_PROVIDERS_BLOB_LAYOUT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "upager/providers/blob_format.h"
#include "upager/status.h"

namespace upager::blob {

inline constexpr char kMagic[8] = {'U', 'P', 'G', 'B', 'L', 'O', 'B', '1'};
inline constexpr uint32_t kVersion = 1;
inline constexpr size_t kHeaderSize = 64;
inline constexpr size_t kIndexEntrySize = 32;

// The parsed header (all fields little-endian on disk).
struct Header {
  uint32_t version = kVersion;
  uint32_t chunk_size = 0;
  uint64_t content_size = 0;
  uint64_t chunk_count = 0;
  uint64_t index_offset = 0;
  uint64_t index_checksum = 0;  // XXH3-64 of the index bytes
};

struct IndexEntry {
  uint64_t offset = 0;  // of the compressed chunk in the file
  uint32_t compressed_size = 0;
  uint32_t raw_size = 0;
  uint64_t compressed_checksum = 0;  // XXH3-64
  uint64_t raw_checksum = 0;         // XXH3-64
};

// Reads and checks the header and index of an open blob file. kIoDataIntegrity for a
// damaged header or index, kNotSupported for another version, kWrongType if not a blob.
Status ReadIndex(int fd, Header* header, std::vector<IndexEntry>* index,
                 std::string* why = nullptr);

// Reads chunk `entry` (an entry ReadIndex returned) of the blob open as `fd` and
// decompresses it into `out`, which must hold at least entry.raw_size bytes. Verifies the
// compressed checksum before decompressing and the size and checksum of the result after.
// kIo if the read failed; kIoDataIntegrity if the chunk is damaged (or the file is shorter
// than its index says), in which case `out` may hold partial garbage. `bytes_read`, if not
// null, gets the number of compressed bytes read from the file. Thread-safe: the scratch
// buffer and the zstd context are per thread and reused, so reading chunks no larger than
// earlier ones allocates nothing.
Status ReadChunk(int fd, const IndexEntry& entry, void* out, uint64_t* bytes_read = nullptr,
                 std::string* why = nullptr);

// The checks and decompression of ReadChunk on compressed bytes read already: `got` bytes of
// chunk `entry` are at `compressed` (fewer than its compressed size: the file ended inside
// it). kIoDataIntegrity as ReadChunk. Thread-safe (the zstd context is per thread).
Status DecodeChunk(const IndexEntry& entry, const void* compressed, uint64_t got, void* out,
                   std::string* why = nullptr);

}  // namespace upager::blob

#endif  // UPAGER_SRC_PROVIDERS_BLOB_LAYOUT_H_

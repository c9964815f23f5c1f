// The upager blob: a seekable compressed file format, made by `upager pack` (PackBlob) and
// served by BlobProvider. The layout is documented in docs/blob-format.md.
//
// Content is cut into chunks of `chunk_size` bytes (the last may be shorter), each
// compressed on its own with zstd, so any chunk can be read without the others. An index
// at the end of the file gives each chunk's place, sizes and XXH3-64 checksums (of the
// compressed and of the uncompressed bytes); the header and the index carry checksums of
// their own. A reader verifies both checksums of a chunk on every use.
#ifndef UPAGER_PROVIDERS_BLOB_FORMAT_H_
#define UPAGER_PROVIDERS_BLOB_FORMAT_H_

#include <cstdint>
#include <string>
#include <vector>

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

inline constexpr char kMagic[8] = {'U', 'P', 'G', 'B', 'L', 'O', 'B', '1'};
inline constexpr uint32_t kVersion = 1;
inline constexpr size_t kHeaderSize = 64;
inline constexpr size_t kIndexEntrySize = 32;
// The chunk sizes a blob may use (PackOptions::chunk_size, Header::chunk_size): page
// multiples in [kMinChunkSize, kMaxChunkSize].
inline constexpr uint32_t kMinChunkSize = 4 * 1024;
inline constexpr uint32_t kMaxChunkSize = 64 * 1024 * 1024;

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

}  // namespace blob
}  // namespace upager

#endif  // UPAGER_PROVIDERS_BLOB_FORMAT_H_

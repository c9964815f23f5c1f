// The upager blob format: writing (PackBlob), recognising (LooksLikeBlob), checking
// (blob::ReadIndex) and reading chunks (blob::ReadChunk). docs/blob-format.md describes the
// layout; the offsets below are the ones it documents.
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>

#include "base/full_io.h"
#include "providers/blob_layout.h"
#include "providers/file_io.h"

namespace upager {

using internal::PreadFull;
using internal::PwriteFull;
using internal::ReadFull;
using internal::StatusFromErrno;

namespace {

using blob::kHeaderSize;
using blob::kIndexEntrySize;

// Header field offsets (all little-endian).
constexpr size_t kOffMagic = 0;            // char[8] "UPGBLOB1"
constexpr size_t kOffVersion = 8;          // u32
constexpr size_t kOffFlags = 12;           // u32, 0 in version 1
constexpr size_t kOffChunkSize = 16;       // u32
constexpr size_t kOffReserved = 20;        // u32, written 0, ignored on reading
constexpr size_t kOffContentSize = 24;     // u64
constexpr size_t kOffChunkCount = 32;      // u64
constexpr size_t kOffIndexOffset = 40;     // u64
constexpr size_t kOffIndexChecksum = 48;   // u64, XXH3-64 of the index bytes
constexpr size_t kOffHeaderChecksum = 56;  // u64, XXH3-64 of bytes [0, 56)
static_assert(kOffHeaderChecksum + 8 == kHeaderSize);

// Index entry field offsets.
constexpr size_t kEntOffset = 0;               // u64
constexpr size_t kEntCompressedSize = 8;       // u32
constexpr size_t kEntRawSize = 12;             // u32
constexpr size_t kEntCompressedChecksum = 16;  // u64
constexpr size_t kEntRawChecksum = 24;         // u64
static_assert(kEntRawChecksum + 8 == kIndexEntrySize);

// Little-endian stores and loads, independent of the host's byte order.
void Put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void Put64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t Get32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint64_t Get64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Sets *why (if not null) and returns `s`, so that error paths are one line.
Status Error(std::string* why, Status s, std::string text) {
  if (why != nullptr) *why = std::move(text);
  return s;
}

// "<what> <path>: <strerror(err)>".
std::string ErrnoText(const char* what, const std::string& path, int err) {
  return std::string(what) + " " + path + ": " + std::strerror(err);
}

// Owns a file descriptor; closes it on destruction.
class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  // Closes now and returns close()'s result (0, or -1 with errno).
  int Close() {
    const int fd = fd_;
    fd_ = -1;
    return fd < 0 ? 0 : close(fd);
  }

 private:
  int fd_;
};

// The number of chunks `content_size` bytes make at `chunk_size` bytes a chunk.
uint64_t ChunkCountFor(uint64_t content_size, uint32_t chunk_size) {
  return content_size / chunk_size + (content_size % chunk_size != 0 ? 1 : 0);
}

// True for a chunk size a blob may use.
bool ValidChunkSize(uint64_t chunk_size) {
  return chunk_size >= blob::kMinChunkSize && chunk_size <= blob::kMaxChunkSize &&
         chunk_size % kPageSize == 0;
}

// Serialises `h` (with version 1, flags 0) into the 64 header bytes, header checksum
// included.
void EncodeHeader(const blob::Header& h, uint8_t* out) {
  std::memset(out, 0, kHeaderSize);
  std::memcpy(out + kOffMagic, blob::kMagic, sizeof(blob::kMagic));
  Put32(out + kOffVersion, h.version);
  Put32(out + kOffFlags, 0);
  Put32(out + kOffChunkSize, h.chunk_size);
  Put32(out + kOffReserved, 0);
  Put64(out + kOffContentSize, h.content_size);
  Put64(out + kOffChunkCount, h.chunk_count);
  Put64(out + kOffIndexOffset, h.index_offset);
  Put64(out + kOffIndexChecksum, h.index_checksum);
  Put64(out + kOffHeaderChecksum, XXH3_64bits(out, kOffHeaderChecksum));
}

// Serialises one index entry into 32 bytes at `out`.
void EncodeEntry(const blob::IndexEntry& e, uint8_t* out) {
  Put64(out + kEntOffset, e.offset);
  Put32(out + kEntCompressedSize, e.compressed_size);
  Put32(out + kEntRawSize, e.raw_size);
  Put64(out + kEntCompressedChecksum, e.compressed_checksum);
  Put64(out + kEntRawChecksum, e.raw_checksum);
}

// Parses one 32-byte index entry (no checks).
blob::IndexEntry DecodeEntry(const uint8_t* in) {
  blob::IndexEntry e;
  e.offset = Get64(in + kEntOffset);
  e.compressed_size = Get32(in + kEntCompressedSize);
  e.raw_size = Get32(in + kEntRawSize);
  e.compressed_checksum = Get64(in + kEntCompressedChecksum);
  e.raw_checksum = Get64(in + kEntRawChecksum);
  return e;
}

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// Removes the temporary output of PackBlob unless Keep() was called.
class TempFileGuard {
 public:
  explicit TempFileGuard(std::string path) : path_(std::move(path)) {}
  ~TempFileGuard() {
    if (!kept_) unlink(path_.c_str());
  }
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;
  void Keep() { kept_ = true; }

 private:
  std::string path_;
  bool kept_ = false;
};

// fsyncs the directory holding `path`, so that a rename into it is durable. Best effort.
void SyncParentDirectory(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() >= 0) fsync(fd.get());
}

}  // namespace

Status PackBlob(const std::string& in, const std::string& out, const PackOptions& options,
                PackResult* result, std::string* why) {
  if (!ValidChunkSize(options.chunk_size)) {
    return Error(why, Status::kInvalidArgs,
                 "chunk size " + std::to_string(options.chunk_size) +
                     " is not a multiple of 4 KiB between 4 KiB and 64 MiB");
  }
  if (options.level < 1 || options.level > 19) {
    return Error(why, Status::kInvalidArgs,
                 "compression level " + std::to_string(options.level) + " is not in 1..19");
  }

  UniqueFd in_fd(open(in.c_str(), O_RDONLY | O_CLOEXEC));
  if (in_fd.get() < 0) {
    const int err = errno;
    return Error(why, StatusFromErrno(err), ErrnoText("open", in, err));
  }
  struct stat st {};
  if (fstat(in_fd.get(), &st) != 0) {
    const int err = errno;
    return Error(why, Status::kIo, ErrnoText("stat", in, err));
  }
  if (S_ISDIR(st.st_mode)) return Error(why, Status::kWrongType, in + " is a directory");

  std::unique_ptr<ZSTD_CCtx, CCtxDeleter> cctx(ZSTD_createCCtx());
  if (cctx == nullptr) return Error(why, Status::kNoMemory, "cannot create a zstd context");

  const std::string tmp = out + ".tmp." + std::to_string(getpid());
  UniqueFd out_fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (out_fd.get() < 0) {
    const int err = errno;
    return Error(why, StatusFromErrno(err), ErrnoText("create", tmp, err));
  }
  TempFileGuard guard(tmp);

  const size_t chunk_size = options.chunk_size;
  std::vector<uint8_t> raw(chunk_size);
  std::vector<uint8_t> compressed(ZSTD_compressBound(chunk_size));
  std::vector<uint8_t> index;  // serialised entries, kIndexEntrySize bytes each
  uint64_t pos = kHeaderSize;  // chunks start right after the header
  blob::Header header;
  header.chunk_size = options.chunk_size;

  // Chunks, in order, back to back. ReadFull returns less than a chunk only at the end.
  for (;;) {
    const internal::IoResult got = ReadFull(in_fd.get(), raw.data(), chunk_size);
    if (got.error != 0) return Error(why, Status::kIo, ErrnoText("read", in, got.error));
    if (got.done == 0) break;
    const size_t raw_len = static_cast<size_t>(got.done);
    const size_t comp_len = ZSTD_compressCCtx(cctx.get(), compressed.data(), compressed.size(),
                                              raw.data(), raw_len, options.level);
    if (ZSTD_isError(comp_len)) {
      return Error(why, Status::kInternal,
                   std::string("zstd compression failed: ") + ZSTD_getErrorName(comp_len));
    }
    if (const int err = PwriteFull(out_fd.get(), compressed.data(), comp_len, pos).error) {
      return Error(why, Status::kIo, ErrnoText("write", tmp, err));
    }
    blob::IndexEntry e;
    e.offset = pos;
    e.compressed_size = static_cast<uint32_t>(comp_len);
    e.raw_size = static_cast<uint32_t>(raw_len);
    e.compressed_checksum = XXH3_64bits(compressed.data(), comp_len);
    e.raw_checksum = XXH3_64bits(raw.data(), raw_len);
    index.resize(index.size() + kIndexEntrySize);
    EncodeEntry(e, index.data() + index.size() - kIndexEntrySize);
    pos += comp_len;
    header.content_size += raw_len;
    ++header.chunk_count;
    if (raw_len < chunk_size) break;  // end of file
  }

  // The index, then the header (last, so that a blob with a valid header is complete).
  header.index_offset = pos;
  header.index_checksum = XXH3_64bits(index.data(), index.size());
  if (const int err = PwriteFull(out_fd.get(), index.data(), index.size(), pos).error) {
    return Error(why, Status::kIo, ErrnoText("write", tmp, err));
  }
  uint8_t header_bytes[kHeaderSize];
  EncodeHeader(header, header_bytes);
  if (const int err = PwriteFull(out_fd.get(), header_bytes, kHeaderSize, 0).error) {
    return Error(why, Status::kIo, ErrnoText("write", tmp, err));
  }
  if (fsync(out_fd.get()) != 0) {
    const int err = errno;
    return Error(why, Status::kIo, ErrnoText("fsync", tmp, err));
  }
  if (out_fd.Close() != 0) {
    const int err = errno;
    return Error(why, Status::kIo, ErrnoText("close", tmp, err));
  }
  if (rename(tmp.c_str(), out.c_str()) != 0) {
    const int err = errno;
    return Error(why, StatusFromErrno(err), ErrnoText("rename to", out, err));
  }
  guard.Keep();
  SyncParentDirectory(out);

  if (result != nullptr) {
    result->content_size = header.content_size;
    result->blob_size = pos + index.size();
    result->chunks = header.chunk_count;
  }
  return Status::kOk;
}

bool LooksLikeBlob(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return false;
  char magic[sizeof(blob::kMagic)];
  return PreadFull(fd.get(), magic, sizeof(magic), 0).done == sizeof(magic) &&
         std::memcmp(magic, blob::kMagic, sizeof(magic)) == 0;
}

namespace blob {

Status ReadIndex(int fd, Header* header, std::vector<IndexEntry>* index, std::string* why) {
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    return Error(why, Status::kIo, std::string("stat: ") + std::strerror(err));
  }
  if (S_ISDIR(st.st_mode)) return Error(why, Status::kWrongType, "a directory, not a blob");
  if (!S_ISREG(st.st_mode)) return Error(why, Status::kWrongType, "not a regular file");
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);

  // Header: magic, then version, then the checksum, then the fields.
  uint8_t h[kHeaderSize];
  const internal::IoResult got = PreadFull(fd, h, kHeaderSize, 0);
  if (got.error != 0) {
    return Error(why, Status::kIo, std::string("read header: ") + std::strerror(got.error));
  }
  if (got.done < sizeof(kMagic) || std::memcmp(h + kOffMagic, kMagic, sizeof(kMagic)) != 0) {
    return Error(why, Status::kWrongType, "not an upager blob (no UPGBLOB1 magic)");
  }
  if (got.done < kHeaderSize) {
    return Error(why, Status::kIoDataIntegrity,
                 "truncated header (" + std::to_string(got.done) + " of 64 bytes)");
  }
  Header hd;
  hd.version = Get32(h + kOffVersion);
  if (hd.version != kVersion) {
    return Error(why, Status::kNotSupported,
                 "blob version " + std::to_string(hd.version) + " (this reader knows version " +
                     std::to_string(kVersion) + ")");
  }
  if (XXH3_64bits(h, kOffHeaderChecksum) != Get64(h + kOffHeaderChecksum)) {
    return Error(why, Status::kIoDataIntegrity, "header checksum mismatch");
  }
  const uint32_t flags = Get32(h + kOffFlags);
  if (flags != 0) {
    char text[64];
    std::snprintf(text, sizeof(text), "unknown header flags 0x%" PRIx32, flags);
    return Error(why, Status::kNotSupported, text);
  }
  hd.chunk_size = Get32(h + kOffChunkSize);
  hd.content_size = Get64(h + kOffContentSize);
  hd.chunk_count = Get64(h + kOffChunkCount);
  hd.index_offset = Get64(h + kOffIndexOffset);
  hd.index_checksum = Get64(h + kOffIndexChecksum);

  if (!ValidChunkSize(hd.chunk_size)) {
    return Error(why, Status::kIoDataIntegrity,
                 "invalid chunk size " + std::to_string(hd.chunk_size));
  }
  if (hd.chunk_count != ChunkCountFor(hd.content_size, hd.chunk_size)) {
    return Error(why, Status::kIoDataIntegrity,
                 "chunk count " + std::to_string(hd.chunk_count) + " does not match content size " +
                     std::to_string(hd.content_size) + " at chunk size " +
                     std::to_string(hd.chunk_size));
  }
  if (hd.index_offset < kHeaderSize || hd.index_offset > file_size) {
    return Error(why, Status::kIoDataIntegrity,
                 "index offset " + std::to_string(hd.index_offset) + " outside the file (" +
                     std::to_string(file_size) + " bytes)");
  }
  // The index ends the file exactly: a shorter file is truncated, a longer one damaged.
  if (hd.chunk_count > (file_size - hd.index_offset) / kIndexEntrySize ||
      hd.index_offset + hd.chunk_count * kIndexEntrySize != file_size) {
    return Error(why, Status::kIoDataIntegrity,
                 "file size " + std::to_string(file_size) + " does not match an index of " +
                     std::to_string(hd.chunk_count) + " entries at offset " +
                     std::to_string(hd.index_offset));
  }

  // The index: its checksum, then every entry.
  const size_t index_bytes = static_cast<size_t>(hd.chunk_count * kIndexEntrySize);
  std::vector<uint8_t> raw_index(index_bytes);
  const internal::IoResult index_got =
      PreadFull(fd, raw_index.data(), index_bytes, hd.index_offset);
  if (index_got.error != 0) {
    return Error(why, Status::kIo, std::string("read index: ") + std::strerror(index_got.error));
  }
  if (index_got.done != index_bytes) {
    return Error(why, Status::kIoDataIntegrity, "file ends inside the index");
  }
  if (XXH3_64bits(raw_index.data(), index_bytes) != hd.index_checksum) {
    return Error(why, Status::kIoDataIntegrity, "index checksum mismatch");
  }
  std::vector<IndexEntry> entries;
  entries.reserve(static_cast<size_t>(hd.chunk_count));
  uint64_t data_end = kHeaderSize;  // where the previous chunk ended
  for (uint64_t i = 0; i < hd.chunk_count; ++i) {
    const IndexEntry e = DecodeEntry(raw_index.data() + i * kIndexEntrySize);
    const uint64_t expected_raw =
        i + 1 < hd.chunk_count ? hd.chunk_size : hd.content_size - i * hd.chunk_size;
    const std::string chunk = "chunk " + std::to_string(i) + ": ";
    if (e.raw_size != expected_raw) {
      return Error(why, Status::kIoDataIntegrity,
                   chunk + "raw size " + std::to_string(e.raw_size) + ", expected " +
                       std::to_string(expected_raw));
    }
    if (e.compressed_size == 0 || e.compressed_size > ZSTD_compressBound(e.raw_size)) {
      return Error(why, Status::kIoDataIntegrity,
                   chunk + "implausible compressed size " + std::to_string(e.compressed_size));
    }
    if (e.offset < data_end || e.offset > hd.index_offset ||
        e.compressed_size > hd.index_offset - e.offset) {
      return Error(why, Status::kIoDataIntegrity,
                   chunk + "bytes [" + std::to_string(e.offset) + ", +" +
                       std::to_string(e.compressed_size) +
                       ") overlap another chunk or lie outside the data area");
    }
    data_end = e.offset + e.compressed_size;
    entries.push_back(e);
  }

  *header = hd;
  *index = std::move(entries);
  return Status::kOk;
}

Status DecodeChunk(const IndexEntry& entry, const void* compressed, uint64_t got, void* out,
                   std::string* why) {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> t_dctx;
  if (got != entry.compressed_size) {
    return Error(why, Status::kIoDataIntegrity,
                 "file ends inside the chunk at " + std::to_string(entry.offset));
  }
  if (XXH3_64bits(compressed, entry.compressed_size) != entry.compressed_checksum) {
    return Error(why, Status::kIoDataIntegrity,
                 "compressed checksum mismatch at " + std::to_string(entry.offset));
  }
  if (t_dctx == nullptr) {
    t_dctx.reset(ZSTD_createDCtx());
    if (t_dctx == nullptr) return Error(why, Status::kNoMemory, "cannot create a zstd context");
  }
  const size_t n =
      ZSTD_decompressDCtx(t_dctx.get(), out, entry.raw_size, compressed, entry.compressed_size);
  if (ZSTD_isError(n)) {
    return Error(why, Status::kIoDataIntegrity,
                 "chunk at " + std::to_string(entry.offset) +
                     " does not decompress: " + ZSTD_getErrorName(n));
  }
  if (n != entry.raw_size) {
    return Error(why, Status::kIoDataIntegrity,
                 "chunk at " + std::to_string(entry.offset) + " decompresses to " +
                     std::to_string(n) + " bytes, expected " + std::to_string(entry.raw_size));
  }
  if (XXH3_64bits(out, entry.raw_size) != entry.raw_checksum) {
    return Error(why, Status::kIoDataIntegrity,
                 "uncompressed checksum mismatch at " + std::to_string(entry.offset));
  }
  return Status::kOk;
}

Status ReadChunk(int fd, const IndexEntry& entry, void* out, uint64_t* bytes_read,
                 std::string* why) {
  // Per-thread scratch: grows to the largest compressed chunk seen, never shrinks.
  thread_local std::vector<uint8_t> t_compressed;

  if (bytes_read != nullptr) *bytes_read = 0;
  if (t_compressed.size() < entry.compressed_size) t_compressed.resize(entry.compressed_size);
  const internal::IoResult got =
      PreadFull(fd, t_compressed.data(), entry.compressed_size, entry.offset);
  if (got.error != 0) {
    return Error(why, Status::kIo,
                 "read at " + std::to_string(entry.offset) + ": " + std::strerror(got.error));
  }
  if (bytes_read != nullptr) *bytes_read = got.done;
  return DecodeChunk(entry, t_compressed.data(), got.done, out, why);
}

}  // namespace blob
}  // namespace upager

// The blob format (PackBlob, LooksLikeBlob, the internal blob::ReadIndex): damage to the
// header or index is refused at Create, damage behind valid checksums is still caught,
// and PackBlob checks its options and files.
#include "upager/providers/blob_format.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "blob_test_util.h"
#include "providers/blob_layout.h"
#include "test_util.h"
#include "upager/providers/blob_provider.h"

namespace upager::testing {
namespace {

// Little-endian field access on a blob held in memory (the layout of docs/blob-format.md).
uint64_t Load64(const Bytes& b, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | b[at + static_cast<size_t>(i)];
  return v;
}
void Store64(Bytes* b, size_t at, uint64_t v) {
  for (size_t i = 0; i < 8; ++i) (*b)[at + i] = static_cast<uint8_t>(v >> (8 * i));
}
void Store32(Bytes* b, size_t at, uint32_t v) {
  for (size_t i = 0; i < 4; ++i) (*b)[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

// Recomputes the index checksum and the header checksum after an edit, so that the edit is
// only caught by the checks behind them.
void Reseal(Bytes* b) {
  const uint64_t index_offset = Load64(*b, 40);
  Store64(b, 48, XXH3_64bits(b->data() + index_offset, b->size() - index_offset));
  Store64(b, 56, XXH3_64bits(b->data(), 56));
}

TEST_F(BlobTest, DamageBehindValidChecksumsIsCaught) {
  const uint32_t chunk = 8192;
  const Bytes content = MakeContent(6 * chunk, 10);
  const std::string good = Pack("sealed", content, {.chunk_size = chunk, .level = 3});
  const std::vector<blob::IndexEntry> index = Index(good);
  ASSERT_EQ(index.size(), 6u);
  const uint64_t index_offset = Load64(ReadFileBytes(good), 40);

  // (a) Chunk 1's raw checksum is wrong (index and header resealed): decompression works,
  // the uncompressed check fails.
  {
    Bytes b = ReadFileBytes(good);
    const size_t at = index_offset + 1 * blob::kIndexEntrySize + 24;
    Store64(&b, at, Load64(b, at) ^ 1);
    Reseal(&b);
    const std::string path = dir_.Path("raw-checksum.blob");
    WriteFile(path, b);
    auto provider = Open(path, NoReadAhead());
    ASSERT_NE(provider, nullptr);
    Bytes buf(16);
    EXPECT_EQ(provider->vmo().Read(buf.data(), chunk + 7, 16), Status::kIoDataIntegrity);
    ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content, 2 * chunk, chunk));
  }
  // (b) Chunk 4's compressed bytes are changed and its compressed checksum updated to match:
  // the chunk no longer decompresses, or decompresses to other bytes.
  {
    Bytes b = ReadFileBytes(good);
    const blob::IndexEntry& e = index[4];
    for (uint32_t i = e.compressed_size / 3; i < e.compressed_size / 3 + 16; ++i) {
      b[e.offset + i] ^= 0x5a;
    }
    const size_t at = index_offset + 4 * blob::kIndexEntrySize + 16;
    Store64(&b, at, XXH3_64bits(b.data() + e.offset, e.compressed_size));
    Reseal(&b);
    const std::string path = dir_.Path("garbled.blob");
    WriteFile(path, b);
    auto provider = Open(path, NoReadAhead());
    ASSERT_NE(provider, nullptr);
    Bytes buf(16);
    EXPECT_EQ(provider->vmo().Read(buf.data(), 4 * chunk, 16), Status::kIoDataIntegrity);
    ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content, 0, 4 * chunk));
  }
}

TEST_F(BlobTest, DamagedHeaderOrIndexIsRefused) {
  const uint32_t chunk = 8192;
  const Bytes content = MakeContent(5 * chunk + 77, 11);
  const std::string good = Pack("hdr", content, {.chunk_size = chunk, .level = 3});
  const Bytes original = ReadFileBytes(good);
  const uint64_t index_offset = Load64(original, 40);
  const std::string path = dir_.Path("edited.blob");

  // Writes the edited blob and expects `want` from Create, with an explanation.
  auto expect = [&](const Bytes& b, Status want, const char* what) {
    SCOPED_TRACE(what);
    WriteFile(path, b);
    std::string why;
    EXPECT_EQ(CreateStatus(path, &why), want);
    if (want != Status::kOk) {
      EXPECT_FALSE(why.empty());
    }
  };

  expect(original, Status::kOk, "unchanged");
  Bytes b = original;
  b[30] ^= 1;  // content_size
  expect(b, Status::kIoDataIntegrity, "header byte flipped");
  b = original;
  b[60] ^= 1;  // the header checksum itself
  expect(b, Status::kIoDataIntegrity, "header checksum flipped");
  b = original;
  b[index_offset + 40] ^= 1;  // inside entry 1
  expect(b, Status::kIoDataIntegrity, "index byte flipped");
  b = original;
  b.pop_back();
  expect(b, Status::kIoDataIntegrity, "truncated by one byte");
  b = original;
  b.push_back(0);
  expect(b, Status::kIoDataIntegrity, "one byte appended");
  b.assign(original.begin(), original.begin() + 40);
  expect(b, Status::kIoDataIntegrity, "header cut short");
  b.assign(original.begin(), original.begin() + 64);
  expect(b, Status::kIoDataIntegrity, "only the header");

  // Edits behind valid checksums: the fields themselves are checked.
  b = original;
  Store64(&b, 32, Load64(b, 32) + 1);  // chunk_count
  Reseal(&b);
  expect(b, Status::kIoDataIntegrity, "wrong chunk count, resealed");
  b = original;
  Store32(&b, 16, 1000);  // chunk_size not a page multiple
  Reseal(&b);
  expect(b, Status::kIoDataIntegrity, "bad chunk size, resealed");
  b = original;
  Store32(&b, index_offset + 0 * blob::kIndexEntrySize + 12, chunk - 4096);  // raw_size
  Reseal(&b);
  expect(b, Status::kIoDataIntegrity, "wrong raw size, resealed");
  b = original;
  Store64(&b, index_offset + 2 * blob::kIndexEntrySize, 64);  // chunk 2 overlaps chunk 0
  Reseal(&b);
  expect(b, Status::kIoDataIntegrity, "overlapping chunks, resealed");
  b = original;
  Store64(&b, index_offset + 4 * blob::kIndexEntrySize, index_offset);  // into the index
  Reseal(&b);
  expect(b, Status::kIoDataIntegrity, "chunk outside the data area, resealed");

  // Another version, or unknown flags: not supported rather than damaged.
  b = original;
  Store32(&b, 8, 2);
  Reseal(&b);
  expect(b, Status::kNotSupported, "version 2");
  b = original;
  Store32(&b, 12, 1);
  Reseal(&b);
  expect(b, Status::kNotSupported, "flags 1");
}

TEST_F(BlobTest, NotABlobMissingAndDirectories) {
  const std::string text = dir_.Path("text");
  const std::string text_content = "just some text, not a blob at all; long enough to be read";
  WriteFile(text, Bytes(text_content.begin(), text_content.end()));
  EXPECT_FALSE(LooksLikeBlob(text));
  EXPECT_EQ(CreateStatus(text), Status::kWrongType);

  const std::string empty = dir_.Path("empty");
  WriteFile(empty, {});
  EXPECT_EQ(CreateStatus(empty), Status::kWrongType);
  const std::string tiny = dir_.Path("tiny");
  WriteFile(tiny, {'U', 'P', 'G'});
  EXPECT_EQ(CreateStatus(tiny), Status::kWrongType);

  EXPECT_FALSE(LooksLikeBlob(dir_.Path("missing")));
  EXPECT_EQ(CreateStatus(dir_.Path("missing")), Status::kNotFound);
  EXPECT_EQ(CreateStatus(dir_.Path("missing/deeper")), Status::kNotFound);
  EXPECT_EQ(CreateStatus(dir_.Path("")), Status::kWrongType);  // the directory itself
}

TEST_F(BlobTest, PackRejectsBadOptionsAndFiles) {
  const std::string in = dir_.Path("src");
  WriteFile(in, MakeContent(10000, 12));
  const std::string out = dir_.Path("out.blob");
  for (const uint32_t chunk : {0u, 1u, 2048u, 4096u * 3 + 1, 6000u, 128u << 20, 0xffffffffu}) {
    std::string why;
    EXPECT_EQ(PackBlob(in, out, {.chunk_size = chunk, .level = 3}, nullptr, &why),
              Status::kInvalidArgs)
        << chunk;
    EXPECT_FALSE(why.empty());
  }
  EXPECT_EQ(PackBlob(in, out, {.chunk_size = 64u << 20, .level = 1}), Status::kOk);  // largest
  for (const int level : {0, -1, 20, 100}) {
    EXPECT_EQ(PackBlob(in, out, {.chunk_size = 4096, .level = level}), Status::kInvalidArgs)
        << level;
  }
  EXPECT_EQ(PackBlob(dir_.Path("missing"), out, {}), Status::kNotFound);
  EXPECT_EQ(PackBlob(dir_.Path(""), out, {}), Status::kWrongType);
  EXPECT_EQ(PackBlob(in, dir_.Path("no/such/dir.blob"), {}), Status::kNotFound);
  // Only the input and the one good blob are left: no temporary files.
  EXPECT_EQ(dir_.EntryCount(), 2u);
}

TEST_F(BlobTest, PackReplacesAnExistingBlob) {
  const Bytes first = MakeContent(50000, 13);
  const Bytes second = MakeContent(70000, 14);
  const std::string path = Pack("same", first, {.chunk_size = 4096, .level = 3});
  WriteFile(dir_.Path("same"), second);
  ASSERT_EQ(PackBlob(dir_.Path("same"), path, {.chunk_size = 16384, .level = 5}), Status::kOk);
  EXPECT_EQ(dir_.EntryCount(), 2u);
  auto provider = Open(path);
  ASSERT_NE(provider, nullptr);
  EXPECT_EQ(provider->chunk_size(), 16384u);
  ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), second, 0, provider->vmo_size()));
}

TEST_F(BlobTest, EmptyInput) {
  PackResult result;
  const std::string path = Pack("nothing", {}, {}, &result);
  EXPECT_EQ(result.content_size, 0u);
  EXPECT_EQ(result.chunks, 0u);
  EXPECT_EQ(result.blob_size, blob::kHeaderSize);
  EXPECT_EQ(std::filesystem::file_size(path), blob::kHeaderSize);
  EXPECT_TRUE(LooksLikeBlob(path));
  auto provider = Open(path);
  ASSERT_NE(provider, nullptr);
  EXPECT_EQ(provider->content_size(), 0u);
  EXPECT_EQ(provider->vmo_size(), 0u);
  EXPECT_EQ(provider->chunk_count(), 0u);
  uint64_t size = 1;
  EXPECT_EQ(provider->vmo().GetSize(&size), Status::kOk);
  EXPECT_EQ(size, 0u);
}
}  // namespace
}  // namespace upager::testing

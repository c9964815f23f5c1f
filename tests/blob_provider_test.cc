// The blob format (PackBlob, LooksLikeBlob, the internal blob::ReadIndex) and BlobProvider: content
// packed into a blob reads back byte for byte through Vmo::Read and through a Mapping;
// damage to a chunk fails exactly that chunk with kIoDataIntegrity (SIGBUS through a
// mapping); damage to the header or index is refused at Create.
#include "upager/providers/blob_provider.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "mapping_util.h"
#include "providers/blob_layout.h"
#include "test_util.h"
#include "upager/mapping.h"
#include "upager/pager_loop.h"
#include "upager/providers/blob_format.h"

namespace upager::testing {
namespace {

using Bytes = std::vector<uint8_t>;

// Content that is partly incompressible (random bytes) and partly very compressible (runs
// of one byte, a repeated phrase), in segments of random length.
Bytes MakeContent(size_t size, uint32_t seed) {
  std::mt19937_64 rng(seed);
  Bytes out;
  out.reserve(size);
  static constexpr char kPhrase[] = "the quick brown fox pages in lazily; ";
  while (out.size() < size) {
    const size_t len = std::min<size_t>(size - out.size(), 1 + rng() % 20000);
    switch (rng() % 3) {
      case 0:
        for (size_t i = 0; i < len; ++i) out.push_back(static_cast<uint8_t>(rng()));
        break;
      case 1: out.insert(out.end(), len, static_cast<uint8_t>(rng())); break;
      default:
        for (size_t i = 0; i < len; ++i) out.push_back(kPhrase[i % (sizeof(kPhrase) - 1)]);
        break;
    }
  }
  return out;
}

void WriteFile(const std::string& path, const Bytes& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(f.good()) << path;
}

Bytes ReadFileBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

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

// A directory under the test temp dir, removed with everything in it.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = ::testing::TempDir() + "upager-blob-XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  bool ok() const { return !path_.empty(); }
  std::string Path(const std::string& name) const { return path_ + "/" + name; }
  size_t EntryCount() const {
    return static_cast<size_t>(std::distance(std::filesystem::directory_iterator(path_),
                                             std::filesystem::directory_iterator()));
  }

 private:
  std::string path_;
};

BlobProviderOptions NoReadAhead() {
  BlobProviderOptions o;
  o.read_ahead.mode = ReadAheadMode::kOff;
  return o;
}

class BlobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    ASSERT_EQ(loop_.Start(), Status::kOk);
  }

  // Writes `content` to a file and packs it into "<name>.blob"; returns the blob's path.
  std::string Pack(const std::string& name, const Bytes& content, const PackOptions& options,
                   PackResult* result = nullptr) {
    const std::string in = dir_.Path(name);
    const std::string out = in + ".blob";
    WriteFile(in, content);
    std::string why;
    const Status s = PackBlob(in, out, options, result, &why);
    EXPECT_EQ(s, Status::kOk) << why;
    return out;
  }

  std::unique_ptr<BlobProvider> Open(const std::string& path,
                                     const BlobProviderOptions& options = {}) {
    std::unique_ptr<BlobProvider> p;
    std::string why;
    const Status s = BlobProvider::Create(&loop_, path, options, &p, &why);
    EXPECT_EQ(s, Status::kOk) << why;
    return p;
  }

  Status CreateStatus(const std::string& path, std::string* why = nullptr) {
    std::unique_ptr<BlobProvider> p;
    return BlobProvider::Create(&loop_, path, {}, &p, why);
  }

  // The chunk table of the blob at `path`.
  std::vector<blob::IndexEntry> Index(const std::string& path) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_GE(fd, 0);
    blob::Header header;
    std::vector<blob::IndexEntry> index;
    EXPECT_EQ(blob::ReadIndex(fd, &header, &index), Status::kOk);
    close(fd);
    return index;
  }

  ScratchDir dir_;
  PagerLoop loop_{2};
};

// Reads [offset, offset + len) through Vmo::Read and compares it with `content` (zeros past
// its end).
void ExpectRange(const Vmo& vmo, const Bytes& content, uint64_t offset, uint64_t len) {
  Bytes got(len, 0xcc);
  ASSERT_EQ(vmo.Read(got.data(), offset, len), Status::kOk) << "at " << offset << " +" << len;
  Bytes want(len, 0);
  if (offset < content.size()) {
    const uint64_t n = std::min<uint64_t>(len, content.size() - offset);
    std::memcpy(want.data(), content.data() + offset, n);
  }
  ASSERT_TRUE(got == want) << "content differs in [" << offset << ", +" << len << ")";
}

TEST_F(BlobTest, RoundTripRandomRanges) {
  const uint32_t kChunkSizes[] = {4096, 12288, 65536, 128 * 1024};
  std::mt19937_64 rng(7);
  uint32_t seed = 1;
  for (const uint32_t chunk : kChunkSizes) {
    const uint64_t kSizes[] = {1,
                               4095,
                               4096,
                               4097,
                               chunk - 1,
                               chunk,
                               chunk + 1,
                               3 * chunk + 123,
                               5 * chunk + 2 * 4096 + 7};
    for (const uint64_t size : kSizes) {
      SCOPED_TRACE("chunk " + std::to_string(chunk) + " size " + std::to_string(size));
      const Bytes content = MakeContent(size, seed++);
      PackResult result;
      const std::string path =
          Pack("in" + std::to_string(seed), content, {.chunk_size = chunk, .level = 3}, &result);
      EXPECT_EQ(result.content_size, size);
      EXPECT_EQ(result.chunks, (size + chunk - 1) / chunk);
      EXPECT_EQ(result.blob_size, std::filesystem::file_size(path));
      EXPECT_TRUE(LooksLikeBlob(path));

      auto provider = Open(path);
      ASSERT_NE(provider, nullptr);
      EXPECT_EQ(provider->content_size(), size);
      EXPECT_EQ(provider->vmo_size(), PageRoundUp(size));
      EXPECT_EQ(provider->chunk_size(), chunk);
      EXPECT_EQ(provider->chunk_count(), result.chunks);

      for (int i = 0; i < 40; ++i) {
        const uint64_t offset = rng() % size;
        const uint64_t len = 1 + rng() % std::min<uint64_t>(size - offset, 3 * chunk);
        ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content, offset, len));
      }
      // Everything, and the zero tail of the last page.
      ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content, 0, provider->vmo_size()));
      EXPECT_EQ(provider->stats().failures, 0u);
    }
  }
}

TEST_F(BlobTest, CompressibleContentShrinks) {
  const Bytes zeros(1 << 20, 0);
  PackResult result;
  const std::string path = Pack("zeros", zeros, {.chunk_size = 64 * 1024, .level = 19}, &result);
  EXPECT_EQ(result.chunks, 16u);
  EXPECT_LT(result.blob_size, 16 * 1024u);
  auto provider = Open(path);
  ASSERT_NE(provider, nullptr);
  ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), zeros, 0, zeros.size()));
}

TEST_F(BlobTest, StatsCountChunksAndCompressedBytes) {
  const Bytes content = MakeContent(10 * 16384 + 5000, 42);
  PackResult result;
  const std::string path = Pack("stats", content, {.chunk_size = 16384, .level = 3}, &result);
  auto provider = Open(path, NoReadAhead());
  ASSERT_NE(provider, nullptr);
  ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content, 0, provider->vmo_size()));
  // Read again: all present, nothing more reaches the provider.
  ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content, 0, provider->vmo_size()));
  // A reader wakes as soon as its last page is supplied, a moment before the loop thread
  // counts that supply.
  EXPECT_TRUE(PollUntil([&] { return provider->stats().bytes_supplied == provider->vmo_size(); }));
  const ProviderStats s = provider->stats();
  EXPECT_GE(s.requests, 1u);
  EXPECT_EQ(s.reads, result.chunks);
  EXPECT_EQ(s.bytes_read,
            result.blob_size - blob::kHeaderSize - result.chunks * blob::kIndexEntrySize);
  EXPECT_EQ(s.bytes_supplied, provider->vmo_size());
  EXPECT_EQ(s.failures, 0u);
}

TEST_F(BlobTest, FixedReadAheadSuppliesWholeChunksAhead) {
  const uint32_t chunk = 16384;
  const Bytes content = MakeContent(8 * chunk, 3);
  const std::string path = Pack("ra", content, {.chunk_size = chunk, .level = 3});
  BlobProviderOptions options;
  options.read_ahead = {ReadAheadMode::kFixed, 2 * chunk, 2 * chunk};
  auto provider = Open(path, options);
  ASSERT_NE(provider, nullptr);
  // One page of chunk 0 brings chunks 0..2.
  ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content, 100, 8));
  // The reader woke with chunk 0; chunks 1 and 2 follow on the loop thread.
  EXPECT_TRUE(PollUntil([&] { return provider->stats().bytes_supplied == 3u * chunk; }))
      << provider->stats().bytes_supplied;
  EXPECT_EQ(provider->stats().requests, 1u);
  ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content, chunk, 2 * chunk));
  EXPECT_EQ(provider->stats().requests, 1u);
  ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content, 3 * chunk + 4096, 4096));
  EXPECT_EQ(provider->stats().requests, 2u);
}

TEST_F(BlobTest, AdaptiveReadAheadFollowsASequentialScan) {
  const uint32_t chunk = 16384;
  const uint64_t chunks = 32;
  const Bytes content = MakeContent(chunks * chunk, 4);
  const std::string path = Pack("seq", content, {.chunk_size = chunk, .level = 3});
  BlobProviderOptions options;
  options.read_ahead = {ReadAheadMode::kAdaptive, chunk, 4 * chunk};
  auto provider = Open(path, options);
  ASSERT_NE(provider, nullptr);
  for (uint64_t c = 0; c < chunks; ++c) {
    ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content, c * chunk, chunk));
  }
  // Windows 1, 2, 4, 4, ... chunks: 8 requests if every read-ahead lands before the reader
  // gets there, a few more when the reader overtakes one still being decompressed; 32
  // without read-ahead.
  EXPECT_LE(provider->stats().requests, 20u);
}

TEST_F(BlobTest, ConcurrentReaders) {
  const Bytes content = MakeContent(3 * 1024 * 1024 + 12345, 5);
  const std::string path = Pack("conc", content, {.chunk_size = 64 * 1024, .level = 1});
  auto provider = Open(path);
  ASSERT_NE(provider, nullptr);
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(100 + static_cast<uint64_t>(t));
      Bytes got;
      for (int i = 0; i < 200; ++i) {
        const uint64_t offset = rng() % content.size();
        const uint64_t len = 1 + rng() % std::min<uint64_t>(content.size() - offset, 200000);
        got.assign(len, 0);
        if (provider->vmo().Read(got.data(), offset, len) != Status::kOk ||
            std::memcmp(got.data(), content.data() + offset, len) != 0) {
          ++bad;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST_F(BlobTest, MappingReadsRandomPages) {
  UPAGER_REQUIRE_MAPPINGS();
  const Bytes content = MakeContent(40 * 4096 + 999, 6);
  const std::string path = Pack("map", content, {.chunk_size = 12288, .level = 3});
  auto provider = Open(path);
  ASSERT_NE(provider, nullptr);
  Mapping map;
  ASSERT_EQ(Mapping::Create(provider->vmo(), 0, provider->vmo_size(), kMapRead, &map), Status::kOk);
  std::mt19937_64 rng(8);
  const uint64_t pages = provider->vmo_size() / kPageSize;
  for (int i = 0; i < 60; ++i) {
    const uint64_t page = rng() % pages;
    const uint64_t offset = page * kPageSize;
    const uint64_t n = std::min<uint64_t>(kPageSize, content.size() - offset);
    ASSERT_EQ(std::memcmp(map.data() + offset, content.data() + offset, n), 0) << "page " << page;
    for (uint64_t j = n; j < kPageSize; ++j) {
      ASSERT_EQ(static_cast<uint8_t>(map.data()[offset + j]), 0) << "tail byte " << j;
    }
  }
  map.Reset();
}

// A blob of 8 chunks of 16 KiB with one byte of chunk 3's compressed data flipped.
class DamagedChunkTest : public BlobTest {
 protected:
  static constexpr uint32_t kChunk = 16384;
  static constexpr uint64_t kBad = 3;

  void SetUp() override {
    BlobTest::SetUp();
    content_ = MakeContent(8 * kChunk - 100, 9);
    path_ = Pack("damaged", content_, {.chunk_size = kChunk, .level = 3});
    const std::vector<blob::IndexEntry> index = Index(path_);
    ASSERT_EQ(index.size(), 8u);
    Bytes b = ReadFileBytes(path_);
    b[index[kBad].offset + index[kBad].compressed_size / 2] ^= 0x40;
    WriteFile(path_, b);
  }

  Bytes content_;
  std::string path_;
};

TEST_F(DamagedChunkTest, VmoReadOfThatChunkFailsOthersRead) {
  auto provider = Open(path_, NoReadAhead());
  ASSERT_NE(provider, nullptr);
  Bytes buf(kChunk);
  EXPECT_EQ(provider->vmo().Read(buf.data(), kBad * kChunk + 5000, 10), Status::kIoDataIntegrity);
  // Neighbours and the rest are fine.
  ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content_, (kBad - 1) * kChunk, kChunk));
  ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content_, (kBad + 1) * kChunk, kChunk));
  ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content_, 0, 2 * kChunk));
  // A read across the bad chunk fails; asking again fails again (not sticky, still bad).
  Bytes big(3 * kChunk);
  EXPECT_EQ(provider->vmo().Read(big.data(), (kBad - 1) * kChunk, 3 * kChunk),
            Status::kIoDataIntegrity);
  EXPECT_EQ(provider->vmo().Read(buf.data(), kBad * kChunk, kPageSize), Status::kIoDataIntegrity);
  EXPECT_GE(provider->stats().failures, 2u);
  ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content_, 5 * kChunk, 3 * kChunk - 100));
}

TEST_F(DamagedChunkTest, ReadAheadOverABadChunkDoesNotHurtOthers) {
  BlobProviderOptions options;
  options.read_ahead = {ReadAheadMode::kFixed, 4 * kChunk, 4 * kChunk};
  auto provider = Open(path_, options);
  ASSERT_NE(provider, nullptr);
  // Chunk 1 reads ahead over the bad chunk 3; chunks 1, 2, 4 are still good.
  ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content_, kChunk, 2 * kChunk));
  ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content_, 4 * kChunk, kChunk));
  Bytes buf(16);
  EXPECT_EQ(provider->vmo().Read(buf.data(), kBad * kChunk, 16), Status::kIoDataIntegrity);
}

TEST_F(DamagedChunkTest, MappedAccessRaisesSigbus) {
  UPAGER_REQUIRE_MAPPINGS();
  auto provider = Open(path_, NoReadAhead());
  ASSERT_NE(provider, nullptr);
  Mapping map;
  ASSERT_EQ(Mapping::Create(provider->vmo(), 0, provider->vmo_size(), kMapRead, &map), Status::kOk);
  uint64_t value = 0;
  const std::byte* bad = map.data() + kBad * kChunk + kPageSize + 8;
  const Probe probe = ProbeLoad(bad, &value);
  EXPECT_FALSE(probe.ok);
  EXPECT_EQ(probe.signo, SIGBUS);
  EXPECT_EQ(probe.addr, bad);
  EXPECT_EQ(FaultStatusForAddress(bad), Status::kIoDataIntegrity);
  // Another chunk loads fine and holds the content.
  const uint64_t good_offset = 6 * kChunk + 16;
  ASSERT_TRUE(ProbeLoad(map.data() + good_offset, &value).ok);
  uint64_t want = 0;
  std::memcpy(&want, content_.data() + good_offset, sizeof(want));
  EXPECT_EQ(value, want);
  map.Reset();
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

// Destroying the provider detaches its VMO: clean pages are dropped (the pager can no longer
// supply them again) and every later read of an absent page fails with kBadState.
TEST_F(BlobTest, ProviderGoneDuplicateReadsFailWithBadState) {
  const uint32_t chunk = 8192;
  const Bytes content = MakeContent(6 * chunk, 15);
  const std::string path = Pack("gone", content, {.chunk_size = chunk, .level = 3});
  auto provider = Open(path, NoReadAhead());
  ASSERT_NE(provider, nullptr);
  Vmo dup;
  ASSERT_EQ(provider->vmo().Duplicate(&dup), Status::kOk);
  ASSERT_NO_FATAL_FAILURE(ExpectRange(dup, content, 0, chunk));
  provider.reset();
  Bytes buf(16);
  EXPECT_EQ(dup.Read(buf.data(), 3 * chunk, 16), Status::kBadState);
  EXPECT_EQ(dup.Read(buf.data(), 0, 16), Status::kBadState);
  uint64_t size = 0;
  EXPECT_EQ(dup.GetSize(&size), Status::kOk);
  EXPECT_EQ(size, 6u * chunk);
}

TEST_F(BlobTest, ProviderGoneMappingFaultsWithBadState) {
  UPAGER_REQUIRE_MAPPINGS();
  const uint32_t chunk = 8192;
  const Bytes content = MakeContent(6 * chunk, 16);
  const std::string path = Pack("gone-map", content, {.chunk_size = chunk, .level = 3});
  auto provider = Open(path, NoReadAhead());
  ASSERT_NE(provider, nullptr);
  Mapping map;
  ASSERT_EQ(Mapping::Create(provider->vmo(), 0, provider->vmo_size(), kMapRead, &map), Status::kOk);
  uint64_t value = 0;
  ASSERT_TRUE(ProbeLoad(map.data() + 16, &value).ok);
  uint64_t want = 0;
  std::memcpy(&want, content.data() + 16, sizeof(want));
  EXPECT_EQ(value, want);
  provider.reset();
  for (const uint64_t offset : {uint64_t{16}, uint64_t{4} * chunk}) {
    const std::byte* addr = map.data() + offset;
    const Probe probe = ProbeLoad(addr, &value);
    EXPECT_FALSE(probe.ok) << offset;
    EXPECT_EQ(probe.signo, SIGBUS) << offset;
    EXPECT_EQ(FaultStatusForAddress(addr), Status::kBadState) << offset;
  }
  map.Reset();
}

}  // namespace
}  // namespace upager::testing

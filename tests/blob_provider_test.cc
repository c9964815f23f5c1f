// BlobProvider: content packed into a blob reads back byte for byte through Vmo::Read and
// through a Mapping, with read-ahead in whole chunks; damage to a chunk fails exactly that
// chunk with kIoDataIntegrity (SIGBUS through a mapping). The format's own checks (a
// damaged header or index refused at Create) and PackBlob are in blob_format_test.cc.
#include "upager/providers/blob_provider.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "blob_test_util.h"
#include "mapping_util.h"
#include "test_util.h"
#include "upager/mapping.h"
#include "upager/pager_loop.h"

namespace upager::testing {
namespace {

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
  // Each chunk not yet supplied is a request of the stream, whose read-ahead window goes
  // 1, 2, 4, 4, ... chunks. The reader waits for each read-ahead to land before going on
  // (so that it never overtakes one still being decompressed, which would make a request
  // more, as a real reader racing the loop thread may): then the scan makes exactly 8
  // requests, where 32 would mean no read-ahead.
  uint64_t supplied_end = 0;  // chunks
  uint64_t window = 1;
  for (uint64_t c = 0; c < chunks; ++c) {
    ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content, c * chunk, chunk));
    if (c >= supplied_end) {
      supplied_end = std::min(chunks, c + 1 + window);
      window = std::min<uint64_t>(window * 2, 4);
    }
    ASSERT_TRUE(PollUntil([&] { return provider->stats().bytes_supplied >= supplied_end * chunk; }))
        << "chunk " << c << ": " << provider->stats().bytes_supplied;
  }
  EXPECT_EQ(provider->stats().requests, 8u);
  EXPECT_EQ(provider->stats().bytes_supplied, chunks * chunk);
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

// Whether every page of [offset, offset + len) of the file mapped at `file` is in the page
// cache.
bool Resident(const std::byte* file, uint64_t offset, uint64_t len) {
  const uint64_t first = offset / kPageSize;
  const uint64_t last = (offset + len + kPageSize - 1) / kPageSize;
  std::vector<unsigned char> in(last - first);
  void* at = const_cast<std::byte*>(file + first * kPageSize);
  if (mincore(at, (last - first) * kPageSize, in.data()) != 0) return false;
  return std::all_of(in.begin(), in.end(), [](unsigned char v) { return (v & 1) != 0; });
}

// Compressed read-around: the second chunk read from the file in a 2 MiB group of content
// has the kernel read the compressed bytes of the whole group (and of that group only)
// into the page cache; the first does not.
TEST_F(BlobTest, SecondReadOfAGroupReadsItsCompressedBytesAround) {
  constexpr uint32_t kChunk = 16384;  // 128 chunks a group
  constexpr uint64_t kGroup = 128;
  Bytes content(3 * kGroup * kChunk);
  std::mt19937_64 rng(11);
  for (uint8_t& b : content) b = static_cast<uint8_t>(rng());  // incompressible
  const std::string path = Pack("around", content, {.chunk_size = kChunk, .level = 1});
  auto provider = Open(path, NoReadAhead());
  ASSERT_NE(provider, nullptr);

  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  struct statfs fs {};
  ASSERT_EQ(fstatfs(fd, &fs), 0);
  blob::Header header;
  std::vector<blob::IndexEntry> index;
  ASSERT_EQ(blob::ReadIndex(fd, &header, &index), Status::kOk);
  ASSERT_EQ(index.size(), 3 * kGroup);
  struct stat st {};
  ASSERT_EQ(fstat(fd, &st), 0);
  const auto size = static_cast<uint64_t>(st.st_size);
  void* mapped = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ASSERT_NE(mapped, MAP_FAILED);
  const auto* file = static_cast<const std::byte*>(mapped);
  ASSERT_EQ(fdatasync(fd), 0);
  ASSERT_EQ(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
  const auto resident = [&](uint64_t chunk) {
    return Resident(file, index[chunk].offset, index[chunk].compressed_size);
  };
  const uint64_t far = 2 * kGroup - 2;  // far from the reads below, in their group
  if (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC || resident(far)) {
    munmap(mapped, size);
    close(fd);
    UPAGER_SKIP_OR_FAIL("the file system keeps the blob in memory: residency shows nothing");
  }

  ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content, (kGroup + 2) * kChunk, 1));
  EXPECT_FALSE(resident(far)) << "one read of a group reads nothing around it";
  ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content, (kGroup + 9) * kChunk, 1));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!resident(far) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_TRUE(resident(far)) << "the group's compressed bytes were not read around";
  EXPECT_TRUE(resident(kGroup)) << "the group's first chunk";
  EXPECT_TRUE(resident(2 * kGroup - 1)) << "the group's last chunk";
  // Not past the group (a few pages past its end may come with the last one).
  EXPECT_FALSE(resident(2 * kGroup + kGroup / 2));
  EXPECT_FALSE(resident(kGroup / 2));
  EXPECT_EQ(provider->stats().reads, 2u);  // nothing was decompressed ahead
  munmap(mapped, size);
  close(fd);
}

}  // namespace
}  // namespace upager::testing

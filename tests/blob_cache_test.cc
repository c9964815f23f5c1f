// BlobProvider's cache of decompressed chunks: a page evicted from the VMO and asked for
// again is supplied from the cache (no read, no decompression), the cache holds at most its
// capacity (least recently used out first), a bad chunk is never cached, and CopyIfCached
// copies exact bytes from cached chunks only. Run with io_uring and with pread.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "base/handle_access.h"
#include "blob_test_util.h"
#include "mapping_util.h"
#include "test_util.h"
#include "upager/mapping.h"
#include "vm/vm_object_paged.h"

namespace upager::testing {
namespace {

constexpr uint64_t kChunk = 16384;  // four pages

bool Evict(const Vmo& vmo, uint64_t offset) {
  return internal::HandleAccess::Object(vmo)->EvictPage(offset / kPageSize);
}

class BlobCacheTest : public BlobTest, public ::testing::WithParamInterface<FileIo> {
 protected:
  BlobProviderOptions Options(uint64_t cache_chunks) {
    BlobProviderOptions o = NoReadAhead();
    o.cache_bytes = cache_chunks * kChunk;
    o.io = GetParam();
    return o;
  }
  // A page's bytes through CopyIfCached, compared with the content; false if not cached.
  bool CachedPageMatches(BlobProvider* provider, const Bytes& content, uint64_t offset) {
    Bytes got(kPageSize, 0xcc);
    if (!provider->CopyIfCached(offset, kPageSize, got.data())) return false;
    Bytes want(kPageSize, 0);
    if (offset < content.size()) {
      std::memcpy(want.data(), content.data() + offset,
                  std::min<uint64_t>(kPageSize, content.size() - offset));
    }
    EXPECT_TRUE(got == want) << "cached bytes differ at " << offset;
    return true;
  }
};

TEST_P(BlobCacheTest, RefaultOfAnEvictedPageOfACachedChunkReadsNothing) {
  const Bytes content = MakeContent(4 * kChunk, 5);
  auto provider = Open(Pack("refault", content, {.chunk_size = kChunk, .level = 3}), Options(4));
  ASSERT_NE(provider, nullptr);
  EXPECT_EQ(provider->cache_capacity(), 4u);
  ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content, kChunk + kPageSize, kPageSize));
  ProviderStats s = provider->stats();
  EXPECT_EQ(s.reads, 1u);
  EXPECT_EQ(s.cache_misses, 1u);
  EXPECT_EQ(s.cache_hits, 0u);
  EXPECT_EQ(provider->cached_chunks(), 1u);

  // Evicted, then faulted again: supplied from the cache.
  ASSERT_TRUE(Evict(provider->vmo(), kChunk + kPageSize));
  ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content, kChunk + kPageSize, kPageSize));
  s = provider->stats();
  EXPECT_EQ(s.requests, 2u);
  EXPECT_EQ(s.reads, 1u);
  EXPECT_EQ(s.bytes_read, Index(dir_.Path("refault.blob"))[1].compressed_size);
  EXPECT_EQ(s.cache_misses, 1u);
  EXPECT_EQ(s.cache_hits, 1u);
  EXPECT_EQ(s.failures, 0u);
}

// Through a mapping, the fast path serves the re-fault on the fault thread itself: no READ
// packet, no loop thread, straight from the cache slot (src/vm/fault_filler.h).
TEST_P(BlobCacheTest, MappedRefaultOfACachedChunkIsFilledOnTheFaultThread) {
  UPAGER_REQUIRE_MAPPINGS();
  const Bytes content = MakeContent(4 * kChunk, 8);
  auto provider = Open(Pack("filled", content, {.chunk_size = kChunk, .level = 3}), Options(4));
  ASSERT_NE(provider, nullptr);
  Mapping map;
  ASSERT_EQ(Mapping::Create(provider->vmo(), 0, provider->vmo_size(), kMapRead, &map), Status::kOk);
  const auto* bytes = reinterpret_cast<const uint8_t*>(map.data());
  const uint64_t page = kChunk + kPageSize;
  // Waits for the counters of a supply that has already resumed the faulting thread.
  auto settled = [&](uint64_t supplied) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    ProviderStats s = provider->stats();
    while (s.bytes_supplied < supplied && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
      s = provider->stats();
    }
    return s;
  };
  ASSERT_EQ(std::memcmp(bytes + page, content.data() + page, kPageSize), 0);
  ProviderStats s = settled(kChunk);
  EXPECT_EQ(s.requests, 1u);
  EXPECT_EQ(s.fault_fills, 0u);  // not cached yet: a request, decompressed on a loop thread
  EXPECT_EQ(s.cache_misses, 1u);

  ASSERT_TRUE(Evict(provider->vmo(), page));
  ASSERT_EQ(std::memcmp(bytes + page, content.data() + page, kPageSize), 0);
  s = settled(kChunk + kPageSize);
  EXPECT_EQ(s.bytes_supplied, kChunk + kPageSize);  // just the evicted page
  EXPECT_EQ(s.fault_fills, 1u);
  EXPECT_EQ(s.requests, 1u);  // no packet
  EXPECT_EQ(s.reads, 1u);
  EXPECT_EQ(s.cache_misses, 1u);
  EXPECT_EQ(s.cache_hits, 1u);
}

TEST_P(BlobCacheTest, CacheOfNChunksHoldsNLeastRecentlyUsedOut) {
  const Bytes content = MakeContent(6 * kChunk - 300, 6);
  // One loop thread: a request is served only once the one before is done with its cache
  // slot (a slot in use by a supply is not thrown out), so which slot goes is exact.
  PagerLoop one(1);
  ASSERT_EQ(one.Start(), Status::kOk);
  std::unique_ptr<BlobProvider> provider;
  ASSERT_EQ(BlobProvider::Create(&one, Pack("bounded", content, {.chunk_size = kChunk, .level = 3}),
                                 Options(2), &provider),
            Status::kOk);
  EXPECT_EQ(provider->cache_capacity(), 2u);
  for (uint64_t c = 0; c < 4; ++c) {
    ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content, c * kChunk, kPageSize));
  }
  EXPECT_EQ(provider->cached_chunks(), 2u);
  EXPECT_EQ(provider->stats().reads, 4u);
  // The two most recent are cached; the two oldest are not.
  EXPECT_FALSE(CachedPageMatches(provider.get(), content, 0));
  EXPECT_FALSE(CachedPageMatches(provider.get(), content, kChunk));
  EXPECT_TRUE(CachedPageMatches(provider.get(), content, 2 * kChunk));
  EXPECT_TRUE(CachedPageMatches(provider.get(), content, 3 * kChunk + 3 * kPageSize));
  EXPECT_EQ(provider->stats().cache_hits, 2u);

  // Chunk 0 again: read, and it takes the place of the least recently used, chunk 2.
  ASSERT_TRUE(Evict(provider->vmo(), 0));
  ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content, 0, kPageSize));
  EXPECT_EQ(provider->stats().reads, 5u);
  EXPECT_EQ(provider->cached_chunks(), 2u);
  EXPECT_FALSE(CachedPageMatches(provider.get(), content, 2 * kChunk));
  // Chunk 3 again: still cached, nothing read.
  ASSERT_TRUE(Evict(provider->vmo(), 3 * kChunk));
  ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content, 3 * kChunk, kPageSize));
  const ProviderStats s = provider->stats();
  EXPECT_EQ(s.reads, 5u);
  EXPECT_EQ(s.cache_misses, 5u);
  EXPECT_EQ(s.cache_hits, 3u);
  // The short last chunk is cached zero-padded to its page boundary, and no further.
  ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content, 5 * kChunk, kPageSize));
  EXPECT_TRUE(CachedPageMatches(provider.get(), content, 6 * kChunk - kPageSize));
  Bytes buf(2 * kPageSize);
  EXPECT_FALSE(provider->CopyIfCached(6 * kChunk - kPageSize, 2 * kPageSize, buf.data()));
}

TEST_P(BlobCacheTest, ZeroCacheBytesTurnsTheCacheOff) {
  const Bytes content = MakeContent(2 * kChunk, 7);
  auto provider = Open(Pack("off", content, {.chunk_size = kChunk, .level = 3}), Options(0));
  ASSERT_NE(provider, nullptr);
  EXPECT_EQ(provider->cache_capacity(), 0u);
  ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content, 0, kPageSize));
  EXPECT_FALSE(CachedPageMatches(provider.get(), content, 0));
  ASSERT_TRUE(Evict(provider->vmo(), 0));
  ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content, 0, kPageSize));
  const ProviderStats s = provider->stats();
  EXPECT_EQ(s.reads, 2u);
  EXPECT_EQ(s.cache_misses, 2u);
  EXPECT_EQ(s.cache_hits, 0u);
}

TEST_P(BlobCacheTest, CopyIfCachedStaysInsideOneCachedChunk) {
  const Bytes content = MakeContent(3 * kChunk, 8);
  auto provider = Open(Pack("copy", content, {.chunk_size = kChunk, .level = 3}), Options(3));
  ASSERT_NE(provider, nullptr);
  ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content, 0, 2 * kChunk));
  Bytes buf(2 * kChunk, 0xcc);
  // Any range inside a cached chunk, to the byte.
  ASSERT_TRUE(provider->CopyIfCached(kChunk + 100, 5000, buf.data()));
  EXPECT_EQ(0, std::memcmp(buf.data(), content.data() + kChunk + 100, 5000));
  // Across two chunks, or in one not cached, or past the VMO: nothing.
  EXPECT_FALSE(provider->CopyIfCached(kChunk - kPageSize, 2 * kPageSize, buf.data()));
  EXPECT_FALSE(provider->CopyIfCached(2 * kChunk, kPageSize, buf.data()));
  EXPECT_FALSE(provider->CopyIfCached(3 * kChunk, kPageSize, buf.data()));
  EXPECT_EQ(provider->stats().cache_hits, 1u);
}

TEST_P(BlobCacheTest, ABadChunkIsNeverCached) {
  const Bytes content = MakeContent(6 * kChunk, 9);
  const std::string path = Pack("bad", content, {.chunk_size = kChunk, .level = 3});
  const std::vector<blob::IndexEntry> index = Index(path);
  Bytes b = ReadFileBytes(path);
  b[index[3].offset + index[3].compressed_size / 2] ^= 0x40;
  WriteFile(path, b);
  BlobProviderOptions options = Options(6);
  options.read_ahead = {ReadAheadMode::kFixed, 4 * kChunk, 4 * kChunk};
  auto provider = Open(path, options);
  ASSERT_NE(provider, nullptr);
  // Chunk 1 reads ahead over the bad chunk 3 to the end (chunks 1-5): the good ones are
  // cached, the bad one failed and not cached. The reader is woken by chunk 1; the loop
  // thread goes on with the others.
  ASSERT_NO_FATAL_FAILURE(ExpectRange(provider->vmo(), content, kChunk, kPageSize));
  ASSERT_TRUE(
      PollUntil([&] { return provider->cached_chunks() == 4 && provider->stats().failures == 1; }));
  const ProviderStats first = provider->stats();
  EXPECT_EQ(first.reads, 5u);
  EXPECT_EQ(first.cache_misses, 5u);
  EXPECT_FALSE(CachedPageMatches(provider.get(), content, 3 * kChunk));
  EXPECT_TRUE(CachedPageMatches(provider.get(), content, 2 * kChunk));
  // Asked for, it is read, checked and failed again, every time.
  Bytes buf(16);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(provider->vmo().Read(buf.data(), 3 * kChunk, 16), Status::kIoDataIntegrity);
    const ProviderStats s = provider->stats();
    EXPECT_EQ(s.reads, first.reads + 1 + static_cast<uint64_t>(i));
    EXPECT_FALSE(CachedPageMatches(provider.get(), content, 3 * kChunk));
  }
}

// Readers, evictions and CopyIfCached at once over a cache smaller than the blob: every
// byte read or copied is right.
TEST_P(BlobCacheTest, ConcurrentReadersEvictionsAndCopies) {
  const Bytes content = MakeContent(16 * kChunk, 10);
  auto provider = Open(Pack("race", content, {.chunk_size = kChunk, .level = 3}), Options(3));
  ASSERT_NE(provider, nullptr);
  std::atomic<bool> bad{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<uint32_t>(t));
      Bytes page(kPageSize);
      for (int i = 0; i < 300; ++i) {
        const uint64_t offset = (rng() % (16 * kChunk / kPageSize)) * kPageSize;
        switch (rng() % 3) {
          case 0:
            if (provider->vmo().Read(page.data(), offset, kPageSize) != Status::kOk ||
                std::memcmp(page.data(), content.data() + offset, kPageSize) != 0) {
              bad = true;
            }
            break;
          case 1: Evict(provider->vmo(), offset); break;
          default:
            if (provider->CopyIfCached(offset, kPageSize, page.data()) &&
                std::memcmp(page.data(), content.data() + offset, kPageSize) != 0) {
              bad = true;
            }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_FALSE(bad.load());
  EXPECT_LE(provider->cached_chunks(), 3u);
  EXPECT_EQ(provider->stats().failures, 0u);
}

INSTANTIATE_TEST_SUITE_P(Io, BlobCacheTest, ::testing::Values(FileIo::kAuto, FileIo::kPread),
                         [](const ::testing::TestParamInfo<FileIo>& param) {
                           return param.param == FileIo::kPread ? "Pread" : "IoUring";
                         });

}  // namespace
}  // namespace upager::testing

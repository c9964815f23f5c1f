// BlobProvider and a damaged chunk under concurrency: every request that touches the bad
// chunk ends with kIoDataIntegrity, never left waiting.
//
// The bug these guard against: two loop threads, one decompressing a chunk only because it
// reads ahead, the other handed a request for that very chunk, which it left to the first
// ("busy: its supply resolves you"). The first then found the chunk bad and, since it had
// only read it ahead, did not fail it: the request waited for ever (a mapped `upager cat`
// of a damaged blob hung about one run in five).
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "mapping_util.h"
#include "upager/mapping.h"
#include "upager/pager_loop.h"
#include "upager/providers/blob_provider.h"
#include "upager/thread.h"

namespace upager {
namespace {

using testing::Probe;

constexpr uint32_t kChunk = 16384;  // 4 pages
constexpr uint64_t kChunks = 32;
constexpr uint64_t kBad = 13;

class BlobFailureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/upager-blob-failure-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    // Random bytes: they do not compress, so chunk k's data is near 64 + k * kChunk.
    content_.resize(kChunks * kChunk);
    std::mt19937_64 rng(42);
    for (auto& b : content_) b = static_cast<uint8_t>(rng());
    const std::string in = dir_ + "/data";
    path_ = in + ".blob";
    std::ofstream(in, std::ios::binary)
        .write(reinterpret_cast<const char*>(content_.data()),
               static_cast<std::streamsize>(content_.size()));
    std::string why;
    ASSERT_EQ(PackBlob(in, path_, {.chunk_size = kChunk, .level = 1}, nullptr, &why), Status::kOk)
        << why;
    // One bit flipped in the middle of chunk kBad's compressed bytes.
    std::fstream f(path_, std::ios::binary | std::ios::in | std::ios::out);
    const std::streamoff at = 64 + static_cast<std::streamoff>(kBad * kChunk + kChunk / 2);
    f.seekg(at);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x10);
    f.seekp(at);
    f.write(&c, 1);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::unique_ptr<BlobProvider> Open(PagerLoop* loop, const ReadAheadOptions& read_ahead) {
    std::unique_ptr<BlobProvider> provider;
    std::string why;
    EXPECT_EQ(BlobProvider::Create(loop, path_, {.read_ahead = read_ahead}, &provider, &why),
              Status::kOk)
        << why;
    return provider;
  }

  std::string dir_;
  std::string path_;
  std::vector<uint8_t> content_;
};

// A bad chunk that is only read ahead is failed all the same: a request for it may be
// waiting on the thread that reads it ahead. Failing a range nobody waits for does nothing.
TEST_F(BlobFailureTest, BadChunkReadAheadIsFailed) {
  PagerLoop loop(1);
  ASSERT_EQ(loop.Start(), Status::kOk);
  auto provider = Open(&loop, {ReadAheadMode::kFixed, 2 * kChunk, 2 * kChunk});
  ASSERT_NE(provider, nullptr);
  // Chunk kBad - 1 is read, and kBad and kBad + 1 are read ahead.
  std::vector<uint8_t> buf(kPageSize);
  ASSERT_EQ(provider->vmo().Read(buf.data(), (kBad - 1) * kChunk, kPageSize), Status::kOk);
  EXPECT_EQ(std::memcmp(buf.data(), content_.data() + (kBad - 1) * kChunk, kPageSize), 0);
  // The read returns once its own chunk is in; the loop thread goes on with the read-ahead
  // (kBad, then kBad + 1, in that order) after that.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (provider->stats().reads < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_EQ(provider->stats().reads, 3u);
  EXPECT_EQ(provider->stats().failures, 1u);
  // The chunk after it was supplied: reading it makes no request.
  const uint64_t requests = provider->stats().requests;
  ASSERT_EQ(provider->vmo().Read(buf.data(), (kBad + 1) * kChunk, kPageSize), Status::kOk);
  EXPECT_EQ(provider->stats().requests, requests);
  // The bad chunk itself still fails, each time it is asked for.
  EXPECT_EQ(provider->vmo().Read(buf.data(), kBad * kChunk, kPageSize), Status::kIoDataIntegrity);
  EXPECT_EQ(provider->stats().failures, 2u);
}

// What `upager cat` does, many times over: copy the whole mapping (here backward, the
// order that made reads race with read-ahead), catch the SIGBUS, then copy everything
// before the bad chunk forward. Each round uses a fresh provider (cold pages) with two loop
// threads and adaptive read-ahead. A lost request shows as kTimedOut (the overtime limit
// is lowered for the test) instead of a hang.
TEST_F(BlobFailureTest, MappedCopiesOverABadChunkAlwaysEnd) {
  UPAGER_REQUIRE_MAPPINGS();
  const PagerTimeouts saved = GetPagerTimeouts();
  SetPagerTimeouts({std::chrono::milliseconds(0), std::chrono::milliseconds(20000)});
  PagerLoop loop(2);
  ASSERT_EQ(loop.Start(), Status::kOk);
  const uint64_t size = kChunks * kChunk;
  std::vector<uint8_t> out(size);
  for (int round = 0; round < 100; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    auto provider = Open(&loop, {ReadAheadMode::kAdaptive, kChunk, 8 * kChunk});
    ASSERT_NE(provider, nullptr);
    Mapping map;
    ASSERT_EQ(Mapping::Create(provider->vmo(), 0, size, kMapRead, &map), Status::kOk);
    const std::byte* base = map.data();
    Probe probe = testing::mapping_util_internal::Run([&] {
      for (uint64_t end = size; end > 0; end -= kPageSize) {
        std::memcpy(out.data() + end - kPageSize, base + end - kPageSize, kPageSize);
      }
    });
    ASSERT_FALSE(probe.ok);
    EXPECT_EQ(probe.signo, SIGBUS);
    const auto* addr = static_cast<const std::byte*>(probe.addr);
    ASSERT_TRUE(addr >= base + kBad * kChunk && addr < base + (kBad + 1) * kChunk);
    EXPECT_EQ(FaultStatusForAddress(addr), Status::kIoDataIntegrity);
    // Everything before the bad chunk reads, forward.
    probe =
        testing::mapping_util_internal::Run([&] { std::memcpy(out.data(), base, kBad * kChunk); });
    ASSERT_TRUE(probe.ok) << "SIGBUS at offset " << static_cast<const std::byte*>(probe.addr) - base
                          << ": " << StatusString(FaultStatusForAddress(probe.addr));
    ASSERT_EQ(std::memcmp(out.data(), content_.data(), kBad * kChunk), 0);
    // And the bad chunk fails again when asked for again.
    uint64_t value = 0;
    probe = testing::ProbeLoad(base + kBad * kChunk + kPageSize, &value);
    EXPECT_FALSE(probe.ok);
    EXPECT_EQ(FaultStatusForAddress(base + kBad * kChunk + kPageSize), Status::kIoDataIntegrity);
  }
  SetPagerTimeouts(saved);
}

}  // namespace
}  // namespace upager

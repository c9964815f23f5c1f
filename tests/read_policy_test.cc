// FileProvider's read policy end to end: its reads never cover a page twice (a sequential
// adaptive scan of a mapping, ascending and descending, reads exactly the file, page-rounded;
// a random scan with read-around reads no page twice), read-around around an isolated
// read, and SetAccessPattern. Exact byte counts, whatever the timing.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "mapping_util.h"
#include "upager/mapping.h"
#include "upager/pager_loop.h"
#include "upager/providers/file_provider.h"

namespace upager {
namespace {

class ReadPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "upager-policy-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    ASSERT_EQ(loop_.Start(), Status::kOk);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A file of `size` bytes whose every 8-byte word is its own offset.
  std::string MakeFile(uint64_t size) {
    const std::string path = dir_ + "/data";
    FILE* f = std::fopen(path.c_str(), "wb");
    EXPECT_NE(f, nullptr);
    std::vector<uint64_t> block(kPageSize / 8);
    for (uint64_t off = 0; off < size; off += kPageSize) {
      for (size_t i = 0; i < block.size(); ++i) block[i] = off + i * 8;
      std::fwrite(block.data(), 1, std::min<uint64_t>(kPageSize, size - off), f);
    }
    EXPECT_EQ(std::fclose(f), 0);
    return path;
  }

  std::string dir_;
  PagerLoop loop_{1};
};

FileProviderOptions Adaptive(FileIo io) {
  FileProviderOptions o;
  o.io = io;
  o.read_ahead.mode = ReadAheadMode::kAdaptive;
  return o;
}

// Touches one word of each page in `pages` order and checks it.
void Touch(const Mapping& map, const std::vector<uint64_t>& pages) {
  for (uint64_t p : pages) {
    const uint64_t word =
        *reinterpret_cast<const volatile uint64_t*>(map.data() + p * kPageSize + 8);
    ASSERT_EQ(word, p * kPageSize + 8) << "page " << p;
  }
}

// The stats once every read has been supplied: the last supply may be counted just after
// the reader it woke went on, and read-ahead may still be in flight. Waits (20 s at most)
// until the VMO holds what was read and the supplies are all counted.
ProviderStats Settled(const FileProvider& file) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    VmoInfo info{};
    EXPECT_EQ(file.vmo().GetInfo(&info), Status::kOk);
    const ProviderStats s = file.stats();
    const bool settled = info.committed_bytes == s.bytes_read && s.bytes_supplied == s.bytes_read;
    if (settled || std::chrono::steady_clock::now() > deadline) {
      EXPECT_EQ(info.committed_bytes, s.bytes_read) << "read a page twice, or never supplied it";
      return s;
    }
    std::this_thread::yield();
  }
}

void Scan(const std::string& path, uint64_t size, FileIo io, bool descending, PagerLoop* loop) {
  std::unique_ptr<FileProvider> file;
  ASSERT_EQ(FileProvider::Create(loop, path, Adaptive(io), &file), Status::kOk);
  Mapping map;
  ASSERT_EQ(Mapping::Create(file->vmo(), 0, file->vmo_size(), kMapRead, &map), Status::kOk);
  const uint64_t pages = file->vmo_size() / kPageSize;
  std::vector<uint64_t> order(pages);
  for (uint64_t i = 0; i < pages; ++i) order[i] = descending ? pages - 1 - i : i;
  Touch(map, order);
  const ProviderStats s = Settled(*file);
  EXPECT_EQ(s.bytes_read, size) << (descending ? "descending" : "ascending");
  EXPECT_EQ(s.bytes_supplied, size) << "a supply covered a page already there";
}

TEST_F(ReadPolicyTest, SequentialAdaptiveScanReadsTheFileOnce) {
  UPAGER_REQUIRE_MAPPINGS();
  const uint64_t size = uint64_t{64} << 20;
  const std::string path = MakeFile(size);
  for (FileIo io : {FileIo::kIoUring, FileIo::kPread}) {
    for (bool down : {false, true}) Scan(path, size, io, down, &loop_);
  }
}

// A random scan of 1/8 of the pages of a mapping with read-around: many reads bring more
// than the page faulted on, and none a page twice: what was read is exactly what the VMO
// holds.
TEST_F(ReadPolicyTest, RandomScanWithReadAroundReadsNoPageTwice) {
  UPAGER_REQUIRE_MAPPINGS();
  const uint64_t size = uint64_t{32} << 20;
  const std::string path = MakeFile(size);
  for (FileIo io : {FileIo::kIoUring, FileIo::kPread}) {
    std::unique_ptr<FileProvider> file;
    ASSERT_EQ(FileProvider::Create(&loop_, path, Adaptive(io), &file), Status::kOk);
    Mapping map;
    ASSERT_EQ(Mapping::Create(file->vmo(), 0, file->vmo_size(), kMapRead, &map), Status::kOk);
    std::vector<uint64_t> pages(size / kPageSize);
    for (uint64_t i = 0; i < pages.size(); ++i) pages[i] = i;
    std::shuffle(pages.begin(), pages.end(), std::mt19937(3));
    pages.resize(pages.size() / 8);
    Touch(map, pages);
    const ProviderStats s = Settled(*file);
    EXPECT_EQ(s.bytes_supplied, s.bytes_read);
    EXPECT_GT(s.bytes_read, pages.size() * kPageSize) << "no read-around";
    EXPECT_LT(s.requests, pages.size()) << "read-around saved no fault";
  }
}

// Waits until `file` has read `bytes` (reads in flight end), then checks it read no more.
void ExpectRead(const FileProvider& file, uint64_t bytes) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (file.stats().bytes_read < bytes && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(file.stats().bytes_read, bytes);
}

// An isolated read gets the read-around window centred on it; SetAccessPattern switches
// read-around and read-ahead off (kRandom) or to the largest window at once (kSequential).
TEST_F(ReadPolicyTest, ReadAroundAndAccessPatterns) {
  const uint64_t size = uint64_t{8} << 20;
  const std::string path = MakeFile(size);
  FileProviderOptions o = Adaptive(FileIo::kPread);
  o.read_ahead.window = 64 * 1024;
  o.read_ahead.max_window = 256 * 1024;
  o.read_ahead.around = 128 * 1024;
  o.max_io = 512 * 1024;  // every plan below is one read
  std::unique_ptr<FileProvider> file;
  ASSERT_EQ(FileProvider::Create(&loop_, path, o, &file), Status::kOk);
  EXPECT_EQ(file->access_pattern(), AccessPattern::kNormal);
  uint64_t word = 0;
  // Page 1000: pages [984, 1016) are read, in one read.
  ASSERT_EQ(file->vmo().Read(&word, 1000 * kPageSize, 8), Status::kOk);
  EXPECT_EQ(word, 1000 * kPageSize);
  ExpectRead(*file, 32 * kPageSize);
  EXPECT_EQ(file->stats().reads, 1u);
  // A neighbour inside the window is there already.
  ASSERT_EQ(file->vmo().Read(&word, 990 * kPageSize, 8), Status::kOk);
  EXPECT_EQ(file->stats().requests, 1u);
  // kRandom: page 1500 alone.
  file->SetAccessPattern(AccessPattern::kRandom);
  ASSERT_EQ(file->vmo().Read(&word, 1500 * kPageSize, 8), Status::kOk);
  ExpectRead(*file, 33 * kPageSize);
  // kSequential: page 1700 and 256 KiB (64 pages) after it.
  file->SetAccessPattern(AccessPattern::kSequential);
  ASSERT_EQ(file->vmo().Read(&word, 1700 * kPageSize, 8), Status::kOk);
  ExpectRead(*file, (33 + 65) * kPageSize);
  // Back to normal: read-around again, clipped to the absent run: page 1767 is free, 1765
  // and below were read with page 1700, so [1765, 1783) is what page 1767 gets.
  file->SetAccessPattern(AccessPattern::kNormal);
  ASSERT_EQ(file->vmo().Read(&word, 1767 * kPageSize, 8), Status::kOk);
  EXPECT_EQ(word, 1767 * kPageSize);
  ExpectRead(*file, (33 + 65 + 18) * kPageSize);
  EXPECT_EQ(file->stats().reads, 4u);
}

}  // namespace
}  // namespace upager

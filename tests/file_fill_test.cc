// The fault fast path (src/vm/fault_filler.h) through FileProvider: mapped faults whose
// data can be read without blocking are served on the fault thread, with no READ packet;
// the bytes are the file's; read-ahead, the memory budget and a cold page cache behave.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "mapping_util.h"
#include "providers/request_queue.h"
#include "upager/mapping.h"
#include "upager/page_budget.h"
#include "upager/providers/file_provider.h"

namespace upager {
namespace {

constexpr uint64_t kPages = 64;

// A file of `pages` random pages in `dir`, removed at the end.
class TestFile {
 public:
  TestFile(const std::string& dir, uint64_t pages, uint32_t seed) : bytes_(pages * kPageSize) {
    std::string pattern = dir + "/upager-fill-XXXXXX";
    const int fd = mkstemp(pattern.data());
    path_ = pattern;
    std::mt19937 rng(seed);
    for (auto& b : bytes_) b = static_cast<uint8_t>(rng());
    EXPECT_EQ(write(fd, bytes_.data(), bytes_.size()), static_cast<ssize_t>(bytes_.size()));
    EXPECT_EQ(fsync(fd), 0);
    close(fd);
  }
  ~TestFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }
  const uint8_t* page(uint64_t i) const { return bytes_.data() + i * kPageSize; }
  // Drops the (clean) file from the page cache; true if none of it stayed there.
  bool DropCache() const {
    const int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    void* map = mmap(nullptr, bytes_.size(), PROT_READ, MAP_SHARED, fd, 0);
    std::vector<unsigned char> in(bytes_.size() / kPageSize);
    const bool ok = map != MAP_FAILED && mincore(map, bytes_.size(), in.data()) == 0 &&
                    std::none_of(in.begin(), in.end(), [](unsigned char c) { return c & 1; });
    if (map != MAP_FAILED) munmap(map, bytes_.size());
    close(fd);
    return ok;
  }

 private:
  std::string path_;
  std::vector<uint8_t> bytes_;
};

bool IsTmpfs(const std::string& dir) {
  struct statfs fs {};
  return statfs(dir.c_str(), &fs) == 0 && fs.f_type == 0x01021994;  // TMPFS_MAGIC
}

FileProviderOptions NoReadAhead() {
  FileProviderOptions options;
  options.read_ahead.mode = ReadAheadMode::kOff;
  return options;
}

struct Mapped {
  PagerLoop loop{1};
  std::unique_ptr<FileProvider> file;
  Mapping map;
  void Open(const std::string& path, const FileProviderOptions& options) {
    ASSERT_EQ(loop.Start(), Status::kOk);
    ASSERT_EQ(FileProvider::Create(&loop, path, options, &file), Status::kOk);
    ASSERT_EQ(Mapping::Create(file->vmo(), 0, file->vmo_size(), kMapRead, &map), Status::kOk);
  }
  const uint8_t* page(uint64_t i) const {
    return reinterpret_cast<const uint8_t*>(map.data()) + i * kPageSize;
  }
};

// The provider's counters once `bytes` have been supplied: a supply resumes the faulting
// thread before its supplier counts it.
ProviderStats Settled(const FileProvider& file, uint64_t bytes) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  ProviderStats stats = file.stats();
  while (stats.bytes_supplied < bytes && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
    stats = file.stats();
  }
  return stats;
}

std::vector<uint64_t> Shuffled(uint64_t n, uint32_t seed) {
  std::vector<uint64_t> order(n);
  for (uint64_t i = 0; i < n; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(seed));
  return order;
}

TEST(FileFillTest, RandomFaultsOnTmpfsNeedNoPackets) {
  UPAGER_REQUIRE_MAPPINGS();
  ASSERT_TRUE(IsTmpfs("/dev/shm")) << "/dev/shm is not tmpfs here";
  TestFile file("/dev/shm", kPages, 1);
  Mapped m;
  ASSERT_NO_FATAL_FAILURE(m.Open(file.path(), NoReadAhead()));
  for (uint64_t i : Shuffled(kPages, 2)) {
    ASSERT_EQ(std::memcmp(m.page(i), file.page(i), kPageSize), 0) << "page " << i;
  }
  const ProviderStats stats = Settled(*m.file, kPages * kPageSize);
  EXPECT_EQ(stats.requests, 0u);
  EXPECT_EQ(stats.fault_fills, kPages);
  EXPECT_EQ(stats.reads, kPages);
  EXPECT_EQ(stats.bytes_read, kPages * kPageSize);
  EXPECT_EQ(stats.bytes_supplied, kPages * kPageSize);
}

TEST(FileFillTest, WithFillFaultsOffEveryFaultIsAPacket) {
  UPAGER_REQUIRE_MAPPINGS();
  TestFile file("/dev/shm", kPages, 3);
  Mapped m;
  FileProviderOptions options = NoReadAhead();
  options.fill_faults = false;
  ASSERT_NO_FATAL_FAILURE(m.Open(file.path(), options));
  for (uint64_t i : Shuffled(kPages, 4)) {
    ASSERT_EQ(std::memcmp(m.page(i), file.page(i), kPageSize), 0) << "page " << i;
  }
  const ProviderStats stats = Settled(*m.file, kPages * kPageSize);
  EXPECT_EQ(stats.fault_fills, 0u);
  EXPECT_EQ(stats.requests, kPages);
  EXPECT_EQ(stats.bytes_supplied, kPages * kPageSize);
}

TEST(FileFillTest, SequentialScanIsFilledWithItsReadAheadAndReadOnce) {
  UPAGER_REQUIRE_MAPPINGS();
  constexpr uint64_t kScan = 512;  // 2 MiB
  TestFile file("/dev/shm", kScan, 5);
  Mapped m;
  FileProviderOptions options;
  options.read_ahead.mode = ReadAheadMode::kAdaptive;
  options.read_ahead.window = 64 * 1024;
  options.read_ahead.max_window = 512 * 1024;
  ASSERT_NO_FATAL_FAILURE(m.Open(file.path(), options));
  for (uint64_t i = 0; i < kScan; ++i) {
    ASSERT_EQ(std::memcmp(m.page(i), file.page(i), kPageSize), 0) << "page " << i;
  }
  const ProviderStats stats = Settled(*m.file, kScan * kPageSize);
  EXPECT_EQ(stats.requests, 0u);
  EXPECT_EQ(stats.bytes_read, kScan * kPageSize);  // no byte twice
  EXPECT_EQ(stats.bytes_supplied, kScan * kPageSize);
  // Read-ahead makes most pages arrive before their fault.
  EXPECT_GT(stats.fault_fills, 0u);
  EXPECT_LT(stats.fault_fills, kScan / 8);
}

TEST(FileFillTest, AColdPageIsReadOnTheFaultThreadWithNoPacket) {
  UPAGER_REQUIRE_MAPPINGS();
  // The build tree is on a disk (a page cache that can be cold), unlike /dev/shm.
  const std::string dir = std::filesystem::current_path().string();
  ASSERT_FALSE(IsTmpfs(dir)) << dir << " is tmpfs: no page cache to drop";
  TestFile file(dir, kPages, 6);
  ASSERT_TRUE(file.DropCache()) << "the file stayed in the page cache";
  Mapped m;
  ASSERT_NO_FATAL_FAILURE(m.Open(file.path(), NoReadAhead()));
  ASSERT_EQ(std::memcmp(m.page(17), file.page(17), kPageSize), 0);
  ProviderStats stats = Settled(*m.file, kPageSize);
  // The fault thread read it on its own ring (lane_ring.h) once the request existed, and
  // the request made no packet: no loop thread and no I/O thread took part.
  EXPECT_EQ(stats.fault_fills, 0u);
  // (Where io_uring is refused, the fault thread hands the read to the I/O thread instead.)
  EXPECT_EQ(stats.fault_reads, m.file->uses_io_uring() ? 1u : 0u);
  EXPECT_EQ(stats.reads, 1u);
  EXPECT_EQ(stats.requests, 0u);
  EXPECT_EQ(stats.bytes_supplied, kPageSize);
  // The I/O thread's read left the page in the page cache, and so may the kernel's own
  // read-ahead: neighbours are filled or read by the I/O thread, but each page is read once
  // and every byte is the file's.
  for (uint64_t i : Shuffled(kPages, 7)) {
    ASSERT_EQ(std::memcmp(m.page(i), file.page(i), kPageSize), 0) << "page " << i;
  }
  stats = Settled(*m.file, kPages * kPageSize);
  EXPECT_EQ(stats.bytes_supplied, kPages * kPageSize);
  EXPECT_EQ(stats.reads, kPages);
  EXPECT_EQ(stats.bytes_read, kPages * kPageSize);
}

TEST(FileFillTest, ColdFaultsOfManyThreadsAreReadTogetherOnTheFaultThread) {
  UPAGER_REQUIRE_MAPPINGS();
  constexpr uint64_t kCold = 512;
  constexpr int kThreads = 4;
  const std::string dir = std::filesystem::current_path().string();
  ASSERT_FALSE(IsTmpfs(dir)) << dir << " is tmpfs: no page cache to drop";
  TestFile file(dir, kCold, 11);
  ASSERT_TRUE(file.DropCache()) << "the file stayed in the page cache";
  Mapped m;
  ASSERT_NO_FATAL_FAILURE(m.Open(file.path(), FileProviderOptions{}));  // adaptive read-around
  // Every thread touches every page, each in its own random order: misses of several
  // threads are in flight on the fault thread's ring at once, and pages of one read
  // resolve the faults of other threads.
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t i : Shuffled(kCold, 100 + t)) {
        if (std::memcmp(m.page(i), file.page(i), kPageSize) != 0) bad.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
  const ProviderStats stats = Settled(*m.file, kCold * kPageSize);
  EXPECT_EQ(stats.bytes_supplied, kCold * kPageSize);  // each page once
  EXPECT_EQ(stats.requests, 0u);  // no packet: fills, and reads on the fault thread
  if (m.file->uses_io_uring()) {
    EXPECT_GT(stats.fault_reads, 0u);
  }
  EXPECT_EQ(stats.failures, 0u);
}

// A read on the fault thread whose pages do not fit in the budget at once is not supplied
// there (the fault thread must not wait for memory): the I/O thread reads it again and
// supplies it, making room as every supply does.
TEST(FileFillTest, AColdReadThatDoesNotFitIsHandedToTheIoThread) {
  UPAGER_REQUIRE_MAPPINGS();
  constexpr uint64_t kLimit = 4;
  const std::string dir = std::filesystem::current_path().string();
  ASSERT_FALSE(IsTmpfs(dir)) << dir << " is tmpfs: no page cache to drop";
  TestFile file(dir, kPages, 12);
  ASSERT_TRUE(file.DropCache()) << "the file stayed in the page cache";
  PageBudget& budget = PageBudget::Default();
  const uint64_t old_limit = budget.limit();
  budget.SetLimit(kLimit);
  {
    Mapped m;
    FileProviderOptions options;
    options.read_ahead.mode = ReadAheadMode::kFixed;  // 8 pages a read: more than the budget
    options.read_ahead.window = 8 * kPageSize;
    ASSERT_NO_FATAL_FAILURE(m.Open(file.path(), options));
    ASSERT_EQ(std::memcmp(m.page(40), file.page(40), kPageSize), 0);
    ProviderStats stats = m.file->stats();
    // The fault thread's read, not supplied (where io_uring is refused there is none).
    EXPECT_EQ(stats.fault_reads, m.file->uses_io_uring() ? 1u : 0u);
    EXPECT_GE(stats.reads, m.file->uses_io_uring() ? 2u : 1u);  // again by the I/O thread
    EXPECT_EQ(stats.requests, 0u);
    EXPECT_EQ(stats.failures, 0u);
    // The I/O thread's supply evicts down to the limit right after it.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (budget.used() > kLimit && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    EXPECT_LE(budget.used(), kLimit);
  }
  budget.SetLimit(old_limit);
}

TEST(FileFillTest, AFaultInASecondMappingOfTheVmoIsServedAndWoken) {
  UPAGER_REQUIRE_MAPPINGS();
  TestFile file("/dev/shm", kPages, 8);
  Mapped m;
  ASSERT_NO_FATAL_FAILURE(m.Open(file.path(), NoReadAhead()));
  // The second mapping covers the second half; the first is listed first, so a supply
  // installs a page of the second half into the first, not into the faulting one.
  Mapping half;
  ASSERT_EQ(Mapping::Create(m.file->vmo(), kPages / 2 * kPageSize, kPages / 2 * kPageSize, kMapRead,
                            &half),
            Status::kOk);
  const auto* second = reinterpret_cast<const uint8_t*>(half.data());
  for (uint64_t i : Shuffled(kPages / 2, 9)) {
    ASSERT_EQ(std::memcmp(second + i * kPageSize, file.page(kPages / 2 + i), kPageSize), 0);
  }
  for (uint64_t i = 0; i < kPages; ++i) {
    ASSERT_EQ(std::memcmp(m.page(i), file.page(i), kPageSize), 0) << "page " << i;
  }
  const ProviderStats stats = Settled(*m.file, kPages * kPageSize);
  EXPECT_EQ(stats.requests, 0u);
  EXPECT_EQ(stats.bytes_supplied, kPages * kPageSize);
}

TEST(FileFillTest, FillsKeepToTheMemoryBudget) {
  UPAGER_REQUIRE_MAPPINGS();
  constexpr uint64_t kLimit = 16;
  TestFile file("/dev/shm", kPages, 10);
  PageBudget& budget = PageBudget::Default();
  const uint64_t old_limit = budget.limit();
  budget.SetLimit(kLimit);
  {
    Mapped m;
    FileProviderOptions options;
    options.read_ahead.mode = ReadAheadMode::kFixed;  // 16 pages ahead: more than fits
    options.read_ahead.window = 128 * 1024;
    ASSERT_NO_FATAL_FAILURE(m.Open(file.path(), options));
    for (int pass = 0; pass < 2; ++pass) {
      for (uint64_t i = 0; i < kPages; ++i) {
        ASSERT_EQ(std::memcmp(m.page(i), file.page(i), kPageSize), 0) << "page " << i;
        ASSERT_LE(budget.used(), kLimit) << "page " << i;
      }
    }
    EXPECT_EQ(m.file->stats().requests, 0u);
  }
  budget.SetLimit(old_limit);
}

TEST(FileFillTest, RangesBeingReadAreLeftToTheIoThread) {
  internal::RequestQueue queue(1 << 20);
  ASSERT_EQ(queue.StartFlight(8 * kPageSize, 4 * kPageSize), 4 * kPageSize);  // pages 8-11
  const internal::ByteRange all{0, 64 * kPageSize};
  internal::ByteRange r = queue.ClearOfFlights(20 * kPageSize, all);
  EXPECT_EQ(r.offset, 12 * kPageSize);
  EXPECT_EQ(r.length, 52 * kPageSize);
  r = queue.ClearOfFlights(2 * kPageSize, all);
  EXPECT_EQ(r.offset, 0u);
  EXPECT_EQ(r.length, 8 * kPageSize);
  EXPECT_EQ(queue.ClearOfFlights(9 * kPageSize, all).length, 0u);
  queue.EndFlight(8 * kPageSize, 4 * kPageSize);
  r = queue.ClearOfFlights(9 * kPageSize, all);
  EXPECT_EQ(r.offset, 0u);
  EXPECT_EQ(r.length, 64 * kPageSize);
}

}  // namespace
}  // namespace upager

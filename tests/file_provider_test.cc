// FileProvider end to end: contents through Vmo::Read and a Mapping equal the file for
// random ranges, with io_uring and pread, read-ahead off and adaptive; write-back with
// Flush reaches the file and survives the process being killed right after; bad input.
#include "upager/providers/file_provider.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "mapping_util.h"
#include "upager/mapping.h"
#include "upager/pager.h"

namespace upager {
namespace {

// A scratch directory, removed with everything in it.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = ::testing::TempDir() + "upager-file-XXXXXX";
    path_ = mkdtemp(pattern.data());
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::vector<uint8_t> RandomBytes(size_t n, uint32_t seed) {
  std::vector<uint8_t> bytes(n);
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t v = rng();
    std::memcpy(bytes.data() + i, &v, std::min<size_t>(8, n - i));
  }
  return bytes;
}

void WriteFile(const std::string& path, const std::vector<uint8_t>& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
  ASSERT_EQ(std::fclose(f), 0);
}

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::vector<uint8_t> bytes;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return bytes;
  uint8_t buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) bytes.insert(bytes.end(), buf, buf + n);
  std::fclose(f);
  return bytes;
}

FileProviderOptions Options(FileIo io, ReadAheadMode mode) {
  FileProviderOptions options;
  options.io = io;
  options.read_ahead.mode = mode;
  options.read_ahead.window = 64 * 1024;
  options.read_ahead.max_window = 1024 * 1024;
  return options;
}

class FileProviderTest : public ::testing::TestWithParam<std::tuple<FileIo, ReadAheadMode>> {
 protected:
  void SetUp() override { ASSERT_EQ(loop_.Start(), Status::kOk); }
  FileProviderOptions options() const {
    return Options(std::get<0>(GetParam()), std::get<1>(GetParam()));
  }
  ScratchDir dir_;
  PagerLoop loop_{2};
};

TEST_P(FileProviderTest, RandomRangesMatchTheFile) {
  const size_t size = 3 * 1024 * 1024 + 1234;  // not a page multiple
  const std::vector<uint8_t> data = RandomBytes(size, 1);
  WriteFile(dir_.File("data"), data);
  std::unique_ptr<FileProvider> file;
  std::string why;
  ASSERT_EQ(FileProvider::Create(&loop_, dir_.File("data"), options(), &file, &why), Status::kOk)
      << why;
  if (std::get<0>(GetParam()) == FileIo::kIoUring) {
    EXPECT_TRUE(file->uses_io_uring());
  }
  EXPECT_EQ(file->content_size(), size);
  EXPECT_EQ(file->vmo_size(), PageRoundUp(size));

  std::mt19937 rng(2);
  std::vector<uint8_t> got;
  for (int i = 0; i < 200; ++i) {
    const uint64_t offset = rng() % size;
    const uint64_t length = 1 + rng() % std::min<uint64_t>(size - offset, 70000);
    got.assign(length, 0xEE);
    ASSERT_EQ(file->vmo().Read(got.data(), offset, length), Status::kOk);
    ASSERT_EQ(std::memcmp(got.data(), data.data() + offset, length), 0)
        << "offset " << offset << " length " << length;
  }
  // The last page's tail past the file reads as zeros.
  std::vector<uint8_t> tail(file->vmo_size() - size, 0xEE);
  ASSERT_EQ(file->vmo().Read(tail.data(), size, tail.size()), Status::kOk);
  EXPECT_EQ(tail, std::vector<uint8_t>(tail.size(), 0));
}

TEST_P(FileProviderTest, MappedPagesMatchTheFile) {
  UPAGER_REQUIRE_MAPPINGS();
  const size_t size = 4 * 1024 * 1024;
  const std::vector<uint8_t> data = RandomBytes(size, 3);
  WriteFile(dir_.File("data"), data);
  std::unique_ptr<FileProvider> file;
  ASSERT_EQ(FileProvider::Create(&loop_, dir_.File("data"), options(), &file), Status::kOk);
  Mapping map;
  ASSERT_EQ(Mapping::Create(file->vmo(), 0, file->vmo_size(), kMapRead, &map), Status::kOk);
  // Four threads, each reading every page of its own shuffled quarter plus random others.
  std::vector<std::thread> readers;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      std::mt19937 rng(10 + t);
      const size_t pages = size / kPageSize;
      std::vector<size_t> order;
      for (size_t p = t * pages / 4; p < (t + 1) * pages / 4; ++p) order.push_back(p);
      std::shuffle(order.begin(), order.end(), rng);
      for (int i = 0; i < 64; ++i) order.push_back(rng() % pages);
      for (size_t p : order) {
        const uint8_t* page = reinterpret_cast<const uint8_t*>(map.data()) + p * kPageSize;
        if (std::memcmp(page, data.data() + p * kPageSize, kPageSize) != 0) ++mismatches;
      }
    });
  }
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

std::string ParamName(const ::testing::TestParamInfo<std::tuple<FileIo, ReadAheadMode>>& p) {
  return std::string(std::get<0>(p.param) == FileIo::kIoUring ? "IoUring" : "Pread") +
         (std::get<1>(p.param) == ReadAheadMode::kOff ? "NoReadAhead" : "Adaptive");
}

INSTANTIATE_TEST_SUITE_P(IoAndReadAhead, FileProviderTest,
                         ::testing::Combine(::testing::Values(FileIo::kIoUring, FileIo::kPread),
                                            ::testing::Values(ReadAheadMode::kOff,
                                                              ReadAheadMode::kAdaptive)),
                         ParamName);

class FileProviderMiscTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(loop_.Start(), Status::kOk); }
  ScratchDir dir_;
  PagerLoop loop_{1};
};

// Page-by-page sequential reads: without read-ahead every page is a read of the file;
// adaptive read-ahead doubles its window on each hit, so a few dozen reads cover 8 MiB.
TEST_F(FileProviderMiscTest, AdaptiveReadAheadMakesSequentialScansCheap) {
  const size_t size = 8 * 1024 * 1024;
  const std::vector<uint8_t> data = RandomBytes(size, 4);
  WriteFile(dir_.File("data"), data);
  uint64_t reads[2] = {0, 0};
  const ReadAheadMode modes[2] = {ReadAheadMode::kOff, ReadAheadMode::kAdaptive};
  for (int m = 0; m < 2; ++m) {
    std::unique_ptr<FileProvider> file;
    ASSERT_EQ(
        FileProvider::Create(&loop_, dir_.File("data"), Options(FileIo::kAuto, modes[m]), &file),
        Status::kOk);
    std::vector<uint8_t> page(kPageSize);
    for (uint64_t offset = 0; offset < size; offset += kPageSize) {
      ASSERT_EQ(file->vmo().Read(page.data(), offset, kPageSize), Status::kOk);
      ASSERT_EQ(std::memcmp(page.data(), data.data() + offset, kPageSize), 0);
    }
    // Counted before the supply that woke the reader, so final here.
    reads[m] = file->stats().reads;
    EXPECT_EQ(file->stats().bytes_read, size) << "a page was read twice";
  }
  EXPECT_EQ(reads[0], size / kPageSize);
  // Windows of 64 KiB doubling to 1 MiB, read in pieces of at most 256 KiB: 8 MiB takes
  // about 45 reads.
  EXPECT_LT(reads[1], 60u);
}

// A scan that runs backward, as glibc's memcpy out of a mapping does on some CPUs: the
// adaptive policy follows it down as it follows a forward one up. Through a mapping (each
// fault asks for one page) and through Vmo::Read, page by page from the end.
TEST_F(FileProviderMiscTest, AdaptiveReadAheadFollowsABackwardScan) {
  UPAGER_REQUIRE_MAPPINGS();
  const size_t size = 8 * 1024 * 1024;
  const std::vector<uint8_t> data = RandomBytes(size, 14);
  WriteFile(dir_.File("data"), data);
  for (bool mapped : {true, false}) {
    SCOPED_TRACE(mapped ? "mapped" : "Vmo::Read");
    uint64_t reads[2] = {0, 0};
    const ReadAheadMode modes[2] = {ReadAheadMode::kOff, ReadAheadMode::kAdaptive};
    for (int m = 0; m < 2; ++m) {
      std::unique_ptr<FileProvider> file;
      ASSERT_EQ(
          FileProvider::Create(&loop_, dir_.File("data"), Options(FileIo::kAuto, modes[m]), &file),
          Status::kOk);
      Mapping map;
      if (mapped) {
        ASSERT_EQ(Mapping::Create(file->vmo(), 0, size, kMapRead, &map), Status::kOk);
      }
      std::vector<uint8_t> page(kPageSize);
      for (uint64_t offset = size; offset > 0;) {
        offset -= kPageSize;
        if (mapped) {
          std::memcpy(page.data(), map.data() + offset, kPageSize);
        } else {
          ASSERT_EQ(file->vmo().Read(page.data(), offset, kPageSize), Status::kOk);
        }
        ASSERT_EQ(std::memcmp(page.data(), data.data() + offset, kPageSize), 0) << offset;
      }
      reads[m] = file->stats().reads;
      EXPECT_EQ(file->stats().bytes_read, size) << "a page was read twice";
    }
    EXPECT_EQ(reads[0], size / kPageSize);
    // As forward: windows of 64 KiB doubling to 1 MiB, read in pieces of at most 256 KiB.
    EXPECT_LT(reads[1], 60u);
  }
}

// Random single pages get no read-ahead (and no read-around) from the adaptive policy
// under AccessPattern::kRandom.
TEST_F(FileProviderMiscTest, AdaptiveReadAheadAddsNothingToRandomReads) {
  const size_t size = 8 * 1024 * 1024;
  WriteFile(dir_.File("data"), RandomBytes(size, 5));
  std::unique_ptr<FileProvider> file;
  ASSERT_EQ(FileProvider::Create(&loop_, dir_.File("data"),
                                 Options(FileIo::kAuto, ReadAheadMode::kAdaptive), &file),
            Status::kOk);
  file->SetAccessPattern(AccessPattern::kRandom);
  EXPECT_EQ(file->access_pattern(), AccessPattern::kRandom);
  std::vector<size_t> pages(size / kPageSize);
  for (size_t i = 0; i < pages.size(); ++i) pages[i] = i;
  std::shuffle(pages.begin(), pages.end(), std::mt19937(6));
  pages.resize(100);
  // Keep them apart, so that no two are adjacent by chance.
  std::sort(pages.begin(), pages.end());
  pages.erase(std::unique(pages.begin(), pages.end(), [](size_t a, size_t b) { return b - a < 2; }),
              pages.end());
  std::shuffle(pages.begin(), pages.end(), std::mt19937(7));
  uint8_t byte;
  for (size_t p : pages) {
    if (p == 0) continue;  // offset 0 starts a stream by design
    ASSERT_EQ(file->vmo().Read(&byte, p * kPageSize, 1), Status::kOk);
  }
  EXPECT_LE(file->stats().bytes_read, (pages.size() + 1) * kPageSize);
}

TEST_F(FileProviderMiscTest, FlushWritesDirtyPagesBack) {
  const size_t size = 1024 * 1024 + 100;
  std::vector<uint8_t> data = RandomBytes(size, 8);
  WriteFile(dir_.File("data"), data);
  FileProviderOptions options;
  options.writable = true;
  std::unique_ptr<FileProvider> file;
  ASSERT_EQ(FileProvider::Create(&loop_, dir_.File("data"), options, &file), Status::kOk);
  const char hello[] = "hello, pager";
  ASSERT_EQ(file->vmo().Write(hello, 5000, sizeof(hello)), Status::kOk);
  std::memcpy(data.data() + 5000, hello, sizeof(hello));
  // A write into the last page: the part inside the file goes back, the file stays as long.
  const uint8_t tail[200] = {1, 2, 3, 4, 5};
  ASSERT_EQ(file->vmo().Write(tail, size - 50, sizeof(tail)), Status::kOk);
  std::memcpy(data.data() + size - 50, tail, 50);
  EXPECT_NE(ReadFile(dir_.File("data")), data);  // nothing written back yet
  ASSERT_EQ(file->Flush(), Status::kOk);
  EXPECT_EQ(ReadFile(dir_.File("data")), data);

  size_t actual = 1;
  size_t avail = 1;
  VmoDirtyRange ranges[4];
  ASSERT_EQ(loop_.pager().QueryDirtyRanges(file->vmo(), 0, file->vmo_size(), ranges, sizeof(ranges),
                                           &actual, &avail),
            Status::kOk);
  EXPECT_EQ(actual, 0u) << "pages still dirty after Flush";
  EXPECT_EQ(file->Flush(), Status::kOk);  // nothing to do
}

TEST_F(FileProviderMiscTest, FlushWritesMappedStoresBack) {
  UPAGER_REQUIRE_MAPPINGS();
  const size_t size = 512 * 1024;
  std::vector<uint8_t> data = RandomBytes(size, 9);
  WriteFile(dir_.File("data"), data);
  FileProviderOptions options;
  options.writable = true;
  std::unique_ptr<FileProvider> file;
  ASSERT_EQ(FileProvider::Create(&loop_, dir_.File("data"), options, &file), Status::kOk);
  Mapping map;
  ASSERT_EQ(Mapping::Create(file->vmo(), 0, file->vmo_size(), kMapRead | kMapWrite, &map),
            Status::kOk);
  std::mt19937 rng(10);
  for (int i = 0; i < 100; ++i) {
    const size_t at = rng() % size;
    const uint8_t v = static_cast<uint8_t>(rng());
    reinterpret_cast<uint8_t*>(map.data())[at] = v;
    data[at] = v;
  }
  ASSERT_EQ(file->Flush(), Status::kOk);
  EXPECT_EQ(ReadFile(dir_.File("data")), data);
  // Stores after a Flush are seen by the next one.
  reinterpret_cast<uint8_t*>(map.data())[7] = 0x5A;
  data[7] = 0x5A;
  ASSERT_EQ(file->Flush(), Status::kOk);
  EXPECT_EQ(ReadFile(dir_.File("data")), data);
}

// The child half of FlushSurvivesAKilledProcess, run in a fresh process by that test.
// Disabled: only meaningful as that child.
TEST(FileProviderChild, DISABLED_WriteFlushAndDie) {
  const char* path = std::getenv("UPAGER_TEST_FLUSH_CHILD");
  ASSERT_NE(path, nullptr) << "only run as the child of FlushSurvivesAKilledProcess";
  PagerLoop loop(1);
  ASSERT_EQ(loop.Start(), Status::kOk);
  FileProviderOptions options;
  options.writable = true;
  std::unique_ptr<FileProvider> file;
  ASSERT_EQ(FileProvider::Create(&loop, path, options, &file), Status::kOk);
  const char text[] = "written before the crash";
  ASSERT_EQ(file->vmo().Write(text, 8192, sizeof(text)), Status::kOk);
  ASSERT_EQ(file->Flush(), Status::kOk);
  raise(SIGKILL);  // no destructor, no further flush
}

TEST_F(FileProviderMiscTest, FlushSurvivesAKilledProcess) {
  std::vector<uint8_t> data = RandomBytes(64 * 1024, 11);
  WriteFile(dir_.File("data"), data);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setenv("UPAGER_TEST_FLUSH_CHILD", dir_.File("data").c_str(), 1);
    execl("/proc/self/exe", "file_provider_test",
          "--gtest_filter=FileProviderChild.DISABLED_WriteFlushAndDie",
          "--gtest_also_run_disabled_tests", static_cast<char*>(nullptr));
    _exit(127);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) << "child status " << wstatus;
  const char text[] = "written before the crash";
  std::memcpy(data.data() + 8192, text, sizeof(text));
  EXPECT_EQ(ReadFile(dir_.File("data")), data);
}

TEST_F(FileProviderMiscTest, FlushOfAReadOnlyProviderIsBadState) {
  WriteFile(dir_.File("data"), RandomBytes(4096, 12));
  std::unique_ptr<FileProvider> file;
  ASSERT_EQ(FileProvider::Create(&loop_, dir_.File("data"), {}, &file), Status::kOk);
  EXPECT_EQ(file->Flush(), Status::kBadState);
  // And a read-only VMO still takes writes in memory (they are just never written back).
  EXPECT_EQ(file->vmo().Write("x", 0, 1), Status::kOk);
}

TEST_F(FileProviderMiscTest, BadInput) {
  std::unique_ptr<FileProvider> file;
  std::string why;
  EXPECT_EQ(FileProvider::Create(&loop_, dir_.File("missing"), {}, &file, &why), Status::kNotFound);
  EXPECT_NE(why.find("missing"), std::string::npos) << why;
  mkdir(dir_.File("dir").c_str(), 0700);
  EXPECT_EQ(FileProvider::Create(&loop_, dir_.File("dir"), {}, &file), Status::kWrongType);
  WriteFile(dir_.File("data"), RandomBytes(4096, 13));
  FileProviderOptions options;
  options.max_io = 1000;
  EXPECT_EQ(FileProvider::Create(&loop_, dir_.File("data"), options, &file), Status::kInvalidArgs);
  options = {};
  options.read_ahead.window = 5000;
  EXPECT_EQ(FileProvider::Create(&loop_, dir_.File("data"), options, &file), Status::kInvalidArgs);
  options = {};
  options.queue_depth = 0;
  EXPECT_EQ(FileProvider::Create(&loop_, dir_.File("data"), options, &file), Status::kInvalidArgs);
  EXPECT_EQ(FileProvider::Create(nullptr, dir_.File("data"), {}, &file), Status::kInvalidArgs);
  PagerLoop not_started(1);
  EXPECT_EQ(FileProvider::Create(&not_started, dir_.File("data"), {}, &file), Status::kBadState);
  EXPECT_EQ(file, nullptr);
}

TEST_F(FileProviderMiscTest, EmptyFile) {
  WriteFile(dir_.File("empty"), {});
  std::unique_ptr<FileProvider> file;
  ASSERT_EQ(FileProvider::Create(&loop_, dir_.File("empty"), {}, &file), Status::kOk);
  EXPECT_EQ(file->content_size(), 0u);
  EXPECT_EQ(file->vmo_size(), 0u);
}

// A file that shrinks under the provider: pages past its new end read as zeros.
TEST_F(FileProviderMiscTest, FileShrunkAfterOpenReadsZeros) {
  const std::vector<uint8_t> data = RandomBytes(64 * 1024, 14);
  WriteFile(dir_.File("data"), data);
  std::unique_ptr<FileProvider> file;
  ASSERT_EQ(FileProvider::Create(&loop_, dir_.File("data"),
                                 Options(FileIo::kAuto, ReadAheadMode::kOff), &file),
            Status::kOk);
  ASSERT_EQ(truncate(dir_.File("data").c_str(), 10000), 0);
  std::vector<uint8_t> got(kPageSize * 2);
  ASSERT_EQ(file->vmo().Read(got.data(), 8192, got.size()), Status::kOk);
  EXPECT_EQ(std::memcmp(got.data(), data.data() + 8192, 10000 - 8192), 0);
  for (size_t i = 10000 - 8192; i < got.size(); ++i) ASSERT_EQ(got[i], 0) << i;
}

// The provider goes away while a duplicate of its VMO lives on: the VMO is detached, so
// clean pages are dropped and reads fail with kBadState; dirty pages stay; nothing hangs.
TEST_F(FileProviderMiscTest, VmoOutlivesTheProvider) {
  const std::vector<uint8_t> data = RandomBytes(256 * 1024, 15);
  WriteFile(dir_.File("data"), data);
  std::unique_ptr<FileProvider> file;
  ASSERT_EQ(FileProvider::Create(&loop_, dir_.File("data"),
                                 Options(FileIo::kAuto, ReadAheadMode::kOff), &file),
            Status::kOk);
  Vmo dup;
  ASSERT_EQ(file->vmo().Duplicate(&dup), Status::kOk);
  uint8_t byte = 0;
  ASSERT_EQ(dup.Read(&byte, 0, 1), Status::kOk);
  ASSERT_EQ(dup.Write("d", kPageSize, 1), Status::kOk);  // a dirty page
  file.reset();
  EXPECT_EQ(dup.Read(&byte, 0, 1), Status::kBadState);
  EXPECT_EQ(dup.Read(&byte, 128 * 1024, 1), Status::kBadState);
  EXPECT_EQ(dup.Read(&byte, kPageSize, 1), Status::kOk);
  EXPECT_EQ(byte, 'd');
}

// The provider goes away while a mapping of its VMO lives on: that mapping is a handle, so
// the VMO is detached as with a duplicate: a clean page it had shows the detach (SIGBUS),
// a page never supplied too.
TEST_F(FileProviderMiscTest, MappingOutlivesTheProvider) {
  UPAGER_REQUIRE_MAPPINGS();
  const std::vector<uint8_t> data = RandomBytes(256 * 1024, 16);
  WriteFile(dir_.File("data"), data);
  std::unique_ptr<FileProvider> file;
  ASSERT_EQ(FileProvider::Create(&loop_, dir_.File("data"),
                                 Options(FileIo::kAuto, ReadAheadMode::kOff), &file),
            Status::kOk);
  Mapping map;
  ASSERT_EQ(Mapping::Create(file->vmo(), 0, file->vmo_size(), kMapRead, &map), Status::kOk);
  uint64_t word = 0;
  ASSERT_TRUE(testing::ProbeLoad(map.data(), &word).ok);
  EXPECT_EQ(std::memcmp(&word, data.data(), sizeof(word)), 0);
  file.reset();
  EXPECT_EQ(testing::ProbeLoad(map.data(), &word).signo, SIGBUS);
  EXPECT_EQ(testing::ProbeLoad(map.data() + 128 * 1024, &word).signo, SIGBUS);
}

// The open descriptors of /proc/self/fd.
size_t OpenDescriptors() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++n;
  }
  return n;
}

// A provider holding its VMO's only handle releases the VMO's storage off its own thread
// (storage_reaper.h): once WaitForFreedVmoMemory returns, every descriptor the provider opened
// (the file, io_uring's, the VMO's memfd) is closed again, read as much as you like.
TEST_F(FileProviderMiscTest, DestroyedProviderClosesEverything) {
  const std::vector<uint8_t> data = RandomBytes(4 * 1024 * 1024, 17);
  WriteFile(dir_.File("data"), data);
  const size_t before = OpenDescriptors();
  for (int round = 0; round < 3; ++round) {
    std::unique_ptr<FileProvider> file;
    ASSERT_EQ(FileProvider::Create(&loop_, dir_.File("data"),
                                   Options(FileIo::kAuto, ReadAheadMode::kOff), &file),
              Status::kOk);
    std::vector<uint8_t> got(data.size());
    ASSERT_EQ(file->vmo().Read(got.data(), 0, got.size()), Status::kOk);
    ASSERT_EQ(got, data);
    file.reset();
    WaitForFreedVmoMemory();
    EXPECT_EQ(OpenDescriptors(), before) << "round " << round;
  }
}

// Many threads reading overlapping random ranges at once.
TEST_F(FileProviderMiscTest, ConcurrentReaders) {
  const size_t size = 2 * 1024 * 1024;
  const std::vector<uint8_t> data = RandomBytes(size, 16);
  WriteFile(dir_.File("data"), data);
  std::unique_ptr<FileProvider> file;
  ASSERT_EQ(FileProvider::Create(&loop_, dir_.File("data"), {}, &file), Status::kOk);
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(20 + t);
      std::vector<uint8_t> got;
      for (int i = 0; i < 100; ++i) {
        const uint64_t offset = rng() % size;
        const uint64_t length = 1 + rng() % std::min<uint64_t>(size - offset, 50000);
        got.resize(length);
        if (file->vmo().Read(got.data(), offset, length) != Status::kOk ||
            std::memcmp(got.data(), data.data() + offset, length) != 0) {
          ++bad;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace upager

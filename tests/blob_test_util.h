// What the blob tests share: content generators, a scratch directory and the BlobTest
// fixture (a started PagerLoop, packing and opening blobs).
#ifndef UPAGER_TESTS_BLOB_TEST_UTIL_H_
#define UPAGER_TESTS_BLOB_TEST_UTIL_H_

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "providers/blob_layout.h"
#include "upager/pager_loop.h"
#include "upager/providers/blob_format.h"
#include "upager/providers/blob_provider.h"

namespace upager::testing {

using Bytes = std::vector<uint8_t>;

// Content that is partly incompressible (random bytes) and partly very compressible (runs
// of one byte, a repeated phrase), in segments of random length.
inline Bytes MakeContent(size_t size, uint32_t seed) {
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

inline void WriteFile(const std::string& path, const Bytes& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(f.good()) << path;
}

inline Bytes ReadFileBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
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

inline BlobProviderOptions NoReadAhead() {
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
inline void ExpectRange(const Vmo& vmo, const Bytes& content, uint64_t offset, uint64_t len) {
  Bytes got(len, 0xcc);
  ASSERT_EQ(vmo.Read(got.data(), offset, len), Status::kOk) << "at " << offset << " +" << len;
  Bytes want(len, 0);
  if (offset < content.size()) {
    const uint64_t n = std::min<uint64_t>(len, content.size() - offset);
    std::memcpy(want.data(), content.data() + offset, n);
  }
  ASSERT_TRUE(got == want) << "content differs in [" << offset << ", +" << len << ")";
}

}  // namespace upager::testing

#endif  // UPAGER_TESTS_BLOB_TEST_UTIL_H_

// HttpProvider against a local nginx (tools/common/nginx_server.h): content read through Vmo::Read
// and mappings matches the served file, read-ahead saves fetches, creation errors map to
// the documented statuses, a server that goes away fails reads with kIo after the retries
// without harming the provider, which works again once the server is back, and an object
// that changes fails reads with kIoDataIntegrity.
#include "upager/providers/http_provider.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/nginx_server.h"
#include "mapping_util.h"
#include "skip.h"
#include "test_util.h"
#include "upager/mapping.h"
#include "upager/pager_loop.h"

namespace upager::testing {
namespace {

using tools::NginxServer;

std::string RandomBytes(size_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string data(size, '\0');
  for (size_t i = 0; i < size; i += 8) {
    const uint64_t word = rng();
    std::memcpy(&data[i], &word, std::min<size_t>(8, size - i));
  }
  return data;
}

// Reads [offset, offset + length) of `vmo` and compares it with `content` (zeros past it).
::testing::AssertionResult RangeMatches(const Vmo& vmo, const std::string& content, uint64_t offset,
                                        uint64_t length) {
  std::string got(length, '\0');
  const Status s = vmo.Read(got.data(), offset, length);
  if (s != Status::kOk) {
    return ::testing::AssertionFailure() << "Read(" << offset << ", " << length << "): " << s;
  }
  for (uint64_t i = 0; i < length; ++i) {
    const uint64_t at = offset + i;
    const char want = at < content.size() ? content[at] : '\0';
    if (got[i] != want) {
      return ::testing::AssertionFailure() << "byte " << at << " differs";
    }
  }
  return ::testing::AssertionSuccess();
}

// A started nginx and a started PagerLoop for each test; skipped without nginx.
class HttpProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!NginxServer::Available(&why)) UPAGER_SKIP_OR_FAIL(why);
    server_ = std::make_unique<NginxServer>();
    ASSERT_TRUE(server_->Start(&why)) << why;
    ASSERT_EQ(loop_.Start(), Status::kOk);
  }

  // Writes a file of random bytes to the server and returns its content.
  std::string Serve(const std::string& name, size_t size, uint64_t seed = 1) {
    std::string data = RandomBytes(size, seed);
    EXPECT_TRUE(server_->WriteFile(name, data));
    return data;
  }

  std::unique_ptr<HttpProvider> Open(const std::string& name, const HttpProviderOptions& options) {
    std::unique_ptr<HttpProvider> provider;
    std::string why;
    const Status s = HttpProvider::Create(&loop_, server_->Url(name), options, &provider, &why);
    EXPECT_EQ(s, Status::kOk) << why;
    return provider;
  }

  std::unique_ptr<NginxServer> server_;
  PagerLoop loop_{2};
};

// Random ranges read with Vmo::Read are the file's bytes, for a size that is a page
// multiple and one that is not (whose tail in the last page reads as zeros).
TEST_F(HttpProviderTest, RandomRangesMatchFile) {
  for (const size_t size : {size_t{4} << 20, (size_t{3} << 20) + 12345}) {
    SCOPED_TRACE(size);
    const std::string name = "data-" + std::to_string(size) + ".bin";
    const std::string content = Serve(name, size, size);
    auto provider = Open(name, {});
    ASSERT_NE(provider, nullptr);
    EXPECT_EQ(provider->content_size(), size);
    EXPECT_EQ(provider->vmo_size(), PageRoundUp(size));

    std::mt19937_64 rng(size);
    for (int i = 0; i < 150; ++i) {
      const uint64_t offset = rng() % provider->vmo_size();
      const uint64_t length =
          1 + rng() % std::min<uint64_t>(300 * 1024, provider->vmo_size() - offset);
      ASSERT_TRUE(RangeMatches(provider->vmo(), content, offset, length));
    }
    // The tail: the last bytes of content and the zeros after them.
    const uint64_t tail = provider->vmo_size() - 100 - (provider->vmo_size() - size);
    ASSERT_TRUE(RangeMatches(provider->vmo(), content, tail, provider->vmo_size() - tail));
    const ProviderStats stats = provider->stats();
    EXPECT_GT(stats.requests, 0u);
    EXPECT_GT(stats.reads, 0u);
    EXPECT_GT(stats.bytes_read, 0u);
    // Every fetch is supplied whole (bytes_supplied moves just after the supply that woke
    // the reader, hence the wait). Read-ahead may fetch pages again that are present
    // already: their supply is skipped, so neither counter is bounded by the file's size.
    EXPECT_TRUE(
        PollUntil([&] { return provider->stats().bytes_supplied >= provider->stats().bytes_read; },
                  std::chrono::seconds(2)));
    EXPECT_EQ(stats.failures, 0u);
    EXPECT_EQ(stats.retries, 0u);
  }
}

TEST_F(HttpProviderTest, MappedPagesMatchFile) {
  UPAGER_REQUIRE_MAPPINGS();
  const size_t size = (size_t{2} << 20) + 777;
  const std::string content = Serve("mapped.bin", size, 7);
  HttpProviderOptions options;
  options.read_ahead.mode = ReadAheadMode::kOff;  // every page a fault of its own
  auto provider = Open("mapped.bin", options);
  ASSERT_NE(provider, nullptr);
  Mapping map;
  ASSERT_EQ(Mapping::Create(provider->vmo(), 0, provider->vmo_size(), kMapRead, &map), Status::kOk);
  const uint64_t pages = provider->vmo_size() / kPageSize;
  std::mt19937_64 rng(3);
  std::string expected(kPageSize, '\0');
  for (int i = 0; i < 200; ++i) {
    const uint64_t page = rng() % pages;
    const std::byte* at = map.data() + page * kPageSize;
    uint64_t word = 0;
    const Probe probe = ProbeLoad(at, &word);
    ASSERT_TRUE(probe.ok) << "page " << page << ": signal " << probe.signo;
    std::fill(expected.begin(), expected.end(), '\0');
    const uint64_t begin = page * kPageSize;
    const uint64_t n = std::min<uint64_t>(kPageSize, content.size() - begin);
    std::memcpy(expected.data(), content.data() + begin, n);
    ASSERT_EQ(std::memcmp(at, expected.data(), kPageSize), 0) << "page " << page;
  }
}

// A page-by-page sequential scan: adaptive read-ahead needs far fewer fetches than none.
TEST_F(HttpProviderTest, AdaptiveReadAheadFetchesLess) {
  const size_t size = size_t{4} << 20;
  const std::string content = Serve("scan.bin", size, 11);
  uint64_t reads[2] = {};
  const ReadAheadMode modes[2] = {ReadAheadMode::kOff, ReadAheadMode::kAdaptive};
  for (int m = 0; m < 2; ++m) {
    SCOPED_TRACE(ReadAheadModeName(modes[m]));
    HttpProviderOptions options;
    options.read_ahead.mode = modes[m];
    auto provider = Open("scan.bin", options);
    ASSERT_NE(provider, nullptr);
    for (uint64_t offset = 0; offset < size; offset += kPageSize) {
      ASSERT_TRUE(RangeMatches(provider->vmo(), content, offset, kPageSize));
    }
    reads[m] = provider->stats().reads;
    // The counter moves after the supply that woke the reader: give the last one a moment.
    EXPECT_TRUE(PollUntil([&] { return provider->stats().bytes_supplied >= size; },
                          std::chrono::seconds(2)))
        << provider->stats().bytes_supplied;
    // No page fetched twice, not even one whose request came right after its range's
    // EndFlight and before its supply (fetches skip pages already present).
    EXPECT_EQ(provider->stats().bytes_read, size);
    EXPECT_EQ(provider->stats().bytes_supplied, size);
  }
  EXPECT_EQ(reads[0], size / kPageSize);
  EXPECT_LT(reads[1] * 20, reads[0]) << "off: " << reads[0] << " adaptive: " << reads[1];
}

// SetAccessPattern reaches the fetcher: kRandom fetches the page alone, kNormal reads
// around it (128 KiB centred on it), kSequential fetches the largest window after it.
TEST_F(HttpProviderTest, AccessPatterns) {
  const size_t size = size_t{8} << 20;
  const std::string content = Serve("pattern.bin", size, 12);
  auto provider = Open("pattern.bin", {});
  ASSERT_NE(provider, nullptr);
  const auto read_reaches = [&](uint64_t bytes) {
    EXPECT_TRUE(PollUntil([&] { return provider->stats().bytes_supplied >= bytes; },
                          std::chrono::seconds(10)));
    EXPECT_EQ(provider->stats().bytes_read, bytes);
    EXPECT_EQ(provider->stats().bytes_supplied, bytes);
  };
  provider->SetAccessPattern(AccessPattern::kRandom);
  ASSERT_TRUE(RangeMatches(provider->vmo(), content, 100 * kPageSize, 8));
  read_reaches(kPageSize);
  provider->SetAccessPattern(AccessPattern::kNormal);
  ASSERT_TRUE(RangeMatches(provider->vmo(), content, 500 * kPageSize, 8));
  read_reaches(33 * kPageSize);  // [484, 516)
  ASSERT_TRUE(RangeMatches(provider->vmo(), content, 490 * kPageSize, kPageSize));
  EXPECT_EQ(provider->stats().requests, 2u);
  provider->SetAccessPattern(AccessPattern::kSequential);
  ASSERT_TRUE(RangeMatches(provider->vmo(), content, 1000 * kPageSize, 8));
  read_reaches((33 + 1 + 1024) * kPageSize);  // [1000, 2025): 4 MiB after the page
}

TEST_F(HttpProviderTest, EmptyObject) {
  ASSERT_TRUE(server_->WriteFile("empty.bin", ""));
  auto provider = Open("empty.bin", {});
  ASSERT_NE(provider, nullptr);
  EXPECT_EQ(provider->content_size(), 0u);
  EXPECT_EQ(provider->vmo_size(), 0u);
}

TEST_F(HttpProviderTest, CreationErrors) {
  Serve("forbidden/secret.bin", 8192);
  Serve("noranges/whole.bin", 8192);
  struct Case {
    const char* path;
    Status want;
  } cases[] = {
      {"missing.bin", Status::kNotFound},
      {"forbidden/secret.bin", Status::kAccessDenied},
      {"noranges/whole.bin", Status::kNotSupported},
      {"error503", Status::kIo},
  };
  for (const Case& c : cases) {
    std::unique_ptr<HttpProvider> provider;
    std::string why;
    EXPECT_EQ(HttpProvider::Create(&loop_, server_->Url(c.path), {}, &provider, &why), c.want)
        << c.path;
    EXPECT_EQ(provider, nullptr);
    EXPECT_FALSE(why.empty()) << c.path;
  }
}

TEST_F(HttpProviderTest, BadUrlsAndOptions) {
  for (const char* url : {"ftp://x", "not a url", "", "http://", "file:///etc/passwd"}) {
    std::unique_ptr<HttpProvider> provider;
    std::string why;
    EXPECT_EQ(HttpProvider::Create(&loop_, url, {}, &provider, &why), Status::kInvalidArgs) << url;
    EXPECT_FALSE(why.empty()) << url;
  }
  Serve("ok.bin", 4096);
  HttpProviderOptions options;
  options.max_request = 1000;  // not a page multiple
  std::unique_ptr<HttpProvider> provider;
  EXPECT_EQ(HttpProvider::Create(&loop_, server_->Url("ok.bin"), options, &provider),
            Status::kInvalidArgs);
  options = {};
  options.max_in_flight = 0;
  EXPECT_EQ(HttpProvider::Create(&loop_, server_->Url("ok.bin"), options, &provider),
            Status::kInvalidArgs);
}

TEST(HttpProviderNoServer, NothingListeningIsUnavailable) {
  PagerLoop loop(1);
  ASSERT_EQ(loop.Start(), Status::kOk);
  uint16_t port = 0;
  std::string why;
  ASSERT_TRUE(NginxServer::FreePort(&port, &why)) << why;
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<HttpProvider> provider;
  EXPECT_EQ(HttpProvider::Create(&loop, "http://127.0.0.1:" + std::to_string(port) + "/x", {},
                                 &provider, &why),
            Status::kUnavailable);
  EXPECT_FALSE(why.empty());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

// The server goes away: reads of absent ranges fail with kIo once the retries are spent;
// pages already present stay readable; when the server is back, reads succeed again.
TEST_F(HttpProviderTest, ServerStoppedMidRun) {
  const size_t size = size_t{1} << 20;
  const std::string content = Serve("flaky.bin", size, 5);
  HttpProviderOptions options;
  options.read_ahead.mode = ReadAheadMode::kOff;  // absent stays absent
  options.retries = 2;
  options.backoff_ms = 10;
  options.connect_timeout_ms = 500;
  options.transfer_timeout_ms = 2000;
  auto provider = Open("flaky.bin", options);
  ASSERT_NE(provider, nullptr);
  ASSERT_TRUE(RangeMatches(provider->vmo(), content, 0, 64 * 1024));
  ASSERT_TRUE(RangeMatches(provider->vmo(), content, 512 * 1024, 8192));

  server_->Stop();
  std::string buffer(8192, '\0');
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(provider->vmo().Read(buffer.data(), 256 * 1024, buffer.size()), Status::kIo);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ProviderStats stats = provider->stats();
  EXPECT_GE(stats.retries, 2u);
  EXPECT_GE(stats.failures, 1u);
  // Present pages are still there.
  ASSERT_TRUE(RangeMatches(provider->vmo(), content, 0, 64 * 1024));

  std::string why;
  ASSERT_TRUE(server_->Start(&why)) << why;  // same port
  ASSERT_TRUE(RangeMatches(provider->vmo(), content, 768 * 1024, 16384));
  // The range that failed is not poisoned: asking again fetches it.
  ASSERT_TRUE(RangeMatches(provider->vmo(), content, 256 * 1024, 8192));
}

// The object changes under the provider: it shrinks, or it is replaced by another of the
// same size (nginx's ETag is made of the size and the modification time, set here a minute
// later). nginx refuses the If-Match of the next range (412): it fails with
// kIoDataIntegrity at once, no retry (the long backoff would show), and so does every range
// after it. Pages read before stay.
TEST_F(HttpProviderTest, ChangedObjectFailsWithDataIntegrity) {
  for (const bool same_size : {false, true}) {
    SCOPED_TRACE(same_size ? "same size" : "shrunk");
    const std::string name = same_size ? "replaced.bin" : "shrinks.bin";
    const std::string content = Serve(name, size_t{1} << 20, 17);
    HttpProviderOptions options;
    options.read_ahead.mode = ReadAheadMode::kOff;
    options.backoff_ms = 2000;
    auto provider = Open(name, options);
    ASSERT_NE(provider, nullptr);
    ASSERT_TRUE(RangeMatches(provider->vmo(), content, 0, 4096));
    const std::string path = server_->www() + "/" + name;
    if (same_size) {
      ASSERT_TRUE(server_->WriteFile(name, RandomBytes(content.size(), 18)));
      struct stat st;
      ASSERT_EQ(::stat(path.c_str(), &st), 0);
      const timeval later[2] = {{st.st_mtime + 60, 0}, {st.st_mtime + 60, 0}};
      ASSERT_EQ(::utimes(path.c_str(), later), 0);
    } else {
      ASSERT_TRUE(server_->WriteFile(name, content.substr(0, 64 * 1024)));
    }
    const auto start = std::chrono::steady_clock::now();
    char buf[4096];
    EXPECT_EQ(provider->vmo().Read(buf, 512 * 1024, sizeof(buf)), Status::kIoDataIntegrity);
    EXPECT_EQ(provider->vmo().Read(buf, 8192, sizeof(buf)), Status::kIoDataIntegrity);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
    EXPECT_EQ(provider->stats().retries, 0u);
    EXPECT_EQ(provider->stats().failures, 2u);
    EXPECT_NE(provider->last_error().find(" changed since it was opened"), std::string::npos)
        << provider->last_error();
    ASSERT_TRUE(RangeMatches(provider->vmo(), content, 0, 4096));
  }
}

// Destroying the provider while a read waits on a dead server (long backoff) returns
// promptly, and the waiting reader gets kBadState from the detached VMO.
TEST_F(HttpProviderTest, DestroyWhileFetchesWait) {
  const std::string content = Serve("gone.bin", 256 * 1024, 9);
  HttpProviderOptions options;
  options.read_ahead.mode = ReadAheadMode::kOff;
  options.retries = 10;
  options.backoff_ms = 5000;
  auto provider = Open("gone.bin", options);
  ASSERT_NE(provider, nullptr);
  Vmo vmo;
  ASSERT_EQ(provider->vmo().Duplicate(&vmo), Status::kOk);
  server_->Stop();
  std::atomic<Status> result{Status::kOk};
  std::atomic<bool> done{false};
  std::thread reader([&] {
    char buf[4096];
    result = vmo.Read(buf, 0, sizeof(buf));
    done = true;
  });
  // Wait for the first attempt to fail and a retry to be scheduled.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (provider->stats().retries == 0 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_GE(provider->stats().retries, 1u);
  EXPECT_FALSE(done.load());
  const auto start = std::chrono::steady_clock::now();
  provider.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  reader.join();
  EXPECT_EQ(result.load(), Status::kBadState);
}

TEST_F(HttpProviderTest, ConcurrentReaders) {
  const size_t size = (size_t{4} << 20) + 4321;
  const std::string content = Serve("shared.bin", size, 13);
  HttpProviderOptions options;
  options.max_in_flight = 4;
  auto provider = Open("shared.bin", options);
  ASSERT_NE(provider, nullptr);
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      std::mt19937_64 rng(100 + t);
      for (int i = 0; i < 100; ++i) {
        const uint64_t offset = rng() % provider->vmo_size();
        const uint64_t length =
            1 + rng() % std::min<uint64_t>(200 * 1024, provider->vmo_size() - offset);
        if (!RangeMatches(provider->vmo(), content, offset, length)) ++bad;
      }
    });
  }
  for (std::thread& r : readers) r.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(provider->stats().failures, 0u);
}

}  // namespace
}  // namespace upager::testing

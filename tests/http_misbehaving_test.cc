// HttpProvider against a server of our own (tests/http_test_server.h) that changes the
// object under the provider or misbehaves: the object replaced by another of the same size
// (with and without the server honouring If-Match, with an ETag or a date only), a server
// that stalls after the headers (through Vmo::Read and through a mapping), one that ignores
// Range (at creation and later), a short body, and a Content-Range with another total.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <string>

#include "http_test_server.h"
#include "mapping_util.h"
#include "upager/mapping.h"
#include "upager/pager_loop.h"
#include "upager/providers/http_provider.h"

namespace upager::testing {
namespace {

using Mode = HttpTestServer::Mode;
using Clock = std::chrono::steady_clock;

constexpr size_t kSize = size_t{1} << 20;

std::string RandomBytes(size_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string data(size, '\0');
  for (size_t i = 0; i < size; i += 8) {
    const uint64_t word = rng();
    std::memcpy(&data[i], &word, std::min<size_t>(8, size - i));
  }
  return data;
}

class HttpMisbehavingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    ASSERT_TRUE(server_.Start(&why)) << why;
    ASSERT_EQ(loop_.Start(), Status::kOk);
    content_ = RandomBytes(kSize, 1);
    server_.SetObject(content_, "\"v1\"", "Sat, 05 Dec 2026 06:00:00 GMT");
    // Every read fetches its own page: what is absent stays absent.
    options_.read_ahead.mode = ReadAheadMode::kOff;
    options_.backoff_ms = 10;
  }

  std::unique_ptr<HttpProvider> Open() {
    std::unique_ptr<HttpProvider> provider;
    std::string why;
    EXPECT_EQ(HttpProvider::Create(&loop_, server_.Url(), options_, &provider, &why), Status::kOk)
        << why;
    return provider;
  }

  // Reads page `page` and compares it with `content_`.
  ::testing::AssertionResult PageMatches(const HttpProvider& provider, uint64_t page) {
    std::string got(kPageSize, '\0');
    const Status s = provider.vmo().Read(got.data(), page * kPageSize, kPageSize);
    if (s != Status::kOk) return ::testing::AssertionFailure() << "page " << page << ": " << s;
    if (got != content_.substr(page * kPageSize, kPageSize)) {
      return ::testing::AssertionFailure() << "page " << page << " differs";
    }
    return ::testing::AssertionSuccess();
  }

  Status ReadPage(const HttpProvider& provider, uint64_t page) {
    char buf[kPageSize];
    return provider.vmo().Read(buf, page * kPageSize, sizeof(buf));
  }

  HttpTestServer server_;
  PagerLoop loop_{2};
  std::string content_;
  HttpProviderOptions options_;
};

// The object is replaced by one of the same size between two reads: the server refuses the
// If-Match of the second (412), the range fails with kIoDataIntegrity at once, every range
// after it too without asking the server, and the message says so once.
TEST_F(HttpMisbehavingTest, ChangedObjectFailsWithDataIntegrity) {
  options_.backoff_ms = 5000;  // a retry would show
  auto provider = Open();
  ASSERT_NE(provider, nullptr);
  ASSERT_TRUE(PageMatches(*provider, 0));
  EXPECT_EQ(server_.last_if_match(), "\"v1\"");
  server_.SetObject(RandomBytes(kSize, 2), "\"v2\"", "Sat, 05 Dec 2026 06:30:00 GMT");
  const uint64_t asked = server_.range_requests();
  const auto start = Clock::now();
  EXPECT_EQ(ReadPage(*provider, 100), Status::kIoDataIntegrity);
  EXPECT_EQ(server_.range_requests(), asked + 1);
  // The 412 carries the new ETag.
  EXPECT_EQ(provider->last_error(), server_.Url() +
                                        " changed since it was opened (ETag \"v1\" then, \"v2\" "
                                        "now): no bytes of another version are served");
  EXPECT_EQ(ReadPage(*provider, 200), Status::kIoDataIntegrity);
  EXPECT_EQ(server_.range_requests(), asked + 1);  // no fetch can help any more
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(provider->stats().retries, 0u);
  EXPECT_EQ(provider->stats().failures, 2u);
  ASSERT_TRUE(PageMatches(*provider, 0));  // what was read stays
}

// The same with a server that ignores If-Match but sends the new ETag: the answer is
// refused, its bytes never supplied.
TEST_F(HttpMisbehavingTest, ChangedEtagInAnswerFailsWithDataIntegrity) {
  server_.SetHonourConditions(false);
  auto provider = Open();
  ASSERT_NE(provider, nullptr);
  ASSERT_TRUE(PageMatches(*provider, 3));
  server_.SetObject(RandomBytes(kSize, 2), "\"v2\"");
  EXPECT_EQ(ReadPage(*provider, 7), Status::kIoDataIntegrity);
  EXPECT_EQ(provider->last_error(), server_.Url() +
                                        " changed since it was opened (ETag \"v1\" then, \"v2\" "
                                        "now): no bytes of another version are served");
  EXPECT_EQ(provider->stats().bytes_read, kPageSize);
}

// Without an ETag, the date pins the version: If-Unmodified-Since is sent, and a changed
// Last-Modified in an answer is refused.
TEST_F(HttpMisbehavingTest, LastModifiedPinsTheVersionWithoutEtag) {
  server_.SetObject(content_, "", "Sat, 05 Dec 2026 06:00:00 GMT");
  auto provider = Open();
  ASSERT_NE(provider, nullptr);
  ASSERT_TRUE(PageMatches(*provider, 1));
  EXPECT_EQ(server_.last_if_match(), "");
  EXPECT_EQ(server_.last_if_unmodified_since(), "Sat, 05 Dec 2026 06:00:00 GMT");
  server_.SetHonourConditions(false);
  server_.SetObject(RandomBytes(kSize, 2), "", "Sat, 05 Dec 2026 06:30:00 GMT");
  EXPECT_EQ(ReadPage(*provider, 9), Status::kIoDataIntegrity);
  EXPECT_EQ(provider->last_error(),
            server_.Url() +
                " changed since it was opened (Last-Modified Sat, 05 Dec 2026 06:00:00 GMT then, "
                "Sat, 05 Dec 2026 06:30:00 GMT now): no bytes of another version are served");
}

// A server that sends the headers and then nothing: each attempt ends after
// low_speed_time_s, well before transfer_timeout_ms; after the retries the range fails with
// kIo, in the same bounded time through Vmo::Read and through a mapping.
TEST_F(HttpMisbehavingTest, StalledServerFailsInBoundedTime) {
  options_.low_speed_time_s = 1;
  options_.retries = 1;
  options_.transfer_timeout_ms = 60000;
  auto provider = Open();
  ASSERT_NE(provider, nullptr);
  server_.SetMode(Mode::kStall);
  auto start = Clock::now();
  EXPECT_EQ(ReadPage(*provider, 5), Status::kIo);
  const auto read_took = Clock::now() - start;
  EXPECT_LT(read_took, std::chrono::seconds(8));
  EXPECT_EQ(provider->stats().retries, 1u);
  const std::string error = provider->last_error();
  EXPECT_EQ(error.rfind(server_.Url() + ": bytes=20480-24575 failed after 1 retries: ", 0), 0u)
      << error;

  UPAGER_REQUIRE_MAPPINGS();
  Mapping map;
  ASSERT_EQ(Mapping::Create(provider->vmo(), 0, provider->vmo_size(), kMapRead, &map), Status::kOk);
  start = Clock::now();
  uint64_t word = 0;
  const Probe probe = ProbeLoad(map.data() + 9 * kPageSize, &word);
  EXPECT_FALSE(probe.ok);
  EXPECT_EQ(probe.signo, SIGBUS);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(8));
  EXPECT_EQ(provider->stats().retries, 2u);
  EXPECT_EQ(provider->stats().failures, 2u);
  // The server comes round: the same page reads.
  server_.SetMode(Mode::kNormal);
  ASSERT_TRUE(PageMatches(*provider, 5));
}

// A server that ignores Range is refused at creation, saying so.
TEST_F(HttpMisbehavingTest, IgnoredRangeIsRefusedAtCreation) {
  server_.SetMode(Mode::kIgnoreRange);
  std::unique_ptr<HttpProvider> provider;
  std::string why;
  EXPECT_EQ(HttpProvider::Create(&loop_, server_.Url(), options_, &provider, &why),
            Status::kNotSupported);
  EXPECT_EQ(provider, nullptr);
  EXPECT_EQ(why, server_.Url() +
                     ": the server ignored the Range header (answered HTTP 200 with the whole "
                     "object to Range: bytes=0-0)");
}

// One that starts ignoring it later fails the range with kIo at once (no retry), saying so.
TEST_F(HttpMisbehavingTest, IgnoredRangeLaterFailsWithMessage) {
  options_.backoff_ms = 5000;
  auto provider = Open();
  ASSERT_NE(provider, nullptr);
  server_.SetMode(Mode::kIgnoreRange);
  EXPECT_EQ(ReadPage(*provider, 2), Status::kIo);
  EXPECT_EQ(provider->stats().retries, 0u);
  EXPECT_EQ(provider->last_error(),
            server_.Url() +
                ": the server ignored the Range header (HTTP 200 with the whole "
                "object for bytes=8192-12287)");
}

// A body cut short is retried (it may be a dropped connection), then fails with kIo.
TEST_F(HttpMisbehavingTest, ShortBodyFailsAfterRetries) {
  options_.retries = 2;
  auto provider = Open();
  ASSERT_NE(provider, nullptr);
  server_.SetMode(Mode::kShortBody);
  const uint64_t asked = server_.range_requests();
  EXPECT_EQ(ReadPage(*provider, 4), Status::kIo);
  EXPECT_EQ(server_.range_requests(), asked + 3);
  EXPECT_EQ(provider->stats().retries, 2u);
  EXPECT_EQ(provider->stats().failures, 1u);
  EXPECT_EQ(provider->last_error().rfind(server_.Url() + ": bytes=16384-20479 failed after 2 "
                                                         "retries: ",
                                         0),
            0u)
      << provider->last_error();
  server_.SetMode(Mode::kNormal);
  ASSERT_TRUE(PageMatches(*provider, 4));
}

// A Content-Range with another total: the object changed size; kIo at once.
TEST_F(HttpMisbehavingTest, OtherTotalFailsAtOnce) {
  options_.backoff_ms = 5000;
  auto provider = Open();
  ASSERT_NE(provider, nullptr);
  server_.SetMode(Mode::kOtherTotal);
  EXPECT_EQ(ReadPage(*provider, 6), Status::kIo);
  EXPECT_EQ(provider->stats().retries, 0u);
  EXPECT_EQ(provider->last_error(),
            server_.Url() +
                ": the server answered bytes=24576-28671 with a Content-Range of "
                "another range or another object size (the object changed size?)");
}

}  // namespace
}  // namespace upager::testing

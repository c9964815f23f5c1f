// S3Provider against a server of our own (tests/http_test_server.h) standing in for a
// throttling or stalled S3 endpoint (the signature is not checked there: the real gateway's
// tests do that): 503 SlowDown is retried with backoff, then kIo with S3's code named; a
// stall fails each attempt after the low-speed timeout; a changed object is kIoDataIntegrity.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "http_test_server.h"
#include "upager/pager_loop.h"
#include "upager/providers/s3_provider.h"

namespace upager::testing {
namespace {

using Mode = HttpTestServer::Mode;

class S3MisbehavingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    ASSERT_TRUE(server_.Start(&why)) << why;
    ASSERT_EQ(loop_.Start(), Status::kOk);
    content_ = std::string(256 * 1024, 'x');
    for (size_t i = 0; i < content_.size(); ++i) content_[i] = static_cast<char>(i * 7 + i / 4096);
    server_.SetObject(content_, "\"e1\"");
    options_.endpoint = server_.Origin();
    options_.access_key_id = "AKIDEXAMPLE";
    options_.secret_access_key = "not-checked-here";
    options_.http.read_ahead.mode = ReadAheadMode::kOff;
    options_.http.retries = 2;
    options_.http.backoff_ms = 10;
  }

  Status Open(std::unique_ptr<S3Provider>* out, std::string* why) {
    return S3Provider::Create(&loop_, "bucket", "object", options_, out, why);
  }

  HttpTestServer server_;
  PagerLoop loop_{1};
  std::string content_;
  S3ProviderOptions options_;
};

TEST_F(S3MisbehavingTest, SlowDownAtCreationIsRetriedThenIo) {
  server_.SetMode(Mode::kSlowDown);
  std::unique_ptr<S3Provider> provider;
  std::string why;
  EXPECT_EQ(Open(&provider, &why), Status::kIo);
  EXPECT_EQ(why,
            "GET (Range: bytes=0-0) s3://bucket/object: HTTP 503 (SlowDown) (after 2 "
            "retries)");
  EXPECT_EQ(server_.range_requests(), 3u);
  EXPECT_EQ(why.find("not-checked-here"), std::string::npos);
}

TEST_F(S3MisbehavingTest, SlowDownMidRunIsRetried) {
  std::unique_ptr<S3Provider> provider;
  std::string why;
  ASSERT_EQ(Open(&provider, &why), Status::kOk) << why;
  // The next two range requests are throttled, the third served.
  server_.SetMode(Mode::kSlowDown, server_.range_requests() + 1, server_.range_requests() + 3);
  std::string got(kPageSize, '\0');
  ASSERT_EQ(provider->vmo().Read(got.data(), 4 * kPageSize, kPageSize), Status::kOk);
  EXPECT_EQ(got, content_.substr(4 * kPageSize, kPageSize));
  EXPECT_EQ(provider->stats().retries, 2u);
  // Throttled for good: kIo after the retries.
  server_.SetMode(Mode::kSlowDown);
  EXPECT_EQ(provider->vmo().Read(got.data(), 9 * kPageSize, kPageSize), Status::kIo);
  EXPECT_EQ(provider->last_error(),
            "s3://bucket/object: HTTP 503 for bytes=36864-40959 (after 2 "
            "retries)");
}

TEST_F(S3MisbehavingTest, StallAndChange) {
  options_.http.low_speed_time_s = 1;
  options_.http.retries = 1;
  std::unique_ptr<S3Provider> provider;
  std::string why;
  ASSERT_EQ(Open(&provider, &why), Status::kOk) << why;
  EXPECT_EQ(server_.last_if_match(), "");  // the probe is not conditional
  server_.SetMode(Mode::kStall);
  char buf[kPageSize];
  EXPECT_EQ(provider->vmo().Read(buf, 0, sizeof(buf)), Status::kIo);
  EXPECT_EQ(
      provider->last_error().rfind("s3://bucket/object: bytes=0-4095 failed after 1 retries", 0),
      0u)
      << provider->last_error();
  server_.SetMode(Mode::kNormal);
  server_.SetObject(std::string(content_.size(), 'y'), "\"e2\"");
  EXPECT_EQ(provider->vmo().Read(buf, 0, sizeof(buf)), Status::kIoDataIntegrity);
  EXPECT_EQ(server_.last_if_match(), "\"e1\"");
  EXPECT_EQ(provider->last_error(),
            "s3://bucket/object changed since it was opened (ETag \"e1\" "
            "then, \"e2\" now): no bytes of another version are served");
}

}  // namespace
}  // namespace upager::testing

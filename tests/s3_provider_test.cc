// S3Provider against a real S3 server: a one-node Ceph RADOS Gateway started once for the
// suite by ctest (tests/s3/start-ceph-rgw.sh, see tests/s3_gateway.h). Signed reads through
// Vmo::Read and a mapping, 4 concurrent readers, a wrong secret, an unsigned request to the
// private bucket, a missing key and bucket, an object overwritten mid-run, temporary
// credentials with their session token,
// credentials from a shared credentials file and profile, and the gateway stopped mid-run.
#include "upager/providers/s3_provider.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "mapping_util.h"
#include "s3_gateway.h"
#include "skip.h"
#include "upager/mapping.h"
#include "upager/pager_loop.h"

namespace upager::testing {
namespace {

std::string RandomBytes(size_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string data(size, '\0');
  for (size_t i = 0; i < size; i += 8) {
    const uint64_t word = rng();
    std::memcpy(&data[i], &word, std::min<size_t>(8, size - i));
  }
  return data;
}

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
    if (got[i] != want) return ::testing::AssertionFailure() << "byte " << at << " differs";
  }
  return ::testing::AssertionSuccess();
}

class S3ProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Nothing from the developer's own AWS set-up may leak in.
    for (const char* name :
         {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
          "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
          "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"}) {
      ::unsetenv(name);
    }
    ::setenv("HOME", "/nonexistent", 1);
    std::string why;
    if (!gateway_.Load(&why)) UPAGER_SKIP_OR_FAIL(why);
    ASSERT_EQ(loop_.Start(), Status::kOk);
    options_.endpoint = gateway_.endpoint;
    options_.region = gateway_.region;
    options_.access_key_id = gateway_.access_key;
    options_.secret_access_key = gateway_.secret_key;
  }

  // A new object of random bytes named after the test.
  std::string Put(const std::string& key, size_t size, uint64_t seed) {
    std::string data = RandomBytes(size, seed);
    std::string why;
    EXPECT_TRUE(gateway_.Put(key, data, &why)) << why;
    return data;
  }

  Status Open(const std::string& key, const S3ProviderOptions& options,
              std::unique_ptr<S3Provider>* out, std::string* why) {
    return S3Provider::Create(&loop_, gateway_.bucket, key, options, out, why);
  }

  S3Gateway gateway_;
  PagerLoop loop_{2};
  S3ProviderOptions options_;
};

TEST_F(S3ProviderTest, SignedRandomRangesMatchThroughReadAndMapping) {
  const size_t size = (size_t{3} << 20) + 4321;
  const std::string content = Put("ranges.bin", size, 1);
  std::unique_ptr<S3Provider> provider;
  std::string why;
  ASSERT_EQ(Open("ranges.bin", options_, &provider, &why), Status::kOk) << why;
  EXPECT_EQ(provider->content_size(), size);
  std::mt19937_64 rng(2);
  for (int i = 0; i < 100; ++i) {
    const uint64_t offset = rng() % provider->vmo_size();
    const uint64_t length =
        1 + rng() % std::min<uint64_t>(300 * 1024, provider->vmo_size() - offset);
    ASSERT_TRUE(RangeMatches(provider->vmo(), content, offset, length));
  }
  UPAGER_REQUIRE_MAPPINGS();
  // A second provider, so that the mapping's pages are not there already.
  std::unique_ptr<S3Provider> mapped;
  ASSERT_EQ(Open("ranges.bin", options_, &mapped, &why), Status::kOk) << why;
  Mapping map;
  ASSERT_EQ(Mapping::Create(mapped->vmo(), 0, mapped->vmo_size(), kMapRead, &map), Status::kOk);
  for (int i = 0; i < 100; ++i) {
    const uint64_t offset = rng() % size;
    const uint64_t length = 1 + rng() % std::min<uint64_t>(64 * 1024, size - offset);
    ASSERT_EQ(std::memcmp(map.data() + offset, content.data() + offset, length), 0) << offset;
  }
  EXPECT_EQ(provider->stats().failures + mapped->stats().failures, 0u);
}

// Virtual-hosted-style: BUCKET.localhost:PORT (radosgw's "rgw dns name" is localhost), the
// name pinned to 127.0.0.1.
TEST_F(S3ProviderTest, VirtualHostedStyle) {
  const std::string content = Put("virtual.bin", 300000, 12);
  const std::string port = gateway_.endpoint.substr(gateway_.endpoint.rfind(':') + 1);
  options_.endpoint = "http://localhost:" + port;
  options_.addressing = S3Addressing::kVirtualHosted;
  options_.http.resolve = {gateway_.bucket + ".localhost:" + port + ":127.0.0.1",
                           "localhost:" + port + ":127.0.0.1"};
  std::unique_ptr<S3Provider> provider;
  std::string why;
  ASSERT_EQ(Open("virtual.bin", options_, &provider, &why), Status::kOk) << why;
  ASSERT_TRUE(RangeMatches(provider->vmo(), content, 0, content.size()));
  // Path-style through the same name works as well.
  options_.addressing = S3Addressing::kPath;
  ASSERT_EQ(Open("virtual.bin", options_, &provider, &why), Status::kOk) << why;
  ASSERT_TRUE(RangeMatches(provider->vmo(), content, 0, 4096));
}

TEST_F(S3ProviderTest, FourConcurrentReaders) {
  const size_t size = size_t{4} << 20;
  const std::string content = Put("shared.bin", size, 3);
  options_.http.max_in_flight = 4;
  std::unique_ptr<S3Provider> provider;
  std::string why;
  ASSERT_EQ(Open("shared.bin", options_, &provider, &why), Status::kOk) << why;
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      std::mt19937_64 rng(10 + t);
      for (int i = 0; i < 60; ++i) {
        const uint64_t offset = rng() % size;
        const uint64_t length = 1 + rng() % std::min<uint64_t>(200 * 1024, size - offset);
        if (!RangeMatches(provider->vmo(), content, offset, length)) ++bad;
      }
    });
  }
  for (std::thread& r : readers) r.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(provider->stats().failures, 0u);
}

TEST_F(S3ProviderTest, WrongSecretIsAccessDenied) {
  Put("secret.bin", 8192, 4);
  options_.secret_access_key = "not-the-secret-" + gateway_.secret_key.substr(0, 4);
  std::unique_ptr<S3Provider> provider;
  std::string why;
  EXPECT_EQ(Open("secret.bin", options_, &provider, &why), Status::kAccessDenied);
  EXPECT_EQ(provider, nullptr);
  // With STS enabled, radosgw tries its other engines after the signature fails to match and
  // answers AccessDenied (SignatureDoesNotMatch without STS).
  EXPECT_EQ(why, "GET (Range: bytes=0-0) s3://" + gateway_.bucket +
                     "/secret.bin: HTTP 403 (AccessDenied) (signed with credentials from the "
                     "options, region " +
                     gateway_.region + ")");
  EXPECT_EQ(why.find(options_.secret_access_key), std::string::npos);
  EXPECT_EQ(why.find(gateway_.secret_key), std::string::npos);
  // A key the gateway does not know.
  options_.access_key_id = "UPAGERNOSUCHKEY";
  EXPECT_EQ(Open("secret.bin", options_, &provider, &why), Status::kAccessDenied);
  EXPECT_EQ(
      why.rfind("GET (Range: bytes=0-0) s3://" + gateway_.bucket + "/secret.bin: HTTP 403 (", 0),
      0u)
      << why;
}

TEST_F(S3ProviderTest, PrivateBucketRefusesUnsignedRequests) {
  Put("private.bin", 8192, 5);
  options_.unsigned_requests = true;
  std::unique_ptr<S3Provider> provider;
  std::string why;
  EXPECT_EQ(Open("private.bin", options_, &provider, &why), Status::kAccessDenied);
  EXPECT_EQ(why, "GET (Range: bytes=0-0) s3://" + gateway_.bucket +
                     "/private.bin: HTTP 403 (AccessDenied) (unsigned request: no credentials "
                     "found)");
}

TEST_F(S3ProviderTest, MissingKeyAndBucketAreNotFound) {
  std::unique_ptr<S3Provider> provider;
  std::string why;
  EXPECT_EQ(Open("no-such-key", options_, &provider, &why), Status::kNotFound);
  EXPECT_EQ(
      why, "GET (Range: bytes=0-0) s3://" + gateway_.bucket + "/no-such-key: HTTP 404 (NoSuchKey)");
  EXPECT_EQ(S3Provider::Create(&loop_, "no-such-bucket", "x", options_, &provider, &why),
            Status::kNotFound);
  EXPECT_EQ(why, "GET (Range: bytes=0-0) s3://no-such-bucket/x: HTTP 404 (NoSuchBucket)");
}

// Overwritten with another object of the same size between two reads: the gateway refuses
// the If-Match of the next range; kIoDataIntegrity, said once.
TEST_F(S3ProviderTest, OverwrittenObjectFailsWithDataIntegrity) {
  const size_t size = size_t{1} << 20;
  const std::string content = Put("overwritten.bin", size, 6);
  options_.http.read_ahead.mode = ReadAheadMode::kOff;
  std::unique_ptr<S3Provider> provider;
  std::string why;
  ASSERT_EQ(Open("overwritten.bin", options_, &provider, &why), Status::kOk) << why;
  ASSERT_TRUE(RangeMatches(provider->vmo(), content, 0, 8192));
  Put("overwritten.bin", size, 7);
  char buf[4096];
  EXPECT_EQ(provider->vmo().Read(buf, 512 * 1024, sizeof(buf)), Status::kIoDataIntegrity);
  EXPECT_EQ(provider->vmo().Read(buf, 256 * 1024, sizeof(buf)), Status::kIoDataIntegrity);
  EXPECT_EQ(provider->stats().retries, 0u);
  const std::string error = provider->last_error();
  EXPECT_EQ(
      error.rfind("s3://" + gateway_.bucket + "/overwritten.bin changed since it was opened", 0),
      0u)
      << error;
  ASSERT_TRUE(RangeMatches(provider->vmo(), content, 0, 8192));
}

// Temporary credentials from the gateway's STS (GetSessionToken): with their session token
// (sent as x-amz-security-token, signed) they read; without it the gateway refuses them.
// The token appears in no message.
TEST_F(S3ProviderTest, SessionToken) {
  const std::string content = Put("token.bin", 50000, 8);
  options_.access_key_id = gateway_.session_access_key;
  options_.secret_access_key = gateway_.session_secret_key;
  options_.session_token = gateway_.session_token;
  std::unique_ptr<S3Provider> provider;
  std::string why;
  ASSERT_EQ(Open("token.bin", options_, &provider, &why), Status::kOk) << why;
  ASSERT_TRUE(RangeMatches(provider->vmo(), content, 0, content.size()));
  options_.session_token.clear();
  EXPECT_EQ(Open("token.bin", options_, &provider, &why), Status::kAccessDenied);
  EXPECT_EQ(
      why.rfind("GET (Range: bytes=0-0) s3://" + gateway_.bucket + "/token.bin: HTTP 403 (", 0), 0u)
      << why;
  // A token the gateway cannot decrypt: Ceph says InvalidArgument (AWS: InvalidToken, which
  // is kAccessDenied).
  options_.session_token = "x" + gateway_.session_token.substr(1);
  EXPECT_EQ(Open("token.bin", options_, &provider, &why), Status::kIo);
  EXPECT_EQ(why, "GET (Range: bytes=0-0) s3://" + gateway_.bucket +
                     "/token.bin: HTTP 400 (InvalidArgument)");
  EXPECT_EQ(why.find(gateway_.session_token.substr(1)), std::string::npos) << why;
  EXPECT_EQ(why.find(gateway_.session_secret_key), std::string::npos) << why;
}

// Credentials from the shared credentials file, profile chosen by AWS_PROFILE, region and
// endpoint from the environment.
TEST_F(S3ProviderTest, CredentialsFromProfileAndEnvironment) {
  const std::string content = Put("profile.bin", 20000, 9);
  const std::string file = gateway_.dir + "/credentials.test";
  {
    std::ofstream out(file);
    out << "[default]\naws_access_key_id = WRONG\naws_secret_access_key = WRONG\n\n"
        << "[upager]\naws_access_key_id = " << gateway_.access_key
        << "\naws_secret_access_key = " << gateway_.secret_key << "\n";
  }
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", file.c_str(), 1);
  ::setenv("AWS_PROFILE", "upager", 1);
  ::setenv("AWS_ENDPOINT_URL", gateway_.endpoint.c_str(), 1);
  ::setenv("AWS_REGION", gateway_.region.c_str(), 1);
  S3ProviderOptions options;  // nothing given: all from the environment and the file
  std::unique_ptr<S3Provider> provider;
  std::string why;
  ASSERT_EQ(Open("profile.bin", options, &provider, &why), Status::kOk) << why;
  ASSERT_TRUE(RangeMatches(provider->vmo(), content, 0, content.size()));
  // The environment's keys come first.
  ::setenv("AWS_ACCESS_KEY_ID", gateway_.access_key.c_str(), 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "WRONG", 1);
  EXPECT_EQ(Open("profile.bin", options, &provider, &why), Status::kAccessDenied);
  EXPECT_NE(why.find("(signed with credentials from the environment, region "), std::string::npos)
      << why;
  // Unless a profile is named explicitly.
  options.profile = "upager";
  EXPECT_EQ(Open("profile.bin", options, &provider, &why), Status::kOk) << why;
}

// The gateway stops: an absent range fails with kIo once the retries are spent; present
// pages stay; the gateway restarts and reads work again.
TEST_F(S3ProviderTest, GatewayStoppedMidRun) {
  const size_t size = size_t{1} << 20;
  const std::string content = Put("flaky.bin", size, 11);
  options_.http.read_ahead.mode = ReadAheadMode::kOff;
  options_.http.retries = 2;
  options_.http.backoff_ms = 20;
  std::unique_ptr<S3Provider> provider;
  std::string why;
  ASSERT_EQ(Open("flaky.bin", options_, &provider, &why), Status::kOk) << why;
  ASSERT_TRUE(RangeMatches(provider->vmo(), content, 0, 64 * 1024));
  ASSERT_TRUE(gateway_.StopGateway(&why)) << why;
  char buf[8192];
  EXPECT_EQ(provider->vmo().Read(buf, 256 * 1024, sizeof(buf)), Status::kIo);
  EXPECT_EQ(provider->stats().retries, 2u);
  EXPECT_NE(provider->last_error().find("failed after 2 retries"), std::string::npos)
      << provider->last_error();
  ASSERT_TRUE(RangeMatches(provider->vmo(), content, 0, 64 * 1024));
  ASSERT_TRUE(gateway_.StartGateway(&why)) << why;
  ASSERT_TRUE(RangeMatches(provider->vmo(), content, 256 * 1024, 8192));
  ASSERT_TRUE(RangeMatches(provider->vmo(), content, 768 * 1024, 8192));
}

}  // namespace
}  // namespace upager::testing

// How S3Provider resolves its endpoint, region and credentials from the options, the
// environment and the shared files (internal::s3::Resolve, with a fake environment), the
// object's URL in both addressing styles, and s3:// URIs. No server needed.
#include "providers/s3_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

namespace upager::testing {
namespace {

using internal::s3::Resolve;
using internal::s3::Resolved;

class S3ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/upager-s3cfg-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    env_["HOME"] = dir_;
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }

  void Write(const std::string& relative, const std::string& text) {
    std::system(("mkdir -p \"$(dirname '" + dir_ + "/" + relative + "')\"").c_str());
    std::ofstream(dir_ + "/" + relative) << text;
  }

  Status Run(const S3ProviderOptions& options, Resolved* out, std::string* why) {
    return Resolve(
        "bucket", "dir/a key+.bin", options,
        [this](const char* name) -> const char* {
          const auto it = env_.find(name);
          return it == env_.end() ? nullptr : it->second.c_str();
        },
        out, why);
  }

  std::string dir_;
  std::map<std::string, std::string> env_;
};

TEST_F(S3ConfigTest, NothingAtAllIsUnsignedAwsInUsEast1) {
  Resolved r;
  std::string why;
  ASSERT_EQ(Run({}, &r, &why), Status::kOk) << why;
  EXPECT_EQ(r.endpoint.url, "https://bucket.s3.us-east-1.amazonaws.com/dir/a%20key%2B.bin");
  EXPECT_EQ(r.endpoint.aws_sigv4, "");
  EXPECT_EQ(r.credentials_from, "");
  EXPECT_EQ(r.endpoint.Describe(), "s3://bucket/dir/a key+.bin");
}

TEST_F(S3ConfigTest, EnvironmentGivesKeysRegionAndEndpoint) {
  env_["AWS_ACCESS_KEY_ID"] = "AK";
  env_["AWS_SECRET_ACCESS_KEY"] = "SK";
  env_["AWS_SESSION_TOKEN"] = "TOKEN";
  env_["AWS_REGION"] = "eu-west-3";
  env_["AWS_ENDPOINT_URL"] = "http://127.0.0.1:7480/";
  Resolved r;
  std::string why;
  ASSERT_EQ(Run({}, &r, &why), Status::kOk) << why;
  EXPECT_EQ(r.endpoint.url, "http://127.0.0.1:7480/bucket/dir/a%20key%2B.bin");  // path-style
  EXPECT_EQ(r.endpoint.aws_sigv4, "aws:amz:eu-west-3:s3");
  EXPECT_EQ(r.endpoint.access_key, "AK");
  EXPECT_EQ(r.endpoint.secret_key, "SK");
  EXPECT_EQ(r.endpoint.session_token, "TOKEN");
  EXPECT_EQ(r.credentials_from, "the environment");
}

TEST_F(S3ConfigTest, ProfilesOfTheSharedFiles) {
  Write(".aws/credentials",
        "[default]\naws_access_key_id=D\naws_secret_access_key=DS\n"
        "[work]\n  aws_access_key_id = W \naws_secret_access_key = WS\naws_session_token = WT\n");
  Write(".aws/config",
        "[default]\nregion = ap-south-1\n[profile work]\nregion = sa-east-1\n"
        "endpoint_url = https://minio.example:9000\n");
  Resolved r;
  std::string why;
  ASSERT_EQ(Run({}, &r, &why), Status::kOk) << why;
  EXPECT_EQ(r.endpoint.access_key, "D");
  EXPECT_EQ(r.region, "ap-south-1");
  EXPECT_EQ(r.credentials_from, "profile default of " + dir_ + "/.aws/credentials");

  env_["AWS_PROFILE"] = "work";
  Resolved w;
  ASSERT_EQ(Run({}, &w, &why), Status::kOk) << why;
  EXPECT_EQ(w.endpoint.access_key, "W");
  EXPECT_EQ(w.endpoint.secret_key, "WS");
  EXPECT_EQ(w.endpoint.session_token, "WT");
  EXPECT_EQ(w.region, "sa-east-1");
  EXPECT_EQ(w.endpoint.url, "https://minio.example:9000/bucket/dir/a%20key%2B.bin");

  // The environment's keys beat AWS_PROFILE's; an explicit profile beats them.
  env_["AWS_ACCESS_KEY_ID"] = "E";
  env_["AWS_SECRET_ACCESS_KEY"] = "ES";
  Resolved e;
  ASSERT_EQ(Run({}, &e, &why), Status::kOk) << why;
  EXPECT_EQ(e.endpoint.access_key, "E");
  S3ProviderOptions options;
  options.profile = "default";
  Resolved p;
  ASSERT_EQ(Run(options, &p, &why), Status::kOk) << why;
  EXPECT_EQ(p.endpoint.access_key, "D");
  options.profile = "missing";
  EXPECT_EQ(Run(options, &p, &why), Status::kInvalidArgs);
  EXPECT_EQ(why, "no profile \"missing\" in " + dir_ + "/.aws/credentials");
}

TEST_F(S3ConfigTest, OptionsComeFirstAndSecretsStayOutOfMessages) {
  env_["AWS_ACCESS_KEY_ID"] = "E";
  env_["AWS_SECRET_ACCESS_KEY"] = "ES";
  S3ProviderOptions options;
  options.access_key_id = "O";
  options.secret_access_key = "very-secret";
  options.endpoint = "https://storage.example";
  options.addressing = S3Addressing::kVirtualHosted;
  Resolved r;
  std::string why;
  ASSERT_EQ(Run(options, &r, &why), Status::kOk) << why;
  EXPECT_EQ(r.endpoint.access_key, "O");
  EXPECT_EQ(r.endpoint.url, "https://bucket.storage.example/dir/a%20key%2B.bin");
  EXPECT_EQ(r.credentials_from, "the options");
  options.access_key_id.clear();
  EXPECT_EQ(Run(options, &r, &why), Status::kInvalidArgs);
  EXPECT_EQ(why,
            "incomplete S3 credentials from the options: the access key id and the secret "
            "access key go together");
  EXPECT_EQ(why.find("very-secret"), std::string::npos);
}

TEST_F(S3ConfigTest, BadNamesAndEndpoints) {
  Resolved r;
  std::string why;
  EXPECT_EQ(
      Resolve(
          "Bad_Bucket", "k", {}, [](const char*) -> const char* { return nullptr; }, &r, &why),
      Status::kInvalidArgs);
  EXPECT_EQ(why, "not a valid S3 bucket name: \"Bad_Bucket\"");
  S3ProviderOptions options;
  options.endpoint = "ftp://x";
  EXPECT_EQ(Run(options, &r, &why), Status::kInvalidArgs);
  EXPECT_EQ(why, "the S3 endpoint is not an http:// or https:// URL: \"ftp://x\"");
  // AWS with a dotted bucket over HTTPS: path-style (no certificate matches).
  EXPECT_EQ(Resolve(
                "my.bucket", "k", {}, [](const char*) -> const char* { return nullptr; }, &r, &why),
            Status::kOk);
  EXPECT_EQ(r.endpoint.url, "https://s3.us-east-1.amazonaws.com/my.bucket/k");
}

TEST(S3Uri, Parse) {
  std::string bucket, key;
  EXPECT_TRUE(S3Provider::ParseUri("s3://b-1/some/key.bin", &bucket, &key));
  EXPECT_EQ(bucket, "b-1");
  EXPECT_EQ(key, "some/key.bin");
  for (const char* bad : {"s3://", "s3://bucket", "s3://bucket/", "s3:///key", "http://b/k"}) {
    EXPECT_FALSE(S3Provider::ParseUri(bad, &bucket, &key)) << bad;
  }
}

}  // namespace
}  // namespace upager::testing

// `upager cat s3://BUCKET/KEY` against the suite's Ceph RADOS Gateway (tests/s3_gateway.h):
// an object put with a signed PUT comes back byte for byte (mapped and not, credentials
// from the environment or from a profile of a credentials file named by --profile); a wrong
// secret and a missing key are exit 3 with S3's error code; no secret reaches stderr, the
// trace or --stats.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <fstream>
#include <string>
#include <vector>

#include "cli_background.h"
#include "cli_test_util.h"
#include "s3_gateway.h"
#include "skip.h"

namespace upager::cli_test {
namespace {

class CliS3Test : public CliBackgroundTest {
 protected:
  void SetUp() override {
    CliBackgroundTest::SetUp();
    std::string why;
    if (!gateway_.Load(&why)) UPAGER_SKIP_OR_FAIL(why);
  }

  std::string Uri(const std::string& key) const { return "s3://" + gateway_.bucket + "/" + key; }

  // The environment of a run: the gateway's keys, nothing of the developer's AWS set-up.
  RunOptions Env(const std::string& secret) const {
    RunOptions options;
    options.env = {"AWS_ACCESS_KEY_ID=" + gateway_.access_key, "AWS_SECRET_ACCESS_KEY=" + secret,
                   "HOME=" + dir_, "AWS_PROFILE=", "AWS_SESSION_TOKEN="};
    return options;
  }

  std::vector<std::string> Cat(const std::string& key) const {
    return {"cat", Uri(key), "--endpoint", gateway_.endpoint, "--region", gateway_.region};
  }

  upager::testing::S3Gateway gateway_;
};

TEST_F(CliS3Test, RoundTrip) {
  const std::string content = RandomBytes(3 * 1024 * 1024 + 77, 21);
  std::string why;
  ASSERT_TRUE(gateway_.Put("cli/round-trip.bin", content, &why)) << why;
  RunResult r = Run(Cat("cli/round-trip.bin"), Env(gateway_.secret_key));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == content) << r.out.size() << " bytes";
  std::vector<std::string> args = Cat("cli/round-trip.bin");
  args.insert(args.end(), {"--no-map", "--offset", "1000000", "--length", "70000"});
  r = Run(args, Env(gateway_.secret_key));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == content.substr(1000000, 70000));
}

// Credentials from a profile of the shared credentials file, chosen with --profile; the
// endpoint and region from the environment.
// `upager serve NAME=s3://...`: one server fetches the object for every client; two
// `cat --connect` read it back byte for byte, mapped and not.
TEST_F(CliS3Test, ServedToTwoClients) {
  const std::string content = RandomBytes(2 * 1024 * 1024 + 5, 23);
  std::string why;
  ASSERT_TRUE(gateway_.Put("cli/served.bin", content, &why)) << why;
  // The server inherits the gateway's keys from this process's environment.
  for (const std::string& kv : Env(gateway_.secret_key).env) {
    const size_t eq = kv.find('=');
    ::setenv(kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str(), 1);
  }
  Background server = Serve({"obj=" + Uri("cli/served.bin")},
                            {"--endpoint", gateway_.endpoint, "--region", gateway_.region});
  RunResult mapped = Run({"cat", "--connect", socket_, "obj"});
  ASSERT_EQ(mapped.exit_code, 0) << mapped.err;
  EXPECT_TRUE(mapped.out == content) << mapped.out.size() << " bytes";
  RunResult read = Run({"cat", "--connect", socket_, "obj", "--no-map", "--offset", "1000"});
  ASSERT_EQ(read.exit_code, 0) << read.err;
  EXPECT_TRUE(read.out == content.substr(1000));
  ::kill(server.pid, SIGTERM);
  EXPECT_EQ(Wait(&server), 0);
  for (const std::string& kv : Env(gateway_.secret_key).env) {
    ::unsetenv(kv.substr(0, kv.find('=')).c_str());
  }
}

TEST_F(CliS3Test, ProfileOption) {
  const std::string content = RandomBytes(100000, 22);
  std::string why;
  ASSERT_TRUE(gateway_.Put("cli/profile.bin", content, &why)) << why;
  std::ofstream(Path("credentials")) << "[ceph]\naws_access_key_id = " << gateway_.access_key
                                     << "\naws_secret_access_key = " << gateway_.secret_key << "\n";
  RunOptions options;
  options.env = {"AWS_SHARED_CREDENTIALS_FILE=" + Path("credentials"),
                 "HOME=" + dir_,
                 "AWS_ENDPOINT_URL=" + gateway_.endpoint,
                 "AWS_REGION=" + gateway_.region,
                 "AWS_ACCESS_KEY_ID=",
                 "AWS_SECRET_ACCESS_KEY="};
  const RunResult r = Run({"cat", Uri("cli/profile.bin"), "--profile", "ceph"}, options);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == content);
}

TEST_F(CliS3Test, WrongSecretAndMissingKeyAreExit3) {
  std::string why;
  ASSERT_TRUE(gateway_.Put("cli/private.bin", "private", &why)) << why;
  const std::string wrong = "wrong-" + gateway_.secret_key;
  RunResult r = Run(Cat("cli/private.bin"), Env(wrong));
  EXPECT_EQ(r.exit_code, 3);
  ExpectOneErrorLine(r, "cannot open '" + Uri("cli/private.bin") +
                            "': permission denied (ZX_ERR_ACCESS_DENIED): HTTP 403 (");
  EXPECT_EQ(r.err.find(wrong), std::string::npos) << r.err;
  r = Run(Cat("cli/missing.bin"), Env(gateway_.secret_key));
  EXPECT_EQ(r.exit_code, 3);
  ExpectOneErrorLine(r, "cannot open '" + Uri("cli/missing.bin") +
                            "': not found (ZX_ERR_NOT_FOUND): HTTP 404 (NoSuchKey)");
}

// No secret in stderr, --stats or the trace.
TEST_F(CliS3Test, SecretsStayOut) {
  std::string why;
  ASSERT_TRUE(gateway_.Put("cli/stats.bin", RandomBytes(300000, 23), &why)) << why;
  std::vector<std::string> args = {"--trace", Path("trace.json")};
  const std::vector<std::string> cat = Cat("cli/stats.bin");
  args.insert(args.end(), cat.begin(), cat.end());
  args.insert(args.end(), {"--stats", "json"});
  const RunResult r = Run(args, Env(gateway_.secret_key));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string trace = ReadFile(Path("trace.json"));
  EXPECT_FALSE(trace.empty());
  for (const std::string* text : {&r.err, &trace}) {
    EXPECT_EQ(text->find(gateway_.secret_key), std::string::npos);
    EXPECT_EQ(text->find(gateway_.access_key), std::string::npos);
  }
}

}  // namespace
}  // namespace upager::cli_test

// `upager cat` of an HTTP object on a server of our own (tests/http_test_server.h) that
// misbehaves: it stalls after the headers (the failure comes after the same bounded time,
// and the same requests, through a mapping and through Vmo::Read), it replaces the object
// mid-run (exit 4, the change named), it ignores Range (refused at opening, saying so).
// And `upager serve` of a URL: clients in other processes read it, and a change of the
// object reaches them as it reaches a local reader.
#include <gtest/gtest.h>
#include <signal.h>

#include <string>

#include "cli_background.h"
#include "cli_test_util.h"
#include "http_test_server.h"

namespace upager::cli_test {
namespace {

using upager::testing::HttpTestServer;

class CliHttpTest : public CliBackgroundTest {
 protected:
  void SetUp() override {
    CliBackgroundTest::SetUp();
    std::string why;
    ASSERT_TRUE(server_.Start(&why)) << why;
    content_ = RandomBytes(256 * 1024, 3);
    server_.SetObject(content_, "\"v1\"");
  }
  HttpTestServer server_;
  std::string content_;
};

// The server answers the opening probe, then stalls: with --stall-timeout 1 --retries 1
// the read fails after two attempts, at offset 0, in a few seconds, whether through a
// mapping or Vmo::Read (which does not ask again for the page that failed: 3 ranged GETs
// in both cases).
TEST_F(CliHttpTest, StalledServerFailsAlikeMappedOrNot) {
  for (const bool no_map : {false, true}) {
    SCOPED_TRACE(no_map ? "--no-map" : "mapped");
    const uint64_t before = server_.range_requests();
    server_.SetMode(HttpTestServer::Mode::kStall, before + 2);
    std::vector<std::string> args = {"cat",       server_.Url(), "--read-ahead",    "off",
                                     "--retries", "1",           "--stall-timeout", "1"};
    if (no_map) args.push_back("--no-map");
    const RunResult r = Run(args);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_LT(r.seconds, 8);
    ExpectOneErrorLine(
        r, "read failed at offset 0: I/O error (ZX_ERR_IO): " + server_.Url() + ": bytes=0-");
    EXPECT_NE(r.err.find(" failed after 1 retries: "), std::string::npos) << r.err;
    EXPECT_EQ(server_.range_requests(), before + 3);
    EXPECT_EQ(r.out, "");
  }
}

// The object is replaced after the opening: exit 4, the change named once.
TEST_F(CliHttpTest, ChangedObjectIsExit4) {
  for (const bool no_map : {false, true}) {
    SCOPED_TRACE(no_map ? "--no-map" : "mapped");
    server_.SetObject(content_, "\"v1\"");
    server_.SetObjectFrom(server_.range_requests() + 2, RandomBytes(content_.size(), 4), "\"v2\"");
    std::vector<std::string> args = {"cat", server_.Url()};
    if (no_map) args.push_back("--no-map");
    const RunResult r = Run(args);
    EXPECT_EQ(r.exit_code, 4);
    ExpectOneErrorLine(r,
                       "read failed at offset 0: data integrity error "
                       "(ZX_ERR_IO_DATA_INTEGRITY): " +
                           server_.Url() +
                           " changed since it was opened (ETag \"v1\" then, \"v2\" now): no "
                           "bytes of another version are served");
    EXPECT_EQ(r.out, "");
  }
}

TEST_F(CliHttpTest, IgnoredRangeIsRefusedAtOpening) {
  server_.SetMode(HttpTestServer::Mode::kIgnoreRange);
  const RunResult r = Run({"cat", server_.Url()});
  EXPECT_EQ(r.exit_code, 3);
  ExpectOneErrorLine(r, "cannot open '" + server_.Url() +
                            "': server does not support range requests (ZX_ERR_NOT_SUPPORTED): "
                            "the server ignored the Range header (answered HTTP 200 with the "
                            "whole object to Range: bytes=0-0)");
}

// Served: two clients read the object through the server's one VMO. The object then
// changes; a client reading pages the server has not fetched fails as a local reader
// would (exit 4), with no byte of the new version, and the server goes on.
TEST_F(CliHttpTest, ServedToTwoClientsAndAChangeReachesThem) {
  Background server = Serve({"obj=" + server_.Url()}, {"--read-ahead", "off"});
  const RunResult part = Run({"cat", "--connect", socket_, "obj", "--length", "64K"});
  ASSERT_EQ(part.exit_code, 0) << part.err;
  EXPECT_TRUE(part.out == content_.substr(0, 64 * 1024));
  const RunResult again = Run({"cat", "--connect", socket_, "obj", "--no-map", "--length", "64K"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(again.out == part.out);
  const uint64_t ranges = server_.range_requests();
  server_.SetObject(RandomBytes(content_.size(), 5), "\"v2\"");
  for (const bool no_map : {false, true}) {
    SCOPED_TRACE(no_map ? "--no-map" : "mapped");
    std::vector<std::string> args = {"cat", "--connect", socket_, "obj", "--offset", "128K"};
    if (no_map) args.push_back("--no-map");
    const RunResult r = Run(args);
    EXPECT_EQ(r.exit_code, 4) << r.err;
    EXPECT_NE(r.err.find("ZX_ERR_IO_DATA_INTEGRITY"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
  }
  EXPECT_GT(server_.range_requests(), ranges);
  // The pages fetched before the change are still served.
  const RunResult cached = Run({"cat", "--connect", socket_, "obj", "--length", "64K"});
  ASSERT_EQ(cached.exit_code, 0) << cached.err;
  EXPECT_TRUE(cached.out == part.out);
  ::kill(server.pid, SIGTERM);
  EXPECT_EQ(Wait(&server), 0);
}

}  // namespace
}  // namespace upager::cli_test

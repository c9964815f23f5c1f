// Tests of `upager cat` (tools/upager/cat.cc) and of the command's error exits: what reaches
// stdout, what is reported on stderr, and the exit code. The harness is cli_test_util.h.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "cli_test_util.h"

namespace upager::cli_test {
namespace {

TEST_F(CliTest, CatOfAPlainFileEqualsTheFile) {
  const std::string content = RandomBytes(2 * 1024 * 1024 + 77, 2);
  WriteFile(Path("plain.bin"), content);
  RunResult r = Run({"cat", Path("plain.bin")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == content);
  r = Run({"cat", Path("plain.bin"), "--offset", "1M", "--length", "12345"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == content.substr(1024 * 1024, 12345));
  r = Run({"cat", "--no-map", Path("plain.bin")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == content);
  // An empty file.
  WriteFile(Path("empty"), "");
  r = Run({"cat", Path("empty")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(CliTest, CatWithoutMappingsFallsBackToVmoRead) {
  const std::string content = RandomBytes(300000, 3);
  std::string blob = MakeBlob("data", content);
  RunOptions options;
  options.env = {"UPAGER_NO_USERFAULTFD=1"};
  RunResult r = Run({"cat", blob}, options);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == content);
}

TEST_F(CliTest, CatIntoAClosedPipeStopsQuietly) {
  const std::string content = RandomBytes(8 * 1024 * 1024, 4);
  WriteFile(Path("big"), content);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  close(fds[0]);
  RunOptions options;
  options.stdout_fd = fds[1];
  RunResult r = Run({"cat", Path("big")}, options);
  close(fds[1]);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
}

// ---------------------------------------------------------------------------------------
// http(s) sources, from a throw-away nginx

TEST_F(CliTest, MissingFileIsExit3) {
  RunResult r = Run({"cat", Path("nope.bin")});
  EXPECT_EQ(r.exit_code, 3);
  ExpectOneErrorLine(r, "not found");
  EXPECT_NE(r.err.find("cannot open '" + Path("nope.bin") + "'"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");

  r = Run({"pack", Path("nope.bin"), Path("out.blob")});
  EXPECT_EQ(r.exit_code, 3);
  ExpectOneErrorLine(r, "not found");
}

TEST_F(CliTest, DirectoryIsExit3) {
  RunResult r = Run({"cat", dir_});
  EXPECT_EQ(r.exit_code, 3);
  ExpectOneErrorLine(r, "not a regular file");
}

TEST_F(CliTest, BadUrlIsExit2) {
  RunResult r = Run({"cat", "ftp://example"});
  EXPECT_EQ(r.exit_code, 2);
  ExpectOneErrorLine(r, "unsupported URL scheme 'ftp'");
  EXPECT_EQ(Run({"cat", "http://"}).exit_code, 2);
}

TEST_F(CliTest, UnreachableServerIsExit3Quickly) {
  RunResult r = Run({"cat", "http://127.0.0.1:1/x"});
  EXPECT_EQ(r.exit_code, 3);
  ExpectOneErrorLine(r, "unreachable");
  EXPECT_LT(r.seconds, 10.0);
}

TEST_F(CliTest, CorruptChunkIsExit4) {
  const std::string content = RandomBytes(1024 * 1024, 7);
  std::string blob = MakeBlob("data", content, {"--chunk-size", "128K"});
  // Random data does not compress: the second chunk's bytes start near 64 + 128K.
  FlipByte(blob, 64 + 128 * 1024 + 1000);
  for (bool no_map : {false, true}) {
    std::vector<std::string> args = {"cat", blob};
    if (no_map) args.push_back("--no-map");
    RunResult r = Run(args);
    EXPECT_EQ(r.exit_code, 4) << r.err;
    ExpectErrorLines(r, "data integrity");
    ExpectErrorLines(r, "read failed at offset 131072: data integrity error");
    // What precedes the bad chunk was written.
    EXPECT_TRUE(r.out == content.substr(0, 128 * 1024)) << r.out.size() << " bytes written";
  }
  // A range that avoids the bad chunk reads fine.
  RunResult r = Run({"cat", blob, "--offset", "256K", "--length", "4096"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == content.substr(256 * 1024, 4096));
}

// The reproducer of a hang (a request for a chunk left to a thread that only read it ahead
// and did not fail it when it turned out bad): a blob of 64 KiB chunks holding 600,000
// random bytes and then text, one bit flipped in chunk 6. Every run of the mapped cat, with
// the default (adaptive) read-ahead, must end with exit 4, having written exactly the
// chunks before the bad one and named the bad chunk's first byte. A hang is killed after
// 60 s and fails the test.
TEST_F(CliTest, CatOfADamagedBlobEndsEveryTime) {
  std::string content = RandomBytes(600000, 12);
  for (int i = 1; i <= 100000; ++i) content += std::to_string(i) + "\n";
  const std::string blob = MakeBlob("repro", content, {"--chunk-size", "64K"});
  // Random bytes do not compress: chunk 6's data starts near 64 + 6 * 64 KiB.
  FlipByte(blob, 64 + 6 * 65536 + 3000);
  constexpr uint64_t kBadChunkStart = 6 * 65536;
  RunOptions options;
  options.timeout = std::chrono::seconds(60);
  for (int run = 0; run < 25; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    RunResult r = Run({"cat", blob}, options);
    ASSERT_FALSE(r.timed_out);
    ASSERT_EQ(r.exit_code, 4) << r.err;
    ExpectOneErrorLine(
        r, "read failed at offset " + std::to_string(kBadChunkStart) + ": data integrity error");
    ASSERT_EQ(r.out.size(), kBadChunkStart);
    ASSERT_TRUE(r.out == content.substr(0, kBadChunkStart));
  }
}

TEST_F(CliTest, DamagedBlobHeaderIsExit4) {
  std::string blob = MakeBlob("data", RandomBytes(200000, 8));
  FlipByte(blob, 20);  // inside the header, after the magic
  RunResult r = Run({"cat", blob});
  EXPECT_EQ(r.exit_code, 4);
  ExpectOneErrorLine(r, "data integrity");
}

TEST_F(CliTest, TruncatedBlobIsExit4) {
  WriteFile(Path("short.blob"), "UPGBLOB1");
  RunResult r = Run({"cat", Path("short.blob")});
  EXPECT_EQ(r.exit_code, 4);
  ExpectOneErrorLine(r, "cannot open");
}

TEST_F(CliTest, UnknownBlobVersionIsExit4) {
  std::string blob = MakeBlob("data", RandomBytes(100000, 9));
  FlipByte(blob, 8);  // the version field follows the magic
  RunResult r = Run({"cat", blob});
  EXPECT_EQ(r.exit_code, 4);
  ExpectOneErrorLine(r, "cannot open");
}

TEST_F(CliTest, UsageErrorsAreExit2) {
  RunResult r = Run({"cat", "x", "--bogus"});
  EXPECT_EQ(r.exit_code, 2);
  ExpectOneErrorLine(r, "--bogus");
  r = Run({"--bogus"});
  EXPECT_EQ(r.exit_code, 2);
  ExpectOneErrorLine(r, "--bogus");
  r = Run({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  r = Run({"cat"});
  EXPECT_EQ(r.exit_code, 2);
  ExpectOneErrorLine(r, "SOURCE");

  WriteFile(Path("f"), "hello");
  r = Run({"cat", Path("f"), "--offset", "12x"});
  EXPECT_EQ(r.exit_code, 2);
  ExpectOneErrorLine(r, "--offset");
  r = Run({"cat", Path("f"), "--length", "-1"});
  EXPECT_EQ(r.exit_code, 2);
  r = Run({"cat", Path("f"), "--read-ahead", "sometimes"});
  EXPECT_EQ(r.exit_code, 2);
  ExpectOneErrorLine(r, "--read-ahead");
  r = Run({"cat", Path("f"), "--access", "willneed"});
  EXPECT_EQ(r.exit_code, 2);
  ExpectOneErrorLine(r, "--access");
  r = Run({"pack", Path("f"), Path("f.blob"), "--chunk-size", "5000"});
  EXPECT_EQ(r.exit_code, 2);
  r = Run({"pack", Path("f"), Path("f.blob"), "--level", "99"});
  EXPECT_EQ(r.exit_code, 2);
  r = Run({"pack", Path("f"), Path("f.blob"), "--level", "three"});
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(CliTest, OffsetBeyondTheEndIsExit2) {
  WriteFile(Path("f"), "hello");
  RunResult r = Run({"cat", Path("f"), "--offset", "6"});
  EXPECT_EQ(r.exit_code, 2);
  ExpectOneErrorLine(r, "beyond the end");
  std::string blob = MakeBlob("g", RandomBytes(10000, 10));
  r = Run({"cat", blob, "--offset", "1M"});
  EXPECT_EQ(r.exit_code, 2);
  ExpectOneErrorLine(r, "beyond the end");
}

TEST_F(CliTest, NoCommandPrintsHelpAndExits2) {
  RunResult r = Run({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("Subcommands"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Exit codes"), std::string::npos) << r.err;
}

TEST_F(CliTest, HelpAndVersion) {
  RunResult r = Run({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* text : {"pack", "cat", "demo", "bench", "--trace", "--stats", "Exit codes",
                           "  3  the source cannot be opened", "  4  corrupt"}) {
    EXPECT_NE(r.out.find(text), std::string::npos) << text << "\n" << r.out;
  }
  r = Run({"cat", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--read-ahead"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--access"), std::string::npos) << r.out;
  r = Run({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("upager ", 0), 0u) << r.out;
}

}  // namespace
}  // namespace upager::cli_test

// Tests of `upager serve`, `upager cat --connect` and `upager demo --processes`
// (tools/upager/serve.cc, cat.cc, demo_processes.cc): a server and its clients as separate
// processes of the built binary. The harness is cli_test_util.h; a server runs in the
// background and the tests wait for its "serving" line, not for a time.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "cli_background.h"
#include "cli_test_util.h"

namespace upager::cli_test {
namespace {

class CliServeTest : public CliBackgroundTest {
 protected:
  // Kills the server with `signo` while a cat reads from it (below).
  void KilledMidCat(int signo);
};

TEST_F(CliServeTest, TwoCatsAtOnceReadWhatIsServed) {
  const std::string content = RandomBytes(6 * 1024 * 1024 + 123, 11);
  WriteFile(Path("plain.bin"), content);
  const std::string blob = MakeBlob("packed", content);
  Background server = Serve({"plain=" + Path("plain.bin"), "packed=" + blob});
  EXPECT_EQ(Lines(ReadFile(server.out_path)),
            std::vector<std::string>{"serving 2 names on " + socket_ + ": plain (file, " +
                                     std::to_string(content.size()) + " bytes) packed (blob, " +
                                     std::to_string(content.size()) + " bytes)"});
  struct stat st;
  ASSERT_EQ(::lstat(socket_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // Two processes at once, on each name.
  for (const char* name : {"plain", "packed"}) {
    Background a = Start("a", {"cat", "--connect", socket_, name});
    Background b = Start("b", {"cat", "--connect", socket_, name});
    EXPECT_EQ(Wait(&a), 0) << ReadFile(a.err_path);
    EXPECT_EQ(Wait(&b), 0) << ReadFile(b.err_path);
    EXPECT_TRUE(ReadFile(a.out_path) == content) << name;
    EXPECT_TRUE(ReadFile(b.out_path) == content) << name;
    EXPECT_EQ(ReadFile(a.err_path), "");
  }
  // The output options of cat.
  RunResult r = Run({"cat", "--connect", socket_, "packed", "--offset", "1M", "--length", "5000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == content.substr(1024 * 1024, 5000));
  r = Run({"cat", "--connect", socket_, "plain", "--no-map", "--offset", "6M"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == content.substr(6 * 1024 * 1024));

  ::kill(server.pid, SIGTERM);
  EXPECT_EQ(Wait(&server), 0);
  EXPECT_NE(ReadFile(server.err_path).find("stopped by SIGTERM"), std::string::npos);
  EXPECT_NE(::lstat(socket_.c_str(), &st), 0);  // the socket file is gone
}

TEST_F(CliServeTest, SigintStopsTheServerCleanly) {
  WriteFile(Path("f"), "hello");
  Background server = Serve({"f=" + Path("f")}, {"--mode", "0660"});
  struct stat st;
  ASSERT_EQ(::lstat(socket_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  RunResult r = Run({"cat", "--connect", socket_, "f"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hello");
  ::kill(server.pid, SIGINT);
  EXPECT_EQ(Wait(&server), 0);
  EXPECT_NE(ReadFile(server.err_path).find("stopped by SIGINT"), std::string::npos);
  r = Run({"cat", "--connect", socket_, "f"});
  EXPECT_EQ(r.exit_code, 3);
  ExpectOneErrorLine(r, "no service there");
}

// The server dies (or is stopped) while a cat is half-way: the pages it had supplied are
// still read, the next absent one fails, and cat says so and exits 1 (never hangs, never
// writes zeros).
TEST_F(CliServeTest, ACatWhoseServerIsKilledFailsWithExit1) { KilledMidCat(SIGKILL); }

TEST_F(CliServeTest, ACatWhoseServerIsStoppedFailsWithExit1) { KilledMidCat(SIGTERM); }

void CliServeTest::KilledMidCat(int signo) {
  const std::string content = RandomBytes(32 * 1024 * 1024, 12);
  WriteFile(Path("big"), content);
  // No read-ahead nor read-around: the pages beyond what cat asked for stay absent.
  Background server = Serve({"big=" + Path("big")}, {"--read-ahead", "off", "--access", "random"});
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  Background cat = Start("cat", {"cat", "--connect", socket_, "big"}, fds[1]);
  ::close(fds[1]);
  // Take 1 MiB of its output: cat is then blocked on the pipe, well before the end.
  std::string got;
  char buf[65536];
  while (got.size() < 1024 * 1024) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    ASSERT_GT(n, 0);
    got.append(buf, static_cast<size_t>(n));
  }
  ::kill(server.pid, signo);
  EXPECT_EQ(Wait(&server), signo == SIGKILL ? 128 + SIGKILL : 0);
  // Drain what it still writes, with a bound (a hang fails the test).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) continue;
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  EXPECT_EQ(Wait(&cat), 1);
  ASSERT_LT(got.size(), content.size());
  EXPECT_TRUE(got == content.substr(0, got.size()));  // never a wrong byte
  RunResult r;
  r.err = ReadFile(cat.err_path);
  ExpectOneErrorLine(
      r, "read failed at offset " + std::to_string(got.size()) + ": the serving process is gone");
}

TEST_F(CliServeTest, ErrorsHaveTheirExitCodes) {
  WriteFile(Path("f"), "data");
  // Nobody serving.
  RunResult r = Run({"cat", "--connect", socket_, "f"});
  EXPECT_EQ(r.exit_code, 3);
  ExpectOneErrorLine(r, "cannot open 'f' at '" + socket_ + "': no service there");
  // Bad arguments to serve.
  r = Run({"serve", "--socket", socket_, "noequals"});
  EXPECT_EQ(r.exit_code, 2);
  ExpectOneErrorLine(r, "expected NAME=SOURCE");
  r = Run({"serve", "--socket", socket_, "a=" + Path("f"), "a=" + Path("f")});
  EXPECT_EQ(r.exit_code, 2);
  ExpectOneErrorLine(r, "given twice");
  r = Run({"serve", "--socket", socket_, "a=" + Path("missing")});
  EXPECT_EQ(r.exit_code, 3);
  ExpectOneErrorLine(r, "cannot open '" + Path("missing") + "'");
  r = Run({"serve", "--socket", Path("no/dir/s"), "a=" + Path("f")});
  EXPECT_EQ(r.exit_code, 3);
  ExpectOneErrorLine(r, "no such directory");
  r = Run({"serve", "--socket", socket_, "--mode", "9", "a=" + Path("f")});
  EXPECT_EQ(r.exit_code, 2);

  Background server = Serve({"f=" + Path("f")});
  r = Run({"cat", "--connect", socket_, "g"});
  EXPECT_EQ(r.exit_code, 3);
  ExpectOneErrorLine(r, "cannot open 'g' at '" + socket_ + "': no such name");
  r = Run({"cat", "--connect", socket_, "f", "--read-ahead", "off"});
  EXPECT_EQ(r.exit_code, 2);
  ExpectOneErrorLine(r, "apply to the serving process");
  r = Run({"cat", "--connect", socket_, "f", "--offset", "5"});
  EXPECT_EQ(r.exit_code, 2);
  ExpectOneErrorLine(r, "beyond the end");
  // A second server on the same socket is refused; the first goes on.
  r = Run({"serve", "--socket", socket_, "a=" + Path("f")});
  EXPECT_EQ(r.exit_code, 3);
  ExpectOneErrorLine(r, "a service is running there");
  r = Run({"cat", "--connect", socket_, "f"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "data");
}

TEST_F(CliServeTest, DemoProcessesShareOneBlob) {
  RunResult r =
      Run({"demo", "--size", "8M", "--chunk-size", "64K", "--processes", "3", "--dir", dir_},
          RunOptions{{}, -1, std::chrono::seconds(120)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::string> v;
  for (const std::string& line : Lines(r.out)) {
    const size_t colon = line.find(": ");
    if (colon != std::string::npos) v[line.substr(0, colon)] = line.substr(colon + 2);
  }
  EXPECT_EQ(v["reader_processes"], "3");
  EXPECT_EQ(v["readers_finished"], "3");
  EXPECT_EQ(v["chunks"], "128");
  EXPECT_EQ(v["chunks_decompressed"], "128");  // once each, for three readers
  EXPECT_EQ(v["each_chunk_decompressed_once"], "1");
  EXPECT_EQ(v["verified_pages"], std::to_string(3 * 2048));
  EXPECT_EQ(v["errors"], "0");
  EXPECT_TRUE(IsNumber(v["read_requests"]));
  EXPECT_GT(std::stoull(v["read_requests"]), 0u);
  // No page was asked for twice: the requests cover at most the blob once.
  EXPECT_LE(std::stoull(v["pages_requested"]), 2048u);
}

}  // namespace
}  // namespace upager::cli_test

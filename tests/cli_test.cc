// Tests of the `upager` command (tools/upager): runs the built binary (UPAGER_CLI_PATH) in a
// child process with stdout and stderr captured, and checks its output, its files and its
// exit codes (0 ok, 1 failure while working, 2 usage, 3 cannot open, 4 corrupt data).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/nginx_server.h"

#ifndef UPAGER_CLI_PATH
#error "UPAGER_CLI_PATH must name the upager binary"
#endif

namespace {

namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(&s[i], &v, std::min<size_t>(8, n - i));
  }
  return s;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
  }
  return lines;
}

struct RunResult {
  int exit_code = -1;  // -1 if killed by a signal
  int signal = 0;
  bool timed_out = false;
  double seconds = 0;
  std::string out;
  std::string err;
};

struct RunOptions {
  std::vector<std::string> env;  // extra NAME=VALUE entries
  int stdout_fd = -1;            // instead of capturing stdout
  std::chrono::seconds timeout{20};
};

// A scratch directory per test, removed at the end.
class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp != nullptr && *tmp ? tmp : "/tmp") + "/upager-cli-XXXXXX";
    ASSERT_NE(mkdtemp(templ.data()), nullptr) << std::strerror(errno);
    dir_ = templ;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  // Runs `upager args...`, capturing stdout and stderr in files of the scratch directory.
  RunResult Run(const std::vector<std::string>& args, const RunOptions& options = {}) {
    const std::string out_path = Path(".stdout"), err_path = Path(".stderr");
    std::vector<std::string> argv_strings = {UPAGER_CLI_PATH};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_strings) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    auto start = std::chrono::steady_clock::now();
    pid_t pid = fork();
    if (pid == 0) {
      int out = options.stdout_fd >= 0 ? options.stdout_fd
                                       : open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int in = open("/dev/null", O_RDONLY);
      if (out < 0 || err < 0 || in < 0) _exit(127);
      dup2(in, 0);
      dup2(out, 1);
      dup2(err, 2);
      for (const std::string& e : options.env) putenv(const_cast<char*>(e.c_str()));
      signal(SIGPIPE, SIG_DFL);
      execv(argv[0], argv.data());
      _exit(127);
    }
    RunResult r;
    if (pid < 0) {
      ADD_FAILURE() << "fork: " << std::strerror(errno);
      return r;
    }
    int status = 0;
    for (;;) {
      pid_t w = waitpid(pid, &status, WNOHANG);
      if (w == pid) break;
      if (std::chrono::steady_clock::now() - start > options.timeout) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        r.timed_out = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (WIFEXITED(status)) {
      r.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      r.signal = WTERMSIG(status);
    }
    r.out = options.stdout_fd >= 0 ? "" : ReadFile(out_path);
    r.err = ReadFile(err_path);
    EXPECT_FALSE(r.timed_out) << "upager timed out: " << r.err;
    EXPECT_EQ(r.signal, 0) << "upager died of signal " << r.signal << ": " << r.err;
    return r;
  }

  // Packs `content` written to `name` into `name`.blob; returns the blob's path.
  std::string MakeBlob(const std::string& name, const std::string& content,
                       const std::vector<std::string>& extra = {}) {
    WriteFile(Path(name), content);
    std::vector<std::string> args = {"pack", Path(name), Path(name + ".blob")};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Path(name + ".blob");
  }

  std::string dir_;
};

// The error convention: exactly one line, starting with "upager: ".
void ExpectOneErrorLine(const RunResult& r, const std::string& contains) {
  std::vector<std::string> lines = Lines(r.err);
  ASSERT_EQ(lines.size(), 1u) << r.err;
  EXPECT_EQ(lines[0].rfind("upager: ", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find(contains), std::string::npos) << lines[0];
}

// Every stderr line is an "upager: " line, and one of them contains `contains` (a provider
// may log its own diagnostic line, from another thread, before or after ours).
void ExpectErrorLines(const RunResult& r, const std::string& contains) {
  std::vector<std::string> lines = Lines(r.err);
  ASSERT_FALSE(lines.empty());
  bool found = false;
  for (const std::string& line : lines) {
    EXPECT_EQ(line.rfind("upager: ", 0), 0u) << line;
    found = found || line.find(contains) != std::string::npos;
  }
  EXPECT_TRUE(found) << "no line contains '" << contains << "':\n" << r.err;
}

void FlipByte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5a);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
  ASSERT_TRUE(f.good()) << path;
}

// A minimal JSON checker: true if `text` is one JSON value (objects, arrays, strings,
// numbers, literals); `keys` gets the top-level object's keys and number values.
class Json {
 public:
  explicit Json(const std::string& text) : s_(text) {}
  bool ParseObject(std::map<std::string, std::string>* keys) {
    Space();
    if (!Object(keys, /*top=*/true)) return false;
    Space();
    return i_ == s_.size();
  }

 private:
  void Space() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool Eat(char c) {
    Space();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool String(std::string* out) {
    if (!Eat('"')) return false;
    while (i_ < s_.size() && s_[i_] != '"') {
      if (s_[i_] == '\\') ++i_;
      if (out) out->push_back(s_[i_]);
      ++i_;
    }
    return Eat('"');
  }
  bool Value(std::string* number) {
    Space();
    if (i_ >= s_.size()) return false;
    char c = s_[i_];
    if (c == '{') return Object(nullptr, false);
    if (c == '[') {
      ++i_;
      if (Eat(']')) return true;
      do {
        if (!Value(nullptr)) return false;
      } while (Eat(','));
      return Eat(']');
    }
    if (c == '"') return String(nullptr);
    for (const char* lit : {"true", "false", "null"}) {
      if (s_.compare(i_, std::strlen(lit), lit) == 0) {
        i_ += std::strlen(lit);
        return true;
      }
    }
    size_t start = i_;
    while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) ||
                              std::strchr("+-.eE", s_[i_]) != nullptr)) {
      ++i_;
    }
    if (i_ == start) return false;
    if (number) *number = s_.substr(start, i_ - start);
    return true;
  }
  bool Object(std::map<std::string, std::string>* keys, bool top) {
    if (!Eat('{')) return false;
    if (Eat('}')) return true;
    do {
      std::string key, number;
      Space();
      if (!String(&key) || !Eat(':') || !Value(&number)) return false;
      if (top && keys) (*keys)[key] = number;
    } while (Eat(','));
    return Eat('}');
  }
  const std::string& s_;
  size_t i_ = 0;
};

bool IsNumber(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

// ---------------------------------------------------------------------------------------
// demo

TEST_F(CliTest, DemoSmallRunReportsEveryKey) {
  RunResult r = Run({"demo", "--size", "16M", "--threads", "2", "--dir", dir_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_GE(lines.size(), 3u) << r.out;
  EXPECT_EQ(lines[0].rfind("upager demo", 0), 0u) << lines[0];
  std::map<std::string, std::string> report;
  size_t i = 1;
  for (; i < lines.size() && !lines[i].empty(); ++i) {
    size_t colon = lines[i].find(": ");
    ASSERT_NE(colon, std::string::npos) << lines[i];
    std::string key = lines[i].substr(0, colon);
    for (char c : key) {
      EXPECT_TRUE(std::islower(static_cast<unsigned char>(c)) || std::isdigit(c) || c == '_')
          << "key not snake_case: " << key;
    }
    std::string value = lines[i].substr(colon + 2);
    EXPECT_TRUE(IsNumber(value)) << lines[i];
    report[key] = value;
  }
  ASSERT_LT(i, lines.size()) << "the report must end with a blank line";
  for (const char* key :
       {"pages_total", "pages_requested", "read_requests", "requests_deduplicated",
        "bytes_supplied", "faults", "upager_seconds", "upager_mib_per_s", "request_latency_p50_us",
        "request_latency_p99_us", "mmap_seconds", "mmap_mib_per_s", "ratio_upager_vs_mmap",
        "verified_pages", "errors"}) {
    EXPECT_EQ(report.count(key), 1u) << "missing key " << key << "\n" << r.out;
  }
  EXPECT_EQ(std::stoull(report["pages_total"]), 16u * 1024 * 1024 / 4096);
  EXPECT_EQ(std::stoull(report["errors"]), 0u);
  EXPECT_GT(std::stoull(report["verified_pages"]), 0u);
  EXPECT_GT(std::stoull(report["read_requests"]), 0u);
  EXPECT_GE(std::stoull(report["bytes_supplied"]),
            16u * 1024 * 1024);  // chunks may be supplied twice
  // The scratch directory was removed.
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_NE(entry.path().filename().string().rfind("upager-demo-", 0), 0u)
        << "demo left " << entry.path();
  }
}

TEST_F(CliTest, DemoKeepsItsFilesWithKeepAndPrintsStatsJson) {
  RunResult r = Run({"demo", "--size", "1M", "--threads", "3", "--chunk-size", "64K", "--dir", dir_,
                     "--keep", "--stats", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_FALSE(lines.empty());
  std::map<std::string, std::string> keys;
  EXPECT_TRUE(Json(lines.back()).ParseObject(&keys)) << lines.back();
  EXPECT_EQ(keys.count("read_requests"), 1u);
  bool kept = false;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    if (entry.path().filename().string().rfind("upager-demo-", 0) == 0) {
      kept = fs::exists(entry.path() / "data.bin") && fs::exists(entry.path() / "data.blob");
    }
  }
  EXPECT_TRUE(kept);
}

TEST_F(CliTest, DemoWithoutMappingsUsesVmoRead) {
  RunOptions options;
  options.env = {"UPAGER_NO_USERFAULTFD=1"};
  RunResult r = Run({"demo", "--size", "4M", "--threads", "2", "--dir", dir_}, options);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\nmapped: 0\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nerrors: 0\n"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("Vmo::Read"), std::string::npos) << r.err;
}

TEST_F(CliTest, DemoRejectsBadArguments) {
  ExpectOneErrorLine(Run({"demo", "--size", "lots"}), "--size");
  EXPECT_EQ(Run({"demo", "--threads", "0"}).exit_code, 2);
  EXPECT_EQ(Run({"demo", "--chunk-size", "1000"}).exit_code, 2);
  RunResult r = Run({"demo", "--size", "1M", "--dir", Path("no/such/dir")});
  EXPECT_EQ(r.exit_code, 3);
  ExpectOneErrorLine(r, "No such file or directory");
}

// ---------------------------------------------------------------------------------------
// pack and cat

TEST_F(CliTest, PackThenCatReproducesTheInput) {
  const std::string content = RandomBytes(3 * 1024 * 1024 + 1234, 1);  // not a page multiple
  WriteFile(Path("in.bin"), content);
  RunResult packed =
      Run({"pack", Path("in.bin"), Path("in.blob"), "--chunk-size", "64K", "--level", "1"});
  ASSERT_EQ(packed.exit_code, 0) << packed.err;
  EXPECT_NE(packed.out.find("ratio"), std::string::npos) << packed.out;
  EXPECT_NE(packed.out.find("chunks"), std::string::npos) << packed.out;

  RunResult r = Run({"cat", Path("in.blob")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == content) << "cat of the blob differs (" << r.out.size() << " bytes)";
  EXPECT_EQ(r.err, "");

  r = Run({"cat", Path("in.blob"), "--offset", "5000", "--length", "100000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == content.substr(5000, 100000));

  // A length past the end is clipped; sizes take suffixes.
  r = Run({"cat", Path("in.blob"), "--offset", "3M", "--length", "1G"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == content.substr(3 * 1024 * 1024));

  r = Run({"cat", Path("in.blob"), "--no-map", "--offset", "4095", "--length", "8194"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == content.substr(4095, 8194));

  for (const char* mode : {"off", "fixed", "adaptive"}) {
    r = Run({"cat", Path("in.blob"), "--read-ahead", mode});
    ASSERT_EQ(r.exit_code, 0) << mode << ": " << r.err;
    EXPECT_TRUE(r.out == content) << mode;
  }

  // Offset exactly at the end: nothing, successfully.
  r = Run({"cat", Path("in.blob"), "--offset", std::to_string(content.size())});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(CliTest, PackOfCompressibleDataShrinksIt) {
  std::string content;
  for (int i = 0; content.size() < 2 * 1024 * 1024; ++i) {
    content += "line " + std::to_string(i % 1000) + " of a very repetitive text file\n";
  }
  std::string blob = MakeBlob("text.txt", content);
  EXPECT_LT(fs::file_size(blob), content.size() / 4);
  RunResult r = Run({"cat", blob});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == content);
}

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

TEST_F(CliTest, CatOverHttp) {
  std::string why;
  if (!upager::tools::NginxServer::Available(&why)) GTEST_SKIP() << why;
  upager::tools::NginxServer server;
  ASSERT_TRUE(server.Start(&why)) << why;
  const std::string content = RandomBytes(3 * 1024 * 1024 + 99, 11);
  ASSERT_TRUE(server.WriteFile("object.bin", content));
  ASSERT_TRUE(server.WriteFile("noranges/object.bin", content));

  RunResult r = Run({"cat", server.Url("object.bin")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == content) << r.out.size() << " bytes";
  r = Run(
      {"cat", server.Url("object.bin"), "--offset", "1000000", "--length", "70000", "--no-map"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == content.substr(1000000, 70000));

  r = Run({"cat", server.Url("missing.bin")});
  EXPECT_EQ(r.exit_code, 3);
  ExpectOneErrorLine(r, "not found");
  r = Run({"cat", server.Url("forbidden/object.bin")});
  EXPECT_EQ(r.exit_code, 3);
  ExpectOneErrorLine(r, "permission denied");
  r = Run({"cat", server.Url("noranges/object.bin")});
  EXPECT_EQ(r.exit_code, 3);
  ExpectOneErrorLine(r, "range");
}

// ---------------------------------------------------------------------------------------
// --trace and --stats

TEST_F(CliTest, TraceAndStatsOfCat) {
  const std::string content = RandomBytes(1024 * 1024, 5);
  std::string blob = MakeBlob("data", content);
  RunResult r = Run({"--trace", Path("trace.json"), "cat", blob, "--stats", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == content);  // stdout is only data

  std::string trace = ReadFile(Path("trace.json"));
  EXPECT_EQ(trace.rfind("{\"traceEvents\"", 0), 0u) << trace.substr(0, 100);
  EXPECT_NE(trace.find("READ request"), std::string::npos);
  EXPECT_TRUE(Json(trace).ParseObject(nullptr)) << "trace is not valid JSON";

  bool stats_seen = false, trace_line_seen = false;
  for (const std::string& line : Lines(r.err)) {
    if (!line.empty() && line[0] == '{') {
      std::map<std::string, std::string> keys;
      ASSERT_TRUE(Json(line).ParseObject(&keys)) << line;
      ASSERT_EQ(keys.count("read_requests"), 1u) << line;
      EXPECT_GT(std::stoull(keys["read_requests"]), 0u);
      stats_seen = true;
    }
    if (line.rfind("trace: ", 0) == 0) {
      EXPECT_NE(line.find("events written to " + Path("trace.json")), std::string::npos);
      EXPECT_NE(line.find("ui.perfetto.dev"), std::string::npos);
      trace_line_seen = true;
    }
  }
  EXPECT_TRUE(stats_seen) << r.err;
  EXPECT_TRUE(trace_line_seen) << r.err;
}

TEST_F(CliTest, StatsOfPackGoToStdout) {
  WriteFile(Path("in"), RandomBytes(100000, 6));
  RunResult r = Run({"pack", Path("in"), Path("in.blob"), "--stats", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_TRUE(Json(lines[1]).ParseObject(nullptr)) << lines[1];
  EXPECT_EQ(Run({"--stats", "xml", "pack", Path("in"), Path("x")}).exit_code, 2);
}

TEST_F(CliTest, TraceIsWrittenAfterAFailureToo) {
  RunResult r = Run({"cat", Path("missing"), "--trace", Path("t.json")});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(ReadFile(Path("t.json")).rfind("{\"traceEvents\"", 0), 0u);
}

// ---------------------------------------------------------------------------------------
// Bad inputs and exit codes

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
  r = Run({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("upager ", 0), 0u) << r.out;
}

}  // namespace

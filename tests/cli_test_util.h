// Support for the tests of the `upager` command (tools/upager): runs the built binary
// (UPAGER_CLI_PATH) in a child process with stdout and stderr captured, and checks its
// output, its files and its exit codes (0 ok, 1 failure while working, 2 usage, 3 cannot
// open, 4 corrupt data).
#ifndef UPAGER_TESTS_CLI_TEST_UTIL_H_
#define UPAGER_TESTS_CLI_TEST_UTIL_H_

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

#ifndef UPAGER_CLI_PATH
#error "UPAGER_CLI_PATH must name the upager binary"
#endif

namespace upager::cli_test {

namespace fs = std::filesystem;

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(out.good()) << path;
}

inline std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(&s[i], &v, std::min<size_t>(8, n - i));
  }
  return s;
}

inline std::vector<std::string> Lines(const std::string& text) {
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
inline void ExpectOneErrorLine(const RunResult& r, const std::string& contains) {
  std::vector<std::string> lines = Lines(r.err);
  ASSERT_EQ(lines.size(), 1u) << r.err;
  EXPECT_EQ(lines[0].rfind("upager: ", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find(contains), std::string::npos) << lines[0];
}

// Every stderr line is an "upager: " line, and one of them contains `contains` (a provider
// may log its own diagnostic line, from another thread, before or after ours).
inline void ExpectErrorLines(const RunResult& r, const std::string& contains) {
  std::vector<std::string> lines = Lines(r.err);
  ASSERT_FALSE(lines.empty());
  bool found = false;
  for (const std::string& line : lines) {
    EXPECT_EQ(line.rfind("upager: ", 0), 0u) << line;
    found = found || line.find(contains) != std::string::npos;
  }
  EXPECT_TRUE(found) << "no line contains '" << contains << "':\n" << r.err;
}

inline void FlipByte(const std::string& path, uint64_t offset) {
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

inline bool IsNumber(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

// ---------------------------------------------------------------------------------------
// demo

}  // namespace upager::cli_test

#endif  // UPAGER_TESTS_CLI_TEST_UTIL_H_

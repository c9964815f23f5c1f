// CliBackgroundTest: the CLI harness (cli_test_util.h) plus `upager` processes running in
// the background, such as `upager serve`, which tests wait for by its "serving" line, not
// for a time.
#ifndef UPAGER_TESTS_CLI_BACKGROUND_H_
#define UPAGER_TESTS_CLI_BACKGROUND_H_

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "cli_test_util.h"

namespace upager::cli_test {

// A `upager` process running in the background; killed (and reaped) when it goes, if it is
// still running then (a test that failed half-way leaves none behind).
struct Background {
  Background() = default;
  Background(Background&& other) noexcept
      : pid(other.pid), out_path(std::move(other.out_path)), err_path(std::move(other.err_path)) {
    other.pid = -1;
  }
  Background& operator=(Background&&) = delete;
  ~Background() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  pid_t pid = -1;
  std::string out_path, err_path;
};

class CliBackgroundTest : public CliTest {
 protected:
  // Starts `upager args...` with stdout to `stdout_fd` (or a file) and stderr to a file.
  Background Start(const std::string& tag, const std::vector<std::string>& args,
                   int stdout_fd = -1) {
    Background b;
    b.out_path = Path("." + tag + ".out");
    b.err_path = Path("." + tag + ".err");
    std::vector<std::string> strings = {UPAGER_CLI_PATH};
    strings.insert(strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : strings) argv.push_back(a.data());
    argv.push_back(nullptr);
    b.pid = fork();
    if (b.pid == 0) {
      const int out =
          stdout_fd >= 0 ? stdout_fd : open(b.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int err = open(b.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int in = open("/dev/null", O_RDONLY);
      if (out < 0 || err < 0 || in < 0) _exit(127);
      dup2(in, 0);
      dup2(out, 1);
      dup2(err, 2);
      execv(argv[0], argv.data());
      _exit(127);
    }
    EXPECT_GT(b.pid, 0);
    return b;
  }

  // Waits for `b` to exit (killing it after 30 s): its exit code, or 128 + signal.
  static int Wait(Background* b) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    int status = 0;
    while (::waitpid(b->pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "pid " << b->pid << " did not exit: killed";
        ::kill(b->pid, SIGKILL);
        ::waitpid(b->pid, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    b->pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  // Starts `upager serve --socket <socket> specs...` and waits for its "serving" line.
  Background Serve(const std::vector<std::string>& specs,
                   const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"serve", "--socket", socket_};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), specs.begin(), specs.end());
    Background b = Start("serve", args);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (ReadFile(b.out_path).find("serving") == std::string::npos) {
      int status = 0;
      if (::waitpid(b.pid, &status, WNOHANG) == b.pid) {
        ADD_FAILURE() << "serve exited: " << ReadFile(b.err_path);
        b.pid = -1;
        return b;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "serve never said it was serving: " << ReadFile(b.err_path);
        return b;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return b;
  }

  void SetUp() override {
    CliTest::SetUp();
    socket_ = Path("serve.sock");
  }

  std::string socket_;
};

}  // namespace upager::cli_test

#endif  // UPAGER_TESTS_CLI_BACKGROUND_H_

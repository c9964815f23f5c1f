// fuchsia_expectations_check BINARY EXPECTATIONS TIMEOUT_SECONDS
//
// Runs each case of BINARY (a Fuchsia test executable, docs/zx-compat.md) that
// EXPECTATIONS lists, one process per case, two at a time, each killed after TIMEOUT_SECONDS,
// and fails if any of them passes: the entry is stale and should go. Entries of the category
// kernel-only are not run (they are listed because Linux cannot do what they test, whatever a
// run of them here prints). An entry whose suite is BINARY's but whose case BINARY does not
// have is an error too (a typo, or a case renamed upstream).
//
// EXPECTATIONS: one case a line, `Suite.Case category reason...`; `#` starts a comment.
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Entry {
  std::string name, category, reason;
};

std::set<std::string> ListCases(const std::string& binary) {
  std::set<std::string> cases;
  const std::string command = "'" + binary + "' --gtest_list_tests";
  FILE* out = popen(command.c_str(), "r");
  if (out == nullptr) return cases;
  char line[4096];
  std::string suite;
  while (fgets(line, sizeof(line), out) != nullptr) {
    std::string text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (text.empty()) continue;
    if (text[0] != ' ') {
      suite = text.substr(0, text.find(' '));  // "Suite." (a comment may follow)
    } else {
      const size_t start = text.find_first_not_of(' ');
      cases.insert(suite + text.substr(start, text.find(' ', start) - start));
    }
  }
  pclose(out);
  return cases;
}

std::vector<Entry> ReadExpectations(const std::string& path) {
  std::vector<Entry> entries;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line[0] == ' ' || line[0] == '\t') continue;
    std::istringstream fields(line);
    Entry entry;
    fields >> entry.name >> entry.category;
    std::getline(fields, entry.reason);
    entries.push_back(entry);
  }
  return entries;
}

double Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

pid_t Launch(const std::string& binary, const std::string& name) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    const std::string filter = "--gtest_filter=" + name;
    execl(binary.c_str(), binary.c_str(), filter.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: " << argv[0] << " BINARY EXPECTATIONS TIMEOUT_SECONDS\n";
    return 2;
  }
  const std::string binary = argv[1];
  const double timeout = atof(argv[3]);
  const std::set<std::string> cases = ListCases(binary);
  if (cases.empty()) {
    std::cerr << binary << " lists no cases\n";
    return 1;
  }
  std::set<std::string> suites;
  for (const std::string& c : cases) suites.insert(c.substr(0, c.find('.')));

  int errors = 0;
  std::vector<Entry> to_run;
  for (const Entry& entry : ReadExpectations(argv[2])) {
    if (cases.count(entry.name) != 0) {
      if (entry.category != "kernel-only") to_run.push_back(entry);
    } else if (suites.count(entry.name.substr(0, entry.name.find('.'))) != 0) {
      std::cout << "UNKNOWN: " << entry.name << " is listed but " << binary
                << " has no such case\n";
      ++errors;
    }
  }

  struct Running {
    pid_t pid;
    double started;
    const Entry* entry;
  };
  constexpr size_t kParallel = 2;
  std::vector<Running> running;
  size_t next = 0, stale = 0;
  while (next < to_run.size() || !running.empty()) {
    while (running.size() < kParallel && next < to_run.size()) {
      running.push_back({Launch(binary, to_run[next].name), Now(), &to_run[next]});
      ++next;
    }
    for (size_t i = 0; i < running.size();) {
      int status = 0;
      const pid_t done = waitpid(running[i].pid, &status, WNOHANG);
      if (done == 0 && Now() - running[i].started < timeout) {
        ++i;
        continue;
      }
      if (done == 0) {  // timed out: still expected to fail
        kill(running[i].pid, SIGKILL);
        waitpid(running[i].pid, &status, 0);
      } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        std::cout << "STALE: " << running[i].entry->name << " passes; listed as "
                  << running[i].entry->category << ":" << running[i].entry->reason << "\n";
        ++stale;
      }
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
    }
    usleep(20000);
  }
  std::cout << to_run.size() << " listed cases run, " << stale << " stale, " << errors
            << " unknown\n";
  return stale == 0 && errors == 0 ? 0 : 1;
}

#include "fault/untracked_faults.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace upager::internal {
namespace {

// Reads /proc/self/task/<tid>/<name> into buf (NUL-terminated); false if unreadable.
bool ReadTaskFile(pid_t tid, const char* name, char* buf, size_t size) {
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/self/task/%d/%s", static_cast<int>(tid), name);
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const ssize_t n = ::read(fd, buf, size - 1);
  ::close(fd);
  if (n < 0) return false;
  buf[n] = '\0';
  return true;
}

bool InUserfault(pid_t tid) {
  char wchan[128];
  return ReadTaskFile(tid, "wchan", wchan, sizeof(wchan)) &&
         std::strncmp(wchan, "handle_userfault", 16) == 0;
}

// The thread's voluntary context switches: unchanged between two reads only if it has not
// run in between. UINT64_MAX if unreadable.
uint64_t VoluntarySwitches(pid_t tid) {
  char status[4096];
  if (!ReadTaskFile(tid, "status", status, sizeof(status))) return UINT64_MAX;
  const char* line = std::strstr(status, "\nvoluntary_ctxt_switches:");
  if (line == nullptr) return UINT64_MAX;
  return std::strtoull(line + std::strlen("\nvoluntary_ctxt_switches:"), nullptr, 10);
}

}  // namespace

void UntrackedFaultWatch::Scan(bool (*tracked)(pid_t tid), std::vector<pid_t>* confirmed) {
  std::vector<Suspect> now;
  DIR* dir = ::opendir("/proc/self/task");
  if (dir == nullptr) {
    suspects_.clear();
    return;
  }
  while (const dirent* entry = ::readdir(dir)) {
    const pid_t tid = static_cast<pid_t>(std::atoi(entry->d_name));
    if (tid <= 0 || !InUserfault(tid) || tracked(tid)) continue;
    const uint64_t switches = VoluntarySwitches(tid);
    if (switches == UINT64_MAX) continue;
    now.push_back({tid, switches});
  }
  ::closedir(dir);
  for (const Suspect& s : now) {
    const auto before = std::find_if(suspects_.begin(), suspects_.end(),
                                     [&](const Suspect& b) { return b.tid == s.tid; });
    if (before != suspects_.end() && before->switches == s.switches) {
      confirmed->push_back(s.tid);
    }
  }
  suspects_ = std::move(now);
}

}  // namespace upager::internal

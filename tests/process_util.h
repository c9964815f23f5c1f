// Tests across processes: the test binary re-executes itself as a child with a role
// (UPAGER_TEST_CHILD) and one end of a Channel on descriptor 3. A test file using this
// defines main() with UPAGER_TEST_MAIN(RunChild), where RunChild(role, channel) runs the
// child's side and returns its exit code.
#ifndef UPAGER_TESTS_PROCESS_UTIL_H_
#define UPAGER_TESTS_PROCESS_UTIL_H_

#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "upager/channel.h"
#include "upager/vmo.h"
#include "user_pager.h"

extern char** environ;

namespace upager {

inline constexpr int kChildFd = 3;

inline Deadline Soon() { return std::chrono::steady_clock::now() + std::chrono::seconds(20); }

// What a test and its child say to each other, besides handles.
struct Note {
  int32_t status;
  uint32_t value;
  uint64_t offset;
  uint64_t len;
};

inline Status Send(const Channel& c, Note note, Vmo* vmo = nullptr) {
  return c.Write(&note, sizeof note, vmo, vmo != nullptr ? 1 : 0);
}

// The next note (and its handle, if any); kPeerClosed once the other side is gone.
inline Status Receive(const Channel& c, Note* note, Vmo* vmo = nullptr,
                      std::vector<char>* extra = nullptr) {
  std::vector<char> buf(kChannelMaxMsgBytes);
  while (true) {
    if (Status s = c.Wait(Soon()); s != Status::kOk) return s;
    uint32_t n = 0, h = 0;
    Vmo got;
    const Status s = c.Read(buf.data(), static_cast<uint32_t>(buf.size()), &n, &got, 1, &h);
    if (s == Status::kShouldWait) continue;
    if (s != Status::kOk) return s;
    if (n < sizeof(Note)) return Status::kInternal;
    std::memcpy(note, buf.data(), sizeof *note);
    if (extra != nullptr) extra->assign(buf.data() + sizeof *note, buf.data() + n);
    if (vmo != nullptr) *vmo = std::move(got);
    return Status::kOk;
  }
}

struct Child {
  pid_t pid = -1;
  Channel channel;

  int Wait() {
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
    return status;
  }
  void Kill() {
    if (pid > 0) ::kill(pid, SIGKILL);
  }
};

inline Child Spawn(const char* role) {
  Child child;
  Channel mine, theirs;
  EXPECT_EQ(Channel::Create(0, &mine, &theirs), Status::kOk);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, theirs.fd(), kChildFd);  // clears FD_CLOEXEC
  std::string role_env = std::string("UPAGER_TEST_CHILD=") + role;
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
  env.push_back(role_env.data());
  env.push_back(nullptr);
  char exe[] = "/proc/self/exe";
  char* argv[] = {exe, nullptr};
  EXPECT_EQ(::posix_spawn(&child.pid, exe, &actions, nullptr, argv, env.data()), 0);
  posix_spawn_file_actions_destroy(&actions);
  child.channel = std::move(mine);
  return child;
}

inline size_t CountEntries(const char* dir_path) {
  size_t n = 0;
  DIR* dir = ::opendir(dir_path);
  while (::readdir(dir) != nullptr) ++n;
  ::closedir(dir);
  return n;
}

// The pager: makes a 4-page VMO, supplies page 0, sends a handle, reports the READ packet
// of any other page and then leaves it unanswered until killed.
inline int OwnerChild(const Channel& parent) {
  testing::UserPager pager;
  std::unique_ptr<testing::TestVmo> vmo = pager.CreateVmo(4);
  if (vmo == nullptr || pager.SupplyPages(*vmo, 0, 1) != Status::kOk) return 20;
  Vmo copy;
  if (vmo->vmo.Duplicate(&copy) != Status::kOk) return 21;
  if (Send(parent, Note{0, 0, vmo->key, 0}, &copy) != Status::kOk) return 22;
  if (!pager.WaitForPageRead(*vmo, 1, 1, std::chrono::seconds(20))) return 23;
  Send(parent, Note{0, 1, 1, 1});
  Note note;
  while (Receive(parent, &note) == Status::kOk) {
  }
  return 0;
}

}  // namespace upager

#define UPAGER_TEST_MAIN(run_child)                                                            \
  int main(int argc, char** argv) {                                                            \
    if (const char* role = std::getenv("UPAGER_TEST_CHILD"); role != nullptr) {                \
      ::unsetenv("UPAGER_TEST_CHILD");                                                         \
      upager::Channel parent;                                                                  \
      if (upager::Channel::FromFd(upager::kChildFd, &parent) != upager::Status::kOk) return 2; \
      return run_child(role, parent);                                                          \
    }                                                                                          \
    ::testing::InitGoogleTest(&argc, argv);                                                    \
    return RUN_ALL_TESTS();                                                                    \
  }

#endif  // UPAGER_TESTS_PROCESS_UTIL_H_

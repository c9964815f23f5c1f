// VMO handles across real processes: the test binary re-executes itself as a child with a
// role (UPAGER_TEST_CHILD) and one end of a Channel on descriptor 3, so that each side is a
// separate process with its own address space, descriptors and threads.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "pager/vmo_export.h"
#include "process_util.h"
#include "upager/channel.h"
#include "upager/pager.h"
#include "upager/port.h"
#include "upager/rights.h"
#include "upager/vmo.h"
#include "user_pager.h"

extern char** environ;

namespace upager {
namespace {

using testing::TestVmo;
using testing::UserPager;

// ---- The children ----

// Receives a handle, then reads [offset, offset+len) of it for each note and answers with
// the status and the bytes, until the parent closes the channel.
int ReaderChild(const Channel& parent) {
  Note note{};
  Vmo vmo;
  if (Receive(parent, &note, &vmo) != Status::kOk || !vmo.is_valid()) return 10;
  if (Send(parent, Note{0, 0, vmo.koid(), 0}) != Status::kOk) return 11;
  while (Receive(parent, &note) == Status::kOk) {
    std::vector<char> reply(sizeof(Note) + note.len);
    const Status s = vmo.Read(reply.data() + sizeof(Note), note.offset, note.len);
    Note answer{static_cast<int32_t>(s), 0, note.offset, s == Status::kOk ? note.len : 0};
    std::memcpy(reply.data(), &answer, sizeof answer);
    parent.Write(reply.data(), static_cast<uint32_t>(sizeof(Note) + answer.len), nullptr, 0);
  }
  return 0;
}

// A holder with read rights only, running as another user, tries every way to change the
// pages it can think of and reports which of them failed (a bit per attempt).
int EscapeChild(const Channel& parent) {
  Note note{};
  Vmo vmo;
  if (Receive(parent, &note, &vmo) != Status::kOk || !vmo.is_valid()) return 30;
  if (::setgid(65534) != 0 || ::setuid(65534) != 0) return 31;
  ::prctl(PR_SET_DUMPABLE, 1);  // its own /proc/self/fd again (setuid took it away)
  uint32_t refused = 0;
  if (vmo.Write("X", 0, 1) == Status::kAccessDenied) refused |= 1;
  // Every descriptor of the VMO's memfd this process holds.
  int found = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  for (dirent* e = ::readdir(dir); e != nullptr; e = ::readdir(dir)) {
    char path[300], target[256] = {};
    std::snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
    if (::readlink(path, target, sizeof target - 1) <= 0 ||
        std::strstr(target, "memfd:upager-vmo") == nullptr) {
      continue;
    }
    ++found;
    const int fd = std::atoi(e->d_name);
    if (::pwrite(fd, "X", 1, 0) < 0) refused |= 2;
    if (::mmap(nullptr, kPageSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED) {
      refused |= 4;
    }
    void* ro = ::mmap(nullptr, kPageSize, PROT_READ, MAP_SHARED, fd, 0);
    if (ro != MAP_FAILED) {
      if (::mprotect(ro, kPageSize, PROT_READ | PROT_WRITE) != 0) refused |= 8;
      ::munmap(ro, kPageSize);
    }
    if (::open(path, O_RDWR) < 0) refused |= 16;
    if (::fchmod(fd, 0666) != 0) refused |= 32;
  }
  ::closedir(dir);
  Send(parent, Note{found, refused, 0, 0});
  return 0;
}

int RunChild(const char* role, const Channel& parent) {
  if (std::strcmp(role, "reader") == 0) return ReaderChild(parent);
  if (std::strcmp(role, "owner") == 0) return OwnerChild(parent);
  if (std::strcmp(role, "escape") == 0) return EscapeChild(parent);
  return 3;
}

// ---- The tests ----

// A reader child holding a duplicate of `vmo`.
Child StartReader(const Vmo& vmo, uint32_t rights = kRightSameRights) {
  Child child = Spawn("reader");
  Vmo copy;
  EXPECT_EQ(vmo.Duplicate(rights, &copy), Status::kOk);
  EXPECT_EQ(Send(child.channel, Note{}, &copy), Status::kOk);
  Note ack{};
  EXPECT_EQ(Receive(child.channel, &ack), Status::kOk);
  EXPECT_EQ(ack.offset, vmo.koid());  // the same object there
  return child;
}

TEST(Process, AChildsReadIsOnePacketHere) {
  UserPager pager;
  std::unique_ptr<TestVmo> vmo = pager.CreateVmo(4);
  ASSERT_NE(vmo, nullptr);
  Child child = StartReader(vmo->vmo);
  ASSERT_EQ(Send(child.channel, Note{0, 0, 2 * kPageSize, kPageSize}), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 2, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 2, 1), Status::kOk);
  Note answer{};
  std::vector<char> data;
  ASSERT_EQ(Receive(child.channel, &answer, nullptr, &data), Status::kOk);
  EXPECT_EQ(answer.status, 0);
  ASSERT_EQ(data.size(), kPageSize);
  EXPECT_TRUE(UserPager::CheckPattern(vmo->key, 2, 1, data.data()));
  EXPECT_FALSE(pager.AnyPacket());
  child.channel.Reset();
  EXPECT_EQ(child.Wait(), 0);
}

TEST(Process, FourProcessesOnOnePageMakeOnePacket) {
  UserPager pager;
  std::unique_ptr<TestVmo> vmo = pager.CreateVmo(4);
  ASSERT_NE(vmo, nullptr);
  std::vector<Child> children;
  for (int i = 0; i < 4; ++i) children.push_back(StartReader(vmo->vmo));
  for (Child& c : children) {
    ASSERT_EQ(Send(c.channel, Note{0, 0, 3 * kPageSize, kPageSize}), Status::kOk);
  }
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 3, 1));
  for (int i = 0; i < 20000 && internal::ExportWaitersForTesting() < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(internal::ExportWaitersForTesting(), 4u);  // all four wait on the one request
  ASSERT_EQ(pager.SupplyPages(*vmo, 3, 1), Status::kOk);
  for (Child& c : children) {
    Note answer{};
    std::vector<char> data;
    ASSERT_EQ(Receive(c.channel, &answer, nullptr, &data), Status::kOk);
    EXPECT_EQ(answer.status, 0);
    ASSERT_EQ(data.size(), kPageSize);
    EXPECT_TRUE(UserPager::CheckPattern(vmo->key, 3, 1, data.data()));
  }
  EXPECT_FALSE(pager.AnyPacket());
  for (Child& c : children) {
    c.channel.Reset();
    EXPECT_EQ(c.Wait(), 0);
  }
}

TEST(Process, APagerFailureReachesTheChild) {
  UserPager pager;
  std::unique_ptr<TestVmo> vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  Child child = StartReader(vmo->vmo);
  ASSERT_EQ(Send(child.channel, Note{0, 0, kPageSize, kPageSize}), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_EQ(pager.FailPages(*vmo, 1, 1, Status::kIoDataIntegrity), Status::kOk);
  Note answer{};
  ASSERT_EQ(Receive(child.channel, &answer), Status::kOk);
  EXPECT_EQ(answer.status, static_cast<int32_t>(Status::kIoDataIntegrity));
  // Out of range is the VMO's answer, as locally.
  ASSERT_EQ(Send(child.channel, Note{0, 0, 2 * kPageSize, 1}), Status::kOk);
  ASSERT_EQ(Receive(child.channel, &answer), Status::kOk);
  EXPECT_EQ(answer.status, static_cast<int32_t>(Status::kOutOfRange));
  child.channel.Reset();
  EXPECT_EQ(child.Wait(), 0);
}

TEST(Process, TheCompleteComesAfterTheLastRemoteHandle) {
  UserPager pager;
  std::unique_ptr<TestVmo> vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  Child child = StartReader(vmo->vmo);
  vmo->vmo.Reset();
  EXPECT_FALSE(pager.WaitForPageComplete(vmo->key, std::chrono::milliseconds(0)));
  child.channel.Reset();  // the child exits, and its handle goes with it
  EXPECT_EQ(child.Wait(), 0);
  EXPECT_TRUE(pager.WaitForPageComplete(vmo->key));
}

TEST(Process, WhenThePagersProcessDiesTheHandleIsDetached) {
  Child owner = Spawn("owner");
  Note note{};
  Vmo vmo;
  ASSERT_EQ(Receive(owner.channel, &note, &vmo), Status::kOk);
  const uint64_t key = note.offset;
  std::vector<char> page(kPageSize);
  ASSERT_EQ(vmo.Read(page.data(), 0, kPageSize), Status::kOk);
  EXPECT_TRUE(UserPager::CheckPattern(key, 0, 1, page.data()));
  // A read of an absent page waits on the owner's pager...
  Status blocked = Status::kOk;
  std::vector<char> absent(kPageSize);
  std::thread reader([&] { blocked = vmo.Read(absent.data(), kPageSize, kPageSize); });
  ASSERT_EQ(Receive(owner.channel, &note), Status::kOk);  // the owner saw its READ packet
  // ... and fails when the pager's process dies; the present page stays readable.
  owner.Kill();
  reader.join();
  EXPECT_EQ(blocked, Status::kBadState);
  owner.Wait();
  std::fill(page.begin(), page.end(), 0);
  ASSERT_EQ(vmo.Read(page.data(), 0, kPageSize), Status::kOk);
  EXPECT_TRUE(UserPager::CheckPattern(key, 0, 1, page.data()));
  EXPECT_EQ(vmo.Read(absent.data(), 2 * kPageSize, kPageSize), Status::kBadState);
  EXPECT_EQ(vmo.Read(page.data(), 0, 2 * kPageSize), Status::kBadState);
  uint64_t size = 0;
  ASSERT_EQ(vmo.GetSize(&size), Status::kOk);
  EXPECT_EQ(size, 4 * kPageSize);
  EXPECT_EQ(vmo.Write("x", 0, 1), Status::kBadState);
}

TEST(Process, ClientsKilledWhileWaitingLeakNothing) {
  UserPager pager;
  std::unique_ptr<TestVmo> vmo = pager.CreateVmo(64);
  ASSERT_NE(vmo, nullptr);
  size_t fds_before = 0, threads_after_first = 0;
  for (int round = 0; round < 3; ++round) {
    std::vector<Child> children;
    for (int i = 0; i < 10; ++i) children.push_back(StartReader(vmo->vmo));
    for (size_t i = 0; i < children.size(); ++i) {
      ASSERT_EQ(Send(children[i].channel, Note{0, 0, (round * 10 + i) * kPageSize, kPageSize}),
                Status::kOk);
    }
    for (int i = 0; i < 20000 && internal::ExportWaitersForTesting() < children.size(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_EQ(internal::ExportWaitersForTesting(), children.size());
    for (Child& c : children) c.Kill();
    for (Child& c : children) {
      const int status = c.Wait();
      EXPECT_TRUE(WIFSIGNALED(status));
    }
    children.clear();
    ASSERT_TRUE(internal::WaitForExportCount(0, Soon()));
    // The first round starts what lasts (the export service): count from its end.
    if (round == 0) fds_before = CountEntries("/proc/self/fd");
    EXPECT_EQ(CountEntries("/proc/self/fd"), fds_before);
    if (round == 0) threads_after_first = CountEntries("/proc/self/task");
  }
  // Killed workers exit on their own: give them the time.
  for (int i = 0; i < 10000 && CountEntries("/proc/self/task") > threads_after_first; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_LE(CountEntries("/proc/self/task"), threads_after_first);
}

TEST(Process, AReadOnlyHolderOfAnotherUserCannotChangeThePages) {
  if (::geteuid() != 0) GTEST_FAIL() << "needs root, to start the child as another user";
  UserPager pager;
  std::unique_ptr<TestVmo> vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  Child child = Spawn("escape");
  Vmo reader;
  ASSERT_EQ(vmo->vmo.Duplicate(kRightRead | kRightTransfer | kRightMap, &reader), Status::kOk);
  ASSERT_EQ(Send(child.channel, Note{}, &reader), Status::kOk);
  Note result{};
  ASSERT_EQ(Receive(child.channel, &result), Status::kOk);
  EXPECT_EQ(result.status, 1);   // it holds the memfd, read-only
  EXPECT_EQ(result.value, 63u);  // and every attempt was refused
  std::vector<char> page(kPageSize);
  ASSERT_EQ(vmo->vmo.Read(page.data(), 0, kPageSize), Status::kOk);
  EXPECT_TRUE(UserPager::CheckPattern(vmo->key, 0, 1, page.data()));
  child.channel.Reset();
  EXPECT_EQ(child.Wait(), 0);
}

}  // namespace
}  // namespace upager

UPAGER_TEST_MAIN(upager::RunChild)

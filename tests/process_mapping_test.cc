// Mappings of VMOs across processes: a child maps a VMO of this process (or this process
// maps one of a child's), and its faults are served by the VMO's owner (process_util.h has
// how children are started).
#include <gtest/gtest.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "fault/fault_service.h"
#include "pager/vmo_export.h"
#include "process_util.h"
#include "upager/mapping.h"
#include "upager/rights.h"
#include "user_pager.h"

namespace upager {
namespace {

using testing::TestVmo;
using testing::UserPager;

// What a mapper child is asked to do.
constexpr uint32_t kLoad = 1, kStore = 2;
// The first note's value: how to map, and whether to drop root first.
constexpr uint32_t kMapWritable = 1, kBecomeNobody = 2;

// The access a thread is making, and how it ended if SIGBUS cut it short. Volatile: the
// handler reads and writes them between the compiler's view of the access.
thread_local sigjmp_buf t_jump;
thread_local volatile sig_atomic_t t_armed = 0;
thread_local volatile int t_si_code = 0;
thread_local volatile int32_t t_status = 0;

void OnSigbus(int /*sig*/, siginfo_t* info, void* /*context*/) {
  if (!t_armed) ::abort();
  t_si_code = info->si_code;
  t_status = static_cast<int32_t>(FaultStatusForAddress(info->si_addr));
  t_armed = 0;
  siglongjmp(t_jump, 1);
}

void InstallSigbus() {
  struct sigaction sa {};
  sa.sa_sigaction = &OnSigbus;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGBUS, &sa, nullptr);
}

// Loads (or stores `value` to) the word at `p`; kOk, or the status behind the SIGBUS.
Status Access(std::byte* p, bool store, uint64_t value, uint64_t* loaded) {
  if (sigsetjmp(t_jump, 1) != 0) return static_cast<Status>(t_status);
  t_armed = 1;
  auto* word = reinterpret_cast<volatile uint64_t*>(p);
  if (store) {
    *word = value;
  } else {
    *loaded = *word;
  }
  t_armed = 0;
  return Status::kOk;
}

// Receives a handle and how to map it, maps the whole VMO, then makes each access it is
// asked for and answers with the status, the si_code of a SIGBUS and the word loaded.
int MapperChild(const Channel& parent) {
  InstallSigbus();
  Note how{};
  Vmo vmo;
  if (Receive(parent, &how, &vmo) != Status::kOk || !vmo.is_valid()) return 40;
  if ((how.value & kBecomeNobody) != 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) return 41;
    ::prctl(PR_SET_DUMPABLE, 1);
  }
  Mapping map;
  const Status mapped = Mapping::Create(
      vmo, 0, how.len, kMapRead | ((how.value & kMapWritable) != 0 ? kMapWrite : 0), &map);
  if (Send(parent, Note{static_cast<int32_t>(mapped), 0, 0, 0}) != Status::kOk) return 42;
  Note ask{};
  while (Receive(parent, &ask) == Status::kOk) {
    uint64_t word = 0;
    t_si_code = 0;
    const Status s = Access(map.data() + ask.offset, ask.value == kStore, ask.len, &word);
    Send(parent, Note{static_cast<int32_t>(s), static_cast<uint32_t>(t_si_code), word, 0});
  }
  return 0;
}

int RunChild(const char* role, const Channel& parent) {
  if (std::strcmp(role, "mapper") == 0) return MapperChild(parent);
  if (std::strcmp(role, "owner") == 0) return OwnerChild(parent);
  return 3;
}

// A mapper child holding `vmo` (with `rights`), mapped whole.
Child StartMapper(const Vmo& vmo, uint64_t size, uint32_t how, uint32_t rights = kRightSameRights) {
  Child child = Spawn("mapper");
  Vmo copy;
  EXPECT_EQ(vmo.Duplicate(rights, &copy), Status::kOk);
  EXPECT_EQ(Send(child.channel, Note{0, how, 0, size}, &copy), Status::kOk);
  Note mapped{};
  EXPECT_EQ(Receive(child.channel, &mapped), Status::kOk);
  EXPECT_EQ(mapped.status, 0);
  return child;
}

void WaitForFaults(int64_t n) {
  for (int i = 0; i < 20000 && internal::FaultService::waiting_faults.load() < n; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(internal::FaultService::waiting_faults.load(), n);
}

uint64_t FirstWord(uint64_t key, uint64_t page) {
  std::vector<uint64_t> words(kPageSize / sizeof(uint64_t));
  UserPager::Pattern(key, page, words.data());
  return words[0];
}

TEST(ProcessMapping, AChildsMappedLoadIsOnePacketHere) {
  ASSERT_EQ(MappingSupport(), Status::kOk);
  UserPager pager;
  std::unique_ptr<TestVmo> vmo = pager.CreateVmo(4);
  ASSERT_NE(vmo, nullptr);
  Child child = StartMapper(vmo->vmo, 4 * kPageSize, 0);
  ASSERT_EQ(Send(child.channel, Note{0, kLoad, 2 * kPageSize, 0}), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 2, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 2, 1), Status::kOk);
  Note answer{};
  ASSERT_EQ(Receive(child.channel, &answer), Status::kOk);
  EXPECT_EQ(answer.status, 0);
  EXPECT_EQ(answer.offset, FirstWord(vmo->key, 2));
  // The page is in the memfd: a second load, and this process's read, ask nothing.
  ASSERT_EQ(Send(child.channel, Note{0, kLoad, 2 * kPageSize + 8, 0}), Status::kOk);
  ASSERT_EQ(Receive(child.channel, &answer), Status::kOk);
  EXPECT_EQ(answer.status, 0);
  EXPECT_FALSE(pager.AnyPacket());
  child.channel.Reset();
  EXPECT_EQ(child.Wait(), 0);
}

TEST(ProcessMapping, FourMappedProcessesOnOnePageMakeOnePacket) {
  UserPager pager;
  std::unique_ptr<TestVmo> vmo = pager.CreateVmo(4);
  ASSERT_NE(vmo, nullptr);
  std::vector<Child> children;
  for (int i = 0; i < 4; ++i) children.push_back(StartMapper(vmo->vmo, 4 * kPageSize, 0));
  for (Child& c : children) {
    ASSERT_EQ(Send(c.channel, Note{0, kLoad, 3 * kPageSize, 0}), Status::kOk);
  }
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 3, 1));
  WaitForFaults(4);  // four faults, in four processes, wait on the one request
  ASSERT_EQ(pager.SupplyPages(*vmo, 3, 1), Status::kOk);
  for (Child& c : children) {
    Note answer{};
    ASSERT_EQ(Receive(c.channel, &answer), Status::kOk);
    EXPECT_EQ(answer.status, 0);
    EXPECT_EQ(answer.offset, FirstWord(vmo->key, 3));
  }
  EXPECT_FALSE(pager.AnyPacket());
  for (Child& c : children) {
    c.channel.Reset();
    EXPECT_EQ(c.Wait(), 0);
  }
}

TEST(ProcessMapping, AChildsStoreToATrapDirtyVmoIsOneDirtyPacket) {
  UserPager pager;
  std::unique_ptr<TestVmo> vmo = pager.CreateVmo(2, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 1, 1), Status::kOk);
  Child child = StartMapper(vmo->vmo, 2 * kPageSize, kMapWritable);
  ASSERT_EQ(Send(child.channel, Note{0, kStore, kPageSize + 16, 0x5eed}), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));
  ASSERT_EQ(pager.DirtyPages(*vmo, 1, 1), Status::kOk);
  Note answer{};
  ASSERT_EQ(Receive(child.channel, &answer), Status::kOk);
  EXPECT_EQ(answer.status, 0);
  uint64_t word = 0;
  ASSERT_EQ(vmo->vmo.Read(&word, kPageSize + 16, sizeof word), Status::kOk);
  EXPECT_EQ(word, 0x5eedu);
  // The page is dirty now: another store asks nothing.
  ASSERT_EQ(Send(child.channel, Note{0, kStore, kPageSize + 24, 1}), Status::kOk);
  ASSERT_EQ(Receive(child.channel, &answer), Status::kOk);
  EXPECT_EQ(answer.status, 0);
  EXPECT_FALSE(pager.AnyPacket());
  child.channel.Reset();
  EXPECT_EQ(child.Wait(), 0);
}

TEST(ProcessMapping, AFailedLoadIsSigbusWithItsStatusInTheChild) {
  UserPager pager;
  std::unique_ptr<TestVmo> vmo = pager.CreateVmo(4);
  ASSERT_NE(vmo, nullptr);
  Child child = StartMapper(vmo->vmo, 4 * kPageSize, 0);
  ASSERT_EQ(Send(child.channel, Note{0, kLoad, 3 * kPageSize, 0}), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 3, 1));
  ASSERT_EQ(pager.FailPages(*vmo, 3, 1, Status::kIoDataIntegrity), Status::kOk);
  Note answer{};
  ASSERT_EQ(Receive(child.channel, &answer), Status::kOk);
  EXPECT_EQ(answer.status, static_cast<int32_t>(Status::kIoDataIntegrity));
  EXPECT_EQ(static_cast<int>(answer.value), SI_QUEUE);
  // Not sticky: the next access asks again.
  ASSERT_EQ(Send(child.channel, Note{0, kLoad, 3 * kPageSize, 0}), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 3, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 3, 1), Status::kOk);
  ASSERT_EQ(Receive(child.channel, &answer), Status::kOk);
  EXPECT_EQ(answer.status, 0);
  EXPECT_EQ(answer.offset, FirstWord(vmo->key, 3));
  child.channel.Reset();
  EXPECT_EQ(child.Wait(), 0);
}

// The overtime limits hold a child's mapped fault as they hold this process's: the owner
// serves the child's faults, so the owner's limits apply (PagerTimeouts).
TEST(ProcessMapping, AChildsFaultThePagerNeverAnswersTimesOut) {
  struct RestoreTimeouts {
    PagerTimeouts saved = GetPagerTimeouts();
    ~RestoreTimeouts() { SetPagerTimeouts(saved); }
  } restore;
  UserPager pager;
  std::unique_ptr<TestVmo> vmo = pager.CreateVmo(4);
  ASSERT_NE(vmo, nullptr);
  Child child = StartMapper(vmo->vmo, 4 * kPageSize, 0);
  SetPagerTimeouts({std::chrono::milliseconds(0), std::chrono::milliseconds(300)});
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(Send(child.channel, Note{0, kLoad, 2 * kPageSize, 0}), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 2, 1));
  Note answer{};
  ASSERT_EQ(Receive(child.channel, &answer), Status::kOk);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
  EXPECT_EQ(answer.status, static_cast<int32_t>(Status::kTimedOut));
  EXPECT_EQ(static_cast<int>(answer.value), SI_QUEUE);
  // Not sticky: supplied, the page loads.
  ASSERT_EQ(pager.SupplyPages(*vmo, 2, 1), Status::kOk);
  ASSERT_EQ(Send(child.channel, Note{0, kLoad, 2 * kPageSize, 0}), Status::kOk);
  ASSERT_EQ(Receive(child.channel, &answer), Status::kOk);
  EXPECT_EQ(answer.status, 0);
  EXPECT_EQ(answer.offset, FirstWord(vmo->key, 2));
  child.channel.Reset();
  EXPECT_EQ(child.Wait(), 0);
}

TEST(ProcessMapping, AnUnprivilegedChildMapsReadOnly) {
  UserPager pager;
  std::unique_ptr<TestVmo> vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  Child child =
      StartMapper(vmo->vmo, 2 * kPageSize, kBecomeNobody, kRightRead | kRightMap | kRightTransfer);
  ASSERT_EQ(Send(child.channel, Note{0, kLoad, kPageSize, 0}), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 1, 1), Status::kOk);
  Note answer{};
  ASSERT_EQ(Receive(child.channel, &answer), Status::kOk);
  EXPECT_EQ(answer.status, 0);
  EXPECT_EQ(answer.offset, FirstWord(vmo->key, 1));
  child.channel.Reset();
  EXPECT_EQ(child.Wait(), 0);
}

TEST(ProcessMapping, WhenThePagersProcessDiesABlockedLoadGetsSigbusBadState) {
  InstallSigbus();
  Child owner = Spawn("owner");
  Note note{};
  Vmo vmo;
  ASSERT_EQ(Receive(owner.channel, &note, &vmo), Status::kOk);
  const uint64_t key = note.offset;
  Mapping map;
  ASSERT_EQ(Mapping::Create(vmo, 0, 4 * kPageSize, kMapRead, &map), Status::kOk);
  uint64_t word = 0;
  ASSERT_EQ(Access(map.data(), false, 0, &word), Status::kOk);  // page 0 was supplied
  EXPECT_EQ(word, FirstWord(key, 0));
  Status blocked = Status::kOk;
  std::thread reader([&] {
    uint64_t unused = 0;
    blocked = Access(map.data() + kPageSize, false, 0, &unused);
  });
  ASSERT_EQ(Receive(owner.channel, &note), Status::kOk);  // the owner saw its READ packet
  owner.Kill();
  reader.join();
  EXPECT_EQ(blocked, Status::kBadState);
  owner.Wait();
  ASSERT_EQ(Access(map.data() + 8, false, 0, &word), Status::kOk);  // still mapped, still there
  EXPECT_EQ(Access(map.data() + 2 * kPageSize, false, 0, &word), Status::kBadState);
}

TEST(ProcessMapping, AHundredClientsKilledMidFaultLeakNothing) {
  UserPager pager;
  std::unique_ptr<TestVmo> vmo = pager.CreateVmo(128);
  ASSERT_NE(vmo, nullptr);
  size_t fds = 0, threads = 0;
  for (int round = 0; round < 4; ++round) {
    std::vector<Child> children;
    for (int i = 0; i < 25; ++i) {
      children.push_back(StartMapper(vmo->vmo, 128 * kPageSize, 0));
    }
    for (size_t i = 0; i < children.size(); ++i) {
      ASSERT_EQ(Send(children[i].channel, Note{0, kLoad, (round * 25 + i) * kPageSize, 0}),
                Status::kOk);
    }
    WaitForFaults(static_cast<int64_t>(children.size()));
    for (Child& c : children) c.Kill();
    for (Child& c : children) EXPECT_TRUE(WIFSIGNALED(c.Wait()));
    children.clear();
    ASSERT_TRUE(internal::WaitForExportCount(0, Soon()));
    WaitForFaults(0);  // every killed client's request is gone with it
    if (round == 0) {
      fds = CountEntries("/proc/self/fd");
      threads = CountEntries("/proc/self/task");
    }
    EXPECT_EQ(CountEntries("/proc/self/fd"), fds);
    EXPECT_LE(CountEntries("/proc/self/task"), threads);
  }
  // The pager still serves: a new client's fault is answered.
  Child child = StartMapper(vmo->vmo, 128 * kPageSize, 0);
  ASSERT_EQ(Send(child.channel, Note{0, kLoad, 127 * kPageSize, 0}), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 127, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 127, 1), Status::kOk);
  Note answer{};
  ASSERT_EQ(Receive(child.channel, &answer), Status::kOk);
  EXPECT_EQ(answer.status, 0);
  child.channel.Reset();
  EXPECT_EQ(child.Wait(), 0);
}

}  // namespace
}  // namespace upager

UPAGER_TEST_MAIN(upager::RunChild)

// The holder side of clone_process_test (clone_process_holder.h).
#include "clone_process_holder.h"

#include <gtest/gtest.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "base/handle_access.h"
#include "pager/vmo_export.h"
#include "process_util.h"
#include "upager/mapping.h"
#include "upager/rights.h"
#include "user_pager.h"
#include "vm/vm_object_paged.h"
#include "vma_fill.h"

namespace upager::clone_process {
namespace {

using testing::UserPager;

// The probe a holder's thread is making, and the status behind a SIGBUS that cut it short.
// Volatile: the handler reads and writes them between the compiler's view of the access.
thread_local sigjmp_buf t_jump;
thread_local volatile sig_atomic_t t_armed = 0;
thread_local volatile int32_t t_status = 0;

void OnSigbus(int /*sig*/, siginfo_t* info, void* /*context*/) {
  if (!t_armed) ::abort();
  t_status = static_cast<int32_t>(FaultStatusForAddress(info->si_addr));
  t_armed = 0;
  siglongjmp(t_jump, 1);
}

Status Probe(const std::byte* p) {
  if (sigsetjmp(t_jump, 1) != 0) return static_cast<Status>(t_status);
  t_armed = 1;
  [[maybe_unused]] const uint64_t word = *reinterpret_cast<const volatile uint64_t*>(p);
  t_armed = 0;
  return Status::kOk;
}

Status ProbeStore(std::byte* p, uint64_t value) {
  if (sigsetjmp(t_jump, 1) != 0) return static_cast<Status>(t_status);
  t_armed = 1;
  *reinterpret_cast<volatile uint64_t*>(p) = value;
  t_armed = 0;
  return Status::kOk;
}

int HolderChild(const Channel& parent) {
  struct sigaction sa {};
  sa.sa_sigaction = &OnSigbus;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGBUS, &sa, nullptr);
  std::vector<Vmo> handles(1);
  Note note{};
  if (Receive(parent, &note, &handles[0]) != Status::kOk || !handles[0].is_valid()) return 10;
  if (Send(parent, Note{0, 0, handles[0].koid(), 0}) != Status::kOk) return 11;
  Mapping mapping;
  testing::Fillers fillers;
  while (Receive(parent, &note) == Status::kOk) {
    const uint32_t op = note.value & 0xff;
    const uint32_t arg = note.value >> 8;
    std::vector<char> reply(sizeof(Note));
    Status s = Status::kOk;
    uint32_t value = 0;
    const size_t h = static_cast<size_t>(note.status);
    if ((op == kRead || op == kWrite || op == kMap || op == kInfo || op == kSend) &&
        h >= handles.size()) {
      return 12;
    }
    Vmo send;
    switch (op) {
      case kRead:
        reply.resize(sizeof(Note) + note.len);
        s = handles[h].Read(reply.data() + sizeof(Note), note.offset, note.len);
        if (s != Status::kOk) reply.resize(sizeof(Note));
        break;
      case kWrite: {
        const std::vector<char> bytes(note.len, static_cast<char>(arg));
        s = handles[h].Write(bytes.data(), note.offset, note.len);
        break;
      }
      case kChild: {
        Vmo child;
        s = handles[0].CreateChild(static_cast<uint32_t>(note.status), note.offset, note.len,
                                   &child);
        if (s == Status::kOk) {
          value = static_cast<uint32_t>(handles.size());
          handles.push_back(std::move(child));
        }
        break;
      }
      case kMap:
        s = Mapping::Create(handles[h], note.offset, note.len,
                            kMapRead | (arg != 0 ? kMapWrite : 0), &mapping);
        break;
      case kLoad:
        reply.resize(sizeof(Note) + note.len);
        std::memcpy(reply.data() + sizeof(Note), mapping.data() + note.offset, note.len);
        break;
      case kStore:
        std::memset(mapping.data() + note.offset, static_cast<int>(arg), note.len);
        break;
      case kProbe: s = Probe(mapping.data() + note.offset); break;
      case kInfo: {
        VmoInfo info{};
        s = handles[h].GetInfo(&info);
        reply.resize(sizeof(Note) + sizeof info);
        std::memcpy(reply.data() + sizeof(Note), &info, sizeof info);
        break;
      }
      case kSend: send = std::move(handles[h]); break;
      case kProbeStore: s = ProbeStore(mapping.data() + note.offset, arg); break;
      case kFillVmas: {
        const int64_t max = testing::MaxMapCount();
        fillers.Reserve(static_cast<size_t>(max));
        s = fillers.SetCount(max - static_cast<int64_t>(note.offset)) ? Status::kOk
                                                                      : Status::kInternal;
        break;
      }
      default: return 13;
    }
    const Note answer{static_cast<int32_t>(s), value, note.offset, reply.size() - sizeof(Note)};
    std::memcpy(reply.data(), &answer, sizeof answer);
    if (parent.Write(reply.data(), static_cast<uint32_t>(reply.size()), &send,
                     send.is_valid() ? 1 : 0) != Status::kOk) {
      return 14;
    }
  }
  return 0;
}

}  // namespace

int RunChild(const char* role, const Channel& parent) {
  if (std::strcmp(role, "holder") == 0) return HolderChild(parent);
  return 3;
}

Child StartHolder(Vmo vmo) {
  Child child = Spawn("holder");
  const uint64_t koid = vmo.koid();
  EXPECT_EQ(Send(child.channel, Note{}, &vmo), Status::kOk);
  Note ack{};
  EXPECT_EQ(Receive(child.channel, &ack), Status::kOk);
  EXPECT_EQ(ack.offset, koid);  // the same object there
  return child;
}

Note Ask(Child& child, uint32_t op, int32_t status, uint64_t offset, uint64_t len,
         std::vector<char>* bytes) {
  Note answer{-1, 0, 0, 0};
  EXPECT_EQ(Send(child.channel, Note{status, op, offset, len}), Status::kOk);
  std::vector<char> extra;
  EXPECT_EQ(Receive(child.channel, &answer, nullptr, &extra), Status::kOk);
  if (bytes != nullptr) *bytes = std::move(extra);
  return answer;
}

void AskLater(Child& child, uint32_t op, int32_t status, uint64_t offset, uint64_t len) {
  EXPECT_EQ(Send(child.channel, Note{status, op, offset, len}), Status::kOk);
}
Note Answer(Child& child, std::vector<char>* bytes) {
  Note answer{-1, 0, 0, 0};
  std::vector<char> extra;
  EXPECT_EQ(Receive(child.channel, &answer, nullptr, &extra), Status::kOk);
  if (bytes != nullptr) *bytes = std::move(extra);
  return answer;
}

Status HeldInfo(Child& child, int32_t h, VmoInfo* info) {
  std::vector<char> bytes;
  const Note answer = Ask(child, kInfo, h, 0, 0, &bytes);
  EXPECT_EQ(bytes.size(), sizeof *info);
  if (bytes.size() == sizeof *info) std::memcpy(info, bytes.data(), sizeof *info);
  return static_cast<Status>(answer.status);
}

Vmo TakeBack(Child& child, int32_t h) {
  Note answer{-1, 0, 0, 0};
  Vmo vmo;
  EXPECT_EQ(Send(child.channel, Note{h, kSend, 0, 0}), Status::kOk);
  EXPECT_EQ(Receive(child.channel, &answer, &vmo), Status::kOk);
  EXPECT_EQ(answer.status, 0);
  return vmo;
}

bool PageIs(const Vmo& vmo, uint64_t page, char c) {
  std::vector<char> got(kPageSize);
  return vmo.Read(got.data(), P(page), kPageSize) == Status::kOk && got == Filled(c, kPageSize);
}

bool PageIsPattern(const Vmo& vmo, uint64_t key, uint64_t page) {
  std::vector<char> got(kPageSize);
  return vmo.Read(got.data(), P(page), kPageSize) == Status::kOk &&
         UserPager::CheckPattern(key, page, 1, got.data());
}

Vmo MakeChild(const testing::TestVmo& root, uint32_t options, uint64_t pages) {
  Vmo child;
  EXPECT_EQ(root.vmo.CreateChild(options, 0, P(pages), &child), Status::kOk);
  return child;
}

void Finish(Child& child) {
  child.channel.Reset();
  EXPECT_EQ(child.Wait(), 0);
}

}  // namespace upager::clone_process

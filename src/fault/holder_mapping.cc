// The owner's side of a mapping in another process: a MappingObject whose base is an
// address in the holder's process and whose userfaultfd is the holder's (remote_mapping.h
// has the holder's side, docs/processes.md the design).
//
// The holder sent its userfaultfd with the kMap request, so the owner reads that mapping's
// faults itself, on its ExportService thread, and answers them with the same code as its
// own mappings' faults: the same VMO, PageSource and requests, UFFDIO_COPY and WAKE on the
// holder's userfaultfd (which act on the holder's memory). What differs is what a process
// can do only to itself: the owner cannot zap the holder's page tables (punching the memfd
// is enough) and cannot fail a copy in the holder's kernel; a failure is a queued SIGBUS to
// the holder's thread, with the status written first to the holder's failure page.
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "base/handle_access.h"
#include "fault/mapping_object.h"
#include "pager/inline_loops.h"
#include "pager/seqpacket.h"
#include "pager/vmo_export.h"
#include "vm/vm_object_paged.h"

namespace upager::internal {

namespace {

class HolderMapping final : public ExportedMapping {
 public:
  explicit HolderMapping(std::unique_ptr<MappingObject> mapping) : mapping_(std::move(mapping)) {}

  int fault_fd() const override { return mapping_->holder_uffd(); }

  void ServeFaults() override {
    uffd_msg msgs[16];
    const ssize_t n = ::read(mapping_->holder_uffd(), msgs, sizeof msgs);
    if (n <= 0) return;
    for (size_t i = 0; i < static_cast<size_t>(n) / sizeof(uffd_msg); ++i) {
      const uffd_msg& msg = msgs[i];
      if (msg.event != UFFD_EVENT_PAGEFAULT) continue;
      const auto address = static_cast<uintptr_t>(msg.arg.pagefault.address);
      const uint64_t flags = msg.arg.pagefault.flags;
      if (!mapping_->Contains(address)) continue;  // the holder registered no more than this
      mapping_->OnFault(address, (flags & UFFD_PAGEFAULT_FLAG_WRITE) != 0,
                        (flags & UFFD_PAGEFAULT_FLAG_WP) != 0,
                        static_cast<pid_t>(msg.arg.pagefault.feat.ptid));
    }
    // Pagers served inline answer the requests just made, as after a fault thread's batch.
    InlineLoops::Get().PollAll();
  }

  void CheckOvertime(Deadline now) override { mapping_->CheckOvertime(now); }

 private:
  std::unique_ptr<MappingObject> mapping_;
};

// Whether `fd` is a userfaultfd (the only descriptor whose messages the service may trust to
// be fault messages).
bool IsUserfaultfd(int fd) {
  char path[64], target[64] = {};
  std::snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  const ssize_t n = ::readlink(path, target, sizeof target - 1);
  return n > 0 && std::strcmp(target, "anon_inode:[userfaultfd]") == 0;
}

// Whether `fd` is a memfd of at least a page that nobody can shrink any more: the owner maps
// it and stores into it, and a holder that could truncate it would crash the owner.
bool IsSealedFailurePage(int fd) {
  const int seals = ::fcntl(fd, F_GET_SEALS);
  struct stat st;
  return seals >= 0 && (seals & F_SEAL_SHRINK) != 0 && ::fstat(fd, &st) == 0 &&
         S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) >= sizeof(RemoteFailurePage);
}

// Whether `fd` is a connected SOCK_SEQPACKET socket (a clone mapping's fork socket).
bool IsSeqpacketSocket(int fd) {
  int type = 0;
  socklen_t len = sizeof type;
  return ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_SEQPACKET;
}

Status MapForHolder(const Vmo& vmo, const RemoteMapRequest& r,
                    std::unique_ptr<ExportedMapping>* out) {
  if (!IsUserfaultfd(r.uffd) || !IsSealedFailurePage(r.failure_page) ||
      (r.forks >= 0 && !IsSeqpacketSocket(r.forks))) {
    ::close(r.uffd);
    ::close(r.failure_page);
    if (r.forks >= 0) ::close(r.forks);
    return Status::kInvalidArgs;
  }
  void* page = ::mmap(nullptr, sizeof(RemoteFailurePage), PROT_READ | PROT_WRITE, MAP_SHARED,
                      r.failure_page, 0);
  ::close(r.failure_page);
  if (page == MAP_FAILED) {
    ::close(r.uffd);
    if (r.forks >= 0) ::close(r.forks);
    return Status::kInvalidArgs;  // not a page the holder can share
  }
  std::unique_ptr<MappingObject> mapping;
  if (Status s = MappingObject::CreateForHolder(vmo, r.base, r.vmo_offset, r.len, r.writable, r.pid,
                                                r.uffd, r.forks,
                                                static_cast<RemoteFailurePage*>(page), &mapping);
      s != Status::kOk) {
    return s;
  }
  *out = std::make_unique<HolderMapping>(std::move(mapping));
  return Status::kOk;
}

// Wherever the fault layer is linked in, this process serves its holders' mappings from
// the start (FaultService::Get installs it too, for the record).
[[maybe_unused]] const bool g_serving = (SetRemoteMapper(&MapForHolder), true);

}  // namespace

void ServeHolderMappings() { SetRemoteMapper(&MapForHolder); }

Status MappingObject::CreateForHolder(const Vmo& vmo, uintptr_t base, uint64_t vmo_offset,
                                      uint64_t len, bool writable, pid_t pid, int uffd, int forks,
                                      RemoteFailurePage* failures,
                                      std::unique_ptr<MappingObject>* out) {
  const std::shared_ptr<VmObjectPaged>& object = HandleAccess::Object(vmo);
  // A read-through clone is mapped with its own pages over its root's, which only the
  // holder can place in its address space: it must have sent a fork socket. Anything else
  // must not have. A slice is not mapped across processes (docs/clones.md).
  const bool clone = object != nullptr && object->reads_through_parent();
  VmObjectPaged::MapTarget target;
  if (object == nullptr || clone != (forks >= 0) ||
      VmObjectPaged::GetMapTarget(object, vmo_offset, &target) != Status::kOk ||
      target.vmo != object || !target.faults) {
    // Only a pager-backed VMO takes faults; the holder maps any other one by itself.
    ::close(uffd);
    if (forks >= 0) ::close(forks);
    ::munmap(failures, sizeof(RemoteFailurePage));
    return Status::kNotSupported;
  }
  std::unique_ptr<MappingObject> mapping(
      new MappingObject(object, reinterpret_cast<std::byte*>(base), vmo_offset, len, writable));
  mapping->holder_pid_ = pid;
  mapping->holder_uffd_.Adopt(uffd, writable);
  mapping->holder_failures_ = failures;
  mapping->holder_forks_ = forks;
  mapping->stripes_.uffd[0] = &mapping->holder_uffd_;
  mapping->stripes_.count = 1;
  mapping->stripes_.shift = 63;
  {
    MutexLock lock(&mapping->records_mutex_);
    for (int i = 0; i < 4; ++i) {
      mapping->AddRecordLocked();
      mapping->free_records_.push_back(mapping->records_.back().get());
    }
  }
  if (Status s = object->AddMapping(mapping.get()); s != Status::kOk) return s;
  *out = std::move(mapping);
  return Status::kOk;
}

bool MappingObject::MapOwnInHolder(uint64_t offset, uint64_t len, bool protect) {
  MutexLock lock(&forks_mutex_);
  return AskHolder(protect ? ForkOp::kMapOwnProtected : ForkOp::kMapOwn, offset, len);
}

bool MappingObject::UnmapOwnInHolder(uint64_t offset, uint64_t len) {
  MutexLock lock(&forks_mutex_);
  return AskHolder(ForkOp::kMapRoot, offset, len);
}

bool MappingObject::AskHolder(ForkOp op, uint64_t offset, uint64_t len) {
  // Under the clone's tree lock (every MapOwn is), so one at a time per mapping. A holder
  // that does not answer in time, or answers outside the protocol, loses the mapping's
  // forks channel: its mapping may then show the root's page where the clone forked, which
  // only that holder sees (docs/clones.md, Mapped clones in another process).
  if (forks_broken_) return true;
  const HandleForkMessage ask = MakeForkMessage(op, ++fork_serial_, offset, len);
  bool ok = SendMessage(holder_forks_, &ask, sizeof ask, nullptr, 0) == SendResult::kOk;
  bool placed = false;
  const Deadline deadline = std::chrono::steady_clock::now() + kHolderForkTimeout;
  while (ok) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{holder_forks_, POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    HandleForkMessage answer;
    Received received;
    if (ReceiveMessage(holder_forks_, &answer, sizeof answer, false, &received) !=
            ReceiveResult::kOk ||
        received.num_fds != 0) {
      CloseFds(received.fds, received.num_fds);
      ok = false;
      break;
    }
    // kForkFailed: the holder could not map it (its VMA limit) and its mapping is as it was.
    placed = DecodeForkMessage(&answer, received.len, ForkOp::kForkMapped, &answer);
    ok = (placed || DecodeForkMessage(&answer, received.len, ForkOp::kForkFailed, &answer)) &&
         answer.serial == ask.serial && answer.offset == offset && answer.len == len;
    break;
  }
  if (!ok) {
    std::fprintf(stderr,
                 "upager: a process mapping a clone did not map its fork in time; its mapping "
                 "is no longer kept up to date\n");
    ::shutdown(holder_forks_, SHUT_RDWR);
    forks_broken_ = true;
    return true;
  }
  return placed;
}

void MappingObject::FailInHolder(uintptr_t address, pid_t tid, Status status) {
  const uintptr_t page = address & ~static_cast<uintptr_t>(kPageSize - 1);
  {
    MutexLock lock(&failures_mutex_);
    std::atomic_ref<uint32_t> next(holder_failures_->next_serial);
    const uint32_t serial = next.fetch_add(1, std::memory_order_relaxed) + 1;
    RemoteFailureSlot& slot = holder_failures_->slots[serial % kRemoteFailureSlots];
    std::atomic_ref<uint64_t>(slot.page).store(0, std::memory_order_relaxed);
    std::atomic_ref<int32_t>(slot.status)
        .store(static_cast<int32_t>(status), std::memory_order_relaxed);
    std::atomic_ref<uint32_t>(slot.serial).store(serial, std::memory_order_relaxed);
    std::atomic_ref<uint64_t>(slot.page).store(page, std::memory_order_release);
  }
  // As for a thread of this process (FaultService::FailAccess): SIGBUS queued with the
  // address in si_addr, then a wake for a thread that blocks the signal.
  siginfo_t info;
  std::memset(&info, 0, sizeof info);
  info.si_signo = SIGBUS;
  info.si_code = SI_QUEUE;
  info.si_addr = reinterpret_cast<void*>(address);
  ::syscall(SYS_rt_tgsigqueueinfo, holder_pid_, tid, SIGBUS, &info);
  holder_uffd_.Wake(page, kPageSize);
}

}  // namespace upager::internal

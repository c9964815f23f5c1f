// A Mapping of a VMO held from another process, on the holder's side (remote_mapping.h).
// Section numbers refer to docs/zircon-semantics.md.
#include "fault/remote_mapping.h"

#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <thread>
#include <unordered_map>

#include "base/handle_access.h"
#include "fault/fault_service.h"
#include "fault/mapping_object.h"
#include "pager/seqpacket.h"
#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"
#include "vm/vmo_remote.h"

namespace upager::internal {

namespace {

// The failure pages of this process's remote mappings, for FaultStatusForAddress, which
// may run in a signal handler: plain atomics, no lock.
constexpr int kMaxRemoteMappings = 256;
struct FailureSlot {
  std::atomic<uintptr_t> base{0};
  std::atomic<uint64_t> len{0};
  std::atomic<RemoteFailurePage*> page{nullptr};
};
FailureSlot g_failure_slots[kMaxRemoteMappings];

// Watches every remote mapping's connection; takes over the userfaultfd of a mapping whose
// owner is gone.
class OrphanWatcher {
 public:
  static OrphanWatcher& Get() {
    static OrphanWatcher* watcher = new OrphanWatcher();  // its thread runs for the process
    return *watcher;
  }

  // What an event is about: tag = id << 2 | one of these.
  static constexpr uint64_t kConnection = 0, kOrphanFaults = 1, kForks = 2;

  // Before the mapping asks the owner to serve it: a clone's fork socket is served from now
  // on (the owner maps the clone's own pages while it sets the mapping up).
  Status Add(RemoteMapping* m) {
    MutexLock lock(&mutex_);
    if (epoll_ < 0) {
      epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
      if (epoll_ < 0) return Status::kNoResources;
      std::thread([this] { Run(); }).detach();
    }
    // Events name a mapping by a serial number, never reused: an event already taken from
    // epoll for a mapping that is gone must not reach another made at the same address.
    const uint64_t id = ++next_id_;
    if (m->forks() >= 0) {
      epoll_event ev{};
      ev.events = EPOLLRDHUP | EPOLLIN;
      ev.data.u64 = id << 2 | kForks;
      if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, m->forks(), &ev) != 0) return Status::kNoResources;
    }
    live_[id] = m;
    ids_[m] = id;
    return Status::kOk;
  }

  // Once the owner serves the mapping: its connection closes when the owner is gone.
  Status WatchConnection(RemoteMapping* m) {
    MutexLock lock(&mutex_);
    epoll_event ev{};
    ev.events = EPOLLRDHUP | EPOLLIN;
    ev.data.u64 = ids_[m] << 2 | kConnection;
    return ::epoll_ctl(epoll_, EPOLL_CTL_ADD, m->connection(), &ev) == 0 ? Status::kOk
                                                                         : Status::kNoResources;
  }

  // Once it returns, the watcher does not touch `m` again.
  void Remove(RemoteMapping* m) {
    MutexLock lock(&mutex_);
    epoll_event ev{};
    if (m->connection() >= 0) ::epoll_ctl(epoll_, EPOLL_CTL_DEL, m->connection(), &ev);
    if (m->forks() >= 0) ::epoll_ctl(epoll_, EPOLL_CTL_DEL, m->forks(), &ev);
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, m->uffd(), &ev);
    if (auto it = ids_.find(m); it != ids_.end()) {
      live_.erase(it->second);
      ids_.erase(it);
    }
  }

 private:
  OrphanWatcher() = default;

  void Run() {
    int epoll;
    {
      MutexLock lock(&mutex_);
      epoll = epoll_;
    }
    epoll_event events[16];
    while (true) {
      const int n = ::epoll_wait(epoll, events, 16, -1);
      for (int i = 0; i < n; ++i) {
        const uint64_t tag = events[i].data.u64;
        MutexLock lock(&mutex_);
        auto it = live_.find(tag >> 2);
        if (it == live_.end()) continue;  // removed since epoll_wait returned
        RemoteMapping* m = it->second;
        if ((tag & 3) == kOrphanFaults) {
          m->ServeOrphanFaults();
          continue;
        }
        if ((tag & 3) == kForks && m->ServeForks()) continue;
        // The owner sends nothing unasked on a mapping's connection: any event there, or a
        // fork socket that closes or breaks the protocol, means the owner is gone or no
        // longer serves the mapping.
        epoll_event ev{};
        if (m->connection() >= 0) ::epoll_ctl(epoll_, EPOLL_CTL_DEL, m->connection(), &ev);
        if (m->forks() >= 0) ::epoll_ctl(epoll_, EPOLL_CTL_DEL, m->forks(), &ev);
        ev.events = EPOLLIN;
        ev.data.u64 = (tag & ~uint64_t{3}) | kOrphanFaults;
        if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, m->uffd(), &ev) != 0) continue;  // orphaned already
        // The owner stops serving it too (only this thread reads the userfaultfd from now).
        if (m->connection() >= 0) ::shutdown(m->connection(), SHUT_RDWR);
        m->Orphan();
      }
    }
  }

  Mutex mutex_;
  int epoll_ UPAGER_GUARDED_BY(mutex_) = -1;
  uint64_t next_id_ UPAGER_GUARDED_BY(mutex_) = 0;
  std::unordered_map<uint64_t, RemoteMapping*> live_ UPAGER_GUARDED_BY(mutex_);
  std::unordered_map<RemoteMapping*, uint64_t> ids_ UPAGER_GUARDED_BY(mutex_);
};

}  // namespace

Status RemoteMapping::Create(const Vmo& vmo, uint64_t vmo_offset, uint64_t len, bool writable,
                             std::unique_ptr<RemoteMapping>* out) {
  VmoRemote* remote = HandleAccess::Remote(vmo);
  uint64_t size = 0;
  if (Status s = remote->GetSize(&size); s != Status::kOk) return s;
  if (vmo_offset > size || len > size - vmo_offset) return Status::kOutOfRange;
  // FaultStatusForAddress runs in signal handlers: make what it reads exist now, not in a
  // handler (this process may have no mapping of its own).
  FaultService::Get().StatusForAddress(0);
  std::unique_ptr<RemoteMapping> m(new RemoteMapping());
  m->len_ = len;
  m->writable_ = writable;
  std::string why;
  if (m->uffd_.Open(&why) != Status::kOk) return Status::kNotSupported;
  if (writable && !m->uffd_.has_write_protect()) return Status::kNotSupported;
  int memfd = -1;
  if (Status s = remote->MemfdForMapping(writable, &memfd); s != Status::kOk) return s;
  const bool clone = remote->reads_through_parent();
  uint64_t map_offset = vmo_offset;
  if (clone) {
    // The clone's own memfd is kept, to map its pages over the root's; the root's is mapped.
    m->own_fd_ = memfd;
    m->vmo_offset_ = vmo_offset;
    if (Status s = remote->RootMemfdForMapping(vmo_offset, &memfd, &map_offset); s != Status::kOk) {
      return s;
    }
  }
  // A read-only holder maps its read-only memfd MAP_PRIVATE: userfaultfd takes only ranges
  // that may be written (VM_MAYWRITE), and a private mapping may, though never to the
  // memfd: a store (after an mprotect) makes a private copy that no other process sees.
  // Pages still come from the memfd's page cache, one copy for every process. A clone's
  // root is mapped so too (its descriptor is read-only), write-protected when writable.
  void* addr =
      ::mmap(nullptr, len, PROT_READ | (writable ? PROT_WRITE : 0),
             writable && !clone ? MAP_SHARED : MAP_PRIVATE, memfd, static_cast<off_t>(map_offset));
  const int map_errno = errno;
  if (clone) {
    m->root_fd_ = memfd;
    m->root_offset_ = map_offset;
  } else {
    ::close(memfd);
  }
  if (addr == MAP_FAILED) return map_errno == ENOMEM ? Status::kNoMemory : Status::kNoResources;
  if (clone) KeepSpareVma();  // to take a fork back at the VMA limit (mapping_forks.cc)
  m->base_ = static_cast<std::byte*>(addr);
  ::madvise(addr, len, MADV_DONTFORK);
  const auto start = reinterpret_cast<uintptr_t>(addr);
  // MISSING faults only: a page the memfd holds is mapped by the kernel with no question.
  if (!m->uffd_.Register(start, len, writable, false)) return Status::kNotSupported;
  // Clean pages are write-protected, so that the first store is seen (as locally).
  if (writable) m->uffd_.WriteProtect(start, len, true);
  // Sealed at its size: the owner maps it, and checks that nobody can shrink it under it.
  m->failure_fd_ = ::memfd_create("upager-failures", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (m->failure_fd_ < 0 || ::ftruncate(m->failure_fd_, sizeof(RemoteFailurePage)) != 0 ||
      ::fcntl(m->failure_fd_, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    return Status::kNoResources;
  }
  void* page = ::mmap(nullptr, sizeof(RemoteFailurePage), PROT_READ | PROT_WRITE, MAP_SHARED,
                      m->failure_fd_, 0);
  if (page == MAP_FAILED) return Status::kNoResources;
  m->failures_ = static_cast<RemoteFailurePage*>(page);
  int theirs = -1;
  if (clone) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, pair) != 0) {
      return Status::kNoResources;
    }
    m->forks_ = pair[0];
    theirs = pair[1];
  }
  if (Status s = OrphanWatcher::Get().Add(m.get()); s != Status::kOk) {
    if (theirs >= 0) ::close(theirs);
    return s;
  }
  const Status mapped = remote->Map(vmo_offset, len, writable, start, m->uffd_.fd(), m->failure_fd_,
                                    theirs, &m->connection_);
  if (theirs >= 0) ::close(theirs);
  if (mapped != Status::kOk) return mapped;
  for (int i = 0; i < kMaxRemoteMappings && m->slot_ < 0; ++i) {
    RemoteFailurePage* expected = nullptr;
    if (g_failure_slots[i].page.compare_exchange_strong(expected, m->failures_)) {
      g_failure_slots[i].len.store(len, std::memory_order_relaxed);
      g_failure_slots[i].base.store(start, std::memory_order_release);
      m->slot_ = i;
    }
  }
  if (Status s = OrphanWatcher::Get().WatchConnection(m.get()); s != Status::kOk) return s;
  *out = std::move(m);
  return Status::kOk;
}

RemoteMapping::~RemoteMapping() {
  if (connection_ >= 0 || forks_ >= 0) OrphanWatcher::Get().Remove(this);
  if (slot_ >= 0) {
    g_failure_slots[slot_].base.store(0, std::memory_order_relaxed);
    g_failure_slots[slot_].page.store(nullptr, std::memory_order_release);
  }
  if (base_ != nullptr) ::munmap(base_, len_);
  // The owner stops serving the range once the connection closes; threads still asleep in
  // it are woken there and find nothing mapped.
  if (connection_ >= 0) ::close(connection_);
  if (failures_ != nullptr) ::munmap(failures_, sizeof(RemoteFailurePage));
  if (failure_fd_ >= 0) ::close(failure_fd_);
  if (forks_ >= 0) ::close(forks_);
  if (own_fd_ >= 0) ::close(own_fd_);
  if (root_fd_ >= 0) ::close(root_fd_);
}

bool RemoteMapping::ServeForks() {
  HandleForkMessage ask;
  Received received;
  const ReceiveResult r = ReceiveMessage(forks_, &ask, sizeof ask, false, &received);
  if (r == ReceiveResult::kWouldBlock) return true;
  CloseFds(received.fds, received.num_fds);
  if (r != ReceiveResult::kOk || received.num_fds != 0) return false;
  const bool own = DecodeForkMessage(&ask, received.len, ForkOp::kMapOwn, &ask) ||
                   DecodeForkMessage(&ask, received.len, ForkOp::kMapOwnProtected, &ask);
  if ((!own && !DecodeForkMessage(&ask, received.len, ForkOp::kMapRoot, &ask)) ||
      ask.offset < vmo_offset_ || ask.len > len_ || ask.offset - vmo_offset_ > len_ - ask.len) {
    return false;
  }
  // The clone's own memfd over those pages, in place of the root's (the VMA splits), or the
  // root's back (a fork the owner takes back), as the owner's own mapping does
  // (mapping_forks.cc).
  const uintptr_t start = reinterpret_cast<uintptr_t>(base_) + (ask.offset - vmo_offset_);
  const bool placed =
      own ? PlacePiece(start, ask.len, own_fd_, ask.offset, writable_,
                       ask.op == static_cast<uint16_t>(ForkOp::kMapOwnProtected), false)
          : PlacePiece(start, ask.len, root_fd_, root_offset_ + (ask.offset - vmo_offset_),
                       /*shared=*/false, /*protect=*/true, /*last_resort=*/true);
  if (!own) KeepSpareVma();
  const HandleForkMessage done = MakeForkMessage(placed ? ForkOp::kForkMapped : ForkOp::kForkFailed,
                                                 ask.serial, ask.offset, ask.len);
  return SendMessage(forks_, &done, sizeof done, nullptr, 0) == SendResult::kOk;
}

bool RemoteMapping::PlacePiece(uintptr_t start, uint64_t len, int fd, uint64_t fd_offset,
                               bool shared, bool protect, bool last_resort) {
  // Registered again, as the new piece is not: faults on a hole there (a zero marker) must
  // still reach the owner. The system call itself, as in the owner (mapping_forks.cc): the
  // threads that read the piece next are ordered by the owner's wake, which a sanitizer's
  // interceptor cannot see.
  const int prot = PROT_READ | (writable_ ? PROT_WRITE : 0);
  const int flags = MAP_FIXED | (shared ? MAP_SHARED : MAP_PRIVATE);
  long ret = ::syscall(SYS_mmap, start, len, prot, flags, fd, static_cast<off_t>(fd_offset));
  if (ret == -1 && errno == ENOMEM && last_resort && GiveUpSpareVma()) {
    ret = ::syscall(SYS_mmap, start, len, prot, flags, fd, static_cast<off_t>(fd_offset));
  }
  if (ret == -1) return false;  // the range as it was
  ::madvise(reinterpret_cast<void*>(start), len, MADV_DONTFORK);
  if (!uffd_.Register(start, len, writable_, false)) return false;
  if (protect && writable_) uffd_.WriteProtect(start, len, true);
  return true;
}

void RemoteMapping::Orphan() {
  // The owner read some faults and will never answer them: their threads retry, and the
  // retried accesses come here.
  uffd_.Wake(reinterpret_cast<uintptr_t>(base_), len_);
}

void RemoteMapping::ServeOrphanFaults() {
  uffd_msg msgs[16];
  const ssize_t n = ::read(uffd_.fd(), msgs, sizeof msgs);
  if (n <= 0) return;
  for (size_t i = 0; i < static_cast<size_t>(n) / sizeof(uffd_msg); ++i) {
    if (msgs[i].event != UFFD_EVENT_PAGEFAULT) continue;
    // An absent page of a VMO whose pager is gone, or a first store to a clean page that
    // nobody can acknowledge: as after a detach (section 9.2).
    FaultService::Get().FailAccess(uffd_, static_cast<uintptr_t>(msgs[i].arg.pagefault.address),
                                   static_cast<pid_t>(msgs[i].arg.pagefault.feat.ptid),
                                   Status::kBadState);
  }
}

Status RemoteMapping::FailureFor(uintptr_t address) {
  const uintptr_t page = address & ~static_cast<uintptr_t>(kPageSize - 1);
  for (const FailureSlot& slot : g_failure_slots) {
    const uintptr_t base = slot.base.load(std::memory_order_acquire);
    if (base == 0 || address < base || address - base >= slot.len.load(std::memory_order_relaxed)) {
      continue;
    }
    RemoteFailurePage* failures = slot.page.load(std::memory_order_acquire);
    if (failures == nullptr) continue;
    uint32_t best = 0;
    int32_t status = 0;
    for (RemoteFailureSlot& s : failures->slots) {
      if (std::atomic_ref<uint64_t>(s.page).load(std::memory_order_acquire) != page) continue;
      const uint32_t serial = std::atomic_ref<uint32_t>(s.serial).load(std::memory_order_relaxed);
      if (best == 0 || serial > best) {
        best = serial;
        status = std::atomic_ref<int32_t>(s.status).load(std::memory_order_relaxed);
      }
    }
    if (best != 0) return static_cast<Status>(status);
  }
  return Status::kNotFound;
}

}  // namespace upager::internal

// The owner's side of VMO handles held by other processes (vmo_export.h).
#include "pager/vmo_export.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/handle_access.h"
#include "base/overtime.h"
#include "base/thread_state.h"
#include "pager/export_requests.h"
#include "pager/handle_protocol.h"
#include "pager/seqpacket.h"
#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"
#include "upager/rights.h"
#include "vm/vm_object_paged.h"
#include "vm/vmo_remote.h"

namespace upager::internal {

namespace {

constexpr size_t kMaxWorkers = 32;

// The service's lock (there is one service per process). Ordered before any VMO lock: no
// Vmo call is made with it held.
Mutex g_mutex;

std::atomic<RemoteMapper> g_mapper{nullptr};

struct Connection;

// What an epoll event is about: a connection's socket, or the userfaultfd of its mapping.
struct Watch {
  Connection* connection;
  bool faults;
};

// One holder's end: the handle it stands for and where its request is.
struct Connection {
  Watch socket_watch{this, false};
  Watch fault_watch{this, true};
  // A holder's mapping served here (kMap); only the service thread touches it.
  std::unique_ptr<ExportedMapping> mapping;
  // Destroyed, and waiting for the end of the service thread's batch of events (which may
  // still name it); only the service thread touches it.
  bool doomed = false;
  // Set before the connection is published, then constant.
  int fd = -1;  // the owner's end, registered with the service's epoll
  ino_t holder_ino = 0;
  // The handle this connection is: used by the service thread, and by one worker while
  // busy; destroyed by the service thread once neither is using it.
  Vmo vmo;
  bool busy UPAGER_GUARDED_BY(g_mutex) = false;     // a request is with a worker
  bool closing UPAGER_GUARDED_BY(g_mutex) = false;  // the holder went (or must go) while busy
  // The thread running its request, while busy.
  std::shared_ptr<ThreadState> worker UPAGER_GUARDED_BY(g_mutex);
};

struct Job {
  Connection* connection;
  DecodedRequest request;
  std::vector<std::byte> data;  // a write's bytes (request.data points here)
};

class Service {
 public:
  static Service& Get() {
    static Service* service = new Service();  // lives for the process: threads use it
    return *service;
  }

  Status Export(Vmo vmo, int* holder_fd);
  bool TakeLocal(int holder_fd, Vmo* out);
  size_t Count() {
    MutexLock lock(&g_mutex);
    return alive_;
  }
  size_t Waiters() {
    MutexLock lock(&g_mutex);
    size_t n = 0;
    for (const auto& [c, unused] : connections_) {
      if (c->worker && c->worker->blocked_on_pager.load(std::memory_order_acquire)) ++n;
    }
    return n;
  }
  bool WaitForCount(size_t n, Deadline deadline) {
    MutexLock lock(&g_mutex);
    while (alive_ != n) {
      if (!count_changed_.WaitUntil(&g_mutex, deadline)) return alive_ == n;
    }
    return true;
  }

 private:
  Service() = default;
  Status StartLocked() UPAGER_REQUIRES(g_mutex);
  void Run();
  void OnEvent(Connection* c, uint32_t events, std::vector<std::byte>* buffer);
  void ServeInline(Connection* c, const DecodedRequest& r);
  void ServeMap(Connection* c, const DecodedRequest& r, const Received& fds);
  void Drop(Connection* c, const char* why);
  // Takes `c` out of service; it is freed by FreeDoomed, once no event in hand names it.
  void Destroy(Connection* c);
  void FreeDoomed();
  // Holds the holders' faults to the overtime limits; the epoll timeout until the next scan.
  int ScanOvertime();
  void Worker();
  void RunJob(Job* job);
  void FinishJobs();
  bool Reply(Connection* c, HandleOp op, Status status, const void* data, uint32_t len,
             uint64_t value, int fd = -1);

  CondVar count_changed_;
  int epoll_ UPAGER_GUARDED_BY(g_mutex) = -1;
  int wake_ UPAGER_GUARDED_BY(g_mutex) = -1;  // eventfd: jobs finished
  bool started_ UPAGER_GUARDED_BY(g_mutex) = false;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections_
      UPAGER_GUARDED_BY(g_mutex);
  std::unordered_map<ino_t, Connection*> by_holder_ UPAGER_GUARDED_BY(g_mutex);
  // Connections made and not yet wholly gone (descriptor closed, handle dropped).
  size_t alive_ UPAGER_GUARDED_BY(g_mutex) = 0;
  std::deque<Job> jobs_ UPAGER_GUARDED_BY(g_mutex);
  std::vector<Connection*> finished_ UPAGER_GUARDED_BY(g_mutex);
  // Only the service thread touches these.
  std::vector<std::unique_ptr<Connection>> doomed_;
  std::vector<Connection*> mapped_;  // connections with a mapping, for the overtime scan
  Deadline last_scan_{};
  size_t workers_ UPAGER_GUARDED_BY(g_mutex) = 0;
  size_t idle_workers_ UPAGER_GUARDED_BY(g_mutex) = 0;
  CondVar job_ready_;
  // Set once by StartLocked and never changed: read by the service thread without the lock.
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
};

ino_t InodeOf(int fd) {
  struct stat st;
  return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

Status Service::StartLocked() {
  if (started_) return Status::kOk;
  epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_ < 0 || wake_ < 0) {
    if (epoll_ >= 0) ::close(epoll_);
    if (wake_ >= 0) ::close(wake_);
    epoll_ = wake_ = -1;
    return Status::kNoResources;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the wake eventfd
  ::epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &ev);
  epoll_fd_ = epoll_;
  wake_fd_ = wake_;
  started_ = true;
  std::thread([this] { Run(); }).detach();
  return Status::kOk;
}

Status Service::Export(Vmo vmo, int* holder_fd) {
  if (!vmo.is_valid()) return Status::kBadHandle;
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, ends) != 0) {
    return Status::kNoResources;
  }
  HandleWelcome welcome{};
  welcome.magic = kHandleWireMagic;
  welcome.version = kHandleWireVersion;
  welcome.op = static_cast<uint16_t>(HandleOp::kWelcome);
  welcome.rights = vmo.rights();
  VmoInfo info{};
  vmo.GetInfo(&info);
  welcome.vmo_flags = info.flags;
  welcome.koid = vmo.koid();
  welcome.parent_koid = info.parent_koid;
  welcome.owner_pid = static_cast<int32_t>(::getpid());
  welcome.welcome_flags = WelcomeFlags(vmo);
  const int memfd = ReadOnlyMemfd(vmo);
  const SendResult sent =
      SendMessage(ends[0], &welcome, sizeof welcome, &memfd, memfd >= 0 ? 1 : 0);
  if (memfd >= 0) ::close(memfd);
  if (sent != SendResult::kOk) {
    ::close(ends[0]);
    ::close(ends[1]);
    return Status::kNoResources;
  }
  auto connection = std::make_unique<Connection>();
  connection->fd = ends[0];
  connection->vmo = std::move(vmo);
  connection->holder_ino = InodeOf(ends[1]);
  // The kernel then tells which process sent each request (a kMap names its sender).
  const int on = 1;
  ::setsockopt(ends[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
  Connection* c = connection.get();
  MutexLock lock(&g_mutex);
  if (Status s = StartLocked(); s != Status::kOk) {
    ::close(ends[0]);
    ::close(ends[1]);
    return s;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.ptr = &c->socket_watch;
  if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
    ::close(ends[0]);
    ::close(ends[1]);
    return Status::kNoResources;
  }
  by_holder_[c->holder_ino] = c;
  connections_.emplace(c, std::move(connection));
  ++alive_;
  count_changed_.NotifyAll();
  *holder_fd = ends[1];
  return Status::kOk;
}

bool Service::TakeLocal(int holder_fd, Vmo* out) {
  const ino_t ino = InodeOf(holder_fd);
  if (ino == 0) return false;
  MutexLock lock(&g_mutex);
  auto it = by_holder_.find(ino);
  if (it == by_holder_.end() || it->second->closing) return false;
  *out = CopyVmoHandle(it->second->vmo);
  return out->is_valid();
}

void Service::Run() {
  epoll_event events[32];
  std::vector<std::byte> buffer(sizeof(HandleRequest) + kHandleWireMaxData);
  while (true) {
    FinishJobs();
    FreeDoomed();
    const int n = ::epoll_wait(epoll_fd_, events, 32, ScanOvertime());
    for (int i = 0; i < n; ++i) {
      if (events[i].data.ptr == nullptr) {
        uint64_t count;
        while (::read(wake_fd_, &count, sizeof count) > 0) {
        }
        continue;
      }
      const Watch* watch = static_cast<const Watch*>(events[i].data.ptr);
      if (watch->connection->doomed) continue;  // destroyed by an earlier event of the batch
      if (watch->faults) {
        watch->connection->mapping->ServeFaults();
        continue;
      }
      OnEvent(watch->connection, events[i].events, &buffer);
    }
    FreeDoomed();
  }
}

int Service::ScanOvertime() {
  const PagerTimeouts limits = GetPagerTimeouts();
  if (mapped_.empty() || !AnyOvertimeLimit(limits)) return -1;
  const std::chrono::milliseconds interval = OvertimeScanInterval(limits);
  const Deadline now = std::chrono::steady_clock::now();
  if (now - last_scan_ >= interval) {
    last_scan_ = now;
    for (Connection* c : mapped_) c->mapping->CheckOvertime(now);
  }
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(last_scan_ + interval - now);
  return static_cast<int>(std::max<int64_t>(1, left.count()));
}

void Service::OnEvent(Connection* c, uint32_t events, std::vector<std::byte>* buffer) {
  bool busy;
  {
    MutexLock lock(&g_mutex);
    busy = c->busy;
  }
  if (busy) {
    // A worker has the request. The holder may cancel it (kCancel); any other message
    // waits for the job to end (the holder may have its reply already), unwatched until then.
    const bool hung_up = (events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)) != 0;
    HandleRequest head{};
    size_t len = 0;
    const bool cancel = (events & EPOLLIN) != 0 &&
                        PeekMessage(c->fd, &head, sizeof head, &len) == ReceiveResult::kOk &&
                        len == sizeof head && head.magic == kHandleWireMagic &&
                        head.op == static_cast<uint16_t>(HandleOp::kCancel);
    if (cancel) {
      Received received;
      ReceiveMessage(c->fd, buffer->data(), buffer->size(), false, &received);
      CloseFds(received.fds, received.num_fds);
    }
    MutexLock lock(&g_mutex);
    epoll_event ev{};
    if (hung_up) {
      c->closing = true;
      ::epoll_ctl(epoll_, EPOLL_CTL_DEL, c->fd, &ev);
    } else if (!cancel) {
      ev.events = EPOLLRDHUP;
      ev.data.ptr = &c->socket_watch;
      ::epoll_ctl(epoll_, EPOLL_CTL_MOD, c->fd, &ev);
      return;
    }
    // Cancelled or gone: the worker's wait ends with kIntrKilled; its reply goes out as usual.
    if (c->worker) c->worker->Kill();
    return;
  }
  std::vector<std::byte>& packet = *buffer;
  Received received;
  const ReceiveResult r = ReceiveMessage(c->fd, packet.data(), packet.size(), false, &received);
  if (r == ReceiveResult::kWouldBlock) {
    if ((events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)) != 0) Destroy(c);
    return;
  }
  if (r == ReceiveResult::kPeerClosed || r == ReceiveResult::kError) {
    CloseFds(received.fds, received.num_fds);
    Destroy(c);
    return;
  }
  if (r == ReceiveResult::kTruncated) {
    Drop(c, "a message longer than any request");
    return;
  }
  DecodedRequest request;
  std::string why;
  if (!DecodeRequest(packet.data(), received.len, received.num_fds, &request, &why)) {
    CloseFds(received.fds, received.num_fds);
    Drop(c, why.c_str());
    return;
  }
  switch (request.op) {
    case HandleOp::kGetSize:
    case HandleOp::kGetInfo:
    case HandleOp::kDuplicate:
    case HandleOp::kCreateChild:
    case HandleOp::kTransfer:
    case HandleOp::kMemfd:
    case HandleOp::kRootMemfd: ServeInline(c, request); return;
    case HandleOp::kMap: ServeMap(c, request, received); return;
    default: break;
  }
  if (request.op == HandleOp::kCancel) return;  // nothing outstanding to cancel
  // A request that may wait: to a worker; meanwhile only a cancel or a hang-up may come.
  Job job;
  job.connection = c;
  job.request = request;
  job.data.assign(request.data, request.data + request.data_len);
  job.request.data = job.data.data();
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.ptr = &c->socket_watch;
  MutexLock lock(&g_mutex);
  ::epoll_ctl(epoll_, EPOLL_CTL_MOD, c->fd, &ev);
  c->busy = true;
  jobs_.push_back(std::move(job));
  // Each idle worker takes one queued job; start another worker if they do not suffice.
  if (idle_workers_ >= jobs_.size()) {
    job_ready_.NotifyOne();
  } else if (workers_ < kMaxWorkers) {
    ++workers_;
    std::thread([this] { Worker(); }).detach();
  }
}

void Service::ServeInline(Connection* c, const DecodedRequest& r) {
  switch (r.op) {
    case HandleOp::kGetSize: {
      uint64_t size = 0;
      const Status s = c->vmo.GetSize(&size);
      if (!Reply(c, r.op, s, nullptr, 0, size)) Drop(c, "it does not read its replies");
      return;
    }
    case HandleOp::kGetInfo: {
      VmoInfo info{};
      const Status s = c->vmo.GetInfo(&info);
      const HandleWireInfo wire = MakeWireInfo(info);
      const bool ok = s == Status::kOk ? Reply(c, r.op, s, &wire, sizeof wire, 0)
                                       : Reply(c, r.op, s, nullptr, 0, 0);
      if (!ok) Drop(c, "it does not read its replies");
      return;
    }
    case HandleOp::kDuplicate:
    case HandleOp::kCreateChild: {
      // A child is made here, with this handle's checks and rights, as a local caller's.
      Vmo copy;
      Status s = r.op == HandleOp::kDuplicate ? c->vmo.Duplicate(r.arg, &copy)
                                              : c->vmo.CreateChild(r.arg, r.offset, r.len, &copy);
      int fd = -1;
      if (s == Status::kOk) s = Export(std::move(copy), &fd);
      const bool ok = Reply(c, r.op, s, nullptr, 0, 0, fd);
      if (fd >= 0) ::close(fd);  // the holder has its own reference now, or the pair is gone
      if (!ok) Drop(c, "it does not read its replies");
      return;
    }
    case HandleOp::kTransfer: {
      // Another connection for the same handle, whatever its rights: the sender closes
      // this one once the new one is sent (a descriptor can always be duplicated, so
      // refusing would protect nothing).
      int fd = -1;
      const Status s = Export(CopyVmoHandle(c->vmo), &fd);
      const bool ok = Reply(c, r.op, s, nullptr, 0, 0, fd);
      if (fd >= 0) ::close(fd);
      if (!ok) Drop(c, "it does not read its replies");
      return;
    }
    case HandleOp::kMemfd:
    case HandleOp::kRootMemfd: {
      int fd = -1;
      uint64_t value = 0;
      const Status s = r.op == HandleOp::kMemfd ? MemfdForHolder(c->vmo, r.arg != 0, &fd)
                                                : RootMemfdForHolder(c->vmo, r.offset, &fd, &value);
      const bool ok = Reply(c, r.op, s, nullptr, 0, value, fd);
      if (fd >= 0) ::close(fd);
      if (!ok) Drop(c, "it does not read its replies");
      return;
    }
    default: return;
  }
}

void Service::ServeMap(Connection* c, const DecodedRequest& r, const Received& fds) {
  Status s = c->mapping != nullptr ? Status::kBadState : Status::kOk;  // one per connection
  if (s == Status::kOk) {
    s = MapForHolderChecked(c->vmo, r, fds.fds, fds.num_fds, fds.pid,
                            g_mapper.load(std::memory_order_acquire), &c->mapping);
  } else {
    CloseFds(fds.fds, fds.num_fds);
  }
  if (s == Status::kOk) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &c->fault_watch;
    MutexLock lock(&g_mutex);
    if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, c->mapping->fault_fd(), &ev) != 0) {
      c->mapping.reset();
      s = Status::kNoResources;
    } else {
      mapped_.push_back(c);
    }
  }
  if (!Reply(c, r.op, s, nullptr, 0, 0)) Drop(c, "it does not read its replies");
}

bool Service::Reply(Connection* c, HandleOp op, Status status, const void* data, uint32_t len,
                    uint64_t value, int fd) {
  std::vector<std::byte> packet(sizeof(HandleReply) + len);
  const HandleReply header = MakeReply(op, static_cast<int32_t>(status), len, value);
  std::memcpy(packet.data(), &header, sizeof header);
  if (len > 0) std::memcpy(packet.data() + sizeof header, data, len);
  const SendResult r = SendMessage(c->fd, packet.data(), packet.size(), &fd, fd >= 0 ? 1 : 0);
  // A holder that is gone is noticed by its hang-up; one that leaves its reply unread
  // while it asks again fills the socket.
  return r == SendResult::kOk || r == SendResult::kPeerClosed;
}

void Service::Drop(Connection* c, const char* why) {
  std::fprintf(stderr, "upager: dropped a connection to VMO %" PRIu64 ": %s\n", c->vmo.koid(), why);
  Destroy(c);
}

void Service::Destroy(Connection* c) {
  MutexLock lock(&g_mutex);
  epoll_event ev{};
  ::epoll_ctl(epoll_, EPOLL_CTL_DEL, c->fd, &ev);
  if (c->mapping != nullptr) {
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, c->mapping->fault_fd(), &ev);
    mapped_.erase(std::find(mapped_.begin(), mapped_.end(), c));
  }
  by_holder_.erase(c->holder_ino);
  auto it = connections_.find(c);
  c->doomed = true;
  doomed_.push_back(std::move(it->second));
  connections_.erase(it);
}

void Service::FreeDoomed() {
  if (doomed_.empty()) return;
  std::vector<std::unique_ptr<Connection>> doomed;
  doomed.swap(doomed_);
  for (std::unique_ptr<Connection>& c : doomed) {
    // The mapping first (it wakes the holder's threads still asleep in it), then the
    // handle, outside the lock: the last one closes the VMO.
    c->mapping.reset();
    ::close(c->fd);
    c.reset();
    MutexLock lock(&g_mutex);
    --alive_;
    count_changed_.NotifyAll();
  }
}

void Service::Worker() {
  std::shared_ptr<ThreadState> self = ThreadState::CurrentShared();
  while (true) {
    Job job;
    {
      MutexLock lock(&g_mutex);
      ++idle_workers_;
      while (jobs_.empty()) job_ready_.Wait(&g_mutex);
      --idle_workers_;
      job = std::move(jobs_.front());
      jobs_.pop_front();
      job.connection->worker = self;
    }
    RunJob(&job);
    bool killed;
    {
      MutexLock lock(&g_mutex);
      job.connection->worker.reset();
      finished_.push_back(job.connection);
      killed = self->killed();
      if (killed) --workers_;  // a killed thread stays killed: let a new one take its place
    }
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
    if (killed) return;
  }
}

void Service::RunJob(Job* job) {
  Connection* c = job->connection;
  const DecodedRequest& r = job->request;
  Status s = Status::kOk;
  std::vector<std::byte> out;
  switch (r.op) {
    case HandleOp::kRead:
      out.resize(r.len);
      s = c->vmo.Read(out.data(), r.offset, r.len);
      if (s != Status::kOk) out.clear();
      break;
    case HandleOp::kWrite: s = c->vmo.Write(r.data, r.offset, r.len); break;
    case HandleOp::kSetSize: s = c->vmo.SetSize(r.offset); break;
    case HandleOp::kOpRange: s = c->vmo.OpRange(r.arg, r.offset, r.len); break;
    default: s = Status::kNotSupported; break;
  }
  // The connection stays registered while busy, so its fd is still this holder's.
  if (!Reply(c, r.op, s, out.data(), static_cast<uint32_t>(out.size()), 0)) {
    MutexLock lock(&g_mutex);
    c->closing = true;
  }
}

void Service::FinishJobs() {
  std::vector<Connection*> finished;
  {
    MutexLock lock(&g_mutex);
    finished.swap(finished_);
  }
  for (Connection* c : finished) {
    bool closing;
    {
      MutexLock lock(&g_mutex);
      c->busy = false;
      closing = c->closing;
      if (!closing) {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.ptr = &c->socket_watch;
        ::epoll_ctl(epoll_, EPOLL_CTL_MOD, c->fd, &ev);
      }
    }
    if (closing) Destroy(c);
  }
}

}  // namespace

void SetRemoteMapper(RemoteMapper mapper) { g_mapper.store(mapper, std::memory_order_release); }

Status ExportVmo(Vmo vmo, int* holder_fd) {
  return Service::Get().Export(std::move(vmo), holder_fd);
}

bool TakeLocalExport(int holder_fd, Vmo* out) { return Service::Get().TakeLocal(holder_fd, out); }

size_t ExportCountForTesting() { return Service::Get().Count(); }

size_t ExportWaitersForTesting() { return Service::Get().Waiters(); }

bool WaitForExportCount(size_t n, Deadline deadline) {
  return Service::Get().WaitForCount(n, deadline);
}

}  // namespace upager::internal

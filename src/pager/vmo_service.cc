// VmoService: the listening side of named VMOs (vmo_service.h, vmo_service_wire.h).
//
// One thread per service polls an eventfd (stop), the listening socket and every
// connection. A request is answered on that thread: it only looks a name up and duplicates
// a handle, which never waits for a pager. Connections are the thread's alone; the names,
// which Export and Remove change from any thread, are under the service's mutex.
#include "upager/vmo_service.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "pager/vmo_service_wire.h"
#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"

namespace upager {

namespace {

using internal::ServiceMessage;
using internal::ServiceOp;

// Requests taken from one connection per turn, so that one busy client cannot starve the
// others.
constexpr int kRequestsPerTurn = 16;
// While accept() fails for want of descriptors, how long to leave the listening socket
// alone before trying again (ms).
constexpr int kAcceptPauseMs = 100;

// Fills a sockaddr_un for `path`; false if it is no valid socket path.
bool SocketAddress(std::string_view path, sockaddr_un* addr) {
  std::memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr->sun_path ||
      path.find('\0') != std::string_view::npos) {
    return false;
  }
  std::memcpy(addr->sun_path, path.data(), path.size());
  return true;
}

Status StatusForPathError(int err) {
  switch (err) {
    case EACCES:
    case EPERM:
    case EROFS: return Status::kAccessDenied;
    case ENOENT:
    case ENOTDIR: return Status::kNotFound;
    case EADDRINUSE:
    case EEXIST: return Status::kAlreadyExists;
    case ENAMETOOLONG:
    case ELOOP: return Status::kInvalidArgs;
    default: return Status::kNoResources;
  }
}

// True if a socket file at `addr` is left over: nobody accepts connections on it.
bool IsStaleSocket(const sockaddr_un& addr) {
  struct stat st;
  if (::lstat(addr.sun_path, &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
  const int probe = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (probe < 0) return false;
  const bool refused =
      ::connect(probe, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 &&
      errno == ECONNREFUSED;
  ::close(probe);
  return refused;
}

}  // namespace

class VmoService::Impl {
 public:
  Impl(std::string path, const VmoServiceOptions& options, int listen_fd, int wake_fd, ino_t inode)
      : path_(std::move(path)),
        options_(options),
        listen_fd_(listen_fd),
        wake_fd_(wake_fd),
        inode_(inode) {}

  ~Impl() {
    if (thread_.joinable()) {
      stop_.store(true, std::memory_order_release);
      const uint64_t one = 1;
      [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
      thread_.join();
    }
    connections_.clear();  // the thread is gone: its connections close here
    // Remove the socket file only if it is still ours (not a successor's).
    struct stat st;
    if (::lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == inode_) {
      ::unlink(path_.c_str());
    }
    ::close(listen_fd_);
    ::close(wake_fd_);
  }

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }

  Status Export(std::string_view name, const Vmo& vmo, uint32_t rights, uint64_t content_size) {
    if (!internal::ValidServiceName(name)) return Status::kInvalidArgs;
    if (!vmo.is_valid()) return Status::kBadHandle;
    if ((rights & kRightSameRights) != 0 || (rights & ~vmo.rights()) != 0 ||
        (rights & kRightTransfer) == 0) {
      return Status::kInvalidArgs;
    }
    auto entry = std::make_shared<Entry>();
    if (Status s = vmo.Duplicate(kRightSameRights, &entry->vmo); s != Status::kOk) return s;
    entry->rights = rights;
    entry->content_size = content_size;
    internal::MutexLock lock(&mutex_);
    return names_.emplace(std::string(name), std::move(entry)).second ? Status::kOk
                                                                      : Status::kAlreadyExists;
  }

  Status Remove(std::string_view name) {
    std::shared_ptr<const Entry> removed;  // its handle goes once the lock is dropped
    internal::MutexLock lock(&mutex_);
    auto it = names_.find(name);
    if (it == names_.end()) return Status::kNotFound;
    removed = std::move(it->second);
    names_.erase(it);
    return Status::kOk;
  }

  size_t connection_count() const {
    internal::MutexLock lock(&mutex_);
    return connection_count_;
  }

  const std::string& path() const { return path_; }

 private:
  struct Entry {
    Vmo vmo;  // the service's own handle, with the exporter's rights
    uint32_t rights = 0;
    uint64_t content_size = 0;
  };
  struct Connection {
    Channel channel;
    PeerCredentials peer;
  };

  void Run();
  void AcceptAll();
  void Admit(int fd);
  // Serves the requests queued on `c`; false once the connection is to be closed.
  bool Serve(Connection* c);
  // Answers one request; false once the connection is to be closed.
  bool Answer(Connection* c, const ServiceMessage& request, std::string_view name);
  void Log(const PeerCredentials& peer, const std::string& what) const;
  void SetCount(size_t n) {
    internal::MutexLock lock(&mutex_);
    connection_count_ = n;
  }

  const std::string path_;
  const VmoServiceOptions options_;
  const int listen_fd_;
  const int wake_fd_;  // eventfd: Stop
  const ino_t inode_;  // of the socket file made by Create
  std::atomic<bool> stop_{false};
  std::thread thread_;

  mutable internal::Mutex mutex_;
  std::map<std::string, std::shared_ptr<const Entry>, std::less<>> names_ UPAGER_GUARDED_BY(mutex_);
  size_t connection_count_ UPAGER_GUARDED_BY(mutex_) = 0;

  // The service thread's alone (and the destructor's, once the thread is joined).
  std::vector<std::unique_ptr<Connection>> connections_;
  bool accept_paused_ = false;
};

void VmoService::Impl::Log(const PeerCredentials& peer, const std::string& what) const {
  std::fprintf(stderr, "upager: vmo service %s: %s (pid %d, uid %u)\n", path_.c_str(), what.c_str(),
               static_cast<int>(peer.pid), static_cast<unsigned>(peer.uid));
}

void VmoService::Impl::Run() {
  std::vector<pollfd> fds;
  while (!stop_.load(std::memory_order_acquire)) {
    fds.clear();
    fds.push_back({wake_fd_, POLLIN, 0});
    fds.push_back({accept_paused_ ? -1 : listen_fd_, POLLIN, 0});
    for (const auto& c : connections_) fds.push_back({c->channel.fd(), POLLIN, 0});
    const int n = ::poll(fds.data(), fds.size(), accept_paused_ ? kAcceptPauseMs : -1);
    if (n < 0 && errno != EINTR) {
      std::fprintf(stderr, "upager: vmo service %s: poll: %s; stopping\n", path_.c_str(),
                   std::strerror(errno));
      break;
    }
    if (n <= 0) {
      accept_paused_ = false;
      continue;
    }
    if (fds[0].revents != 0) continue;  // stop_ is checked at the top
    // Connections first (their indices match fds[2..]), then new ones.
    size_t kept = 0;
    for (size_t i = 0; i < connections_.size(); ++i) {
      std::unique_ptr<Connection>& c = connections_[i];
      if (fds[i + 2].revents == 0 || Serve(c.get())) {
        connections_[kept++] = std::move(c);
      } else {
        accept_paused_ = false;  // a descriptor came free
      }
    }
    connections_.resize(kept);
    if (fds[1].revents != 0) AcceptAll();
    SetCount(connections_.size());
  }
}

void VmoService::Impl::AcceptAll() {
  while (true) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) {
      Admit(fd);
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      if (!accept_paused_) {
        std::fprintf(stderr, "upager: vmo service %s: cannot accept: %s\n", path_.c_str(),
                     std::strerror(errno));
      }
      accept_paused_ = true;
    }
    return;  // EAGAIN, or an error for which waiting is all there is to do
  }
}

void VmoService::Impl::Admit(int fd) {
  PeerCredentials peer;
  ucred cred{};
  socklen_t cred_len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) == 0) {
    peer.pid = cred.pid;
    peer.uid = cred.uid;
    peer.gid = cred.gid;
  }
  auto c = std::make_unique<Connection>();
  c->peer = peer;
  if (Channel::FromFd(fd, &c->channel) != Status::kOk) {
    ::close(fd);
    return;
  }
  Status verdict = Status::kOk;
  const char* why = nullptr;
  if (connections_.size() >= options_.max_connections) {
    verdict = Status::kNoResources;
    why = "refused a connection: too many connections";
  } else if (!options_.allowed_uids.empty() &&
             std::find(options_.allowed_uids.begin(), options_.allowed_uids.end(), peer.uid) ==
                 options_.allowed_uids.end()) {
    verdict = Status::kAccessDenied;
    why = "refused a connection: uid not allowed";
  } else if (options_.accept_peer && !options_.accept_peer(peer)) {
    verdict = Status::kAccessDenied;
    why = "refused a connection: credentials not accepted";
  }
  ServiceMessage hello;
  hello.op = static_cast<uint16_t>(ServiceOp::kHello);
  hello.status = static_cast<int32_t>(verdict);
  const Status sent = c->channel.Write(&hello, sizeof hello, nullptr, 0);
  if (why != nullptr) {
    Log(peer, why);
    return;  // closed here, after the greeting that says why
  }
  if (sent == Status::kOk) connections_.push_back(std::move(c));
}

bool VmoService::Impl::Serve(Connection* c) {
  char buffer[internal::kServiceMaxRequest];
  for (int i = 0; i < kRequestsPerTurn; ++i) {
    uint32_t len = 0, handles = 0;
    const Status s = c->channel.Read(buffer, sizeof buffer, &len, nullptr, 0, &handles);
    switch (s) {
      case Status::kOk: break;
      case Status::kShouldWait: return true;
      case Status::kBufferTooSmall:
        Log(c->peer, handles > 0 ? "dropped a connection: a request carrying handles"
                                 : "dropped a connection: a request of " + std::to_string(len) +
                                       " bytes (at most " +
                                       std::to_string(internal::kServiceMaxRequest) + ")");
        return false;
      default:
        // The client closed, or sent what no Channel writes (Channel::Read logged it).
        return false;
    }
    ServiceMessage request;
    std::string_view name;
    if (!internal::DecodeOpen(buffer, len, &request, &name)) {
      Log(c->peer, "dropped a connection: a malformed request (" + std::to_string(len) + " bytes)");
      return false;
    }
    if (!Answer(c, request, name)) return false;
  }
  return true;
}

bool VmoService::Impl::Answer(Connection* c, const ServiceMessage& request, std::string_view name) {
  std::shared_ptr<const Entry> entry;
  {
    internal::MutexLock lock(&mutex_);
    if (auto it = names_.find(name); it != names_.end()) entry = it->second;
  }
  ServiceMessage reply;
  reply.op = static_cast<uint16_t>(ServiceOp::kOpened);
  reply.id = request.id;
  Vmo handle;
  Status status = Status::kNotFound;
  if (entry != nullptr) {
    status = entry->vmo.Duplicate(entry->rights, &handle);
    if (status == Status::kOk) {
      reply.rights = handle.rights();
      reply.content_size = entry->content_size;
      if (reply.content_size == kContentSizeOfVmo) {
        status = entry->vmo.GetSize(&reply.content_size);
      }
    }
  }
  reply.status = static_cast<int32_t>(status);
  Status sent = c->channel.Write(&reply, sizeof reply, &handle, status == Status::kOk ? 1 : 0);
  if (sent != Status::kOk && sent != Status::kShouldWait && sent != Status::kPeerClosed &&
      status == Status::kOk) {
    // The handle could not be made to travel (kNoResources, ...): say so instead.
    reply.status = static_cast<int32_t>(sent);
    reply.rights = 0;
    reply.content_size = 0;
    sent = c->channel.Write(&reply, sizeof reply, nullptr, 0);
  }
  if (sent == Status::kShouldWait) {
    Log(c->peer, "dropped a connection: it does not read its replies");
    return false;
  }
  return sent == Status::kOk;
}

// ---- VmoService ----

VmoService::VmoService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VmoService::~VmoService() = default;

Status VmoService::Create(std::string_view path, const VmoServiceOptions& options,
                          std::unique_ptr<VmoService>* out) {
  sockaddr_un addr;
  if (out == nullptr || !SocketAddress(path, &addr)) return Status::kInvalidArgs;
  const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Status::kNoResources;
  auto fail = [fd](Status s) {
    ::close(fd);
    return s;
  };
  const auto* sa = reinterpret_cast<const sockaddr*>(&addr);
  if (::bind(fd, sa, sizeof addr) != 0) {
    if (errno != EADDRINUSE || !IsStaleSocket(addr)) return fail(StatusForPathError(errno));
    // A service that is gone left its socket file: take its place.
    ::unlink(addr.sun_path);
    if (::bind(fd, sa, sizeof addr) != 0) return fail(StatusForPathError(errno));
  }
  // Nobody can connect before listen(): the mode is in place before anyone is accepted.
  struct stat st;
  if (::chmod(addr.sun_path, options.mode & 07777) != 0 || ::lstat(addr.sun_path, &st) != 0 ||
      ::listen(fd, 128) != 0) {
    const int err = errno;
    ::unlink(addr.sun_path);
    return fail(StatusForPathError(err));
  }
  const int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    ::unlink(addr.sun_path);
    return fail(Status::kNoResources);
  }
  auto impl = std::make_unique<Impl>(std::string(path), options, fd, wake, st.st_ino);
  try {
    impl->Start();
  } catch (const std::system_error&) {
    return Status::kNoResources;  // ~Impl closes and unlinks
  }
  out->reset(new VmoService(std::move(impl)));
  return Status::kOk;
}

Status VmoService::Export(std::string_view name, const Vmo& vmo, uint32_t rights,
                          uint64_t content_size) {
  return impl_->Export(name, vmo, rights, content_size);
}

Status VmoService::Remove(std::string_view name) { return impl_->Remove(name); }

const std::string& VmoService::path() const { return impl_->path(); }

size_t VmoService::connection_count() const { return impl_->connection_count(); }

}  // namespace upager

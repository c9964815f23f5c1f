#include "http_test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace upager::testing {
namespace {

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// The value of header `name` (lower case, no colon) in `head`, or empty.
std::string Header(const std::string& head, std::string_view name) {
  size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string::npos) {
    pos += 2;
    if (head.size() - pos < name.size() + 1) break;
    bool same = true;
    for (size_t i = 0; i < name.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(head[pos + i])) == name[i];
    }
    if (!same || head[pos + name.size()] != ':') continue;
    const size_t begin = head.find_first_not_of(' ', pos + name.size() + 1);
    const size_t end = head.find("\r\n", begin);
    return head.substr(begin, end - begin);
  }
  return {};
}

}  // namespace

bool HttpTestServer::Start(std::string* why) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      ::pipe2(stop_pipe_, O_CLOEXEC) != 0) {
    *why = std::string("cannot listen on 127.0.0.1: ") + std::strerror(errno);
    return false;
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return true;
}

void HttpTestServer::Stop() {
  if (!acceptor_.joinable()) return;
  (void)!::write(stop_pipe_[1], "x", 1);  // wakes every waiting thread, for good
  acceptor_.join();
  std::vector<std::thread> threads;
  {
    internal::MutexLock lock(&mutex_);
    threads.swap(connections_);
  }
  for (std::thread& t : threads) t.join();
  ::close(listen_fd_);
  ::close(stop_pipe_[0]);
  ::close(stop_pipe_[1]);
}

std::string HttpTestServer::Url(const std::string& path) const { return Origin() + "/" + path; }

std::string HttpTestServer::Origin() const { return "http://127.0.0.1:" + std::to_string(port_); }

void HttpTestServer::SetObject(std::string content, std::string etag, std::string last_modified) {
  internal::MutexLock lock(&mutex_);
  content_ = std::move(content);
  etag_ = std::move(etag);
  last_modified_ = std::move(last_modified);
}

void HttpTestServer::SetMode(Mode mode, uint64_t from, uint64_t until) {
  internal::MutexLock lock(&mutex_);
  mode_ = mode;
  mode_from_ = from;
  mode_until_ = until;
}

void HttpTestServer::SetObjectFrom(uint64_t from, std::string content, std::string etag) {
  internal::MutexLock lock(&mutex_);
  next_from_ = from;
  next_content_ = std::move(content);
  next_etag_ = std::move(etag);
}

void HttpTestServer::SetHonourConditions(bool honour) {
  internal::MutexLock lock(&mutex_);
  honour_ = honour;
}

std::string HttpTestServer::last_if_match() const {
  internal::MutexLock lock(&mutex_);
  return if_match_;
}

std::string HttpTestServer::last_if_unmodified_since() const {
  internal::MutexLock lock(&mutex_);
  return if_unmodified_since_;
}

bool HttpTestServer::WaitReadable(int fd) const {
  pollfd fds[2] = {{fd, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
  while (true) {
    const int n = ::poll(fds, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || (fds[1].revents & POLLIN) != 0) return false;
    if (fds[0].revents != 0) return true;
  }
}

void HttpTestServer::AcceptLoop() {
  while (WaitReadable(listen_fd_)) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    internal::MutexLock lock(&mutex_);
    connections_.emplace_back([this, fd] { Serve(fd); });
  }
}

void HttpTestServer::Serve(int fd) {
  std::string buffer;
  char chunk[4096];
  while (WaitReadable(fd)) {
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) break;
    buffer.append(chunk, static_cast<size_t>(n));
    size_t end;
    bool open = true;
    while (open && (end = buffer.find("\r\n\r\n")) != std::string::npos) {
      const std::string head = buffer.substr(0, end + 2);
      buffer.erase(0, end + 4);
      open = Answer(fd, head);
    }
    if (!open) break;
  }
  ::close(fd);
}

bool HttpTestServer::Answer(int fd, const std::string& head) {
  const bool is_head = head.rfind("HEAD ", 0) == 0;
  const std::string range = Header(head, "range");
  std::string content, etag, last_modified;
  Mode mode;
  bool honour;
  {
    internal::MutexLock lock(&mutex_);
    uint64_t number = 0;  // of this ranged GET
    if (!range.empty() && !is_head) {
      number = range_requests_.fetch_add(1) + 1;
      if_match_ = Header(head, "if-match");
      if_unmodified_since_ = Header(head, "if-unmodified-since");
    }
    if (next_from_ != 0 && number >= next_from_) {
      content_ = std::move(next_content_);
      etag_ = std::move(next_etag_);
      next_from_ = 0;
    }
    content = content_;
    etag = etag_;
    last_modified = last_modified_;
    const bool in_window = number >= mode_from_ && (mode_until_ == 0 || number < mode_until_);
    mode = in_window ? mode_ : Mode::kNormal;
    honour = honour_;
  }
  std::string validators;
  if (!etag.empty()) validators += "ETag: " + etag + "\r\n";
  if (!last_modified.empty()) validators += "Last-Modified: " + last_modified + "\r\n";
  if (honour) {
    const std::string if_match = Header(head, "if-match");
    const std::string if_unmodified = Header(head, "if-unmodified-since");
    if ((!if_match.empty() && if_match != etag) ||
        (!if_unmodified.empty() && if_unmodified != last_modified)) {
      return SendAll(
          fd, "HTTP/1.1 412 Precondition Failed\r\n" + validators + "Content-Length: 0\r\n\r\n");
    }
  }
  uint64_t first = 0, last = 0;
  const bool ranged = !range.empty() && !is_head &&
                      std::sscanf(range.c_str(), "bytes=%" SCNu64 "-%" SCNu64, &first, &last) == 2;
  if (ranged && mode == Mode::kSlowDown) {
    const std::string body =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please "
        "reduce your request rate.</Message></Error>";
    return SendAll(fd,
                   "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\n"
                   "Content-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n" + body);
  }
  if (!ranged || mode == Mode::kIgnoreRange) {
    const std::string headers = "HTTP/1.1 200 OK\r\nAccept-Ranges: bytes\r\n" + validators +
                                "Content-Length: " + std::to_string(content.size()) + "\r\n\r\n";
    return SendAll(fd, headers) && (is_head || SendAll(fd, content));
  }
  if (first >= content.size()) {
    return SendAll(fd, "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */" +
                           std::to_string(content.size()) + "\r\nContent-Length: 0\r\n\r\n");
  }
  last = std::min<uint64_t>(last, content.size() - 1);
  const uint64_t total = mode == Mode::kOtherTotal ? content.size() + 4096 : content.size();
  const std::string body = content.substr(first, last - first + 1);
  const std::string headers = "HTTP/1.1 206 Partial Content\r\n" + validators +
                              "Content-Range: bytes " + std::to_string(first) + "-" +
                              std::to_string(last) + "/" + std::to_string(total) +
                              "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  if (!SendAll(fd, headers)) return false;
  switch (mode) {
    case Mode::kStall:
      // Nothing more: wait for the client to give up (it closes) or the server to stop.
      while (WaitReadable(fd)) {
        char c;
        if (::recv(fd, &c, 1, 0) <= 0) break;
      }
      return false;
    case Mode::kShortBody:
      SendAll(fd, std::string_view(body).substr(0, body.size() / 2));
      return false;
    default: return SendAll(fd, body);
  }
}

}  // namespace upager::testing

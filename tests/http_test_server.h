// HttpTestServer: a small HTTP/1.1 server on 127.0.0.1 that serves one object and can be
// told to misbehave, for HttpProvider's tests of broken and changing servers. One thread
// accepts; each connection gets a thread of its own (keep-alive). It answers GET and HEAD
// with or without "Range: bytes=A-B", honours If-Match and If-Unmodified-Since (412) unless
// told not to, and records what it was asked.
#ifndef UPAGER_TESTS_HTTP_TEST_SERVER_H_
#define UPAGER_TESTS_HTTP_TEST_SERVER_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "upager/internal/mutex.h"

namespace upager::testing {

class HttpTestServer {
 public:
  // How ranged GETs are answered: from now on, or from the `from`-th ranged GET on (counting
  // from 1 since the start: from = 2 spares the one-byte probe of a provider's creation).
  enum class Mode {
    kNormal,
    kStall,        // 206 headers, then no body at all until the server stops
    kIgnoreRange,  // 200 with the whole object
    kShortBody,    // 206 with the right headers, half the body, then the connection closes
    kOtherTotal,   // 206 whose Content-Range says the object has another size
    kSlowDown,     // S3's throttling: 503 with an XML body whose code is SlowDown
  };

  HttpTestServer() = default;
  ~HttpTestServer() { Stop(); }
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  // Listens on a free port of 127.0.0.1. False with `why` on failure.
  bool Start(std::string* why);
  // Closes every connection (stalled ones too) and joins the threads.
  void Stop();
  std::string Url(const std::string& path = "object") const;
  // "http://127.0.0.1:PORT"
  std::string Origin() const;

  // The object: its bytes and validators (an empty one is not sent).
  void SetObject(std::string content, std::string etag, std::string last_modified = "");
  // And before the `until`-th if not 0 (normally from there on).
  void SetMode(Mode mode, uint64_t from = 0, uint64_t until = 0);
  // Replaces the object by another from the `from`-th ranged GET on.
  void SetObjectFrom(uint64_t from, std::string content, std::string etag);
  // Whether If-Match / If-Unmodified-Since are checked (a server that ignores them still
  // sends its new ETag).
  void SetHonourConditions(bool honour);

  // What the server was asked: ranged GETs, and the If-Match / If-Unmodified-Since values
  // of the latest one.
  uint64_t range_requests() const { return range_requests_.load(); }
  std::string last_if_match() const;
  std::string last_if_unmodified_since() const;

 private:
  void AcceptLoop();
  void Serve(int fd);
  // Answers one request (`head`: up to the blank line). False: close the connection.
  bool Answer(int fd, const std::string& head);
  // Waits until `fd` is readable or the server stops; false if it stops.
  bool WaitReadable(int fd) const;

  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::atomic<uint64_t> range_requests_{0};

  mutable internal::Mutex mutex_;
  std::vector<std::thread> connections_ UPAGER_GUARDED_BY(mutex_);
  std::string content_ UPAGER_GUARDED_BY(mutex_);
  std::string etag_ UPAGER_GUARDED_BY(mutex_);
  std::string last_modified_ UPAGER_GUARDED_BY(mutex_);
  Mode mode_ UPAGER_GUARDED_BY(mutex_) = Mode::kNormal;
  uint64_t mode_from_ UPAGER_GUARDED_BY(mutex_) = 0;
  uint64_t mode_until_ UPAGER_GUARDED_BY(mutex_) = 0;
  // The object to serve from the `next_from_`-th ranged GET on (0: none pending).
  uint64_t next_from_ UPAGER_GUARDED_BY(mutex_) = 0;
  std::string next_content_ UPAGER_GUARDED_BY(mutex_);
  std::string next_etag_ UPAGER_GUARDED_BY(mutex_);
  bool honour_ UPAGER_GUARDED_BY(mutex_) = true;
  std::string if_match_ UPAGER_GUARDED_BY(mutex_);
  std::string if_unmodified_since_ UPAGER_GUARDED_BY(mutex_);
};

}  // namespace upager::testing

#endif  // UPAGER_TESTS_HTTP_TEST_SERVER_H_

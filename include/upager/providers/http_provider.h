// HttpProvider: a read-only VMO whose content is an object on an HTTP(S) server that
// honours Range requests.
//
// At creation a one-byte Range GET finds the object's size and version (its ETag, or its
// Last-Modified date where it has no ETag), and shows whether the server honours ranges
// (a HEAD follows where the size is not in its Content-Range).
// READ requests are queued, merged and extended by read-ahead like FileProvider's, and
// fetched with libcurl's multi interface, several ranges in flight over kept-alive
// connections.
//
// Consistency: every range is asked for on the condition that the object is still the
// version seen at creation (If-Match with the ETag; If-Unmodified-Since with the date where
// there is no usable ETag), and an answer carrying another ETag is refused. If the object
// changed, the range fails with kIoDataIntegrity, and so does every range after it (no
// bytes of two versions are ever mixed in one VMO); last_error() says so once.
//
// Failures: a failed fetch (connection refused or reset, a timeout, a stalled server, a
// 5xx, a short body) is retried with exponential backoff; after the last retry the range
// fails with kIo. An attempt ends when it takes longer than transfer_timeout_ms, or when
// for low_speed_time_s seconds it moves fewer than low_speed_limit bytes a second (a server
// that sends its headers and then nothing). So against a stalled server a range fails after
// (retries + 1) attempts of about low_speed_time_s each, plus the backoffs: about 16 s with
// the defaults (under the 20 s after which a blocked reader is logged, thread.h), whether
// the VMO is read with Vmo::Read or through a mapping. A server that answers a range with
// anything but 206 and the exact bytes fails it with kIo at once (no retry can help); one
// that ignores the Range header (a 200 with the whole object) is refused at creation.
#ifndef UPAGER_PROVIDERS_HTTP_PROVIDER_H_
#define UPAGER_PROVIDERS_HTTP_PROVIDER_H_

#include <memory>
#include <string>
#include <vector>

#include "upager/internal/mutex.h"
#include "upager/providers/provider.h"
#include "upager/providers/read_ahead.h"

namespace upager {

namespace internal::http {
struct Endpoint;
}  // namespace internal::http

struct HttpProviderOptions {
  ReadAheadOptions read_ahead;
  uint32_t max_in_flight = 8;          // concurrent range fetches
  uint64_t max_request = 1024 * 1024;  // the largest range one fetch asks for
  uint32_t retries = 4;                // after the first attempt
  uint32_t backoff_ms = 50;            // before the first retry; doubles each time
  uint32_t connect_timeout_ms = 2000;
  uint32_t transfer_timeout_ms = 10000;  // one attempt, from start to end
  // One attempt ends (and is retried) after low_speed_time_s seconds below low_speed_limit
  // bytes a second: a stalled server.
  uint32_t low_speed_time_s = 3;
  uint32_t low_speed_limit = 1024;
  // Host names pinned to addresses, as curl's --resolve: "HOST:PORT:ADDRESS" each (e.g. a
  // virtual-hosted S3 bucket's name on a test gateway, "bucket.localhost:7480:127.0.0.1").
  std::vector<std::string> resolve;
};

class HttpProvider : public Provider {
 public:
  // kInvalidArgs (not an http/https URL, bad options), kNotFound (404), kAccessDenied
  // (401/403), kNotSupported (no Range support), kUnavailable (cannot connect), kIo.
  // `why` gets a one-line explanation of a failure.
  static Status Create(PagerLoop* loop, const std::string& url, const HttpProviderOptions& options,
                       std::unique_ptr<HttpProvider>* out, std::string* why = nullptr);
  ~HttpProvider() override;

  void OnRead(const PagerLoop::Request& request) override;

  // Why ranges failed for good, in one line: the first failure that will not pass (the
  // object changed since creation, a broken server), else the latest one; empty if no range
  // has failed. Thread-safe.
  std::string last_error() const;

 protected:
  HttpProvider();
  // Probes the object at `endpoint` and starts serving it as `provider` (new, not started).
  static Status Open(PagerLoop* loop, const internal::http::Endpoint& endpoint,
                     const HttpProviderOptions& options, HttpProvider* provider, std::string* why);

 private:
  class Fetcher;
  // From the I/O thread: records a failure's explanation (see last_error()).
  void SetError(const char* text, bool permanent);

  std::unique_ptr<Fetcher> fetcher_;
  mutable internal::Mutex error_mutex_;
  char error_[400] UPAGER_GUARDED_BY(error_mutex_) = {};
  bool error_permanent_ UPAGER_GUARDED_BY(error_mutex_) = false;
};

}  // namespace upager

#endif  // UPAGER_PROVIDERS_HTTP_PROVIDER_H_

// HttpProvider::Fetcher: the I/O side of an HttpProvider (see http_provider.cc). Internal.
#ifndef UPAGER_SRC_PROVIDERS_HTTP_FETCHER_H_
#define UPAGER_SRC_PROVIDERS_HTTP_FETCHER_H_

#include <curl/curl.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "providers/http_endpoint.h"
#include "providers/http_probe.h"
#include "providers/request_queue.h"
#include "upager/providers/http_provider.h"
#include "upager/providers/read_ahead.h"

namespace upager {

// The I/O side of an HttpProvider: a request queue fed by OnRead, and a thread that turns
// queued requests into range fetches on a pool of curl easy handles driven by one multi
// handle, supplies what arrives, retries what failed for a reason that may pass, and fails
// the rest. Everything below `queue_` is touched by the I/O thread only (and by the
// destructor once that thread is joined).
class HttpProvider::Fetcher {
 public:
  // Serves `object` (as the probe found it) from `endpoint`.
  Fetcher(HttpProvider* owner, internal::http::Endpoint endpoint,
          const internal::http::RemoteObject& object, const HttpProviderOptions& options)
      : owner_(owner),
        endpoint_(std::move(endpoint)),
        etag_(object.etag),
        last_modified_(object.last_modified),
        options_(options),
        read_ahead_(options.read_ahead),
        queue_(options.max_request) {}
  ~Fetcher();
  Fetcher(const Fetcher&) = delete;
  Fetcher& operator=(const Fetcher&) = delete;

  // Creates the multi handle and the pool of easy handles and buffers.
  Status Open(std::string* why);
  // Starts the I/O thread; the owner's VMO exists.
  void Start();
  void Push(uint64_t offset, uint64_t length, uint64_t queued_ns) {
    queue_.Push(offset, length, queued_ns);
  }
  ReadAhead* read_ahead() { return &read_ahead_; }

 private:
  using Clock = std::chrono::steady_clock;
  // A range to fetch (or fetch again).
  struct Job {
    uint64_t offset = 0;
    uint64_t length = 0;  // a page multiple; the part past the content is zeros
    uint32_t attempt = 0;
    Clock::time_point due;  // retries: not before
  };
  // One transfer's easy handle, buffer and state; reused for transfer after transfer.
  struct Slot {
    Fetcher* fetcher = nullptr;
    CURL* easy = nullptr;
    std::unique_ptr<std::byte[]> buffer;  // options_.max_request bytes
    Job job;
    uint64_t expected = 0;  // bytes of content in the job
    uint64_t received = 0;
    long status = 0;         // of the last status line seen
    bool overflow = false;   // the server sent more than asked
    bool bad_range = false;  // Content-Range is not the range asked for
    bool changed = false;    // the answer is of another version of the object
    char seen[96] = {};      // the validator that answer carried (for the message)
    bool busy = false;
    char range[48] = {};
    char error[CURL_ERROR_SIZE] = {};
  };
  // kChanged: the object is not the version seen at creation.
  enum class Outcome { kDone, kRetry, kFail, kChanged };

  static size_t OnHeader(char* data, size_t size, size_t count, void* user);
  static size_t OnBody(char* data, size_t size, size_t count, void* user);

  void Run();
  void Plan(const internal::ByteRange& range);
  void StartBacklog();
  void StartTransfer(Slot* slot, const Job& job);
  void Reap();
  Outcome Classify(const Slot& slot, CURLcode result, long code) const;
  // A transfer ended with `result` and HTTP status `code` (0: no response).
  void Complete(Slot* slot, CURLcode result, long code);
  void SupplyZeros(const Job& job);
  // Fails `job` with `error`, and explains why (`permanent`: a failure that will not pass).
  void FailJob(const Job& job, Status error, bool permanent);
  // Formats into message_ why `slot`'s transfer (ended with `result`, `code`) failed.
  void Explain(const Slot& slot, Outcome outcome, CURLcode result, long code);
  // Whether a response's validator `value` (of header `etag` or else Last-Modified) is not
  // the one pinned at creation.
  bool OtherVersion(bool etag, std::string_view value) const;
  int PollTimeoutMs() const;

  HttpProvider* const owner_;
  const internal::http::Endpoint endpoint_;
  // The version pinned at creation: the ETag if the server gave one, else Last-Modified.
  const std::string etag_;
  const std::string last_modified_;
  const HttpProviderOptions options_;
  ReadAhead read_ahead_;
  internal::RequestQueue queue_;
  CURLM* multi_ = nullptr;
  std::thread thread_;

  // I/O thread only.
  std::vector<Slot> slots_;
  std::vector<Slot*> free_slots_;
  std::vector<Job> backlog_;  // FIFO: backlog_[backlog_head_] is next
  size_t backlog_head_ = 0;
  std::vector<Job> retries_;       // unordered; each waits for its due time
  curl_slist* headers_ = nullptr;  // every fetch's request headers (the condition, signing)
  curl_slist* resolve_ = nullptr;  // options_.resolve, for CURLOPT_RESOLVE
  bool changed_ = false;           // the object changed: every range fails from now on
  char message_[400] = {};         // a failure's explanation, formatted without allocating
};

}  // namespace upager

#endif  // UPAGER_SRC_PROVIDERS_HTTP_FETCHER_H_

// HttpProvider: serves a VMO from an HTTP(S) object with Range requests (see the header).
//
// The work is split in two: Create() learns the object's size with a blocking HEAD (and,
// where the server does not say it takes byte ranges, a one-byte Range probe), and a
// Fetcher then runs one I/O thread that drives libcurl's multi interface. The loop threads
// only queue requests (OnRead never blocks); the I/O thread merges them, extends them with
// read-ahead, and fetches each range with an easy handle of a fixed pool, so that kept-alive
// connections are reused and the steady state allocates nothing of its own.
#include "upager/providers/http_provider.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "providers/request_queue.h"

namespace upager {
namespace {

using Clock = std::chrono::steady_clock;

// libcurl's global state, set up once per process and never torn down (other users of
// libcurl in the process may still need it).
bool GlobalInit() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return result == CURLE_OK;
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

// Parses a decimal number at the start of `text`, advancing past it.
bool ParseNumber(std::string_view* text, uint64_t* out) {
  uint64_t value = 0;
  size_t i = 0;
  for (; i < text->size() && (*text)[i] >= '0' && (*text)[i] <= '9'; ++i) {
    const uint64_t digit = static_cast<uint64_t>((*text)[i] - '0');
    if (value > (UINT64_MAX - digit) / 10) return false;
    value = value * 10 + digit;
  }
  if (i == 0) return false;
  text->remove_prefix(i);
  *out = value;
  return true;
}

// "HTTP/1.1 206 Partial Content" -> 206; 0 if `line` is not a status line.
long StatusLineCode(std::string_view line) {
  if (!StartsWithNoCase(line, "HTTP/")) return 0;
  const size_t space = line.find(' ');
  if (space == std::string_view::npos) return 0;
  std::string_view rest = line.substr(space + 1);
  uint64_t code = 0;
  if (!ParseNumber(&rest, &code) || code > 999) return 0;
  return static_cast<long>(code);
}

// What a Content-Range header says: "bytes FIRST-LAST/TOTAL" (TOTAL may be "*"), or
// "bytes */TOTAL" for a 416.
struct ContentRange {
  bool has_range = false;
  uint64_t first = 0;
  uint64_t last = 0;
  bool has_total = false;
  uint64_t total = 0;
};

// The value of a "Content-Range:" header line, or false if `line` is not one.
bool ParseContentRange(std::string_view line, ContentRange* out) {
  constexpr std::string_view kName = "content-range:";
  if (!StartsWithNoCase(line, kName)) return false;
  std::string_view v = Trim(line.substr(kName.size()));
  if (!StartsWithNoCase(v, "bytes")) return true;  // a unit we do not know: no range
  v = Trim(v.substr(5));
  ContentRange r;
  if (!v.empty() && v.front() == '*') {
    v.remove_prefix(1);
  } else {
    if (!ParseNumber(&v, &r.first) || v.empty() || v.front() != '-') return true;
    v.remove_prefix(1);
    if (!ParseNumber(&v, &r.last) || r.last < r.first) return true;
    r.has_range = true;
  }
  if (!v.empty() && v.front() == '/') {
    v.remove_prefix(1);
    if (ParseNumber(&v, &r.total)) r.has_total = true;
  }
  *out = r;
  return true;
}

// Errors that mean the server could not be reached at all.
bool IsUnreachable(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SSL_CONNECT_ERROR: return true;
    default: return false;
  }
}

// Status of a failed request at creation, from its curl result or HTTP code.
Status CreationStatus(CURLcode result, long code) {
  if (code == 404 || code == 410) return Status::kNotFound;
  if (code == 401 || code == 403) return Status::kAccessDenied;
  if (code != 0) return Status::kIo;
  if (IsUnreachable(result)) return Status::kUnavailable;
  if (result == CURLE_UNSUPPORTED_PROTOCOL) return Status::kNotSupported;
  return Status::kIo;
}

// Options shared by every easy handle, blocking or not.
void SetCommonOptions(CURL* easy, const std::string& url, const HttpProviderOptions& options,
                      char* error_buffer) {
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  // No signals: several threads use libcurl, and its alarm()-based DNS timeouts would hit
  // arbitrary threads.
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout_ms));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(options.transfer_timeout_ms));
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_buffer);
#if LIBCURL_VERSION_NUM >= 0x075700  // 7.87.0
  // Do not wait for a threaded resolver still running when a handle is cleaned up: the
  // destructor must not hang on a DNS server that does not answer.
  curl_easy_setopt(easy, CURLOPT_QUICK_EXIT, 1L);
#endif
}

std::string CurlErrorText(CURLcode result, const char* error_buffer) {
  if (error_buffer != nullptr && error_buffer[0] != '\0') return error_buffer;
  return curl_easy_strerror(result);
}

// What Create's blocking requests learned about the object.
struct RemoteObject {
  std::string url;  // after redirects
  bool size_known = false;
  uint64_t size = 0;
  bool accept_ranges = false;
};

// Collects the headers of a blocking request; the headers of a redirect's response are
// forgotten when the next status line arrives.
struct ProbeHeaders {
  long status = 0;
  bool accept_ranges = false;
  ContentRange content_range;
  bool has_content_range = false;
  size_t body_bytes = 0;

  static size_t OnHeader(char* data, size_t size, size_t count, void* user) {
    auto* self = static_cast<ProbeHeaders*>(user);
    const std::string_view line(data, size * count);
    if (const long code = StatusLineCode(line); code != 0) {
      *self = ProbeHeaders{};
      self->status = code;
    } else if (StartsWithNoCase(line, "accept-ranges:")) {
      const std::string_view v = Trim(line.substr(14));
      self->accept_ranges = StartsWithNoCase(v, "bytes");
    } else if (ParseContentRange(line, &self->content_range)) {
      self->has_content_range = true;
    }
    return size * count;
  }
  // The range probe wants at most one byte of a 206; anything else is not read.
  static size_t OnBody(char* /*data*/, size_t size, size_t count, void* user) {
    auto* self = static_cast<ProbeHeaders*>(user);
    if (self->status != 206) return 0;  // a 200 with the whole object: stop it now
    self->body_bytes += size * count;
    return self->body_bytes > 1 ? 0 : size * count;
  }
};

// One blocking request: HEAD, or GET with "Range: bytes=0-0".
Status BlockingRequest(const std::string& url, const HttpProviderOptions& options, bool range_probe,
                       ProbeHeaders* headers, std::string* effective_url,
                       curl_off_t* content_length, std::string* why) {
  CURL* easy = curl_easy_init();
  if (easy == nullptr) {
    *why = "curl_easy_init failed";
    return Status::kNoMemory;
  }
  char error_buffer[CURL_ERROR_SIZE] = {};
  SetCommonOptions(easy, url, options, error_buffer);
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &ProbeHeaders::OnHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, headers);
  if (range_probe) {
    curl_easy_setopt(easy, CURLOPT_RANGE, "0-0");
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &ProbeHeaders::OnBody);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, headers);
  } else {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
  }
  const CURLcode result = curl_easy_perform(easy);
  long code = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
  const char* final_url = nullptr;
  if (curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &final_url) == CURLE_OK &&
      final_url != nullptr) {
    *effective_url = final_url;
  }
  headers->status = code;
  curl_off_t length = -1;
  curl_easy_getinfo(easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
  *content_length = length;
  const std::string error_text = CurlErrorText(result, error_buffer);
  curl_easy_cleanup(easy);

  const char* what = range_probe ? "GET (Range: bytes=0-0)" : "HEAD";
  // Our own write callback stops the body of a range probe: not an error.
  const bool stopped_by_us = range_probe && result == CURLE_WRITE_ERROR && code != 0;
  if (result != CURLE_OK && !stopped_by_us) {
    *why = std::string(what) + " " + url + ": " + error_text;
    if (code >= 200 && code < 300) return Status::kIo;  // transfer broke after the headers
    return CreationStatus(result, code);
  }
  if (code < 200 || code >= 300) {
    *why = std::string(what) + " " + url + ": HTTP " + std::to_string(code);
    return CreationStatus(CURLE_OK, code);
  }
  return Status::kOk;
}

// HEAD for the size and "Accept-Ranges"; a range probe where HEAD cannot tell.
Status ProbeObject(const std::string& url, const HttpProviderOptions& options, RemoteObject* object,
                   std::string* why) {
  ProbeHeaders head;
  curl_off_t length = -1;
  object->url = url;
  Status s =
      BlockingRequest(url, options, /*range_probe=*/false, &head, &object->url, &length, why);
  // Servers that refuse HEAD (405, 501) may still serve ranges: let the probe decide.
  const bool head_refused = s != Status::kOk && (head.status == 405 || head.status == 501);
  if (s != Status::kOk && !head_refused) return s;
  if (s == Status::kOk) {
    object->accept_ranges = head.accept_ranges;
    if (length >= 0) {
      object->size_known = true;
      object->size = static_cast<uint64_t>(length);
    }
    // An empty object needs no ranges at all.
    if (object->size_known && object->size == 0) return Status::kOk;
    if (object->size_known && object->accept_ranges) return Status::kOk;
  }

  ProbeHeaders probe;
  const std::string probe_url = object->url;
  s = BlockingRequest(probe_url, options, /*range_probe=*/true, &probe, &object->url, &length, why);
  if (s != Status::kOk) return s;
  if (probe.status != 206) {
    *why = url + ": the server ignores byte ranges (answered HTTP " + std::to_string(probe.status) +
           " to Range: bytes=0-0)";
    return Status::kNotSupported;
  }
  if (probe.has_content_range && probe.content_range.has_total) {
    if (object->size_known && object->size != probe.content_range.total) {
      *why = url + ": HEAD and GET disagree on the size (" + std::to_string(object->size) + " vs " +
             std::to_string(probe.content_range.total) + ")";
      return Status::kIo;
    }
    object->size_known = true;
    object->size = probe.content_range.total;
  }
  if (!object->size_known) {
    *why = url + ": the server does not tell the object's size";
    return Status::kNotSupported;
  }
  object->accept_ranges = true;
  return Status::kOk;
}

Status ValidateOptions(const HttpProviderOptions& options, std::string* why) {
  if (ReadAhead::Validate(options.read_ahead) != Status::kOk) {
    *why = "read-ahead windows must be page multiples, max_window >= window";
    return Status::kInvalidArgs;
  }
  if (options.max_in_flight == 0 || options.max_in_flight > 1024) {
    *why = "max_in_flight must be in [1, 1024]";
    return Status::kInvalidArgs;
  }
  if (options.max_request < kPageSize || options.max_request % kPageSize != 0 ||
      options.max_request > (1ull << 30)) {
    *why = "max_request must be a page multiple in [4 KiB, 1 GiB]";
    return Status::kInvalidArgs;
  }
  if (options.connect_timeout_ms == 0 || options.transfer_timeout_ms == 0) {
    *why = "connect_timeout_ms and transfer_timeout_ms must be positive";
    return Status::kInvalidArgs;
  }
  return Status::kOk;
}

Status ValidateUrl(const std::string& url, std::string* why) {
  if (!StartsWithNoCase(url, "http://") && !StartsWithNoCase(url, "https://")) {
    *why = "not an http:// or https:// URL: \"" + url + "\"";
    return Status::kInvalidArgs;
  }
  for (const char c : url) {
    if (static_cast<unsigned char>(c) <= ' ') {
      *why = "the URL contains spaces or control characters: \"" + url + "\"";
      return Status::kInvalidArgs;
    }
  }
  CURLU* parsed = curl_url();
  if (parsed == nullptr) {
    *why = "curl_url failed";
    return Status::kNoMemory;
  }
  Status s = Status::kOk;
  char* host = nullptr;
  if (curl_url_set(parsed, CURLUPART_URL, url.c_str(), 0) != CURLUE_OK ||
      curl_url_get(parsed, CURLUPART_HOST, &host, 0) != CURLUE_OK || host == nullptr ||
      host[0] == '\0') {
    *why = "malformed URL: \"" + url + "\"";
    s = Status::kInvalidArgs;
  }
  curl_free(host);
  curl_url_cleanup(parsed);
  return s;
}

}  // namespace

// The I/O side of an HttpProvider: a request queue fed by OnRead, and a thread that turns
// queued requests into range fetches on a pool of curl easy handles driven by one multi
// handle, supplies what arrives, retries what failed for a reason that may pass, and fails
// the rest. Everything below `queue_` is touched by the I/O thread only (and by the
// destructor once that thread is joined).
class HttpProvider::Fetcher {
 public:
  Fetcher(HttpProvider* owner, std::string url, const HttpProviderOptions& options)
      : owner_(owner),
        url_(std::move(url)),
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

 private:
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
    bool busy = false;
    char range[48] = {};
    char error[CURL_ERROR_SIZE] = {};
  };
  enum class Outcome { kDone, kRetry, kFail };

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
  int PollTimeoutMs() const;

  HttpProvider* const owner_;
  const std::string url_;
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
  std::vector<Job> retries_;  // unordered; each waits for its due time
};

HttpProvider::Fetcher::~Fetcher() {
  // The owner has detached the VMO: no OnRead runs now, and no Push will come.
  queue_.Close();  // wakes the thread through the notifier
  if (thread_.joinable()) thread_.join();
  for (Slot& slot : slots_) {
    if (slot.busy && multi_ != nullptr) curl_multi_remove_handle(multi_, slot.easy);
    if (slot.easy != nullptr) curl_easy_cleanup(slot.easy);
  }
  if (multi_ != nullptr) curl_multi_cleanup(multi_);
}

Status HttpProvider::Fetcher::Open(std::string* why) {
  multi_ = curl_multi_init();
  if (multi_ == nullptr) {
    *why = "curl_multi_init failed";
    return Status::kNoMemory;
  }
  curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                    static_cast<long>(options_.max_in_flight));
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(options_.max_in_flight));
  slots_.resize(options_.max_in_flight);
  free_slots_.reserve(slots_.size());
  backlog_.reserve(64);
  retries_.reserve(slots_.size());
  for (Slot& slot : slots_) {
    slot.fetcher = this;
    slot.easy = curl_easy_init();
    if (slot.easy == nullptr) {
      *why = "curl_easy_init failed";
      return Status::kNoMemory;
    }
    slot.buffer = std::make_unique_for_overwrite<std::byte[]>(options_.max_request);
    SetCommonOptions(slot.easy, url_, options_, slot.error);
    curl_easy_setopt(slot.easy, CURLOPT_PRIVATE, &slot);
    curl_easy_setopt(slot.easy, CURLOPT_HEADERFUNCTION, &Fetcher::OnHeader);
    curl_easy_setopt(slot.easy, CURLOPT_HEADERDATA, &slot);
    curl_easy_setopt(slot.easy, CURLOPT_WRITEFUNCTION, &Fetcher::OnBody);
    curl_easy_setopt(slot.easy, CURLOPT_WRITEDATA, &slot);
    free_slots_.push_back(&slot);
  }
  CURLM* multi = multi_;
  queue_.SetNotifier([multi] { curl_multi_wakeup(multi); });
  return Status::kOk;
}

void HttpProvider::Fetcher::Start() {
  thread_ = std::thread([this] { Run(); });
}

size_t HttpProvider::Fetcher::OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* slot = static_cast<Slot*>(user);
  const std::string_view line(data, size * count);
  if (const long code = StatusLineCode(line); code != 0) {
    slot->status = code;
    slot->bad_range = false;
    return size * count;
  }
  ContentRange range;
  if (ParseContentRange(line, &range) && slot->status == 206) {
    const uint64_t last = slot->job.offset + slot->expected - 1;
    const uint64_t content = slot->fetcher->owner_->content_size();
    if (!range.has_range || range.first != slot->job.offset || range.last != last ||
        (range.has_total && range.total != content)) {
      slot->bad_range = true;  // another range, or the object changed size
    }
  }
  return size * count;
}

size_t HttpProvider::Fetcher::OnBody(char* data, size_t size, size_t count, void* user) {
  auto* slot = static_cast<Slot*>(user);
  const size_t n = size * count;
  // Anything but the 206 we asked for is not worth reading: stop the transfer.
  if (slot->status != 206 || slot->bad_range) return 0;
  if (n > slot->expected - slot->received) {
    slot->overflow = true;
    return 0;
  }
  std::memcpy(slot->buffer.get() + slot->received, data, n);
  slot->received += n;
  return n;
}

void HttpProvider::Fetcher::Run() {
  int running = 0;
  while (!queue_.closed()) {
    for (const internal::ByteRange& range : queue_.TakeMerged()) Plan(range);
    // Retries whose time has come join the backlog.
    const Clock::time_point now = Clock::now();
    for (size_t i = 0; i < retries_.size();) {
      if (retries_[i].due <= now) {
        backlog_.push_back(retries_[i]);
        retries_[i] = retries_.back();
        retries_.pop_back();
      } else {
        ++i;
      }
    }
    StartBacklog();
    curl_multi_perform(multi_, &running);
    Reap();
    curl_multi_poll(multi_, nullptr, 0, PollTimeoutMs(), nullptr);
  }
}

int HttpProvider::Fetcher::PollTimeoutMs() const {
  // Work that can start now: go round at once.
  if (backlog_head_ < backlog_.size() && !free_slots_.empty()) return 0;
  int64_t timeout = 1000;  // libcurl shortens this for its own timers
  const Clock::time_point now = Clock::now();
  for (const Job& job : retries_) {
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(job.due - now).count();
    timeout = std::min<int64_t>(timeout, std::max<int64_t>(wait, 0));
  }
  return static_cast<int>(timeout);
}

void HttpProvider::Fetcher::Plan(const internal::ByteRange& range) {
  const uint64_t limit = owner_->vmo_size();
  if (range.offset >= limit) return;
  const ReadAheadRange plan =
      read_ahead_.Plan(range.offset, std::min(range.length, limit - range.offset), limit);
  const auto add = [this](uint64_t offset, uint64_t length) {
    Job job;
    job.offset = offset;
    job.length = length;
    if (offset >= owner_->content_size()) {
      SupplyZeros(job);  // all past the content: nothing to fetch
    } else {
      backlog_.push_back(job);
    }
  };
  uint64_t offset = range.offset;
  while (offset < plan.end()) {
    const uint64_t want = std::min<uint64_t>(options_.max_request, plan.end() - offset);
    const uint64_t got = queue_.StartFlight(offset, want);
    if (got == 0) {
      // Already being read. The requested part never is (TakeMerged removed what was in
      // flight), so this is read-ahead running into an earlier fetch: enough.
      if (offset >= range.end()) break;
      offset += kPageSize;
      continue;
    }
    add(offset, got);
    offset += got;
  }
  // Read-ahead below the request (a descending stream), down from it, nearest first; it
  // stops at the first fetch already in flight.
  for (uint64_t top = range.offset; top > plan.offset;) {
    const uint64_t want = std::min<uint64_t>(options_.max_request, top - plan.offset);
    const uint64_t got = queue_.StartFlight(top - want, want);
    if (got > 0) add(top - want, got);
    if (got != want) break;
    top -= want;
  }
}

void HttpProvider::Fetcher::SupplyZeros(const Job& job) {
  queue_.EndFlight(job.offset, job.length);
  // A page-multiple buffer of zeros; rare (only a VMO whose content is empty could ask).
  std::vector<std::byte> zeros(job.length);
  owner_->Supply(job.offset, job.length, zeros.data());
}

void HttpProvider::Fetcher::StartBacklog() {
  while (backlog_head_ < backlog_.size() && !free_slots_.empty()) {
    Slot* slot = free_slots_.back();
    free_slots_.pop_back();
    StartTransfer(slot, backlog_[backlog_head_++]);
  }
  if (backlog_head_ == backlog_.size()) {
    backlog_.clear();  // keeps its capacity
    backlog_head_ = 0;
  }
}

void HttpProvider::Fetcher::StartTransfer(Slot* slot, const Job& job) {
  slot->job = job;
  slot->expected = std::min(job.offset + job.length, owner_->content_size()) - job.offset;
  slot->received = 0;
  slot->status = 0;
  slot->overflow = false;
  slot->bad_range = false;
  slot->error[0] = '\0';
  std::snprintf(slot->range, sizeof(slot->range), "%" PRIu64 "-%" PRIu64, job.offset,
                job.offset + slot->expected - 1);
  curl_easy_setopt(slot->easy, CURLOPT_RANGE, slot->range);
  if (job.attempt == 0) owner_->reads_.fetch_add(1, std::memory_order_relaxed);
  slot->busy = true;
  if (curl_multi_add_handle(multi_, slot->easy) != CURLM_OK) {
    slot->busy = false;
    Complete(slot, CURLE_FAILED_INIT, 0);
  }
}

void HttpProvider::Fetcher::Reap() {
  CURLMsg* msg = nullptr;
  int left = 0;
  while ((msg = curl_multi_info_read(multi_, &left)) != nullptr) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;
    const CURLcode result = msg->data.result;  // msg dies with the removal below
    char* priv = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    curl_multi_remove_handle(multi_, easy);
    Slot* slot = reinterpret_cast<Slot*>(priv);
    slot->busy = false;
    Complete(slot, result, code);
  }
}

HttpProvider::Fetcher::Outcome HttpProvider::Fetcher::Classify(const Slot& slot, CURLcode result,
                                                               long code) const {
  if (code == 206) {
    if (slot.overflow || slot.bad_range) return Outcome::kFail;  // a broken server
    if (result == CURLE_OK && slot.received == slot.expected) return Outcome::kDone;
    return Outcome::kRetry;  // cut short: connection reset, timeout, short body
  }
  // Transient refusals: overload, or a server restarting behind a proxy.
  if (code >= 500 || code == 408 || code == 429) return Outcome::kRetry;
  // 200 (ranges ignored), 416 (the object shrank), 3xx, 4xx: retrying cannot help.
  if (code != 0) return Outcome::kFail;
  // No response at all.
  switch (result) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_FAILED_INIT: return Outcome::kFail;
    default: return Outcome::kRetry;
  }
}

void HttpProvider::Fetcher::Complete(Slot* slot, CURLcode result, long code) {
  Job job = slot->job;
  Outcome outcome = Classify(*slot, result, code);
  if (outcome == Outcome::kRetry && job.attempt >= options_.retries) outcome = Outcome::kFail;
  switch (outcome) {
    case Outcome::kDone: {
      owner_->bytes_read_.fetch_add(slot->received, std::memory_order_relaxed);
      // EndFlight before the supply (see request_queue.h).
      queue_.EndFlight(job.offset, job.length);
      std::memset(slot->buffer.get() + slot->received, 0, job.length - slot->received);
      owner_->Supply(job.offset, job.length, slot->buffer.get());
      break;
    }
    case Outcome::kRetry: {
      const uint32_t shift = std::min<uint32_t>(job.attempt, 20);
      job.due = Clock::now() +
                std::chrono::milliseconds(static_cast<uint64_t>(options_.backoff_ms) << shift);
      ++job.attempt;
      owner_->retries_.fetch_add(1, std::memory_order_relaxed);
      retries_.push_back(job);
      break;
    }
    case Outcome::kFail:
      queue_.EndFlight(job.offset, job.length);
      owner_->Fail(job.offset, job.length, Status::kIo);
      break;
  }
  free_slots_.push_back(slot);
}

Status HttpProvider::Create(PagerLoop* loop, const std::string& url,
                            const HttpProviderOptions& options, std::unique_ptr<HttpProvider>* out,
                            std::string* why) {
  std::string local_why;
  if (why == nullptr) why = &local_why;
  why->clear();
  if (loop == nullptr || out == nullptr) {
    *why = "no loop or no output";
    return Status::kInvalidArgs;
  }
  Status s = ValidateOptions(options, why);
  if (s != Status::kOk) return s;
  s = ValidateUrl(url, why);
  if (s != Status::kOk) return s;
  if (!GlobalInit()) {
    *why = "curl_global_init failed";
    return Status::kInternal;
  }
  RemoteObject object;
  s = ProbeObject(url, options, &object, why);
  if (s != Status::kOk) return s;

  std::unique_ptr<HttpProvider> provider(new HttpProvider());
  provider->fetcher_ = std::make_unique<Fetcher>(provider.get(), object.url, options);
  s = provider->fetcher_->Open(why);
  if (s != Status::kOk) return s;
  s = provider->Init(loop, object.size, 0);
  if (s != Status::kOk) {
    *why = std::string("cannot create the VMO: ") + StatusString(s);
    return s;
  }
  provider->fetcher_->Start();
  *out = std::move(provider);
  return Status::kOk;
}

HttpProvider::~HttpProvider() {
  Shutdown();        // no OnRead runs or will run
  fetcher_.reset();  // stops the I/O thread and frees the handles
}

void HttpProvider::OnRead(const PagerLoop::Request& request) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  fetcher_->Push(request.offset, request.length, request.queued_ns);
}

}  // namespace upager

#include "providers/http_probe.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string_view>
#include <thread>

#include "providers/http_parse.h"

namespace upager::internal::http {
namespace {

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

std::string CurlErrorText(CURLcode result, const char* error_buffer) {
  if (error_buffer != nullptr && error_buffer[0] != '\0') return error_buffer;
  return curl_easy_strerror(result);
}

// Collects the headers of a blocking request; the headers of a redirect's response are
// forgotten when the next status line arrives.
struct ProbeHeaders {
  long status = 0;
  ContentRange content_range;
  bool has_content_range = false;
  std::string etag;
  std::string last_modified;
  size_t body_bytes = 0;
  std::string error_body;  // the start of an error response's body (S3 puts its code there)

  static size_t OnHeader(char* data, size_t size, size_t count, void* user) {
    auto* self = static_cast<ProbeHeaders*>(user);
    const std::string_view line(data, size * count);
    std::string_view value;
    if (const long code = StatusLineCode(line); code != 0) {
      *self = ProbeHeaders{};
      self->status = code;
    } else if (ParseContentRange(line, &self->content_range)) {
      self->has_content_range = true;
    } else if (HeaderValue(line, "etag", &value)) {
      self->etag = value;
    } else if (HeaderValue(line, "last-modified", &value)) {
      self->last_modified = value;
    }
    return size * count;
  }
  // The range probe wants at most one byte of a 206, and the start of an error's body;
  // anything else is not read.
  static size_t OnBody(char* data, size_t size, size_t count, void* user) {
    auto* self = static_cast<ProbeHeaders*>(user);
    const size_t n = size * count;
    if (self->status >= 300) {
      if (self->error_body.size() + n > 4096) return 0;
      self->error_body.append(data, n);
      return n;
    }
    if (self->status != 206) return 0;  // a 200 with the whole object: stop it now
    self->body_bytes += n;
    return self->body_bytes > 1 ? 0 : n;
  }
};

// A refusal that may pass: overload (S3's 503 SlowDown), a server restarting.
bool IsTransient(long code) { return code >= 500 || code == 408 || code == 429; }

// One blocking request: HEAD, or GET with "Range: bytes=0-0".
Status BlockingRequest(const Endpoint& endpoint, const HttpProviderOptions& options,
                       bool range_probe, ProbeHeaders* headers, std::string* effective_url,
                       curl_off_t* content_length, std::string* why) {
  CURL* easy = curl_easy_init();
  if (easy == nullptr) {
    *why = "curl_easy_init failed";
    return Status::kNoMemory;
  }
  char error_buffer[CURL_ERROR_SIZE] = {};
  curl_slist* resolve = ResolveList(options);
  SetCommonOptions(easy, endpoint, options, resolve, error_buffer);
  curl_slist* header_list = EndpointHeaders(endpoint, nullptr, nullptr);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, header_list);
  // Redirects are followed for plain HTTP only: a signature is for one host.
  if (endpoint.aws_sigv4.empty()) {
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 5L);
  }
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
  curl_slist_free_all(header_list);
  curl_slist_free_all(resolve);

  const std::string what =
      (range_probe ? "GET (Range: bytes=0-0) " : "HEAD ") + endpoint.Describe();
  // Our own write callback stops the body of a range probe: not an error.
  const bool stopped_by_us = range_probe && result == CURLE_WRITE_ERROR && code != 0;
  if (result != CURLE_OK && !stopped_by_us) {
    *why = what + ": " + error_text;
    if (code >= 200 && code < 300) return Status::kIo;  // transfer broke after the headers
    return CreationStatus(result, code);
  }
  if (code < 200 || code >= 300) {
    *why = what + ": HTTP " + std::to_string(code);
    if (endpoint.s3_errors) {
      const std::string s3_code = S3ErrorCode(headers->error_body);
      if (!s3_code.empty()) *why += " (" + s3_code + ")";
      // S3 answers some refused credentials with 400.
      if (code == 400 && (s3_code == "InvalidToken" || s3_code == "ExpiredToken" ||
                          s3_code == "InvalidAccessKeyId" || s3_code == "TokenRefreshRequired")) {
        return Status::kAccessDenied;
      }
    }
    return CreationStatus(CURLE_OK, code);
  }
  return Status::kOk;
}

// BlockingRequest, retried with backoff while the server refuses for a reason that may pass.
Status BlockingRequestWithRetries(const Endpoint& endpoint, const HttpProviderOptions& options,
                                  bool range_probe, ProbeHeaders* headers,
                                  std::string* effective_url, curl_off_t* content_length,
                                  std::string* why) {
  for (uint32_t attempt = 0;; ++attempt) {
    *headers = ProbeHeaders{};
    const Status s = BlockingRequest(endpoint, options, range_probe, headers, effective_url,
                                     content_length, why);
    if (s == Status::kOk || !IsTransient(headers->status) || attempt >= options.retries) {
      if (s != Status::kOk && attempt > 0) {
        *why += " (after " + std::to_string(attempt) + " retries)";
      }
      return s;
    }
    const uint32_t shift = std::min<uint32_t>(attempt, 20);
    std::this_thread::sleep_for(
        std::chrono::milliseconds(static_cast<uint64_t>(options.backoff_ms) << shift));
  }
}

}  // namespace

bool GlobalInit() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return result == CURLE_OK;
}

curl_slist* ResolveList(const HttpProviderOptions& options) {
  curl_slist* list = nullptr;
  for (const std::string& entry : options.resolve) {
    curl_slist* grown = curl_slist_append(list, entry.c_str());
    if (grown != nullptr) list = grown;
  }
  return list;
}

void SetCommonOptions(CURL* easy, const Endpoint& endpoint, const HttpProviderOptions& options,
                      curl_slist* resolve, char* error_buffer) {
  SetEndpointOptions(easy, endpoint);
  if (resolve != nullptr) curl_easy_setopt(easy, CURLOPT_RESOLVE, resolve);
  // No signals: several threads use libcurl, and its alarm()-based DNS timeouts would hit
  // arbitrary threads.
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout_ms));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(options.transfer_timeout_ms));
  // A stalled server (headers, then nothing): the attempt ends after low_speed_time_s
  // seconds below low_speed_limit bytes a second, and is retried.
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(options.low_speed_limit));
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options.low_speed_time_s));
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_buffer);
#if LIBCURL_VERSION_NUM >= 0x075700  // 7.87.0
  // Do not wait for a threaded resolver still running when a handle is cleaned up: the
  // destructor must not hang on a DNS server that does not answer.
  curl_easy_setopt(easy, CURLOPT_QUICK_EXIT, 1L);
#endif
}

Status ProbeObject(const Endpoint& endpoint, const HttpProviderOptions& options,
                   RemoteObject* object, std::string* why) {
  ProbeHeaders get;
  curl_off_t length = -1;
  object->url = endpoint.url;
  Status s = BlockingRequestWithRetries(endpoint, options, /*range_probe=*/true, &get, &object->url,
                                        &length, why);
  // 416: no byte 0, an empty object; HEAD tells its size and version. Servers that refuse a
  // GET with a range outright (405, 501) may still answer HEAD: let it decide.
  const bool need_head =
      s != Status::kOk && (get.status == 416 || get.status == 405 || get.status == 501);
  if (s != Status::kOk && !need_head) return s;
  if (s == Status::kOk && get.status == 206) {
    object->etag = get.etag;
    object->last_modified = get.last_modified;
    if (get.has_content_range && get.content_range.has_total) {
      object->size_known = true;
      object->size = get.content_range.total;
      return Status::kOk;
    }
  } else if (s == Status::kOk && get.status == 200) {
    // The whole object instead of one byte: fine only if there is nothing to range over.
    if (length != 0) {
      *why = endpoint.Describe() +
             ": the server ignored the Range header (answered HTTP 200 with the whole object "
             "to Range: bytes=0-0)";
      return Status::kNotSupported;
    }
    object->etag = get.etag;
    object->last_modified = get.last_modified;
    object->size_known = true;
    object->size = 0;
    return Status::kOk;
  } else if (s == Status::kOk) {
    *why = endpoint.Describe() + ": unexpected HTTP " + std::to_string(get.status) +
           " to Range: bytes=0-0";
    return Status::kIo;
  }

  // A size the range probe did not tell.
  ProbeHeaders head;
  const Endpoint moved = [&] {
    Endpoint e = endpoint;
    e.url = object->url;
    return e;
  }();
  s = BlockingRequestWithRetries(moved, options, /*range_probe=*/false, &head, &object->url,
                                 &length, why);
  if (s != Status::kOk) return s;
  if (length < 0) {
    *why = endpoint.Describe() + ": the server does not tell the object's size";
    return Status::kNotSupported;
  }
  if (get.status != 206 && length != 0) {
    *why = endpoint.Describe() + ": the server refused Range: bytes=0-0 (HTTP " +
           std::to_string(get.status) + ") for an object of " + std::to_string(length) + " bytes";
    return Status::kNotSupported;
  }
  if (get.status != 206) {
    object->etag = head.etag;
    object->last_modified = head.last_modified;
  }
  object->size_known = true;
  object->size = static_cast<uint64_t>(length);
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
  if (options.low_speed_time_s == 0 || options.low_speed_limit == 0) {
    *why = "low_speed_time_s and low_speed_limit must be positive";
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

}  // namespace upager::internal::http

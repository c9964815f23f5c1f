#include "providers/http_probe.h"

#include <mutex>
#include <string_view>

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

}  // namespace

bool GlobalInit() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return result == CURLE_OK;
}

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

}  // namespace upager::internal::http

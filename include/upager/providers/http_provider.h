// HttpProvider: a read-only VMO whose content is an object on an HTTP(S) server that
// honours Range requests.
//
// At creation a HEAD request finds the size (and checks for "Accept-Ranges: bytes").
// READ requests are queued, merged and extended by read-ahead like FileProvider's, and
// fetched with libcurl's multi interface, several ranges in flight over kept-alive
// connections. A failed fetch (connection refused or reset, timeout, a 5xx, a short body)
// is retried with exponential backoff; after the last retry the range fails with kIo. A
// server that answers a range with anything but 206 and the exact bytes fails it with kIo
// at once (no retry can help).
#ifndef UPAGER_PROVIDERS_HTTP_PROVIDER_H_
#define UPAGER_PROVIDERS_HTTP_PROVIDER_H_

#include <memory>
#include <string>

#include "upager/providers/provider.h"
#include "upager/providers/read_ahead.h"

namespace upager {

struct HttpProviderOptions {
  ReadAheadOptions read_ahead;
  uint32_t max_in_flight = 8;          // concurrent range fetches
  uint64_t max_request = 1024 * 1024;  // the largest range one fetch asks for
  uint32_t retries = 4;                // after the first attempt
  uint32_t backoff_ms = 50;            // before the first retry; doubles each time
  uint32_t connect_timeout_ms = 2000;
  uint32_t transfer_timeout_ms = 10000;  // one fetch, from start to end
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

 private:
  class Fetcher;
  HttpProvider() = default;
  std::unique_ptr<Fetcher> fetcher_;
};

}  // namespace upager

#endif  // UPAGER_PROVIDERS_HTTP_PROVIDER_H_

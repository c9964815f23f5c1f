// HttpProvider: serves a VMO from an HTTP(S) object with Range requests (see the header).
//
// The work is split in two: Open() learns the object's size and version with blocking
// requests (a one-byte Range GET, and a HEAD where that does not tell the size), and a
// Fetcher then runs one I/O thread that drives libcurl's multi interface. The loop threads
// only queue requests (OnRead never blocks); the I/O thread merges them, extends them with
// read-ahead, and fetches each range with an easy handle of a fixed pool, so that kept-alive
// connections are reused and the steady state allocates nothing of its own.
//
// Here: Create and the handler; http_probe.cc holds the blocking requests, http_fetcher.cc
// the I/O thread, http_parse.cc the header parsing, http_endpoint.cc the signing options
// S3Provider adds.
#include "upager/providers/http_provider.h"

#include <cstring>
#include <string>

#include "providers/http_endpoint.h"
#include "providers/http_fetcher.h"
#include "providers/http_probe.h"

namespace upager {

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
  const Status s = internal::http::ValidateUrl(url, why);
  if (s != Status::kOk) return s;
  internal::http::Endpoint endpoint;
  endpoint.url = url;
  std::unique_ptr<HttpProvider> provider(new HttpProvider());
  const Status opened = Open(loop, endpoint, options, provider.get(), why);
  if (opened != Status::kOk) return opened;
  *out = std::move(provider);
  return Status::kOk;
}

Status HttpProvider::Open(PagerLoop* loop, const internal::http::Endpoint& endpoint,
                          const HttpProviderOptions& options, HttpProvider* provider,
                          std::string* why) {
  Status s = internal::http::ValidateOptions(options, why);
  if (s != Status::kOk) return s;
  if (!internal::http::GlobalInit()) {
    *why = "curl_global_init failed";
    return Status::kInternal;
  }
  internal::http::RemoteObject object;
  s = internal::http::ProbeObject(endpoint, options, &object, why);
  if (s != Status::kOk) return s;

  internal::http::Endpoint fetched = endpoint;
  fetched.url = object.url;  // after redirects
  provider->fetcher_ = std::make_unique<Fetcher>(provider, std::move(fetched), object, options);
  s = provider->fetcher_->Open(why);
  if (s != Status::kOk) return s;
  provider->UseReadAhead(provider->fetcher_->read_ahead());
  s = provider->Init(loop, object.size, 0);
  if (s != Status::kOk) {
    *why = std::string("cannot create the VMO: ") + StatusString(s);
    return s;
  }
  provider->fetcher_->Start();
  return Status::kOk;
}

HttpProvider::HttpProvider() = default;

HttpProvider::~HttpProvider() {
  Shutdown();        // no OnRead runs or will run
  fetcher_.reset();  // stops the I/O thread and frees the handles
}

void HttpProvider::OnRead(const PagerLoop::Request& request) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  fetcher_->Push(request.offset, request.length, request.queued_ns);
}

std::string HttpProvider::last_error() const {
  internal::MutexLock lock(&error_mutex_);
  return error_;
}

void HttpProvider::SetError(const char* text, bool permanent) {
  internal::MutexLock lock(&error_mutex_);
  if (error_permanent_) return;  // the first failure for good stays
  error_permanent_ = permanent;
  std::strncpy(error_, text, sizeof(error_) - 1);
  error_[sizeof(error_) - 1] = '\0';
}

}  // namespace upager

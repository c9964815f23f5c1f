// Creating an HttpProvider, before any fetch: the options and the URL checked, libcurl set
// up, and the object's size learned with blocking requests (HEAD, and a one-byte Range
// probe where HEAD cannot tell).
#ifndef UPAGER_SRC_PROVIDERS_HTTP_PROBE_H_
#define UPAGER_SRC_PROVIDERS_HTTP_PROBE_H_

#include <curl/curl.h>

#include <cstdint>
#include <string>

#include "upager/providers/http_provider.h"
#include "upager/status.h"

namespace upager::internal::http {

// libcurl's global state, set up once per process and never torn down (other users of
// libcurl in the process may still need it).
bool GlobalInit();

// Options shared by every easy handle, blocking or not (the fetcher's too).
void SetCommonOptions(CURL* easy, const std::string& url, const HttpProviderOptions& options,
                      char* error_buffer);

// kInvalidArgs with a reason for options HttpProvider cannot use.
Status ValidateOptions(const HttpProviderOptions& options, std::string* why);
// kInvalidArgs with a reason unless `url` is a well-formed http:// or https:// URL.
Status ValidateUrl(const std::string& url, std::string* why);

// What Create's blocking requests learned about the object.
struct RemoteObject {
  std::string url;  // after redirects
  bool size_known = false;
  uint64_t size = 0;
  bool accept_ranges = false;
};

// HEAD for the size and "Accept-Ranges"; a range probe where HEAD cannot tell. The statuses
// of HttpProvider::Create.
Status ProbeObject(const std::string& url, const HttpProviderOptions& options, RemoteObject* object,
                   std::string* why);

}  // namespace upager::internal::http

#endif  // UPAGER_SRC_PROVIDERS_HTTP_PROBE_H_

// Creating an HttpProvider, before any fetch: the options and the URL checked, libcurl set
// up, and the object's size and version (its validators) learned with blocking requests: a
// one-byte Range GET, which also shows at once whether the server honours ranges, and a
// HEAD where that GET cannot tell the size.
#ifndef UPAGER_SRC_PROVIDERS_HTTP_PROBE_H_
#define UPAGER_SRC_PROVIDERS_HTTP_PROBE_H_

#include <curl/curl.h>

#include <cstdint>
#include <string>

#include "providers/http_endpoint.h"
#include "upager/providers/http_provider.h"
#include "upager/status.h"

namespace upager::internal::http {

// libcurl's global state, set up once per process and never torn down (other users of
// libcurl in the process may still need it).
bool GlobalInit();

// Options shared by every easy handle, blocking or not (the fetcher's too): the endpoint,
// the timeouts, and `resolve` (ResolveList(options), owned by the caller, who keeps it for
// the handle's life).
void SetCommonOptions(CURL* easy, const Endpoint& endpoint, const HttpProviderOptions& options,
                      curl_slist* resolve, char* error_buffer);
// options.resolve as a list for CURLOPT_RESOLVE (null if empty); curl_slist_free_all it.
curl_slist* ResolveList(const HttpProviderOptions& options);

// kInvalidArgs with a reason for options HttpProvider cannot use.
Status ValidateOptions(const HttpProviderOptions& options, std::string* why);
// kInvalidArgs with a reason unless `url` is a well-formed http:// or https:// URL.
Status ValidateUrl(const std::string& url, std::string* why);

// What Create's blocking requests learned about the object.
struct RemoteObject {
  std::string url;  // after redirects
  bool size_known = false;
  uint64_t size = 0;
  // The version seen: its ETag (with quotes, as sent) and Last-Modified, each empty if the
  // server did not send it. Every range is asked for on the condition that it still holds.
  std::string etag;
  std::string last_modified;
};

// The Range GET (and a HEAD where needed) for the size and the validators. The statuses of
// HttpProvider::Create.
Status ProbeObject(const Endpoint& endpoint, const HttpProviderOptions& options,
                   RemoteObject* object, std::string* why);

}  // namespace upager::internal::http

#endif  // UPAGER_SRC_PROVIDERS_HTTP_PROBE_H_

// S3Provider: an HttpProvider whose endpoint comes from the AWS conventions (s3_config.cc)
// and whose requests libcurl signs (see the header).
#include "upager/providers/s3_provider.h"

#include <cstdlib>

#include "providers/http_endpoint.h"
#include "providers/s3_config.h"

namespace upager {

Status S3Provider::Create(PagerLoop* loop, const std::string& bucket, const std::string& key,
                          const S3ProviderOptions& options, std::unique_ptr<S3Provider>* out,
                          std::string* why) {
  std::string local_why;
  if (why == nullptr) why = &local_why;
  why->clear();
  if (loop == nullptr || out == nullptr) {
    *why = "no loop or no output";
    return Status::kInvalidArgs;
  }
  internal::s3::Resolved resolved;
  Status s = internal::s3::Resolve(
      bucket, key, options, [](const char* name) { return std::getenv(name); }, &resolved, why);
  if (s != Status::kOk) return s;
  std::unique_ptr<S3Provider> provider(new S3Provider());
  s = Open(loop, resolved.endpoint, options.http, provider.get(), why);
  if (s == Status::kAccessDenied) {
    *why += resolved.credentials_from.empty()
                ? " (unsigned request: no credentials found)"
                : " (signed with credentials from " + resolved.credentials_from + ", region " +
                      resolved.region + ")";
  }
  if (s != Status::kOk) return s;
  *out = std::move(provider);
  return Status::kOk;
}

bool S3Provider::ParseUri(const std::string& uri, std::string* bucket, std::string* key) {
  constexpr std::string_view kScheme = "s3://";
  if (uri.compare(0, kScheme.size(), kScheme) != 0) return false;
  const size_t slash = uri.find('/', kScheme.size());
  if (slash == std::string::npos || slash == kScheme.size() || slash + 1 == uri.size()) {
    return false;
  }
  *bucket = uri.substr(kScheme.size(), slash - kScheme.size());
  *key = uri.substr(slash + 1);
  return true;
}

S3Provider::~S3Provider() = default;

}  // namespace upager

// Where an S3Provider's requests go and with which credentials: the AWS conventions
// (environment variables, the shared credentials and config files, profiles) resolved into
// an Endpoint, and the object's URL in path-style or virtual-hosted-style. Internal.
#ifndef UPAGER_SRC_PROVIDERS_S3_CONFIG_H_
#define UPAGER_SRC_PROVIDERS_S3_CONFIG_H_

#include <functional>
#include <map>
#include <string>

#include "providers/http_endpoint.h"
#include "upager/providers/s3_provider.h"
#include "upager/status.h"

namespace upager::internal::s3 {

// Reads an environment variable (nullptr: unset). std::getenv, or a map in tests.
using Getenv = std::function<const char*(const char*)>;

// The keys of section `section` of an AWS-style INI file ("[default]", "[profile x]", "[x]").
// kNotFound if the file does not exist or has no such section; kIo if it cannot be read.
Status ReadIniSection(const std::string& path, const std::string& section,
                      std::map<std::string, std::string>* out);

// Whether `bucket` is a valid S3 bucket name (3-63 of a-z 0-9 . -, starting and ending
// with a letter or digit); `dns` also forbids dots (for virtual-hosted HTTPS).
bool ValidBucketName(const std::string& bucket, bool dns);

// `key` percent-encoded for a URL path: everything but A-Z a-z 0-9 - . _ ~ and '/'.
std::string EncodeKey(const std::string& key);

// The object's URL at `endpoint` ("scheme://host[:port][/base]").
Status ObjectUrl(const std::string& endpoint, const std::string& bucket, const std::string& key,
                 S3Addressing addressing, std::string* url, std::string* why);

// Everything S3Provider::Create needs to know: the endpoint (URL, signing, credentials) and,
// for messages, where the credentials came from (never the secrets themselves).
struct Resolved {
  http::Endpoint endpoint;
  std::string region;
  std::string credentials_from;  // "the options", "the environment", "profile x of FILE", ""
};
Status Resolve(const std::string& bucket, const std::string& key, const S3ProviderOptions& options,
               const Getenv& getenv, Resolved* out, std::string* why);

}  // namespace upager::internal::s3

#endif  // UPAGER_SRC_PROVIDERS_S3_CONFIG_H_

// S3Provider: a read-only VMO whose content is an object in an S3-compatible store (AWS S3,
// Ceph's RADOS Gateway, MinIO, Cloudflare R2, Google Cloud Storage's XML API).
//
// It is an HttpProvider (the same merged ranges, read-ahead, retries, version pinning and
// timeouts: see http_provider.h) whose requests are signed with AWS Signature Version 4 by
// libcurl itself (CURLOPT_AWS_SIGV4).
//
// Where things come from, first found wins:
// - credentials: the options; then AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
//   AWS_SESSION_TOKEN; then the profile's aws_access_key_id, aws_secret_access_key and
//   aws_session_token in the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else
//   ~/.aws/credentials). With `profile` set in the options the file comes before the
//   environment. The profile is options.profile, else AWS_PROFILE, else "default". Without
//   any credentials requests go unsigned (a public bucket).
// - region: the options; AWS_REGION; AWS_DEFAULT_REGION; the profile's `region` in the shared
//   config file (AWS_CONFIG_FILE, else ~/.aws/config); "us-east-1".
// - endpoint: the options; AWS_ENDPOINT_URL_S3; AWS_ENDPOINT_URL; the profile's
//   `endpoint_url`; https://s3.REGION.amazonaws.com. Its scheme picks HTTP or HTTPS.
//
// Secrets (the secret key, the session token) are handed to libcurl and appear in no
// message, log, trace or statistic.
//
// Errors at creation: kAccessDenied for 401/403 (a wrong key, a signature mismatch, a
// private bucket without credentials), with S3's error code in `why` (e.g. "HTTP 403
// (SignatureDoesNotMatch)"); kNotFound for a missing bucket or key (NoSuchBucket,
// NoSuchKey); 503 (SlowDown) and other 5xx are retried with backoff, then kIo.
#ifndef UPAGER_PROVIDERS_S3_PROVIDER_H_
#define UPAGER_PROVIDERS_S3_PROVIDER_H_

#include <memory>
#include <string>

#include "upager/providers/http_provider.h"

namespace upager {

enum class S3Addressing {
  kAuto,           // virtual-hosted for amazonaws.com endpoints, path-style elsewhere
  kPath,           // ENDPOINT/BUCKET/KEY
  kVirtualHosted,  // BUCKET.ENDPOINT-HOST/KEY
};

struct S3ProviderOptions {
  HttpProviderOptions http;
  std::string endpoint;  // "http://127.0.0.1:7480", "https://s3.eu-west-1.amazonaws.com"
  std::string region;
  std::string profile;
  S3Addressing addressing = S3Addressing::kAuto;
  // Credentials given directly (all three optional; the key and the secret go together).
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  bool unsigned_requests = false;  // never sign, even with credentials at hand
};

class S3Provider : public HttpProvider {
 public:
  // The statuses of HttpProvider::Create (kInvalidArgs for a bad bucket name or endpoint,
  // an incomplete key pair, an unreadable credentials file).
  static Status Create(PagerLoop* loop, const std::string& bucket, const std::string& key,
                       const S3ProviderOptions& options, std::unique_ptr<S3Provider>* out,
                       std::string* why = nullptr);

  // Splits "s3://BUCKET/KEY"; false if `uri` is not one (no bucket or no key).
  static bool ParseUri(const std::string& uri, std::string* bucket, std::string* key);

  ~S3Provider() override;

 private:
  S3Provider() = default;
};

}  // namespace upager

#endif  // UPAGER_PROVIDERS_S3_PROVIDER_H_

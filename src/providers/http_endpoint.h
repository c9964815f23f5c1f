// Endpoint: where HttpProvider's requests go and how they are authorised: the object's URL,
// and for an S3 object the AWS Signature Version 4 parameters that libcurl signs each
// request with (CURLOPT_AWS_SIGV4). Internal; shared by the probe and the fetcher.
//
// The secret key and the session token are set on curl handles only: nothing here formats
// them into a message. Describe() is what errors and logs may show.
#ifndef UPAGER_SRC_PROVIDERS_HTTP_ENDPOINT_H_
#define UPAGER_SRC_PROVIDERS_HTTP_ENDPOINT_H_

#include <curl/curl.h>

#include <string>

namespace upager::internal::http {

struct Endpoint {
  std::string url;
  // "aws:amz:REGION:s3" to sign with SigV4; empty: unsigned requests.
  std::string aws_sigv4;
  std::string access_key;     // with aws_sigv4
  std::string secret_key;     // with aws_sigv4; never shown
  std::string session_token;  // optional: sent as x-amz-security-token; never shown
  // "s3://bucket/key" for an S3 object (messages name it so); empty: the URL.
  std::string display_name;
  // Error bodies are S3's XML (<Code>...</Code>): messages quote the code.
  bool s3_errors = false;

  // What messages call the object.
  const std::string& Describe() const { return display_name.empty() ? url : display_name; }
};

// Sets the URL and the signing options of `endpoint` on `easy`.
void SetEndpointOptions(CURL* easy, const Endpoint& endpoint);

// The request headers every request to `endpoint` carries (the session token), plus
// `extra` if not null; appended to `list`, which is returned (null if empty). A header
// value may be a secret: the list is given to curl and freed, never printed.
curl_slist* EndpointHeaders(const Endpoint& endpoint, const char* extra, curl_slist* list);

// The <Code> of an S3 XML error body, or empty.
std::string S3ErrorCode(const std::string& body);

}  // namespace upager::internal::http

#endif  // UPAGER_SRC_PROVIDERS_HTTP_ENDPOINT_H_

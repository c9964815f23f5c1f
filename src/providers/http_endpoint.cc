#include "providers/http_endpoint.h"

namespace upager::internal::http {

void SetEndpointOptions(CURL* easy, const Endpoint& endpoint) {
  curl_easy_setopt(easy, CURLOPT_URL, endpoint.url.c_str());
  if (endpoint.aws_sigv4.empty()) return;
  curl_easy_setopt(easy, CURLOPT_AWS_SIGV4, endpoint.aws_sigv4.c_str());
  curl_easy_setopt(easy, CURLOPT_USERNAME, endpoint.access_key.c_str());
  curl_easy_setopt(easy, CURLOPT_PASSWORD, endpoint.secret_key.c_str());
}

curl_slist* EndpointHeaders(const Endpoint& endpoint, const char* extra, curl_slist* list) {
  const auto append = [&list](const std::string& header) {
    curl_slist* grown = curl_slist_append(list, header.c_str());
    if (grown != nullptr) list = grown;
  };
  if (!endpoint.aws_sigv4.empty()) {
    // S3 wants the payload's hash in a header of its own; a GET has none: the hash of "".
    // libcurl signs with the value given here.
    append(
        "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    if (!endpoint.session_token.empty()) {
      append("x-amz-security-token: " + endpoint.session_token);
    }
  }
  if (extra != nullptr) append(extra);
  return list;
}

std::string S3ErrorCode(const std::string& body) {
  const size_t open = body.find("<Code>");
  if (open == std::string::npos) return {};
  const size_t begin = open + 6;
  const size_t end = body.find("</Code>", begin);
  if (end == std::string::npos || end - begin > 64) return {};
  std::string code = body.substr(begin, end - begin);
  for (const char c : code) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return {};
  }
  return code;
}

}  // namespace upager::internal::http

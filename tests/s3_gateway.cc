#include "s3_gateway.h"

#include <curl/curl.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>

namespace upager::testing {
namespace {

struct Upload {
  const std::string* data;
  size_t offset = 0;
  static size_t Read(char* out, size_t size, size_t count, void* user) {
    auto* self = static_cast<Upload*>(user);
    const size_t n = std::min(size * count, self->data->size() - self->offset);
    std::memcpy(out, self->data->data() + self->offset, n);
    self->offset += n;
    return n;
  }
};

size_t Discard(char*, size_t size, size_t count, void*) { return size * count; }

bool RunScript(const std::string& command, const std::string& dir, std::string* why) {
  const std::string line = std::string(UPAGER_S3_SCRIPT) + " " + command + " '" + dir + "' >" +
                           dir + "/log/" + command + ".test.out 2>&1";
  if (std::system(line.c_str()) != 0) {
    *why = line + " failed";
    return false;
  }
  return true;
}

}  // namespace

bool S3Gateway::Load(std::string* why) {
  const char* env = std::getenv("UPAGER_S3_ENV");
  const std::string path = env != nullptr ? env : UPAGER_S3_ENV_FILE;
  std::ifstream in(path);
  if (!in) {
    *why = "no S3 gateway: " + path +
           " does not exist (ctest starts one with tests/s3/start-ceph-rgw.sh; it needs "
           "Debian's radosgw, ceph-mon, ceph-osd and ceph-common)";
    return false;
  }
  std::map<std::string, std::string> values;
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) values[line.substr(0, eq)] = line.substr(eq + 1);
  }
  endpoint = values["UPAGER_S3_ENDPOINT"];
  region = values["UPAGER_S3_REGION"];
  bucket = values["UPAGER_S3_BUCKET"];
  access_key = values["UPAGER_S3_ACCESS_KEY"];
  secret_key = values["UPAGER_S3_SECRET_KEY"];
  dir = values["UPAGER_S3_DIR"];
  session_access_key = values["UPAGER_S3_SESSION_ACCESS_KEY"];
  session_secret_key = values["UPAGER_S3_SESSION_SECRET_KEY"];
  session_token = values["UPAGER_S3_SESSION_TOKEN"];
  if (endpoint.empty() || bucket.empty() || access_key.empty() || secret_key.empty() ||
      session_token.empty()) {
    *why = path + " lacks the endpoint, the bucket or the keys";
    return false;
  }
  return true;
}

bool S3Gateway::Put(const std::string& key, const std::string& data, std::string* why) const {
  CURL* easy = curl_easy_init();
  const std::string url = endpoint + "/" + bucket + "/" + key;
  const std::string sigv4 = "aws:amz:" + region + ":s3";
  Upload upload{&data};
  curl_slist* headers = curl_slist_append(nullptr, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl_easy_setopt(easy, CURLOPT_USERNAME, access_key.c_str());
  curl_easy_setopt(easy, CURLOPT_PASSWORD, secret_key.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(data.size()));
  curl_easy_setopt(easy, CURLOPT_READFUNCTION, &Upload::Read);
  curl_easy_setopt(easy, CURLOPT_READDATA, &upload);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Discard);
  const CURLcode result = curl_easy_perform(easy);
  long code = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(easy);
  curl_slist_free_all(headers);
  if (result != CURLE_OK || code != 200) {
    *why = "PUT " + url + ": " + curl_easy_strerror(result) + ", HTTP " + std::to_string(code);
    return false;
  }
  return true;
}

bool S3Gateway::StopGateway(std::string* why) const { return RunScript("stop-rgw", dir, why); }
bool S3Gateway::StartGateway(std::string* why) const { return RunScript("start-rgw", dir, why); }

}  // namespace upager::testing

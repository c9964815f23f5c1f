#include "providers/s3_config.h"

#include <curl/curl.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "providers/http_parse.h"

namespace upager::internal::s3 {
namespace {

std::string Env(const Getenv& getenv, const char* name) {
  const char* value = getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

std::string HomeFile(const Getenv& getenv, const char* variable, const char* relative) {
  std::string path = Env(getenv, variable);
  if (!path.empty()) return path;
  const std::string home = Env(getenv, "HOME");
  return home.empty() ? std::string() : home + "/" + relative;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

Status ReadIniSection(const std::string& path, const std::string& section,
                      std::map<std::string, std::string>* out) {
  std::ifstream in(path);
  if (!in) return errno == ENOENT ? Status::kNotFound : Status::kIo;
  bool inside = false;
  bool found = false;
  std::string line;
  while (std::getline(in, line)) {
    const std::string_view text = http::Trim(line);
    if (text.empty() || text.front() == '#' || text.front() == ';') continue;
    if (text.front() == '[' && text.back() == ']') {
      const std::string_view name = http::Trim(text.substr(1, text.size() - 2));
      inside = name == section;
      found = found || inside;
      continue;
    }
    if (!inside) continue;
    const size_t eq = text.find('=');
    if (eq == std::string_view::npos) continue;
    (*out)[Lower(std::string(http::Trim(text.substr(0, eq))))] =
        std::string(http::Trim(text.substr(eq + 1)));
  }
  if (in.bad()) return Status::kIo;
  return found ? Status::kOk : Status::kNotFound;
}

bool ValidBucketName(const std::string& bucket, bool dns) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  for (const char c : bucket) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || (c == '.' && !dns);
    if (!ok) return false;
  }
  return std::isalnum(static_cast<unsigned char>(bucket.front())) &&
         std::isalnum(static_cast<unsigned char>(bucket.back()));
}

std::string EncodeKey(const std::string& key) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : key) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Status ObjectUrl(const std::string& endpoint, const std::string& bucket, const std::string& key,
                 S3Addressing addressing, std::string* url, std::string* why) {
  CURLU* parsed = curl_url();
  if (parsed == nullptr) {
    *why = "curl_url failed";
    return Status::kNoMemory;
  }
  char* scheme = nullptr;
  char* host = nullptr;
  char* port = nullptr;
  char* path = nullptr;
  Status s = Status::kOk;
  if (curl_url_set(parsed, CURLUPART_URL, endpoint.c_str(), 0) != CURLUE_OK ||
      curl_url_get(parsed, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
      curl_url_get(parsed, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
      curl_url_get(parsed, CURLUPART_PATH, &path, 0) != CURLUE_OK ||
      (std::strcmp(scheme, "http") != 0 && std::strcmp(scheme, "https") != 0)) {
    *why = "the S3 endpoint is not an http:// or https:// URL: \"" + endpoint + "\"";
    s = Status::kInvalidArgs;
  }
  if (s == Status::kOk) {
    curl_url_get(parsed, CURLUPART_PORT, &port, 0);  // absent: the scheme's
    std::string base = path;
    while (!base.empty() && base.back() == '/') base.pop_back();
    const std::string host_name = host;
    const bool aws = host_name.size() > 14 &&
                     host_name.compare(host_name.size() - 14, 14, ".amazonaws.com") == 0;
    bool virtual_hosted = addressing == S3Addressing::kVirtualHosted;
    if (addressing == S3Addressing::kAuto) {
      // Virtual-hosted where AWS wants it, unless the name cannot be a host name under TLS.
      virtual_hosted = aws && ValidBucketName(bucket, /*dns=*/std::strcmp(scheme, "https") == 0);
    }
    const std::string authority = (virtual_hosted ? bucket + "." : std::string()) + host_name +
                                  (port != nullptr ? ":" + std::string(port) : std::string());
    *url = std::string(scheme) + "://" + authority + base + "/" +
           (virtual_hosted ? std::string() : bucket + "/") + EncodeKey(key);
  }
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_free(path);
  curl_url_cleanup(parsed);
  return s;
}

Status Resolve(const std::string& bucket, const std::string& key, const S3ProviderOptions& options,
               const Getenv& getenv, Resolved* out, std::string* why) {
  if (!ValidBucketName(bucket, /*dns=*/false)) {
    *why = "not a valid S3 bucket name: \"" + bucket + "\"";
    return Status::kInvalidArgs;
  }
  if (key.empty()) {
    *why = "no object key";
    return Status::kInvalidArgs;
  }
  std::string profile = options.profile;
  if (profile.empty()) profile = Env(getenv, "AWS_PROFILE");
  if (profile.empty()) profile = "default";

  // The shared config file: region and endpoint_url of the profile.
  std::map<std::string, std::string> config;
  const std::string config_file = HomeFile(getenv, "AWS_CONFIG_FILE", ".aws/config");
  if (!config_file.empty()) {
    const std::string section = profile == "default" ? "default" : "profile " + profile;
    if (ReadIniSection(config_file, section, &config) == Status::kIo) {
      *why = "cannot read the AWS config file " + config_file;
      return Status::kInvalidArgs;
    }
  }

  // Credentials.
  std::string access = options.access_key_id;
  std::string secret = options.secret_access_key;
  std::string token = options.session_token;
  std::string from = access.empty() && secret.empty() ? "" : "the options";
  const auto from_environment = [&] {
    access = Env(getenv, "AWS_ACCESS_KEY_ID");
    secret = Env(getenv, "AWS_SECRET_ACCESS_KEY");
    token = Env(getenv, "AWS_SESSION_TOKEN");
    if (!access.empty() || !secret.empty()) from = "the environment";
  };
  const auto from_file = [&]() -> Status {
    const std::string file = HomeFile(getenv, "AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
    if (file.empty()) return Status::kOk;
    std::map<std::string, std::string> values;
    const Status s = ReadIniSection(file, profile, &values);
    if (s == Status::kIo) {
      *why = "cannot read the AWS credentials file " + file;
      return Status::kInvalidArgs;
    }
    if (s == Status::kNotFound && !options.profile.empty()) {
      *why = "no profile \"" + profile + "\" in " + file;
      return Status::kInvalidArgs;
    }
    access = values["aws_access_key_id"];
    secret = values["aws_secret_access_key"];
    token = values["aws_session_token"];
    if (!access.empty() || !secret.empty()) from = "profile " + profile + " of " + file;
    return Status::kOk;
  };
  if (from.empty() && !options.profile.empty()) {
    if (const Status s = from_file(); s != Status::kOk) return s;
  }
  if (from.empty()) from_environment();
  if (from.empty()) {
    if (const Status s = from_file(); s != Status::kOk) return s;
  }
  if (!from.empty() && (access.empty() || secret.empty())) {
    *why = "incomplete S3 credentials from " + from +
           ": the access key id and the secret access key go together";
    return Status::kInvalidArgs;
  }

  // Region and endpoint.
  std::string region = options.region;
  if (region.empty()) region = Env(getenv, "AWS_REGION");
  if (region.empty()) region = Env(getenv, "AWS_DEFAULT_REGION");
  if (region.empty()) region = config["region"];
  if (region.empty()) region = "us-east-1";
  for (const char c : region) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) {
      *why = "not a valid region: \"" + region + "\"";
      return Status::kInvalidArgs;
    }
  }
  std::string endpoint = options.endpoint;
  if (endpoint.empty()) endpoint = Env(getenv, "AWS_ENDPOINT_URL_S3");
  if (endpoint.empty()) endpoint = Env(getenv, "AWS_ENDPOINT_URL");
  if (endpoint.empty()) endpoint = config["endpoint_url"];
  if (endpoint.empty()) endpoint = "https://s3." + region + ".amazonaws.com";

  http::Endpoint& e = out->endpoint;
  Status s = ObjectUrl(endpoint, bucket, key, options.addressing, &e.url, why);
  if (s != Status::kOk) return s;
  e.display_name = "s3://" + bucket + "/" + key;
  e.s3_errors = true;
  if (!from.empty() && !options.unsigned_requests) {
    e.aws_sigv4 = "aws:amz:" + region + ":s3";
    e.access_key = access;
    e.secret_key = secret;
    e.session_token = token;
    out->credentials_from = from;
  }
  out->region = region;
  return Status::kOk;
}

}  // namespace upager::internal::s3

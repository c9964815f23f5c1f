// The S3 gateway the S3 tests run against: a one-node Ceph RADOS Gateway that ctest starts
// once for the suite (tests/s3/start-ceph-rgw.sh, the s3_gateway fixture) and describes in
// an env file: UPAGER_S3_ENV if set, else the build tree's s3-gateway/env. Also a signed PUT
// (libcurl, SigV4) to put objects there, and stopping and restarting the gateway.
#ifndef UPAGER_TESTS_S3_GATEWAY_H_
#define UPAGER_TESTS_S3_GATEWAY_H_

#include <string>

namespace upager::testing {

struct S3Gateway {
  std::string endpoint;  // http://127.0.0.1:PORT
  std::string region;
  std::string bucket;
  std::string access_key;
  std::string secret_key;
  // Temporary credentials of the same user (GetSessionToken).
  std::string session_access_key;
  std::string session_secret_key;
  std::string session_token;
  std::string dir;  // the cluster's directory (for stop-rgw / start-rgw)

  // Reads the env file; false with `why` if there is none (no gateway started).
  bool Load(std::string* why);
  // PUTs `data` as `key` in `bucket` (signed with the gateway's keys).
  bool Put(const std::string& key, const std::string& data, std::string* why) const;
  // Stops / restarts radosgw alone (same port), through the script.
  bool StopGateway(std::string* why) const;
  bool StartGateway(std::string* why) const;
};

}  // namespace upager::testing

#endif  // UPAGER_TESTS_S3_GATEWAY_H_

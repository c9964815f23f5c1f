// Opening a SOURCE argument as a provider: an http(s) URL (HttpProvider), an s3://BUCKET/KEY
// URI (S3Provider), a file that starts with the blob magic (BlobProvider), or any other path
// (FileProvider, read-only).
// Failures are reported as one "upager: cannot open ..." line with the exit code to use.
#ifndef UPAGER_TOOLS_UPAGER_SOURCE_H_
#define UPAGER_TOOLS_UPAGER_SOURCE_H_

#include <memory>
#include <optional>
#include <string>

#include "upager/pager_loop.h"
#include "upager/providers/provider.h"
#include "upager/providers/read_ahead.h"

namespace upager::cli {

enum class SourceKind { kFile, kBlob, kHttp, kS3 };
const char* SourceKindName(SourceKind kind);

struct OpenedSource {
  SourceKind kind = SourceKind::kFile;
  std::unique_ptr<Provider> provider;
};

// Options of remote sources: where an s3:// source is (empty: the AWS conventions, see
// s3_provider.h), and, for http(s):// and s3:// both, the retries and the stall timeout
// (unset: the provider's defaults).
struct RemoteSourceOptions {
  std::string endpoint;
  std::string region;
  std::string profile;
  std::optional<uint32_t> retries;
  std::optional<uint32_t> stall_timeout_s;
};

// Opens `spec` on `loop` (started). `read_ahead`, if set, replaces the provider's default
// mode. Returns kExitOk, or prints the error and returns its exit code (2 for a bad URL or
// option, 3 if the source cannot be opened, 4 for a corrupt or unsupported blob).
// The --read-ahead and --access options of cat and serve (empty: the defaults). Returns
// kExitOk, or prints the error and returns kExitUsage.
int ParseReadPolicy(const std::string& read_ahead_option, const std::string& access_option,
                    std::optional<ReadAheadMode>* read_ahead, AccessPattern* access);

int OpenSource(PagerLoop* loop, const std::string& spec, std::optional<ReadAheadMode> read_ahead,
               OpenedSource* out, const RemoteSourceOptions& remote = {});

// Why reads of `provider` failed, in one line (an HTTP or S3 object's last_error()), or
// empty.
std::string SourceError(const Provider& provider);

}  // namespace upager::cli

#endif  // UPAGER_TOOLS_UPAGER_SOURCE_H_

// SOURCE classification (URL, blob, file) and the mapping of open failures to exit codes.
#include "source.h"

#include <sys/stat.h>

#include <cctype>
#include <string_view>

#include "common.h"
#include "upager/providers/blob_provider.h"
#include "upager/providers/file_provider.h"
#include "upager/providers/http_provider.h"
#include "upager/providers/s3_provider.h"

namespace upager::cli {
namespace {

// "scheme" if `spec` looks like scheme://..., else empty.
std::string UrlScheme(const std::string& spec) {
  size_t pos = spec.find("://");
  if (pos == std::string::npos || pos == 0) {
    return {};
  }
  std::string scheme;
  for (size_t i = 0; i < pos; ++i) {
    unsigned char c = static_cast<unsigned char>(spec[i]);
    bool ok = std::isalpha(c) || (i > 0 && (std::isdigit(c) || c == '+' || c == '-' || c == '.'));
    if (!ok) {
      return {};
    }
    scheme.push_back(static_cast<char>(std::tolower(c)));
  }
  return scheme;
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// Applies a --read-ahead choice to a provider's defaults, keeping them valid.
void ApplyReadAhead(std::optional<ReadAheadMode> mode, ReadAheadOptions* options) {
  if (!mode) {
    return;
  }
  options->mode = *mode;
  if (*mode != ReadAheadMode::kOff && options->window == 0) {
    options->window = 128 * 1024;
  }
  if (options->max_window < options->window) {
    options->max_window = options->window;
  }
}

void ApplyRemote(const RemoteSourceOptions& remote, HttpProviderOptions* options) {
  if (remote.retries) options->retries = *remote.retries;
  if (remote.stall_timeout_s) options->low_speed_time_s = *remote.stall_timeout_s;
}

// The exit code for a failed Create of a `kind` source.
int ExitCodeForOpenFailure(SourceKind kind, Status status) {
  switch (status) {
    case Status::kInvalidArgs: return kExitUsage;
    case Status::kIoDataIntegrity: return kExitCorrupt;
    case Status::kWrongType:
      // A blob that is not one is corrupt data; a directory given as a file cannot be read.
      return kind == SourceKind::kBlob ? kExitCorrupt : kExitCannotOpen;
    case Status::kNotSupported:
      // An unknown blob version is unsupported data; a server without ranges is unusable.
      return kind == SourceKind::kBlob ? kExitCorrupt : kExitCannotOpen;
    default: return kExitCannotOpen;
  }
}

std::string DescribeOpenFailure(SourceKind kind, Status status) {
  if (kind == SourceKind::kFile && status == Status::kWrongType) {
    return "not a regular file";
  }
  if (kind == SourceKind::kBlob && status == Status::kWrongType) {
    return "not a valid blob (" + std::string(StatusString(status)) + ")";
  }
  if (kind == SourceKind::kBlob && status == Status::kNotSupported) {
    return "unsupported blob version (" + std::string(StatusString(status)) + ")";
  }
  if ((kind == SourceKind::kHttp || kind == SourceKind::kS3) && status == Status::kNotSupported) {
    return "server does not support range requests (" + std::string(StatusString(status)) + ")";
  }
  if ((kind == SourceKind::kHttp || kind == SourceKind::kS3) && status == Status::kUnavailable) {
    return "server unreachable (" + std::string(StatusString(status)) + ")";
  }
  return StatusDescription(status);
}

// A provider of type P for `spec`, with default options of type O but the read-ahead mode.
template <typename P, typename O>
Status CreateProvider(PagerLoop* loop, const std::string& spec,
                      std::optional<ReadAheadMode> read_ahead, OpenedSource* out,
                      std::string* why) {
  O options;
  ApplyReadAhead(read_ahead, &options.read_ahead);
  std::unique_ptr<P> provider;
  const Status status = P::Create(loop, spec, options, &provider, why);
  out->provider = std::move(provider);
  return status;
}

}  // namespace

const char* SourceKindName(SourceKind kind) {
  switch (kind) {
    case SourceKind::kFile: return "file";
    case SourceKind::kBlob: return "blob";
    case SourceKind::kHttp: return "http";
    case SourceKind::kS3: return "s3";
  }
  return "?";
}

int ParseReadPolicy(const std::string& read_ahead_option, const std::string& access_option,
                    std::optional<ReadAheadMode>* read_ahead, AccessPattern* access) {
  if (!read_ahead_option.empty()) {
    ReadAheadMode mode;
    if (ParseReadAheadMode(read_ahead_option, &mode) != Status::kOk) {
      return Error(kExitUsage,
                   "invalid --read-ahead '" + read_ahead_option + "' (off, fixed or adaptive)");
    }
    *read_ahead = mode;
  }
  if (!access_option.empty() && ParseAccessPattern(access_option, access) != Status::kOk) {
    return Error(kExitUsage,
                 "invalid --access '" + access_option + "' (normal, random or sequential)");
  }
  return kExitOk;
}

int OpenSource(PagerLoop* loop, const std::string& spec, std::optional<ReadAheadMode> read_ahead,
               OpenedSource* out, const RemoteSourceOptions& remote) {
  if (spec.empty()) {
    return Error(kExitUsage, "empty SOURCE");
  }
  std::string why;
  Status status = Status::kOk;
  SourceKind kind = SourceKind::kFile;
  std::string scheme = UrlScheme(spec);
  if (!scheme.empty() && !PathExists(spec) && scheme == "s3") {
    kind = SourceKind::kS3;
    std::string bucket, key;
    if (!S3Provider::ParseUri(spec, &bucket, &key)) {
      return Error(kExitUsage, "not an s3://BUCKET/KEY URI: '" + spec + "'");
    }
    S3ProviderOptions options;
    ApplyReadAhead(read_ahead, &options.http.read_ahead);
    ApplyRemote(remote, &options.http);
    options.endpoint = remote.endpoint;
    options.region = remote.region;
    options.profile = remote.profile;
    std::unique_ptr<S3Provider> provider;
    status = S3Provider::Create(loop, bucket, key, options, &provider, &why);
    out->provider = std::move(provider);
  } else if (!scheme.empty() && !PathExists(spec)) {
    if (scheme != "http" && scheme != "https") {
      return Error(kExitUsage, "unsupported URL scheme '" + scheme + "' in '" + spec +
                                   "' (only http://, https:// and s3:// are supported)");
    }
    kind = SourceKind::kHttp;
    HttpProviderOptions options;
    ApplyReadAhead(read_ahead, &options.read_ahead);
    ApplyRemote(remote, &options);
    std::unique_ptr<HttpProvider> provider;
    status = HttpProvider::Create(loop, spec, options, &provider, &why);
    out->provider = std::move(provider);
  } else if (LooksLikeBlob(spec)) {
    kind = SourceKind::kBlob;
    status = CreateProvider<BlobProvider, BlobProviderOptions>(loop, spec, read_ahead, out, &why);
  } else {
    kind = SourceKind::kFile;
    status = CreateProvider<FileProvider, FileProviderOptions>(loop, spec, read_ahead, out, &why);
  }
  out->kind = kind;
  if (status == Status::kOk && out->provider == nullptr) {
    status = Status::kInternal;
  }
  if (status != Status::kOk) {
    out->provider.reset();
    std::string message = "cannot open '" + spec + "': " + DescribeOpenFailure(kind, status);
    // Providers often start their explanation the way this message does: say it once.
    for (const std::string& prefix :
         {"cannot open '" + spec + "': ", "cannot open " + spec + ": ", "open " + spec + ": ",
          "GET (Range: bytes=0-0) " + spec + ": ", spec + ": "}) {
      if (why.rfind(prefix, 0) == 0) {
        why.erase(0, prefix.size());
        break;
      }
    }
    if (!why.empty()) {
      message += ": " + why;
    }
    return Error(ExitCodeForOpenFailure(kind, status), message);
  }
  return kExitOk;
}

std::string SourceError(const Provider& provider) {
  if (const auto* http = dynamic_cast<const HttpProvider*>(&provider)) {
    return http->last_error();
  }
  return {};
}

}  // namespace upager::cli

// Opening a SOURCE argument as a provider: an http(s) URL (HttpProvider), a file that
// starts with the blob magic (BlobProvider), or any other path (FileProvider, read-only).
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

enum class SourceKind { kFile, kBlob, kHttp };
const char* SourceKindName(SourceKind kind);

struct OpenedSource {
  SourceKind kind = SourceKind::kFile;
  std::unique_ptr<Provider> provider;
};

// Opens `spec` on `loop` (started). `read_ahead`, if set, replaces the provider's default
// mode. Returns kExitOk, or prints the error and returns its exit code (2 for a bad URL or
// option, 3 if the source cannot be opened, 4 for a corrupt or unsupported blob).
int OpenSource(PagerLoop* loop, const std::string& spec, std::optional<ReadAheadMode> read_ahead,
               OpenedSource* out);

}  // namespace upager::cli

#endif  // UPAGER_TOOLS_UPAGER_SOURCE_H_

// `upager pack`: compresses a file into an upager blob (PackBlob) and prints one summary
// line.
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <string>

#include "commands.h"
#include "common.h"
#include "upager/providers/blob_format.h"

namespace upager::cli {

int RunPack(const PackCommandOptions& options) {
  uint64_t chunk = 0;
  if (!ParseSize(options.chunk_size, &chunk)) {
    return Error(kExitUsage, "invalid --chunk-size '" + options.chunk_size + "' (like 128K)");
  }
  if (chunk == 0 || chunk % kPageSize != 0 || chunk > 64 * 1024 * 1024) {
    return Error(kExitUsage, "invalid --chunk-size '" + options.chunk_size +
                                 "': must be a multiple of 4K between 4K and 64M");
  }
  if (options.level < 1 || options.level > 19) {
    return Error(kExitUsage,
                 "invalid --level " + std::to_string(options.level) + ": must be 1..19");
  }
  PackOptions pack;
  pack.chunk_size = static_cast<uint32_t>(chunk);
  pack.level = options.level;
  PackResult result;
  std::string why;
  auto start = std::chrono::steady_clock::now();
  Status s = PackBlob(options.in, options.out, pack, &result, &why);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (s != Status::kOk) {
    std::string message =
        "cannot pack '" + options.in + "' into '" + options.out + "': " + StatusDescription(s);
    if (!why.empty()) {
      message += ": " + why;
    }
    int code = kExitFailure;
    if (s == Status::kNotFound || s == Status::kAccessDenied || s == Status::kWrongType) {
      code = kExitCannotOpen;
    } else if (s == Status::kInvalidArgs) {
      code = kExitUsage;
    }
    return Error(code, message);
  }
  double ratio = result.blob_size == 0 ? 0.0
                                       : static_cast<double>(result.content_size) /
                                             static_cast<double>(result.blob_size);
  double mib_per_s =
      seconds > 0 ? static_cast<double>(result.content_size) / (1024.0 * 1024.0) / seconds : 0.0;
  std::printf("packed %s -> %s: content %" PRIu64 " bytes (%s), blob %" PRIu64
              " bytes (%s), ratio %.2f, %" PRIu64 " chunks of %s, %.1f MiB/s\n",
              options.in.c_str(), options.out.c_str(), result.content_size,
              FormatBytes(result.content_size).c_str(), result.blob_size,
              FormatBytes(result.blob_size).c_str(), ratio, result.chunks,
              FormatBytes(chunk).c_str(), mib_per_s);
  return kExitOk;
}

}  // namespace upager::cli

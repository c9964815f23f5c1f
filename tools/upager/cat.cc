// `upager cat`: streams a byte range of a SOURCE to stdout, reading it through a Mapping of
// the provider's VMO (or Vmo::Read with --no-map or where mappings are unavailable). With
// --connect PATH, the VMO is the one `upager serve` exports under the name given, read by
// the same copy (CatVmo): mapped (its faults served in the serving process), or through
// Vmo::Read with --no-map or where mappings are unavailable.
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "base/full_io.h"
#include "commands.h"
#include "common.h"
#include "fault_guard.h"
#include "source.h"
#include "upager/mapping.h"
#include "upager/pager_loop.h"
#include "upager/providers/read_ahead.h"
#include "upager/vmo_service.h"

namespace upager::cli {
namespace {

constexpr uint64_t kPiece = 1 << 20;  // bytes copied and written at a time

// Result of writing a piece to stdout: go on, stop quietly (the reader went away), fail.
enum class WriteResult { kOk, kReaderGone, kFailed };

WriteResult WriteOut(const void* data, size_t len) {
  const int err = internal::WriteFull(STDOUT_FILENO, data, len).error;
  if (err == 0) {
    return WriteResult::kOk;
  }
  if (err == EPIPE) {
    return WriteResult::kReaderGone;
  }
  Error(kExitFailure, std::string("cannot write to stdout: ") + std::strerror(err));
  return WriteResult::kFailed;
}

// Set when the VMO is served by another process (--connect).
bool g_remote = false;

int ReadFailure(uint64_t offset, Status status) {
  std::string why = StatusDescription(status);
  if (g_remote && (status == Status::kBadState || status == Status::kPeerClosed)) {
    // A remote VMO whose owner is gone: pages it had are still readable, the others not.
    why = "the serving process is gone (" + std::string(StatusString(status)) + ")";
  }
  return Error(ExitCodeForReadFailure(status),
               "read failed at offset " + std::to_string(offset) + ": " + why);
}

int WriteFailureCode(WriteResult r) {
  return r == WriteResult::kReaderGone ? kExitOk : kExitFailure;
}

// Copies [offset, offset + length) out of a mapping of the pages covering it.
int CatMapped(const Vmo& vmo, uint64_t offset, uint64_t length, bool* fall_back) {
  const uint64_t map_start = offset & ~(kPageSize - 1);
  const uint64_t map_end = (offset + length + kPageSize - 1) & ~(kPageSize - 1);
  Mapping map;
  Status s = Mapping::Create(vmo, map_start, map_end - map_start, kMapRead, &map);
  if (s == Status::kNotSupported) {
    *fall_back = true;
    return kExitOk;
  }
  if (s != Status::kOk) {
    return Error(kExitFailure, std::string("cannot map the source: ") + StatusDescription(s));
  }
  InstallFaultHandler();
  std::vector<char> buffer(kPiece);
  const std::byte* base = map.data();
  uint64_t pos = offset;
  const uint64_t end = offset + length;
  while (pos < end) {
    const size_t n = static_cast<size_t>(std::min(kPiece, end - pos));
    // Page by page, ascending (a reader read-ahead recognises); on a failure, the bytes
    // before the first failing page, whatever order the pages were touched in.
    FaultInfo fault;
    const size_t copied = CopyUntilFailure(buffer.data(), base + (pos - map_start), n, &fault);
    if (copied > 0) {
      if (WriteResult w = WriteOut(buffer.data(), copied); w != WriteResult::kOk) {
        return WriteFailureCode(w);
      }
    }
    if (copied < n) return ReadFailure(pos + copied, fault.status);
    pos += n;
  }
  return kExitOk;
}

// The same through Vmo::Read. A failed piece is read again page by page to find the page
// that fails (failures are not sticky: if every page then reads, the piece is fine).
int CatRead(const Vmo& vmo, uint64_t offset, uint64_t length) {
  std::vector<char> buffer(kPiece);
  uint64_t pos = offset;
  const uint64_t end = offset + length;
  while (pos < end) {
    size_t n = static_cast<size_t>(std::min(kPiece, end - pos));
    Status s = vmo.Read(buffer.data(), pos, n);
    if (s != Status::kOk) {
      uint64_t p = pos;
      while (p < pos + n) {
        uint64_t page_end = std::min<uint64_t>((p & ~(kPageSize - 1)) + kPageSize, pos + n);
        Status ps = vmo.Read(buffer.data() + (p - pos), p, page_end - p);
        if (ps != Status::kOk) {
          if (p > pos) {
            if (WriteResult w = WriteOut(buffer.data(), p - pos); w != WriteResult::kOk) {
              return WriteFailureCode(w);
            }
          }
          return ReadFailure(p, ps);
        }
        p = page_end;
      }
    }
    WriteResult w = WriteOut(buffer.data(), n);
    if (w != WriteResult::kOk) {
      return WriteFailureCode(w);
    }
    pos += n;
  }
  return kExitOk;
}

// Writes [offset, offset + len) of `vmo` (content_size bytes of content) to stdout.
int CatVmo(const Vmo& vmo, uint64_t offset, uint64_t len, bool no_map) {
  if (!no_map && MappingSupport() == Status::kOk) {
    bool fall_back = false;
    const int code = CatMapped(vmo, offset, len, &fall_back);
    if (!fall_back) {
      return code;
    }
  }
  return CatRead(vmo, offset, len);
}

// The exit code and message for a failed --connect.
int ConnectFailure(const std::string& path, const std::string& name, Status s) {
  const std::string at = "cannot open '" + name + "' at '" + path + "': ";
  switch (s) {
    case Status::kInvalidArgs: return Error(kExitUsage, at + "invalid socket path or name");
    case Status::kPeerClosed:
      return Error(kExitCannotOpen, at + "no service there (is `upager serve` running?)");
    case Status::kNotFound: return Error(kExitCannotOpen, at + "no such name");
    case Status::kAccessDenied: return Error(kExitCannotOpen, at + "permission denied");
    case Status::kNotSupported:
      return Error(kExitCannotOpen, at + "the service speaks another protocol version");
    case Status::kTimedOut: return Error(kExitCannotOpen, at + "the service did not answer");
    default: return Error(kExitFailure, at + StatusDescription(s));
  }
}

// Bounds [offset, offset + *length) by `content` bytes; an error exit if offset is past it.
int ClampRange(const std::string& what, uint64_t content, uint64_t offset,
               std::optional<uint64_t> length, uint64_t* len) {
  if (offset > content) {
    return Error(kExitUsage, "--offset " + std::to_string(offset) + " is beyond the end of '" +
                                 what + "' (" + std::to_string(content) + " bytes)");
  }
  *len = content - offset;
  if (length && *length < *len) {
    *len = *length;
  }
  return kExitOk;
}

int CatConnected(const CatCommandOptions& options, uint64_t offset,
                 std::optional<uint64_t> length) {
  if (!options.read_ahead.empty() || !options.access.empty()) {
    return Error(kExitUsage,
                 "--read-ahead and --access apply to the serving process (upager serve), "
                 "not to cat --connect");
  }
  g_remote = true;
  Vmo vmo;
  uint64_t content = 0;
  const Status s = OpenServedVmo(options.connect, options.source, &vmo, &content,
                                 DeadlineAfter(std::chrono::seconds(30)));
  if (s != Status::kOk) {
    return ConnectFailure(options.connect, options.source, s);
  }
  uint64_t len = 0;
  if (int code = ClampRange(options.source, content, offset, length, &len); code != kExitOk) {
    return code;
  }
  return len == 0 ? kExitOk : CatVmo(vmo, offset, len, options.no_map);
}

}  // namespace

int RunCat(const CatCommandOptions& options) {
  uint64_t offset = 0;
  if (!ParseSize(options.offset, &offset)) {
    return Error(kExitUsage,
                 "invalid --offset '" + options.offset + "' (a byte count like 4096 or 1M)");
  }
  std::optional<uint64_t> length;
  if (!options.length.empty()) {
    uint64_t len = 0;
    if (!ParseSize(options.length, &len)) {
      return Error(kExitUsage,
                   "invalid --length '" + options.length + "' (a byte count like 4096 or 1M)");
    }
    length = len;
  }
  std::optional<ReadAheadMode> read_ahead;
  if (!options.read_ahead.empty()) {
    ReadAheadMode mode;
    if (ParseReadAheadMode(options.read_ahead, &mode) != Status::kOk) {
      return Error(kExitUsage,
                   "invalid --read-ahead '" + options.read_ahead + "' (off, fixed or adaptive)");
    }
    read_ahead = mode;
  }
  AccessPattern access = AccessPattern::kNormal;
  if (!options.access.empty() && ParseAccessPattern(options.access, &access) != Status::kOk) {
    return Error(kExitUsage,
                 "invalid --access '" + options.access + "' (normal, random or sequential)");
  }
  // A closed pipe is an EPIPE from write(2), handled there, not a signal.
  signal(SIGPIPE, SIG_IGN);
  if (!options.connect.empty()) {
    return CatConnected(options, offset, length);
  }

  PagerLoop loop(2);
  Status s = loop.Start();
  if (s != Status::kOk) {
    return Error(kExitFailure, std::string("cannot start the pager: ") + StatusDescription(s));
  }
  OpenedSource source;
  int code = OpenSource(&loop, options.source, read_ahead, &source);
  if (code != kExitOk) {
    return code;
  }
  source.provider->SetAccessPattern(access);
  uint64_t len = 0;
  code = ClampRange(options.source, source.provider->content_size(), offset, length, &len);
  if (code != kExitOk) {
    return code;
  }
  return len == 0 ? kExitOk : CatVmo(source.provider->vmo(), offset, len, options.no_map);
}

}  // namespace upager::cli

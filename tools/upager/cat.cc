// `upager cat`: streams a byte range of a SOURCE to stdout, reading it through a Mapping of
// the provider's VMO (or Vmo::Read with --no-map or where mappings are unavailable).
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
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

// A failed read, with the provider's explanation where there is one (`provider` is null for a
// VMO served by another process).
int ReadFailure(const Provider* provider, uint64_t offset, Status status) {
  std::string why = StatusDescription(status);
  if (g_remote && (status == Status::kBadState || status == Status::kPeerClosed)) {
    // A remote VMO whose owner is gone: pages it had are still readable, the others not.
    why = "the serving process is gone (" + std::string(StatusString(status)) + ")";
  }
  std::string message = "read failed at offset " + std::to_string(offset) + ": " + why;
  if (provider != nullptr) {
    if (const std::string source = SourceError(*provider); !source.empty())
      message += ": " + source;
  }
  return Error(ExitCodeForReadFailure(status), message);
}

// The first page of [from, to) that is not in the VMO, as far as this process can tell: the
// provider knows; for a VMO served by another process, `from` (nothing is known).
uint64_t FirstAbsent(const Provider* provider, uint64_t from, uint64_t to) {
  return provider != nullptr ? std::max(from, provider->FirstAbsent(from, to)) : from;
}

int WriteFailureCode(WriteResult r) {
  return r == WriteResult::kReaderGone ? kExitOk : kExitFailure;
}

struct AscendingCopy {
  void* dst;
  const void* src;
  size_t len;
  static void Run(void* arg) {
    const auto* self = static_cast<const AscendingCopy*>(arg);
    CopyAscending(self->dst, self->src, self->len);
  }
};

// Copies `n` bytes at `src` (`offset` in `provider`'s VMO, mapped) to `dst`, ascending, and
// returns how many bytes at the start of `dst` hold the source (*fault saying why the next
// page failed). The page that failed is the first one absent after the fault (the pages are
// touched in ascending order), so that is where the copy ends, without touching it again:
// that would ask for it again, and take another round of retries from a remote source.
// If every page is there after all, CopyUntilFailure reads the range again page by page.
size_t CopyMapped(const Provider* provider, char* dst, const std::byte* src, uint64_t offset,
                  size_t n, FaultInfo* fault) {
  AscendingCopy copy{dst, src, n};
  if (GuardedCall(&AscendingCopy::Run, &copy, fault)) return n;
  if (provider == nullptr) return CopyUntilFailure(dst, src, n, fault);
  const uint64_t absent = FirstAbsent(provider, offset, offset + n);
  if (absent >= offset + n) return CopyUntilFailure(dst, src, n, fault);
  const size_t good = static_cast<size_t>(absent - offset);
  FaultInfo again;
  copy.len = good;  // present pages: no fault expected (an eviction in between: start over)
  if (good > 0 && !GuardedCall(&AscendingCopy::Run, &copy, &again)) {
    return CopyUntilFailure(dst, src, n, fault);
  }
  return good;
}

// Copies [offset, offset + length) out of a mapping of the pages covering it.
int CatMapped(const Vmo& vmo, const Provider* provider, uint64_t offset, uint64_t length,
              bool* fall_back) {
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
    // before the first failing page.
    FaultInfo fault;
    const size_t copied =
        CopyMapped(provider, buffer.data(), base + (pos - map_start), pos, n, &fault);
    if (copied > 0) {
      if (WriteResult w = WriteOut(buffer.data(), copied); w != WriteResult::kOk) {
        return WriteFailureCode(w);
      }
    }
    if (copied < n) return ReadFailure(provider, pos + copied, fault.status);
    pos += n;
  }
  return kExitOk;
}

// The same through Vmo::Read. A failed piece is written up to its first page that is not
// there (the one whose read failed: pages are asked for in ascending order), and the failure
// reported there, without asking for that page again (which would take a whole round of
// retries more than a mapping takes). If every page is there after all, the piece is read
// again page by page (failures are not sticky: if every page then reads, the piece is fine).
int CatRead(const Vmo& vmo, const Provider* provider, uint64_t offset, uint64_t length) {
  std::vector<char> buffer(kPiece);
  uint64_t pos = offset;
  const uint64_t end = offset + length;
  while (pos < end) {
    size_t n = static_cast<size_t>(std::min(kPiece, end - pos));
    Status s = vmo.Read(buffer.data(), pos, n);
    if (s != Status::kOk) {
      const uint64_t absent = provider != nullptr ? FirstAbsent(provider, pos, pos + n) : pos + n;
      if (absent < pos + n) {
        if (absent > pos) {
          if (vmo.Read(buffer.data(), pos, absent - pos) != Status::kOk)
            return ReadFailure(provider, pos, s);
          if (WriteResult w = WriteOut(buffer.data(), absent - pos); w != WriteResult::kOk) {
            return WriteFailureCode(w);
          }
        }
        return ReadFailure(provider, absent, s);
      }
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
          return ReadFailure(provider, p, ps);
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

// Writes [offset, offset + len) of `vmo` to stdout: through a mapping, or Vmo::Read with
// --no-map or where mappings are unavailable. `provider` is null for a served VMO.
int CatVmo(const Vmo& vmo, const Provider* provider, uint64_t offset, uint64_t len, bool no_map) {
  if (!no_map && MappingSupport() == Status::kOk) {
    bool fall_back = false;
    const int code = CatMapped(vmo, provider, offset, len, &fall_back);
    if (!fall_back) {
      return code;
    }
  }
  return CatRead(vmo, provider, offset, len);
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
  return len == 0 ? kExitOk : CatVmo(vmo, nullptr, offset, len, options.no_map);
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
  AccessPattern access = AccessPattern::kNormal;
  if (int code = ParseReadPolicy(options.read_ahead, options.access, &read_ahead, &access);
      code != kExitOk) {
    return code;
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
  RemoteSourceOptions remote;
  remote.endpoint = options.endpoint;
  remote.region = options.region;
  remote.profile = options.profile;
  if (options.retries >= 0) remote.retries = static_cast<uint32_t>(options.retries);
  if (options.stall_timeout > 0)
    remote.stall_timeout_s = static_cast<uint32_t>(options.stall_timeout);
  int code = OpenSource(&loop, options.source, read_ahead, &source, remote);
  if (code != kExitOk) {
    return code;
  }
  source.provider->SetAccessPattern(access);
  uint64_t len = 0;
  code = ClampRange(options.source, source.provider->content_size(), offset, length, &len);
  if (code != kExitOk) {
    return code;
  }
  return len == 0
             ? kExitOk
             : CatVmo(source.provider->vmo(), source.provider.get(), offset, len, options.no_map);
}

}  // namespace upager::cli

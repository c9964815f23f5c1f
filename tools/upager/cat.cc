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

// A failed read of `provider`'s VMO, with the provider's explanation where it has one.
int ReadFailure(const Provider& provider, uint64_t offset, Status status) {
  std::string message =
      "read failed at offset " + std::to_string(offset) + ": " + StatusDescription(status);
  if (const std::string why = SourceError(provider); !why.empty()) message += ": " + why;
  return Error(ExitCodeForReadFailure(status), message);
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
size_t CopyMapped(const Provider& provider, char* dst, const std::byte* src, uint64_t offset,
                  size_t n, FaultInfo* fault) {
  AscendingCopy copy{dst, src, n};
  if (GuardedCall(&AscendingCopy::Run, &copy, fault)) return n;
  const uint64_t absent = std::max(offset, provider.FirstAbsent(offset, offset + n));
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
int CatMapped(const Provider& provider, uint64_t offset, uint64_t length, bool* fall_back) {
  const Vmo& vmo = provider.vmo();
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
int CatRead(const Provider& provider, uint64_t offset, uint64_t length) {
  const Vmo& vmo = provider.vmo();
  std::vector<char> buffer(kPiece);
  uint64_t pos = offset;
  const uint64_t end = offset + length;
  while (pos < end) {
    size_t n = static_cast<size_t>(std::min(kPiece, end - pos));
    Status s = vmo.Read(buffer.data(), pos, n);
    if (s != Status::kOk) {
      const uint64_t absent = std::max(pos, provider.FirstAbsent(pos, pos + n));
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
  const uint64_t content = source.provider->content_size();
  if (offset > content) {
    return Error(kExitUsage, "--offset " + std::to_string(offset) + " is beyond the end of '" +
                                 options.source + "' (" + std::to_string(content) + " bytes)");
  }
  uint64_t len = content - offset;
  if (length && *length < len) {
    len = *length;
  }
  if (len == 0) {
    return kExitOk;
  }
  bool use_map = !options.no_map && MappingSupport() == Status::kOk;
  if (use_map) {
    bool fall_back = false;
    code = CatMapped(*source.provider, offset, len, &fall_back);
    if (!fall_back) {
      return code;
    }
  }
  return CatRead(*source.provider, offset, len);
}

}  // namespace upager::cli

// Shared pieces of the `upager` command: exit codes, the one-line error convention, size
// arguments ("128K", "1G"), whole writes to a file descriptor and the global options
// (--trace, --stats) that every subcommand honours.
#ifndef UPAGER_TOOLS_UPAGER_COMMON_H_
#define UPAGER_TOOLS_UPAGER_COMMON_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "upager/status.h"

namespace upager::cli {

// The exit codes of every subcommand (also listed in `upager --help`):
//   0  success
//   1  failure while working: I/O error, read failure, server error mid-run (for cat
//      --connect: the serving process went away)
//   2  usage error or invalid argument: unknown option, bad number, bad URL syntax
//   3  the source cannot be opened: missing file, permission, HTTP 404, unreachable server
//      (cat --connect: no service at PATH, no such NAME, refused; serve: PATH in use)
//   4  corrupt or unsupported data: damaged blob, not a blob, unsupported blob version
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,
  kExitUsage = 2,
  kExitCannotOpen = 3,
  kExitCorrupt = 4,
};

// The text for the help footer.
const char* ExitCodeHelp();

// Prints "upager: <message>" as one line on stderr (newlines in `message` become spaces)
// and returns `code`, so that callers can write `return Error(kExitUsage, "...")`.
int Error(int code, std::string_view message);

// The exit code for a failure while reading data that opened fine: 4 for damaged data
// (kIoDataIntegrity), 1 otherwise.
int ExitCodeForReadFailure(Status status);

// Parses a byte count: digits with an optional suffix K, M, G, T (powers of 1024; "KiB",
// "k", "KB" are accepted too). False for anything else or on overflow.
bool ParseSize(std::string_view text, uint64_t* out);

// "12.3 MiB"-style rendering for human-readable lines.
std::string FormatBytes(uint64_t bytes);

// Global options, shared by every subcommand.
struct GlobalOptions {
  std::string trace_path;  // --trace FILE
  std::string stats;       // --stats json
};

// Brackets one command run: Begin starts tracing and latency measurement as asked, End
// prints the stats (to `stats_stream`) and writes the trace, also after a failure. End
// returns the final exit code: `code`, or 1 if a successful run could not write its trace.
class Session {
 public:
  Session(const GlobalOptions& options, bool want_latency);
  int End(int code, FILE* stats_stream);

 private:
  const GlobalOptions& options_;
};

}  // namespace upager::cli

#endif  // UPAGER_TOOLS_UPAGER_COMMON_H_

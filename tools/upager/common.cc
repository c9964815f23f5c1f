// Exit codes, error lines, size parsing, whole writes and the --trace/--stats session.
#include "common.h"

#include <errno.h>
#include <unistd.h>

#include <cinttypes>
#include <cstring>
#include <string>

#include "upager/stats.h"
#include "upager/trace.h"

namespace upager::cli {

const char* ExitCodeHelp() {
  return "Exit codes:\n"
         "  0  success\n"
         "  1  failure while working (I/O error, read failure, server error mid-run;\n"
         "     cat --connect: the serving process went away mid-read)\n"
         "  2  usage error or invalid argument (unknown option, bad number, bad URL)\n"
         "  3  the source cannot be opened (missing file, permission, HTTP 404, unreachable;\n"
         "     cat --connect: no service at PATH, no such NAME, refused; serve: PATH in use)\n"
         "  4  corrupt or unsupported data (damaged blob, unsupported blob version)\n"
         "Errors are reported as one line on stderr starting with \"upager: \".";
}

int Error(int code, std::string_view message) {
  std::string line = "upager: ";
  for (char c : message) {
    line.push_back(c == '\n' || c == '\r' ? ' ' : c);
  }
  while (!line.empty() && line.back() == ' ') {
    line.pop_back();
  }
  line.push_back('\n');
  std::fflush(stdout);
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
  return code;
}

int ExitCodeForReadFailure(Status status) {
  return status == Status::kIoDataIntegrity ? kExitCorrupt : kExitFailure;
}

bool ParseSize(std::string_view text, uint64_t* out) {
  size_t i = 0;
  uint64_t value = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (value > (UINT64_MAX - digit) / 10) {
      return false;
    }
    value = value * 10 + digit;
    ++i;
  }
  if (i == 0) {
    return false;
  }
  std::string suffix(text.substr(i));
  for (char& c : suffix) {
    c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  }
  unsigned shift = 0;
  if (suffix.empty() || suffix == "B") {
    shift = 0;
  } else if (suffix == "K" || suffix == "KB" || suffix == "KIB") {
    shift = 10;
  } else if (suffix == "M" || suffix == "MB" || suffix == "MIB") {
    shift = 20;
  } else if (suffix == "G" || suffix == "GB" || suffix == "GIB") {
    shift = 30;
  } else if (suffix == "T" || suffix == "TB" || suffix == "TIB") {
    shift = 40;
  } else {
    return false;
  }
  if (shift != 0 && value > (UINT64_MAX >> shift)) {
    return false;
  }
  *out = value << shift;
  return true;
}

std::string FormatBytes(uint64_t bytes) {
  char buf[64];
  if (bytes < 1024) {
    std::snprintf(buf, sizeof(buf), "%" PRIu64 " B", bytes);
  } else if (bytes < (uint64_t{1} << 20)) {
    std::snprintf(buf, sizeof(buf), "%.1f KiB", static_cast<double>(bytes) / 1024.0);
  } else if (bytes < (uint64_t{1} << 30)) {
    std::snprintf(buf, sizeof(buf), "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  } else {
    std::snprintf(buf, sizeof(buf), "%.2f GiB",
                  static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0));
  }
  return buf;
}

Session::Session(const GlobalOptions& options, bool want_latency) : options_(options) {
  if (want_latency || !options_.stats.empty()) {
    EnableRequestLatency(true);
  }
  if (!options_.trace_path.empty()) {
    StartTracing();
  }
}

int Session::End(int code, FILE* stats_stream) {
  std::fflush(stdout);
  if (!options_.stats.empty()) {
    std::string json = StatsToJson(GetCounters(), GetRequestLatency());
    std::fprintf(stats_stream, "%s\n", json.c_str());
    std::fflush(stats_stream);
  }
  if (!options_.trace_path.empty()) {
    StopTracing();
    TraceSummary summary = GetTraceSummary();
    Status s = WriteTrace(options_.trace_path);
    if (s != Status::kOk) {
      Error(kExitFailure,
            "cannot write trace '" + options_.trace_path + "': " + StatusDescription(s));
      return code == kExitOk ? kExitFailure : code;
    }
    std::fprintf(stderr, "trace: %" PRIu64 " events written to %s (open in ui.perfetto.dev)",
                 summary.events, options_.trace_path.c_str());
    if (summary.dropped != 0) {
      std::fprintf(stderr, ", %" PRIu64 " dropped", summary.dropped);
    }
    std::fputc('\n', stderr);
  }
  return code;
}

}  // namespace upager::cli

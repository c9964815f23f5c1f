// `upager demo --processes N`: one pager process (this one) serves the demo's blob through a
// VmoService; N reader processes (this binary again, as the hidden `demo-reader` command)
// open it by name and each read and verify all of it, starting at different places,
// through a mapping of the remote VMO (or Vmo::Read where mappings are unavailable). The
// report shows that the blob was fetched as if one process had read it: the READ requests
// this pager received, and every chunk decompressed once (BlobProvider's counters).
#include "demo_processes.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "common.h"
#include "dataset.h"
#include "fault_guard.h"
#include "report.h"
#include "upager/mapping.h"
#include "upager/pager_loop.h"
#include "upager/providers/blob_provider.h"
#include "upager/stats.h"
#include "upager/vmo_service.h"

extern char** environ;

namespace upager::cli {
namespace {

constexpr uint64_t kPiece = 64 * 1024;  // bytes read at a time (one remote request)
constexpr const char* kBlobName = "blob";

struct Reader {
  pid_t pid = -1;
  int out = -1;  // its stdout (one "key=value ..." line)
  uint64_t verified_pages = 0;
  uint64_t errors = 0;
  double seconds = 0;
  bool finished = false;
  bool mapped = false;  // it read through a mapping (else Vmo::Read)
};

// Starts `upager demo-reader` number `index` of `count`, its stdout a pipe to us.
Status StartReader(const std::string& socket, int index, int count, Reader* r) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Status::kNoResources;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  std::vector<std::string> args = {
      "upager",  "demo-reader",         "--socket", socket,
      "--index", std::to_string(index), "--count",  std::to_string(count)};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int err = ::posix_spawn(&r->pid, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (err != 0) {
    ::close(fds[0]);
    return Status::kNoResources;
  }
  r->out = fds[0];
  return Status::kOk;
}

// Waits for `r` and parses its line.
void FinishReader(Reader* r) {
  std::string line;
  char buf[256];
  ssize_t n;
  while ((n = ::read(r->out, buf, sizeof buf)) > 0) line.append(buf, static_cast<size_t>(n));
  ::close(r->out);
  int status = 0;
  ::waitpid(r->pid, &status, 0);
  unsigned long long verified = 0, errors = 0;
  int mapped = 0;
  r->finished = std::sscanf(line.c_str(), "verified_pages=%llu errors=%llu seconds=%lf mapped=%d",
                            &verified, &errors, &r->seconds, &mapped) == 4 &&
                WIFEXITED(status) && WEXITSTATUS(status) == 0;
  r->mapped = mapped != 0;
  r->verified_pages = verified;
  r->errors = errors;
}

}  // namespace

int RunDemoReader(const DemoReaderOptions& options) {
  Vmo vmo;
  uint64_t size = 0;
  const Status s = OpenServedVmo(options.socket, kBlobName, &vmo, &size,
                                 DeadlineAfter(std::chrono::seconds(30)));
  if (s != Status::kOk) {
    return Error(kExitCannotOpen, "demo-reader: cannot open '" + std::string(kBlobName) + "' at '" +
                                      options.socket + "': " + StatusDescription(s));
  }
  // Mapped where a remote VMO can be (its faults are served in the pager's process), else
  // through Vmo::Read.
  Mapping map;
  std::string no_map;
  Status map_status = MappingSupport(&no_map);
  if (map_status == Status::kOk) {
    map_status = Mapping::Create(vmo, 0, (size + kPageSize - 1) & ~(kPageSize - 1), kMapRead, &map);
    no_map = std::string("Mapping::Create: ") + StatusDescription(map_status);
  }
  const bool mapped = map_status == Status::kOk;
  if (!mapped && options.index == 0) {
    std::fprintf(stderr, "demo: note: the readers cannot map the blob (%s); they use Vmo::Read\n",
                 no_map.c_str());
  }
  const uint64_t pieces = (size + kPiece - 1) / kPiece;
  const uint64_t count = static_cast<uint64_t>(std::max(1, options.count));
  const uint64_t first = pieces * static_cast<uint64_t>(std::max(0, options.index)) / count;
  std::vector<uint64_t> buffer(kPiece / 8);
  uint64_t verified = 0, errors = 0;
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < pieces; ++i) {
    const uint64_t offset = ((first + i) % pieces) * kPiece;
    const uint64_t len = std::min(kPiece, size - offset);
    FaultInfo fault;
    const bool read = mapped
                          ? CopyUntilFailure(buffer.data(), map.data() + offset, len, &fault) == len
                          : vmo.Read(buffer.data(), offset, len) == Status::kOk;
    if (!read) {
      errors += (len + kPageSize - 1) / kPageSize;
      continue;
    }
    for (uint64_t page = 0; page * kPageSize < len; ++page) {
      bool ok = true;
      const uint64_t words = std::min(kPageSize, len - page * kPageSize) / 8;
      for (uint64_t w = 0; w < words; ++w) {
        const uint64_t index = (offset + page * kPageSize) / 8 + w;
        ok = ok && buffer[page * kPageSize / 8 + w] == dataset::Word(index);
      }
      ok ? ++verified : ++errors;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("verified_pages=%" PRIu64 " errors=%" PRIu64 " seconds=%.4f mapped=%d\n", verified,
              errors, seconds, mapped ? 1 : 0);
  return errors == 0 ? kExitOk : kExitFailure;
}

int RunSharedReaders(const SharedReadersInput& in) {
  PagerLoop loop(2);
  if (Status ls = loop.Start(); ls != Status::kOk) {
    return Error(kExitFailure, std::string("cannot start the pager: ") + StatusDescription(ls));
  }
  std::unique_ptr<BlobProvider> blob;
  std::string why;
  if (Status s = BlobProvider::Create(&loop, in.blob_path, {}, &blob, &why); s != Status::kOk) {
    return Error(s == Status::kIoDataIntegrity ? kExitCorrupt : kExitFailure,
                 "cannot open '" + in.blob_path + "': " + StatusDescription(s) +
                     (why.empty() ? "" : ": " + why));
  }
  MappingSupport();  // the readers' faults are served here, by the fault layer
  std::unique_ptr<VmoService> service;
  if (Status s = VmoService::Create(in.socket_path, {}, &service); s != Status::kOk) {
    return Error(kExitFailure, "cannot serve on '" + in.socket_path + "': " + StatusDescription(s));
  }
  if (Status s =
          service->Export(kBlobName, blob->vmo(), kServedReadOnlyRights, blob->content_size());
      s != Status::kOk) {
    return Error(kExitFailure, std::string("cannot export the blob: ") + StatusDescription(s));
  }
  std::fprintf(stderr, "demo: %d reader processes read all of the blob through %s\n", in.processes,
               in.socket_path.c_str());
  ResetCounters();
  std::vector<Reader> readers(static_cast<size_t>(in.processes));
  const auto start = std::chrono::steady_clock::now();
  size_t started = 0;
  for (Reader& r : readers) {
    if (StartReader(in.socket_path, static_cast<int>(started), in.processes, &r) != Status::kOk) {
      break;
    }
    ++started;
  }
  for (size_t i = 0; i < started; ++i) FinishReader(&readers[i]);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const Counters counters = GetCounters();
  const ProviderStats stats = blob->stats();
  const uint64_t chunks = blob->chunk_count();
  uint64_t verified = 0, errors = 0, finished = 0, mapped = 0;
  for (const Reader& r : readers) {
    mapped += r.mapped ? 1 : 0;
    verified += r.verified_pages;
    errors += r.errors;
    finished += r.finished ? 1 : 0;
  }

  char title[200];
  std::snprintf(title, sizeof title,
                "upager demo (%s synthetic model weights, %d reader processes, one pager "
                "process)",
                FormatBytes(in.size).c_str(), in.processes);
  Report report(title);
  report.Add("data_bytes", in.size);
  report.Add("chunks", chunks);
  report.Add("reader_processes", static_cast<uint64_t>(in.processes));
  report.Add("readers_finished", finished);
  report.Add("readers_mapped", mapped);
  report.Add("pages_total", (in.size + kPageSize - 1) / kPageSize);
  report.Add("read_requests", counters.read_requests);
  report.Add("pages_requested", counters.pages_requested);
  report.Add("requests_deduplicated", counters.requests_deduplicated);
  report.Add("provider_requests", stats.requests);
  report.Add("chunks_decompressed", stats.cache_misses);
  report.Add("chunk_cache_hits", stats.cache_hits);
  report.Add("each_chunk_decompressed_once", uint64_t{stats.cache_misses == chunks ? 1u : 0u});
  report.Add("seconds", seconds, 4);
  report.Add("verified_pages", verified);
  report.Add("errors", errors);
  report.Print(stdout);
  if (finished != static_cast<uint64_t>(in.processes) || errors != 0) {
    return Error(kExitFailure, std::to_string(static_cast<uint64_t>(in.processes) - finished) +
                                   " reader processes failed, " + std::to_string(errors) +
                                   " pages failed verification or could not be read");
  }
  return kExitOk;
}

}  // namespace upager::cli

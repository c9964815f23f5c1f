// `upager demo`: the end-to-end tour. Generates a verifiable synthetic data set, packs it
// into a blob, maps the blob through a BlobProvider and reads it with several verifying
// threads, then runs the same workload on a plain mmap of the uncompressed file, and prints
// a "key: value" report comparing the two. With --processes N, the readers are N processes
// served by this one instead (demo_processes.cc).
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "commands.h"
#include "common.h"
#include "dataset.h"
#include "demo_processes.h"
#include "providers/blob_layout.h"
#include "report.h"
#include "upager/mapping.h"
#include "upager/pager_loop.h"
#include "upager/providers/blob_format.h"
#include "upager/providers/blob_provider.h"
#include "upager/stats.h"
#include "workload.h"

namespace upager::cli {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

// Paths removed by an interrupt (Ctrl-C) while the demo runs; plain arrays, since the
// handler may only make async-signal-safe calls (unlink, rmdir).
char g_cleanup_files[2][4096];
char g_cleanup_dir[4096];

void OnInterrupt(int signo) {
  for (const char* f : g_cleanup_files) {
    if (f[0] != '\0') {
      ::unlink(f);
    }
  }
  if (g_cleanup_dir[0] != '\0') {
    ::rmdir(g_cleanup_dir);
  }
  signal(signo, SIG_DFL);
  raise(signo);
}

void CopyPath(char* dst, const std::string& src) { std::snprintf(dst, 4096, "%s", src.c_str()); }

// The demo's scratch directory, removed with its files unless kept (also on SIGINT and
// SIGTERM).
class ScratchDir {
 public:
  ~ScratchDir() {
    if (path_.empty()) {
      return;
    }
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (keep_) {
      std::fprintf(stderr, "demo: kept %s\n", path_.c_str());
      return;
    }
    for (const std::string& f : {data_path(), blob_path()}) {
      ::unlink(f.c_str());
    }
    ::rmdir(path_.c_str());
  }
  // mkdtemp under `parent`; 0 or an errno value.
  int Create(const std::string& parent, bool keep) {
    keep_ = keep;
    std::string templ = parent + "/upager-demo-XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) {
      return errno;
    }
    path_ = templ;
    if (!keep_) {
      CopyPath(g_cleanup_files[0], data_path());
      CopyPath(g_cleanup_files[1], blob_path());
      CopyPath(g_cleanup_dir, path_);
      signal(SIGINT, OnInterrupt);
      signal(SIGTERM, OnInterrupt);
    }
    return 0;
  }
  const std::string& path() const { return path_; }
  std::string data_path() const { return path_ + "/data.bin"; }
  std::string blob_path() const { return path_ + "/data.blob"; }

 private:
  std::string path_;
  bool keep_ = false;
};

// Syncs `path` and drops it from the page cache, so that the next reads go to the disk.
void DropFromCache(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return;
  }
  ::fdatasync(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

double Rate(uint64_t bytes, double seconds) {
  return seconds > 0 ? static_cast<double>(bytes) / kMiB / seconds : 0.0;
}

// The workload on a plain mmap of the data file. 0 or an errno value.
int RunMmap(const std::string& path, const WorkloadPlan& plan, WorkloadResult* result) {
  DropFromCache(path);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return errno;
  }
  void* base = ::mmap(nullptr, plan.content_size, PROT_READ, MAP_SHARED, fd, 0);
  int err = base == MAP_FAILED ? errno : 0;
  ::close(fd);
  if (err != 0) {
    return err;
  }
  WorkloadTarget target;
  target.base = static_cast<const std::byte*>(base);
  *result = RunWorkload(plan, target, "mmap");
  ::munmap(base, plan.content_size);
  return 0;
}

// The decompression floor: every chunk of the blob read (from the page cache, where the
// upager run left it) and decoded, both checksums checked, on `threads` threads at once,
// with nothing supplied or mapped. Seconds, or a negative value if the blob cannot be read.
double DecodeSeconds(const std::string& path, size_t threads) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return -1;
  }
  blob::Header header;
  std::vector<blob::IndexEntry> index;
  if (blob::ReadIndex(fd, &header, &index) != Status::kOk) {
    ::close(fd);
    return -1;
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      std::vector<uint8_t> out(header.chunk_size);
      for (size_t c = next.fetch_add(1); c < index.size(); c = next.fetch_add(1)) {
        if (blob::ReadChunk(fd, index[c], out.data()) != Status::kOk) {
          failed.store(true);
        }
      }
    });
  }
  for (std::thread& w : workers) {
    w.join();
  }
  const double seconds = Seconds(start);
  ::close(fd);
  return failed.load() ? -1 : seconds;
}

}  // namespace

int RunDemo(const DemoCommandOptions& options) {
  uint64_t size = 0;
  if (!ParseSize(options.size, &size) || size == 0) {
    return Error(kExitUsage, "invalid --size '" + options.size + "' (a byte count like 256M)");
  }
  uint64_t chunk = 0;
  if (!ParseSize(options.chunk_size, &chunk) || chunk == 0 || chunk % kPageSize != 0 ||
      chunk > 64 * 1024 * 1024) {
    return Error(kExitUsage, "invalid --chunk-size '" + options.chunk_size +
                                 "': must be a multiple of 4K between 4K and 64M");
  }
  if (options.threads < 1) {
    return Error(kExitUsage, "invalid --threads " + std::to_string(options.threads));
  }
  const size_t threads = static_cast<size_t>(options.threads);

  // (1) Scratch directory and data set.
  std::string parent = options.dir;
  if (parent.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    parent = tmp != nullptr && tmp[0] != '\0' ? tmp : "/tmp";
  }
  ScratchDir dir;
  if (int err = dir.Create(parent, options.keep); err != 0) {
    return Error(err == ENOENT || err == EACCES || err == ENOTDIR ? kExitCannotOpen : kExitFailure,
                 "cannot create a directory in '" + parent + "': " + std::strerror(err));
  }
  std::fprintf(stderr, "demo: writing a %s synthetic data set to %s\n", FormatBytes(size).c_str(),
               dir.data_path().c_str());
  auto start = std::chrono::steady_clock::now();
  std::string what;
  if (int err = dataset::WriteFile(dir.data_path(), size, &what); err != 0) {
    return Error(kExitFailure,
                 "cannot " + what + " '" + dir.data_path() + "': " + std::strerror(err));
  }
  const double generate_seconds = Seconds(start);

  // (2) Pack it.
  PackOptions pack;
  pack.chunk_size = static_cast<uint32_t>(chunk);
  PackResult packed;
  std::string why;
  start = std::chrono::steady_clock::now();
  Status s = PackBlob(dir.data_path(), dir.blob_path(), pack, &packed, &why);
  if (s != Status::kOk) {
    return Error(kExitFailure, "cannot pack '" + dir.data_path() + "': " + StatusDescription(s) +
                                   (why.empty() ? "" : ": " + why));
  }
  const double pack_seconds = Seconds(start);
  const double ratio = packed.blob_size == 0 ? 0.0
                                             : static_cast<double>(packed.content_size) /
                                                   static_cast<double>(packed.blob_size);
  std::fprintf(stderr, "demo: packed into %s: %s, ratio %.2f, %" PRIu64 " chunks (%.1f s)\n",
               dir.blob_path().c_str(), FormatBytes(packed.blob_size).c_str(), ratio, packed.chunks,
               pack_seconds);
  DropFromCache(dir.blob_path());
  DropFromCache(dir.data_path());

  if (options.processes > 0) {
    // The same blob, served by this process to N reader processes.
    return RunSharedReaders({dir.blob_path(), dir.path() + "/blob.sock", size, options.processes});
  }

  // (3) Pager loop, blob provider, mapping.
  const WorkloadPlan plan = MakePlan(size, threads);
  WorkloadResult upager_run;
  Counters counters;
  LatencySummary latency;
  bool mapped = false;
  {
    PagerLoop loop(2);
    if (Status ls = loop.Start(); ls != Status::kOk) {
      return Error(kExitFailure, std::string("cannot start the pager: ") + StatusDescription(ls));
    }
    std::unique_ptr<BlobProvider> blob;
    why.clear();
    s = BlobProvider::Create(&loop, dir.blob_path(), {}, &blob, &why);
    if (s != Status::kOk) {
      return Error(s == Status::kIoDataIntegrity ? kExitCorrupt : kExitFailure,
                   "cannot open '" + dir.blob_path() + "': " + StatusDescription(s) +
                       (why.empty() ? "" : ": " + why));
    }
    if (blob->content_size() != size) {
      return Error(kExitFailure, "the blob holds " + std::to_string(blob->content_size()) +
                                     " bytes, expected " + std::to_string(size));
    }
    Mapping map;
    std::string no_map_reason;
    if (MappingSupport(&no_map_reason) == Status::kOk) {
      s = Mapping::Create(blob->vmo(), 0, blob->vmo_size(), kMapRead, &map);
      if (s == Status::kOk) {
        mapped = true;
      } else {
        no_map_reason = std::string("Mapping::Create: ") + StatusDescription(s);
      }
    }
    if (!mapped) {
      std::fprintf(stderr,
                   "demo: note: mappings are unavailable here (%s); readers use Vmo::Read of "
                   "each page instead\n",
                   no_map_reason.c_str());
    }
    // (4)/(5) The readers, with progress.
    WorkloadTarget target;
    target.vmo = &blob->vmo();
    if (mapped) {
      target.base = map.data();
    }
    std::fprintf(
        stderr, "demo: %zu reader threads (%zu sequential, %zu random) over %" PRIu64 " pages\n",
        threads, plan.sequential_threads, threads - plan.sequential_threads, plan.pages_total);
    ResetCounters();
    upager_run = RunWorkload(plan, target, "upager");
    counters = GetCounters();
    latency = GetRequestLatency();
  }

  // (6) The same on plain mmap.
  WorkloadResult mmap_run;
  if (int err = RunMmap(dir.data_path(), plan, &mmap_run); err != 0) {
    return Error(kExitFailure, "cannot mmap '" + dir.data_path() + "': " + std::strerror(err));
  }

  // (7) What no pager can go below here: the decompression alone, on every core.
  const size_t decode_threads = std::max(1u, std::thread::hardware_concurrency());
  const double decode_seconds = DecodeSeconds(dir.blob_path(), decode_threads);

  // (8) The report.
  char title[200];
  std::snprintf(title, sizeof(title),
                "upager demo (%s synthetic model weights, %zu reader threads, %s chunks, %s)",
                FormatBytes(size).c_str(), threads, FormatBytes(chunk).c_str(),
                mapped ? "mapped" : "Vmo::Read");
  Report report(title);
  report.Add("data_bytes", size);
  report.Add("blob_bytes", packed.blob_size);
  report.Add("compression_ratio", ratio, 3);
  report.Add("chunks", packed.chunks);
  report.Add("generate_seconds", generate_seconds);
  report.Add("pack_seconds", pack_seconds);
  report.Add("reader_threads", uint64_t{threads});
  report.Add("mapped", uint64_t{mapped ? 1u : 0u});
  report.Add("pages_total", plan.pages_total);
  report.Add("pages_requested", counters.pages_requested);
  report.Add("read_requests", counters.read_requests);
  report.Add("requests_deduplicated", counters.requests_deduplicated);
  report.Add("requests_failed", counters.requests_failed);
  report.Add("bytes_supplied", counters.bytes_supplied);
  report.Add("faults", counters.faults);
  report.Add("upager_seconds", upager_run.seconds, 4);
  report.Add("upager_mib_per_s", Rate(size, upager_run.seconds), 1);
  report.Add("request_latency_p50_us", static_cast<double>(latency.p50_ns) / 1000.0, 1);
  report.Add("request_latency_p99_us", static_cast<double>(latency.p99_ns) / 1000.0, 1);
  report.Add("mmap_seconds", mmap_run.seconds, 4);
  report.Add("mmap_mib_per_s", Rate(size, mmap_run.seconds), 1);
  report.Add("ratio_upager_vs_mmap",
             mmap_run.seconds > 0 ? upager_run.seconds / mmap_run.seconds : 0.0, 2);
  // The floor of the ratio where the decompression cannot overlap the work a mapping costs
  // anyway (the mmap run's: pages in, page tables, the readers), i.e. when the mmap run
  // keeps the cores busy already, as it does on 2 vCPUs.
  if (decode_seconds >= 0) {
    report.Add("decode_threads", uint64_t{decode_threads});
    report.Add("decode_seconds", decode_seconds, 4);
    report.Add("floor_ratio_vs_mmap",
               mmap_run.seconds > 0 ? (decode_seconds + mmap_run.seconds) / mmap_run.seconds : 0.0,
               2);
  }
  report.Add("verified_pages", upager_run.verified_pages);
  report.Add("mmap_verified_pages", mmap_run.verified_pages);
  report.Add("errors", upager_run.errors() + mmap_run.errors());
  report.Print(stdout);

  if (upager_run.errors() + mmap_run.errors() != 0) {
    return Error(ExitCodeForReadFailure(Status::kIo),
                 std::to_string(upager_run.errors() + mmap_run.errors()) +
                     " pages failed verification or could not be read");
  }
  return kExitOk;
}

}  // namespace upager::cli

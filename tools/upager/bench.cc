// `upager bench`: each provider against the baseline that bounds it, in one run.
//
//  - FileProvider through a Mapping vs plain mmap of the same file, both cold (the file is
//    dropped from the page cache with posix_fadvise(DONTNEED) before every run): a
//    sequential scan of every page and a random scan of 1/8 of the pages, read-ahead off
//    and adaptive.
//  - BlobProvider (sequential scan of a Mapping) vs `zstd -d` of the same data compressed
//    as one zstd file: the decompression limit.
//  - HttpProvider (sequential scan of a Mapping, from nginx on 127.0.0.1) vs one `curl`
//    process fetching the same object in the same 1 MiB ranges over one connection.
// Each figure is the median of `repetitions` runs; ratios are upager time / baseline time.
// With --faults, the fault benchmark of fault_compare.h runs instead.
#include "bench.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common.h"
#include "common/nginx_server.h"
#include "fault_compare.h"
#include "upager/mapping.h"
#include "upager/pager_loop.h"
#include "upager/providers/blob_format.h"
#include "upager/providers/blob_provider.h"
#include "upager/providers/file_provider.h"
#include "upager/providers/http_provider.h"

namespace upager::cli {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Writes `mib` MiB of data: random bytes, or (compressible) structured values that zstd
// shrinks to about half, the way model weights or images do.
bool MakeFile(const std::string& path, uint64_t mib, bool compressible) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  std::vector<uint32_t> block(kMiB / 4);
  std::mt19937 rng(42);
  bool ok = true;
  for (uint64_t m = 0; m < mib && ok; ++m) {
    for (size_t i = 0; i < block.size(); ++i) {
      const uint32_t r = rng();
      block[i] = compressible ? ((r & 0xff) | (static_cast<uint32_t>(i % 97) << 8) |
                                 (static_cast<uint32_t>(m & 0xff) << 24))
                              : r;
    }
    ok = std::fwrite(block.data(), 1, kMiB, f) == kMiB;
  }
  ok = std::fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
  return std::fclose(f) == 0 && ok;
}

// Drops the file's pages from the page cache (it must be clean).
void DropCache(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  fdatasync(fd);
  posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  close(fd);
}

// Touches one word of each listed page; returns a checksum so nothing is optimised away.
uint64_t Touch(const std::byte* base, const std::vector<uint32_t>& pages) {
  uint64_t sum = 0;
  for (uint32_t p : pages) {
    sum += *reinterpret_cast<const volatile uint64_t*>(base + uint64_t{p} * kPageSize);
  }
  return sum;
}

std::vector<uint32_t> SequentialPages(uint64_t bytes) {
  std::vector<uint32_t> pages(bytes / kPageSize);
  for (size_t i = 0; i < pages.size(); ++i) pages[i] = static_cast<uint32_t>(i);
  return pages;
}

std::vector<uint32_t> RandomPages(uint64_t bytes, size_t count) {
  std::vector<uint32_t> pages = SequentialPages(bytes);
  std::shuffle(pages.begin(), pages.end(), std::mt19937(7));
  pages.resize(std::min(count, pages.size()));
  return pages;
}

// Time to touch `pages` through a plain mmap of the cold file.
double TimeMmap(const std::string& path, const std::vector<uint32_t>& pages, uint64_t* sum) {
  DropCache(path);
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  struct stat st {};
  fstat(fd, &st);
  const auto start = std::chrono::steady_clock::now();
  void* p = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    close(fd);
    return -1;
  }
  *sum += Touch(static_cast<const std::byte*>(p), pages);
  munmap(p, static_cast<size_t>(st.st_size));
  const double t = Seconds(start);
  close(fd);
  return t;
}

// Time to touch `pages` through a Mapping of a provider's VMO (provider made by `make`).
// `bytes_read`, if not null, gets what the provider read from its source.
double TimeProvider(const std::function<std::unique_ptr<Provider>(PagerLoop*)>& make,
                    const std::vector<uint32_t>& pages, uint64_t* sum, size_t loop_threads,
                    uint64_t* bytes_read = nullptr) {
  PagerLoop loop(loop_threads);
  if (loop.Start() != Status::kOk) return -1;
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<Provider> provider = make(&loop);
  if (provider == nullptr) return -1;
  Mapping map;
  if (Mapping::Create(provider->vmo(), 0, provider->vmo_size(), kMapRead, &map) != Status::kOk) {
    return -1;
  }
  *sum += Touch(map.data(), pages);
  map.Reset();
  const double t = Seconds(start);
  if (bytes_read != nullptr) *bytes_read = provider->stats().bytes_read;
  provider.reset();
  return t;
}

// Runs a command (argv), stdout to /dev/null; returns its time or -1 if it failed.
double TimeCommand(const std::vector<std::string>& argv) {
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    const int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    dup2(devnull, STDERR_FILENO);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  const double t = Seconds(start);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? t : -1;
}

struct Row {
  std::string name;
  std::string baseline;
  double upager_s = -1;
  double baseline_s = -1;
  uint64_t bytes = 0;
  uint64_t read = 0;  // bytes the provider read from its source (median run), 0: not known
};

void PrintTable(const BenchOptions& options, const std::vector<Row>& rows) {
  std::printf(
      "\nupager bench: median of %d, ratio = upager time / baseline time (lower is "
      "better)\n\n",
      options.repetitions);
  std::printf("%-44s %-22s %10s %10s %10s %8s %9s\n", "case", "baseline", "upager s", "base s",
              "upager MiB/s", "ratio", "read MiB");
  for (const Row& r : rows) {
    if (r.upager_s < 0 || r.baseline_s < 0) {
      std::printf("%-44s %-22s %10s %10s %10s %8s\n", r.name.c_str(), r.baseline.c_str(),
                  r.upager_s < 0 ? "failed" : "", r.baseline_s < 0 ? "failed" : "", "", "n/a");
      continue;
    }
    std::printf("%-44s %-22s %10.3f %10.3f %10.1f %7.2fx %9.1f\n", r.name.c_str(),
                r.baseline.c_str(), r.upager_s, r.baseline_s,
                static_cast<double>(r.bytes) / kMiB / r.upager_s, r.upager_s / r.baseline_s,
                static_cast<double>(r.read) / kMiB);
  }
  std::fflush(stdout);
}

}  // namespace

namespace {

int RunFaults(const BenchOptions& options) {
  FaultCompareOptions fo;
  if (!ParseSize(options.size, &fo.size)) {
    return Error(kExitUsage, "--size: '" + options.size + "' is not a size");
  }
  if (!ParseSize(options.scaling_size, &fo.scaling_size)) {
    return Error(kExitUsage, "--scaling-size: '" + options.scaling_size + "' is not a size");
  }
  fo.repetitions = options.repetitions;
  if (options.quick) {
    fo.size = std::min<uint64_t>(fo.size, 16 * kMiB);
    fo.scaling_size = std::min<uint64_t>(fo.scaling_size, 16 * kMiB);
    fo.repetitions = 1;
  }
  if (fo.size < kMiB) return Error(kExitUsage, "--size: at least 1M");
  if (fo.scaling_size / kPageSize < static_cast<uint64_t>(options.max_threads)) {
    return Error(kExitUsage, "--scaling-size: less than a page per faulting thread");
  }
  fo.max_threads = options.max_threads;
  if (!options.dir.empty()) fo.disk_dir = options.dir;
  fo.tmpfs_dir = options.tmpfs_dir;
  fo.json_path = options.json_path;
  fo.svg_path = options.svg_path;
  return RunFaultCompare(fo);
}

}  // namespace

int RunBench(const BenchOptions& in) {
  if (in.faults) return RunFaults(in);
  BenchOptions options = in;
  if (options.quick) {
    options.file_mib = std::min<uint64_t>(options.file_mib, 16);
    options.blob_mib = std::min<uint64_t>(options.blob_mib, 16);
    options.http_mib = std::min<uint64_t>(options.http_mib, 16);
    options.repetitions = 1;
  }
  options.repetitions = std::max(1, options.repetitions);
  std::string base = options.dir;
  if (base.empty()) base = "/var/tmp";
  std::string pattern = base + "/upager-bench-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    std::fprintf(stderr, "upager: cannot create a directory in '%s': %s\n", base.c_str(),
                 std::strerror(errno));
    return 1;
  }
  const std::string dir = pattern;
  struct Cleanup {
    std::string dir;
    ~Cleanup() { std::filesystem::remove_all(dir); }
  } cleanup{dir};
  std::string why;
  if (MappingSupport(&why) != Status::kOk) {
    std::fprintf(stderr, "upager: bench needs mappings (userfaultfd): %s\n", why.c_str());
    return 1;
  }
  uint64_t sum = 0;
  std::vector<Row> rows;
  const int reps = options.repetitions;

  // 1. FileProvider vs mmap, cold.
  const std::string file = dir + "/file.bin";
  std::fprintf(stderr, "bench: writing a %llu MiB file...\n",
               static_cast<unsigned long long>(options.file_mib));
  if (!MakeFile(file, options.file_mib, false)) {
    std::fprintf(stderr, "upager: cannot write '%s'\n", file.c_str());
    return 1;
  }
  const uint64_t file_bytes = options.file_mib * kMiB;
  const std::vector<uint32_t> seq = SequentialPages(file_bytes);
  const std::vector<uint32_t> rnd = RandomPages(file_bytes, seq.size() / 8);
  // Backward: what a memcpy out of a mapping does on CPUs where glibc copies from the end.
  const std::vector<uint32_t> bwd(seq.rbegin(), seq.rend());
  for (const auto& [scan_name, pages] :
       {std::pair<const char*, const std::vector<uint32_t>*>{"sequential", &seq},
        {"backward", &bwd},
        {"random 1/8 of pages", &rnd}}) {
    std::vector<double> base_times;
    for (int r = 0; r < reps; ++r) base_times.push_back(TimeMmap(file, *pages, &sum));
    for (ReadAheadMode mode : {ReadAheadMode::kOff, ReadAheadMode::kAdaptive}) {
      std::fprintf(stderr, "bench: file, %s, read-ahead %s...\n", scan_name,
                   ReadAheadModeName(mode));
      std::vector<double> times;
      std::vector<double> reads;
      for (int r = 0; r < reps; ++r) {
        DropCache(file);
        uint64_t read = 0;
        times.push_back(TimeProvider(
            [&](PagerLoop* loop) -> std::unique_ptr<Provider> {
              FileProviderOptions fo;
              fo.read_ahead.mode = mode;
              std::unique_ptr<FileProvider> p;
              if (FileProvider::Create(loop, file, fo, &p) != Status::kOk) return nullptr;
              return p;
            },
            *pages, &sum, 1, &read));
        reads.push_back(static_cast<double>(read));
      }
      rows.push_back({std::string("file ") + scan_name + ", read-ahead " + ReadAheadModeName(mode),
                      "mmap (cold)", Median(times), Median(base_times), pages->size() * kPageSize,
                      static_cast<uint64_t>(Median(reads))});
    }
  }
  std::filesystem::remove(file);

  // 2. BlobProvider vs zstd -d.
  {
    const std::string raw = dir + "/blob-data.bin";
    const std::string blob = dir + "/data.blob";
    const std::string zst = dir + "/data.zst";
    std::fprintf(stderr, "bench: packing a %llu MiB blob...\n",
                 static_cast<unsigned long long>(options.blob_mib));
    PackResult packed;
    if (!MakeFile(raw, options.blob_mib, true) ||
        PackBlob(raw, blob, PackOptions{}, &packed, &why) != Status::kOk ||
        TimeCommand({"zstd", "-q", "-f", "-3", raw, "-o", zst}) < 0) {
      std::fprintf(stderr, "upager: cannot prepare the blob case: %s\n", why.c_str());
      rows.push_back({"blob sequential scan", "zstd -d (whole file)", -1, -1, 0});
    } else {
      const std::vector<uint32_t> pages = SequentialPages(options.blob_mib * kMiB);
      std::vector<double> base_times;
      std::vector<double> times;
      for (int r = 0; r < reps; ++r) {
        base_times.push_back(TimeCommand({"zstd", "-q", "-d", "-c", zst}));
        times.push_back(TimeProvider(
            [&](PagerLoop* loop) -> std::unique_ptr<Provider> {
              std::unique_ptr<BlobProvider> p;
              if (BlobProvider::Create(loop, blob, {}, &p) != Status::kOk) return nullptr;
              return p;
            },
            pages, &sum, 2));
      }
      rows.push_back({"blob sequential scan (2 loop threads)", "zstd -d (whole file)",
                      Median(times), Median(base_times), options.blob_mib * kMiB});
    }
    std::filesystem::remove(raw);
  }

  // 3. HttpProvider vs curl on loopback.
  {
    tools::NginxServer nginx(dir);
    std::string nginx_why;
    if (!tools::NginxServer::Available(&nginx_why) || !nginx.Start(&nginx_why)) {
      std::fprintf(stderr, "bench: nginx not available (%s); skipping the HTTP case\n",
                   nginx_why.c_str());
      rows.push_back({"http sequential scan (skipped: no nginx)", "curl, same ranges", -1, -1, 0});
    } else if (!MakeFile(nginx.www() + "/object.bin", options.http_mib, false)) {
      rows.push_back({"http sequential scan", "curl, same ranges", -1, -1, 0});
    } else {
      const std::string url = nginx.Url("object.bin");
      const uint64_t bytes = options.http_mib * kMiB;
      HttpProviderOptions ho;
      // Same 1 MiB ranges as curl's: a fixed read-ahead window of 1 MiB from each fault.
      ho.read_ahead = {ReadAheadMode::kFixed, kMiB - kPageSize, kMiB};
      ho.max_request = kMiB;
      // curl: the same ranges, one process, one kept-alive connection.
      const std::string config = dir + "/curl.cfg";
      {
        std::ofstream cfg(config);
        for (uint64_t off = 0; off < bytes; off += kMiB) {
          if (off != 0) cfg << "next\n";
          cfg << "url = \"" << url << "\"\nrange = " << off << "-"
              << std::min(bytes, off + kMiB) - 1 << "\noutput = \"/dev/null\"\n";
        }
      }
      const std::vector<uint32_t> pages = SequentialPages(bytes);
      std::vector<double> base_times;
      std::vector<double> times;
      for (int r = 0; r < reps; ++r) {
        base_times.push_back(TimeCommand({"curl", "-s", "-f", "-K", config}));
        times.push_back(TimeProvider(
            [&](PagerLoop* loop) -> std::unique_ptr<Provider> {
              std::unique_ptr<HttpProvider> p;
              if (HttpProvider::Create(loop, url, ho, &p) != Status::kOk) return nullptr;
              return p;
            },
            pages, &sum, 1));
      }
      rows.push_back({"http sequential scan, 1 MiB ranges", "curl, same ranges", Median(times),
                      Median(base_times), bytes});
    }
  }

  PrintTable(options, rows);
  std::fprintf(stderr, "(checksum %llx)\n", static_cast<unsigned long long>(sum));
  for (const Row& r : rows) {
    if ((r.upager_s < 0 || r.baseline_s < 0) && r.name.find("skipped") == std::string::npos) {
      return 1;
    }
  }
  return 0;
}

}  // namespace upager::cli

// `upager bench --faults`: runs the workloads under every configuration, interleaved, and
// hands the medians to the report and the chart (fault_compare.h).
#include "fault_compare.h"

#include <linux/magic.h>
#include <sys/vfs.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "chart.h"
#include "fault_configs.h"
#include "fault_report.h"
#include "fault_results.h"
#include "upager/mapping.h"

namespace upager::cli {
namespace {

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

bool IsTmpfs(const std::string& dir) {
  struct statfs fs {};
  return statfs(dir.c_str(), &fs) == 0 && fs.f_type == TMPFS_MAGIC;
}

// A scratch directory under `parent`, removed with the object.
class ScratchDir {
 public:
  bool Create(const std::string& parent) {
    std::string pattern = parent + "/upager-faults-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) return false;
    path_ = pattern;
    return true;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Every run of one cell, to take medians of.
struct CellRuns {
  std::vector<double> pages_per_s, switches, cpu_us, read_ratio, teardown;
  std::string error;

  void Add(const FaultMeasurement& m, uint64_t file_bytes) {
    if (!m.ok) {
      if (error.empty()) error = m.error;
      return;
    }
    const auto pages = static_cast<double>(m.pass.pages);
    pages_per_s.push_back(m.pass.seconds > 0 ? pages / m.pass.seconds : 0);
    switches.push_back(m.pass.context_switches / pages);
    cpu_us.push_back(m.pass.cpu_seconds * 1e6 / pages);
    read_ratio.push_back(static_cast<double>(m.provider_bytes_read) /
                         static_cast<double>(file_bytes));
    teardown.push_back(m.teardown_seconds);
  }

  FaultCell Median(FaultConfig config, int repetitions) const {
    FaultCell c;
    c.ok = error.empty() && static_cast<int>(pages_per_s.size()) == repetitions;
    c.error = error;
    c.pages_per_s = cli::Median(pages_per_s);
    c.context_switches_per_page = cli::Median(switches);
    c.cpu_us_per_page = cli::Median(cpu_us);
    c.read_ratio = IsUpager(config) ? cli::Median(read_ratio) : -1;
    c.teardown_s = cli::Median(teardown);
    return c;
  }
};

std::vector<FaultWorkload> AllWorkloads() {
  std::vector<FaultWorkload> w;
  for (const bool disk : {false, true}) {
    for (const bool random : {true, false}) {
      for (const int threads : {1, 2}) w.push_back({disk, random, threads});
    }
  }
  return w;
}

// The curve's series: upager (loop, read-ahead off) with 1 and 2 fault threads, raw uffd.
struct ScalingRun {
  FaultConfig config;
  size_t fault_threads;
  const char* name;
  const char* key;
};
constexpr ScalingRun kScalingRuns[] = {
    {FaultConfig::kLoopOff, 1, "upager loop off, 1 fault thread", "upager_loop_off_1"},
    {FaultConfig::kLoopOff, 2, "upager loop off, 2 fault threads", "upager_loop_off_2"},
    {FaultConfig::kRaw, 1, "raw uffd (1 handler thread)", "raw_uffd"},
};

}  // namespace

int RunFaultCompare(const FaultCompareOptions& in) {
  FaultCompareOptions options = in;
  options.size &= ~(kBenchPage - 1);
  options.scaling_size = std::min(options.scaling_size, options.size) & ~(kBenchPage - 1);
  options.repetitions = std::max(1, options.repetitions);
  const uint64_t pages = options.size / kBenchPage;
  const uint64_t scaling_pages = options.scaling_size / kBenchPage;
  if (pages < 256 || scaling_pages < static_cast<uint64_t>(std::max(options.max_threads, 1))) {
    std::fprintf(stderr,
                 "upager: bench --faults: --size must be at least 1M and hold a page "
                 "per faulting thread of the scaling curve\n");
    return 2;
  }
  std::string why;
  if (MappingSupport(&why) != Status::kOk) {
    std::fprintf(stderr, "upager: bench needs mappings (userfaultfd): %s\n", why.c_str());
    return 1;
  }
  ScratchDir disk_dir, tmpfs_dir;
  for (auto [dir, parent] :
       {std::pair{&disk_dir, options.disk_dir}, std::pair{&tmpfs_dir, options.tmpfs_dir}}) {
    if (!dir->Create(parent)) {
      std::fprintf(stderr, "upager: cannot create a directory in '%s': %s\n", parent.c_str(),
                   std::strerror(errno));
      return 1;
    }
  }
  if (!IsTmpfs(options.tmpfs_dir)) {
    std::fprintf(stderr, "bench: warning: %s is not a tmpfs; the tmpfs rows measure it anyway\n",
                 options.tmpfs_dir.c_str());
  }
  if (IsTmpfs(options.disk_dir)) {
    std::fprintf(stderr, "bench: warning: %s is a tmpfs, so the \"cold disk\" rows are not cold\n",
                 options.disk_dir.c_str());
  }
  const std::string disk_file = disk_dir.path() + "/file.bin";
  const std::string tmpfs_file = tmpfs_dir.path() + "/file.bin";
  std::fprintf(stderr, "bench: writing two %llu MiB files (%s, %s)...\n",
               static_cast<unsigned long long>(options.size >> 20), disk_file.c_str(),
               tmpfs_file.c_str());
  for (const std::string& file : {disk_file, tmpfs_file}) {
    if (!WritePatternFile(file, options.size)) {
      std::fprintf(stderr, "upager: cannot write '%s': %s\n", file.c_str(), std::strerror(errno));
      return 1;
    }
  }

  FaultResults results;
  results.file_bytes = options.size;
  results.scaling_bytes = options.scaling_size;
  results.repetitions = options.repetitions;
  results.disk_dir = options.disk_dir;
  results.tmpfs_dir = options.tmpfs_dir;
  results.workloads = AllWorkloads();
  for (int t = 1; t <= options.max_threads; t *= 2) results.scaling_threads.push_back(t);

  // The main table: each repetition runs every workload under every configuration.
  std::vector<std::array<CellRuns, kFaultConfigs.size()>> runs(results.workloads.size());
  for (int rep = 0; rep < options.repetitions; ++rep) {
    for (size_t w = 0; w < results.workloads.size(); ++w) {
      const FaultWorkload& workload = results.workloads[w];
      std::fprintf(stderr, "bench: repetition %d/%d, %s...\n", rep + 1, options.repetitions,
                   workload.Name().c_str());
      const auto lists = SplitPages(pages, workload.threads, workload.random);
      for (size_t i = 0; i < kFaultConfigs.size(); ++i) {
        const FaultConfig config = kFaultConfigs[(i + rep + w) % kFaultConfigs.size()];
        const FaultMeasurement m =
            MeasureFaults(config, workload.disk ? disk_file : tmpfs_file, workload.disk, lists);
        runs[w][static_cast<size_t>(config)].Add(m, options.size);
      }
    }
  }
  for (auto& row : runs) {
    auto& cells = results.cells.emplace_back();
    for (const FaultConfig config : kFaultConfigs) {
      cells[static_cast<size_t>(config)] =
          row[static_cast<size_t>(config)].Median(config, options.repetitions);
    }
  }

  // The scaling curve, random faults on tmpfs (the first scaling_pages pages of the file).
  std::vector<std::vector<std::vector<double>>> curve(
      std::size(kScalingRuns), std::vector<std::vector<double>>(results.scaling_threads.size()));
  bool scaling_ok = true;
  for (int rep = 0; rep < options.repetitions; ++rep) {
    for (size_t t = 0; t < results.scaling_threads.size(); ++t) {
      const int threads = results.scaling_threads[t];
      std::fprintf(stderr, "bench: repetition %d/%d, scaling, %d faulting threads...\n", rep + 1,
                   options.repetitions, threads);
      const auto lists = SplitPages(scaling_pages, threads, /*random=*/true);
      for (size_t i = 0; i < std::size(kScalingRuns); ++i) {
        const ScalingRun& run = kScalingRuns[(i + rep + t) % std::size(kScalingRuns)];
        SetFaultThreads(run.fault_threads);
        const FaultMeasurement m = MeasureFaults(run.config, tmpfs_file, false, lists);
        SetFaultThreads(1);
        if (!m.ok) {
          std::fprintf(stderr, "bench: %s, %d threads failed: %s\n", run.name, threads,
                       m.error.c_str());
          scaling_ok = false;
          continue;
        }
        curve[static_cast<size_t>(&run - kScalingRuns)][t].push_back(
            static_cast<double>(m.pass.pages) / m.pass.seconds);
      }
    }
  }
  for (size_t s = 0; s < std::size(kScalingRuns); ++s) {
    ScalingSeries series{kScalingRuns[s].name, kScalingRuns[s].key, {}};
    for (const auto& points : curve[s]) series.pages_per_s.push_back(Median(points));
    results.scaling.push_back(std::move(series));
  }

  PrintFaultReport(results, stdout);
  int code = 0;
  for (size_t w = 0; w < results.workloads.size(); ++w) {
    for (const FaultConfig config : kFaultConfigs) {
      const FaultCell& cell = results.Cell(w, config);
      if (!cell.ok) {
        std::fprintf(stderr, "upager: %s, %s failed: %s\n", results.workloads[w].Name().c_str(),
                     FaultConfigName(config), cell.error.c_str());
        code = 1;
      }
    }
  }
  if (!scaling_ok) code = 1;
  if (!options.json_path.empty() && !WriteFaultJson(results, options.json_path)) {
    std::fprintf(stderr, "upager: cannot write '%s'\n", options.json_path.c_str());
    code = 1;
  }
  if (!options.svg_path.empty() && !WriteFaultChart(results, options.svg_path)) {
    std::fprintf(stderr, "upager: cannot write '%s'\n", options.svg_path.c_str());
    code = 1;
  }
  return code;
}

}  // namespace upager::cli

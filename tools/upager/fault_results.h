// What `upager bench --faults` measured: medians per workload and configuration, and the
// thread-scaling curve. Filled by fault_compare.cc; printed by fault_report.cc (Markdown,
// JSON) and drawn by chart.cc (SVG).
#ifndef UPAGER_TOOLS_UPAGER_FAULT_RESULTS_H_
#define UPAGER_TOOLS_UPAGER_FAULT_RESULTS_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "fault_configs.h"

namespace upager::cli {

struct FaultWorkload {
  bool disk = false;  // a cold file on disk; otherwise a file on tmpfs
  bool random = false;
  int threads = 1;  // faulting threads, each on its share of the pages
  // "tmpfs random, 1 thread"
  std::string Name() const {
    return std::string(disk ? "disk" : "tmpfs") + (random ? " random, " : " sequential, ") +
           std::to_string(threads) + (threads == 1 ? " thread" : " threads");
  }
  // "tmpfs_random_1"
  std::string Key() const {
    return std::string(disk ? "disk" : "tmpfs") + (random ? "_random_" : "_sequential_") +
           std::to_string(threads);
  }
};

// One workload under one configuration: medians of the repetitions.
struct FaultCell {
  bool ok = false;  // every repetition ran and read the right data
  std::string error;
  double pages_per_s = 0;
  double context_switches_per_page = 0;  // the whole process's, per page touched
  double cpu_us_per_page = 0;            // the whole process's, per page touched
  double read_ratio = -1;                // upager: provider bytes_read / file bytes; else -1
  double teardown_s = 0;
};

struct ScalingSeries {
  std::string name;                 // "upager loop off, 1 fault thread"
  std::string key;                  // "upager_loop_off_1_fault_thread"
  std::vector<double> pages_per_s;  // one per FaultResults::scaling_threads; 0 if it failed
};

struct FaultResults {
  uint64_t file_bytes = 0;
  uint64_t scaling_bytes = 0;
  int repetitions = 0;
  std::string disk_dir;
  std::string tmpfs_dir;
  std::vector<FaultWorkload> workloads;
  std::vector<std::array<FaultCell, kFaultConfigs.size()>> cells;  // [workload][config]
  std::vector<int> scaling_threads;                                // faulting threads of the curve
  std::vector<ScalingSeries> scaling;

  const FaultCell& Cell(size_t workload, FaultConfig config) const {
    return cells[workload][static_cast<size_t>(config)];
  }
};

}  // namespace upager::cli

#endif  // UPAGER_TOOLS_UPAGER_FAULT_RESULTS_H_

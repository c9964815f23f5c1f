// `upager bench --faults`: the side-by-side fault benchmark of issue 15.
//
// One file (a pattern, fault_pass.h) on tmpfs and one on a disk, each page touched once,
// in pages/s, for every workload (sequential and random; 1 and 2 faulting threads; tmpfs
// and cold disk) under every configuration (fault_configs.h: kernel mmap, a raw
// userfaultfd handler, upager's FileProvider on a loop thread and inline, read-ahead off
// and adaptive). Also, per configuration, context switches and CPU per page for the whole
// process, the provider's bytes read against the file's size, and the teardown time; and
// the thread-scaling curve: random faults on tmpfs from 1 to 64 faulting threads, upager
// (loop, read-ahead off) with 1 and with 2 fault threads, and the raw handler.
//
// Every figure is the median of `repetitions` runs; the runs of the configurations are
// interleaved (each repetition runs every workload under every configuration, in an order
// rotated per repetition) so that noise from elsewhere hits them all alike.
#ifndef UPAGER_TOOLS_UPAGER_FAULT_COMPARE_H_
#define UPAGER_TOOLS_UPAGER_FAULT_COMPARE_H_

#include <cstdint>
#include <string>

namespace upager::cli {

struct FaultCompareOptions {
  uint64_t size = 128ull << 20;         // bytes of the file (a page multiple)
  uint64_t scaling_size = 32ull << 20;  // bytes of the scaling file (at most `size`)
  int repetitions = 3;
  int max_threads = 64;                // the scaling curve goes 1, 2, 4 ... up to this
  std::string disk_dir = "/var/tmp";   // parent of the disk file's scratch directory
  std::string tmpfs_dir = "/dev/shm";  // parent of the tmpfs file's scratch directory
  std::string json_path;               // if set, the results as JSON
  std::string svg_path;                // if set, the chart
};

// Runs the suite: progress on stderr, the Markdown tables on stdout. Returns 0, 1 if a
// measurement failed or a file could not be written, 2 for bad options.
int RunFaultCompare(const FaultCompareOptions& options);

}  // namespace upager::cli

#endif  // UPAGER_TOOLS_UPAGER_FAULT_COMPARE_H_

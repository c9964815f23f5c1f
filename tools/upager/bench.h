// `upager bench`: the provider benchmarks, printed as one table of ratios.
#ifndef UPAGER_TOOLS_UPAGER_BENCH_H_
#define UPAGER_TOOLS_UPAGER_BENCH_H_

#include <cstdint>
#include <string>

namespace upager::cli {

struct BenchOptions {
  uint64_t file_mib = 1024;  // size of the file scanned cold
  uint64_t blob_mib = 256;   // size of the blob decompressed
  uint64_t http_mib = 256;   // size of the object fetched over loopback
  int repetitions = 3;       // each measurement's median of this many runs
  std::string dir;           // scratch directory (default: $TMPDIR or /var/tmp)
  bool quick = false;        // small sizes, one repetition (for tests)

  // --faults: the side-by-side fault benchmark instead (fault_compare.h).
  bool faults = false;
  std::string size = "128M";           // the file (K/M/G suffixes)
  std::string scaling_size = "32M";    // the thread-scaling runs' share of it
  std::string tmpfs_dir = "/dev/shm";  // where the tmpfs file goes (`dir` holds the disk one)
  int max_threads = 64;                // the scaling curve's last point
  std::string json_path;               // --json FILE
  std::string svg_path;                // --svg FILE
};

// Runs the suite (or, with `faults`, RunFaultCompare), printing progress to stderr and the table to
// stdout. Returns the exit code (0, or 1 if a measurement failed).
int RunBench(const BenchOptions& options);

}  // namespace upager::cli

#endif  // UPAGER_TOOLS_UPAGER_BENCH_H_

// The configurations `upager bench --faults` compares, each mapping the same file and
// measured by one fault pass (fault_pass.h):
//
//   mmap                     the kernel: mmap(MAP_SHARED, PROT_READ) of the file
//   raw uffd                 RawFaultHandler (raw_handler.h): one thread, pread + UFFDIO_COPY
//   upager loop off          FileProvider (read-ahead off) + Mapping, PagerLoop loop(1)
//   upager loop adaptive     the same with adaptive read-ahead
//   upager inline off        FileProvider (read-ahead off), PagerLoop loop(1, true): the
//                            loop's packets are also served on the fault thread
//   upager inline adaptive   the same with adaptive read-ahead
//
// Setting up (opening, mapping, creating the provider) is not timed; the pass is, and so is
// the teardown of what served it: munmap + close for mmap and the raw handler (with its
// thread), Mapping::Reset + destroying the FileProvider for upager.
#ifndef UPAGER_TOOLS_UPAGER_FAULT_CONFIGS_H_
#define UPAGER_TOOLS_UPAGER_FAULT_CONFIGS_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "fault_pass.h"

namespace upager::cli {

enum class FaultConfig { kMmap, kRaw, kLoopOff, kLoopAdaptive, kInlineOff, kInlineAdaptive };

inline constexpr std::array<FaultConfig, 6> kFaultConfigs = {
    FaultConfig::kMmap,         FaultConfig::kRaw,       FaultConfig::kLoopOff,
    FaultConfig::kLoopAdaptive, FaultConfig::kInlineOff, FaultConfig::kInlineAdaptive};

// "upager loop off", ...: for tables and charts.
const char* FaultConfigName(FaultConfig config);
// "upager_loop_off", ...: for JSON.
const char* FaultConfigKey(FaultConfig config);
bool IsUpager(FaultConfig config);

struct FaultMeasurement {
  bool ok = false;
  std::string error;  // why, when !ok
  PassResult pass;
  double teardown_seconds = 0;
  uint64_t provider_bytes_read = 0;  // upager: ProviderStats::bytes_read
};

// Maps the file at `path` with `config`, runs one pass with `lists` and tears down. With
// `cold`, the file is dropped from the page cache first.
FaultMeasurement MeasureFaults(FaultConfig config, const std::string& path, bool cold,
                               const std::vector<std::vector<uint32_t>>& lists);

}  // namespace upager::cli

#endif  // UPAGER_TOOLS_UPAGER_FAULT_CONFIGS_H_

// Each configuration of `upager bench --faults`, set up, measured and torn down
// (fault_configs.h).
#include "fault_configs.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>

#include "raw_handler.h"
#include "upager/mapping.h"
#include "upager/pager_loop.h"
#include "upager/providers/file_provider.h"

namespace upager::cli {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void CheckPass(FaultMeasurement* m) {
  m->ok = m->pass.ok;
  if (!m->ok) {
    m->error = "page " + std::to_string(m->pass.first_bad_page) + " read wrong data";
  }
}

FaultMeasurement MeasureMmap(const std::string& path,
                             const std::vector<std::vector<uint32_t>>& lists) {
  FaultMeasurement m;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) {
    m.error = path + ": " + std::strerror(errno);
    if (fd >= 0) close(fd);
    return m;
  }
  const auto len = static_cast<size_t>(st.st_size);
  void* p = mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    m.error = std::string("mmap: ") + std::strerror(errno);
    close(fd);
    return m;
  }
  m.pass = RunFaultPass(static_cast<const std::byte*>(p), lists);
  const Clock::time_point start = Clock::now();
  munmap(p, len);
  close(fd);
  m.teardown_seconds = Since(start);
  CheckPass(&m);
  return m;
}

FaultMeasurement MeasureRaw(const std::string& path,
                            const std::vector<std::vector<uint32_t>>& lists) {
  FaultMeasurement m;
  std::unique_ptr<RawFaultHandler> raw;
  if (!RawFaultHandler::Create(path, &raw, &m.error)) return m;
  m.pass = RunFaultPass(raw->data(), lists);
  const bool failed = raw->failed();
  const Clock::time_point start = Clock::now();
  raw->Close();
  m.teardown_seconds = Since(start);
  CheckPass(&m);
  if (m.ok && failed) {
    m.ok = false;
    m.error = "the raw handler's pread or UFFDIO_COPY failed";
  }
  return m;
}

FaultMeasurement MeasureUpager(FaultConfig config, const std::string& path,
                               const std::vector<std::vector<uint32_t>>& lists) {
  FaultMeasurement m;
  const bool inline_faults =
      config == FaultConfig::kInlineOff || config == FaultConfig::kInlineAdaptive;
  PagerLoop loop(1, inline_faults);
  if (loop.Start() != Status::kOk) {
    m.error = "PagerLoop::Start failed";
    return m;
  }
  FileProviderOptions options;
  options.read_ahead.mode = config == FaultConfig::kLoopOff || config == FaultConfig::kInlineOff
                                ? ReadAheadMode::kOff
                                : ReadAheadMode::kAdaptive;
  std::unique_ptr<FileProvider> provider;
  if (const Status s = FileProvider::Create(&loop, path, options, &provider, &m.error);
      s != Status::kOk) {
    if (m.error.empty()) m.error = std::string("FileProvider::Create: ") + StatusString(s);
    return m;
  }
  Mapping map;
  if (const Status s = Mapping::Create(provider->vmo(), 0, provider->vmo_size(), kMapRead, &map);
      s != Status::kOk) {
    m.error = std::string("Mapping::Create: ") + StatusString(s);
    return m;
  }
  m.pass = RunFaultPass(map.data(), lists);
  m.provider_bytes_read = provider->stats().bytes_read;
  const Clock::time_point start = Clock::now();
  map.Reset();
  provider.reset();
  m.teardown_seconds = Since(start);
  // The VMO's pages are freed a moment later on the storage reaper's thread: let that
  // finish here, untimed, rather than inside the next configuration's run.
  WaitForFreedVmoMemory();
  loop.Stop();
  CheckPass(&m);
  return m;
}

}  // namespace

const char* FaultConfigName(FaultConfig config) {
  switch (config) {
    case FaultConfig::kMmap: return "mmap";
    case FaultConfig::kRaw: return "raw uffd";
    case FaultConfig::kLoopOff: return "upager loop off";
    case FaultConfig::kLoopAdaptive: return "upager loop adaptive";
    case FaultConfig::kInlineOff: return "upager inline off";
    case FaultConfig::kInlineAdaptive: return "upager inline adaptive";
  }
  return "?";
}

const char* FaultConfigKey(FaultConfig config) {
  switch (config) {
    case FaultConfig::kMmap: return "mmap";
    case FaultConfig::kRaw: return "raw_uffd";
    case FaultConfig::kLoopOff: return "upager_loop_off";
    case FaultConfig::kLoopAdaptive: return "upager_loop_adaptive";
    case FaultConfig::kInlineOff: return "upager_inline_off";
    case FaultConfig::kInlineAdaptive: return "upager_inline_adaptive";
  }
  return "?";
}

bool IsUpager(FaultConfig config) {
  return config != FaultConfig::kMmap && config != FaultConfig::kRaw;
}

FaultMeasurement MeasureFaults(FaultConfig config, const std::string& path, bool cold,
                               const std::vector<std::vector<uint32_t>>& lists) {
  if (cold) DropFileCache(path);
  switch (config) {
    case FaultConfig::kMmap: return MeasureMmap(path, lists);
    case FaultConfig::kRaw: return MeasureRaw(path, lists);
    default: return MeasureUpager(config, path, lists);
  }
}

}  // namespace upager::cli

// `upager demo --processes N` (demo_processes.cc): the blob packed by `upager demo`, served
// by this process and read by N others.
#ifndef UPAGER_TOOLS_UPAGER_DEMO_PROCESSES_H_
#define UPAGER_TOOLS_UPAGER_DEMO_PROCESSES_H_

#include <cstdint>
#include <string>

namespace upager::cli {

struct SharedReadersInput {
  std::string blob_path;    // the packed data set (dataset.h)
  std::string socket_path;  // where to serve it (in the demo's scratch directory)
  uint64_t size = 0;        // bytes of content
  int processes = 1;
};

// Serves the blob, runs the readers and prints the report; an exit code.
int RunSharedReaders(const SharedReadersInput& in);

}  // namespace upager::cli

#endif  // UPAGER_TOOLS_UPAGER_DEMO_PROCESSES_H_

// The chart of `upager bench --faults`, hand-written SVG (no dependency): grouped bars of
// pages/s per workload and configuration (log scale, since mmap is orders of magnitude above
// the rest), and below them the thread-scaling curve (pages/s against faulting threads).
#ifndef UPAGER_TOOLS_UPAGER_CHART_H_
#define UPAGER_TOOLS_UPAGER_CHART_H_

#include <string>

#include "fault_results.h"

namespace upager::cli {

// Writes the chart to `path`; false if the file cannot be written.
bool WriteFaultChart(const FaultResults& results, const std::string& path);

}  // namespace upager::cli

#endif  // UPAGER_TOOLS_UPAGER_CHART_H_

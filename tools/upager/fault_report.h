// The report of `upager bench --faults` (fault_compare.h): Markdown tables on stdout and the
// same figures as JSON.
//
// Tables: pages/s per workload and configuration; per configuration the ratios to the raw
// handler and to mmap, context switches and CPU per page, bytes read per byte of the file
// and the teardown against the raw handler's; the thread-scaling curve; and issue 15's
// targets, each with its measured ratio.
#ifndef UPAGER_TOOLS_UPAGER_FAULT_REPORT_H_
#define UPAGER_TOOLS_UPAGER_FAULT_REPORT_H_

#include <cstdio>
#include <string>
#include <vector>

#include "fault_results.h"

namespace upager::cli {

// One of the targets, as measured in this run.
struct FaultTarget {
  std::string name;
  double measured = 0;  // NaN if a run it needs failed
  double goal = 0;
  bool at_least = true;  // the goal is a minimum (otherwise a maximum)
  bool met() const { return at_least ? measured >= goal : measured <= goal; }
};
std::vector<FaultTarget> FaultTargets(const FaultResults& results);

// The ratio of `config`'s pages/s to `base`'s in workload `w` (NaN if either failed).
double ThroughputRatio(const FaultResults& results, size_t w, FaultConfig config, FaultConfig base);

// "35.0K", "1.09M": pages/s for a table or a chart.
std::string FormatRate(double pages_per_s);

void PrintFaultReport(const FaultResults& results, FILE* out);
bool WriteFaultJson(const FaultResults& results, const std::string& path);

}  // namespace upager::cli

#endif  // UPAGER_TOOLS_UPAGER_FAULT_REPORT_H_

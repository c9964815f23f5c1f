// Markdown and JSON for `upager bench --faults` (fault_report.h).
#include "fault_report.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace upager::cli {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string Fixed(double v, int decimals) {
  if (!std::isfinite(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

std::string Ratio(double v) { return std::isfinite(v) ? Fixed(v, 2) + "x" : "n/a"; }

// The worst (lowest, or highest with `highest`) of `values`; NaN if any is NaN.
double Worst(const std::vector<double>& values, bool highest) {
  double worst =
      highest ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  for (const double v : values) {
    if (!std::isfinite(v)) return kNaN;
    worst = highest ? std::max(worst, v) : std::min(worst, v);
  }
  return values.empty() ? kNaN : worst;
}

double CellValue(const FaultCell& c, double FaultCell::*field) { return c.ok ? c.*field : kNaN; }

double TeardownRatio(const FaultResults& r, size_t w, FaultConfig config) {
  const FaultCell& c = r.Cell(w, config);
  const FaultCell& raw = r.Cell(w, FaultConfig::kRaw);
  return c.ok && raw.ok && raw.teardown_s > 0 ? c.teardown_s / raw.teardown_s : kNaN;
}

double CpuRatio(const FaultResults& r, size_t w, FaultConfig config) {
  const FaultCell& c = r.Cell(w, config);
  const FaultCell& raw = r.Cell(w, FaultConfig::kRaw);
  return c.ok && raw.ok && raw.cpu_us_per_page > 0 ? c.cpu_us_per_page / raw.cpu_us_per_page : kNaN;
}

// Index of the scaling point with `threads` faulting threads, or -1.
int ScalingIndex(const FaultResults& r, int threads) {
  for (size_t i = 0; i < r.scaling_threads.size(); ++i) {
    if (r.scaling_threads[i] == threads) return static_cast<int>(i);
  }
  return -1;
}

std::string Escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string Number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

}  // namespace

double ThroughputRatio(const FaultResults& r, size_t w, FaultConfig config, FaultConfig base) {
  const FaultCell& c = r.Cell(w, config);
  const FaultCell& b = r.Cell(w, base);
  return c.ok && b.ok && b.pages_per_s > 0 ? c.pages_per_s / b.pages_per_s : kNaN;
}

std::string FormatRate(double v) {
  if (!std::isfinite(v) || v <= 0) return "failed";
  char buf[32];
  if (v >= 1e6) {
    std::snprintf(buf, sizeof(buf), "%.2fM", v / 1e6);
  } else if (v >= 1e3) {
    std::snprintf(buf, sizeof(buf), "%.1fK", v / 1e3);
  } else {
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  }
  return buf;
}

std::vector<FaultTarget> FaultTargets(const FaultResults& r) {
  std::vector<FaultTarget> targets;
  const auto workloads = [&](auto pred) {
    std::vector<size_t> out;
    for (size_t w = 0; w < r.workloads.size(); ++w) {
      if (pred(r.workloads[w])) out.push_back(w);
    }
    return out;
  };
  const auto random = workloads([](const FaultWorkload& w) { return w.random; });
  const auto disk_random = workloads([](const FaultWorkload& w) { return w.disk && w.random; });
  const auto disk_seq_2 =
      workloads([](const FaultWorkload& w) { return w.disk && !w.random && w.threads == 2; });
  const auto all = workloads([](const FaultWorkload&) { return true; });
  struct Variant {
    FaultConfig off, adaptive;
    const char* where;
  };
  for (const auto& [off, adaptive, where] :
       {Variant{FaultConfig::kLoopOff, FaultConfig::kLoopAdaptive, "loop"},
        Variant{FaultConfig::kInlineOff, FaultConfig::kInlineAdaptive, "inline"}}) {
    const std::string tag = std::string(" (upager ") + where + ")";
    std::vector<double> v;
    for (size_t w : random) v.push_back(ThroughputRatio(r, w, off, FaultConfig::kRaw));
    targets.push_back({"random faults, read-ahead off / raw uffd, worst workload" + tag,
                       Worst(v, false), 0.8, true});
    v.clear();
    for (size_t w : disk_random) v.push_back(ThroughputRatio(r, w, adaptive, FaultConfig::kMmap));
    targets.push_back({"cold disk random, adaptive / mmap, worst of 1, 2 threads" + tag,
                       Worst(v, false), 0.5, true});
    v.clear();
    for (size_t w : disk_seq_2) v.push_back(ThroughputRatio(r, w, adaptive, FaultConfig::kMmap));
    targets.push_back(
        {"cold disk sequential, 2 threads, adaptive / mmap" + tag, Worst(v, false), 0.5, true});
    v.clear();
    for (size_t w : random) {
      v.push_back(CellValue(r.Cell(w, off), &FaultCell::context_switches_per_page));
    }
    targets.push_back({"context switches per random fault, read-ahead off, worst" + tag,
                       Worst(v, true), 2.5, false});
    v.clear();
    for (size_t w : random) v.push_back(CpuRatio(r, w, off));
    targets.push_back(
        {"CPU per random fault, read-ahead off / raw uffd's, worst (goal: the in-memory one)" + tag,
         Worst(v, true), 1.1, false});
    v.clear();
    for (size_t w : all) {
      v.push_back(TeardownRatio(r, w, off));
      v.push_back(TeardownRatio(r, w, adaptive));
    }
    targets.push_back({"teardown of the whole file / raw uffd's munmap + close, worst" + tag,
                       Worst(v, true), 2.0, false});
  }
  // The scaling curve: no drop from 4 to the most threads; 2 fault threads never slower.
  const int four = ScalingIndex(r, 4);
  const int most = static_cast<int>(r.scaling_threads.size()) - 1;
  if (r.scaling.size() >= 2 && four >= 0 && most > four) {
    for (size_t s = 0; s < 2; ++s) {
      const auto& p = r.scaling[s].pages_per_s;
      targets.push_back({r.scaling[s].name + ": " + std::to_string(r.scaling_threads[most]) +
                             " / 4 faulting threads",
                         p[four] > 0 && p[most] > 0 ? p[most] / p[four] : kNaN, 1.0, true});
    }
  }
  if (r.scaling.size() >= 2) {
    std::vector<double> v;
    for (size_t i = 0; i < r.scaling_threads.size(); ++i) {
      const double one = r.scaling[0].pages_per_s[i], two = r.scaling[1].pages_per_s[i];
      v.push_back(one > 0 && two > 0 ? two / one : kNaN);
    }
    targets.push_back(
        {"2 fault threads / 1 fault thread, worst thread count", Worst(v, false), 1.0, true});
  }
  return targets;
}

void PrintFaultReport(const FaultResults& r, FILE* out) {
  std::fprintf(out,
               "\n## upager bench --faults\n\n"
               "Each page of a %llu MiB file touched once (one 8-byte load per 4 KiB page), "
               "pages/s, median of %d. tmpfs: %s; disk: %s, dropped from the page cache before "
               "each run.\n\n",
               static_cast<unsigned long long>(r.file_bytes >> 20), r.repetitions,
               r.tmpfs_dir.c_str(), r.disk_dir.c_str());
  std::fprintf(out, "| workload |");
  for (const FaultConfig c : kFaultConfigs) std::fprintf(out, " %s |", FaultConfigName(c));
  std::fprintf(out, "\n|---|");
  for (size_t i = 0; i < kFaultConfigs.size(); ++i) std::fprintf(out, "---:|");
  std::fprintf(out, "\n");
  for (size_t w = 0; w < r.workloads.size(); ++w) {
    std::fprintf(out, "| %s |", r.workloads[w].Name().c_str());
    for (const FaultConfig c : kFaultConfigs) {
      const FaultCell& cell = r.Cell(w, c);
      std::fprintf(out, " %s |", cell.ok ? FormatRate(cell.pages_per_s).c_str() : "failed");
    }
    std::fprintf(out, "\n");
  }

  std::fprintf(out,
               "\nPer configuration: throughput ratios (higher is better); context switches "
               "(voluntary + involuntary) and CPU (user + system) of the whole process per page "
               "touched; bytes the provider read per byte of the file; teardown (munmap + close "
               "for mmap and raw, Mapping::Reset + ~FileProvider for upager) and its ratio to "
               "the raw handler's.\n\n"
               "| workload | configuration | pages/s | / raw | / mmap | ctx sw / page | "
               "CPU µs / page | read / file | teardown ms | teardown / raw |\n"
               "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (size_t w = 0; w < r.workloads.size(); ++w) {
    for (const FaultConfig c : kFaultConfigs) {
      const FaultCell& cell = r.Cell(w, c);
      if (!cell.ok) {
        std::fprintf(out, "| %s | %s | failed | | | | | | | |\n", r.workloads[w].Name().c_str(),
                     FaultConfigName(c));
        continue;
      }
      std::fprintf(
          out, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
          r.workloads[w].Name().c_str(), FaultConfigName(c), FormatRate(cell.pages_per_s).c_str(),
          Ratio(ThroughputRatio(r, w, c, FaultConfig::kRaw)).c_str(),
          Ratio(ThroughputRatio(r, w, c, FaultConfig::kMmap)).c_str(),
          Fixed(cell.context_switches_per_page, 2).c_str(), Fixed(cell.cpu_us_per_page, 1).c_str(),
          cell.read_ratio >= 0 ? Fixed(cell.read_ratio, 3).c_str() : "",
          Fixed(cell.teardown_s * 1e3, 1).c_str(), Ratio(TeardownRatio(r, w, c)).c_str());
    }
  }

  std::fprintf(out,
               "\nThread scaling: random faults on tmpfs, %llu MiB, pages/s, median of %d.\n\n"
               "| faulting threads |",
               static_cast<unsigned long long>(r.scaling_bytes >> 20), r.repetitions);
  for (const ScalingSeries& s : r.scaling) std::fprintf(out, " %s |", s.name.c_str());
  std::fprintf(out, "\n|---:|");
  for (size_t i = 0; i < r.scaling.size(); ++i) std::fprintf(out, "---:|");
  std::fprintf(out, "\n");
  for (size_t i = 0; i < r.scaling_threads.size(); ++i) {
    std::fprintf(out, "| %d |", r.scaling_threads[i]);
    for (const ScalingSeries& s : r.scaling) {
      std::fprintf(out, " %s |", FormatRate(s.pages_per_s[i]).c_str());
    }
    std::fprintf(out, "\n");
  }

  std::fprintf(out,
               "\nIssue 15's targets, as measured in this run.\n\n"
               "| target | measured | goal | met |\n|---|---:|---:|---|\n");
  for (const FaultTarget& t : FaultTargets(r)) {
    std::fprintf(out, "| %s | %s | %s %s | %s |\n", t.name.c_str(), Fixed(t.measured, 2).c_str(),
                 t.at_least ? "≥" : "≤", Fixed(t.goal, 2).c_str(),
                 !std::isfinite(t.measured) ? "n/a"
                 : t.met()                  ? "yes"
                                            : "no");
  }
  std::fflush(out);
}

bool WriteFaultJson(const FaultResults& r, const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  std::fprintf(f,
               "{\n  \"size_bytes\": %llu,\n  \"scaling_size_bytes\": %llu,\n"
               "  \"repetitions\": %d,\n  \"tmpfs_dir\": \"%s\",\n  \"disk_dir\": \"%s\",\n"
               "  \"configurations\": [",
               static_cast<unsigned long long>(r.file_bytes),
               static_cast<unsigned long long>(r.scaling_bytes), r.repetitions,
               Escape(r.tmpfs_dir).c_str(), Escape(r.disk_dir).c_str());
  for (size_t i = 0; i < kFaultConfigs.size(); ++i) {
    std::fprintf(f, "%s\"%s\"", i ? ", " : "", FaultConfigKey(kFaultConfigs[i]));
  }
  std::fprintf(f, "],\n  \"workloads\": [");
  for (size_t w = 0; w < r.workloads.size(); ++w) {
    std::fprintf(f, "%s\"%s\"", w ? ", " : "", r.workloads[w].Key().c_str());
  }
  std::fprintf(f, "],\n  \"results\": [");
  bool first = true;
  for (size_t w = 0; w < r.workloads.size(); ++w) {
    for (const FaultConfig c : kFaultConfigs) {
      const FaultCell& cell = r.Cell(w, c);
      const auto value = [&](double v) { return Number(cell.ok ? v : kNaN); };
      std::fprintf(
          f,
          "%s\n    {\"workload\": \"%s\", \"configuration\": \"%s\", \"ok\": %s, "
          "\"pages_per_s\": %s, \"ratio_to_raw\": %s, \"ratio_to_mmap\": %s, "
          "\"context_switches_per_page\": %s, \"cpu_us_per_page\": %s, "
          "\"bytes_read_per_file_byte\": %s, \"teardown_s\": %s, \"teardown_ratio_to_raw\": %s}",
          first ? "" : ",", r.workloads[w].Key().c_str(), FaultConfigKey(c),
          cell.ok ? "true" : "false", value(cell.pages_per_s).c_str(),
          Number(ThroughputRatio(r, w, c, FaultConfig::kRaw)).c_str(),
          Number(ThroughputRatio(r, w, c, FaultConfig::kMmap)).c_str(),
          value(cell.context_switches_per_page).c_str(), value(cell.cpu_us_per_page).c_str(),
          value(cell.read_ratio >= 0 ? cell.read_ratio : kNaN).c_str(),
          value(cell.teardown_s).c_str(), Number(TeardownRatio(r, w, c)).c_str());
      first = false;
    }
  }
  std::fprintf(f, "\n  ],\n  \"scaling\": {\n    \"faulting_threads\": [");
  for (size_t i = 0; i < r.scaling_threads.size(); ++i) {
    std::fprintf(f, "%s%d", i ? ", " : "", r.scaling_threads[i]);
  }
  std::fprintf(f, "],\n    \"series\": [");
  for (size_t s = 0; s < r.scaling.size(); ++s) {
    std::fprintf(f, "%s\n      {\"key\": \"%s\", \"name\": \"%s\", \"pages_per_s\": [",
                 s ? "," : "", r.scaling[s].key.c_str(), Escape(r.scaling[s].name).c_str());
    for (size_t i = 0; i < r.scaling[s].pages_per_s.size(); ++i) {
      const double v = r.scaling[s].pages_per_s[i];
      std::fprintf(f, "%s%s", i ? ", " : "", Number(v > 0 ? v : kNaN).c_str());
    }
    std::fprintf(f, "]}");
  }
  std::fprintf(f, "\n    ]\n  },\n  \"targets\": [");
  const std::vector<FaultTarget> targets = FaultTargets(r);
  for (size_t i = 0; i < targets.size(); ++i) {
    const FaultTarget& t = targets[i];
    std::fprintf(f,
                 "%s\n    {\"name\": \"%s\", \"measured\": %s, \"goal\": %s, "
                 "\"comparison\": \"%s\", \"met\": %s}",
                 i ? "," : "", Escape(t.name).c_str(), Number(t.measured).c_str(),
                 Number(t.goal).c_str(), t.at_least ? ">=" : "<=",
                 !std::isfinite(t.measured) ? "null"
                 : t.met()                  ? "true"
                                            : "false");
  }
  std::fprintf(f, "\n  ]\n}\n");
  const bool ok = std::ferror(f) == 0;
  return std::fclose(f) == 0 && ok;
}

}  // namespace upager::cli

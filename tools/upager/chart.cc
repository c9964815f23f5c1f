// SVG chart of `upager bench --faults` (chart.h).
#include "chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "fault_report.h"

namespace upager::cli {
namespace {

constexpr double kWidth = 1000;
constexpr double kBarTop = 60, kBarBottom = 380;     // the bar plot's area
constexpr double kLineTop = 560, kLineBottom = 860;  // the curve's area
constexpr double kLeft = 80, kRight = kWidth - 30;
constexpr double kHeight = 960;

const char* const kConfigColors[] = {"#7f7f7f", "#1f77b4", "#ff7f0e",
                                     "#d62728", "#2ca02c", "#9467bd"};
const char* const kSeriesColors[] = {"#ff7f0e", "#8c564b", "#1f77b4", "#2ca02c"};

std::string Xml(const std::string& s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string F(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", v);
  return buf;
}

void Text(std::ostringstream& svg, double x, double y, const std::string& text,
          const char* anchor = "middle", int size = 12) {
  svg << "<text x=\"" << F(x) << "\" y=\"" << F(y) << "\" text-anchor=\"" << anchor
      << "\" font-size=\"" << size << "\">" << Xml(text) << "</text>\n";
}

void Line(std::ostringstream& svg, double x1, double y1, double x2, double y2, const char* color) {
  svg << "<line x1=\"" << F(x1) << "\" y1=\"" << F(y1) << "\" x2=\"" << F(x2) << "\" y2=\"" << F(y2)
      << "\" stroke=\"" << color << "\"/>\n";
}

void LegendEntry(std::ostringstream& svg, double x, double y, const char* color,
                 const std::string& name) {
  svg << "<rect x=\"" << F(x) << "\" y=\"" << F(y - 10) << "\" width=\"12\" height=\"12\" fill=\""
      << color << "\"/>\n";
  Text(svg, x + 16, y, name, "start", 12);
}

void Bars(std::ostringstream& svg, const FaultResults& r) {
  double lo = INFINITY, hi = 0;
  for (size_t w = 0; w < r.workloads.size(); ++w) {
    for (const FaultConfig c : kFaultConfigs) {
      const FaultCell& cell = r.Cell(w, c);
      if (cell.ok && cell.pages_per_s > 0) {
        lo = std::min(lo, cell.pages_per_s);
        hi = std::max(hi, cell.pages_per_s);
      }
    }
  }
  if (hi <= 0) lo = hi = 1;
  const double log_lo = std::floor(std::log10(lo));
  double log_hi = std::ceil(std::log10(hi));
  if (log_hi <= log_lo) log_hi = log_lo + 1;
  const auto y = [&](double v) {
    return kBarBottom - (std::log10(v) - log_lo) / (log_hi - log_lo) * (kBarBottom - kBarTop);
  };
  Text(svg, kWidth / 2, 24,
       "Pages/s (log scale): each page of a " + std::to_string(r.file_bytes >> 20) +
           " MiB file touched once, median of " + std::to_string(r.repetitions),
       "middle", 16);
  for (double e = log_lo; e <= log_hi; e += 1) {
    const double gy = y(std::pow(10, e));
    Line(svg, kLeft, gy, kRight, gy, "#dddddd");
    Text(svg, kLeft - 6, gy + 4, FormatRate(std::pow(10, e)), "end", 11);
  }
  Line(svg, kLeft, kBarBottom, kRight, kBarBottom, "#000000");
  const double group =
      (kRight - kLeft) / static_cast<double>(std::max<size_t>(1, r.workloads.size()));
  const double bar = group * 0.8 / static_cast<double>(kFaultConfigs.size());
  for (size_t w = 0; w < r.workloads.size(); ++w) {
    const double gx = kLeft + group * static_cast<double>(w) + group * 0.1;
    for (size_t i = 0; i < kFaultConfigs.size(); ++i) {
      const FaultCell& cell = r.Cell(w, kFaultConfigs[i]);
      const double bx = gx + bar * static_cast<double>(i);
      if (!cell.ok || cell.pages_per_s <= 0) {
        Text(svg, bx + bar / 2, kBarBottom - 4, "x", "middle", 10);
        continue;
      }
      const double top = y(cell.pages_per_s);
      svg << "<rect x=\"" << F(bx) << "\" y=\"" << F(top) << "\" width=\"" << F(bar * 0.9)
          << "\" height=\"" << F(kBarBottom - top) << "\" fill=\"" << kConfigColors[i]
          << "\"><title>" << Xml(r.workloads[w].Name()) << ", "
          << Xml(FaultConfigName(kFaultConfigs[i])) << ": " << Xml(FormatRate(cell.pages_per_s))
          << " pages/s</title></rect>\n";
    }
    const FaultWorkload& wl = r.workloads[w];
    const double cx = kLeft + group * (static_cast<double>(w) + 0.5);
    Text(svg, cx, kBarBottom + 18,
         std::string(wl.disk ? "disk" : "tmpfs") + (wl.random ? " random" : " sequential"));
    Text(svg, cx, kBarBottom + 34,
         std::to_string(wl.threads) + (wl.threads == 1 ? " thread" : " threads"));
  }
  for (size_t i = 0; i < kFaultConfigs.size(); ++i) {
    LegendEntry(svg, kLeft + static_cast<double>(i % 3) * 290,
                kBarBottom + 64 + static_cast<double>(i / 3) * 20, kConfigColors[i],
                FaultConfigName(kFaultConfigs[i]));
  }
}

void Curve(std::ostringstream& svg, const FaultResults& r) {
  Text(svg, kWidth / 2, kLineTop - 30,
       "Thread scaling: random faults on tmpfs (" + std::to_string(r.scaling_bytes >> 20) +
           " MiB), pages/s against faulting threads",
       "middle", 16);
  double hi = 0;
  for (const ScalingSeries& s : r.scaling) {
    for (const double v : s.pages_per_s) hi = std::max(hi, v);
  }
  // The axis runs to a round number: 5 steps of 1, 2 or 5 times a power of ten.
  const double raw_step = std::max(hi, 1.0) * 1.05 / 5;
  const double power = std::pow(10, std::floor(std::log10(raw_step)));
  double step = power * 10;
  for (const double m : {1.0, 2.0, 5.0}) {
    if (power * m >= raw_step) {
      step = power * m;
      break;
    }
  }
  hi = step * 5;
  const size_t n = r.scaling_threads.size();
  const auto x = [&](size_t i) {
    return n <= 1 ? (kLeft + kRight) / 2
                  : kLeft + (kRight - kLeft) * static_cast<double>(i) / static_cast<double>(n - 1);
  };
  const auto y = [&](double v) { return kLineBottom - v / hi * (kLineBottom - kLineTop); };
  for (int t = 0; t <= 5; ++t) {
    const double v = step * t;
    Line(svg, kLeft, y(v), kRight, y(v), t == 0 ? "#000000" : "#dddddd");
    Text(svg, kLeft - 6, y(v) + 4, t == 0 ? "0" : FormatRate(v), "end", 11);
  }
  for (size_t i = 0; i < n; ++i) {
    Text(svg, x(i), kLineBottom + 18, std::to_string(r.scaling_threads[i]));
  }
  Text(svg, (kLeft + kRight) / 2, kLineBottom + 36, "faulting threads");
  Text(svg, kLeft, kLineTop - 8, "pages/s", "end", 11);
  for (size_t s = 0; s < r.scaling.size(); ++s) {
    const char* color = kSeriesColors[s % std::size(kSeriesColors)];
    std::string points;
    for (size_t i = 0; i < n && i < r.scaling[s].pages_per_s.size(); ++i) {
      const double v = r.scaling[s].pages_per_s[i];
      if (v <= 0) continue;
      points += (points.empty() ? "" : " ") + F(x(i)) + "," + F(y(v));
      svg << "<circle cx=\"" << F(x(i)) << "\" cy=\"" << F(y(v)) << "\" r=\"3\" fill=\"" << color
          << "\"><title>" << Xml(r.scaling[s].name) << ", " << r.scaling_threads[i]
          << " threads: " << Xml(FormatRate(v)) << " pages/s</title></circle>\n";
    }
    if (!points.empty()) {
      svg << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"2\" points=\""
          << points << "\"/>\n";
    }
    LegendEntry(svg, kLeft + static_cast<double>(s) * 290, kLineBottom + 64, color,
                r.scaling[s].name);
  }
}

}  // namespace

bool WriteFaultChart(const FaultResults& results, const std::string& path) {
  std::ostringstream svg;
  svg << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << kHeight
      << "\" viewBox=\"0 0 " << kWidth << " " << kHeight << "\" font-family=\"sans-serif\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  Bars(svg, results);
  Curve(svg, results);
  svg << "</svg>\n";
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  const std::string text = svg.str();
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  return std::fclose(f) == 0 && ok;
}

}  // namespace upager::cli

// Formatting of "key: value" reports (see report.h).
#include "report.h"

#include <cinttypes>
#include <cmath>

namespace upager::cli {

void Report::Add(const std::string& key, uint64_t value) {
  lines_.emplace_back(key, std::to_string(value));
}

void Report::Add(const std::string& key, double value, int decimals) {
  if (!std::isfinite(value)) {
    value = 0.0;
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, value);
  lines_.emplace_back(key, buf);
}

void Report::Print(FILE* out) const {
  std::fprintf(out, "%s\n", title_.c_str());
  for (const auto& [key, value] : lines_) {
    std::fprintf(out, "%s: %s\n", key.c_str(), value.c_str());
  }
  std::fprintf(out, "\n");
  std::fflush(out);
}

}  // namespace upager::cli

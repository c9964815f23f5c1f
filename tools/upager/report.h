// A report as stable "key: value" lines: a one-line title, then one numeric value per
// snake_case key (units go in the key name: upager_seconds, upager_mib_per_s), then a blank
// line. Scripts and tests read it by key.
#ifndef UPAGER_TOOLS_UPAGER_REPORT_H_
#define UPAGER_TOOLS_UPAGER_REPORT_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace upager::cli {

class Report {
 public:
  explicit Report(std::string title) : title_(std::move(title)) {}

  void Add(const std::string& key, uint64_t value);
  // `decimals` digits after the point.
  void Add(const std::string& key, double value, int decimals = 3);

  void Print(FILE* out) const;

 private:
  std::string title_;
  std::vector<std::pair<std::string, std::string>> lines_;
};

}  // namespace upager::cli

#endif  // UPAGER_TOOLS_UPAGER_REPORT_H_

// `upager bench --faults` at a tiny size: every workload under every configuration is
// measured (the tool checks each page's content, so a run that succeeds read the right
// data), the Markdown tables hold every row, and the JSON and SVG are well-formed and name
// every configuration.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cli_test_util.h"

namespace upager::cli_test {
namespace {

const std::vector<std::string> kConfigNames = {"mmap",
                                               "raw uffd",
                                               "upager loop off",
                                               "upager loop adaptive",
                                               "upager inline off",
                                               "upager inline adaptive"};
const std::vector<std::string> kConfigKeys = {"mmap",
                                              "raw_uffd",
                                              "upager_loop_off",
                                              "upager_loop_adaptive",
                                              "upager_inline_off",
                                              "upager_inline_adaptive"};

struct Workload {
  std::string name, key;
};
std::vector<Workload> Workloads() {
  std::vector<Workload> out;
  for (const std::string where : {"tmpfs", "disk"}) {
    for (const std::string order : {"random", "sequential"}) {
      for (const int threads : {1, 2}) {
        out.push_back({where + " " + order + ", " + std::to_string(threads) +
                           (threads == 1 ? " thread" : " threads"),
                       where + "_" + order + "_" + std::to_string(threads)});
      }
    }
  }
  return out;
}

// The cells of a Markdown table row ("| a | b |" -> {"a", "b"}).
std::vector<std::string> Cells(const std::string& line) {
  std::vector<std::string> cells;
  if (line.size() < 2 || line.front() != '|' || line.back() != '|') return cells;
  std::string cell;
  for (size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '|') {
      const size_t b = cell.find_first_not_of(' '), e = cell.find_last_not_of(' ');
      cells.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
      cell.clear();
    } else {
      cell.push_back(line[i]);
    }
  }
  return cells;
}

// "35.0K", "1.09M", "812": a rate as the table prints it.
bool IsRate(std::string s) {
  if (!s.empty() && (s.back() == 'K' || s.back() == 'M')) s.pop_back();
  return IsNumber(s) && std::strtod(s.c_str(), nullptr) > 0;
}

// A minimal well-formedness check of XML: a prolog, then balanced elements whose
// attributes are quoted, and text without a bare '<' or a '&' that starts no entity.
bool WellFormedXml(const std::string& s, std::multiset<std::string>* elements) {
  size_t i = 0;
  if (s.rfind("<?xml", 0) == 0) {
    i = s.find("?>");
    if (i == std::string::npos) return false;
    i += 2;
  }
  std::vector<std::string> open;
  bool root_seen = false;
  while (i < s.size()) {
    if (s[i] != '<') {
      if (s[i] == '&') {
        const size_t semi = s.find(';', i);
        if (semi == std::string::npos || semi - i > 6) return false;
      }
      if (open.empty() && !std::isspace(static_cast<unsigned char>(s[i]))) return false;
      ++i;
      continue;
    }
    const bool closing = i + 1 < s.size() && s[i + 1] == '/';
    size_t j = i + (closing ? 2 : 1);
    std::string name;
    while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '-')) {
      name.push_back(s[j++]);
    }
    if (name.empty()) return false;
    if (closing) {
      if (open.empty() || open.back() != name || j >= s.size() || s[j] != '>') return false;
      open.pop_back();
      i = j + 1;
      continue;
    }
    if (open.empty() && root_seen) return false;  // one root element
    root_seen = true;
    // Attributes: name="value" separated by spaces, then '>' or '/>'.
    for (;;) {
      while (j < s.size() && s[j] == ' ') ++j;
      if (j >= s.size()) return false;
      if (s[j] == '>' || (s[j] == '/' && j + 1 < s.size() && s[j + 1] == '>')) break;
      const size_t eq = s.find('=', j);
      if (eq == std::string::npos || eq + 1 >= s.size() || s[eq + 1] != '"') return false;
      const size_t end = s.find('"', eq + 2);
      if (end == std::string::npos ||
          s.substr(eq + 2, end - eq - 2).find('<') != std::string::npos) {
        return false;
      }
      j = end + 1;
    }
    elements->insert(name);
    if (s[j] == '/') {
      i = j + 2;
    } else {
      open.push_back(name);
      i = j + 1;
    }
  }
  return root_seen && open.empty();
}

class CliBenchTest : public CliTest {};

TEST_F(CliBenchTest, FaultsSuiteWritesEveryRowJsonAndSvg) {
  const std::string json = Path("faults.json"), svg = Path("faults.svg");
  RunOptions options;
  options.timeout = std::chrono::seconds(600);  // sanitizer builds are slow
  RunResult r = Run({"bench", "--faults", "--size", "1M", "--scaling-size", "256K", "--repetitions",
                     "1", "--dir", dir_, "--json", json, "--svg", svg},
                    options);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;

  // The pages/s table: one row per workload, a rate in each configuration's column.
  const std::vector<std::string> lines = Lines(r.out);
  std::map<std::string, std::vector<std::string>> summary;  // workload -> cells
  std::set<std::pair<std::string, std::string>> details;    // (workload, configuration)
  std::set<std::string> scaling_rows;
  for (const std::string& line : lines) {
    const std::vector<std::string> cells = Cells(line);
    if (cells.size() == 7) summary[cells[0]] = cells;
    if (cells.size() == 10 && IsRate(cells[2])) {
      for (size_t i = 3; i < cells.size(); ++i) {
        if (i == 7 && cells[1].rfind("upager", 0) != 0) continue;  // read / file: upager only
        EXPECT_FALSE(cells[i].empty()) << line;
      }
      details.insert({cells[0], cells[1]});
    }
    if (cells.size() == 4 && IsNumber(cells[0]) && IsRate(cells[1]) && IsRate(cells[2]) &&
        IsRate(cells[3])) {
      scaling_rows.insert(cells[0]);
    }
  }
  for (const Workload& w : Workloads()) {
    ASSERT_TRUE(summary.count(w.name)) << w.name << "\n" << r.out;
    for (size_t c = 1; c < 7; ++c) EXPECT_TRUE(IsRate(summary[w.name][c])) << w.name;
    for (const std::string& config : kConfigNames) {
      EXPECT_TRUE(details.count({w.name, config})) << w.name << ", " << config << "\n" << r.out;
    }
  }
  EXPECT_EQ(details.size(), Workloads().size() * kConfigNames.size());
  EXPECT_EQ(scaling_rows, (std::set<std::string>{"1", "2", "4", "8", "16", "32", "64"})) << r.out;
  for (const std::string target :
       {"random faults, read-ahead off / raw uffd", "context switches per random fault",
        "teardown of the whole file / raw uffd's munmap + close",
        "2 fault threads / 1 fault thread"}) {
    EXPECT_NE(r.out.find("| " + target), std::string::npos) << target;
  }

  // JSON: one well-formed object with every configuration, workload and result.
  const std::string json_text = ReadFile(json);
  std::map<std::string, std::string> keys;
  ASSERT_TRUE(Json(json_text).ParseObject(&keys)) << json_text;
  EXPECT_EQ(keys["size_bytes"], "1048576");
  EXPECT_EQ(keys["scaling_size_bytes"], "262144");
  EXPECT_EQ(keys["repetitions"], "1");
  for (const char* key : {"configurations", "workloads", "results", "scaling", "targets"}) {
    EXPECT_TRUE(keys.count(key)) << key;
  }
  for (const Workload& w : Workloads()) {
    for (const std::string& config : kConfigKeys) {
      const std::string row = "{\"workload\": \"" + w.key + "\", \"configuration\": \"" + config +
                              "\", \"ok\": true, \"pages_per_s\": ";
      EXPECT_NE(json_text.find(row), std::string::npos) << row;
    }
  }
  for (const char* series : {"upager_loop_off_1", "upager_loop_off_2", "raw_uffd"}) {
    EXPECT_NE(json_text.find(std::string("{\"key\": \"") + series + "\""), std::string::npos)
        << series;
  }
  EXPECT_NE(json_text.find("\"faulting_threads\": [1, 2, 4, 8, 16, 32, 64]"), std::string::npos);

  // SVG: well-formed, one bar per workload and configuration, a legend naming every
  // configuration, and the curve of each series.
  const std::string svg_text = ReadFile(svg);
  std::multiset<std::string> elements;
  ASSERT_TRUE(WellFormedXml(svg_text, &elements)) << svg_text;
  EXPECT_NE(svg_text.find("<svg xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_EQ(elements.count("polyline"), 3u);
  EXPECT_EQ(elements.count("circle"), 3u * 7u);
  for (const Workload& w : Workloads()) {
    for (const std::string& config : kConfigNames) {
      EXPECT_NE(svg_text.find("<title>" + w.name + ", " + config + ": "), std::string::npos)
          << w.name << ", " << config;
    }
  }
  for (const std::string& config : kConfigNames) {
    EXPECT_NE(svg_text.find(">" + config + "</text>"), std::string::npos) << config;
  }
}

TEST_F(CliBenchTest, FaultsOptionsAreChecked) {
  ExpectOneErrorLine(Run({"bench", "--size", "1M"}), "--faults");
  ExpectOneErrorLine(Run({"bench", "--faults", "--size", "lots"}), "--size");
  ExpectOneErrorLine(Run({"bench", "--faults", "--size", "64K"}), "--size");
  ExpectOneErrorLine(Run({"bench", "--faults", "--size", "1M", "--scaling-size", "128K"}),
                     "--scaling-size");
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"bench", "--size", "1M"},
                                             {"bench", "--faults", "--size", "lots"},
                                             {"bench", "--faults", "--size", "64K"}}) {
    EXPECT_EQ(Run(args).exit_code, 2);
  }
}

}  // namespace
}  // namespace upager::cli_test

// Tests of the `upager` command (tools/upager): demo, pack, cat over HTTP, trace and stats.
// The cat and error-exit tests are in cli_cat_test.cc; the harness is cli_test_util.h.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "cli_test_util.h"
#include "common/nginx_server.h"
#include "skip.h"

namespace upager::cli_test {
namespace {

TEST_F(CliTest, DemoSmallRunReportsEveryKey) {
  RunResult r = Run({"demo", "--size", "16M", "--threads", "2", "--dir", dir_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_GE(lines.size(), 3u) << r.out;
  EXPECT_EQ(lines[0].rfind("upager demo", 0), 0u) << lines[0];
  std::map<std::string, std::string> report;
  size_t i = 1;
  for (; i < lines.size() && !lines[i].empty(); ++i) {
    size_t colon = lines[i].find(": ");
    ASSERT_NE(colon, std::string::npos) << lines[i];
    std::string key = lines[i].substr(0, colon);
    for (char c : key) {
      EXPECT_TRUE(std::islower(static_cast<unsigned char>(c)) || std::isdigit(c) || c == '_')
          << "key not snake_case: " << key;
    }
    std::string value = lines[i].substr(colon + 2);
    EXPECT_TRUE(IsNumber(value)) << lines[i];
    report[key] = value;
  }
  ASSERT_LT(i, lines.size()) << "the report must end with a blank line";
  for (const char* key :
       {"pages_total", "pages_requested", "read_requests", "requests_deduplicated",
        "bytes_supplied", "faults", "upager_seconds", "upager_mib_per_s", "request_latency_p50_us",
        "request_latency_p99_us", "mmap_seconds", "mmap_mib_per_s", "ratio_upager_vs_mmap",
        "decode_threads", "decode_seconds", "floor_ratio_vs_mmap", "verified_pages", "errors"}) {
    EXPECT_EQ(report.count(key), 1u) << "missing key " << key << "\n" << r.out;
  }
  EXPECT_EQ(std::stoull(report["pages_total"]), 16u * 1024 * 1024 / 4096);
  EXPECT_EQ(std::stoull(report["errors"]), 0u);
  EXPECT_GT(std::stoull(report["verified_pages"]), 0u);
  EXPECT_GT(std::stoull(report["read_requests"]), 0u);
  EXPECT_GE(std::stoull(report["decode_threads"]), 1u);
  // The floor adds the decompression to the mmap run's time.
  EXPECT_GE(std::stod(report["floor_ratio_vs_mmap"]), 1.0);
  EXPECT_GE(std::stoull(report["bytes_supplied"]),
            16u * 1024 * 1024);  // chunks may be supplied twice
  // The scratch directory was removed.
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_NE(entry.path().filename().string().rfind("upager-demo-", 0), 0u)
        << "demo left " << entry.path();
  }
}

TEST_F(CliTest, DemoKeepsItsFilesWithKeepAndPrintsStatsJson) {
  RunResult r = Run({"demo", "--size", "1M", "--threads", "3", "--chunk-size", "64K", "--dir", dir_,
                     "--keep", "--stats", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_FALSE(lines.empty());
  std::map<std::string, std::string> keys;
  EXPECT_TRUE(Json(lines.back()).ParseObject(&keys)) << lines.back();
  EXPECT_EQ(keys.count("read_requests"), 1u);
  bool kept = false;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    if (entry.path().filename().string().rfind("upager-demo-", 0) == 0) {
      kept = fs::exists(entry.path() / "data.bin") && fs::exists(entry.path() / "data.blob");
    }
  }
  EXPECT_TRUE(kept);
}

TEST_F(CliTest, DemoWithoutMappingsUsesVmoRead) {
  RunOptions options;
  options.env = {"UPAGER_NO_USERFAULTFD=1"};
  RunResult r = Run({"demo", "--size", "4M", "--threads", "2", "--dir", dir_}, options);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\nmapped: 0\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nerrors: 0\n"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("Vmo::Read"), std::string::npos) << r.err;
}

TEST_F(CliTest, DemoRejectsBadArguments) {
  ExpectOneErrorLine(Run({"demo", "--size", "lots"}), "--size");
  EXPECT_EQ(Run({"demo", "--threads", "0"}).exit_code, 2);
  EXPECT_EQ(Run({"demo", "--chunk-size", "1000"}).exit_code, 2);
  RunResult r = Run({"demo", "--size", "1M", "--dir", Path("no/such/dir")});
  EXPECT_EQ(r.exit_code, 3);
  ExpectOneErrorLine(r, "No such file or directory");
}

// ---------------------------------------------------------------------------------------
// pack and cat

TEST_F(CliTest, PackThenCatReproducesTheInput) {
  const std::string content = RandomBytes(3 * 1024 * 1024 + 1234, 1);  // not a page multiple
  WriteFile(Path("in.bin"), content);
  RunResult packed =
      Run({"pack", Path("in.bin"), Path("in.blob"), "--chunk-size", "64K", "--level", "1"});
  ASSERT_EQ(packed.exit_code, 0) << packed.err;
  EXPECT_NE(packed.out.find("ratio"), std::string::npos) << packed.out;
  EXPECT_NE(packed.out.find("chunks"), std::string::npos) << packed.out;

  RunResult r = Run({"cat", Path("in.blob")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == content) << "cat of the blob differs (" << r.out.size() << " bytes)";
  EXPECT_EQ(r.err, "");

  r = Run({"cat", Path("in.blob"), "--offset", "5000", "--length", "100000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == content.substr(5000, 100000));

  // A length past the end is clipped; sizes take suffixes.
  r = Run({"cat", Path("in.blob"), "--offset", "3M", "--length", "1G"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == content.substr(3 * 1024 * 1024));

  r = Run({"cat", Path("in.blob"), "--no-map", "--offset", "4095", "--length", "8194"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == content.substr(4095, 8194));

  for (const char* mode : {"off", "fixed", "adaptive"}) {
    r = Run({"cat", Path("in.blob"), "--read-ahead", mode});
    ASSERT_EQ(r.exit_code, 0) << mode << ": " << r.err;
    EXPECT_TRUE(r.out == content) << mode;
  }
  for (const char* pattern : {"normal", "random", "sequential"}) {
    r = Run({"cat", Path("in.blob"), "--access", pattern, "--offset", "4095"});
    ASSERT_EQ(r.exit_code, 0) << pattern << ": " << r.err;
    EXPECT_TRUE(r.out == content.substr(4095)) << pattern;
  }

  // Offset exactly at the end: nothing, successfully.
  r = Run({"cat", Path("in.blob"), "--offset", std::to_string(content.size())});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(CliTest, PackOfCompressibleDataShrinksIt) {
  std::string content;
  for (int i = 0; content.size() < 2 * 1024 * 1024; ++i) {
    content += "line " + std::to_string(i % 1000) + " of a very repetitive text file\n";
  }
  std::string blob = MakeBlob("text.txt", content);
  EXPECT_LT(fs::file_size(blob), content.size() / 4);
  RunResult r = Run({"cat", blob});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == content);
}

TEST_F(CliTest, CatOverHttp) {
  std::string why;
  if (!upager::tools::NginxServer::Available(&why)) UPAGER_SKIP_OR_FAIL(why);
  upager::tools::NginxServer server;
  ASSERT_TRUE(server.Start(&why)) << why;
  const std::string content = RandomBytes(3 * 1024 * 1024 + 99, 11);
  ASSERT_TRUE(server.WriteFile("object.bin", content));
  ASSERT_TRUE(server.WriteFile("noranges/object.bin", content));

  RunResult r = Run({"cat", server.Url("object.bin")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == content) << r.out.size() << " bytes";
  r = Run(
      {"cat", server.Url("object.bin"), "--offset", "1000000", "--length", "70000", "--no-map"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == content.substr(1000000, 70000));

  r = Run({"cat", server.Url("missing.bin")});
  EXPECT_EQ(r.exit_code, 3);
  ExpectOneErrorLine(r, "not found");
  r = Run({"cat", server.Url("forbidden/object.bin")});
  EXPECT_EQ(r.exit_code, 3);
  ExpectOneErrorLine(r, "permission denied");
  r = Run({"cat", server.Url("noranges/object.bin")});
  EXPECT_EQ(r.exit_code, 3);
  ExpectOneErrorLine(r, "range");
}

// ---------------------------------------------------------------------------------------
// --trace and --stats

TEST_F(CliTest, TraceAndStatsOfCat) {
  const std::string content = RandomBytes(1024 * 1024, 5);
  std::string blob = MakeBlob("data", content);
  RunResult r = Run({"--trace", Path("trace.json"), "cat", blob, "--stats", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == content);  // stdout is only data

  std::string trace = ReadFile(Path("trace.json"));
  EXPECT_EQ(trace.rfind("{\"traceEvents\"", 0), 0u) << trace.substr(0, 100);
  EXPECT_NE(trace.find("READ request"), std::string::npos);
  EXPECT_TRUE(Json(trace).ParseObject(nullptr)) << "trace is not valid JSON";

  bool stats_seen = false, trace_line_seen = false;
  for (const std::string& line : Lines(r.err)) {
    if (!line.empty() && line[0] == '{') {
      std::map<std::string, std::string> keys;
      ASSERT_TRUE(Json(line).ParseObject(&keys)) << line;
      ASSERT_EQ(keys.count("read_requests"), 1u) << line;
      EXPECT_GT(std::stoull(keys["read_requests"]), 0u);
      stats_seen = true;
    }
    if (line.rfind("trace: ", 0) == 0) {
      EXPECT_NE(line.find("events written to " + Path("trace.json")), std::string::npos);
      EXPECT_NE(line.find("ui.perfetto.dev"), std::string::npos);
      trace_line_seen = true;
    }
  }
  EXPECT_TRUE(stats_seen) << r.err;
  EXPECT_TRUE(trace_line_seen) << r.err;
}

TEST_F(CliTest, StatsOfPackGoToStdout) {
  WriteFile(Path("in"), RandomBytes(100000, 6));
  RunResult r = Run({"pack", Path("in"), Path("in.blob"), "--stats", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_TRUE(Json(lines[1]).ParseObject(nullptr)) << lines[1];
  EXPECT_EQ(Run({"--stats", "xml", "pack", Path("in"), Path("x")}).exit_code, 2);
}

TEST_F(CliTest, TraceIsWrittenAfterAFailureToo) {
  RunResult r = Run({"cat", Path("missing"), "--trace", Path("t.json")});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(ReadFile(Path("t.json")).rfind("{\"traceEvents\"", 0), 0u);
}

// ---------------------------------------------------------------------------------------
// Bad inputs and exit codes

}  // namespace
}  // namespace upager::cli_test

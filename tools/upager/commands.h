// The subcommands of `upager`, each a function from its parsed options to an exit code
// (common.h). main.cc parses the command line and calls them inside a Session.
#ifndef UPAGER_TOOLS_UPAGER_COMMANDS_H_
#define UPAGER_TOOLS_UPAGER_COMMANDS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace upager::cli {

// `upager pack IN OUT`: compresses a file into a blob.
struct PackCommandOptions {
  std::string in;
  std::string out;
  std::string chunk_size = "128K";
  int level = 3;
};
int RunPack(const PackCommandOptions& options);

// `upager cat SOURCE`: writes (a range of) a source's content to stdout through a pager.
struct CatCommandOptions {
  std::string source;
  std::string offset = "0";
  std::string length;      // empty: to the end
  std::string read_ahead;  // empty: the provider's default
  std::string access;      // normal, random or sequential (Provider::SetAccessPattern)
  bool no_map = false;
  // For s3:// sources (empty: the AWS conventions: AWS_ENDPOINT_URL, AWS_REGION, AWS_PROFILE).
  std::string endpoint;
  std::string region;
  std::string profile;
  // For http(s):// and s3:// sources (negative, zero: the provider's defaults).
  int retries = -1;
  int stall_timeout = 0;  // seconds
  std::string connect;    // --connect PATH: `source` is a NAME served there (upager serve)
};
int RunCat(const CatCommandOptions& options);

// `upager serve --socket PATH NAME=SOURCE...`: serves each SOURCE's VMO under NAME,
// read-only, to other processes (VmoService), until SIGINT or SIGTERM.
struct ServeCommandOptions {
  std::string socket;
  std::vector<std::string> specs;  // NAME=SOURCE
  std::string mode;                // octal permission bits of the socket; empty: 0600
  std::string read_ahead;          // as for cat, for every source
  std::string access;
  // For s3:// sources, as for cat.
  std::string endpoint;
  std::string region;
  std::string profile;
};
int RunServe(const ServeCommandOptions& options);

// `upager demo`: packs a synthetic data set and reads it through a mapped blob, against
// plain mmap of the same data.
struct DemoCommandOptions {
  std::string size = "256M";
  int threads = 4;
  std::string chunk_size = "128K";
  std::string dir;  // empty: $TMPDIR or /tmp
  bool keep = false;
  int processes = 0;  // > 0: serve the blob to this many reader processes instead
};
int RunDemo(const DemoCommandOptions& options);

// `upager demo-reader` (hidden): one reader process of `upager demo --processes N`. Opens
// the demo's blob at `socket`, reads all of it (starting at piece index/count of it) and
// verifies it; prints "verified_pages=N errors=N seconds=S".
struct DemoReaderOptions {
  std::string socket;
  int index = 0;
  int count = 1;
};
int RunDemoReader(const DemoReaderOptions& options);

}  // namespace upager::cli

#endif  // UPAGER_TOOLS_UPAGER_COMMANDS_H_

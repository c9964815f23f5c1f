// `upager`: the command-line front end of the ready-made pagers. Parses the command line
// (CLI11), runs one subcommand inside a Session (--trace, --stats) and turns everything
// into an exit code:
//
//   0  success
//   1  failure while working: I/O error, read failure, server error mid-run (for cat
//      --connect: the serving process went away)
//   2  usage error or invalid argument: unknown option, bad number, bad URL syntax
//   3  the source cannot be opened: missing file, permission, HTTP 404, unreachable server
//      (cat --connect: no service at PATH, no such NAME, refused; serve: PATH in use)
//   4  corrupt or unsupported data: damaged blob, not a blob, unsupported blob version
//
// Every error is one line on stderr starting with "upager: ".
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench.h"
#include "commands.h"
#include "common.h"

#ifndef UPAGER_VERSION_STRING
#define UPAGER_VERSION_STRING "unknown"
#endif

namespace upager::cli {
namespace {

// A validator accepting only `choices`, listed in the error (and not in the help column).
CLI::Validator OneOf(std::vector<std::string> choices) {
  return CLI::Validator(
      [choices](std::string& value) -> std::string {
        std::string list;
        for (const std::string& c : choices) {
          if (value == c) {
            return {};
          }
          list += (list.empty() ? "" : ", ") + c;
        }
        return "'" + value + "' is not one of: " + list;
      },
      "");
}

// Adds the global options to `app`; with fallthrough they are accepted after a
// subcommand's name too.
void AddGlobalOptions(CLI::App* app, GlobalOptions* global) {
  app->add_option("--trace", global->trace_path,
                  "Record a request trace and write it to FILE (Chrome JSON, ui.perfetto.dev)")
      ->type_name("FILE");
  app->add_option("--stats", global->stats,
                  "Print the page-request counters at the end (json; stderr for cat)")
      ->check(OneOf({"json"}))
      ->type_name("json");
}

int Main(int argc, char** argv) {
  CLI::App app{
      "upager: Zircon's pager system in Linux user space. Maps files, compressed "
      "blobs and HTTP objects through a user pager.",
      "upager"};
  app.set_version_flag("--version", std::string("upager ") + UPAGER_VERSION_STRING);
  app.footer(ExitCodeHelp());
  app.require_subcommand(0, 1);

  GlobalOptions global;
  AddGlobalOptions(&app, &global);

  PackCommandOptions pack;
  CLI::App* pack_cmd = app.add_subcommand("pack", "Compress a file into an upager blob");
  pack_cmd->add_option("IN", pack.in, "File to pack")->required();
  pack_cmd->add_option("OUT", pack.out, "Blob to write")->required();
  pack_cmd
      ->add_option("--chunk-size", pack.chunk_size,
                   "Bytes per independently compressed chunk (K/M suffixes)")
      ->capture_default_str();
  pack_cmd->add_option("--level", pack.level, "zstd level, 1..19")->capture_default_str();

  CatCommandOptions cat;
  CLI::App* cat_cmd =
      app.add_subcommand("cat", "Write a SOURCE's content to stdout through a pager");
  cat_cmd
      ->add_option("SOURCE", cat.source,
                   "http(s) URL, s3://BUCKET/KEY, upager blob (detected by its magic) or plain "
                   "file")
      ->required();
  cat_cmd->add_option("--offset", cat.offset, "First byte to write (K/M/G suffixes)")
      ->capture_default_str();
  cat_cmd->add_option("--length", cat.length, "Bytes to write (default: to the end)");
  cat_cmd->add_option("--read-ahead", cat.read_ahead, "off, fixed or adaptive")
      ->check(OneOf({"off", "fixed", "adaptive"}))
      ->type_name("MODE");
  cat_cmd
      ->add_option("--access", cat.access,
                   "How the source is read: normal (adaptive read-around and read-ahead), "
                   "random (neither) or sequential (the largest read-ahead at once)")
      ->check(OneOf({"normal", "random", "sequential"}))
      ->type_name("PATTERN");
  cat_cmd->add_flag("--no-map", cat.no_map, "Read with Vmo::Read instead of a mapping");
  cat_cmd->add_option("--endpoint", cat.endpoint,
                      "S3 endpoint URL for s3:// sources (default: AWS_ENDPOINT_URL, else AWS)");
  cat_cmd->add_option("--region", cat.region, "S3 region (default: AWS_REGION, else us-east-1)");
  cat_cmd->add_option("--profile", cat.profile,
                      "AWS profile of the shared credentials file (default: AWS_PROFILE)");
  cat_cmd
      ->add_option("--retries", cat.retries,
                   "Retries of a failed range of an http(s):// or s3:// source (default 4)")
      ->check(CLI::Range(0, 100));
  cat_cmd
      ->add_option("--stall-timeout", cat.stall_timeout,
                   "Seconds an http(s):// or s3:// transfer may stall before it is retried "
                   "(default 3)")
      ->check(CLI::Range(1, 3600));
  cat_cmd
      ->add_option("--connect", cat.connect,
                   "Read SOURCE as a NAME served at the socket PATH by `upager serve`: the "
                   "same pages as every other client's, fetched once by the serving process. "
                   "--read-ahead and --access are the server's then")
      ->type_name("PATH");

  ServeCommandOptions serve;
  CLI::App* serve_cmd = app.add_subcommand(
      "serve",
      "Serve SOURCEs to other processes, read-only: each NAME=SOURCE is opened as cat opens a "
      "SOURCE (one pager source each) and exported under NAME on a Unix socket, until SIGINT "
      "or SIGTERM (exit 0). Prints one \"serving ...\" line on stdout once clients can connect");
  serve_cmd->add_option("--socket", serve.socket, "Unix socket to listen on")
      ->type_name("PATH")
      ->required();
  serve_cmd->add_option("NAME=SOURCE", serve.specs, "A name and what it serves")->required();
  serve_cmd->add_option("--mode", serve.mode, "Permission bits of the socket file (octal)")
      ->type_name("MODE")
      ->default_str("0600");
  serve_cmd->add_option("--read-ahead", serve.read_ahead, "off, fixed or adaptive (every source)")
      ->check(OneOf({"off", "fixed", "adaptive"}))
      ->type_name("MODE");
  serve_cmd->add_option("--endpoint", serve.endpoint,
                        "S3 endpoint URL for s3:// sources (default: AWS_ENDPOINT_URL, else AWS)");
  serve_cmd->add_option("--region", serve.region,
                        "S3 region (default: AWS_REGION, else us-east-1)");
  serve_cmd->add_option("--profile", serve.profile,
                        "AWS profile of the shared credentials file (default: AWS_PROFILE)");
  serve_cmd
      ->add_option("--access", serve.access,
                   "normal, random or sequential, as for cat (every source)")
      ->check(OneOf({"normal", "random", "sequential"}))
      ->type_name("PATTERN");

  DemoCommandOptions demo;
  CLI::App* demo_cmd = app.add_subcommand(
      "demo", "Pack a synthetic data set, read it through a mapped blob and compare with mmap");
  demo_cmd->add_option("--size", demo.size, "Size of the data set (K/M/G suffixes)")
      ->capture_default_str();
  demo_cmd->add_option("--threads", demo.threads, "Reader threads (half sequential, half random)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  demo_cmd->add_option("--chunk-size", demo.chunk_size, "Blob chunk size")->capture_default_str();
  demo_cmd->add_option("--dir", demo.dir,
                       "Parent of the scratch directory (default $TMPDIR or /tmp)");
  demo_cmd->add_flag("--keep", demo.keep, "Keep the scratch directory");
  demo_cmd
      ->add_option("--processes", demo.processes,
                   "Instead: serve the blob from this process to N reader processes, each "
                   "reading all of it, and report the requests and decompressions made")
      ->check(CLI::Range(1, 64));

  DemoReaderOptions demo_reader;
  CLI::App* demo_reader_cmd =
      app.add_subcommand("demo-reader", "One reader process of demo --processes");
  demo_reader_cmd->group("");  // hidden
  demo_reader_cmd->add_option("--socket", demo_reader.socket)->required();
  demo_reader_cmd->add_option("--index", demo_reader.index);
  demo_reader_cmd->add_option("--count", demo_reader.count);

  BenchOptions bench;
  CLI::App* bench_cmd = app.add_subcommand("bench", "Benchmark the providers");
  bench_cmd->add_option("--file-mib", bench.file_mib, "Size of the file scanned cold (MiB)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  bench_cmd->add_option("--blob-mib", bench.blob_mib, "Size of the blob decompressed (MiB)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  bench_cmd->add_option("--http-mib", bench.http_mib, "Size of the object fetched (MiB)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  bench_cmd->add_option("--repetitions", bench.repetitions, "Runs per measurement (median)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  bench_cmd->add_option("--dir", bench.dir,
                        "Scratch directory (default /var/tmp); with --faults, where the disk "
                        "file goes");
  bench_cmd->add_flag("--quick", bench.quick, "Small sizes, one repetition");
  CLI::Option* faults =
      bench_cmd->add_flag("--faults", bench.faults,
                          "Instead: the fault benchmark. Each page of a file touched once "
                          "(sequential, random; 1, 2 threads; tmpfs, cold disk) through "
                          "mmap, a raw userfaultfd handler and upager (loop, inline; "
                          "read-ahead off, adaptive): pages/s, ratios, context switches and "
                          "CPU per page, teardown, and the thread-scaling curve");
  bench_cmd->add_option("--size", bench.size, "--faults: size of the file (K/M/G suffixes)")
      ->needs(faults)
      ->capture_default_str();
  bench_cmd
      ->add_option("--scaling-size", bench.scaling_size,
                   "--faults: bytes faulted per point of the scaling curve")
      ->needs(faults)
      ->capture_default_str();
  bench_cmd
      ->add_option("--max-threads", bench.max_threads,
                   "--faults: the scaling curve doubles faulting threads up to this")
      ->check(CLI::Range(1, 1024))
      ->needs(faults)
      ->capture_default_str();
  bench_cmd->add_option("--tmpfs-dir", bench.tmpfs_dir, "--faults: where the tmpfs file goes")
      ->needs(faults)
      ->capture_default_str();
  bench_cmd->add_option("--json", bench.json_path, "--faults: also write the results as JSON")
      ->type_name("FILE")
      ->needs(faults);
  bench_cmd->add_option("--svg", bench.svg_path, "--faults: also write an SVG chart")
      ->type_name("FILE")
      ->needs(faults);

  for (CLI::App* sub : {pack_cmd, cat_cmd, serve_cmd, demo_cmd, demo_reader_cmd, bench_cmd}) {
    sub->fallthrough();
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      return app.exit(e);  // --help, --version
    }
    return Error(kExitUsage, std::string(e.what()) + " (see upager --help)");
  }

  if (app.get_subcommands().empty()) {
    std::fputs(app.help().c_str(), stderr);
    return kExitUsage;
  }

  if (*pack_cmd) {
    Session session(global, /*want_latency=*/false);
    return session.End(RunPack(pack), stdout);
  }
  if (*cat_cmd) {
    Session session(global, /*want_latency=*/false);
    return session.End(RunCat(cat), stderr);  // stdout carries the data
  }
  if (*serve_cmd) {
    Session session(global, /*want_latency=*/false);
    return session.End(RunServe(serve), stdout);
  }
  if (*demo_reader_cmd) {
    return RunDemoReader(demo_reader);
  }
  if (*demo_cmd) {
    Session session(global, /*want_latency=*/true);
    return session.End(RunDemo(demo), stdout);
  }
  Session session(global, /*want_latency=*/false);
  return session.End(RunBench(bench), stdout);
}

}  // namespace
}  // namespace upager::cli

int main(int argc, char** argv) {
  try {
    return upager::cli::Main(argc, argv);
  } catch (const std::exception& e) {
    return upager::cli::Error(upager::cli::kExitFailure,
                              std::string("internal error: ") + e.what());
  }
}

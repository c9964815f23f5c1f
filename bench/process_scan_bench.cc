// process_scan_bench: N reader processes scanning one blob served by one pager process,
// against one reader.
//
// The pager (this process) serves a blob through a BlobProvider. For N = 1, 2, 4, 8 it
// starts N child processes, sends each a read-only handle to the blob's VMO over a Channel,
// and each child maps it and reads every page once, all at the same time. For each N, with
// a fresh provider: the wall time, what the provider did (READ packets, reads of the blob,
// chunks decompressed) and the memory: the VMO's committed bytes (its memfd: the one copy
// every process maps) and the most private memory (RssAnon) of any child. One process's
// figures are the baseline: the provider's reads and chunks should not grow with N, nor
// should the pages held.
//
//   UPAGER_BENCH_SCAN_MIB (default 256), UPAGER_BENCH_SCAN_MAX (largest N, default 8),
//   UPAGER_BENCH_DIR (default /var/tmp)
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "upager/channel.h"
#include "upager/mapping.h"
#include "upager/pager_loop.h"
#include "upager/providers/blob_format.h"
#include "upager/providers/blob_provider.h"
#include "upager/rights.h"
#include "upager/vmo.h"

extern char** environ;

namespace {

constexpr int kChildFd = 3;

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::strtoull(v, nullptr, 0) : fallback;
}

// The child's private memory (kB), from /proc/self/status.
uint64_t RssAnonKb() {
  FILE* f = std::fopen("/proc/self/status", "r");
  char line[256];
  uint64_t kb = 0;
  while (f != nullptr && std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, "RssAnon:", 8) == 0) kb = std::strtoull(line + 8, nullptr, 10);
  }
  if (f != nullptr) std::fclose(f);
  return kb;
}

// A reader: maps the VMO it is sent, reads a word of every page, answers with the sum and
// its private memory.
int Child() {
  upager::Channel parent;
  if (upager::Channel::FromFd(kChildFd, &parent) != upager::Status::kOk) return 2;
  if (parent.Wait(upager::kInfiniteDeadline) != upager::Status::kOk) return 3;
  uint64_t size = 0;
  uint32_t n = 0, h = 0;
  upager::Vmo vmo;
  if (parent.Read(&size, sizeof size, &n, &vmo, 1, &h) != upager::Status::kOk) return 4;
  upager::Mapping map;
  if (upager::Mapping::Create(vmo, 0, size, upager::kMapRead, &map) != upager::Status::kOk) {
    return 5;
  }
  uint64_t sum = 0;
  for (uint64_t off = 0; off < size; off += upager::kPageSize) {
    sum += *reinterpret_cast<const volatile uint64_t*>(map.data() + off);
  }
  const uint64_t answer[2] = {sum, RssAnonKb()};
  parent.Write(answer, sizeof answer, nullptr, 0);
  return 0;
}

struct Reader {
  pid_t pid = -1;
  upager::Channel channel;
};

Reader Spawn() {
  Reader r;
  upager::Channel theirs;
  upager::Channel::Create(0, &r.channel, &theirs);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, theirs.fd(), kChildFd);
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
  std::string role = "UPAGER_SCAN_BENCH_CHILD=1";
  env.push_back(role.data());
  env.push_back(nullptr);
  char exe[] = "/proc/self/exe";
  char* argv[] = {exe, nullptr};
  if (posix_spawn(&r.pid, exe, &actions, nullptr, argv, env.data()) != 0) std::exit(1);
  posix_spawn_file_actions_destroy(&actions);
  return r;
}

}  // namespace

int main() {
  if (std::getenv("UPAGER_SCAN_BENCH_CHILD") != nullptr) return Child();
  const uint64_t mib = EnvOr("UPAGER_BENCH_SCAN_MIB", 256);
  const uint64_t max_readers = EnvOr("UPAGER_BENCH_SCAN_MAX", 8);
  const char* dir =
      std::getenv("UPAGER_BENCH_DIR") != nullptr ? std::getenv("UPAGER_BENCH_DIR") : "/var/tmp";
  if (upager::MappingSupport() != upager::Status::kOk) {
    std::fprintf(stderr, "process_scan_bench: no mappings here\n");
    return 1;
  }
  // Content that compresses about 3:1: random bytes in runs.
  // (snprintf: g++ 12 warns, wrongly, on string concatenation here.)
  char raw_path[512];
  std::snprintf(raw_path, sizeof raw_path, "%s/upager-scan-%d", dir, static_cast<int>(getpid()));
  const std::string raw = raw_path;
  const std::string blob = raw + ".blob";
  {
    std::vector<unsigned char> data(mib << 20);
    std::mt19937_64 rng(11);
    for (size_t i = 0; i < data.size(); i += 4) {
      const unsigned char b = static_cast<unsigned char>(rng());
      std::memset(&data[i], b, 4);
      if (i % 12 == 0) data[i] = static_cast<unsigned char>(rng());
    }
    FILE* f = std::fopen(raw.c_str(), "wb");
    std::fwrite(data.data(), 1, data.size(), f);
    std::fclose(f);
  }
  if (upager::PackBlob(raw, blob, upager::PackOptions{}) != upager::Status::kOk) return 1;
  std::remove(raw.c_str());

  std::printf(
      "## process_scan_bench: N processes each reading every page of one %llu MiB blob "
      "served by one pager process\n\n",
      static_cast<unsigned long long>(mib));
  std::printf(
      "| readers | seconds | READ packets | blob reads | chunks decompressed | VMO committed MiB "
      "| most private MiB of a reader | reads / 1 reader's |\n"
      "|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  uint64_t base_reads = 0;
  for (uint64_t n = 1; n <= max_readers; n *= 2) {
    upager::PagerLoop loop(2);
    loop.Start();
    std::unique_ptr<upager::BlobProvider> provider;
    if (upager::BlobProvider::Create(&loop, blob, upager::BlobProviderOptions{}, &provider) !=
        upager::Status::kOk) {
      return 1;
    }
    std::vector<Reader> readers;
    for (uint64_t i = 0; i < n; ++i) readers.push_back(Spawn());
    const uint64_t size = provider->vmo_size();
    const auto t0 = std::chrono::steady_clock::now();
    for (Reader& r : readers) {
      upager::Vmo handle;
      provider->vmo().Duplicate(upager::kRightRead | upager::kRightMap | upager::kRightTransfer,
                                &handle);
      r.channel.Write(&size, sizeof size, &handle, 1);
    }
    uint64_t sum = 0, most_private_kb = 0;
    for (Reader& r : readers) {
      uint64_t answer[2] = {};
      uint32_t bytes = 0, h = 0;
      if (r.channel.Wait(upager::kInfiniteDeadline) != upager::Status::kOk ||
          r.channel.Read(answer, sizeof answer, &bytes, nullptr, 0, &h) != upager::Status::kOk) {
        std::fprintf(stderr, "process_scan_bench: a reader failed\n");
        return 1;
      }
      if (sum != 0 && answer[0] != sum) {
        std::fprintf(stderr, "process_scan_bench: readers saw different bytes\n");
        return 1;
      }
      sum = answer[0];
      most_private_kb = std::max(most_private_kb, answer[1]);
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (Reader& r : readers) {
      int status = 0;
      waitpid(r.pid, &status, 0);
    }
    const upager::ProviderStats st = provider->stats();
    upager::VmoInfo info{};
    provider->vmo().GetInfo(&info);
    if (n == 1) base_reads = st.reads;
    std::printf(
        "| %llu | %.2f | %llu | %llu | %llu | %.1f | %.1f | %.2fx |\n",
        static_cast<unsigned long long>(n), seconds, static_cast<unsigned long long>(st.requests),
        static_cast<unsigned long long>(st.reads), static_cast<unsigned long long>(st.cache_misses),
        static_cast<double>(info.committed_bytes) / (1 << 20),
        static_cast<double>(most_private_kb) / 1024,
        base_reads > 0 ? static_cast<double>(st.reads) / base_reads : 0.0);
  }
  std::remove(blob.c_str());
  return 0;
}

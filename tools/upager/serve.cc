// `upager serve`: opens each NAME=SOURCE as `upager cat` opens a SOURCE (one provider, one
// PageSource each) and exports its VMO under NAME, read-only, on a Unix socket
// (VmoService), until SIGINT or SIGTERM.
#include <pthread.h>
#include <signal.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "common.h"
#include "source.h"
#include "upager/mapping.h"
#include "upager/pager_loop.h"
#include "upager/vmo_service.h"

namespace upager::cli {
namespace {

struct Served {
  std::string name;
  std::string source;
  OpenedSource opened;  // opened once the loop runs; closed before it stops
};

// Splits NAME=SOURCE; false if either side is empty or NAME is no valid name.
bool SplitSpec(const std::string& spec, std::string* name, std::string* source) {
  const size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size() || eq > kVmoServiceMaxName) {
    return false;
  }
  *name = spec.substr(0, eq);
  *source = spec.substr(eq + 1);
  return true;
}

int ListenFailure(const std::string& path, Status s) {
  const std::string what = "cannot serve on '" + path + "': ";
  switch (s) {
    case Status::kInvalidArgs:
      return Error(kExitUsage, what + "not a valid socket path (at most 107 bytes)");
    case Status::kAlreadyExists:
      return Error(kExitCannotOpen,
                   what + "a service is running there, or it is not a socket file");
    case Status::kNotFound: return Error(kExitCannotOpen, what + "no such directory");
    case Status::kAccessDenied: return Error(kExitCannotOpen, what + "permission denied");
    default: return Error(kExitFailure, what + StatusDescription(s));
  }
}

}  // namespace

int RunServe(const ServeCommandOptions& options) {
  std::optional<ReadAheadMode> read_ahead;
  AccessPattern access = AccessPattern::kNormal;
  if (int code = ParseReadPolicy(options.read_ahead, options.access, &read_ahead, &access);
      code != kExitOk) {
    return code;
  }
  mode_t mode = 0600;
  if (!options.mode.empty()) {
    char* end = nullptr;
    const unsigned long m = std::strtoul(options.mode.c_str(), &end, 8);
    if (end == options.mode.c_str() || *end != '\0' || m > 0777) {
      return Error(kExitUsage, "invalid --mode '" + options.mode + "' (octal, like 0600)");
    }
    mode = static_cast<mode_t>(m);
  }
  std::vector<std::string> names(options.specs.size()), sources(options.specs.size());
  for (size_t i = 0; i < options.specs.size(); ++i) {
    if (!SplitSpec(options.specs[i], &names[i], &sources[i])) {
      return Error(kExitUsage, "invalid '" + options.specs[i] + "': expected NAME=SOURCE");
    }
    for (size_t j = 0; j < i; ++j) {
      if (names[j] == names[i]) {
        return Error(kExitUsage, "the name '" + names[i] + "' is given twice");
      }
    }
  }

  // SIGINT and SIGTERM are taken by sigwait below: blocked before any thread starts, so
  // that every thread inherits the mask and none of them is interrupted.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  PagerLoop loop(2);
  if (Status s = loop.Start(); s != Status::kOk) {
    return Error(kExitFailure, std::string("cannot start the pager: ") + StatusDescription(s));
  }
  std::vector<Served> served(names.size());
  for (size_t i = 0; i < served.size(); ++i) {
    served[i].name = names[i];
    served[i].source = sources[i];
  }
  RemoteSourceOptions remote;  // for s3:// sources
  remote.endpoint = options.endpoint;
  remote.region = options.region;
  remote.profile = options.profile;
  for (Served& s : served) {
    if (int code = OpenSource(&loop, s.source, read_ahead, &s.opened, remote); code != kExitOk) {
      return code;
    }
    s.opened.provider->SetAccessPattern(access);
  }
  // Clients map what they open: their faults are served here, by the fault layer, which
  // MappingSupport starts (where userfaultfd is refused, clients read with Vmo::Read).
  MappingSupport();
  VmoServiceOptions service_options;
  service_options.mode = mode;
  std::unique_ptr<VmoService> service;
  if (Status s = VmoService::Create(options.socket, service_options, &service); s != Status::kOk) {
    return ListenFailure(options.socket, s);
  }
  for (const Served& s : served) {
    const Provider& p = *s.opened.provider;
    if (Status e = service->Export(s.name, p.vmo(), kServedReadOnlyRights, p.content_size());
        e != Status::kOk) {
      return Error(kExitFailure,
                   "cannot export '" + s.name + "': " + std::string(StatusDescription(e)));
    }
  }
  // The one line that says the service is up (tests wait for it).
  std::printf("serving %zu name%s on %s:", served.size(), served.size() == 1 ? "" : "s",
              options.socket.c_str());
  for (const Served& s : served) {
    std::printf(" %s (%s, %" PRIu64 " bytes)", s.name.c_str(), SourceKindName(s.opened.kind),
                s.opened.provider->content_size());
  }
  std::printf("\n");
  std::fflush(stdout);

  int signo = 0;
  while (sigwait(&stop_signals, &signo) != 0) {
  }
  // Stop taking clients first; handles given out keep the VMOs until this process exits.
  service.reset();
  std::fprintf(stderr, "upager: serve: stopped by %s\n", signo == SIGINT ? "SIGINT" : "SIGTERM");
  return kExitOk;
}

}  // namespace upager::cli

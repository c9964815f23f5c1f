// NginxServer: a throw-away nginx on 127.0.0.1, for the HTTP tests and `upager bench`. It
// serves a fresh temporary directory (www()) at a free port, runs as a single foreground
// process of ours (no daemon, no master), and is killed and reaped when the object goes
// away. Start() may be called again after Stop(): the server comes back on the same port,
// as a restarted server would.
//
// Besides plain files, the config has a few locations that misbehave on purpose:
//   /forbidden/...  always 403
//   /noranges/...   files served without byte-range support (max_ranges 0)
//   /error503       always 503
//
// Shared by tests/ and tools/ (the top of the layers, so nothing in src/ may use it).
#ifndef UPAGER_TOOLS_COMMON_NGINX_SERVER_H_
#define UPAGER_TOOLS_COMMON_NGINX_SERVER_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace upager::tools {

class NginxServer {
 public:
  static constexpr const char* kBinary = "/usr/sbin/nginx";

  // Whether nginx can be run here; `why` says what is missing.
  static bool Available(std::string* why);

  // The temporary directory is made in `parent`; empty: $TMPDIR, else /tmp.
  explicit NginxServer(const std::string& parent = "");
  ~NginxServer();
  NginxServer(const NginxServer&) = delete;
  NginxServer& operator=(const NginxServer&) = delete;

  // Starts nginx and waits (up to 5 s) until it accepts connections. Must be called from
  // the thread that will outlive the server (the child dies with the forking thread).
  bool Start(std::string* why);
  // SIGTERM, then SIGKILL if it lingers; reaps the process.
  void Stop();

  bool running() const { return pid_ > 0; }
  uint16_t port() const { return port_; }
  std::string www() const { return dir_ + "/www"; }
  // "http://127.0.0.1:PORT/path" (`path` without the leading slash).
  std::string Url(std::string_view path) const;
  // Writes www()/`path`.
  bool WriteFile(std::string_view path, std::string_view data) const;

  // A port nothing listens on right now (bound to port 0, read, closed).
  static bool FreePort(uint16_t* port, std::string* why);

 private:
  bool WriteConfig(std::string* why) const;
  bool Accepts() const;

  std::string dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace upager::tools

#endif  // UPAGER_TOOLS_COMMON_NGINX_SERVER_H_

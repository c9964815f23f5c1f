#include "common/nginx_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace upager::tools {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  return addr;
}

}  // namespace

bool NginxServer::Available(std::string* why) {
  if (access(kBinary, X_OK) != 0) {
    *why = std::string(kBinary) + " is not installed (apt-get install nginx-light)";
    return false;
  }
  return true;
}

NginxServer::NginxServer(const std::string& parent) {
  std::string base = parent;
  if (base.empty()) {
    const char* tmpdir = std::getenv("TMPDIR");
    base = tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp";
  }
  std::string pattern = base + "/upager-nginx-XXXXXX";
  if (mkdtemp(pattern.data()) != nullptr) {
    dir_ = pattern;
    std::filesystem::create_directories(dir_ + "/www/forbidden");
    std::filesystem::create_directories(dir_ + "/www/noranges");
  }
}

NginxServer::~NginxServer() {
  Stop();
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

bool NginxServer::Start(std::string* why) {
  if (pid_ > 0) return true;
  // libcurl honours proxy variables; a machine with a proxy must not route loopback
  // through it.
  setenv("no_proxy", "127.0.0.1,localhost", 1);
  setenv("NO_PROXY", "127.0.0.1,localhost", 1);
  if (dir_.empty()) {
    *why = "cannot create a temporary directory";
    return false;
  }
  if (port_ == 0 && !FreePort(&port_, why)) return false;
  if (!WriteConfig(why)) return false;

  const std::string conf = dir_ + "/nginx.conf";
  const std::string error_log = dir_ + "/error.log";
  const std::string output = dir_ + "/output.log";
  const std::string prefix = dir_ + "/";
  // Everything the child needs is prepared before fork: after it, only exec-safe calls.
  const char* argv[] = {kBinary,      "-p", prefix.c_str(),    "-c",
                        conf.c_str(), "-e", error_log.c_str(), nullptr};
  const int out_fd = open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    *why = "fork failed";
    if (out_fd >= 0) close(out_fd);
    if (null_fd >= 0) close(null_fd);
    return false;
  }
  if (pid == 0) {
    // Dies with its parent (the death signal follows the forking *thread*).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(126);
    if (null_fd >= 0) dup2(null_fd, 0);
    if (out_fd >= 0) {
      dup2(out_fd, 1);
      dup2(out_fd, 2);
    }
    execv(kBinary, const_cast<char* const*>(argv));
    _exit(127);
  }
  if (out_fd >= 0) close(out_fd);
  if (null_fd >= 0) close(null_fd);
  pid_ = pid;

  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < give_up) {
    int wstatus = 0;
    if (waitpid(pid_, &wstatus, WNOHANG) == pid_) {
      pid_ = -1;
      *why = "nginx exited at start: " + ReadFile(output) + ReadFile(error_log);
      return false;
    }
    if (Accepts()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  Stop();
  *why = "nginx did not accept connections within 5 s: " + ReadFile(error_log);
  return false;
}

void NginxServer::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (std::chrono::steady_clock::now() < give_up) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string NginxServer::Url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/" + std::string(path);
}

bool NginxServer::WriteFile(std::string_view path, std::string_view data) const {
  std::ofstream out(dir_ + "/www/" + std::string(path), std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  return static_cast<bool>(out);
}

bool NginxServer::FreePort(uint16_t* port, std::string* why) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *why = "socket failed";
    return false;
  }
  sockaddr_in addr = Loopback(0);
  socklen_t len = sizeof(addr);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  close(fd);
  if (!ok) {
    *why = "cannot bind a socket on 127.0.0.1";
    return false;
  }
  *port = ntohs(addr.sin_port);
  return true;
}

bool NginxServer::WriteConfig(std::string* why) const {
  std::ostringstream c;
  c << "daemon off;\n"
    << "master_process off;\n"
    << "worker_processes 1;\n"
    << "pid " << dir_ << "/nginx.pid;\n"
    << "error_log " << dir_ << "/error.log warn;\n"
    << "events { worker_connections 256; }\n"
    << "http {\n"
    << "  access_log off;\n"
    << "  client_body_temp_path " << dir_ << "/client_body;\n"
    << "  proxy_temp_path " << dir_ << "/proxy;\n"
    << "  fastcgi_temp_path " << dir_ << "/fastcgi;\n"
    << "  uwsgi_temp_path " << dir_ << "/uwsgi;\n"
    << "  scgi_temp_path " << dir_ << "/scgi;\n"
    << "  default_type application/octet-stream;\n"
    << "  sendfile on;\n"
    << "  keepalive_timeout 60s;\n"
    << "  keepalive_requests 100000;\n"
    << "  server {\n"
    << "    listen 127.0.0.1:" << port_ << ";\n"
    << "    root " << dir_ << "/www;\n"
    << "    location /forbidden/ { deny all; }\n"
    << "    location /noranges/ { max_ranges 0; }\n"
    << "    location = /error503 { return 503; }\n"
    << "  }\n"
    << "}\n";
  std::ofstream out(dir_ + "/nginx.conf", std::ios::trunc);
  out << c.str();
  if (!out) {
    *why = "cannot write nginx.conf";
    return false;
  }
  return true;
}

bool NginxServer::Accepts() const {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const sockaddr_in addr = Loopback(port_);
  const bool ok = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

}  // namespace upager::tools

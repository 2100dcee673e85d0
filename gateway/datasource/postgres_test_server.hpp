// A throwaway PostgreSQL server for tests: initdb + pg_ctl from /usr/lib/postgresql/*/bin in a
// scratch directory, listening on 127.0.0.1 only, on a free ephemeral port, with its Unix
// socket in the scratch directory. As root the server runs as the `postgres` user (runuser).
// Header-only so that any test binary (data sources, the agent) can include it.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"

extern char** environ;

namespace gwprobe::gateway::datasource::testing {

class PostgresTestServer {
 public:
  /// Seconds any one server command (initdb, pg_ctl, psql) may take before `timeout` kills it.
  static constexpr int kCommandTimeoutSeconds = 120;
  /// pg_ctl's own wait for start and stop (-t).
  static constexpr int kPgCtlWaitSeconds = 60;

  /// The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl, or nullopt.
  static std::optional<std::filesystem::path> find_bindir() {
    std::vector<std::filesystem::path> found;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
      const auto bin = entry.path() / "bin";
      if (std::filesystem::exists(bin / "initdb", ec) &&
          std::filesystem::exists(bin / "pg_ctl", ec)) {
        found.push_back(bin);
      }
    }
    if (found.empty()) return std::nullopt;
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
      return std::stoi(a.parent_path().filename().string()) <
             std::stoi(b.parent_path().filename().string());
    });
    return found.back();
  }

  /// Why tests needing a server cannot run here (no binaries, no postgres user as root), or
  /// nullopt when they can.
  static std::optional<std::string> unavailable_reason() {
    if (!find_bindir()) {
      return "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (install the "
             "`postgresql` package: scripts/setup.sh does)";
    }
    if (::geteuid() == 0 && ::getpwnam("postgres") == nullptr) {
      return "running as root but there is no `postgres` user to run the server as";
    }
    return std::nullopt;
  }

  PostgresTestServer() {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("gwprobe-pg-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
  }
  ~PostgresTestServer() {
    (void)stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  PostgresTestServer(const PostgresTestServer&) = delete;
  PostgresTestServer& operator=(const PostgresTestServer&) = delete;

  /// initdb (scram-sha-256 over TCP, trust on the socket) and start on a free port.
  core::Result<void> init_and_start() {
    auto bindir = find_bindir();
    if (!bindir) return core::fail(core::FailureKind::not_found, *unavailable_reason());
    bindir_ = *bindir;
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    std::filesystem::create_directories(dir_, ec);
    if (ec) return core::fail(core::FailureKind::io, "cannot create " + dir_.string());
    if (::geteuid() == 0) {
      const passwd* user = ::getpwnam("postgres");
      if (user == nullptr) return core::fail(core::FailureKind::not_found, "no postgres user");
      if (::chown(dir_.c_str(), user->pw_uid, user->pw_gid) != 0) {
        return core::fail(core::FailureKind::io, "cannot chown " + dir_.string());
      }
    }
    if (auto done = run("initdb", {(bindir_ / "initdb").string(), "-D", data_dir(), "-U",
                                   "postgres", "--auth-local=trust", "--auth-host=scram-sha-256",
                                   "--no-sync", "-E", "UTF8", "--no-locale"});
        !done) {
      return done;
    }
    return start();
  }

  /// pg_ctl start on a fresh free port (again after stop()).
  core::Result<void> start() {
    auto port = free_port();
    if (!port) return core::fail(port.error());
    port_ = *port;
    auto started =
        run("pg_ctl-start",
            {(bindir_ / "pg_ctl").string(), "-D", data_dir(), "-l",
             (dir_ / "postgres.log").string(), "-w", "-t", std::to_string(kPgCtlWaitSeconds), "-o",
             "-k " + dir_.string() + " -c listen_addresses=127.0.0.1 -p " + std::to_string(port_) +
                 " -c fsync=off",
             "start"});
    if (started) running_ = true;
    return started;
  }

  /// pg_ctl stop -m immediate; a no-op when not running.
  core::Result<void> stop() {
    if (!running_) return {};
    running_ = false;
    return run("pg_ctl-stop", {(bindir_ / "pg_ctl").string(), "-D", data_dir(), "-m", "immediate",
                               "-w", "-t", std::to_string(kPgCtlWaitSeconds), "stop"});
  }

  /// Runs SQL as the superuser over the Unix socket (trust), stopping at the first error.
  core::Result<void> psql(const std::string& database, const std::string& sql) {
    return run("psql",
               {(bindir_ / "psql").string(), "-h", dir_.string(), "-p", std::to_string(port_), "-U",
                "postgres", "-d", database, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql});
  }

  int port() const { return port_; }
  /// key=value conninfo for `user` on 127.0.0.1 (TCP, so scram authentication applies).
  std::string conninfo(const std::string& database, const std::string& user) const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + database + " user=" + user;
  }

 private:
  std::string data_dir() const { return (dir_ / "data").string(); }

  static core::Result<int> free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return core::fail(core::FailureKind::io, "socket() failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t size = sizeof addr;
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size) == 0;
    ::close(fd);
    if (!ok) return core::fail(core::FailureKind::io, "no free port on 127.0.0.1");
    return static_cast<int>(ntohs(addr.sin_port));
  }

  // Runs argv (as postgres when root), bounded by `timeout`, its output in <dir>/<label>.log.
  core::Result<void> run(const std::string& label, std::vector<std::string> argv) {
    std::vector<std::string> full = {"timeout", std::to_string(kCommandTimeoutSeconds)};
    if (::geteuid() == 0) full.insert(full.end(), {"runuser", "-u", "postgres", "--"});
    full.insert(full.end(), argv.begin(), argv.end());
    std::vector<char*> args;
    for (auto& a : full) args.push_back(a.data());
    args.push_back(nullptr);

    const std::string log = (dir_ / (label + ".log")).string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    // The postgres user may not be allowed into the test's working directory.
    posix_spawn_file_actions_addchdir_np(&actions, dir_.c_str());
    pid_t pid = -1;
    const int spawned = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) return core::fail(core::FailureKind::io, "cannot start " + label);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
    std::ifstream in(log);
    std::string output{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (output.size() > 2000) output = output.substr(output.size() - 2000);
    return core::fail(core::FailureKind::io, label + " failed: " + output);
  }

  std::filesystem::path dir_;
  std::filesystem::path bindir_;
  int port_ = 0;
  bool running_ = false;
};

}  // namespace gwprobe::gateway::datasource::testing

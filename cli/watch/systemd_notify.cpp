// A datagram to systemd's notification socket.
#include "cli/watch/systemd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "core/unique_fd.hpp"

namespace gwprobe::cli::watch {

bool notify_socket(const std::string& socket_name, std::string_view state) {
  if (socket_name.empty() || socket_name.size() >= sizeof(sockaddr_un::sun_path)) return false;
  if (socket_name[0] != '/' && socket_name[0] != '@') return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, socket_name.data(), socket_name.size());
  auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_name.size());
  if (socket_name[0] == '@') {
    address.sun_path[0] = '\0';  // abstract namespace: no terminating NUL counted
  } else {
    ++length;
  }
  core::UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return false;
  const ssize_t sent = ::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
                                reinterpret_cast<const sockaddr*>(&address), length);
  return sent == static_cast<ssize_t>(state.size());
}

bool notify_systemd(std::string_view state) {
  const char* name = std::getenv("NOTIFY_SOCKET");  // NOLINT(concurrency-mt-unsafe): read-only
  if (name == nullptr) return false;
  return notify_socket(name, state);
}

}  // namespace gwprobe::cli::watch

// sd_notify without libsystemd: the datagrams arrive on a socket the test binds, as systemd's.
#include "cli/watch/systemd_notify.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include "core/unique_fd.hpp"
#include "tests/fixtures/scratch_dir.hpp"

namespace gwprobe::cli::watch {
namespace {

/// A datagram socket bound at `name` (a path, or "@..." for the abstract namespace).
core::UniqueFd bind_notify_socket(const std::string& name) {
  core::UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, name.data(), name.size());
  auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
  if (name[0] == '@') {
    address.sun_path[0] = '\0';
  } else {
    ++length;
  }
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), length), 0);
  return fd;
}

std::string receive(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 10'000) != 1) return "(nothing)";
  char buffer[256];
  const auto n = ::recv(fd, buffer, sizeof buffer, 0);
  return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : "(error)";
}

TEST(SystemdNotify, SendsTheStateToAPathSocket) {
  testing::ScratchDir dir;
  const std::string path = dir.path() + "/notify";
  const auto fd = bind_notify_socket(path);
  EXPECT_TRUE(notify_socket(path, "READY=1"));
  EXPECT_EQ(receive(fd.get()), "READY=1");
  EXPECT_TRUE(notify_socket(path, "STATUS=READY: 3 passed"));
  EXPECT_EQ(receive(fd.get()), "STATUS=READY: 3 passed");
}

TEST(SystemdNotify, SendsToAnAbstractSocket) {
  const std::string name = "@gwprobe-watch-test-" + std::to_string(::getpid());
  const auto fd = bind_notify_socket(name);
  EXPECT_TRUE(notify_socket(name, "STOPPING=1"));
  EXPECT_EQ(receive(fd.get()), "STOPPING=1");
}

TEST(SystemdNotify, IsANoOpWithoutASocketAndRefusesNonsense) {
  EXPECT_FALSE(notify_socket("", "READY=1"));
  EXPECT_FALSE(notify_socket("relative/path", "READY=1"));
  EXPECT_FALSE(notify_socket("/nonexistent-gwprobe/notify", "READY=1"));
  EXPECT_FALSE(notify_socket("/" + std::string(200, 'x'), "READY=1"));
}

}  // namespace
}  // namespace gwprobe::cli::watch

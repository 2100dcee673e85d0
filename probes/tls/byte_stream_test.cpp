// SocketStream and wait_for_io on a socketpair: the transport contract the handshake relies on.
#include "probes/tls/byte_stream.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <thread>

namespace gwprobe::probes::tls {
namespace {

struct Pair {
  std::unique_ptr<SocketStream> ours;
  core::UniqueFd theirs;
};

Pair make_pair() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  return Pair{std::make_unique<SocketStream>(core::UniqueFd(fds[0])), core::UniqueFd(fds[1])};
}

TEST(SocketStream, TurnsNagleOffOnATcpSocket) {
  // A listening loopback socket and a connected client (connect() to a listening socket
  // completes from the backlog without accept()).
  core::UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(listener);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener.get(), 1), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);
  core::UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  int before = 1;
  socklen_t size = sizeof before;
  ASSERT_EQ(::getsockopt(client.get(), IPPROTO_TCP, TCP_NODELAY, &before, &size), 0);
  EXPECT_EQ(before, 0);  // the kernel's default: Nagle on

  const SocketStream stream(std::move(client));
  int after = 0;
  ASSERT_EQ(::getsockopt(stream.poll_fd(), IPPROTO_TCP, TCP_NODELAY, &after, &size), 0);
  EXPECT_NE(after, 0);
}

TEST(SocketStream, ReportsWouldBlockDataAndOrderlyClose) {
  auto p = make_pair();
  std::byte buf[16];
  EXPECT_EQ(p.ours->read_some(buf).status, IoStatus::would_block);

  ASSERT_EQ(::send(p.theirs.get(), "hello", 5, 0), 5);
  const auto r = p.ours->read_some(buf);
  EXPECT_EQ(r.status, IoStatus::ok);
  EXPECT_EQ(r.bytes, 5u);

  const std::byte out[] = {std::byte{'x'}};
  EXPECT_EQ(p.ours->write_some(out).bytes, 1u);
  char got = 0;
  ASSERT_EQ(::recv(p.theirs.get(), &got, 1, 0), 1);
  EXPECT_EQ(got, 'x');

  p.theirs.reset();
  EXPECT_EQ(p.ours->read_some(buf).status, IoStatus::closed);
  const auto w = p.ours->write_some(out);
  EXPECT_EQ(w.status, IoStatus::error);
  EXPECT_EQ(w.sys_errno, EPIPE);  // and no SIGPIPE killed the test
}

TEST(StreamBio, CountsBytesAndSeesEndOfStream) {
  auto p = make_pair();
  BioPtr bio = make_stream_bio(*p.ours);
  ASSERT_TRUE(bio);
  ASSERT_EQ(::send(p.theirs.get(), "abc", 3, 0), 3);
  char buf[8];
  EXPECT_EQ(BIO_read(bio.get(), buf, sizeof buf), 3);
  EXPECT_LE(BIO_read(bio.get(), buf, sizeof buf), 0);
  EXPECT_TRUE(BIO_should_retry(bio.get()));
  EXPECT_TRUE(BIO_should_read(bio.get()));
  EXPECT_EQ(BIO_write(bio.get(), "xy", 2), 2);
  char peer[2];
  ASSERT_EQ(::recv(p.theirs.get(), peer, 2, 0), 2);  // unread data would turn close into a reset
  p.theirs.reset();
  EXPECT_LE(BIO_read(bio.get(), buf, sizeof buf), 0);
  EXPECT_FALSE(BIO_should_retry(bio.get()));
  const auto stats = stream_bio_stats(bio.get());
  EXPECT_EQ(stats.bytes_read, 3u);
  EXPECT_EQ(stats.bytes_written, 2u);
  EXPECT_TRUE(stats.eof);
  EXPECT_EQ(BIO_get_fd(bio.get(), nullptr), -1);
}

TEST(StreamBio, StatsOfAnotherKindOfBioAreZero) {
  BioPtr mem(BIO_new(BIO_s_mem()));
  EXPECT_EQ(stream_bio_stats(mem.get()).bytes_read, 0u);
  EXPECT_EQ(stream_bio_stats(nullptr).bytes_read, 0u);
}

TEST(WaitForIo, ReturnsReadyTimedOutOrCancelled) {
  auto p = make_pair();
  core::CancelToken cancel;
  EXPECT_EQ(wait_for_io(p.ours->poll_fd(), POLLOUT, core::Deadline::never(), cancel),
            WaitOutcome::ready);
  EXPECT_EQ(wait_for_io(p.ours->poll_fd(), POLLIN,
                        core::Deadline::after(std::chrono::milliseconds(20)), cancel),
            WaitOutcome::timed_out);
  EXPECT_EQ(
      wait_for_io(p.ours->poll_fd(), POLLIN, core::Deadline::after(std::chrono::hours(0)), cancel),
      WaitOutcome::timed_out);

  std::thread canceller([&] { cancel.cancel(); });
  EXPECT_EQ(wait_for_io(p.ours->poll_fd(), POLLIN, core::Deadline::never(), cancel),
            WaitOutcome::cancelled);
  canceller.join();
}

}  // namespace
}  // namespace gwprobe::probes::tls

// Live capture on loopback (root only: skipped loudly otherwise), plus the parts of the session
// API that need no privilege.
#include "probes/capture/capture_session.hpp"

#include <arpa/inet.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>

#include "core/unique_fd.hpp"
#include "probes/capture/interface_route.hpp"
#include "probes/tcp/tcp_probe.hpp"
#include "tests/fixtures/subprocess.hpp"

namespace gwprobe::probes::capture {
namespace {

using core::UniqueFd;
using ::testing::HasSubstr;

#define SKIP_UNLESS_ROOT()                                                                     \
  do {                                                                                         \
    if (::geteuid() != 0) {                                                                    \
      std::cerr << "*** SKIPPED: live packet capture needs root (CAP_NET_RAW); run the tests " \
                   "as root to cover it ***\n";                                                \
      GTEST_SKIP() << "live packet capture needs root";                                        \
    }                                                                                          \
  } while (false)

/// A scratch directory removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    // Parameterised test names hold a '/', which must not become a subdirectory.
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '-');
    path = std::filesystem::temp_directory_path() /
           ("gwprobe-capture-" + std::to_string(::getpid()) + "-" + name);
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

/// Loopback sockets for one address family.
struct Loopback {
  bool v6 = false;
  std::string host() const { return v6 ? "::1" : "127.0.0.1"; }

  sockaddr_storage address(std::uint16_t port) const {
    sockaddr_storage ss{};
    if (v6) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
      in6->sin6_family = AF_INET6;
      in6->sin6_addr = in6addr_loopback;
      in6->sin6_port = htons(port);
    } else {
      auto* in = reinterpret_cast<sockaddr_in*>(&ss);
      in->sin_family = AF_INET;
      in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      in->sin_port = htons(port);
    }
    return ss;
  }
  socklen_t length() const { return v6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in); }

  /// A socket bound to a free port; listening or not (a bound, non-listening port answers every
  /// SYN with a reset, and nobody else can take it meanwhile).
  std::pair<UniqueFd, std::uint16_t> bound(bool listening) const {
    UniqueFd fd(::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    auto ss = address(0);
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), length()), 0);
    if (listening) {
      EXPECT_EQ(::listen(fd.get(), 8), 0);
    }
    socklen_t len = sizeof ss;
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len);
    const auto port = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                               : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    return {std::move(fd), port};
  }

  /// A blocking connect; returns the socket and errno (0 on success).
  std::pair<UniqueFd, int> connect(std::uint16_t port) const {
    UniqueFd fd(::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    timeval limit{5, 0};  // a safety net: loopback answers at once
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    auto ss = address(port);
    const int rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), length());
    return {std::move(fd), rc == 0 ? 0 : errno};
  }
};

bool has_ipv6_loopback() {
  UniqueFd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_addr = in6addr_loopback;
  return fd && ::bind(fd.get(), reinterpret_cast<sockaddr*>(&in6), sizeof in6) == 0;
}

core::ProbeResult failed(const std::string& target) {
  core::ProbeResult r;
  r.kind = "tcp";
  r.target = target;
  r.status = core::Status::fail;
  r.diagnosis = core::Diagnosis::tcp_refused;
  r.message = "connection refused";
  return r;
}

std::string target(const Loopback& lo, std::uint16_t port) {
  return lo.v6 ? "[::1]:" + std::to_string(port) : "127.0.0.1:" + std::to_string(port);
}

/// tcpdump's one-line-per-packet reading of a file.
struct TcpdumpReading {
  int exit_code = -1;
  std::vector<std::string> lines;
  std::string err;
};
TcpdumpReading read_with_tcpdump(const std::filesystem::path& file) {
  auto run = gwprobe::testing::run_process({"/usr/bin/tcpdump", "-n", "-r", file.string()});
  TcpdumpReading out;
  out.exit_code = run.exit_code;
  out.err = run.err;
  std::istringstream lines(run.out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) out.lines.push_back(line);
  }
  return out;
}

std::size_t lines_with_port(const TcpdumpReading& r, std::uint16_t port) {
  const std::string a = "." + std::to_string(port) + ":", b = "." + std::to_string(port) + " >";
  return static_cast<std::size_t>(std::count_if(r.lines.begin(), r.lines.end(), [&](const auto& l) {
    return l.find(a) != std::string::npos || l.find(b) != std::string::npos;
  }));
}

CaptureRequest loopback_request(const Loopback& lo, std::initializer_list<std::uint16_t> ports,
                                const std::filesystem::path& file) {
  CaptureRequest request;
  for (auto port : ports) request.endpoints.push_back(CaptureEndpoint{lo.host(), port, {}});
  request.file = file;
  return request;
}

class LoopbackCapture : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam() && !has_ipv6_loopback()) GTEST_SKIP() << "no IPv6 loopback here";
  }
  Loopback lo{GetParam()};
};

INSTANTIATE_TEST_SUITE_P(Families, LoopbackCapture, ::testing::Values(false, true),
                         [](const auto& param_info) { return param_info.param ? "IPv6" : "IPv4"; });

TEST_P(LoopbackCapture, SeesTheServersOwnResetAndWritesAFileTcpdumpReads) {
  SKIP_UNLESS_ROOT();
  TempDir dir;
  auto [listener, open_port] = lo.bound(true);
  auto [closed, closed_port] = lo.bound(false);
  const auto file = dir.path / "run.pcap";
  auto session = start_capture(loopback_request(lo, {open_port, closed_port}, file));
  ASSERT_TRUE(session) << session.error().describe();
  EXPECT_EQ((*session)->interfaces(), std::vector<std::string>{"lo"});

  {
    auto [client, error] = lo.connect(open_port);
    ASSERT_EQ(error, 0) << std::strerror(error);
    UniqueFd accepted(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    ASSERT_TRUE(accepted);
    ASSERT_EQ(::send(client.get(), "hello", 5, MSG_NOSIGNAL), 5);
    char buf[8];
    ASSERT_EQ(::recv(accepted.get(), buf, sizeof buf, 0), 5);
  }
  auto [refused, error] = lo.connect(closed_port);
  EXPECT_EQ(error, ECONNREFUSED);
  ASSERT_TRUE((*session)->stop());

  const auto stats = (*session)->stats();
  EXPECT_GE(stats.packets_seen, 2u + 3u);
  EXPECT_EQ(stats.packets_written, stats.packets_seen);
  EXPECT_EQ(stats.packets_kept, stats.packets_seen);
  EXPECT_EQ(stats.kernel_drops, 0u);

  std::vector<core::ProbeResult> results = {failed(target(lo, closed_port))};
  EXPECT_EQ(attach_evidence(results, **session), 1u);
  EXPECT_EQ(results[0].fact_text(fact::rst_injected), "false");
  EXPECT_EQ(results[0].fact_text(fact::rst_ttl), "64");
  EXPECT_EQ(results[0].fact_text(fact::server_ttl), "64");
  EXPECT_EQ(results[0].fact_text(fact::syns_sent), "1");
  EXPECT_THAT(results[0].message, HasSubstr("most likely the server itself"));

  const auto reading = read_with_tcpdump(file);
  ASSERT_EQ(reading.exit_code, 0) << reading.err;
  EXPECT_EQ(reading.lines.size(), stats.packets_written);
  EXPECT_EQ(lines_with_port(reading, closed_port), 2u);     // SYN, RST
  EXPECT_GE(lines_with_port(reading, open_port), 3u + 1u);  // handshake and the data
  // The filter let through nothing but the two conversations, and ICMP errors (which other
  // programs on this host may cause on loopback at any time).
  const auto icmp_lines = std::count_if(reading.lines.begin(), reading.lines.end(),
                                        [](const auto& l) { return l.find("ICMP") != l.npos; });
  EXPECT_EQ(lines_with_port(reading, closed_port) + lines_with_port(reading, open_port) +
                static_cast<std::size_t>(icmp_lines),
            reading.lines.size());
  std::cerr << (*session)->summary() << "\n";
}

TEST_P(LoopbackCapture, ServerClosingAfterTheLastDataIsNamedAsTheCloser) {
  SKIP_UNLESS_ROOT();
  auto [listener, port] = lo.bound(true);
  CaptureRequest request = loopback_request(lo, {port}, {});
  auto session = start_capture(request);
  ASSERT_TRUE(session) << session.error().describe();
  auto [client, error] = lo.connect(port);
  ASSERT_EQ(error, 0);
  {
    UniqueFd accepted(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    ASSERT_EQ(::send(client.get(), "ping", 4, MSG_NOSIGNAL), 4);
    char buf[8];
    ASSERT_EQ(::recv(accepted.get(), buf, sizeof buf, 0), 4);
  }  // the server closes first
  char buf[8];
  EXPECT_EQ(::recv(client.get(), buf, sizeof buf, 0), 0);  // its FIN arrived
  ASSERT_TRUE((*session)->stop());
  std::vector<core::ProbeResult> results = {failed(target(lo, port))};
  ASSERT_EQ(attach_evidence(results, **session), 1u);
  EXPECT_EQ(results[0].fact_text(fact::close_by), "server");
  EXPECT_EQ(results[0].fact_text(fact::close_with), "fin");
  EXPECT_THAT(results[0].message, HasSubstr("the server side closed the connection (FIN)"));
  EXPECT_THAT(results[0].message, HasSubstr("after the last data"));
}

TEST_P(LoopbackCapture, TheFileStopsAtTheSizeCapAndStaysReadable) {
  SKIP_UNLESS_ROOT();
  TempDir dir;
  auto [closed, port] = lo.bound(false);
  auto request = loopback_request(lo, {port}, dir.path / "capped.pcap");
  constexpr std::uint64_t kCap = 24 + 3 * (16 + 94);  // file header + three SYN-sized records
  request.max_file_bytes = kCap;
  auto session = start_capture(request);
  ASSERT_TRUE(session) << session.error().describe();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(lo.connect(port).second, ECONNREFUSED);
  ASSERT_TRUE((*session)->stop());
  const auto stats = (*session)->stats();
  EXPECT_GE(stats.packets_seen, 10u);  // SYN + RST five times (and any stray ICMP error)
  EXPECT_GT(stats.packets_not_written, 0u);
  EXPECT_EQ(stats.packets_written + stats.packets_not_written, stats.packets_seen);
  EXPECT_LE(std::filesystem::file_size(request.file), kCap);
  EXPECT_EQ(static_cast<std::uint64_t>(stats.file_bytes), std::filesystem::file_size(request.file));
  const auto reading = read_with_tcpdump(request.file);
  EXPECT_EQ(reading.exit_code, 0) << reading.err;
  EXPECT_THAT(reading.err, ::testing::Not(HasSubstr("truncated")));
  EXPECT_EQ(reading.lines.size(), stats.packets_written);
  EXPECT_THAT((*session)->summary(), HasSubstr("file cap reached"));
  // The analysis still saw every attempt.
  const auto analysis = (*session)->analyse();
  const std::uint16_t closed_port = port;  // lambdas cannot capture structured bindings in clang 14
  const auto attempts = std::count_if(
      analysis.flows.begin(), analysis.flows.end(),
      [&](const auto& f) { return f.flow.server.port == closed_port && f.reset.has_value(); });
  EXPECT_EQ(attempts, 5);
}

TEST_P(LoopbackCapture, PastTheMemoryCapOnlyHeadersAreKeptAndResetsStillCount) {
  SKIP_UNLESS_ROOT();
  auto [listener, open_port] = lo.bound(true);
  auto [closed, closed_port] = lo.bound(false);
  auto request = loopback_request(lo, {open_port, closed_port}, {});
  request.max_kept_bytes = std::uint64_t{16} * 1024;
  auto session = start_capture(request);
  ASSERT_TRUE(session) << session.error().describe();
  {
    auto [client, error] = lo.connect(open_port);
    ASSERT_EQ(error, 0);
    UniqueFd accepted(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    const std::string block(std::size_t{32} * 1024, 'x');
    std::size_t received = 0;
    char buf[16384];
    for (int i = 0; i < 4; ++i) {
      ASSERT_EQ(::send(client.get(), block.data(), block.size(), MSG_NOSIGNAL),
                static_cast<ssize_t>(block.size()));
      while (received < (i + 1) * block.size()) {
        const auto n = ::recv(accepted.get(), buf, sizeof buf, 0);
        ASSERT_GT(n, 0);
        received += static_cast<std::size_t>(n);
      }
    }
  }
  EXPECT_EQ(lo.connect(closed_port).second, ECONNREFUSED);
  ASSERT_TRUE((*session)->stop());
  const auto stats = (*session)->stats();
  EXPECT_GT(stats.packets_kept_headers, 0u);
  std::vector<core::ProbeResult> results = {failed(target(lo, closed_port))};
  ASSERT_EQ(attach_evidence(results, **session), 1u);
  EXPECT_EQ(results[0].fact_text(fact::rst_ttl), "64");
  EXPECT_THAT((*session)->summary(), HasSubstr("analysis memory cap reached"));
}

TEST_P(LoopbackCapture, ATlsAlertFromTheServerIsReadFromTheWire) {
  SKIP_UNLESS_ROOT();
  auto [listener, port] = lo.bound(true);
  auto session = start_capture(loopback_request(lo, {port}, {}));
  ASSERT_TRUE(session) << session.error().describe();

  // The server insists on TLS 1.3, the client offers at most TLS 1.2: the server refuses the
  // ClientHello with a fatal protocol_version alert, in clear.
  std::thread server([fd = listener.get()] {
    UniqueFd accepted(::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC));
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, accepted.get());
    EXPECT_LE(SSL_accept(ssl), 0);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
  });
  {
    auto [client, error] = lo.connect(port);
    ASSERT_EQ(error, 0);
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, client.get());
    EXPECT_LE(SSL_connect(ssl), 0);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ERR_clear_error();
  }
  server.join();
  ASSERT_TRUE((*session)->stop());
  std::vector<core::ProbeResult> results = {failed(target(lo, port))};
  results[0].kind = "tls";
  ASSERT_EQ(attach_evidence(results, **session), 1u);
  EXPECT_EQ(results[0].fact_text(fact::tls_alert), "fatal protocol_version (70)");
  EXPECT_EQ(results[0].fact_text(fact::tls_alert_from), "server " + target(lo, port));
}

TEST_P(LoopbackCapture, TheTcpProbesOwnResultsGetEvidenceForTheirExactConnection) {
  SKIP_UNLESS_ROOT();
  auto [listener, open_port] = lo.bound(true);
  auto [closed, closed_port] = lo.bound(false);
  auto session = start_capture(loopback_request(lo, {open_port, closed_port}, {}));
  ASSERT_TRUE(session) << session.error().describe();
  ProbeContext context;
  context.deadline = core::Deadline::after(std::chrono::seconds(5));
  const core::Target open_target{lo.host(), open_port}, closed_target{lo.host(), closed_port};
  std::vector<core::ProbeResult> results;
  results.push_back(tcp::run_tcp_probe(open_target, {}, context));
  // Two probes of one closed port: only the local endpoint tells their connections apart.
  results.push_back(tcp::run_tcp_probe(closed_target, {}, context));
  results.push_back(tcp::run_tcp_probe(closed_target, {}, context));
  ASSERT_TRUE((*session)->stop());
  ASSERT_EQ(results[0].status, core::Status::pass) << results[0].message;
  ASSERT_EQ(results[1].diagnosis, core::Diagnosis::tcp_refused) << results[1].message;
  EXPECT_EQ(attach_evidence(results, **session), 2u);
  EXPECT_EQ(results[0].fact(fact::evidence), nullptr);  // passed: left alone
  for (int i : {1, 2}) {
    const auto& r = results[static_cast<std::size_t>(i)];
    EXPECT_EQ(r.fact_text(fact::flow),
              "tcp " + r.fact_text("local_endpoint") + " -> " + target(lo, closed_port));
    EXPECT_EQ(r.fact_text(fact::rst_injected), "false");
    EXPECT_THAT(r.message, ::testing::Not(HasSubstr("connections to this address")));
    EXPECT_THAT(r.message, HasSubstr("refused (ECONNREFUSED"));
    EXPECT_THAT(r.message, HasSubstr(". Capture: a reset with TTL 64"));
  }
  EXPECT_NE(results[1].fact_text(fact::flow), results[2].fact_text(fact::flow));
}

TEST_P(LoopbackCapture, QueriesToResolversAreCapturedWithThePortUnreachableOfAClosedOne) {
  SKIP_UNLESS_ROOT();
  // A "resolver" that reads but never answers, and one whose port is closed (the kernel answers
  // with ICMP port unreachable).
  const int family = lo.v6 ? AF_INET6 : AF_INET;
  UniqueFd silent(::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  auto ss = lo.address(0);
  ASSERT_EQ(::bind(silent.get(), reinterpret_cast<sockaddr*>(&ss), lo.length()), 0);
  socklen_t len = sizeof ss;
  ::getsockname(silent.get(), reinterpret_cast<sockaddr*>(&ss), &len);
  const std::uint16_t silent_port = ntohs(lo.v6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                                : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  std::uint16_t closed_port = 0;
  {
    UniqueFd probe(::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    auto any = lo.address(0);
    ASSERT_EQ(::bind(probe.get(), reinterpret_cast<sockaddr*>(&any), lo.length()), 0);
    ::getsockname(probe.get(), reinterpret_cast<sockaddr*>(&any), &len);
    closed_port = ntohs(lo.v6 ? reinterpret_cast<sockaddr_in6*>(&any)->sin6_port
                              : reinterpret_cast<sockaddr_in*>(&any)->sin_port);
  }  // closed again: nothing listens there now
  CaptureRequest request;
  request.resolvers = {target(lo, silent_port), target(lo, closed_port)};
  auto session = start_capture(request);
  ASSERT_TRUE(session) << session.error().describe();
  EXPECT_THAT((*session)->filter(), HasSubstr("(udp or tcp)"));
  UniqueFd client(::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  for (int i = 0; i < 2; ++i) {
    auto to = lo.address(silent_port);
    ASSERT_EQ(::sendto(client.get(), "query", 5, 0, reinterpret_cast<sockaddr*>(&to), lo.length()),
              5);
  }
  auto to_closed = lo.address(closed_port);
  ASSERT_EQ(
      ::sendto(client.get(), "query", 5, 0, reinterpret_cast<sockaddr*>(&to_closed), lo.length()),
      5);
  ASSERT_TRUE((*session)->stop());

  auto timeout = failed("relay.example");
  timeout.kind = "dns";
  timeout.set_fact("server", target(lo, silent_port));
  auto refused = timeout;
  refused.set_fact("server", target(lo, closed_port));
  std::vector<core::ProbeResult> results = {timeout, refused};
  ASSERT_EQ(attach_evidence(results, **session), 2u);
  EXPECT_EQ(results[0].fact_text(fact::datagrams_sent), "2");
  EXPECT_THAT(results[0].message, HasSubstr("2 datagrams to " + target(lo, silent_port)));
  EXPECT_EQ(results[1].fact_text(fact::icmp_type), lo.v6 ? "1" : "3");
  EXPECT_EQ(results[1].fact_text(fact::icmp_code), lo.v6 ? "4" : "3");
  EXPECT_THAT(results[1].message, HasSubstr("port unreachable"));
  EXPECT_THAT(results[1].message, HasSubstr("from the target itself"));
}

TEST(CaptureSession, ATargetNamedButNotResolvedIsCapturedOnAnyByPort) {
  SKIP_UNLESS_ROOT();
  TempDir dir;
  Loopback lo;
  auto [closed, port] = lo.bound(false);
  CaptureRequest request;
  request.endpoints.push_back(CaptureEndpoint{"relay.invalid", port, {}});
  request.file = dir.path / "any.pcap";
  auto session = start_capture(request);
  ASSERT_TRUE(session) << session.error().describe();
  EXPECT_EQ((*session)->interfaces(), std::vector<std::string>{"any"});
  EXPECT_THAT((*session)->filter(), HasSubstr("port " + std::to_string(port)));
  EXPECT_EQ(lo.connect(port).second, ECONNREFUSED);
  ASSERT_TRUE((*session)->stop());
  const auto analysis = (*session)->analyse();
  ASSERT_EQ(analysis.undecoded, 0u);
  const FlowEvidence* flow = nullptr;
  for (const auto& f : analysis.flows) {
    if (f.flow.server.port == port) {
      EXPECT_EQ(flow, nullptr);
      flow = &f;
    }
  }
  ASSERT_NE(flow, nullptr);
  EXPECT_TRUE(flow->reset);
  ASSERT_FALSE((*session)->packets().empty());
  EXPECT_EQ((*session)->packets()[0].link, LinkType::linux_sll2);
  const auto reading = read_with_tcpdump(request.file);
  EXPECT_EQ(reading.exit_code, 0) << reading.err;
  EXPECT_EQ(lines_with_port(reading, port), 2u);
}

TEST(CaptureSession, OnFailureTheFileIsKeptOnlyWhenACheckDidNotPass) {
  SKIP_UNLESS_ROOT();
  TempDir dir;
  Loopback lo;
  auto [closed, port] = lo.bound(false);
  for (auto status : {core::Status::pass, core::Status::fail, core::Status::warn}) {
    auto request = loopback_request(lo, {port}, dir.path / "maybe.pcap");
    request.keep_only_on_failure = true;
    auto session = start_capture(request);
    ASSERT_TRUE(session) << session.error().describe();
    EXPECT_EQ(lo.connect(port).second, ECONNREFUSED);
    ASSERT_TRUE((*session)->stop());
    core::ProbeResult r;
    r.status = status;
    auto kept = (*session)->finish({r});
    ASSERT_TRUE(kept);
    const bool expect_kept = status != core::Status::pass;
    EXPECT_EQ(*kept, expect_kept) << core::to_string(status);
    EXPECT_EQ(std::filesystem::exists(request.file), expect_kept) << core::to_string(status);
  }
  // Without --capture-on-failure the file always stays.
  auto request = loopback_request(lo, {port}, dir.path / "always.pcap");
  auto session = start_capture(request);
  ASSERT_TRUE(session);
  core::ProbeResult passed;
  passed.status = core::Status::pass;
  EXPECT_TRUE(*(*session)->finish({passed}));
  EXPECT_TRUE(std::filesystem::exists(request.file));
}

/// Clears CAP_NET_RAW and CAP_NET_ADMIN from the calling thread's effective set (capabilities
/// are per thread on Linux, so the rest of the test process keeps them).
bool drop_capture_privilege_in_this_thread() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  for (int cap : {CAP_NET_RAW, CAP_NET_ADMIN}) data[cap / 32].effective &= ~(1u << (cap % 32));
  return ::syscall(SYS_capset, &header, data) == 0;
}

TEST(CaptureSession, WithoutCaptureTheRunGetsOneClearWarning) {
  Loopback lo;
  auto [closed, closed_port] = lo.bound(false);
  const std::uint16_t port = closed_port;  // lambdas cannot capture structured bindings in clang 14
  std::optional<core::Result<std::unique_ptr<CaptureSession>>> outcome;
  std::thread unprivileged([&] {
    ASSERT_TRUE(drop_capture_privilege_in_this_thread());
    outcome.emplace(start_capture(loopback_request(lo, {port}, {})));
  });
  unprivileged.join();
  ASSERT_TRUE(outcome);
  ASSERT_FALSE(*outcome);
  const auto& error = outcome->error();
  EXPECT_EQ(error.kind, core::FailureKind::auth);
  EXPECT_THAT(error.message, HasSubstr("CAP_NET_RAW"));
  EXPECT_THAT(error.message, HasSubstr("continuing without capture"));
  EXPECT_EQ(error.describe().find('\n'), std::string::npos);
}

TEST(CaptureSession, ARequestWithNothingToCaptureOrABadResolverIsInvalidInput) {
  auto empty = start_capture(CaptureRequest{});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().kind, core::FailureKind::invalid_input);
  CaptureRequest bad;
  bad.resolvers = {"dns.example"};
  auto r = start_capture(bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, core::FailureKind::invalid_input);
  EXPECT_THAT(r.error().message, HasSubstr("dns.example"));
}

TEST(InterfaceToward, LoopbackAddressesRouteThroughTheLoopbackInterface) {
  for (const char* address : {"127.0.0.1", "127.0.0.53"}) {
    auto iface = interface_toward(*IpAddress::parse(address), 443);
    ASSERT_TRUE(iface) << iface.error().describe();
    EXPECT_EQ(*iface, "lo") << address;
  }
  if (has_ipv6_loopback()) {
    auto iface = interface_toward(*IpAddress::parse("::1"), 443);
    ASSERT_TRUE(iface) << iface.error().describe();
    EXPECT_EQ(*iface, "lo");
  }
}

TEST(NameserversIn, ReadsNameserverLinesAndDropsScopes) {
  const auto found = nameservers_in(
      "# comment\nsearch corp.example\nnameserver 10.0.0.53\nnameserver  fe80::1%eth0\n"
      "nameserver not-an-ip\noptions ndots:2\nnameserver ::1\n");
  EXPECT_EQ(found, (std::vector<std::string>{"10.0.0.53", "fe80::1", "::1"}));
}

TEST(CaptureRequestFor, TakesTargetsAndTheResolversDnsProbesAsk) {
  TempDir dir;
  const auto conf = dir.path / "resolv.conf";
  std::ofstream(conf) << "nameserver 127.0.0.53\n";
  std::vector<ProbeSpec> plan(4);
  plan[0].target = core::Target{"relay.example", 443};
  plan[0].options = tcp::TcpOptions{};
  plan[1].target = core::Target{"10.1.2.3", 5671};
  plan[1].options = tcp::TcpOptions{};
  plan[2].target = core::Target{"relay.example", 443};  // a second probe of the same endpoint
  plan[2].options = tcp::TcpOptions{};
  dns::DnsOptions dns;
  dns.reference_resolvers = {"[::1]:5353"};
  dns.resolv_conf = conf.string();
  plan[3].target = core::Target{"relay.example", 0};
  plan[3].options = dns;
  const auto request = capture_request_for(plan);
  ASSERT_EQ(request.endpoints.size(), 2u);
  EXPECT_EQ(request.endpoints[0].host, "relay.example");
  EXPECT_EQ(request.endpoints[0].port, 443);
  EXPECT_EQ(request.endpoints[1].host, "10.1.2.3");
  EXPECT_EQ(request.resolvers, (std::vector<std::string>{"[::1]:5353", "127.0.0.53"}));
}

}  // namespace
}  // namespace gwprobe::probes::capture

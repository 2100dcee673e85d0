#include "probes/probe.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "core/unique_fd.hpp"
#include "tests/fixtures/cert_factory.hpp"
#include "tests/fixtures/mock_dns_server.hpp"
#include "tests/fixtures/scratch_dir.hpp"
#include "tests/fixtures/tls_server.hpp"

namespace gwprobe::probes {
namespace {
using namespace std::chrono_literals;
using core::Diagnosis;

TEST(KindOf, NamesEveryOptionsType) {
  EXPECT_EQ(kind_of(ProbeOptions{dns::DnsOptions{}}), "dns");
  EXPECT_EQ(kind_of(ProbeOptions{tcp::TcpOptions{}}), "tcp");
  EXPECT_EQ(kind_of(ProbeOptions{tls::TlsOptions{}}), "tls");
}

TEST(RunProbe, DispatchesTcpSpecsToTheTcpProbeAndFillsKindAndTarget) {
  core::UniqueFd closed(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in where{};
  where.sin_family = AF_INET;
  where.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof where;
  ASSERT_EQ(::bind(closed.get(), reinterpret_cast<sockaddr*>(&where), length), 0);
  ::getsockname(closed.get(), reinterpret_cast<sockaddr*>(&where), &length);

  ProbeSpec spec;
  spec.id = "tcp:closed";
  spec.target = core::Target{"127.0.0.1", ntohs(where.sin_port)};
  spec.options = tcp::TcpOptions{};
  ProbeContext context;
  context.deadline = core::Deadline::after(5s);
  const auto r = run_probe(spec, context);
  EXPECT_EQ(r.kind, "tcp");
  EXPECT_EQ(r.target, spec.target.to_string());
  EXPECT_EQ(r.diagnosis, Diagnosis::tcp_refused);
}

TEST(RunProbe, DispatchesDnsSpecsToTheDnsProbe) {
  testing::MockDnsServer dns;
  dns.a("gw.test", "40.1.2.3");
  testing::ScratchDir dir;
  dns::DnsOptions options;
  options.resolv_conf = dir.write("resolv.conf", "nameserver 127.0.0.1\n");
  options.system_resolver_port = dns.port();
  options.hosts_file = "";
  ProbeSpec spec;
  spec.target = core::Target{"gw.test", 0};
  spec.options = options;
  ProbeContext context;
  context.deadline = core::Deadline::after(5s);
  const auto r = run_probe(spec, context);
  EXPECT_EQ(r.kind, "dns");
  EXPECT_EQ(r.target, "gw.test");
  EXPECT_EQ(r.diagnosis, Diagnosis::ok) << r.message;
  EXPECT_EQ(r.fact_text("addresses"), "40.1.2.3");
}

TEST(RunProbe, DispatchesTlsSpecsToTheTlsProbe) {
  const auto& pki = testing::TestPki::get();
  testing::TlsServerConfig config;
  config.chain = {pki.leaf, pki.public_intermediate};
  testing::TlsServer server(config);
  tls::TlsOptions options;
  options.use_system_store = false;
  options.ca_file = pki.public_root_file;
  ProbeSpec spec;
  spec.target = core::Target{"127.0.0.1", server.port()};
  spec.options = options;
  ProbeContext context;
  context.deadline = core::Deadline::after(5s);
  const auto r = run_probe(spec, context);
  EXPECT_EQ(r.kind, "tls");
  EXPECT_EQ(r.target, spec.target.to_string());
  EXPECT_EQ(r.diagnosis, Diagnosis::ok) << r.message;
}

}  // namespace
}  // namespace gwprobe::probes

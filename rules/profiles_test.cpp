// The shipped profiles: embedded byte for byte, all parse, and they say what the reference says.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>

#include "rules/profile.hpp"

namespace gwprobe::rules {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string profile_path(std::string_view name) {
  return std::string(GWPROBE_SOURCE_DIR) + "/rules/profiles/" + std::string(name) + ".toml";
}

const Endpoint* find_endpoint(const Profile& profile, std::string_view name) {
  for (const auto& e : profile.endpoints) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

std::set<std::uint16_t> all_ports(const Profile& profile) {
  std::set<std::uint16_t> ports;
  for (const auto& e : profile.endpoints) ports.insert(e.ports.begin(), e.ports.end());
  return ports;
}

TEST(EmbeddedProfiles, AreTheFourShippedProfilesSortedByName) {
  EXPECT_EQ(embedded_profile_names(),
            (std::vector<std::string>{"china", "local", "public", "usgov"}));
}

TEST(EmbeddedProfiles, AreByteIdenticalToTheFilesInTheTree) {
  for (const auto& name : embedded_profile_names()) {
    const auto embedded = embedded_profile_text(name);
    ASSERT_TRUE(embedded) << name;
    const auto on_disk = read_file(profile_path(name));
    ASSERT_FALSE(on_disk.empty()) << name;
    EXPECT_TRUE(*embedded == on_disk) << name << " differs from " << profile_path(name);
  }
}

TEST(EmbeddedProfiles, EachParsesAndLoadsByName) {
  for (const auto& name : embedded_profile_names()) {
    auto profile = load_profile(name);
    ASSERT_TRUE(profile) << profile.error().message;
    EXPECT_EQ(profile->name, name);
    EXPECT_EQ(profile->cloud, name);
    EXPECT_EQ(profile->source, "embedded");
    EXPECT_FALSE(profile->endpoints.empty());
    for (const auto& e : profile->endpoints) {
      EXPECT_FALSE(e.probe_host.empty()) << name << ": " << e.name;
      EXPECT_FALSE(e.purpose.empty()) << name << ": " << e.name;
      EXPECT_FALSE(e.source.empty()) << name << ": " << e.name;
      EXPECT_EQ(e.probe_host.find('*'), std::string::npos) << name << ": " << e.name;
    }
  }
}

TEST(EmbeddedProfiles, AFileOfTheSameProfileLoadsTheSameEndpoints) {
  auto embedded = load_profile("public");
  auto file = load_profile(profile_path("public"));
  ASSERT_TRUE(embedded);
  ASSERT_TRUE(file) << file.error().message;
  EXPECT_EQ(file->source, profile_path("public"));
  ASSERT_EQ(file->endpoints.size(), embedded->endpoints.size());
  for (std::size_t i = 0; i < file->endpoints.size(); ++i) {
    EXPECT_EQ(file->endpoints[i].name, embedded->endpoints[i].name);
    EXPECT_EQ(file->endpoints[i].ports, embedded->endpoints[i].ports);
  }
}

class CloudProfile : public ::testing::TestWithParam<const char*> {};

TEST_P(CloudProfile, ExpectsTheSevenMicrosoftAndDigiCertRootsBySha1) {
  auto profile = load_profile(GetParam());
  ASSERT_TRUE(profile) << profile.error().message;
  const std::vector<std::string> sha1 = {
      "A8985D3A65E5E5C4B2D7D66D40C6DD2FB19C5436", "DF3C24F9BFD666761B268073FE06D1CC8D4F82A4",
      "7E04DE896A3E666D00E687D33FFAD93BE83D349E", "17F3DE5E9F0F19E98EF61F32266E20C407AE30EE",
      "A78849DC5D7C758C8CDE399856B3AAD0B2A57135", "999A64C37FF47D9FAB95F14769891460EEC4C3C5",
      "73A5E64A3BFF8316FF0EDCCC618A906E4EAE4D74"};
  EXPECT_EQ(profile->tls.expected_root_sha1, sha1);
  ASSERT_EQ(profile->tls.expected_roots.size(), 7u);
  EXPECT_EQ(profile->tls.expected_roots[1].name, "DigiCert Global Root G2");
  EXPECT_EQ(profile->tls.expected_roots[6].name, "Microsoft RSA Root Certificate Authority 2017");
  EXPECT_EQ(profile->tls.expected_root_names.size(), 7u);
  // The reference publishes no SHA-256 values; none may be invented.
  EXPECT_TRUE(profile->tls.expected_root_sha256.empty());
  EXPECT_EQ(profile->tls.min_version, "1.2");
}

TEST_P(CloudProfile, LeavesOutTheUnverifiedPort433) {
  auto profile = load_profile(GetParam());
  ASSERT_TRUE(profile);
  EXPECT_EQ(all_ports(*profile).count(433), 0u);
}

TEST_P(CloudProfile, RunsInHttpsModeWithLegacyRelayPortsAsTcpMode) {
  auto profile = load_profile(GetParam());
  ASSERT_TRUE(profile);
  EXPECT_TRUE(profile->https_mode);
  const auto* relay = find_endpoint(*profile, "Azure Relay");
  const auto* tcp = find_endpoint(*profile, "Azure Relay (TCP mode)");
  const auto* amqp = find_endpoint(*profile, "Service Bus AMQP");
  ASSERT_TRUE(relay && tcp && amqp);
  EXPECT_EQ(relay->ports, (std::vector<std::uint16_t>{443}));
  EXPECT_TRUE(relay->tls);
  EXPECT_TRUE(relay->websocket);
  EXPECT_EQ(relay->requirement, Requirement::required);
  EXPECT_TRUE(relay->is_required(true));
  EXPECT_EQ(tcp->ports, (std::vector<std::uint16_t>{9350, 9351, 9352, 9353, 9354}));
  EXPECT_EQ(amqp->ports, (std::vector<std::uint16_t>{5671, 5672}));
  for (const auto* e : {tcp, amqp}) {
    EXPECT_EQ(e->requirement, Requirement::tcp_mode);
    EXPECT_FALSE(e->is_required(true));
    EXPECT_TRUE(e->is_required(false));
  }
  // The relay namespace is per gateway: a placeholder the user must override.
  EXPECT_TRUE(relay->probe_host_is_example);
  EXPECT_EQ(relay->probe_host.rfind("replace-with-your-relay.", 0), 0u);
}

INSTANTIATE_TEST_SUITE_P(Shipped, CloudProfile, ::testing::Values("public", "usgov", "china"));

TEST(PublicProfile, ProbesWellKnownHostsForDocumentedWildcards) {
  auto profile = load_profile("public");
  ASSERT_TRUE(profile);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"*.servicebus.windows.net", "replace-with-your-relay.servicebus.windows.net"},
      {"*.powerbi.com", "app.powerbi.com"},
      {"*.msftncsi.com", "www.msftncsi.com"},
      {"*.download.microsoft.com", "download.microsoft.com"},
      {"login.microsoftonline.com", "login.microsoftonline.com"},
  };
  for (const auto& [host, probe] : expected) {
    const auto it = std::find_if(profile->endpoints.begin(), profile->endpoints.end(),
                                 [&](const Endpoint& e) { return e.host == host; });
    ASSERT_NE(it, profile->endpoints.end()) << host;
    EXPECT_EQ(it->probe_host, probe) << host;
  }
  const auto* ncsi = find_endpoint(*profile, "Connectivity test");
  ASSERT_TRUE(ncsi);
  EXPECT_EQ(ncsi->ports, (std::vector<std::uint16_t>{80}));
  EXPECT_FALSE(ncsi->tls);
  EXPECT_EQ(all_ports(*profile), (std::set<std::uint16_t>{80, 443, 1433, 1443, 5671, 5672, 9350,
                                                          9351, 9352, 9353, 9354}));
}

TEST(UsgovProfile, IsTheGccColumnWithItsOwnRelayAndSignInHosts) {
  auto profile = load_profile("usgov");
  ASSERT_TRUE(profile);
  EXPECT_EQ(find_endpoint(*profile, "Azure Relay")->host, "*.servicebus.usgovcloudapi.net");
  EXPECT_EQ(find_endpoint(*profile, "Power BI service (powerbigov.us)")->probe_host,
            "app.powerbigov.us");
  EXPECT_EQ(find_endpoint(*profile, "ECS configuration")->host, "gccmod.ecs.office.com");
  // The US Government table documents the connectivity test on 443 (the public one says 80).
  EXPECT_EQ(find_endpoint(*profile, "Connectivity test")->ports, (std::vector<std::uint16_t>{443}));
}

TEST(ChinaProfile, UsesTheTwentyFirstVianetHostsAndNoConnectivityTest) {
  auto profile = load_profile("china");
  ASSERT_TRUE(profile);
  EXPECT_EQ(find_endpoint(*profile, "Azure Relay")->host, "*.servicebus.chinacloudapi.cn");
  EXPECT_EQ(find_endpoint(*profile, "Power BI service")->probe_host, "app.powerbi.cn");
  EXPECT_EQ(find_endpoint(*profile, "Connectivity test"), nullptr);
}

TEST(LocalProfile, PointsAtTheBundledRelayOnLoopback) {
  ::unsetenv("GWPROBE_LOCAL_DIR");
  auto profile = load_profile("local");
  ASSERT_TRUE(profile) << profile.error().message;
  ASSERT_EQ(profile->endpoints.size(), 1u);
  const auto& relay = profile->endpoints[0];
  EXPECT_EQ(relay.name, "Bundled relay");
  EXPECT_EQ(relay.host, "localhost");
  EXPECT_EQ(relay.probe_host, "localhost");
  EXPECT_EQ(relay.ports, (std::vector<std::uint16_t>{9443}));
  EXPECT_EQ(relay.requirement, Requirement::required);
  EXPECT_TRUE(relay.tls);
  EXPECT_TRUE(relay.websocket);
  EXPECT_EQ(relay.websocket_path, "/$hc/gwprobe-demo?sb-hc-action=listen");
  EXPECT_TRUE(profile->dns.private_answers_expected);
  EXPECT_TRUE(profile->https_mode);
  EXPECT_EQ(profile->timeout, std::chrono::seconds(5));
  EXPECT_EQ(profile->tls.ca_file, "/tmp/gwprobe-local/ca.pem");
  EXPECT_EQ(profile->relay.url, "wss://localhost:9443/$hc/gwprobe-demo");
  EXPECT_EQ(profile->relay.sas_key_name, "gateway");
  EXPECT_EQ(profile->relay.sas_key_file, "/tmp/gwprobe-local/gateway.key");
  EXPECT_EQ(profile->relay.query, "SELECT * FROM sample");
  EXPECT_EQ(profile->relay.send_rule(), "client");
  EXPECT_EQ(profile->relay.send_rule_key_file(), "/tmp/gwprobe-local/client.key");
  EXPECT_EQ(profile->idle.required, std::chrono::seconds(300));
  EXPECT_FALSE(profile->idle.run);
}

TEST(LocalProfile, FollowsGwprobeLocalDirForItsFiles) {
  ::setenv("GWPROBE_LOCAL_DIR", "/srv/demo", 1);
  auto profile = load_profile("local");
  ::unsetenv("GWPROBE_LOCAL_DIR");
  ASSERT_TRUE(profile);
  EXPECT_EQ(profile->tls.ca_file, "/srv/demo/ca.pem");
  EXPECT_EQ(profile->relay.sas_key_file, "/srv/demo/gateway.key");
  EXPECT_EQ(profile->relay.send_key_file, "/srv/demo/client.key");
}

}  // namespace
}  // namespace gwprobe::rules

// The lab's profiles load with the real profile loader and name only lab hosts, so a lab scenario
// can never probe anything outside the lab's namespaces.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "rules/profile.hpp"

namespace gwprobe::rules {
namespace {

namespace fs = std::filesystem;

const fs::path kProfileDir = fs::path(GWPROBE_SOURCE_DIR) / "tests" / "lab" / "profiles";
// The scenario runner puts each run's CA and files there; the loader only expands the variables.
constexpr const char* kSampleLabDir = "/tmp/gwlab/gwl0000";
constexpr const char* kSampleCa = "/tmp/gwlab/gwl0000/ca/root.pem";

std::vector<fs::path> lab_profiles() {
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(kProfileDir)) {
    if (entry.path().extension() == ".toml") paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

bool is_lab_host(const std::string& host) {
  const std::string zone = ".lab.test";
  return host.size() > zone.size() &&
         host.compare(host.size() - zone.size(), zone.size(), zone) == 0;
}

Profile load(const std::string& file) {
  ::setenv("LAB_CA", kSampleCa, 1);
  ::setenv("LAB_DIR", kSampleLabDir, 1);
  auto profile = load_profile((kProfileDir / file).string());
  EXPECT_TRUE(profile) << file << ": " << (profile ? "" : profile.error().message);
  return profile ? *profile : Profile{};
}

TEST(LabProfiles, EveryProfileLoadsAndIsNamedAfterItsFile) {
  const auto paths = lab_profiles();
  ASSERT_GE(paths.size(), 4u);
  for (const auto& path : paths) {
    const auto profile = load(path.filename().string());
    EXPECT_EQ(profile.name, path.stem().string());
    EXPECT_FALSE(profile.endpoints.empty()) << path;
  }
}

TEST(LabProfiles, NameOnlyLabHostsAndLabResolvers) {
  for (const auto& path : lab_profiles()) {
    const auto profile = load(path.filename().string());
    for (const auto& endpoint : profile.endpoints) {
      EXPECT_TRUE(is_lab_host(endpoint.probe_host)) << path << ": " << endpoint.probe_host;
    }
    for (const auto& resolver : profile.dns.reference_resolvers) {
      EXPECT_EQ(resolver.rfind("10.77.2.", 0), 0u) << path << ": " << resolver;
    }
    if (!profile.relay.url.empty()) {
      EXPECT_NE(profile.relay.url.find(".lab.test:"), std::string::npos) << path;
    }
  }
}

TEST(LabProfiles, ExpandTheRunsCaFile) {
  EXPECT_EQ(load("lab-tls.toml").tls.ca_file, kSampleCa);
}

TEST(LabProfiles, HealthyMakesTheLegacyRelayPortsOptionalInHttpsMode) {
  const auto profile = load("lab-healthy.toml");
  ASSERT_TRUE(profile.https_mode);
  bool saw_legacy = false;
  for (const auto& endpoint : profile.endpoints) {
    const bool legacy =
        std::find(endpoint.ports.begin(), endpoint.ports.end(), 9350) != endpoint.ports.end();
    saw_legacy = saw_legacy || legacy;
    EXPECT_EQ(endpoint.is_required(profile.https_mode), !legacy) << endpoint.name;
  }
  EXPECT_TRUE(saw_legacy);
}

TEST(LabProfiles, PrivateAnswersAreExpectedExceptWhereTheyAreTheFinding) {
  EXPECT_TRUE(load("lab-healthy.toml").dns.private_answers_expected);
  EXPECT_FALSE(load("lab-public-names.toml").dns.private_answers_expected);
  EXPECT_FALSE(load("lab-split-dns.toml").dns.private_answers_expected);
  EXPECT_EQ(load("lab-split-dns.toml").dns.reference_resolvers,
            std::vector<std::string>{"10.77.2.3"});
}

}  // namespace
}  // namespace gwprobe::rules
